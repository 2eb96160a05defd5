// The primitive operations of the IR: one table, one entry per op, the one place that says which
// ops exist and what kind each is: how many arguments it takes, its family (elementwise unary,
// binary, comparison, logic, selection, reduction, layout), the operator or builtin the language
// writes it with, whether it commutes, whether it only re-indexes, and what shape and dtype it
// produces. Every op set elsewhere is derived from here (`isElementwise`, `REDUCTIONS`, `VIEWS`,
// `ReduceOp`, `CompareOp`, ...), and every per-op table of another stage is a total
// `Record<OpName, ...>`, so a new op is a list of entries the type checker names one by one
// (docs/ARCHITECTURE.md, "Where to add things"; test/op-tables.test.ts checks them at run time).
// Everything larger (softmax, cross-entropies, every loss) is written in the language from these.

import { LosscError } from '../errors.js';
import { assume, broadcastShapes, divideDim, normAxis, showShape, type DType, type Dim, type Shape } from './shape.js';
import {
  axesCanon,
  axisCanon,
  binaryFloat,
  checkCtcArgs,
  compare,
  ctcBatch,
  ELEMENTWISE_FAMILIES,
  float,
  fn,
  infix,
  joinedParts,
  logic,
  PREC,
  reduceAxes,
  reduction,
  requireDtype,
  requireFloat,
  unaryFloat,
  type Family,
  type InfixOperator,
  type OpSpec,
  type PrefixOperator,
  type Typed,
} from './op-spec.js';

export { PREC, reduceAxes, type Attrs, type Family, type InfixOperator, type OpSpec, type PrefixOperator, type Typed } from './op-spec.js';

