// The primitive operations of the IR: one table, one entry per op, saying how many arguments it
// takes and what shape and dtype it produces. Everything larger (softmax, cross-entropies, every
// loss) is written in the language from these. Adding a primitive: an entry here, an evaluation
// in src/eval/reference.ts and src/compile/, a derivative in src/autodiff/rules.ts.

import { LosscError } from '../errors.js';
import {
  assume,
  broadcastShapes,
  divideDim,
  normAxes,
  normAxis,
  reducedShape,
  showShape,
  type DType,
  type Dim,
  type Shape,
} from './shape.js';

export type Attrs = Readonly<Record<string, unknown>>;

/** What an op needs to know about its arguments to infer its own type. */
export interface Typed {
  readonly shape: Shape;
  readonly dtype: DType;
}

export interface OpSpec {
  /** Number of arguments, or -1 for any number (concat). */
  arity: number;
  /** Families that passes (printer, fuser, autodiff) treat alike. */
  kind: 'leaf' | 'unary' | 'binary' | 'compare' | 'logic' | 'select' | 'reduce' | 'layout' | 'other';
  infer(args: readonly Typed[], attrs: Attrs): { shape: Shape; dtype: DType };
  /**
   * The attributes in canonical form (axes non-negative and sorted, flags explicit), applied by
   * Node.make before hashing: `sum(x, axis = -1)` and `sum(x, axis = 1)` of a matrix are one node,
   * and every pass may read an axis as an index.
   */
  canon?(args: readonly Typed[], attrs: Attrs): Attrs;
}

/** Canonical `axis` against the rank of argument `arg` (plus `extra`: expand_dims adds an axis). */
const axisCanon =
  (arg = 0, extra = 0) =>
  (args: readonly Typed[], attrs: Attrs): Attrs =>
    args[arg] && typeof attrs.axis === 'number' ? { ...attrs, axis: normAxis(attrs.axis, args[arg]!.shape.length + extra) } : attrs;

/** Canonical `axes` (null or absent: every axis) and, for reductions, `keepdims`. */
const axesCanon =
  (keepdims: boolean) =>
  (args: readonly Typed[], attrs: Attrs): Attrs => {
    const axes = normAxes((attrs.axes as number[] | null | undefined) ?? null, args[0]!.shape.length);
    return keepdims ? { ...attrs, axes, keepdims: attrs.keepdims === true } : { ...attrs, axes };
  };

const float = (s: Shape) => ({ shape: s, dtype: 'float32' as DType });

function requireFloat(op: string, args: readonly Typed[]): void {
  for (const a of args) {
    if (a.dtype !== 'float32') {
      throw new LosscError('type', `\`${op}\` needs float tensors, got ${a.dtype} (convert with float(...))`);
    }
  }
}

function requireDtype(op: string, a: Typed, dtype: DType): void {
  if (a.dtype !== dtype) throw new LosscError('type', `\`${op}\` needs a ${dtype} tensor, got ${a.dtype}`);
}

const unaryFloat: OpSpec = {
  arity: 1,
  kind: 'unary',
  infer(args) {
    requireFloat('this function', args);
    return float(args[0]!.shape);
  },
};

const binaryFloat = (name: string): OpSpec => ({
  arity: 2,
  kind: 'binary',
  infer(args) {
    requireFloat(name, args);
    return float(broadcastShapes([args[0]!.shape, args[1]!.shape], `operands of \`${name}\``));
  },
});

const compare = (name: string): OpSpec => ({
  arity: 2,
  kind: 'compare',
  infer(args) {
    if (args[0]!.dtype !== args[1]!.dtype) {
      throw new LosscError('type', `\`${name}\` compares a ${args[0]!.dtype} with a ${args[1]!.dtype}`);
    }
    return { shape: broadcastShapes([args[0]!.shape, args[1]!.shape], `operands of \`${name}\``), dtype: 'bool' };
  },
});

