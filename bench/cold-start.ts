// Cold start (issue 13 items 2 and 6): a whole Node process that imports tfjs, makes a
// categorical cross-entropy and takes its first value and gradient, with tfjs's own loss against
// the same script with lossc's (its package entry, dist/node/index.node.js). Each process reports
// its own CPU time (user + system, start-up included) and peak RSS as it exits; the two run in
// turn, A B A B ..., and the ratios are taken pair by pair, so a drift of the machine's speed
// moves both. Then the first compile of a user's source in a fresh process (parser loaded then).

import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = join(ROOT, 'dist/node/index.node.js');

/** The same data in both scripts: 32 rows of 10 class probabilities, one-hot targets. */
const SETUP = `
  const tf = await import('@tensorflow/tfjs');
  tf.backend().firstUse = false;
  const n = 32, c = 10;
  const p = Array.from({ length: n * c }, (_, i) => 1 + ((i * 7919) % 13));
  const yp = tf.tensor2d(p, [n, c]).div(tf.tensor2d(p, [n, c]).sum(1, true));
  const yt = tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 3) % c), 'int32'), c).toFloat();`;
const REPORT = `
  await value.data(); await grad.data();
  const u = process.cpuUsage();
  console.log(JSON.stringify({ cpuMs: (u.user + u.system) / 1000, rssMiB: process.resourceUsage().maxRSS / 1024 }));`;

const TFJS = `${SETUP}
  const { value, grad } = tf.valueAndGrad((q) => tf.metrics.categoricalCrossentropy(yt, q).mean())(yp);${REPORT}`;
const LOSSC = `${SETUP}
  const { losses } = await import(${JSON.stringify(ENTRY)});
  const cce = losses.categorical_crossentropy();
  const { value, grad } = tf.valueAndGrad((q) => cce(yt, q))(yp);${REPORT}`;
const USER_SOURCE = `${SETUP}
  const lossc = await import(${JSON.stringify(ENTRY)});
  const t = process.cpuUsage();
  lossc.compile('loss mine(y_true, y_pred; eps = 1e-7) = mean(-y_true * log(clip(y_pred, eps, 1 - eps)), axis = -1)');
  const d = process.cpuUsage(t);
  console.log(JSON.stringify({ compileMs: (d.user + d.system) / 1000 }));`;

function child<T>(script: string): T {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

interface Sample {
  cpuMs: number;
  rssMiB: number;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
/** `median (min–max)` of xs. */
const spread = (xs: number[], digits: number, unit = '') => {
  const s = sorted(xs);
  return `${median(xs).toFixed(digits)}${unit} (${s[0]!.toFixed(digits)}–${s[s.length - 1]!.toFixed(digits)})`;
};

export interface ColdStart {
  runs: number;
  tfjs: Sample[];
  lossc: Sample[];
  /** lossc / tfjs, pair by pair. */
  cpuRatio: number[];
  rssRatio: number[];
  compileMs: number[];
}

/** `runs` interleaved pairs of whole processes, and `runs` first compiles of a user's source. */
export function coldStart(runs: number): ColdStart {
  child(TFJS); // warm the file cache once, uncounted
  child(LOSSC);
  const r: ColdStart = { runs, tfjs: [], lossc: [], cpuRatio: [], rssRatio: [], compileMs: [] };
  for (let i = 0; i < runs; i++) {
    const a = child<Sample>(TFJS);
    const b = child<Sample>(LOSSC);
    r.tfjs.push(a);
    r.lossc.push(b);
    r.cpuRatio.push(b.cpuMs / a.cpuMs);
    r.rssRatio.push(b.rssMiB / a.rssMiB);
    r.compileMs.push(child<{ compileMs: number }>(USER_SOURCE).compileMs);
  }
  return r;
}

/** The cold-start table, and the goals it is held to (at most 1.2× tfjs; a user's source under 50 ms). */
export function coldStartTable(r: ColdStart): string[] {
  const cpu = median(r.cpuRatio);
  const rss = median(r.rssRatio);
  const compile = median(r.compileMs);
  const ok = (b: boolean) => (b ? 'yes' : '**no**');
  return [
    `cold start: a whole process importing tfjs, making categorical cross-entropy and taking its first value + gradient; ${r.runs} pairs run in turn, median (min–max):`,
    '| script | CPU ms | peak RSS MiB |',
    '|---|---:|---:|',
    `| tfjs alone (tf.metrics.categoricalCrossentropy) | ${spread(r.tfjs.map((s) => s.cpuMs), 0)} | ${spread(r.tfjs.map((s) => s.rssMiB), 1)} |`,
    `| tfjs + lossc (losses.categorical_crossentropy) | ${spread(r.lossc.map((s) => s.cpuMs), 0)} | ${spread(r.lossc.map((s) => s.rssMiB), 1)} |`,
    `| lossc / tfjs, pair by pair | ${spread(r.cpuRatio, 3, '×')} | ${spread(r.rssRatio, 3, '×')} |`,
    '',
    `| goal | measured | met |`,
    '|---|---:|---|',
    `| cold start CPU ≤ 1.2× tfjs alone | ${cpu.toFixed(3)}× | ${ok(cpu <= 1.2)} |`,
    `| cold start peak RSS ≤ 1.2× tfjs alone | ${rss.toFixed(3)}× | ${ok(rss <= 1.2)} |`,
    `| first compile of a user's source (parser loaded then) < 50 ms CPU | ${spread(r.compileMs, 1, ' ms')} | ${ok(compile < 50)} |`,
  ];
}
