// A fast start (issue 13 item 2): importing lossc's Node entry and using a stdlib loss, value and
// gradient, loads neither the parser (grammar/index.ts) nor chevrotain; the first user source
// loads them, and its errors are lossc's own classes, quoting the source. Run on dist/ as built,
// in child processes: the bundle package.json's `exports` names (dist/node/) and tsc's modules
// (dist/src/). What a process loaded is read twice: every module the ES loader resolves (a hook)
// and what `require` loaded (the parser comes in through it: src/node/grammar.ts).

import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { freshDist, ROOT, sh } from './helpers/dist.js';

const HOOK = `data:text/javascript,${encodeURIComponent(
  "import { register } from 'node:module';" +
    "register('data:text/javascript,' + encodeURIComponent(\"export async function resolve(s, c, next) { const r = await next(s, c); process._rawDebug('LOADED ' + r.url); return r; }\"));",
)}`;

const script = (entry: string) => `
  import { createRequire } from 'node:module';
  const tf = await import('@tensorflow/tfjs');
  tf.backend().firstUse = false;
  const lossc = await import(${JSON.stringify(entry)});
  const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((k) => /grammar|chevrotain/.test(k));
  const yt = tf.tensor2d([[0, 1, 0], [1, 0, 0]]);
  const yp = tf.tensor2d([[0.2, 0.7, 0.1], [0.5, 0.3, 0.2]]);
  const cce = lossc.losses.categorical_crossentropy();
  const { value, grad } = tf.valueAndGrad((p) => cce(yt, p))(yp);
  const out = { value: await value.data(), grad: Array.from(await grad.data()), beforeParse: loaded() };
  process._rawDebug('PARSE');
  const mine = lossc.compile('loss mine(y_true, y_pred) = mean((y_true - y_pred)^2)').mine();
  out.mine = (await mine(yt, yp).data())[0];
  out.afterParse = loaded();
  try {
    lossc.compile('loss bad(y_true, y_pred) = mean(y_true - )');
  } catch (e) {
    out.error = { ours: e instanceof lossc.LosscErrors, message: e.message };
  }
  console.log(JSON.stringify(out));`;

interface Run {
  out: { value: Record<string, number>; grad: number[]; beforeParse: string[]; afterParse: string[]; mine: number; error?: { ours: boolean; message: string } };
  /** Module URLs the ES loader resolved before the first user source was parsed. */
  before: string[];
}

async function runEntry(entry: string): Promise<Run> {
  const { stdout, stderr } = await sh(process.execPath, ['--import', HOOK, '--input-type=module', '-e', script(join(ROOT, entry))], ROOT);
  const lines = stderr.split('\n');
  const cut = lines.indexOf('PARSE');
  expect(cut).toBeGreaterThan(0);
  const before = lines.slice(0, cut).filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7));
  return { out: JSON.parse(stdout) as Run['out'], before };
}

beforeAll(freshDist, 600_000);

describe.each(['dist/node/index.node.js', 'dist/src/index.node.js'])('%s', (entry) => {
  let run: Run;
  beforeAll(async () => {
    run = await runEntry(entry);
  }, 60_000);

  it('a stdlib loss, value and gradient, loads no parser and no chevrotain', () => {
    expect(run.out.value[0]).toBeCloseTo((-Math.log(0.7) - Math.log(0.5)) / 2, 5);
    expect(run.out.grad).toHaveLength(6);
    // The ES loader's modules: lossc's own, tfjs's and Node's; of grammar/, only the door and data.
    const own = run.before.filter((u) => u.includes('/dist/'));
    expect(own.length).toBeGreaterThan(0);
    expect(run.before.filter((u) => /chevrotain|lodash/.test(u))).toEqual([]);
    for (const u of own) expect(u).not.toMatch(/\/dist\/node\/grammar\.js$|\/dist\/grammar\/(index|lexer|parser|visitor|messages|prepass|chevrotain)\.js$/);
    expect(run.out.beforeParse).toEqual([]);
  });

  it('the first user source loads the parser, whose errors are lossc\'s classes quoting the source', () => {
    expect(run.out.mine).toBeCloseTo((0.04 + 0.09 + 0.01 + 0.25 + 0.09 + 0.04) / 6, 5);
    expect(run.out.afterParse.length).toBeGreaterThan(0);
    expect(run.out.error?.ours).toBe(true);
    expect(run.out.error?.message).toContain('<compile>:1');
    expect(run.out.error?.message).toContain('mean(y_true - )');
  });
});
