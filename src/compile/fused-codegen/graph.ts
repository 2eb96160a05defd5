// Graph-level planning of the fused target: which nodes are computed into buffers ("targets")
// and which are inlined as expressions into the loop of the target that reads them, and the
// index algebra that lets an inlined node be read "at a position" of its consumer's loop.
//
// A position says, for each axis of a node, which loop axis (of the iteration space of the
// target being computed, its "SX" axes) indexes it, plus a constant offset: layout ops (views)
// only move, drop, insert or shift these entries, broadcasting replaces an entry by the constant
// 0, so a whole chain of views and broadcasts costs nothing at run time.

import { OPS, readsValueOf, REDUCTIONS, reduceAxes, VIEWS, type OpName, type OpSpec } from '../../ir/ops.js';
import type { Node } from '../../ir/node.js';
import { int, Unsupported } from './scalar.js';
import { dimSize, szAdd, szDiv, szEq, szMul, szProduct, szStrides, szTypical, type Sz } from './size.js';

/** One axis of a position: loop axis `d` of the iteration space (-1: none, i.e. 0), plus `off`. */
export interface Ix {
  readonly d: number;
  readonly off: Sz;
}
export type Pos = readonly Ix[];
export const Z: Ix = Object.freeze({ d: -1, off: 0 });

/** A size as text for keys (polynomials by their canonical key). */
export const szKey = (a: Sz): string => (typeof a === 'number' ? String(a) : `(${a.key})`);

export const posKey = (p: Pos): string => p.map((x) => (x.off !== 0 ? `${x.d}+${szKey(x.off)}` : `${x.d}`)).join(',');

/** Sizes of a node's shape: numbers, or polynomials over a signature's symbols (size.ts). */
export function dims(n: Node): Sz[] {
  return n.shape.map(dimSize);
}

/** Elements of a shape, and its row-major strides, as sizes. */
export const sizeOf = szProduct;
export const stridesOf = szStrides;

/**
 * The fused target's per-op table: the rough cost of evaluating one element of the op alone (for
 * recompute-or-store decisions; views and leaves are free, transcendental functions dear), or
 * null for an op it does not support (`fuse` returns null and the tfjs path runs).
 */
export const FUSED_COST: Record<OpName, number | null> = {
  input: 0,
  const: 0,
  tensor: 0,
  param: 0,
  size: 0,
  indices: 1,

  neg: 1,
  exp: 10,
  log: 10,
  log1p: 10,
  expm1: 10,
  sqrt: 3,
  abs: 1,
  sign: 1,
  sigmoid: 10,
  softplus: 10,
  tanh: 10,
  cosh: 10,
  sinh: 10,
  cos: 10,
  sin: 10,
  floor: 1,
  not: 1,
  cast: 1,
  stop_gradient: 0,

  add: 1,
  sub: 1,
  mul: 1,
  div: 3,
  pow: 10,
  maximum: 1,
  minimum: 1,
  lt: 1,
  le: 1,
  gt: 1,
  ge: 1,
  eq: 1,
  ne: 1,
  and: 1,
  or: 1,

  where: 1,
  clip: 1,

  // Targets of their own (their cost is not an inlined element's).
  sum: 1,
  mean: 1,
  max: 1,
  min: 1,
  logsumexp: 1,

  broadcast_like: 0,
  expand_dims: 0,
  squeeze: 0,
  part: 0,
  concat: 1,
  transpose: 0,
  matmul: 1,
  one_hot: 1,
  ctc: null,
  ctc_grad: null,
};

export type TargetKind = 'ew' | 'red' | 'mm' | 'cat';

/** A reduction that actually reduces (over no axes it is the identity, and inlines). */
export function isRealReduction(n: Node): boolean {
  return REDUCTIONS.has(n.op) && reductionAxes(n).length > 0;
}

export function reductionAxes(n: Node): number[] {
  const axes = reduceAxes(n.attrs, n.args[0]!.rank);
  for (const a of axes) int(a, 0, n.args[0]!.rank - 1);
  return axes;
}

/** How a node is computed when it is a target. */
export function targetKind(n: Node): TargetKind {
  if (isRealReduction(n)) return 'red';
  if (n.op === 'matmul') return 'mm';
  if (n.op === 'concat') return 'cat';
  return 'ew';
}

/**
 * Whether n is `A Aᵀ` or `Aᵀ A` for a matrix A: its buffer is symmetric, bit for bit (both
 * entries sum the same products in the same order), so it may be read at (j, i) for (i, j).
 */
export function isSymmetric(n: Node): boolean {
  if (n.op !== 'matmul' || n.rank !== 2) return false;
  const [a, b] = n.args as [Node, Node];
  const tOf = (t: Node, x: Node) => t.op === 'transpose' && t.args[0] === x && t.rank === 2 && Array.isArray(t.attrs.perm) && t.attrs.perm[0] === 1;
  return tOf(b, a) || tOf(a, b);
}

