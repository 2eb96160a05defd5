// Loop nests of the fused target, part 1: grouping targets into nests. A nest iterates one index
// space (the "SX" axes: the shape of an elementwise target, or of a reduction's input with the kept
// axes outside and the reduced axes inside) and computes several targets in it: elementwise targets
// store once per element, reductions accumulate in the inner loops. Inside one outer iteration a
// nest runs one or more passes over its inner axes: a target that needs a reduction of the same
// nest at the same outer index (softmax needs its row's logsumexp) goes in a later pass, so a row is
// finished while it is still in cache. scope.ts builds the per-element values of a nest's items;
// plan.ts merges its loops and emits its code.

import type { Node } from '../../ir/node.js';
import type { ReduceOp } from '../../ir/ops.js';
import {
  argPositions,
  dims,
  isBufferLeaf,
  isLiteral,
  normPos,
  posKey,
  reductionAxes,
  sizeOf,
  stridesOf,
  targetKind,
  valueArgs,
  Z,
  type Ix,
  type Pos,
} from './graph.js';
import { int, Unsupported } from './scalar.js';
import { szAdd, szEq, szMul, type Sz } from './size.js';


/** The iteration space of a nest: axis sizes, the loop order, and how many loops are outer. */
export interface Space {
  sx: Sz[];
  perm: number[];
  outer: number;
}

/** A linear index form over SX axes: offset = c + sum(coefs[d] * i_d). */
export interface Form {
  coefs: Sz[];
  c: Sz;
}

export interface Item {
  /** The node whose buffer is written (the concat, for its pieces). */
  target: Node;
  kind: 'ew' | 'red' | 'mm' | 'copy';
  op: ReduceOp;
  pass: number;
  endPass: number;
  /** What is computed: one term, or two multiplied (matmul). */
  terms: Array<{ node: Node; pos: Pos }>;
  /** Number of elements averaged (mean). */
  count: Sz;
  store: Form;
  nest?: Nest;
  /**
   * A count of the entries tied for a max/min (`sum(x == max(x))`, the tie count of a
   * selection's adjoint) computed with that max in its own pass: its term is x itself, and it
   * counts online the entries equal at float32 to the running extreme (plan.ts).
   */
  tieOf?: Item;
}

export interface Nest {
  id: number;
  space: Space;
  items: Item[];
  passes: number;
  deps: Set<Nest>;
  /** Only the target that made it may live here (matmul, concat pieces). */
  sealed: boolean;
}

export const identity = (sx: readonly Sz[]): Pos => sx.map((d, k) => (d === 1 ? Z : { d: k, off: 0 }));

export function formOf(shape: readonly Sz[], pos: Pos, rank: number): Form {
  const st = stridesOf(shape);
  const coefs = new Array<Sz>(rank).fill(0);
  let c: Sz = 0;
  pos.forEach((x, k) => {
    if (shape[k] === 1) return;
    if (x.d >= 0) coefs[x.d] = szAdd(coefs[x.d]!, st[k]!);
    c = szAdd(c, szMul(x.off, st[k]!));
  });
  return { coefs, c };
}

// ---- Building items and nests ----------------------------------------------------------------

