// Before each file of the shared project (vitest.config.ts): tfjs on cpu, the backend a fresh
// process starts on here (wasm is only loaded by name), whatever backend the last file left.
import * as tf from '@tensorflow/tfjs';
import { beforeAll } from 'vitest';

beforeAll(async () => {
  if (tf.engine().backendName !== null && tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
});