/** Whether the fused target knows this op at all. */
export function supported(n: Node): boolean {
  // (A node of an op newer than this table, built by hand, has no entry: not supported either.)
  return typeof FUSED_COST[n.op] === 'number';
}

/** The arguments whose values an op reads (the others only lend it their shape). */
export function valueArgs(n: Node): readonly Node[] {
  return (OPS[n.op] as OpSpec).shapeOnly ? n.args.filter((_, i) => readsValueOf(n.op, i)) : n.args;
}

/** Leaves that live in a buffer: bound inputs and literal tensors (param vectors, tensor). */
export function isBufferLeaf(n: Node, bound: ReadonlySet<Node>): boolean {
  return bound.has(n) || n.op === 'tensor' || (n.op === 'param' && Array.isArray(n.attrs.value));
}

/** Literal scalars: no buffer, no loop axes. */
export function isLiteral(n: Node): boolean {
  return n.op === 'const' || n.op === 'size' || (n.op === 'param' && !Array.isArray(n.attrs.value));
}

/** Broadcast position: `pos` of a node of rank `rank`, read for an argument of shape `shape`. */
function broadcastPos(pos: Pos, shape: readonly Sz[]): Ix[] {
  const shift = pos.length - shape.length;
  if (shift < 0) throw new Unsupported('argument of higher rank than its consumer');
  return shape.map((d, k) => (d === 1 ? Z : pos[k + shift]!));
}

/** A position with every size-1 axis of `shape` set to 0 (the only index it has). */
export function normPos(pos: Pos, shape: readonly Sz[]): Pos {
  if (pos.length !== shape.length) throw new Unsupported('position of the wrong rank');
  return pos.some((x, k) => shape[k] === 1 && x !== Z) ? pos.map((x, k) => (shape[k] === 1 ? Z : x)) : pos;
}

/**
 * Where each value argument of `n` is read when `n` is read at `pos` (n's own axes). Only for
 * inlinable ops; `one_hot` gives its labels' position (its last axis is compared, not read).
 */
export function argPositions(n: Node, pos: Pos): Pos[] {
  const args = valueArgs(n);
  switch (n.op) {
    case 'expand_dims': {
      const a = int(n.attrs.axis, 0, n.rank - 1);
      return [pos.filter((_, k) => k !== a)];
    }
    case 'squeeze': {
      const x = args[0]!;
      const a = int(n.attrs.axis, 0, x.rank - 1);
      const p = [...pos];
      p.splice(a, 0, Z);
      return [p];
    }
    case 'transpose': {
      const perm = n.attrs.perm;
      if (!Array.isArray(perm) || perm.length !== n.rank) throw new Unsupported('bad permutation');
      const p = new Array<Ix>(n.rank);
      perm.forEach((src, i) => (p[int(src, 0, n.rank - 1)] = pos[i]!));
      if (p.some((x) => x === undefined)) throw new Unsupported('bad permutation');
      return [p];
    }
    case 'part': {
      const x = args[0]!;
      const a = int(n.attrs.axis, 0, n.rank - 1);
      const parts = int(n.attrs.parts, 1);
      const index = int(n.attrs.index, 0, parts - 1);
      const size = dims(n)[a]!;
      // at a signature a part's size is the quotient atom x/parts, which times parts is not x again
      if (!szEq(szDiv(dims(x)[a]!, parts), size)) throw new Unsupported('part does not divide');
      const p = [...pos];
      p[a] = { d: pos[a]!.d, off: szAdd(pos[a]!.off, szMul(index, size)) };
      return [normPos(p, dims(x))];
    }
    case 'one_hot':
      return [pos.slice(0, -1)];
    default:
      // Elementwise ops (and reductions over no axes): NumPy broadcasting, right-aligned.
      return args.map((a) => broadcastPos(pos, dims(a)));
  }
}

/**
 * Elements (1M: 8 MiB of doubles) from which a buffer no longer fits in the caches: it costs a
 * store and a load per element from memory, so a value read twice is recomputed unless dear.
 */
export const LARGE = 1 << 20;

/** The cost of an op that is dear to recompute (exp, log, pow, ...): past LARGE, only a value with one is stored to be read twice. */
const DEAR = 10;

export interface Materialization {
  /** Nodes computed into buffers, arguments before users. */
  targets: Node[];
  targetSet: Set<Node>;
  /** Every node some target reads (through value edges), arguments before users. */
  order: Node[];
  index: Map<Node, number>;
}

/** Topological order over value edges only (shape-only arguments are never computed). */
function valueOrder(roots: readonly Node[], bound: ReadonlySet<Node>): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  const stack: Array<[Node, number]> = [];
  for (const r of roots) {
    if (seen.has(r)) continue;
    seen.add(r);
    stack.push([r, 0]);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [n, i] = top;
      const args = bound.has(n) ? [] : valueArgs(n);
      if (i < args.length) {
        top[1]++;
        const a = args[i]!;
        if (!seen.has(a)) {
          seen.add(a);
          stack.push([a, 0]);
        }
      } else {
        stack.pop();
        order.push(n);
      }
    }
  }
  return order;
}

