// The vocabulary of the op registry (OPS in ops.ts): the facts an entry carries (OpSpec), the
// families and the language's operators and precedence, and the builders of each family's entries
// with their shape and dtype checks (`fn` for a plain unary function, `binaryFloat`, `compare`,
// `logic`, `reduction`, the canonical axes, ctc's argument checks).

import type { BinaryOp, Unary } from '../../grammar/ast.js';
import { LosscError } from '../errors.js';
import {
  assume,
  broadcastShapes,
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

export const ELEMENTWISE_FAMILIES: ReadonlySet<Family> = new Set<Family>(['unary', 'binary', 'compare', 'logic', 'select']);

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

/** The operators of the language (the syntax tree's): infix (`a + b`) and prefix (`-x`, `not x`). */
export type InfixOperator = BinaryOp;
export type PrefixOperator = Unary['op'];

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
export const axisCanon =
  (arg = 0, extra = 0) =>
  (args: readonly Typed[], attrs: Attrs): Attrs =>
    args[arg] && typeof attrs.axis === 'number' ? { ...attrs, axis: normAxis(attrs.axis, args[arg]!.shape.length + extra) } : attrs;

/** Canonical `axes` (null or absent: every axis) and, for reductions, `keepdims`. */
export const axesCanon =
  (keepdims: boolean) =>
  (args: readonly Typed[], attrs: Attrs): Attrs => {
    const axes = normAxes((attrs.axes as number[] | null | undefined) ?? null, args[0]!.shape.length);
    return keepdims ? { ...attrs, axes, keepdims: attrs.keepdims === true } : { ...attrs, axes };
  };

export const float = (s: Shape) => ({ shape: s, dtype: 'float32' as DType });

export function requireFloat(op: string, args: readonly Typed[]): void {
  for (const a of args) {
    if (a.dtype !== 'float32') {
      throw new LosscError('type', `\`${op}\` needs float tensors, got ${a.dtype} (convert with float(...))`);
    }
  }
}

export function requireDtype(op: string, a: Typed, dtype: DType): void {
  if (a.dtype !== dtype) throw new LosscError('type', `\`${op}\` needs a ${dtype} tensor, got ${a.dtype}`);
}

/** A float function of one float tensor, elementwise. */
export const unaryFloat = (facts: Pick<OpSpec, 'builtin' | 'prefix'>): OpSpec<'unary'> => ({
  arity: 1,
  family: 'unary',
  ...facts,
  infer(args) {
    requireFloat('this function', args);
    return float(args[0]!.shape);
  },
});

/** A plain float function of one tensor: the builtin `name(x)`, with this doc. */
export const fn = (name: string, doc: string): OpSpec<'unary'> => unaryFloat({ builtin: { name, doc } });

type BinaryFacts = Pick<OpSpec, 'infix' | 'builtin' | 'commutative'>;

/** Elementwise, two float tensors broadcast; `name` is how error messages call it. */
export const binaryFloat = (name: string, facts: BinaryFacts): OpSpec<'binary'> => ({
  arity: 2,
  family: 'binary',
  ...facts,
  infer(args) {
    requireFloat(name, args);
    return float(broadcastShapes([args[0]!.shape, args[1]!.shape], `operands of \`${name}\``));
  },
});

export const infix = (text: InfixOperator, prec: number, commutative = false): BinaryFacts =>
  commutative ? { infix: { text, prec }, commutative: true } : { infix: { text, prec } };

export const compare = (name: InfixOperator, commutative = false): OpSpec<'compare'> => ({
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

export const logic = (name: 'and' | 'or'): OpSpec<'logic'> => ({
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

export const reduction = (name: string): OpSpec<'reduce'> => ({
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

/**
 * Parts of one `D` that make it whole are `D` again: `D/3` three times, or `D/4 + D/2 + D/4` (the
 * parts of a split joined by the derivative of `part`, a run of unused ones as coarser parts).
 */
export function joinedParts(dims: readonly Dim[]): Dim | undefined {
  const ms = dims.map((d) => (typeof d === 'string' ? /^(.+)\/(\d+)$/.exec(d) : null));
  const base = ms[0]?.[1];
  if (!base || ms.some((m) => !m || m[1] !== base)) return undefined;
  const dens = ms.map((m) => Number(m![2]));
  const common = dens.reduce((l, n) => (l * n) / gcd(l, n), 1);
  if (!Number.isSafeInteger(common) || dens.reduce((t, n) => t + common / n, 0) !== common) return undefined;
  return base.startsWith('(') && base.endsWith(')') ? base.slice(1, -1) : base;
}

/** The greatest common divisor of two whole numbers. */
export const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));


/** The argument checks of `ctc` and `ctc_grad`: int labels [B, L], float logits [B, T, C]. */
export function checkCtcArgs(op: string, args: readonly Typed[]): [Typed, Typed] {
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
export function ctcBatch(labels: Typed, logits: Typed): Dim {
  const a = labels.shape[0]!;
  const b = logits.shape[0]!;
  assume(a, b);
  if (typeof a === 'number' && typeof b === 'number' && a !== b) {
    throw new LosscError('shape', `ctc: labels ${showShape(labels.shape)} and logits ${showShape(logits.shape)} have different batch sizes (${a} and ${b})`);
  }
  return typeof b === 'number' ? b : a;
}
