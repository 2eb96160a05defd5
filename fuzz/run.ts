// `npm run fuzz`: lossc's own fuzzer. Well-formed programs (value, gradient, fused vs op-by-op,
// leaks) and garbled ones (located errors only, within a time limit). Program i of a run with
// `--seed S` has seed S + i, so `--seed <printed seed> --count 1` replays any failure.
//
//   npm run fuzz -- --count 1000 --kind both --minimize
//   npm run fuzz -- --kind well --seed 123456 --count 1 --minimize

import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { Kind } from './one.js';
import type { WorkerJob, WorkerMessage } from './worker.js';

const USAGE = `usage: npm run fuzz -- [--count N] [--seed S] [--kind well|garbled|both] [--minimize] [--time-limit ms]\n                        [--out failures.jsonl] [--quiet: one line per failure] [--progress N]`;

const COUNTED = ['crash', 'hang', 'wrong-gradient', 'wrong-value', 'fused-vs-op', 'leak', 'rejected', 'unlocated'] as const;
const LABEL: Record<(typeof COUNTED)[number], string> = {
  crash: 'crashes',
  hang: 'hangs',
  'wrong-gradient': 'wrong gradients',
  'wrong-value': 'wrong values',
  'fused-vs-op': 'fused/op-by-op disagreements',
  leak: 'leaks',
  rejected: 'well-formed programs rejected',
  unlocated: 'errors without a location',
};

interface Tally {
  run: number;
  skipped: number;
  fused: number;
  skippedChecks: number;
  fails: Record<string, number>;
  signatures: Map<string, number[]>;
  ms: number;
  started: number;
}

function newTally(): Tally {
  return { run: 0, skipped: 0, fused: 0, skippedChecks: 0, fails: {}, signatures: new Map(), ms: 0, started: Date.now() };
}

interface Flags {
  count: number;
  seed: number;
  kinds: Kind[];
  minimize: boolean;
  timeLimit: number;
  out?: string;
  quiet: boolean;
  /** Print the running summary every this many programs (0: never). */
  progress: number;
}

function flags(): Flags {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1000' },
      seed: { type: 'string' },
      kind: { type: 'string', default: 'both' },
      minimize: { type: 'boolean', default: false },
      'time-limit': { type: 'string', default: '10000' },
      out: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      progress: { type: 'string', default: '0' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const kind = values.kind as string;
  if (!['well', 'garbled', 'both'].includes(kind)) throw new Error(`--kind must be well, garbled or both\n${USAGE}`);
  const count = Number(values.count);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  const timeLimit = Number(values['time-limit']);
  if (![count, seed, timeLimit].every((x) => Number.isInteger(x) && x >= 0)) throw new Error(`--count, --seed and --time-limit take whole numbers\n${USAGE}`);
  return { count, seed, kinds: kind === 'both' ? ['well', 'garbled'] : [kind as Kind], minimize: values.minimize as boolean, timeLimit, out: values.out as string | undefined, quiet: values.quiet as boolean, progress: Number(values.progress) || 0 };
}

function indent(text: string, max = 4000): string {
  const t = text.length > max ? `${text.slice(0, max)}\n… (${text.length} characters in all)` : text;
  return t.replace(/\n$/, '').split('\n').map((l) => `    | ${l}`).join('\n');
}

/** Run seeds [from, to) of one kind in a worker, restarting it past each hang. */
function runKind(kind: Kind, from: number, to: number, f: Flags, tally: Tally): Promise<void> {
  return new Promise((resolve) => {
    const seen: string[] = [];
    const launch = (start: number) => {
      if (start >= to) return resolve();
      const job: WorkerJob = { kind, from: start, to, minimize: f.minimize, seen };
      const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: job, resourceLimits: { maxOldGenerationSizeMb: 2048, stackSizeMb: 1 } }); // a main thread's stack (workers get 4 MB)
      let current = start;
      let startedAt = Date.now();
      // Not until the worker has loaded and says which case it starts (loading takes seconds under load).
      let watching = false;
      let finished = false;
      const timer = setInterval(() => {
        if (!watching || Date.now() - startedAt <= f.timeLimit) return;
        clearInterval(timer);
        finished = true;
        void w.terminate();
        report(kind, current, { kind: 'fail', check: 'hang', detail: `no answer within ${f.timeLimit} ms` }, `hang: ${kind}`, f, tally);
        launch(current + 1);
      }, 100);
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'start') {
          current = m.seed;
          startedAt = Date.now();
          watching = true;
        } else if (m.type === 'minimizing') watching = false;
        else if (m.type === 'result') {
          watching = false;
          tally.ms += m.ms;
          if (m.verdict.kind === 'fail') seen.push(m.signature);
          report(kind, m.seed, m.verdict, m.signature, f, tally, m.text, m.minimized);
        } else if (m.type === 'end') {
          clearInterval(timer);
          finished = true;
          void w.terminate();
          resolve();
        }
      });
      w.on('error', (e) => {
        if (finished) return;
        clearInterval(timer);
        finished = true;
        report(kind, current, { kind: 'fail', check: 'crash', detail: `the worker died: ${e.stack ?? e.message}` }, `crash: worker died: ${e.message.slice(0, 60)}`, f, tally);
        launch(current + 1);
      });
    };
    launch(from);
  });
}

