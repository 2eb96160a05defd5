// The functions every lossc program can call, as a table: each entry names its parameters (which
// are tensors and which are compile-time constants, with defaults) and builds IR from them.
// Larger functions (softmax, relu, l2_normalize, ...) live in stdlib/prelude.loss, in the language.

import * as b from '../ir/build.js';
import { Node } from '../ir/node.js';
import { OP_NAMES, OPS, type OpName, type OpSpec, type ReduceOp } from '../ir/ops.js';
import { LosscError } from '../errors.js';
import { showShape, type DType } from '../ir/shape.js';
import type { Span } from '../../grammar/ast.js';

/** A compile-time value: what options, literals and axis arguments evaluate to. */
export type Static = number | boolean | string | null | Static[];

/**
 * How a parameter's argument is lowered: a tensor; a compile-time constant; a list of tensors;
 * a count (a compile-time number, or `size(x, axis = k)`, kept as x and the axis, for a size known
 * only from a shape); or a tensor lowered only when `build` asks for it (`require`'s value, which
 * its condition guards).
 */
export type ArgKind = 'tensor' | 'static' | 'tensors' | 'count' | 'deferred';

export interface BuiltinParam {
  name: string;
  kind: ArgKind;
  /** Present when the parameter is optional. */
  default?: Static;
  /** A tensor converted to this dtype when it has another (class labels are ints). */
  dtype?: DType;
  /** How errors name a compile-time argument; default: `name` of `fn`. */
  what?: string;
}

/** A `count` argument given as `size(x, axis = ...)`: the tensor and the axis, not yet checked. */
export interface SizeOf {
  sizeOf: Node;
  axis: Static;
}

export type Arg = Node | Static | Node[] | SizeOf | (() => Node);
type Args = Record<string, Arg>;

/** What a build may need beyond its arguments: where each came from, and whose body it is in. */
export interface BuildContext {
  /** The span of the argument given for a parameter (none when it took its default). */
  span(param: string): Span | undefined;
  /** The definition being lowered (the outermost one: a loss, a regularizer or a def). */
  definition: string;
}

export interface Builtin {
  params: BuiltinParam[];
  doc: string;
  /**
   * The parameter that, when the call is a definition's result, is its output mask: the mean
   * counts only the entries where it holds (Keras's mask). Anywhere else the call gives its value.
   */
  mask?: string;
  build(args: Args, ctx: BuildContext): Node | Node[];
}

const T = (name: string): BuiltinParam => ({ name, kind: 'tensor' });
const S = (name: string, def?: Static): BuiltinParam =>
  def === undefined ? { name, kind: 'static' } : { name, kind: 'static', default: def };
/** A tensor parameter converted to `dtype`. */
const Tas = (name: string, dtype: DType): BuiltinParam => ({ name, kind: 'tensor', dtype });

/**
 * Counts a program gives that become node counts or tensor sizes are bounded, so that a huge
 * number (`split(x, 1e38)`) is a located 'limit' error instead of an allocation that fails.
 * Each part of a split is its own node (and `let` when printed); a one-hot row is `depth` floats.
 */
export const MAX_SPLIT_PARTS = 1024;
export const MAX_ONE_HOT_DEPTH = 1 << 24;
const t = (a: Args, k: string) => a[k] as Node;

/** An axis argument: none (every axis), an integer, or a list of integers. */
export function axesOf(v: Static, what = 'axis'): number[] | null {
  if (v === null) return null;
  if (typeof v === 'number' && Number.isInteger(v)) return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x))) return v as number[];
  throw new LosscError('option', `${what} must be an integer, a list of integers or none, got ${showStatic(v)}`);
}

function intOf(v: Static, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new LosscError('option', `${what} must be an integer, got ${showStatic(v)}`);
}

function boolOf(v: Static, what: string): boolean {
  if (typeof v === 'boolean') return v;
  throw new LosscError('option', `${what} must be true or false, got ${showStatic(v)}`);
}

