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
import {
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

/**
 * Families that passes (printer, fuser, autodiff, rewrites) treat alike. `unary`, `binary`,
 * `compare`, `logic` and `select` are elementwise (NumPy broadcasting over their arguments).
 */
export type Family = 'leaf' | 'unary' | 'binary' | 'compare' | 'logic' | 'select' | 'reduce' | 'layout' | 'other';

const ELEMENTWISE_FAMILIES: ReadonlySet<Family> = new Set<Family>(['unary', 'binary', 'compare', 'logic', 'select']);

/** Precedence of the language's operators, lowest to highest (`if` is never printed). */
export const PREC = {
  lowest: 0,
  or: 1,
  and: 2,
  not: 3,
  compare: 4,
  add: 5,
  mul: 6,
  neg: 7,
  pow: 8,
  atom: 9,
} as const;

/** The operators of the language: infix (`a + b`) and prefix (`-x`, `not x`). */
export type InfixOperator = '+' | '-' | '*' | '/' | '^' | '<' | '<=' | '>' | '>=' | '==' | '!=' | 'and' | 'or';
export type PrefixOperator = '-' | 'not';

export interface OpSpec<F extends Family = Family> {
  /** Number of arguments, or -1 for any number (concat). */
  arity: number;
  family: F;
  /** The infix operator the language writes it with, and its precedence (PREC). */
  infix?: { text: InfixOperator; prec: number };
  /** The prefix operator the language writes it with (`-x`, `not x`), and its precedence. */
  prefix?: { text: PrefixOperator; prec: number };
  /**
   * The builtin function that computes it from its arguments as they are, `exp(x)` (for
   * `maximum`, `max(a, b)`), when there is one: the name the printers write and rewrite patterns
   * read. `doc`: for a plain float function of one tensor, the builtin is made from this entry
   * (src/lower/builtins.ts) with this one-line doc.
   */
  builtin?: { name: string; doc?: string };
  /** op(a, b) = op(b, a). */
  commutative?: true;
  /** Only re-indexes its first argument, no arithmetic (read through, free to inline). */
  view?: true;
  /** Arguments whose values the op never reads, only their shape (by position). */
  shapeOnly?: readonly number[];
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

/** A float function of one float tensor, elementwise. */
const unaryFloat = (facts: Pick<OpSpec, 'builtin' | 'prefix'>): OpSpec<'unary'> => ({
  arity: 1,
  family: 'unary',
  ...facts,
  infer(args) {
    requireFloat('this function', args);
    return float(args[0]!.shape);
  },
});

/** A plain float function of one tensor: the builtin `name(x)`, with this doc. */
const fn = (name: string, doc: string): OpSpec<'unary'> => unaryFloat({ builtin: { name, doc } });

type BinaryFacts = Pick<OpSpec, 'infix' | 'builtin' | 'commutative'>;

/** Elementwise, two float tensors broadcast; `name` is how error messages call it. */
const binaryFloat = (name: string, facts: BinaryFacts): OpSpec<'binary'> => ({
  arity: 2,
  family: 'binary',
  ...facts,
  infer(args) {
    requireFloat(name, args);
    return float(broadcastShapes([args[0]!.shape, args[1]!.shape], `operands of \`${name}\``));
  },
});

const infix = (text: InfixOperator, prec: number, commutative = false): BinaryFacts =>
  commutative ? { infix: { text, prec }, commutative: true } : { infix: { text, prec } };

const compare = (name: InfixOperator, commutative = false): OpSpec<'compare'> => ({
  arity: 2,
  family: 'compare',
  ...infix(name, PREC.compare, commutative),
  infer(args) {
    if (args[0]!.dtype !== args[1]!.dtype) {
      throw new LosscError('type', `\`${name}\` compares a ${args[0]!.dtype} with a ${args[1]!.dtype}`);
    }
    return { shape: broadcastShapes([args[0]!.shape, args[1]!.shape], `operands of \`${name}\``), dtype: 'bool' };
  },
});

const logic = (name: 'and' | 'or'): OpSpec<'logic'> => ({
  arity: 2,
  family: 'logic',
  ...infix(name, PREC[name], true),
  infer(args) {
    requireDtype(name, args[0]!, 'bool');
    requireDtype(name, args[1]!, 'bool');
    return { shape: broadcastShapes([args[0]!.shape, args[1]!.shape], `operands of \`${name}\``), dtype: 'bool' };
  },
});

export function reduceAxes(attrs: Attrs, rank: number): number[] {
  return normAxes(attrs.axes as number[] | null, rank);
}

const reduction = (name: string): OpSpec<'reduce'> => ({
  arity: 1,
  family: 'reduce',
  builtin: { name },
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
  if (typeof a === 'number' && typeof b === 'number' && a !== b) {
    throw new LosscError('shape', `ctc: labels ${showShape(labels.shape)} and logits ${showShape(logits.shape)} have different batch sizes (${a} and ${b})`);
  }
  return typeof b === 'number' ? b : a;
}

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
