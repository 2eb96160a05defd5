// Every derivative rule (every op of OPS but the leaves: the VJP table in src/autodiff/rules.ts,
// and `part`, which grad.ts handles itself) against central finite differences of the float64 reference evaluator,
// on seeded random inputs and shapes away from kinks; gradients with respect to several inputs;
// and second derivatives (grad of grad, a Hessian-vector product).

import { describe, expect, it } from 'vitest';
import * as b from '../src/ir/build.js';
import { Node, topoSort } from '../src/ir/node.js';
import { OP_NAMES, OPS } from '../src/ir/ops.js';
import { grad } from '../src/autodiff/grad.js';
import { evaluate } from '../src/eval/reference.js';
import { fromData, type NdArray } from '../src/eval/ndarray.js';
import { LosscError } from '../src/errors.js';
import {
  awayFromZero,
  checkGrad,
  expectAllClose,
  numericGrad,
  randArray,
  randLabels,
  rng,
  uniform,
  type Sampler,
} from './helpers/numeric.js';

const { constant: c } = b;

/** A test case: a float output built from inputs, and which inputs to differentiate against. */
interface Case {
  out: Node;
  wrt: Node[];
  inputs: Record<string, NdArray>;
  /** The formula to take finite differences of, when not `out` itself. */
  fd?: Node;
}

type Shape = number[];
type Make = (r: () => number, shape: Shape) => Case;

let fresh = 0;
/** A float input with random values; unique names keep cases from sharing nodes by accident. */
function inp(r: () => number, shape: Shape, sample: Sampler = uniform(-2, 2), store?: Record<string, NdArray>, name?: string): Node {
  const n = name ?? `x${++fresh}`;
  const node = b.input(n, shape);
  if (store) store[n] = randArray(shape, r, sample);
  return node;
}

/** One input, an elementwise function of it, weighted so the adjoint is not all ones. */
function unaryCase(f: (x: Node) => Node, sample: Sampler): Make {
  return (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const x = inp(r, shape, sample, inputs);
    const w = inp(r, shape, uniform(0.5, 1.5), inputs);
    return { out: b.mul(f(x), w), wrt: [x], inputs };
  };
}

/** Two inputs, the second of a broadcast shape (its leading axes dropped, its last axis 1). */
function binaryCase(f: (x: Node, y: Node) => Node, sx: Sampler, sy: Sampler): Make {
  return (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const x = inp(r, shape, sx, inputs);
    const yShape = shape.length > 1 ? [...shape.slice(1, -1), 1] : [1];
    const y = inp(r, yShape, sy, inputs);
    const w = inp(r, shape, uniform(0.5, 1.5), inputs);
    return { out: b.mul(f(x, y), w), wrt: [x, y], inputs };
  };
}

/** A reduction-like op of one input, weighted elementwise after. */
function reduceCase(f: (x: Node) => Node, sample: Sampler = uniform(-2, 2)): Make {
  return (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const x = inp(r, shape, sample, inputs);
    const y = f(x);
    const w = inp(r, y.shape as Shape, uniform(0.5, 1.5), inputs);
    return { out: b.mul(y, w), wrt: [x], inputs };
  };
}

/** Distinct values (so max/min have no ties), in random order. */
const distinct: Sampler = (() => {
  let k = 0;
  return (r) => (++k % 97) * 0.05 - 2.4 + r() * 0.01;
})();

/** Values well away from the integers (floor), or from each other (comparisons). */
const offGrid: Sampler = (r) => Math.floor(r() * 6 - 3) + 0.2 + 0.6 * r();

