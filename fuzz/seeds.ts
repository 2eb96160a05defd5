// The loop of `npm run fuzz`'s worker thread (fuzz/worker.ts): runs seeds in order and reports
// each case through `post`, apart from the thread so that a test can run it (test/heap-bounded.test.ts).

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

/** Run the job's seeds, reporting through `post`. The backend is set up by the caller. */
export async function runSeeds(job: WorkerJob, post: (m: WorkerMessage) => void): Promise<void> {
  const seen = new Set(job.seen);
  for (let seed = job.from; seed < job.to; seed++) {
    // Back to the event loop before each program: every WeakRef made or dereferenced (the IR's
    // intern table, the source registry) keeps its target alive until the current job ends, and a
    // loop of awaits that settle as microtasks is one job. Without this, 100 000 programs kept
    // every AST and Library (about 20 MB per 1000 programs) until the worker ran out of memory.
    await new Promise((r) => setImmediate(r));
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