export const OPS = {
  // Leaves. `input`: a named tensor argument. `const`: a scalar literal. `tensor`: a literal array.
  // `param`: a numeric option, kept symbolic for printing but carrying its value for evaluation.
  input: {
    arity: 0,
    family: 'leaf',
    infer: (_a, attrs) => ({ shape: attrs.shape as Shape, dtype: attrs.dtype as DType }),
  },
  const: {
    arity: 0,
    family: 'leaf',
    infer: (_a, attrs) => ({ shape: [], dtype: (attrs.dtype as DType | undefined) ?? 'float32' }),
  },
  tensor: {
    arity: 0,
    family: 'leaf',
    infer: (_a, attrs) => ({ shape: attrs.shape as Shape, dtype: 'float32' }),
  },
  param: {
    arity: 0,
    family: 'leaf',
    infer: (_a, attrs) => ({ shape: Array.isArray(attrs.value) ? [attrs.value.length] : [], dtype: 'float32' }),
  },
  /** The size of `x` along `axes` (the product), as a float scalar. */
  size: {
    arity: 1,
    family: 'other',
    builtin: { name: 'size' },
    shapeOnly: [0],
    canon: axesCanon(false),
    infer(args, attrs) {
      reduceAxes(attrs, args[0]!.shape.length);
      return float([]);
    },
  },
  /** 0, 1, ..., n-1 where n is the size of `x` along `axis`, as an int vector. */
  indices: {
    arity: 1,
    family: 'other',
    builtin: { name: 'indices' },
    shapeOnly: [0],
    canon: axisCanon(),
    infer(args, attrs) {
      const x = args[0]!;
      const a = normAxis(attrs.axis as number, x.shape.length);
      return { shape: [x.shape[a]!], dtype: 'int32' };
    },
  },

  // Elementwise, one argument.
  neg: unaryFloat({ prefix: { text: '-', prec: PREC.neg } }),
  exp: fn('exp', 'e to the power x'),
  log: fn('log', 'natural logarithm'),
  log1p: fn('log1p', 'log(1 + x), accurate for small x'),
  expm1: fn('expm1', 'exp(x) - 1, accurate for small x'),
  sqrt: fn('sqrt', 'square root'),
  abs: fn('abs', 'absolute value'),
  sign: fn('sign', '-1, 0 or 1'),
  sigmoid: fn('sigmoid', '1 / (1 + exp(-x))'),
  softplus: fn('softplus', 'log(1 + exp(x)), computed stably'),
  tanh: fn('tanh', 'hyperbolic tangent'),
  cosh: fn('cosh', 'hyperbolic cosine'),
  sinh: fn('sinh', 'hyperbolic sine'),
  cos: fn('cos', 'cosine (x in radians)'),
  sin: fn('sin', 'sine (x in radians)'),
  floor: fn('floor', 'largest integer not above x'),
  not: {
    arity: 1,
    family: 'unary',
    prefix: { text: 'not', prec: PREC.not },
    infer(args) {
      requireDtype('not', args[0]!, 'bool');
      return { shape: args[0]!.shape, dtype: 'bool' };
    },
  },
  /** Change dtype: float→int truncates (as Keras's cast of labels does), bool→float gives 0/1. */
  cast: {
    arity: 1,
    family: 'unary',
    infer: (args, attrs) => ({ shape: args[0]!.shape, dtype: attrs.dtype as DType }),
  },
  /** Identity whose derivative is zero. */
  stop_gradient: {
    arity: 1,
    family: 'unary',
    builtin: { name: 'stop_gradient' },
    view: true,
    infer: (args) => ({ shape: args[0]!.shape, dtype: args[0]!.dtype }),
  },

  // Elementwise, two arguments, NumPy broadcasting.
  add: binaryFloat('+', infix('+', PREC.add, true)),
  sub: binaryFloat('-', infix('-', PREC.add)),
  mul: binaryFloat('*', infix('*', PREC.mul, true)),
  div: binaryFloat('/', infix('/', PREC.mul)),
  pow: binaryFloat('^', infix('^', PREC.pow)),
  maximum: binaryFloat('max', { builtin: { name: 'max' }, commutative: true }),
  minimum: binaryFloat('min', { builtin: { name: 'min' }, commutative: true }),
  lt: compare('<'),
  le: compare('<='),
  gt: compare('>'),
  ge: compare('>='),
  eq: compare('==', true),
  ne: compare('!=', true),
  and: logic('and'),
  or: logic('or'),

  /** where(cond, a, b): a where cond holds, else b. */
  where: {
    arity: 3,
    family: 'select',
    builtin: { name: 'where' },
    infer(args) {
      requireDtype('where', args[0]!, 'bool');
      requireFloat('where', args.slice(1));
      return float(broadcastShapes(args.map((a) => a.shape), 'arguments of `where`'));
    },
  },
  /** clip(x, lo, hi) = min(max(x, lo), hi); its derivative passes through inside [lo, hi]. */
  clip: {
    arity: 3,
    family: 'select',
    builtin: { name: 'clip' },
    infer(args) {
      requireFloat('clip', args);
      return float(broadcastShapes(args.map((a) => a.shape), 'arguments of `clip`'));
    },
  },

  // Reductions over `axes` (null: all), optionally keeping reduced axes as size 1.
  sum: reduction('sum'),
  mean: reduction('mean'),
  max: reduction('max'),
  min: reduction('min'),
  logsumexp: reduction('logsumexp'),

  // Layout.
  /** Broadcast `x` to the shape of `like` (whose values are not used). */
  broadcast_like: {
    arity: 2,
    family: 'layout',
    builtin: { name: 'broadcast_like' },
    view: true,
    shapeOnly: [1],
    infer(args) {
      const [x, like] = args as [Typed, Typed];
      const s = broadcastShapes([x.shape, like.shape], 'arguments of `broadcast_like`');
      if (s.length !== like.shape.length || s.some((d, i) => d !== like.shape[i] && typeof like.shape[i] === 'number')) {
        throw new LosscError('shape', `cannot broadcast ${showShape(x.shape)} to ${showShape(like.shape)}`);
      }
      s.forEach((d, i) => assume(d, like.shape[i]!));
      return { shape: like.shape, dtype: x.dtype };
    },
  },
  expand_dims: {
    arity: 1,
    family: 'layout',
    builtin: { name: 'expand_dims' },
    view: true,
    canon: axisCanon(0, 1),
    infer(args, attrs) {
      const x = args[0]!;
      const a = normAxis(attrs.axis as number, x.shape.length + 1);
      const s = [...x.shape];
      s.splice(a, 0, 1);
      return { shape: s, dtype: x.dtype };
    },
  },
  squeeze: {
    arity: 1,
    family: 'layout',
    builtin: { name: 'squeeze' },
    view: true,
    canon: axisCanon(),
    infer(args, attrs) {
      const x = args[0]!;
      const a = normAxis(attrs.axis as number, x.shape.length);
      if (x.shape[a] !== 1 && typeof x.shape[a] === 'number') {
        throw new LosscError('shape', `cannot squeeze axis ${attrs.axis} of size ${x.shape[a]} (it must be 1)`);
      }
      assume(x.shape[a]!, 1);
      return { shape: x.shape.filter((_, i) => i !== a), dtype: x.dtype };
    },
  },
  /** Part `index` of `parts` equal parts along `axis`. */
  part: {
    arity: 1,
    family: 'layout',
    builtin: { name: 'part' },
    view: true,
    canon: axisCanon(),
    infer(args, attrs) {
      const x = args[0]!;
      const a = normAxis(attrs.axis as number, x.shape.length);
      const parts = attrs.parts as number;
      const s = [...x.shape];
      s[a] = divideDim(x.shape[a]!, parts, `split into ${parts} along axis ${attrs.axis}`);
      return { shape: s, dtype: x.dtype };
    },
  },
  /** Join along `axis`. */
  concat: {
    arity: -1,
    family: 'layout',
    builtin: { name: 'concat' },
    canon: axisCanon(),
    infer(args, attrs) {
      if (args.length === 0) throw new LosscError('arity', 'concat needs at least one tensor');
      const first = args[0]!;
      const a = normAxis(attrs.axis as number, first.shape.length);
      const total: Dim[] = [];
      for (const x of args) {
        if (x.shape.length !== first.shape.length || x.dtype !== first.dtype) {
          throw new LosscError('shape', `concat needs tensors of one rank and dtype`);
        }
        x.shape.forEach((d, i) => {
          if (i === a) return;
          const e = first.shape[i]!;
          if (typeof d === 'number' && typeof e === 'number' && d !== e) {
            const why = `concat along axis ${a} needs the other sizes to agree: ${showShape(first.shape)} and ${showShape(x.shape)} differ at axis ${i}`;
            throw new LosscError('shape', why);
          }
          assume(d, e);
        });
        total.push(x.shape[a]!);
      }
      const s = [...first.shape];
      s[a] = total.every((d) => typeof d === 'number')
        ? (total as number[]).reduce((p, q) => p + q, 0)
        : joinedParts(total) ?? total.join('+');
      return { shape: s, dtype: first.dtype };
    },
  },
  transpose: {
    arity: 1,
    family: 'layout',
    builtin: { name: 'transpose' },
    view: true,
    infer(args, attrs) {
      const x = args[0]!;
      const perm = attrs.perm as number[];
      if (perm.length !== x.shape.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
        throw new LosscError('shape', `transpose permutation [${perm.join(', ')}] does not fit rank ${x.shape.length}`);
      }
      return { shape: perm.map((p) => x.shape[p]!), dtype: x.dtype };
    },
  },
  /** a @ b over the last two axes (batched over leading axes, which broadcast). */
  matmul: {
    arity: 2,
    family: 'other',
    builtin: { name: 'matmul' },
    infer(args) {
      requireFloat('matmul', args);
      const [a, b] = args as [Typed, Typed];
      if (a.shape.length < 2 || b.shape.length < 2) {
        throw new LosscError('shape', `matmul needs tensors of rank 2 or more, got ${showShape(a.shape)} and ${showShape(b.shape)}`);
      }
      const k1 = a.shape[a.shape.length - 1]!;
      const k2 = b.shape[b.shape.length - 2]!;
      if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
        throw new LosscError('shape', `matmul of ${showShape(a.shape)} and ${showShape(b.shape)}: inner sizes ${k1} and ${k2} differ`);
      }
      assume(k1, k2);
      const batch = broadcastShapes([a.shape.slice(0, -2), b.shape.slice(0, -2)], 'batch axes of `matmul`');
      return float([...batch, a.shape[a.shape.length - 2]!, b.shape[b.shape.length - 1]!]);
    },
  },
  /** One-hot of int labels: a new last axis of size `depth` (or the size of `ref` along `axis`). */
  one_hot: {
    arity: -1,
    family: 'other',
    builtin: { name: 'one_hot' },
    shapeOnly: [1],
    canon: axisCanon(1),
    infer(args, attrs) {
      if (args.length < 1 || args.length > 2) throw new LosscError('arity', 'one_hot takes labels and a depth');
      const labels = args[0]!;
      requireDtype('one_hot', labels, 'int32');
      let depth: Dim;
      if (args.length === 2) depth = args[1]!.shape[normAxis(attrs.axis as number, args[1]!.shape.length)]!;
      else depth = attrs.depth as number;
      return float([...labels.shape, depth]);
    },
  },

  // Sequence. A primitive because the CTC forward algorithm is a recurrence over time, which the
  // language cannot express (src/eval/ctc.ts has the algorithm and the conventions).
  /**
   * ctc(labels, logits): per row, -log p(labels | logits) of Connectionist Temporal
   * Classification. labels int (B, L), 0 the blank and the padding; logits float (B, T, C)
   * unnormalised (log_softmax over C is part of the op). Result (B).
   */
  ctc: {
    arity: 2,
    family: 'other',
    builtin: { name: 'ctc' },
    infer(args) {
      const [labels, logits] = checkCtcArgs('ctc', args);
      return float([ctcBatch(labels, logits)]);
    },
  },
  /** d ctc(labels, logits)_b / d logits[b, t, c], by the forward-backward algorithm: (B, T, C). */
  ctc_grad: {
    arity: 2,
    family: 'other',
    builtin: { name: 'ctc_grad' },
    infer(args) {
      const [labels, logits] = checkCtcArgs('ctc_grad', args);
      return float([ctcBatch(labels, logits), logits.shape[1]!, logits.shape[2]!]);
    },
  },
} as const satisfies Record<string, OpSpec>;