const CASES: Record<string, Make> = {
  neg: unaryCase(b.neg, uniform(-2, 2)),
  exp: unaryCase(b.exp, uniform(-2, 2)),
  log: unaryCase(b.log, uniform(0.2, 3)),
  log1p: unaryCase((x) => b.unary('log1p', x), uniform(-0.8, 3)),
  expm1: unaryCase((x) => b.unary('expm1', x), uniform(-2, 2)),
  sqrt: unaryCase(b.sqrt, uniform(0.2, 3)),
  abs: unaryCase(b.abs, awayFromZero(0.1, 2)),
  sign: unaryCase(b.sign, awayFromZero(0.1, 2)),
  sigmoid: unaryCase(b.sigmoid, uniform(-4, 4)),
  softplus: unaryCase(b.softplus, uniform(-4, 4)),
  tanh: unaryCase(b.tanh, uniform(-2, 2)),
  cosh: unaryCase((x) => b.unary('cosh', x), uniform(-2, 2)),
  sinh: unaryCase((x) => b.unary('sinh', x), uniform(-2, 2)),
  cos: unaryCase((x) => b.unary('cos', x), uniform(-4, 4)),
  sin: unaryCase((x) => b.unary('sin', x), uniform(-4, 4)),
  floor: unaryCase((x) => b.unary('floor', x), offGrid),
  // The derivative stops at stop_gradient (finite differences would see through it): a second
  // input, read only inside stop_gradient, has a zero derivative; the first passes through.
  // The derivative stops at stop_gradient, where finite differences would see through it: they
  // are taken of the same formula with the stopped part replaced by an input holding its value.
  stop_gradient: (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const x = inp(r, shape, uniform(-2, 2), inputs);
    const w = inp(r, shape, uniform(0.5, 1.5), inputs);
    const stopped = b.mul(b.exp(x), x);
    const held = b.input(`held${++fresh}`, shape);
    inputs[held.attrs.name as string] = evaluate([stopped], inputs)[0]!;
    const f = (s: Node) => b.mul(b.add(b.mul(x, x), s), w);
    return { out: f(Node.make('stop_gradient', [stopped])), wrt: [x], inputs, fd: f(held) };
  },
  // float → int → float (zero derivative) plus float → float (identity: the cast disappears).
  cast: unaryCase((x) => b.add(b.cast(b.cast(x, 'int32'), 'float32'), b.mul(x, b.cast(b.compare('gt', x, c(0)), 'float32'))), offGrid),
  not: unaryCase((x) => b.mul(x, b.cast(Node.make('not', [b.compare('gt', x, c(0))]), 'float32')), offGrid),

  add: binaryCase(b.add, uniform(-2, 2), uniform(-2, 2)),
  sub: binaryCase(b.sub, uniform(-2, 2), uniform(-2, 2)),
  mul: binaryCase(b.mul, uniform(-2, 2), uniform(-2, 2)),
  div: binaryCase(b.div, uniform(-2, 2), awayFromZero(0.5, 2)),
  pow: binaryCase(b.pow, uniform(0.3, 2), uniform(-1.5, 2.5)),
  // A constant exponent (the rule skips log(x) for it): negative bases are fine then.
  'pow (constant exponent)': unaryCase((x) => b.add(b.pow(x, c(3)), b.pow(b.abs(x), c(-0.5))), awayFromZero(0.3, 2)),
  maximum: binaryCase(b.maximum, offGrid, (r) => Math.floor(r() * 6 - 3)),
  minimum: binaryCase(b.minimum, offGrid, (r) => Math.floor(r() * 6 - 3)),
  ...Object.fromEntries(
    (['lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const).map((op) => [
      op,
      binaryCase((x, y) => b.where(b.compare(op, x, y), b.mul(x, y), b.sub(x, b.mul(y, y))), offGrid, (r) => Math.floor(r() * 6 - 3)),
    ]),
  ),
  ...Object.fromEntries(
    (['and', 'or'] as const).map((op) => [
      op,
      binaryCase(
        (x, y) => b.where(Node.make(op, [b.compare('gt', x, c(0)), b.compare('lt', y, c(0.5))]), b.exp(x), b.mul(x, y)),
        offGrid,
        (r) => Math.floor(r() * 6 - 3),
      ),
    ]),
  ),

  where: binaryCase((x, y) => b.where(b.compare('gt', x, y), b.exp(x), b.mul(x, y)), offGrid, (r) => Math.floor(r() * 6 - 3)),
  'where (branches smaller than the condition)': (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const x = inp(r, shape, offGrid, inputs);
    const a = inp(r, [shape[shape.length - 1]!], uniform(-2, 2), inputs);
    const s = inp(r, [], uniform(-2, 2), inputs);
    const w = inp(r, shape, uniform(0.5, 1.5), inputs);
    return { out: b.mul(b.where(b.compare('gt', x, c(0)), b.exp(a), b.mul(s, s)), w), wrt: [x, a, s], inputs };
  },
  clip: (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const x = inp(r, shape, offGrid, inputs);
    const lo = inp(r, [shape[shape.length - 1]!], (q) => -1.5 + 0.1 * q(), inputs);
    const hi = inp(r, [], (q) => 1.5 + 0.1 * q(), inputs);
    const w = inp(r, shape, uniform(0.5, 1.5), inputs);
    return { out: b.mul(b.clip(x, lo, hi), w), wrt: [x, lo, hi], inputs };
  },

  sum: reduceCase((x) => b.reduce('sum', x, [-1])),
  'sum (all axes, keepdims)': reduceCase((x) => b.reduce('sum', x, null, true)),
  mean: reduceCase((x) => b.reduce('mean', x, [0])),
  'mean (keepdims)': reduceCase((x) => b.reduce('mean', x, [-1], true)),
  max: reduceCase((x) => b.reduce('max', x, [-1]), distinct),
  'max (all axes)': reduceCase((x) => b.reduce('max', x, null), distinct),
  min: reduceCase((x) => b.reduce('min', x, [0], true), distinct),
  logsumexp: reduceCase((x) => b.reduce('logsumexp', x, [-1])),
  'logsumexp (keepdims, all axes)': reduceCase((x) => b.reduce('logsumexp', x, null, true), uniform(-30, 30)),
  // size and indices have no derivative; they scale or index a differentiable value.
  size: reduceCase((x) => b.div(x, b.size(x, [-1]))),
  indices: reduceCase((x) => b.mul(x, b.cast(Node.make('indices', [x], { axis: -1 }), 'float32'))),
  broadcast_like: (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const x = inp(r, [shape[shape.length - 1]!], uniform(-2, 2), inputs);
    const like = inp(r, shape, uniform(-2, 2), inputs);
    const w = inp(r, shape, uniform(0.5, 1.5), inputs);
    return { out: b.mul(Node.make('broadcast_like', [x, like]), w), wrt: [x, like], inputs };
  },
  expand_dims: reduceCase((x) => b.expandDims(x, -1)),
  squeeze: reduceCase((x) => b.squeeze(b.reduce('sum', x, [0], true), 0)),
  part: (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const s = [...shape.slice(0, -1), 2 * shape[shape.length - 1]!];
    const x = inp(r, s, uniform(-2, 2), inputs);
    const p0 = Node.make('part', [x], { axis: -1, parts: 2, index: 0 });
    const p1 = Node.make('part', [x], { axis: s.length - 1, parts: 2, index: 1 });
    const w = inp(r, p0.shape as Shape, uniform(0.5, 1.5), inputs);
    return { out: b.add(b.mul(b.mul(p0, p1), w), b.exp(p0)), wrt: [x], inputs };
  },
  'part (one part used, another split too)': (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const s = [...shape.slice(0, -1), 6];
    const x = inp(r, s, uniform(-2, 2), inputs);
    const a = Node.make('part', [x], { axis: -1, parts: 3, index: 2 });
    const h = Node.make('part', [x], { axis: -1, parts: 2, index: 0 });
    return { out: b.add(b.reduce('sum', b.mul(a, a), [-1]), b.reduce('sum', b.exp(h), [-1])), wrt: [x], inputs };
  },
  concat: (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const x = inp(r, shape, uniform(-2, 2), inputs);
    const y = inp(r, shape, uniform(-2, 2), inputs);
    const j = Node.make('concat', [x, b.exp(y), x], { axis: 0 });
    const w = inp(r, j.shape as Shape, uniform(0.5, 1.5), inputs);
    return { out: b.mul(j, w), wrt: [x, y], inputs };
  },
  'concat (parts of different sizes)': (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const x = inp(r, [...shape.slice(0, -1), 2], uniform(-2, 2), inputs);
    const y = inp(r, [...shape.slice(0, -1), 3], uniform(-2, 2), inputs);
    const j = Node.make('concat', [x, y], { axis: -1 });
    const w = inp(r, j.shape as Shape, uniform(0.5, 1.5), inputs);
    return { out: b.mul(b.mul(j, j), w), wrt: [x, y], inputs };
  },
  transpose: (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const x = inp(r, [...shape, 2], uniform(-2, 2), inputs);
    const perm = Array.from({ length: x.rank }, (_, i) => (i + 1) % x.rank);
    const t = Node.make('transpose', [x], { perm });
    const w = inp(r, t.shape as Shape, uniform(0.5, 1.5), inputs);
    return { out: b.mul(t, w), wrt: [x], inputs };
  },
  matmul: (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const m = shape[0]!;
    const k = shape[shape.length - 1]!;
    const x = inp(r, [2, m, k], uniform(-2, 2), inputs);
    const y = inp(r, [k, 3], uniform(-2, 2), inputs); // broadcast over x's batch axis
    const p = Node.make('matmul', [x, y]);
    const w = inp(r, p.shape as Shape, uniform(0.5, 1.5), inputs);
    return { out: b.mul(p, w), wrt: [x, y], inputs };
  },
  'matmul (batched right, transposed left)': (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const k = shape[shape.length - 1]!;
    const x = inp(r, [k, 3], uniform(-2, 2), inputs);
    const y = inp(r, [2, k, 2], uniform(-2, 2), inputs);
    const p = Node.make('matmul', [Node.make('transpose', [x], { perm: [1, 0] }), y]);
    const w = inp(r, p.shape as Shape, uniform(0.5, 1.5), inputs);
    return { out: b.mul(p, w), wrt: [x, y], inputs };
  },
  one_hot: (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const n = shape[0]!;
    const labels = b.input(`l${++fresh}`, [n], 'int32');
    inputs[labels.attrs.name as string] = randLabels([n], 4, r);
    const x = inp(r, [n, 4], uniform(-2, 2), inputs);
    const oh = Node.make('one_hot', [labels, x], { axis: -1 });
    const oh2 = Node.make('one_hot', [labels], { depth: 4 });
    return { out: b.mul(b.mul(oh, x), b.add(oh2, c(1))), wrt: [x], inputs };
  },
  // CTC, a primitive whose derivative is the primitive ctc_grad (forward-backward): labels [B, 3]
  // (a repeat, a plain sequence, a short one with padding), logits [B, 5, 4], rows weighted.
  ctc: (r, shape) => {
    const inputs: Record<string, NdArray> = {};
    const n = shape[0]!;
    const labels = b.input(`l${++fresh}`, [n, 3], 'int32');
    const rows = Array.from({ length: n }, (_, i) => [[1, 1, 0], [2, 3, 1], [3, 0, 0]][i % 3]!);
    inputs[labels.attrs.name as string] = fromData([n, 3], rows.flat(), 'int32');
    const x = inp(r, [n, 5, 4], uniform(-2, 2), inputs);
    const w = inp(r, [n], uniform(0.5, 1.5), inputs);
    return { out: b.mul(Node.make('ctc', [labels, x]), w), wrt: [x], inputs };
  },
};

