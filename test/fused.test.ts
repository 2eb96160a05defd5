// The fused-kernel target (src/compile/fused.ts): every op against the float64 reference
// evaluator, fusion shapes (shared reductions, multi-pass rows, broadcasts, cross-nest reads),
// every stdlib loss's value and gradient against the reference and against the op-by-op tfjs
// plan, the refusals (unknown ops, symbolic shapes, no `new Function`), the safety of the
// generated source, and agreement with hand-written loops (their timings: `npm run bench`).
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { fuse, fusedCodegenAvailable, lastFuseRefusal, resetFusedCodegenProbe, type FusedKernel } from '../src/compile/fused.js';
import { Plan } from '../src/compile/plan.js';
import { evaluate } from '../src/eval/reference.js';
import { fromData, sizeOf, type NdArray } from '../src/eval/ndarray.js';
import { grad } from '../src/autodiff/grad.js';
import * as b from '../src/ir/build.js';
import { Node, topoSort } from '../src/ir/node.js';
import type { DType } from '../src/ir/shape.js';
import { Library } from '../src/lower/library.js';
import { Lowerer } from '../src/lower/lower.js';
import { bindSignature } from '../src/lower/signature.js';
import type { Static } from '../src/lower/builtins.js';
import { rewrite } from '../src/rewrite/engine.js';
import { ALL_RULES, STABILIZE_RULES } from '../src/rewrite/rules.js';
import { supported } from '../src/compile/fused-codegen/graph.js';
import { LOSS_INPUTS, logitOptions, seeded } from './helpers/loss-inputs.js';
import { rng } from './helpers/numeric.js';
import { baseName, shapeOf } from './helpers/arrays.js';
import { HAND, KERNEL_CASES, buildKernel } from '../bench/fused-kernel.js';

// ---- helpers ----------------------------------------------------------------------------------

type Sampler = (r: () => number) => number;
const U = (lo: number, hi: number): Sampler => (r) => lo + (hi - lo) * r();

let inputCounter = 0;
/** A fresh input node (unique name, so tests never share one by accident). */
function inp(shape: number[], dtype: DType = 'float32'): Node {
  return b.input(`in${inputCounter++}`, shape, dtype);
}

/** Random data of a node's dtype: float32-representable floats, whole ints, 0/1 bools. */
function dataFor(n: Node, r: () => number, sample: Sampler = U(-2, 2)): Float32Array | Int32Array {
  const size = sizeOf(n.shape as number[]);
  if (n.dtype === 'int32') return Int32Array.from({ length: size }, () => Math.floor(r() * 4));
  if (n.dtype === 'bool') return Int32Array.from({ length: size }, () => (r() < 0.5 ? 1 : 0));
  return Float32Array.from({ length: size }, () => sample(r));
}

function close(got: number, want: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= atol + rtol * Math.abs(want);
}

function expectClose(got: ArrayLike<number>, want: NdArray, rtol: number, atol: number, what: string): void {
  expect(got.length, `${what}: size`).toBe(want.data.length);
  for (let i = 0; i < want.data.length; i++) {
    if (!close(got[i]!, want.data[i]!, rtol, atol)) {
      expect.fail(`${what}[${i}]: got ${got[i]}, want ${want.data[i]}\n  got  ${Array.from(got).slice(0, 40).join(', ')}\n  want ${Array.from(want.data).slice(0, 40).join(', ')}`);
    }
  }
}

interface CheckOptions {
  rtol?: number;
  atol?: number;
  data?: Array<ArrayLike<number>>;
  sample?: Sampler;
  seed?: number;
}