const logic = (name: string): OpSpec => ({
  arity: 2,
  kind: 'logic',
  infer(args) {
    requireDtype(name, args[0]!, 'bool');
    requireDtype(name, args[1]!, 'bool');
    return { shape: broadcastShapes([args[0]!.shape, args[1]!.shape], `operands of \`${name}\``), dtype: 'bool' };
  },
});

export function reduceAxes(attrs: Attrs, rank: number): number[] {
  return normAxes(attrs.axes as number[] | null, rank);
}

const reduction = (name: string): OpSpec => ({
  arity: 1,
  kind: 'reduce',
  canon: axesCanon(true),
  infer(args, attrs) {
    const x = args[0]!;
    if (name !== 'max' && name !== 'min') requireFloat(name, args);
    const axes = reduceAxes(attrs, x.shape.length);
    return { shape: reducedShape(x.shape, axes, attrs.keepdims === true), dtype: x.dtype };
  },
});

/** `D/3` three times is `D` again (the parts of a split, joined by the derivative of `part`). */
function joinedParts(dims: readonly Dim[]): Dim | undefined {
  const m = typeof dims[0] === 'string' ? /^(.+)\/(\d+)$/.exec(dims[0]) : null;
  if (!m || !dims.every((d) => d === dims[0]) || Number(m[2]) !== dims.length) return undefined;
  return m[1]!.startsWith('(') && m[1]!.endsWith(')') ? m[1]!.slice(1, -1) : m[1]!;
}

export const OPS = {
  // Leaves. `input`: a named tensor argument. `const`: a scalar literal. `tensor`: a literal array.
  // `param`: a numeric option, kept symbolic for printing but carrying its value for evaluation.
  input: {
    arity: 0,
    kind: 'leaf',
    infer: (_a, attrs) => ({ shape: attrs.shape as Shape, dtype: attrs.dtype as DType }),
  },
  const: {
    arity: 0,
    kind: 'leaf',
    infer: (_a, attrs) => ({ shape: [], dtype: (attrs.dtype as DType | undefined) ?? 'float32' }),
  },
  tensor: {
    arity: 0,
    kind: 'leaf',
    infer: (_a, attrs) => ({ shape: attrs.shape as Shape, dtype: 'float32' }),
  },
  param: {
    arity: 0,
    kind: 'leaf',
    infer: (_a, attrs) => ({ shape: Array.isArray(attrs.value) ? [attrs.value.length] : [], dtype: 'float32' }),
  },
  /** The size of `x` along `axes` (the product), as a float scalar. */
  size: {
    arity: 1,
    kind: 'other',
    canon: axesCanon(false),
    infer(args, attrs) {
      reduceAxes(attrs, args[0]!.shape.length);
      return float([]);
    },
  },
  /** 0, 1, ..., n-1 where n is the size of `x` along `axis`, as an int vector. */
  indices: {
    arity: 1,
    kind: 'other',
    canon: axisCanon(),
    infer(args, attrs) {
      const x = args[0]!;
      const a = normAxis(attrs.axis as number, x.shape.length);
      return { shape: [x.shape[a]!], dtype: 'int32' };
    },
  },

  // Elementwise, one argument.
  neg: unaryFloat,
  exp: unaryFloat,
  log: unaryFloat,
  log1p: unaryFloat,
  expm1: unaryFloat,
  sqrt: unaryFloat,
  abs: unaryFloat,
  sign: unaryFloat,
  sigmoid: unaryFloat,
  softplus: unaryFloat,
  tanh: unaryFloat,
  floor: unaryFloat,
  not: {
    arity: 1,
    kind: 'unary',
    infer(args) {
      requireDtype('not', args[0]!, 'bool');
      return { shape: args[0]!.shape, dtype: 'bool' };
    },
  },
  /** Change dtype: float→int truncates (as Keras's cast of labels does), bool→float gives 0/1. */
  cast: {
    arity: 1,
    kind: 'unary',
    infer: (args, attrs) => ({ shape: args[0]!.shape, dtype: attrs.dtype as DType }),
  },
  /** Identity whose derivative is zero. */
  stop_gradient: {
    arity: 1,
    kind: 'unary',
    infer: (args) => ({ shape: args[0]!.shape, dtype: args[0]!.dtype }),
  },

  // Elementwise, two arguments, NumPy broadcasting.
  add: binaryFloat('+'),
  sub: binaryFloat('-'),
  mul: binaryFloat('*'),
  div: binaryFloat('/'),
  pow: binaryFloat('^'),
  maximum: binaryFloat('max'),
  minimum: binaryFloat('min'),
  lt: compare('<'),
  le: compare('<='),
  gt: compare('>'),
  ge: compare('>='),
  eq: compare('=='),
  ne: compare('!='),
  and: logic('and'),
  or: logic('or'),

  /** where(cond, a, b): a where cond holds, else b. */
  where: {
    arity: 3,
    kind: 'select',
    infer(args) {
      requireDtype('where', args[0]!, 'bool');
      requireFloat('where', args.slice(1));
      return float(broadcastShapes(args.map((a) => a.shape), 'arguments of `where`'));
    },
  },
  /** clip(x, lo, hi) = min(max(x, lo), hi); its derivative passes through inside [lo, hi]. */
  clip: {
    arity: 3,
    kind: 'select',
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
    kind: 'layout',
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
    kind: 'layout',
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
    kind: 'layout',
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
    kind: 'layout',
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
    kind: 'layout',
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
    kind: 'layout',
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
    kind: 'other',
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
    kind: 'other',
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
    kind: 'other',
    infer(args) {
      const [labels, logits] = checkCtcArgs('ctc', args);
      return float([ctcBatch(labels, logits)]);
    },
  },
  /** d ctc(labels, logits)_b / d logits[b, t, c], by the forward-backward algorithm: (B, T, C). */
  ctc_grad: {
    arity: 2,
    kind: 'other',
    infer(args) {
      const [labels, logits] = checkCtcArgs('ctc_grad', args);
      return float([ctcBatch(labels, logits), logits.shape[1]!, logits.shape[2]!]);
    },
  },
} satisfies Record<string, OpSpec>;

