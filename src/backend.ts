// Choosing a tfjs backend by name. `cpu` ships with @tensorflow/tfjs; `wasm` is loaded on demand.
// A library user brings their own backend (node, webgl, ...): lossc's code runs on any of them.

import * as tf from '@tensorflow/tfjs';
import { LosscError } from './errors.js';

export const BACKENDS = ['cpu', 'wasm'] as const;

export async function useBackend(name: string): Promise<void> {
  if (!(BACKENDS as readonly string[]).includes(name)) {
    throw new LosscError('usage', `unknown backend \`${name}\` (lossc's command line knows ${BACKENDS.join(', ')})`);
  }
  if (name === 'wasm') {
    // An optional peer dependency of lossc: only the command line and benchmarks load it.
    try {
      await import('@tensorflow/tfjs-backend-wasm');
    } catch {
      throw new LosscError('usage', 'the wasm backend needs @tensorflow/tfjs-backend-wasm (npm install @tensorflow/tfjs-backend-wasm)');
    }
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new LosscError('usage', `the ${name} backend could not be started`);
  await tf.ready();
  // The cpu backend greets Node users on first use with advice to install tfjs-node, which
  // cannot be installed here; keep the command line's output to what was asked for.
  const backend = tf.backend() as unknown as { firstUse?: boolean };
  if (name === 'cpu' && backend.firstUse === true) backend.firstUse = false;
}