export function showStatic(v: Static): string {
  if (v === null) return 'none';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(showStatic).join(', ')}]`;
  return String(v);
}

const unaryOp = (op: OpName, doc: string): Builtin => ({
  params: [T('x')],
  doc,
  build: (a) => b.unary(op, t(a, 'x')),
});

const reduction = (op: ReduceOp, doc: string): Builtin => ({
  params: [T('x'), S('axis', null), S('keepdims', false)],
  doc,
  build: (a) => b.reduce(op, t(a, 'x'), axesOf(a.axis as Static), boolOf(a.keepdims as Static, 'keepdims')),
});

/** `max(x, axis = ...)` reduces; `max(a, b)` is the elementwise maximum, as people write both. */
const maxOrMin = (red: ReduceOp, elementwise: OpName, doc: string): Builtin => ({
  params: [T('x'), { name: 'y', kind: 'tensor', default: null }, S('axis', null), S('keepdims', false)],
  doc,
  build(a) {
    if (a.y !== null && a.y !== undefined) {
      if (a.axis !== null || a.keepdims !== false) {
        throw new LosscError('arity', `the elementwise form of ${red}(a, b) takes no axis or keepdims`);
      }
      return b.binary(elementwise, t(a, 'x'), t(a, 'y'));
    }
    return b.reduce(red, t(a, 'x'), axesOf(a.axis as Static), boolOf(a.keepdims as Static, 'keepdims'));
  },
});

/** The plain float functions of one tensor (exp, log, tanh, ...): made from their entries in OPS. */
const UNARY_BUILTINS: Record<string, Builtin> = Object.fromEntries(
  OP_NAMES.flatMap((op) => {
    const s: OpSpec = OPS[op];
    return s.family === 'unary' && s.builtin?.doc !== undefined ? [[s.builtin.name, unaryOp(op, s.builtin.doc)]] : [];
  }),
);

export const BUILTINS: Record<string, Builtin> = {
  ...UNARY_BUILTINS,
  stop_gradient: { params: [T('x')], doc: 'x, with a zero derivative', build: (a) => Node.make('stop_gradient', [t(a, 'x')]) },
  float: { params: [T('x')], doc: 'convert to float (bools give 0/1)', build: (a) => b.cast(t(a, 'x'), 'float32') },
  int: { params: [T('x')], doc: 'convert to int (truncates toward zero)', build: (a) => b.cast(t(a, 'x'), 'int32') },
  bool: { params: [T('x')], doc: 'convert to bool (x != 0)', build: (a) => b.cast(t(a, 'x'), 'bool') },
  where: {
    params: [T('cond'), T('a'), T('b')],
    doc: 'a where cond holds, b elsewhere (elementwise)',
    build(a) {
      const c = t(a, 'cond');
      if (c.dtype !== 'bool') throw new LosscError('type', `the condition of where(...) must be a comparison (bool), got ${c.dtype}`);
      return b.where(c, t(a, 'a'), t(a, 'b'));
    },
  },
  clip: { params: [T('x'), T('lo'), T('hi')], doc: 'min(max(x, lo), hi)', build: (a) => b.clip(t(a, 'x'), t(a, 'lo'), t(a, 'hi')) },
  maximum: { params: [T('a'), T('b')], doc: 'elementwise maximum', build: (a) => b.maximum(t(a, 'a'), t(a, 'b')) },
  minimum: { params: [T('a'), T('b')], doc: 'elementwise minimum', build: (a) => b.minimum(t(a, 'a'), t(a, 'b')) },
  max: maxOrMin('max', 'maximum', 'max(x, axis = ...) reduces; max(a, b) is elementwise'),
  min: maxOrMin('min', 'minimum', 'min(x, axis = ...) reduces; min(a, b) is elementwise'),
  sum: reduction('sum', 'sum over axis (none: every axis)'),
  mean: reduction('mean', 'mean over axis (none: every axis)'),
  logsumexp: reduction('logsumexp', 'log(sum(exp(x))) over axis, computed stably'),
  size: {
    params: [T('x'), S('axis', null)],
    doc: 'the number of elements of x along axis (none: all), as a number',
    build: (a) => b.size(t(a, 'x'), axesOf(a.axis as Static)),
  },
  indices: {
    params: [T('x'), S('axis', 0)],
    doc: '0, 1, ..., n-1 (ints), n = size of x along axis',
    build: (a) => Node.make('indices', [t(a, 'x')], { axis: intOf(a.axis as Static, 'axis') }),
  },
  zeros_like: { params: [T('x')], doc: 'zeros shaped like x', build: (a) => Node.make('broadcast_like', [b.constant(0), t(a, 'x')]) },
  ones_like: { params: [T('x')], doc: 'ones shaped like x', build: (a) => Node.make('broadcast_like', [b.constant(1), t(a, 'x')]) },
  broadcast_like: {
    params: [T('x'), T('like')],
    doc: 'x broadcast to the shape of like',
    build: (a) => Node.make('broadcast_like', [t(a, 'x'), t(a, 'like')]),
  },
  expand_dims: {
    params: [T('x'), S('axis')],
    doc: 'insert an axis of size 1',
    build: (a) => b.expandDims(t(a, 'x'), intOf(a.axis as Static, 'axis')),
  },
  squeeze: {
    params: [T('x'), S('axis')],
    doc: 'remove an axis of size 1',
    build: (a) => b.squeeze(t(a, 'x'), intOf(a.axis as Static, 'axis')),
  },
  split: {
    params: [T('x'), S('parts'), S('axis', -1)],
    doc: 'split into equal parts along axis; destructure with let [a, b, c] = split(...)',
    build(a) {
      const x = t(a, 'x');
      const parts = intOf(a.parts as Static, 'the number of parts');
      if (parts < 1) throw new LosscError('option', `split needs at least 1 part, got ${parts}`);
      if (parts > MAX_SPLIT_PARTS) throw new LosscError('limit', `split into ${showStatic(parts)} parts: lossc splits into at most ${MAX_SPLIT_PARTS}`);
      const axis = intOf(a.axis as Static, 'axis'); // Node.make makes a negative axis canonical
      return Array.from({ length: parts }, (_, index) => Node.make('part', [x], { axis, parts, index }));
    },
  },
  part: {
    params: [T('x'), S('index'), S('parts'), S('axis', -1)],
    doc: 'part index (from 0) of split(x, parts, axis)',
    build(a) {
      const x = t(a, 'x');
      const parts = intOf(a.parts as Static, 'parts');
      const index = intOf(a.index as Static, 'index');
      // split's limit: a part of 1e38 parts hung the call (garbled seed 85729751).
      if (parts > MAX_SPLIT_PARTS) throw new LosscError('limit', `a part of ${showStatic(parts)} parts: lossc splits into at most ${MAX_SPLIT_PARTS}`);
      if (index < 0 || index >= parts) throw new LosscError('option', `part index ${index} is not in 0..${parts - 1}`);
      return Node.make('part', [x], { axis: intOf(a.axis as Static, 'axis'), parts, index });
    },
  },
  concat: {
    params: [{ name: 'xs', kind: 'tensors' }, S('axis', -1)],
    doc: 'join a list of tensors along axis',
    build(a) {
      const xs = a.xs as Node[];
      if (xs.length === 0) throw new LosscError('arity', 'concat needs at least one tensor');
      return Node.make('concat', xs, { axis: intOf(a.axis as Static, 'axis') });
    },
  },
  transpose: {
    params: [T('x'), S('perm', null)],
    doc: 'permute axes (none: reverse them)',
    build(a) {
      const x = t(a, 'x');
      const perm = a.perm === null ? Array.from({ length: x.rank }, (_, i) => x.rank - 1 - i) : axesOfPerm(a.perm as Static);
      return Node.make('transpose', [x], { perm });
    },
  },
  check_broadcast: {
    params: [T('x'), T('like'), S('message')],
    doc: 'x itself, after checking it broadcasts to the shape of like (else an error with message and both shapes)',
    build(a) {
      const x = t(a, 'x');
      const like = t(a, 'like');
      try {
        Node.make('broadcast_like', [x, like]);
      } catch {
        throw new LosscError('shape', `${String(a.message)}: ${showShape(x.shape)} does not fit ${showShape(like.shape)}`);
      }
      return x;
    },
  },
  matmul: { params: [T('a'), T('b')], doc: 'matrix product over the last two axes', build: (a) => Node.make('matmul', [t(a, 'a'), t(a, 'b')]) },
  ctc: {
    params: [Tas('labels', 'int32'), Tas('logits', 'float32')],
    doc: 'per row, -log p(labels | logits) of CTC (Graves et al. 2006): labels int [B, L] (0 the blank and padding), logits [B, T, C] unnormalised; gives [B]',
    build: (a) => Node.make('ctc', [t(a, 'labels'), t(a, 'logits')]),
  },
  ctc_grad: {
    params: [Tas('labels', 'int32'), Tas('logits', 'float32')],
    doc: 'the derivative of ctc(labels, logits) (row by row) with respect to logits, [B, T, C]: softmax(logits) minus the CTC state posteriors per class',
    build: (a) => Node.make('ctc_grad', [t(a, 'labels'), t(a, 'logits')]),
  },
  squeeze_like: {
    params: [T('x'), T('like'), S('axis', -1)],
    doc: 'x without its axis `axis` when x has the rank of like and size 1 there (labels [N, 1] against predictions [N, C] become [N]); otherwise x',
    build(a) {
      const x = t(a, 'x');
      const axis = intOf(a.axis as Static, 'axis');
      if (x.rank !== t(a, 'like').rank || x.rank === 0) return x;
      const ax = axis < 0 ? axis + x.rank : axis;
      return x.shape[ax] === 1 ? b.squeeze(x, ax) : x;
    },
  },
  one_hot: {
    // Labels truncate to ints, as Keras casts them.
    params: [Tas('labels', 'int32'), { name: 'depth', kind: 'count', what: 'the depth of one_hot' }],
    doc: 'one-hot rows of int labels; depth a number or size(x, axis = k)',
    build(a, ctx) {
      const labels = t(a, 'labels');
      const depth = a.depth as SizeOf | Static;
      if (isSizeOf(depth)) {
        const { sizeOf: x, axis } = depth;
        if (typeof axis !== 'number') throw new LosscError('type', 'one_hot depth size(x, axis = k) needs a single axis', ctx.span('depth'));
        return Node.make('one_hot', [labels, x], { axis: axis < 0 ? axis + x.rank : axis });
      }
      if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1) {
        throw new LosscError('type', `the depth of one_hot must be a positive integer or size(x, axis = k), got ${showStatic(depth)}`, ctx.span('depth'));
      }
      if (depth > MAX_ONE_HOT_DEPTH) throw new LosscError('limit', `one_hot depth ${showStatic(depth)} is too large: lossc takes at most ${MAX_ONE_HOT_DEPTH}`, ctx.span('depth'));
      return Node.make('one_hot', [labels], { depth });
    },
  },
  masked: {
    params: [T('values'), T('mask')],
    doc: 'a loss result whose mean counts only entries where mask holds (elsewhere: values)',
    mask: 'mask',
    build(a, ctx) {
      if (t(a, 'mask').dtype !== 'bool') throw new LosscError('type', 'the mask of masked(values, mask) must be a comparison (bool)', ctx.span('mask'));
      return t(a, 'values');
    },
  },
  require: {
    params: [
      { name: 'condition', kind: 'static', what: 'the condition of require(...)' },
      { name: 'message', kind: 'static', what: 'the message of require(...)' },
      { name: 'value', kind: 'deferred' },
    ],
    doc: 'value, once the compile-time condition (of options, say) holds; else an error with message',
    build(a, ctx) {
      if (typeof a.condition !== 'boolean') throw new LosscError('type', 'the condition of require(...) must be true or false', ctx.span('condition'));
      if (!a.condition) throw new LosscError('option', `\`${ctx.definition}\`: ${String(a.message)}`);
      return (a.value as () => Node)();
    },
  },
  moveaxis: {
    params: [T('x'), S('source'), S('destination', -1)],
    doc: 'x with axis `source` moved to position `destination` (the others keep their order)',
    build(a) {
      const x = t(a, 'x');
      const norm = (v: Static, what: string) => {
        const k = intOf(v, what);
        const r = k < 0 ? k + x.rank : k;
        if (r < 0 || r >= x.rank) throw new LosscError('shape', `${what} ${k} is out of range for a tensor of rank ${x.rank}`);
        return r;
      };
      const src = norm(a.source as Static, 'source axis');
      const dst = norm(a.destination as Static, 'destination axis');
      if (src === dst) return x;
      const perm = Array.from({ length: x.rank }, (_, i) => i).filter((i) => i !== src);
      perm.splice(dst, 0, src);
      return Node.make('transpose', [x], { perm });
    },
  },
};

function axesOfPerm(v: Static): number[] {
  if (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x))) return v as number[];
  throw new LosscError('option', `perm must be a list of integers, got ${showStatic(v)}`);
}

/** Named constants. */
export const CONSTANTS: Record<string, number> = {
  epsilon: 1e-7,
  pi: Math.PI,
  inf: Infinity,
};

function isSizeOf(v: Arg): v is SizeOf {
  return typeof v === 'object' && v !== null && 'sizeOf' in v;
}