/**
 * Upper bound of the cost of one element of each node inlined (tree sum; shared parts counted
 * twice), and whether that inlined tree has a dear op (a transcendental function) in it.
 */
function inlineCosts(order: readonly Node[], bound: ReadonlySet<Node>, forced: ReadonlySet<Node>): { cost: Map<Node, number>; dear: Map<Node, boolean> } {
  const cost = new Map<Node, number>();
  const dear = new Map<Node, boolean>();
  for (const n of order) {
    if (bound.has(n) || isBufferLeaf(n, bound) || isLiteral(n) || (n.rank === 0 && !forced.has(n))) {
      cost.set(n, 0);
      dear.set(n, false);
      continue;
    }
    let c = FUSED_COST[n.op] ?? 0;
    let d = c >= DEAR;
    for (const a of valueArgs(n)) {
      if (forced.has(a)) continue;
      c += cost.get(a)!;
      d ||= dear.get(a)!;
    }
    cost.set(n, Math.min(c, 1e6));
    dear.set(n, d);
  }
  return { cost, dear };
}

/**
 * Decide which nodes get buffers. Forced: roots, reductions, matmuls, concats (and the base of a
 * matmul operand that is not a view of a buffer). An elementwise node is also stored when it is
 * expensive and read by two or more targets (past the caches only when a transcendental op is
 * in it: cheap arithmetic is recomputed, as batch-hard's [N, N] masks and adjoints), or
 * non-trivial and read broadcast (its recomputation would repeat per broadcast element);
 * everything else is inlined into its readers' loops. Sizes are compared at a typical binding
 * (size.ts): the choice must not depend on a call's sizes. A scalar (1 / B, label_smoothing / C)
 * costs nothing per element: it is hoisted out of the loops.
 */
export function materialize(roots: readonly Node[], bound: ReadonlySet<Node>): Materialization {
  const order = valueOrder(roots, bound);
  const index = new Map<Node, number>();
  order.forEach((n, i) => index.set(n, i));

  const consumers = new Map<Node, Node[]>();
  for (const n of order) {
    if (bound.has(n)) continue;
    for (const a of new Set(valueArgs(n))) {
      let list = consumers.get(a);
      if (!list) consumers.set(a, (list = []));
      list.push(n);
    }
  }

  const forced = new Set<Node>(roots);
  for (const n of order) {
    if (bound.has(n)) continue;
    if (!supported(n)) throw new Unsupported(`op ${n.op}`);
    if (targetKind(n) !== 'ew') forced.add(n);
    if (n.op === 'matmul') {
      // Operands are read k times each: they must be buffers, or views of buffers.
      for (const a of n.args) {
        let base = a;
        while (VIEWS.has(base.op) && !bound.has(base)) base = base.args[0]!;
        if (!isBufferLeaf(base, bound) && !isLiteral(base)) forced.add(base);
      }
    }
  }

  const { cost, dear } = inlineCosts(order, bound, forced);

  const targetSet = new Set<Node>();
  const owners = new Map<Node, Set<Node>>();
  // once per target: a concat of a thousand pieces is the owner of each of them
  const iterSizes = new Map<Node, number>();
  const iterSize = (t: Node): number => {
    let s = iterSizes.get(t);
    if (s === undefined) iterSizes.set(t, (s = iterSizeOf(t)));
    return s;
  };
  const iterSizeOf = (t: Node): number => {
    switch (targetKind(t)) {
      case 'red':
        return szTypical(sizeOf(dims(t.args[0]!)));
      case 'mm':
        return szTypical(szMul(sizeOf(dims(t)), dims(t.args[0]!).at(-1)!));
      case 'cat':
        // each piece is written by its own loop over the piece
        return Math.max(...t.args.map((a) => szTypical(sizeOf(dims(a)))));
      default:
        return szTypical(sizeOf(dims(t)));
    }
  };
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    // Leaves are read where they are; a root that is a leaf gets a copy loop.
    if ((bound.has(n) || isBufferLeaf(n, bound)) && !forced.has(n)) continue;
    const own = new Set<Node>();
    for (const c of consumers.get(n) ?? []) {
      if (targetSet.has(c)) own.add(c);
      else for (const o of owners.get(c) ?? []) own.add(o);
    }
    let store = forced.has(n);
    if (!store && !isLiteral(n)) {
      const c = cost.get(n)!;
      const size = szTypical(sizeOf(dims(n)));
      const widest = Math.max(0, ...[...own].map(iterSize));
      if (own.size >= 2 && (size >= LARGE ? c >= 12 && dear.get(n)! : c >= 4)) store = true;
      else if (c >= 2 && size > 1 && size < widest) store = true;
    }
    if (store) targetSet.add(n);
    else owners.set(n, own);
  }
  const targets = order.filter((n) => targetSet.has(n));
  return { targets, targetSet, order, index };
}
