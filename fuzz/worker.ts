// The worker thread of `npm run fuzz`: runs cases in order (fuzz/seeds.ts) and reports each to the
// main thread, which kills and restarts it when one case runs past the time limit (a hang).

import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { runSeeds, type WorkerJob, type WorkerMessage } from './seeds.js';

export type { WorkerJob, WorkerMessage } from './seeds.js';

async function work(job: WorkerJob): Promise<void> {
  const silence = console.warn;
  console.warn = () => {};
  await tf.setBackend('cpu');
  console.warn = silence;
  tf.env().set('PROD', true);
  await runSeeds(job, (m: WorkerMessage) => parentPort!.postMessage(m));
}

void work(workerData as WorkerJob);