/** Ops whose rule refuses to differentiate (checked by their own test below, not by differences). */
const REFUSED: readonly string[] = ['ctc_grad'];

/** Which op each case exercises, when its name is not an op. */
const COVERS: Record<string, string> = {
  'pow (constant exponent)': 'pow',
};

const SHAPES: Shape[] = [[3], [2, 3], [3, 4], [2, 2, 3]];

describe('every derivative rule agrees with central differences', () => {
  it('every op (but the leaves, which have no arguments) has a case here', () => {
    const covered = new Set(Object.keys(CASES).map((k) => COVERS[k] ?? k.split(' ')[0]!));
    const missing = OP_NAMES.filter((op) => OPS[op].family !== 'leaf' && !covered.has(op) && !REFUSED.includes(op));
    expect(missing).toEqual([]);
    expect(covered.has('part')).toBe(true);
  });

  for (const [name, make] of Object.entries(CASES)) {
    it(name, () => {
      // Four random shapes and value draws per rule, seeded by the rule's name.
      const seed = [...name].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7);
      for (let k = 0; k < SHAPES.length; k++) {
        const r = rng(seed + k);
        const shape = SHAPES[(k + seed) % SHAPES.length]!;
        const { out, wrt, inputs, fd } = make(r, shape);
        if (!fd) {
          checkGrad(out, wrt, inputs, 1e-5, `${name} at shape [${shape}]`);
          continue;
        }
        const gs = evaluate(grad(out, wrt), inputs);
        wrt.forEach((w, i) => expectAllClose(gs[i]!.data, numericGrad(fd, w.attrs.name as string, inputs), 1e-5, name));
      }
    });
  }
});