type Reported = Extract<WorkerMessage, { type: 'result' }>['verdict'];

function report(kind: Kind, seed: number, v: Reported, sig: string, f: Flags, t: Tally, text?: string, minimized?: string): void {
  tallyOne(kind, seed, v, sig, f, t, text, minimized);
  if (f.progress && t.run % f.progress === 0) console.log(`progress ${summary(kind, t, Date.now() - t.started)}`);
}

function tallyOne(kind: Kind, seed: number, v: Reported, sig: string, f: Flags, t: Tally, text?: string, minimized?: string): void {
  t.run++;
  if (v.kind === 'skip') t.skipped++;
  if (v.kind === 'ok') {
    if (v.fused) t.fused++;
    t.skippedChecks += v.skippedChecks ?? 0;
  }
  if (v.kind !== 'fail') return;
  t.fails[v.check!] = (t.fails[v.check!] ?? 0) + 1;
  const seeds = t.signatures.get(sig) ?? [];
  seeds.push(seed);
  t.signatures.set(sig, seeds);
  if (f.out) appendFileSync(f.out, JSON.stringify({ kind, seed, check: v.check, signature: sig, detail: v.detail, text, minimized }) + '\n');
  if (f.quiet && !minimized) {
    console.log(`FAIL ${kind} seed ${seed}: ${sig}`);
    return;
  }
  console.log(`FAIL ${kind} seed ${seed}: ${v.check}: ${(v.detail ?? '').split('\n').slice(0, 3).join(' / ').slice(0, 400)}`);
  console.log(`  replay: npm run fuzz -- --kind ${kind} --seed ${seed} --count 1 --minimize`);
  if (minimized !== undefined) console.log(`  minimized (${minimized.length} characters):\n${indent(minimized)}`);
  else if (text !== undefined && !f.quiet) console.log(indent(text, 1500));
}

function summary(kind: string, t: Tally, wallMs: number): string {
  const parts = COUNTED.map((k) => `${LABEL[k]} ${t.fails[k] ?? 0}`);
  const rate = t.run ? (t.run / (wallMs / 1000)).toFixed(1) : '0';
  const extra = kind === 'well' ? `; fused path taken by ${t.fused}, ${t.skippedChecks} single checks skipped near kinks` : '';
  return `${kind}: programs run ${t.run}, ${parts.join(', ')}, skipped ${t.skipped} (${rate} programs/s${extra})`;
}

async function mainFuzz(): Promise<number> {
  const f = flags();
  console.log(`lossc fuzz: seed ${f.seed}, ${f.count} program(s) of kind ${f.kinds.join(' + ')}, time limit ${f.timeLimit} ms${f.minimize ? ', minimizing' : ''}`);
  const all = newTally();
  const lines: string[] = [];
  let failures = 0;
  for (const kind of f.kinds) {
    const t = newTally();
    const t0 = Date.now();
    await runKind(kind, f.seed, f.seed + f.count, f, t);
    lines.push(summary(kind, t, Date.now() - t0));
    for (const [sig, seeds] of t.signatures) lines.push(`  ${kind} ${sig} (${seeds.length}x, seeds ${seeds.slice(0, 8).join(', ')}${seeds.length > 8 ? ', …' : ''})`);
    failures += Object.values(t.fails).reduce((a, b) => a + b, 0);
    all.run += t.run;
  }
  console.log(lines.join('\n'));
  console.log(`lossc fuzz: seed ${f.seed}: ${all.run} programs, ${failures} failure(s)`);
  return failures ? 1 : 0;
}

mainFuzz().then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error((e as Error).message);
    process.exitCode = 2;
  },
);