/** The items and space of one target (a concat gives one copy item per piece). */
export function itemsFor(t: Node): Array<{ space: Space; item: Item; sealed: boolean }> {
  const kind = targetKind(t);
  const base = { target: t, op: 'sum' as ReduceOp, pass: 0, endPass: 0, count: 1 };
  if (kind === 'ew') {
    const sx = dims(t);
    const space = { sx, perm: sx.map((_, k) => k), outer: sx.length };
    const pos = identity(sx);
    return [{ space, sealed: false, item: { ...base, kind: 'ew', terms: [{ node: t, pos }], store: formOf(sx, pos, sx.length) } }];
  }
  if (kind === 'red') {
    const x = t.args[0]!;
    const sx = dims(x);
    const axes = reductionAxes(t);
    const kept = sx.map((_, k) => k).filter((k) => !axes.includes(k));
    const op = t.op as ReduceOp;
    const outShape = dims(t);
    const keep = t.attrs.keepdims === true;
    // The output position in SX terms: kept axes by their loop axis, reduced axes at 0.
    const outPos: Ix[] = keep
      ? sx.map((d, k) => (axes.includes(k) || d === 1 ? Z : { d: k, off: 0 }))
      : kept.map((k) => (sx[k] === 1 ? Z : { d: k, off: 0 }));
    if (outPos.length !== outShape.length) throw new Unsupported('reduction shape');
    const space = { sx, perm: [...kept, ...axes], outer: kept.length };
    const item: Item = {
      ...base,
      op,
      kind: 'red',
      endPass: op === 'logsumexp' ? 1 : 0,
      count: sizeOf(axes.map((a) => sx[a]!)),
      terms: [{ node: x, pos: identity(sx) }],
      store: formOf(outShape, outPos, sx.length),
    };
    return [{ space, sealed: false, item }];
  }
  if (kind === 'mm') {
    const [a, b] = t.args as [Node, Node];
    const out = dims(t);
    const da = dims(a);
    const db = dims(b);
    const nb = out.length - 2;
    const k = da.at(-1)!;
    if (da.length < 2 || db.length < 2 || !szEq(db.at(-2)!, k)) throw new Unsupported('matmul shapes');
    const sx = [...out, k];
    const batchPos = (shape: Sz[]): Ix[] => {
      const lead = shape.length - 2;
      return shape.slice(0, lead).map((d, i) => (d === 1 ? Z : { d: nb - lead + i, off: 0 }));
    };
    const ix = (d: number): Ix => (sx[d] === 1 ? Z : { d, off: 0 });
    const posA = normPos([...batchPos(da), ix(nb), ix(nb + 2)], da);
    const posB = normPos([...batchPos(db), ix(nb + 2), ix(nb + 1)], db);
    const space = { sx, perm: sx.map((_, i) => i), outer: nb + 2 };
    const item: Item = {
      ...base,
      kind: 'mm',
      terms: [
        { node: a, pos: posA },
        { node: b, pos: posB },
      ],
      store: formOf(out, identity(out), sx.length),
    };
    return [{ space, sealed: true, item }];
  }
  // concat: one copy loop per piece, writing at its offset along the axis.
  const out = dims(t);
  const axis = int(t.attrs.axis, 0, out.length - 1);
  const st = stridesOf(out);
  let offset: Sz = 0;
  return t.args.map((a) => {
    const sx = dims(a);
    if (sx.length !== out.length || sx.some((d, k) => k !== axis && !szEq(d, out[k]!))) throw new Unsupported('concat shapes');
    const store = { coefs: sx.map((d, k) => (d === 1 ? 0 : st[k]!)), c: szMul(offset, st[axis]!) };
    offset = szAdd(offset, sx[axis]!);
    const space = { sx, perm: sx.map((_, k) => k), outer: sx.length };
    // Not sealed: a piece's loop joins other loops over its shape (the pieces of a gradient
    // split three ways are computed in one loop and written straight to their places).
    return { space, sealed: false, item: { ...base, kind: 'copy' as const, terms: [{ node: a, pos: identity(sx) }], store } };
  });
}

export interface Graph {
  bound: ReadonlyMap<Node, number>;
  boundSet: ReadonlySet<Node>;
  targets: ReadonlySet<Node>;
  index: ReadonlyMap<Node, number>;
}

