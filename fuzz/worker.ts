// The worker thread of `npm run fuzz`: runs cases in order and reports each to the main thread,
// which kills and restarts it when one case runs past the time limit (a hang).

import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { cleanupGarbled } from './garbled.js';
import { minimize, runOne, signature, type Kind } from './one.js';

export interface WorkerJob {
  kind: Kind;
  /** Seeds from..to (exclusive). */
  from: number;
  to: number;
  minimize: boolean;
  /** Minimize only the first failure of each signature (the rest are reported as they are). */
  seen: string[];
}

export type WorkerMessage =
  | { type: 'start'; seed: number }
  | { type: 'minimizing'; seed: number }
  | {
      type: 'result';
      seed: number;
      ms: number;
      verdict: { kind: string; check?: string; detail?: string; reason?: string; fused?: boolean; skippedChecks?: number };
      signature: string;
      text?: string;
      minimized?: string;
    }
  | { type: 'end' };

const post = (m: WorkerMessage) => parentPort!.postMessage(m);

async function work(job: WorkerJob): Promise<void> {
  const silence = console.warn;
  console.warn = () => {};
  await tf.setBackend('cpu');
  console.warn = silence;
  tf.env().set('PROD', true);
  const seen = new Set(job.seen);
  for (let seed = job.from; seed < job.to; seed++) {
    post({ type: 'start', seed });
    const t0 = performance.now();
    let c: Awaited<ReturnType<typeof runOne>>;
    try {
      c = await runOne(job.kind, seed);
    } catch (e) {
      // The generator or checker itself failed: reported as a crash of the fuzzer, not of lossc.
      const detail = `fuzzer error: ${(e as Error)?.stack ?? String(e)}`;
      post({ type: 'result', seed, ms: performance.now() - t0, verdict: { kind: 'fail', check: 'crash', detail }, signature: `crash: ${detail.split('\n')[0]!.slice(0, 80)}` });
      continue;
    }
    const ms = performance.now() - t0;
    const sig = signature(c.verdict);
    let minimized: string | undefined;
    if (c.verdict.kind === 'fail' && job.minimize && !seen.has(sig)) {
      seen.add(sig);
      post({ type: 'minimizing', seed });
      minimized = await minimize(c, { checks: 1500, deadline: Date.now() + 90_000 });
    }
    post({ type: 'result', seed, ms, verdict: c.verdict, signature: sig, text: c.verdict.kind === 'fail' ? c.text : undefined, minimized });
  }
  cleanupGarbled();
  post({ type: 'end' });
}

void work(workerData as WorkerJob);