describe('gradients', () => {
  it('with respect to several inputs at once equal each taken alone', () => {
    const r = rng(11);
    const inputs: Record<string, NdArray> = {};
    const x = inp(r, [3, 4], uniform(-2, 2), inputs, 'gx');
    const y = inp(r, [3, 4], uniform(0.5, 2), inputs, 'gy');
    const z = inp(r, [4], uniform(-1, 1), inputs, 'gz');
    const out = b.reduce('mean', b.add(b.mul(b.sigmoid(b.mul(x, z)), b.log(y)), b.div(b.mul(x, x), y)), [-1]);
    const all = checkGrad(out, [x, y, z], inputs, 1e-5, 'three inputs');
    const alone = [x, y, z].map((w) => grad(out, [w])[0]!);
    expect(all).toEqual(alone);
  });

  it('of an input the output does not read is zeros of its shape', () => {
    const x = b.input('gx', [2, 3]);
    const u = b.input('unused', [5]);
    const [gu] = grad(b.reduce('sum', b.exp(x), null), [u]);
    const v = evaluate([gu!], { gx: randArray([2, 3], rng(1)), unused: randArray([5], rng(2)) })[0]!;
    expect(v.shape).toEqual([5]);
    expect([...v.data]).toEqual([0, 0, 0, 0, 0]);
  });

  it('with respect to an intermediate node', () => {
    const r = rng(5);
    const inputs = { gx: randArray([4], r) };
    const x = b.input('gx', [4]);
    const s = b.sigmoid(x);
    const out = b.reduce('sum', b.mul(s, s), null);
    const [gs] = grad(out, [s]);
    const v = evaluate([gs!, s], inputs);
    expectAllClose(v[0]!.data, v[1]!.data.map((q) => 2 * q), 1e-12);
  });

  it('refuses integer and boolean inputs with a clear message', () => {
    const l = b.input('labels', [3], 'int32');
    const m = b.input('mask', [3], 'bool');
    const out = b.reduce('sum', b.cast(l, 'float32'), null);
    for (const [w, word] of [[l, 'integer'], [m, 'boolean']] as const) {
      try {
        grad(out, [w]);
        expect.fail('no error');
      } catch (e) {
        expect(e).toBeInstanceOf(LosscError);
        expect((e as LosscError).kind).toBe('type');
        expect((e as LosscError).message).toContain('cannot differentiate');
        expect((e as LosscError).message).toContain(word);
      }
    }
  });

  it('of x^y with respect to y is 0 where x is 0, as TensorFlow gives (not NaN)', () => {
    const x = b.input('px', [3]);
    const y = b.input('py', [3]);
    const [gx, gy] = grad(b.pow(x, y), [x, y]);
    const v = evaluate([gx!, gy!], { px: fromData([3], [0, 2, 0]), py: fromData([3], [2, 3, 0.5]) });
    expect([...v[0]!.data].slice(0, 2)).toEqual([0, 12]);
    expect([...v[1]!.data]).toEqual([0, 8 * Math.log(2), 0]);
  });

  it('a seed other than 1 scales the adjoint', () => {
    const x = b.input('gx', [3]);
    const out = b.mul(x, x);
    const seed = b.input('seed', [3]);
    const [g] = grad(out, [x], seed);
    const inputs = { gx: fromData([3], [1, 2, 3]), seed: fromData([3], [1, 10, 100]) };
    expect([...evaluate([g!], inputs)[0]!.data]).toEqual([2, 40, 600]);
  });
});