/** Targets (not leaves or literals) that `terms` read, with positions, through inlined nodes. */
function targetReads(g: Graph, item: Item): Array<{ node: Node; pos: Pos }> {
  const out: Array<{ node: Node; pos: Pos }> = [];
  const seen = new Set<string>();
  // An elementwise item's term is its own target, computed here (not read).
  const stack = item.terms.map((t) => ({ node: t.node, pos: normPos(t.pos, dims(t.node)), top: t.node === item.target && item.kind === 'ew' }));
  while (stack.length) {
    const { node: n, pos, top } = stack.pop()!;
    const key = `${n.id}|${posKey(pos)}|${top}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (g.boundSet.has(n) || isBufferLeaf(n, g.boundSet) || isLiteral(n)) continue;
    if (g.targets.has(n) && !top) {
      out.push({ node: n, pos });
      continue;
    }
    const args = valueArgs(n);
    argPositions(n, pos).forEach((p, i) => stack.push({ node: args[i]!, pos: normPos(p, dims(args[i]!)), top: false }));
  }
  return out;
}

export const isIdentity = (pos: Pos, sx: readonly Sz[]): boolean =>
  pos.length === sx.length && pos.every((x, k) => (sx[k] === 1 ? true : x.d === k && x.off === 0));

/** Whether reading item `it`'s target at `pos` only touches entries of the current outer index. */
export function outerIdentity(it: Item, pos: Pos, space: Space): boolean {
  const outer = new Set(space.perm.slice(0, space.outer));
  const sx = space.sx;
  if (it.kind === 'ew') {
    return pos.length === sx.length && pos.every((x, k) => !outer.has(k) || sx[k] === 1 || (x.d === k && x.off === 0));
  }
  if (it.kind === 'red') {
    // Output axes in SX terms: which SX axis each output axis is.
    const keep = it.target.attrs.keepdims === true;
    const axesOut = keep ? sx.map((_, k) => k) : space.perm.slice(0, space.outer);
    return pos.length === axesOut.length && pos.every((x, j) => {
      const k = axesOut[j]!;
      return !outer.has(k) || sx[k] === 1 || (x.d === k && x.off === 0);
    });
  }
  return false;
}

const sameArr = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const sameSizes = (a: readonly Sz[], b: readonly Sz[]) => a.length === b.length && a.every((x, i) => szEq(x, b[i]!));

type ItemsOf = Map<Node, Item[]>;

function reaches(from: Nest, to: Nest): boolean {
  const seen = new Set<Nest>();
  const stack = [from];
  while (stack.length) {
    const n = stack.pop()!;
    if (n === to) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const d of n.deps) stack.push(d);
  }
  return false;
}

function externalNests(itemsOf: ItemsOf, reads: Array<{ node: Node }>, self?: Nest): Set<Nest> {
  const s = new Set<Nest>();
  for (const r of reads) for (const it of itemsOf.get(r.node) ?? []) if (it.nest !== self) s.add(it.nest!);
  return s;
}

/** The space `item` would run in if it joined `nest` (the nest's, or its own when it splits an elementwise nest), or undefined. */
function joinedSpace(nest: Nest, item: Item, space: Space): Space | undefined {
  if (nest.sealed || !sameSizes(nest.space.sx, space.sx)) return undefined;
  const identityPerm = nest.space.perm.every((p, i) => p === i);
  if (item.kind === 'ew' || item.kind === 'copy') return identityPerm ? nest.space : undefined;
  // A reduction: same loop order and split, or an all-elementwise nest it can split.
  if (nest.items.some((i) => i.kind === 'red')) {
    return sameArr(nest.space.perm, space.perm) && nest.space.outer === space.outer ? nest.space : undefined;
  }
  return space.perm.every((p, i) => p === i) ? space : undefined;
}

/** Put `item` into `nest` if everything it reads is available there; whether it did. */
function tryJoin(itemsOf: ItemsOf, nest: Nest, item: Item, space: Space, reads: Array<{ node: Node; pos: Pos }>): boolean {
  const trial = joinedSpace(nest, item, space);
  if (!trial) return false;
  let pass = 0;
  for (const r of reads) {
    const its = itemsOf.get(r.node) ?? [];
    const inNest = its.find((i) => i.nest === nest);
    if (inNest) {
      if (inNest.kind === 'ew' && isIdentity(r.pos, trial.sx)) pass = Math.max(pass, inNest.pass);
      else if (outerIdentity(inNest, r.pos, trial)) pass = Math.max(pass, inNest.endPass + 1);
      else return false;
    } else if (its.some((it) => reaches(it.nest!, nest))) return false;
  }
  nest.space = trial;
  item.pass = pass;
  item.endPass += pass;
  item.nest = nest;
  nest.items.push(item);
  nest.passes = Math.max(nest.passes, item.endPass + 1);
  for (const d of externalNests(itemsOf, reads, nest)) nest.deps.add(d);
  return true;
}

/** The nests with producers first (deps are acyclic by construction). */
function producersFirst(nests: readonly Nest[]): Nest[] {
  const ordered: Nest[] = [];
  const state = new Map<Nest, number>();
  for (const root of nests) {
    if (state.has(root)) continue;
    const stack: Array<[Nest, Nest[]]> = [[root, [...root.deps]]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const next = top[1].pop();
      if (next) {
        const s = state.get(next);
        if (s === 1) throw new Error('fused: cyclic nest dependencies');
        if (s === undefined) {
          state.set(next, 1);
          stack.push([next, [...next.deps]]);
        }
      } else {
        stack.pop();
        state.set(top[0], 2);
        ordered.push(top[0]);
      }
    }
  }
  return ordered;
}

/**
 * Group targets (in topological order) into nests: a target joins an existing nest of the same
 * index space when everything it reads from that nest is available at the same outer index (in
 * an earlier pass, or as this pass's value at the very same element), and joining creates no
 * cycle between nests. Returns the nests in an order that runs producers first.
 */
export function groupNests(g: Graph, targets: readonly Node[]): { nests: Nest[]; itemsOf: ItemsOf } {
  const nests: Nest[] = [];
  const itemsOf: ItemsOf = new Map();
  for (const t of targets) {
    const list: Item[] = [];
    itemsOf.set(t, list);
    for (const { space, item, sealed } of itemsFor(t)) {
      if (joinTieCount(g, itemsOf, item, space)) {
        list.push(item);
        continue;
      }
      const reads = targetReads(g, item);
      if (sealed || !nests.some((nest) => tryJoin(itemsOf, nest, item, space, reads))) {
        const nest: Nest = { id: nests.length, space, items: [item], passes: item.endPass + 1, deps: new Set(), sealed };
        item.nest = nest;
        for (const d of externalNests(itemsOf, reads)) nest.deps.add(d);
        nests.push(nest);
      }
      list.push(item);
    }
  }
  return { nests: producersFirst(nests), itemsOf };
}

/** The max/min whose ties `t` counts (t = sum(float(x == max(x))) over max's axes), or undefined. */
function tiedExtreme(t: Node): { m: Node; x: Node } | undefined {
  if (t.op !== 'sum') return undefined;
  const c = t.args[0]!;
  if (c.op !== 'cast' || c.dtype !== 'float32' || c.args[0]!.op !== 'eq') return undefined;
  const [p, q] = c.args[0]!.args as [Node, Node];
  const strip = (n: Node) => {
    while (n.op === 'expand_dims' || n.op === 'broadcast_like') n = n.args[0]!;
    return n;
  };
  for (const [x, k] of [
    [p, q],
    [q, p],
  ] as const) {
    const m = strip(k);
    if ((m.op === 'max' || m.op === 'min') && m.args[0] === x && reductionAxes(m).join() === reductionAxes(t).join()) return { m, x };
  }
  return undefined;
}

/** Put a tie count into its max's pass (item.tieOf), when it reads x there at the same elements; whether it did. */
function joinTieCount(g: Graph, itemsOf: ItemsOf, item: Item, space: Space): boolean {
  const tied = item.kind === 'red' ? tiedExtreme(item.target) : undefined;
  const ext = tied && (itemsOf.get(tied.m) ?? []).find((i) => i.kind === 'red');
  if (!tied || !ext || !sameSizes(ext.nest!.space.sx, space.sx) || dims(tied.x).length !== space.sx.length) return false;
  const trial: Item = { ...item, terms: [{ node: tied.x, pos: identity(space.sx) }] };
  const nest = ext.nest!;
  const before = { space: nest.space, passes: nest.passes, deps: new Set(nest.deps), items: nest.items.length };
  if (!tryJoin(itemsOf, nest, trial, space, targetReads(g, trial))) return false;
  if (trial.pass !== ext.pass || nest.space !== before.space) {
    // joined a later pass (or changed the loops): undo, and count the ties the plain way
    Object.assign(nest, { space: before.space, passes: before.passes, deps: before.deps });
    nest.items.length = before.items;
    return false;
  }
  Object.assign(item, trial, { tieOf: ext });
  nest.items[nest.items.length - 1] = item;
  return true;
}