/** Fuse `roots` over `inputs`, run on random data, compare every root with the reference. */
function check(roots: Node[], inputs: Node[], o: CheckOptions = {}): FusedKernel {
  const k = fuse(roots, inputs);
  expect(k, `fuse returned null: ${lastFuseRefusal()}`).not.toBeNull();
  const r = rng(o.seed ?? 7);
  const data = o.data ?? inputs.map((n) => dataFor(n, r, o.sample));
  const outs = k!.run(data);
  const bound: Record<string, NdArray> = {};
  inputs.forEach((n, i) => (bound[n.attrs.name as string] = fromData(n.shape as number[], data[i]!, n.dtype)));
  const want = evaluate(roots, bound);
  roots.forEach((root, i) => {
    expect(k!.shapes[i], `root ${i} shape`).toEqual(want[i]!.shape);
    expect(outs[i]).toBeInstanceOf(Float32Array);
    expectClose(outs[i]!, want[i]!, o.rtol ?? 1e-5, o.atol ?? 1e-6, `root ${i} (${root.op})\n${k!.source}\n`);
  });
  return k!;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// ---- ops --------------------------------------------------------------------------------------

describe('fused elementwise ops', () => {
  const unary: Array<[string, Sampler, number?]> = [
    ['neg', U(-3, 3)],
    ['exp', U(-5, 5)],
    ['log', U(0.01, 5)],
    ['log1p', U(-0.9, 5)],
    ['expm1', U(-3, 3)],
    ['sqrt', U(0, 5)],
    ['abs', U(-3, 3)],
    ['sign', (r) => (r() < 0.2 ? 0 : -3 + 6 * r())],
    ['sigmoid', U(-60, 60)],
    ['softplus', U(-60, 60)],
    ['tanh', U(-4, 4)],
    ['cosh', U(-4, 4)],
    ['sinh', U(-4, 4)],
    ['cos', U(-6, 6)],
    ['sin', U(-6, 6)],
    ['floor', U(-4, 4)],
  ];
  for (const [op, sample] of unary) {
    it(op, () => {
      const x = inp([4, 5]);
      check([Node.make(op as never, [x])], [x], { sample });
    });
  }

  const binary = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'] as const;
  const shapes: Array<[number[], number[]]> = [
    [[3, 5], [3, 5]],
    [[3, 5], [5]],
    [[3, 1], [1, 5]],
    [[2, 3, 4], [3, 1]],
    [[], [3, 4]],
    [[4, 1, 2], [1, 3, 1]],
  ];
  for (const op of binary) {
    for (const [sa, sb] of shapes) {
      it(`${op} ${JSON.stringify(sa)} with ${JSON.stringify(sb)}`, () => {
        const a = inp(sa);
        const c = inp(sb);
        const sample = op === 'pow' ? U(0.1, 3) : (r: () => number) => (r() < 0.5 ? -1 : 1) * (0.1 + 2 * r());
        check([Node.make(op, [a, c])], [a, c], { sample, rtol: 1e-5 });
      });
    }
  }

  it('pow by constant exponents (x*x, 1/x and the general case)', () => {
    const x = inp([3, 4]);
    const roots = [2, -1, 1, 0, 0.5, 3, -2.5].map((e) => b.pow(x, b.constant(e)));
    const k = check(roots, [x], { sample: U(0.1, 3) });
    expect(k.source).toContain('Math.pow');
  });

  it('the tfjs plan takes pow by 1, 2, 3 and -1 as clone, square, cube and reciprocal, with pow\'s results', () => {
    const x = inp([10]);
    const data = Float32Array.from([0, -0, 1.5, -2, Infinity, -Infinity, NaN, 1e-20, 3e12, -0.75]);
    const roots = [1, 2, 3, -1, 0.5, 2.5].map((e) => b.pow(x, b.constant(e)));
    const bound = { [x.attrs.name as string]: fromData([10], data, 'float32') };
    const want = evaluate(roots, bound);
    const got = tf.tidy(() => new Plan(roots, [x]).run([tf.tensor(data)]).map((t) => Array.from(t.dataSync())));
    got.forEach((g, i) => {
      const w = Array.from(want[i]!.data, Math.fround);
      g.forEach((v, j) => expect(close(v, w[j]!, 1e-6, 0) || (Number.isNaN(v) && Number.isNaN(w[j]!)), `pow ${[1, 2, 3, -1, 0.5, 2.5][i]} at ${data[j]}: ${v} vs ${w[j]}`).toBe(true));
    });
  });

  for (const op of ['lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const) {
    it(`compare ${op} (floats and ints, broadcast)`, () => {
      const a = inp([3, 4]);
      const c = inp([4]);
      // Few distinct values, so that ties occur.
      check([Node.make(op, [a, c])], [a, c], { sample: (r) => Math.floor(r() * 3) - 1 });
      const i = inp([3, 4], 'int32');
      const j = inp([3, 1], 'int32');
      check([Node.make(op, [i, j])], [i, j]);
    });
  }

  it('logic: and, or, not', () => {
    const p = inp([3, 4], 'bool');
    const q = inp([4], 'bool');
    check([Node.make('and', [p, q]), Node.make('or', [p, q]), Node.make('not', [p])], [p, q]);
  });

  it('where and clip with broadcast arguments', () => {
    const c = inp([3, 1], 'bool');
    const x = inp([3, 4]);
    const y = inp([4]);
    const lo = inp([4]);
    check([b.where(c, x, y), b.clip(x, b.neg(b.abs(lo)), b.constant(0.5)), b.where(c, b.constant(1), x)], [c, x, y, lo]);
  });

  it('cast: float→int truncates, int/bool→float, float→bool, int→bool', () => {
    const x = inp([2, 5]);
    const i = inp([2, 5], 'int32');
    const p = inp([2, 5], 'bool');
    const roots = [b.cast(x, 'int32'), b.cast(i, 'float32'), b.cast(p, 'float32'), b.cast(x, 'bool'), b.cast(i, 'bool'), b.cast(p, 'int32')];
    check(roots, [x, i, p], { data: [Float32Array.from([-2.7, -1.5, -0.2, 0, 0.2, 1.5, 2.7, -0, 3.999, -3.999]), Int32Array.from([0, 1, 2, -3, 0, 5, 6, 7, 0, 9]), Int32Array.from([1, 0, 1, 0, 1, 1, 0, 0, 1, 0])] });
  });

  it('stop_gradient is the identity', () => {
    const x = inp([3, 2]);
    check([b.mul(Node.make('stop_gradient', [x]), x)], [x]);
  });

  it('special values: sign(0), sigmoid and softplus at ±inf, NaN propagation', () => {
    const x = inp([8]);
    const data = [Float32Array.from([0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-30, 88])];
    check(['sign', 'sigmoid', 'softplus', 'exp', 'abs', 'tanh'].map((op) => Node.make(op as never, [x])), [x], { data });
    check([b.maximum(x, b.constant(0)), b.minimum(x, b.constant(0)), b.clip(x, b.constant(-1), b.constant(1))], [x], { data });
  });
});

describe('fused exp and log1p (straight-line arithmetic, scalar.ts)', () => {
  // The kernel's float32 output must be Math.exp's (or Math.log1p's) value rounded to float32,
  // or its float32 neighbour when the double lies next to a rounding boundary.
  const ulp32 = (v: number) => {
    const f = Math.fround(Math.abs(v));
    if (f === 0) return Math.fround(1.4e-45);
    const buf = new Float32Array([f]);
    new Uint32Array(buf.buffer)[0]! += 1;
    return buf[0]! - f;
  };
  const within1ulp = (got: number, want: number) => (Number.isNaN(want) ? Number.isNaN(got) : got === Math.fround(want) || Math.abs(got - want) <= ulp32(want));

  it('exp: within one float32 ulp of Math.exp from -760 to 760, exact at 0, ±inf, NaN, overflow', () => {
    const r = rng(3);
    const special = [0, -0, 1, -1, 88.7, 88.8, -87.3, -103.9, -104, 707.9, -707.9, 708, -708, 709.7, 709.8, -745.2, -746, Infinity, -Infinity, NaN, 1e-30, -1e-30];
    const values = Float32Array.from([...special, ...Array.from({ length: 4000 }, (_, i) => (i % 2 ? 20 : 760) * (2 * r() - 1))]);
    const x = inp([values.length]);
    const k = fuse([b.exp(x)], [x])!;
    expect(k.source).toContain('P2[(');
    const [got] = k.run([values]);
    values.forEach((v, i) => expect(within1ulp(got![i]!, Math.exp(v)), `exp(${v}): ${got![i]} vs ${Math.exp(v)}`).toBe(true));
  });

  it('softplus (its log1p of exp(-|x|)): within one float32 ulp of the Math formula', () => {
    const r = rng(4);
    const special = [0, -0, 1e-30, -1e-30, 0.8813735870195430, -0.8813735870195430, 17, -17, 40, -40, 103, -103, 745, -745, Infinity, -Infinity, NaN];
    const values = Float32Array.from([...special, ...Array.from({ length: 4000 }, (_, i) => (i % 2 ? 3 : 120) * (2 * r() - 1))]);
    const x = inp([values.length]);
    const [got] = fuse([Node.make('softplus', [x])], [x])!.run([values]);
    const want = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    values.forEach((v, i) => expect(within1ulp(got![i]!, want(v)), `softplus(${v}): ${got![i]} vs ${want(v)}`).toBe(true));
  });
});

describe('fused leaves and layout', () => {
  it('const (float, int, bool), param scalar and vector, tensor literal, size', () => {
    const x = inp([2, 3]);
    const roots = [
      b.add(x, b.constant(2.5)),
      b.add(b.cast(x, 'int32'), b.constant(3, 'int32')),
      b.where(b.constant(1, 'bool'), x, b.constant(0)),
      b.mul(x, b.param('scale', 0.25)),
      b.mul(x, b.param('weights', [1, 2, 3])),
      b.add(x, b.tensorConst([1, 2, 3, 4, 5, 6], [2, 3])),
      b.div(x, b.size(x, [1])),
      b.div(x, b.size(x, null)),
    ];
    check(roots, [x]);
  });

  it('literal roots and input roots (copies), a root given twice', () => {
    const x = inp([2, 3]);
    const c = b.constant(4);
    const t = b.tensorConst([1, 2, 3], [3]);
    const k = check([x, c, t, x, b.exp(x)], [x]);
    const outs = k.run([Float32Array.from([1, 2, 3, 4, 5, 6])]);
    expect(outs[0]).not.toBe(outs[3]); // separate arrays
    expect(Array.from(outs[3]!)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('indices, and one_hot (depth and reference forms)', () => {
    const x = inp([3, 4]);
    const labels = inp([3], 'int32');
    const idx = Node.make('indices', [x], { axis: 1 });
    const roots = [
      b.mul(x, b.asFloat(idx)),
      Node.make('one_hot', [labels], { depth: 4 }),
      Node.make('one_hot', [labels, x], { axis: 1 }),
      b.mul(Node.make('one_hot', [labels], { depth: 4 }), x),
    ];
    check(roots, [x, labels], { data: [Float32Array.from({ length: 12 }, (_, i) => i - 5), Int32Array.from([0, 3, 7])] });
  });

  it('broadcast_like, expand_dims, squeeze', () => {
    const x = inp([3]);
    const y = inp([2, 3]);
    const z = inp([3, 1]);
    const roots = [
      b.broadcastLike(x, y),
      b.mul(b.expandDims(x, 0), y),
      b.expandDims(x, 1),
      b.add(b.squeeze(z, 1), x),
      b.squeeze(b.expandDims(b.exp(x), 0), 0),
    ];
    check(roots, [x, y, z]);
  });

  it('part along each axis, of a computed tensor', () => {
    const x = inp([4, 6]);
    const e = b.exp(x);
    const roots = [0, 1, 2].map((index) => Node.make('part', [e], { axis: 1, parts: 3, index }));
    roots.push(Node.make('part', [x], { axis: 0, parts: 2, index: 1 }));
    roots.push(b.sub(Node.make('part', [x], { axis: 1, parts: 2, index: 0 }), Node.make('part', [x], { axis: 1, parts: 2, index: 1 })));
    check(roots, [x]);
  });

  it('concat along axes 0 and 1, of computed and literal pieces', () => {
    const x = inp([2, 3]);
    const y = inp([2, 1]);
    const roots = [
      Node.make('concat', [x, b.exp(y), b.neg(x)], { axis: 1 }),
      Node.make('concat', [x, b.tensorConst([7, 8, 9], [1, 3])], { axis: 0 }),
      b.reduce('sum', Node.make('concat', [x, x], { axis: 1 }), [1]),
    ];
    check(roots, [x, y]);
  });

  it('transpose 2-D and 3-D, and reading it inside elementwise math', () => {
    const x = inp([3, 4]);
    const y = inp([2, 3, 4]);
    const sq = inp([4, 4]);
    const roots = [
      Node.make('transpose', [x], { perm: [1, 0] }),
      Node.make('transpose', [y], { perm: [2, 0, 1] }),
      b.add(sq, Node.make('transpose', [sq], { perm: [1, 0] })),
      b.exp(Node.make('transpose', [b.mul(x, x)], { perm: [1, 0] })),
    ];
    check(roots, [x, y, sq]);
  });

  it('matmul 2-D, batched with broadcast batch axes, with a transposed operand', () => {
    const a = inp([3, 4]);
    const c = inp([4, 5]);
    const ba = inp([2, 3, 4]);
    const bb = inp([4, 2]);
    const e = inp([5, 4]);
    const roots = [
      Node.make('matmul', [a, c]),
      Node.make('matmul', [ba, bb]),
      Node.make('matmul', [a, Node.make('transpose', [e], { perm: [1, 0] })]),
      Node.make('matmul', [b.exp(a), b.mul(c, c)]),
      b.reduce('sum', b.mul(Node.make('matmul', [a, c]), b.constant(2)), [1]),
    ];
    check(roots, [a, c, ba, bb, e]);
  });
});

describe('fused reductions', () => {
  const ops = ['sum', 'mean', 'max', 'min', 'logsumexp'] as const;
  const axesCases: Array<[number[], number[] | null]> = [
    [[3, 5], [1]],
    [[3, 5], [0]],
    [[3, 5], null],
    [[3, 5], []],
    [[2, 3, 4], [1, 2]],
    [[2, 3, 4], [0, 2]],
    [[2, 3, 4], [1]],
    [[2, 1, 4], [1]],
    [[5], [0]],
  ];
  for (const op of ops) {
    for (const [shape, axes] of axesCases) {
      for (const keep of [false, true]) {
        it(`${op} over ${JSON.stringify(axes)} of ${JSON.stringify(shape)}${keep ? ' keepdims' : ''}`, () => {
          const x = inp(shape);
          // Reduce an expression, so the producer is fused into the accumulation.
          check([b.reduce(op, b.mul(x, b.constant(1.5)), axes, keep)], [x], { rtol: 2e-6 });
        });
      }
    }
  }

  it('logsumexp with -inf rows, +inf and NaN entries', () => {
    const x = inp([4, 3]);
    const data = [Float32Array.from([-Infinity, -Infinity, -Infinity, 1, -Infinity, 2, Infinity, 0, 1, NaN, 0, 1])];
    check([b.reduce('logsumexp', x, [1]), b.reduce('max', x, [1]), b.reduce('min', x, [1]), b.reduce('sum', x, [1])], [x], { data });
  });

  it('max and min of bools and ints', () => {
    const p = inp([3, 4], 'bool');
    const i = inp([3, 4], 'int32');
    check([b.reduce('max', p, [1]), b.reduce('min', p, [0]), b.reduce('max', i, null), b.reduce('min', i, [1], true)], [p, i]);
  });

  it('softmax: a row reduction and its elementwise user share the row loop (later pass)', () => {
    const x = inp([6, 7]);
    const lse = b.reduce('logsumexp', x, [1], true);
    const sm = b.exp(b.sub(x, lse));
    const k = check([sm, b.reduce('sum', b.mul(sm, x), [1])], [x], { sample: U(-20, 20) });
    expect(k.nests).toBe(1);
    // one exp per element: the logsumexp pass keeps its exponentials for the softmax pass
    expect(k.source).toMatch(/w0\[v1\] \/ s\d+/);
  });

  it('softmax from the kept exponentials: rows of -inf, +inf, NaN, and a reduction over two axes', () => {
    const x = inp([5, 3]);
    const sm = b.exp(b.sub(x, b.reduce('logsumexp', x, [1], true)));
    const data = [Float32Array.from([-Infinity, -Infinity, -Infinity, 1, -Infinity, 2, Infinity, 0, 1, NaN, 0, 1, 300, -300, 0])];
    check([sm], [x], { data });
    const y = inp([2, 3, 4]);
    const sm2 = b.exp(b.sub(y, b.reduce('logsumexp', y, [1, 2], true)));
    const k = check([sm2, b.reduce('sum', sm2, [2])], [y], { sample: U(-5, 5) });
    // The kept exponentials: one row of 3 * 4 from the call's pool (float64: a row is small).
    expect(k.scratchAt([[2, 3, 4]])).toContainEqual({ kind: 'f64', size: 12 });
  });

  it('independent reductions and elementwise roots of one index space: one pass', () => {
    const x = inp([5, 8]);
    const y = inp([5, 8]);
    const d = b.sub(x, y);
    const k = check([b.reduce('mean', b.mul(d, d), [1]), b.reduce('max', b.abs(d), [1]), b.mul(d, b.constant(2))], [x, y]);
    expect(k.nests).toBe(1);
    expect(k.source).toContain('1 pass(es)');
  });

  it('a reduction read at another position (transposed) goes through its buffer', () => {
    const x = inp([4, 4]);
    const s = b.reduce('sum', x, [1], true); // [4, 1]
    const t = Node.make('transpose', [s], { perm: [1, 0] }); // [1, 4]
    check([b.sub(x, t), b.sub(x, s)], [x]);
  });

  it('reductions of reductions, and of broadcast and shared expensive values', () => {
    const x = inp([3, 4, 5]);
    const e = b.exp(x);
    const s1 = b.reduce('sum', e, [2]);
    const s2 = b.reduce('max', s1, [1], true);
    const r = b.div(b.reduce('sum', e, [2]), s2);
    const w = inp([5]);
    const lw = b.log(b.add(b.exp(w), b.constant(1))); // broadcast, non-trivial
    check([r, b.reduce('mean', b.mul(e, lw), [0, 1]), b.mul(e, lw)], [x, w]);
  });

  it('scalar-valued graphs (no loops at all)', () => {
    const x = inp([]);
    const y = inp([1, 1]);
    check([b.exp(x), b.reduce('sum', y, null), b.add(x, b.reduce('mean', y, [0], true))], [x, y]);
  });
});

describe('fused code shape', () => {
  it('an expensive value read by two targets of one loop is computed once, never stored', () => {
    const x = inp([64, 32]);
    const e = b.exp(b.mul(x, b.constant(0.5)));
    const k = check([b.reduce('sum', e, [1]), b.mul(e, b.constant(2)), b.reduce('max', e, [1], true)], [x]);
    expect(k.nests).toBe(1);
    // one exp (a table lookup of 2^k) per copy of the element's code: the inner loop unrolled by 2, and its remainder
    expect(k.source.match(/P2\[\(/g)).toHaveLength(3);
    expect(k.source).not.toMatch(/const b\d+ = new Float64Array/); // no intermediate buffer
  });

  it('contiguous axes are merged into one loop; broadcast reads are hoisted', () => {
    const x = inp([4, 5, 6]);
    const y = inp([4, 5, 6]);
    const w = inp([4, 1, 1]);
    const k = check([b.mul(b.sub(x, y), b.exp(w))], [x, y, w]);
    expect(k.source).toContain('v0 < 4');
    expect(k.source).toContain('v1 < 30');
    // exp(w) depends on the outer loop only: computed 4 times, outside the inner loop.
    const lines = k.source.split('\n');
    const expLine = lines.findIndex((l) => l.includes('Math.exp'));
    const inner = lines.findIndex((l) => l.includes('v1 < 30'));
    expect(expLine).toBeLessThan(inner);
  });

  it('value numbering: b*a, -(a*b), a*(-b) and 1-x vs -(x-1) are built once (exact identities)', () => {
    const x = inp([3, 4]);
    const y = inp([3, 4]);
    const mk = (op: string, ...args: Node[]) => Node.make(op as never, args);
    const one = b.constant(1);
    const xy = mk('mul', x, y);
    const roots = [xy, mk('mul', y, x), mk('neg', xy), mk('mul', x, mk('neg', y)), mk('mul', mk('neg', y), x), mk('sub', one, x), mk('neg', mk('sub', x, one)), mk('mul', mk('sub', one, x), y)];
    const k = check(roots, [x, y]);
    // One product x*y; (1 - x) * y is -((x - 1) * y) only if that was built, so it is a product too.
    const products = k.source.split('\n').filter((l) => /const t\d+ = \S+ \* \S+;/.test(l));
    expect(products).toHaveLength(2);
    expect(k.source.match(/ = -t\d+;/g)!.length).toBeLessThanOrEqual(3);
  });

  it('sigmoid and softplus of ±z share one exp and one log1p, with the helpers\' values at ±inf, ±0, NaN', () => {
    const x = inp([10]);
    const y = inp([10]);
    const z = Node.make('mul', [x, y]);
    const mz = Node.make('mul', [y, Node.make('neg', [x])]); // -z written another way
    const roots = ['sigmoid', 'softplus'].flatMap((op) => [Node.make(op as never, [z]), Node.make(op as never, [mz]), Node.make(op as never, [Node.make('neg', [z])])]);
    const data = [Float32Array.from([0, -0, Infinity, -Infinity, NaN, 1e-30, -3, 40, -100, 0.5]), Float32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, -1])];
    const k = check(roots, [x, y], { data, rtol: 1e-6, atol: 1e-44 });
    expect(k.source.match(/P2\[\(/g)).toHaveLength(1); // one exp
    expect(k.source.match(/\? 0\.6931471805599453 : 0/g)).toHaveLength(1); // one log1p
    check(roots, [x, y], { sample: U(-30, 30), rtol: 1e-6, atol: 1e-44 });
  });

  it('small whole powers are products, not Math.pow', () => {
    const x = inp([3, 4]);
    const roots = [3, 4, 8, -2, -3].map((e) => b.pow(x, b.constant(e)));
    const k = check(roots, [x], { sample: (r) => (r() < 0.5 ? -1 : 1) * (0.2 + 2 * r()), rtol: 1e-6 });
    expect(k.source).not.toContain('Math.pow');
    expect(check([b.pow(x, b.constant(9))], [x], { sample: U(0.5, 1.5) }).source).toContain('Math.pow');
  });

  it('concat pieces of one shape share one loop and are written in place (no piece buffers)', () => {
    const x = inp([16, 4]);
    const y = inp([16, 4]);
    const d = b.sub(x, y);
    const roots = [Node.make('concat', [b.mul(d, d), b.neg(b.mul(d, b.exp(y))), b.add(x, b.constant(1))], { axis: 1 })];
    const k = check(roots, [x, y]);
    expect(k.nests).toBe(1);
    expect(k.source).not.toMatch(/const b\d+ = new Float64Array/);
    // no local is computed that nothing reads
    const defined = [...k.source.matchAll(/const (t\d+) = /g)].map((m) => m[1]!);
    for (const t of defined) expect(k.source.split(new RegExp(`\\b${t}\\b`)).length - 1, `${t} is read`).toBeGreaterThan(1);
  });

  it('deep chains (no recursion on depth)', () => {
    const x = inp([3, 4]);
    let y = x;
    for (let i = 0; i < 3000; i++) y = b.add(b.mul(y, b.constant(0.999)), b.constant(i % 5));
    check([y, b.reduce('sum', y, [1])], [x], { rtol: 1e-5 });
  });
});

describe('fused random elementwise graphs (property)', () => {
  const unaryOps = ['neg', 'exp', 'tanh', 'cosh', 'sinh', 'cos', 'sin', 'abs', 'sigmoid', 'softplus', 'sign', 'floor'] as const;
  const binaryOps = ['add', 'sub', 'mul', 'maximum', 'minimum'] as const;
  const recipe = fc.oneof(
    fc.record({ kind: fc.constant('u' as const), op: fc.nat(unaryOps.length - 1), a: fc.nat() }),
    fc.record({ kind: fc.constant('b' as const), op: fc.nat(binaryOps.length - 1), a: fc.nat(), c: fc.nat() }),
    fc.record({ kind: fc.constant('r' as const), op: fc.nat(4), a: fc.nat(), axis: fc.nat(1), keep: fc.boolean() }),
    fc.record({ kind: fc.constant('w' as const), a: fc.nat(), c: fc.nat(), d: fc.nat() }),
  );

  it('random DAGs over broadcast shapes agree with the reference', () => {
    fc.assert(
      fc.property(fc.array(recipe, { minLength: 1, maxLength: 14 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), (steps, n, m) => {
        const x = inp([n, m]);
        const y = inp([m]);
        const z = inp([n, 1]);
        const pool: Node[] = [x, y, z];
        const ops = ['sum', 'mean', 'max', 'min', 'logsumexp'] as const;
        for (const s of steps) {
          const pick = (i: number) => pool[i % pool.length]!;
          try {
            if (s.kind === 'u') pool.push(Node.make(unaryOps[s.op]!, [pick(s.a)]));
            else if (s.kind === 'b') pool.push(Node.make(binaryOps[s.op]!, [pick(s.a), pick(s.c)]));
            else if (s.kind === 'w') pool.push(b.where(b.compare('gt', pick(s.a), pick(s.c)), pick(s.c), pick(s.d)));
            else {
              const a = pick(s.a);
              if (a.rank > 0) pool.push(b.reduce(ops[s.op]!, a, [s.axis % a.rank], s.keep));
            }
          } catch {
            // shapes that do not broadcast: skip the step
          }
        }
        const roots = pool.slice(3).slice(-4);
        if (roots.length === 0) return;
        check(roots, [x, y, z], { sample: U(-3, 3), rtol: 1e-5, atol: 1e-5 });
      }),
      { numRuns: 150, seed: 42 },
    );
  });
});

// ---- every stdlib loss ------------------------------------------------------------------------

const lib = Library.stdlib();
const lossNames = lib.names().filter((n) => lib.get(n)!.def.kind === 'loss');



interface LossGraph {
  roots: Node[];
  inputs: Node[];
  data: Array<Float32Array | Int32Array>;
}

/** As compiled.ts builds it: stabilised value (and mask), gradient wrt y_pred, simplified. */
function lossGraph(name: string, options: Record<string, unknown>, yTrue: unknown, yPred: unknown, seedInput: boolean): LossGraph {
  const def = lib.get(name)!.def;
  const [pt, pp] = def.params as unknown as [{ name: string }, { name: string }];
  const sig = bindSignature(def, { [pt.name]: { shape: shapeOf(yTrue) }, [pp.name]: { shape: shapeOf(yPred) } });
  const lowered = new Lowerer(lib, false).lowerTop(def, options as Record<string, Static>, sig);
  const stable = rewrite(lowered.mask ? [lowered.value, lowered.mask] : [lowered.value], STABILIZE_RULES);
  const value = stable[0]!;
  const seed = seedInput ? b.input('__dy', value.shape) : undefined;
  const grads = rewrite(grad(value, [lowered.inputs[1]!], seed), ALL_RULES);
  const inputs = seed ? [...lowered.inputs, seed] : lowered.inputs;
  const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
  const data = [lowered.inputs[0]!, lowered.inputs[1]!].map((n, i) => {
    const values = flat(i === 0 ? yTrue : yPred);
    return n.dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values, Math.trunc);
  });
  if (seed) data.push(Float32Array.from({ length: sizeOf(seed.shape as number[]) }, (_, i) => 0.5 + (i % 3)));
  return { roots: [...stable, ...grads], inputs, data };
}

describe('every stdlib loss: value and gradient, fused vs reference and vs the tfjs plan', () => {
  it('every stdlib loss has inputs to test with', () => {
    const missing = lossNames.filter((n) => !LOSS_INPUTS[n] && !LOSS_INPUTS[baseName(lib, n)]);
    expect(missing).toEqual([]);
  });

  const cases: Array<[string, Record<string, unknown>, boolean]> = [];
  for (const name of lossNames) {
    const entry = LOSS_INPUTS[name] ?? LOSS_INPUTS[baseName(lib, name)];
    if (!entry) continue;
    for (const o of entry.options) cases.push([name, o, false]);
    for (const o of logitOptions(LOSS_INPUTS[name] ? name : baseName(lib, name))) cases.push([name, o, true]);
  }

  for (const [name, options, logits] of cases) {
    it(`${name} ${JSON.stringify(options)}`, () => {
      const entry = LOSS_INPUTS[name] ?? LOSS_INPUTS[baseName(lib, name)]!;
      const { yTrue, yPred } = (logits ? entry.gen2! : entry.gen)(seeded(name.length * 31 + JSON.stringify(options).length));
      // As generated, and with the batch tiled 5 times (longer loops; per-batch losses see more rows).
      const tile = <T,>(a: T[]): T[] => [...a, ...a, ...a, ...a, ...a];
      const runs: Array<[unknown, unknown, boolean]> = [
        [yTrue, yPred, false],
        [yTrue, yPred, true],
        [tile(yTrue as unknown[]), tile(yPred as unknown[]), true],
      ];
      for (const [yt, yp, seedInput] of runs) {
        const { roots, inputs, data } = lossGraph(name, options, yt, yp, seedInput);
        const k = fuse(roots, inputs);
        const bound: Record<string, NdArray> = {};
        inputs.forEach((n, i) => (bound[n.attrs.name as string] = fromData(n.shape as number[], data[i]!, n.dtype)));
        const want = evaluate(roots, bound);
        // Primitives the fused target does not know (ctc, ctc_grad): it refuses the graph, which
        // then runs on the tfjs plan, checked against the reference below.
        const unknown = topoSort(roots).find((n) => !supported(n));
        let outs: Float32Array[];
        if (unknown) {
          expect(k, `${name}: the fused target should refuse \`${unknown.op}\``).toBeNull();
          expect(lastFuseRefusal()).toBe(`unsupported op ${unknown.op}`);
          outs = want.map((w) => Float32Array.from(w.data));
        } else {
          expect(k, `${name}: fused target refused the graph: ${lastFuseRefusal()}`).not.toBeNull();
          outs = k!.run(data);
          roots.forEach((_, i) => {
            expect(k!.shapes[i]).toEqual(want[i]!.shape);
            expectClose(outs[i]!, want[i]!, 1e-5, 1e-6, `${name} root ${i}`);
          });
          // Written into given arrays (the wasm heap's memory is not zeroed): every element set.
          const given = outs.map((o) => new Float32Array(o.length).fill(NaN));
          const into = k!.run(data, given);
          into.forEach((o, i) => {
            expect(o).toBe(given[i]);
            expect(Array.from(o)).toEqual(Array.from(outs[i]!));
          });
        }
        // The op-by-op tfjs plan (float32 throughout) agrees to float32 tolerance where finite.
        const tfOuts = tf.tidy(() => {
          const xs = inputs.map((n, i) => tf.tensor(Array.from(data[i]!), n.shape as number[], n.dtype === 'float32' ? 'float32' : n.dtype === 'int32' ? 'int32' : 'bool'));
          return new Plan(roots, inputs).run(xs).map((t) => Array.from(t.dataSync()));
        });
        tfOuts.forEach((t, i) => {
          for (let j = 0; j < t.length; j++) {
            if (!Number.isFinite(t[j]!)) continue;
            expect(close(outs[i]![j]!, t[j]!, 1e-3, 1e-4), `${name} root ${i}[${j}]: fused ${outs[i]![j]} vs tfjs ${t[j]}`).toBe(true);
          }
        });
      }
    });
  }

  it('larger batches of the common losses (long loops, merged axes)', () => {
    const r = rng(3);
    const rows = (n: number, c: number, f: () => number) => Array.from({ length: n }, () => Array.from({ length: c }, f));
    const big: Array<[string, Record<string, unknown>, unknown, unknown]> = [
      ['mean_squared_error', {}, rows(37, 11, () => r() * 4 - 2), rows(37, 11, () => r() * 4 - 2)],
      ['binary_crossentropy', {}, rows(37, 11, () => (r() < 0.5 ? 0 : 1)), rows(37, 11, () => 0.05 + 0.9 * r())],
      ['categorical_crossentropy', { from_logits: true }, rows(37, 11, () => 0).map((row) => row.map((_, j) => (j === 3 ? 1 : 0))), rows(37, 11, () => r() * 6 - 3)],
      ['sparse_categorical_crossentropy', { from_logits: true }, Array.from({ length: 37 }, () => Math.floor(r() * 11)), rows(37, 11, () => r() * 6 - 3)],
    ];
    for (const [name, options, yt, yp] of big) {
      const { roots, inputs, data } = lossGraph(name, options, yt, yp, true);
      check(roots, inputs, { data });
    }
  });
});

// ---- refusals and safety ----------------------------------------------------------------------

describe('fused target: refusals and the safety of generated code', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    resetFusedCodegenProbe();
  });

  it('returns null for a graph with an op it does not know', () => {
    const x = inp([3]);
    // A node of an op newer than the fused target (built by hand: Node.make would reject it).
    const alien = { ...b.exp(x), id: -1, op: 'fft', args: [x], attrs: {}, key: 'fft|{}|x' } as unknown as Node;
    expect(fuse([b.add(x, x), alien], [x])).toBeNull();
  });

  it('returns null for symbolic shapes', () => {
    const x = b.input('xs', ['N', 3]);
    expect(fuse([b.exp(x)], [x])).toBeNull();
  });

  it('rejects a missing input as a usage error, and wrong-sized data as a value error', () => {
    const x = inp([2]);
    const y = inp([2]);
    expect(() => fuse([b.add(x, y)], [x])).toThrow(/was not given/);
    const k = fuse([b.add(x, y)], [x, y])!;
    expect(() => k.run([new Float32Array(2)])).toThrow(/takes 2 input/);
    expect(() => k.run([new Float32Array(2), new Float32Array(3)])).toThrow(/shape \[2\]/);
    expect(() => k.run([new Float32Array(2), new Float32Array(2)], [new Float32Array(3)])).toThrow(/output 0 should hold 2 values, got 3/);
  });

  it('hands each root its own array: the one given for it, else the computed one, no copy for a single root', () => {
    const x = inp([3]);
    const y = b.exp(x);
    const k = fuse([y, y, b.neg(x)], [x])!;
    const data = [Float32Array.from([0, 1, -1])];
    const plain = k.run(data);
    expect(plain[0]).not.toBe(plain[1]); // a root given twice: two arrays with the same values
    expect(Array.from(plain[1]!)).toEqual(Array.from(plain[0]!));
    const out = new Float32Array(3);
    const into = k.run(data, [undefined, out]);
    expect(into[1]).toBe(out);
    expect(into[0]).not.toBe(out);
    expect(Array.from(into[0]!)).toEqual(Array.from(out));
  });

  it('never writes attribute strings into the source: names, and values, stay out', () => {
    const x = b.input('alert(1)//', [2, 3]);
    const roots = [
      b.mul(x, b.param('alert(2)', 0.5)),
      b.add(x, b.param("'); alert(3); ('", [1, 2, 3])),
      b.add(x, b.tensorConst([101.25, 202.5, 303.75, 404.125, 505.5, 606.75], [2, 3])),
    ];
    const k = check(roots, [x]);
    expect(k.source).not.toMatch(/alert/);
    // Tensor literals are passed as data, not spelled out.
    expect(k.source).not.toContain('404.125');
    // Every identifier in the source is one the compiler makes up.
    const code = k.source.replace(/\/\/[^\n]*/g, '');
    const idents = new Set(code.match(/[A-Za-z_$][\w$]*/g));
    const allowed = /^([xrbtokvajs]\d+|K|Math|exp|log|log1p|expm1|sqrt|abs|tanh|cosh|sinh|cos|sin|floor|trunc|fround|max|min|pow|sign|sigmoid|softplus|Infinity|NaN|e|const|let|for|return|function|fused|new|Float32Array|Float64Array|Uint8Array|use|strict|if|outs|[we]\d+|P2|k|N|T|[nz]\d+)$/;
    expect([...idents].filter((s) => !allowed.test(s))).toEqual([]);
  });

  it('refuses non-number attributes instead of printing them', () => {
    const x = inp([2]);
    const evil = { ...b.constant(1), id: -2, attrs: { value: '1; alert(4)' }, key: 'const|evil' } as unknown as Node;
    expect(fuse([b.add(x, evil)], [x])).toBeNull();
  });

  it('returns null (and remembers) where new Function is forbidden', () => {
    const x = inp([2]);
    resetFusedCodegenProbe();
    vi.stubGlobal(
      'Function',
      class {
        constructor() {
          throw new EvalError('Refused to evaluate a string as JavaScript (CSP)');
        }
      },
    );
    expect(fusedCodegenAvailable()).toBe(false);
    expect(fuse([b.exp(x)], [x])).toBeNull();
    vi.unstubAllGlobals();
    // Still cached until reset.
    expect(fuse([b.exp(x)], [x])).toBeNull();
    resetFusedCodegenProbe();
    expect(fuse([b.exp(x)], [x])).not.toBeNull();
  });
});

// ---- agreement with hand-written loops (timings: `npm run bench`, bench/fused-kernel.ts) -------

describe('fused kernels against hand-written loops', () => {
  for (const c of KERNEL_CASES) {
    it(`${c.name} value+grad agrees with a hand-written single-pass loop`, () => {
      const [n, classes] = [97, c.name === 'categorical_crossentropy' ? 13 : 5];
      const r = rng(11);
      const { kernel: k } = buildKernel(c, n, classes);
      const yt = Float32Array.from({ length: n * classes }, () => c.yTrue(r));
      const yp = Float32Array.from({ length: n * classes }, () => c.yPred(r));
      const dy = Float32Array.from({ length: n }, () => 0.5 + r());
      const [hv, hg] = HAND[c.name]!(yt, yp, dy, n, classes);
      const [fv, fg] = k.run([yt, yp, dy]);
      for (let i = 0; i < n; i++) expect(close(fv![i]!, hv![i]!, 1e-4, 1e-5), `value[${i}] ${fv![i]} vs ${hv![i]}`).toBe(true);
      for (let i = 0; i < n * classes; i++) expect(close(fg![i]!, hg![i]!, 1e-4, 1e-5), `grad[${i}] ${fg![i]} vs ${hg![i]}`).toBe(true);
    });
  }
});