describe('second derivatives', () => {
  /** d/dx of sum(f'(x)), elementwise: f'' by differentiating the printed-free IR twice. */
  const secondCases: Array<[string, (x: Node) => Node, Sampler]> = [
    ['exp', b.exp, uniform(-2, 2)],
    ['log', b.log, uniform(0.3, 3)],
    ['sigmoid', b.sigmoid, uniform(-3, 3)],
    ['softplus', b.softplus, uniform(-3, 3)],
    ['tanh', b.tanh, uniform(-2, 2)],
    ['cosh', (x) => b.unary('cosh', x), uniform(-2, 2)],
    ['cos', (x) => b.unary('cos', x), uniform(-3, 3)],
    ['sqrt', b.sqrt, uniform(0.3, 3)],
    ['pow', (x) => b.pow(x, c(3)), uniform(-2, 2)],
    ['div', (x) => b.div(c(1), x), awayFromZero(0.5, 2)],
    ['where', (x) => b.where(b.compare('gt', x, c(0)), b.mul(x, x), b.exp(x)), awayFromZero(0.2, 2)],
    ['logsumexp', (x) => b.reduce('logsumexp', x, [-1]), uniform(-2, 2)],
  ];
  for (const [name, f, sample] of secondCases) {
    it(`grad of grad: ${name}`, () => {
      const r = rng(name.length * 101);
      const x = b.input('hx', [2, 3]);
      const inputs = { hx: randArray([2, 3], r, sample) };
      const w = b.input('hw', [2, 3]);
      inputs['hw' as 'hx'] = randArray([2, 3], r, uniform(0.5, 1.5));
      // First derivative (weighted so that it is not symmetric), then its derivative.
      const [g1] = grad(f(x), [x]);
      const weighted = b.mul(g1!, w);
      checkGrad(weighted, [x], inputs, 1e-5, `d/dx (w * f'(x)) for ${name}`);
    });
  }

  it('ctc has none: differentiating ctc_grad is a clear type error', () => {
    const labels = b.input('cl', [2, 2], 'int32');
    const x = b.input('cx', [2, 3, 3]);
    const [g] = grad(b.reduce('sum', Node.make('ctc', [labels, x]), null), [x]);
    expect(topoSort([g!]).some((n) => n.op === 'ctc_grad')).toBe(true);
    try {
      grad(b.reduce('sum', b.mul(g!, g!), null), [x]);
      expect.fail('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(LosscError);
      expect((e as LosscError).kind).toBe('type');
      expect((e as LosscError).message).toContain('second derivatives of ctc are not supported');
    }
  });

  it('a Hessian-vector product of a small loss matches differences of the gradient', () => {
    // loss(p) = mean(log(1 + exp(-y * (p @ W))) + 0.1 * p^2): binary logistic loss with a penalty.
    const r = rng(2024);
    const p = b.input('p', [3, 4]);
    const W = b.input('W', [4, 2]);
    const y = b.input('y', [3, 2]);
    const v = b.input('v', [3, 4]);
    const logits = Node.make('matmul', [p, W]);
    const loss = b.add(
      b.reduce('mean', b.softplus(b.neg(b.mul(y, logits))), null),
      b.reduce('sum', b.mul(c(0.1), b.mul(p, p)), null),
    );
    const inputs: Record<string, NdArray> = {
      p: randArray([3, 4], r),
      W: randArray([4, 2], r),
      y: randArray([3, 2], r, awayFromZero(0.5, 1)),
      v: randArray([3, 4], r),
    };
    const [gp] = grad(loss, [p]);
    // Hv = d/dp <grad(loss), v>.
    const [hv] = grad(b.reduce('sum', b.mul(gp!, v), null), [p]);
    const got = evaluate([hv!], inputs)[0]!;
    // Expected: (g(p + h v) - g(p - h v)) / 2h, with the gradient itself checked first.
    checkGrad(loss, [p], inputs, 1e-5, 'gradient of the small loss');
    const h = 1e-5;
    const shifted = (s: number) => {
      const data = inputs.p!.data.map((q, i) => q + s * h * inputs.v!.data[i]!);
      return evaluate([gp!], { ...inputs, p: { ...inputs.p!, data } })[0]!.data;
    };
    const plus = shifted(1);
    const minus = shifted(-1);
    expectAllClose(got.data, plus.map((q, i) => (q - minus[i]!) / (2 * h)), 1e-5, 'Hv');
    // And symmetric: <u, H v> = <v, H u>.
    const u = b.input('u', [3, 4]);
    inputs.u = randArray([3, 4], r);
    const [hu] = grad(b.reduce('sum', b.mul(gp!, u), null), [p]);
    const [uhv, vhu] = evaluate([b.reduce('sum', b.mul(u, hv!), null), b.reduce('sum', b.mul(v, hu!), null)], inputs);
    expect(Math.abs(uhv!.data[0]! - vhu!.data[0]!)).toBeLessThan(1e-9);
  });

  it('the full Hessian of a softmax cross-entropy is diag(s) - s s^T', () => {
    const z = b.input('z', [1, 4]);
    const t = b.input('t', [1, 4]);
    const ce = b.neg(b.reduce('sum', b.mul(t, b.sub(z, b.reduce('logsumexp', z, [-1], true))), null));
    const [g] = grad(ce, [z]);
    const inputs = { z: fromData([1, 4], [0.3, -1, 2, 0.5]), t: fromData([1, 4], [0, 0, 1, 0]) };
    const zs = [0.3, -1, 2, 0.5];
    const m = Math.max(...zs);
    const e = zs.map((q) => Math.exp(q - m));
    const s = e.map((q) => q / e.reduce((a, bb) => a + bb, 0));
    for (let i = 0; i < 4; i++) {
      const row = b.reduce('sum', b.mul(g!, b.tensorConst([0, 1, 2, 3].map((j) => (j === i ? 1 : 0)), [1, 4])), null);
      const [hrow] = grad(row, [z]);
      const got = evaluate([hrow!], inputs)[0]!.data;
      expectAllClose(got, s.map((sj, j) => (i === j ? s[i]! : 0) - s[i]! * sj), 1e-6, `row ${i}`);
    }
  });

  it('third derivative of exp is exp', () => {
    const x = b.input('tx', [3]);
    let d = b.exp(x);
    for (let k = 0; k < 3; k++) d = grad(d, [x])[0]!;
    const inputs = { tx: fromData([3], [-1, 0, 1.5]) };
    expectAllClose(evaluate([d], inputs)[0]!.data, [-1, 0, 1.5].map(Math.exp), 1e-12);
    expectAllClose(numericGrad(b.exp(x), 'tx', inputs), [-1, 0, 1.5].map(Math.exp), 1e-8);
  });
});