export type OpName = keyof typeof OPS;

/** Every op name, in the table's order. */
export const OP_NAMES = Object.keys(OPS) as readonly OpName[];

/** The ops of one family, as a type: `OpsOf<'reduce'>` is 'sum' | 'mean' | 'max' | 'min' | 'logsumexp'. */
export type OpsOf<F extends Family> = { [K in OpName]: (typeof OPS)[K]['family'] extends F ? K : never }[OpName];
export type ReduceOp = OpsOf<'reduce'>;
export type CompareOp = OpsOf<'compare'>;

const opsWhere = (test: (s: OpSpec) => boolean): ReadonlySet<OpName> => new Set(OP_NAMES.filter((op) => test(OPS[op])));

export const REDUCTIONS = opsWhere((s) => s.family === 'reduce') as ReadonlySet<OpName>;
/** Ops that only re-index their argument (`view` in the table). */
export const VIEWS = opsWhere((s) => s.view === true);

/** Computed elementwise: one element of the result from one element of each (broadcast) argument. */
export const isElementwise = (op: OpName): boolean => ELEMENTWISE_FAMILIES.has(OPS[op].family);

/** Whether `op` reads argument `i` for its values (not only for its shape). */
export const readsValueOf = (op: OpName, i: number): boolean => !(OPS[op] as OpSpec).shapeOnly?.includes(i);

/** The op an infix operator writes (`+` is add), and a prefix one (`-` is neg, `not` is not). */
export const INFIX_OPS = Object.fromEntries(
  OP_NAMES.flatMap((op) => {
    const s: OpSpec = OPS[op];
    return s.infix ? [[s.infix.text, op]] : [];
  }),
) as Readonly<Record<InfixOperator, OpName>>;
export const PREFIX_OPS = Object.fromEntries(
  OP_NAMES.flatMap((op) => {
    const s: OpSpec = OPS[op];
    return s.prefix ? [[s.prefix.text, op]] : [];
  }),
) as Readonly<Record<PrefixOperator, OpName>>;

/** The ops of `family` the builtin `name` computes (`max`: the reduction, or maximum of two). */
export function opCalled(name: string, family?: Family): OpName | undefined {
  return OP_NAMES.find((op) => {
    const s: OpSpec = OPS[op];
    return s.builtin?.name === name && (family === undefined || s.family === family);
  });
}