/** The argument checks of `ctc` and `ctc_grad`: int labels [B, L], float logits [B, T, C]. */
function checkCtcArgs(op: string, args: readonly Typed[]): [Typed, Typed] {
  const [labels, logits] = args as [Typed, Typed];
  if (labels.dtype !== 'int32') {
    throw new LosscError('type', `\`${op}\` needs integer labels (class ids, 0 the blank) as its first argument, got ${labels.dtype} (convert with int(...))`);
  }
  if (logits.dtype !== 'float32') {
    throw new LosscError('type', `\`${op}\` needs float logits as its second argument, got ${logits.dtype} (convert with float(...))`);
  }
  if (labels.shape.length !== 2) {
    throw new LosscError('shape', `\`${op}\` needs labels of rank 2 [batch, max label length], got ${showShape(labels.shape)}`);
  }
  if (logits.shape.length !== 3) {
    throw new LosscError('shape', `\`${op}\` needs logits of rank 3 [batch, time, classes], got ${showShape(logits.shape)}`);
  }
  const c = logits.shape[2]!;
  if (typeof c === 'number' && c < 1) {
    throw new LosscError('shape', `\`${op}\` needs at least one class (class 0, the blank) on the last axis of the logits, got ${showShape(logits.shape)}`);
  }
  return [labels, logits];
}

/** The batch size of `ctc`'s arguments, which must agree. */
function ctcBatch(labels: Typed, logits: Typed): Dim {
  const a = labels.shape[0]!;
  const b = logits.shape[0]!;
  assume(a, b);
  if (typeof a === 'number' && typeof b === 'number' && a !== b) {
    throw new LosscError('shape', `ctc: labels ${showShape(labels.shape)} and logits ${showShape(logits.shape)} have different batch sizes (${a} and ${b})`);
  }
  return typeof b === 'number' ? b : a;
}

export type OpName = keyof typeof OPS;

export const REDUCTIONS = new Set<OpName>(['sum', 'mean', 'max', 'min', 'logsumexp']);
