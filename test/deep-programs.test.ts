// Programs as long or as deep as the input limits allow (issue 10, item 5): no stage may run out
// of stack. Long chains of + and * (10 000 and 100 000 terms) are lowered as balanced trees and
// work end to end; a program nested deeper than MAX_DEPTH (src/ir/node.ts) is a 'limit' error
// at the expression that crossed it, through the JS API and the command line alike; and a
// program just under the limit goes through every stage: gradient, rewrites, the three printers,
// the reference evaluator, the fused kernel and the op-by-op tfjs plan.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { compile, derivative, Library, LosscError } from '../src/index.js';
import { MAX_DEPTH } from '../src/ir/node.js';
import { evaluate } from '../src/eval/reference.js';
import { fromData } from '../src/eval/ndarray.js';
import { errorOf, expectLocated } from './helpers/source.js';

const dir = mkdtempSync(join(tmpdir(), 'lossc-deep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function lossc(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const YT = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]];
const YP = [[0.3, -0.2, 0.1], [0.7, 0.5, -0.6]];

/** Value (sum over the batch) and gradient of loss `f` of `source`: fused path, and op-by-op (a sample weight). */
function valueAndGrad(source: string): { fused: [number, number[]]; plan: [number, number[]] } {
  const f = compile(source).losses.f!({ reduction: 'sum' });
  const [yt, yp] = [tf.tensor(YT), tf.tensor(YP)];
  const run = (weight?: number): [number, number[]] => {
    const before = tf.memory().numTensors;
    const value = f(yt, yp, weight);
    const v = value.dataSync()[0]!;
    value.dispose();
    const g = tf.grad((p: tf.Tensor) => f(yt, p, weight))(yp);
    const out: [number, number[]] = [v, [...g.dataSync()]];
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    return out;
  };
  const result = { fused: run(), plan: run(1) };
  tf.dispose([yt, yp]);
  return result;
}

describe('long chains of + and *', () => {
  it('10 000 terms `y_pred + y_pred + …`: CLI grad, JS API value and gradient', async () => {
    const src = 'loss f(y_true, y_pred) = ' + Array(10_000).fill('y_pred').join(' + ') + '\n';
    expect(src.length).toBeGreaterThan(90_000);
    const r = await lossc('grad', 'f', '--file', file('sum10k.loss', src), '--wrt', 'y_pred');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\b(1e4|10000)\b/);
    const { fused, plan } = valueAndGrad(src);
    const sum = YP.flat().reduce((a, x) => a + x, 0);
    for (const [v, g] of [fused, plan]) {
      expect(v).toBeCloseTo(10_000 * sum, 0);
      for (const x of g) expect(x).toBe(10_000);
    }
  });

  it('100 000 terms lower to a balanced tree (17 levels) and compile', () => {
    const src = 'loss f(y_true, y_pred) = y_pred' + ' + y_pred'.repeat(99_999) + '\n';
    const lib = Library.fromSource(src, 'sum100k.loss');
    const d = derivative('f', 'y_pred', { library: lib });
    expect(d.lowered.value.depth).toBeLessThanOrEqual(18);
    expect(d.toString()).toMatch(/\b(1e5|100000)\b/);
    const { fused } = valueAndGrad(src);
    for (const x of fused[1]) expect(x).toBe(100_000);
  });

  it('long sums of distinct terms stay shallow through the normal forms and the gradient', () => {
    const terms = Array.from({ length: 300 }, (_, k) => `exp(y_pred * ${(k + 1) / 1000}) * y_true`);
    const src = 'loss f(y_true, y_pred) = ' + terms.join(' - ') + '\n';
    const d = derivative('f', 'y_pred', { library: Library.fromSource(src, 'distinct.loss') });
    // Folded one term at a time, the normal form and the adjoint sums would be 300 levels deep.
    expect(d.value.depth).toBeLessThan(40);
    expect(Math.max(...d.grads.map((g) => g.depth))).toBeLessThan(40);
    const { fused, plan } = valueAndGrad(src);
    const want = YP.flat().map((p, i) => {
      const t = YT.flat()[i]!;
      return terms.reduce((a, _, k) => a + (k === 0 ? 1 : -1) * ((k + 1) / 1000) * Math.exp(p * ((k + 1) / 1000)) * t, 0);
    });
    for (const [, g] of [fused, plan]) g.forEach((x, i) => expect(x).toBeCloseTo(want[i]!, 2));
  });

  it('a chain of 20 000 `and`s is balanced too', () => {
    const src = 'loss f(y_true, y_pred) = where(' + Array(20_000).fill('y_pred > -1').join(' and ') + ', y_pred, 0)\n';
    const { fused } = valueAndGrad(src);
    expect(fused[1]).toEqual(YP.flat().map((p) => (p > -1 ? 1 : 0)));
  });

  it('an `else if` chain of 20 000 branches', () => {
    const src = 'loss f(y_true, y_pred; a = false) = ' + 'if a then y_true else '.repeat(20_000) + 'y_pred * 2\n';
    const { fused } = valueAndGrad(src);
    expect(fused[1]).toEqual(YP.flat().map(() => 2));
  });

  it('a static sum of 50 000 terms as an axis', () => {
    const src = 'loss f(y_true, y_pred) = sum(y_pred, axis = ' + Array(50_000).fill('0').join(' + ') + ' - 1)\n';
    const { fused } = valueAndGrad(src);
    expect(fused[0]).toBeCloseTo(YP.flat().reduce((a, x) => a + x, 0), 4);
  });
});

/** A chain of `levels` lets, each built on the last (three levels of the graph each). */
function letChain(levels: number): string {
  const lets = Array.from({ length: levels }, (_, k) => `  let a${k + 1} = where(a${k} > y_true, a${k} * 0.5, sigmoid(a${k}) - 0.5)\n`);
  return 'loss f(y_true, y_pred) =\n  let a0 = y_pred\n' + lets.join('') + `  a${levels}\n`;
}

describe('the depth limit', () => {
  // Each let adds three levels (where over a product or a difference); the input is one.
  const under = Math.floor((MAX_DEPTH - 1) / 3);

  it('a program just under the limit goes through every stage', async () => {
    const src = letChain(under);
    const lib = Library.fromSource(src, 'under.loss');
    const d = derivative('f', 'y_pred', { library: lib });
    expect(d.lowered.value.depth).toBeGreaterThan(MAX_DEPTH - 3);
    expect(d.lowered.value.depth).toBeLessThanOrEqual(MAX_DEPTH);
    expect(d.toString().length).toBeGreaterThan(1000);
    expect(d.toLatex().length).toBeGreaterThan(1000);
    expect(d.toDot()).toContain('digraph');
    const x = fromData([2, 3], YP.flat());
    const t = fromData([2, 3], YT.flat());
    const [g] = evaluate(d.grads, { y_true: t, y_pred: x });
    const { fused, plan } = valueAndGrad(src);
    g!.data.forEach((v, i) => {
      for (const got of [fused[1][i]!, plan[1][i]!]) expect(Math.abs(got - v), `${got} vs ${v}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(v)));
    });
    const r = await lossc('grad', 'f', '--file', file('under.loss', src), '--wrt', 'y_pred', '--format', 'latex');
    expect(r.code, r.err).toBe(0);
  });

  it('just over the limit: a located limit error at the let that crossed it, JS API and CLI', async () => {
    const src = letChain(under + 1);
    const [yt, yp] = [tf.tensor(YT), tf.tensor(YP)];
    const e = errorOf(() => compile(src).losses.f!()(yt, yp));
    tf.dispose([yt, yp]);
    expect(e.kind).toBe('limit');
    expect(e.detail).toContain(`over lossc's limit of ${MAX_DEPTH}`);
    // The let that crossed: line 2 + (under + 1), at `where(` or an operator inside it.
    expect(e.span!.line).toBe(under + 3);
    expectLocated(e, '<compile>', e.span!.line, e.span!.column);
    const path = file('over.loss', src);
    const r = await lossc('grad', 'f', '--file', path, '--wrt', 'y_pred');
    expect(r.code).toBe(1);
    expect(r.err).toContain(`over.loss:${under + 3}:`);
    expect(r.err).toContain('limit error: this formula is nested');
    expect(r.err).toMatch(/\^+/);
  });

  it('`y_pred^1^1^…` with 8 000 powers is y_pred^1: its constant powers fold as they are lowered', async () => {
    const { Library } = await import('../src/lower/library.js');
    const { lowerDefinition } = await import('../src/lower/lower.js');
    const lib = Library.fromSource(`loss f(y_true, y_pred) = y_pred${'^1'.repeat(8000)}\n`, 'pow.loss');
    const v = lowerDefinition(lib, 'f', { symbolic: true }).value;
    expect(v.op).toBe('pow');
    expect(v.args[1]!.attrs.value).toBe(1);
  });

  it.each([
    ['`y_pred^y_true^y_true^…` with 8 000 powers', 'y_pred' + '^y_true'.repeat(8000)],
    ['`y_pred^-y_pred^-…` with 8 000 powers', 'y_pred' + '^-y_pred'.repeat(8000)],
  ])('%s is a located limit error, not a stack overflow', async (_name, body) => {
    const src = `loss f(y_true, y_pred) = ${body}\n`;
    const [yt, yp] = [tf.tensor(YT), tf.tensor(YP)];
    const e = errorOf(() => compile(src).losses.f!()(yt, yp));
    tf.dispose([yt, yp]);
    expect(e).toBeInstanceOf(LosscError);
    expect(e.kind).toBe('limit');
    expect(e.span!.line).toBe(1);
    // The caret of the long line's window is under the `^` whose power crossed the limit.
    const lines = e.message.split('\n');
    const quoted = lines.find((l) => l.startsWith('1 | '))!;
    const caret = lines[lines.length - 1]!.indexOf('^');
    expect(quoted.startsWith('1 | …')).toBe(true);
    expect(quoted[caret]).toBe('^');
    expect(src[e.span!.column - 1]).toBe('^');
    const r = await lossc('check', file('pow.loss', src));
    expect(r.code).toBe(1);
    expect(r.err).toContain('limit error');
    expect(r.err).not.toContain('internal error');
  });
});
