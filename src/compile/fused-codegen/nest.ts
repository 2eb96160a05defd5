// Loop nests of the fused target. A nest iterates one index space (the "SX" axes: the shape of an
// elementwise target, or of a reduction's input with the kept axes outside and the reduced axes
// inside) and computes several targets in it: elementwise targets store once per element,
// reductions accumulate in the inner loops. Inside one outer iteration a nest runs one or more
// passes over its inner axes: a target that needs a reduction of the same nest at the same outer
// index (softmax needs its row's logsumexp) goes in a later pass, so a row is finished while it
// is still in cache. Everything a target reads that is not a buffer is inlined as one `const` per
// (node, position), hoisted to the outermost loop it depends on.

import type { Node } from '../../ir/node.js';
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
  VIEW_OPS,
  Z,
  type Ix,
  type Pos,
} from './graph.js';
import {
  binaryCode,
  castCode,
  coerceConst,
  int,
  lit,
  powCode,
  stepLines,
  unaryCode,
  Unsupported,
  EXP_STEPS,
  LOG1P01_STEPS,
  type Helper,
  type Step,
} from './scalar.js';

type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'logsumexp';

/** The iteration space of a nest: axis sizes, the loop order, and how many loops are outer. */
export interface Space {
  sx: number[];
  perm: number[];
  outer: number;
}

/** A linear index form over SX axes: offset = c + sum(coefs[d] * i_d). */
interface Form {
  coefs: number[];
  c: number;
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
  count: number;
  store: Form;
  nest?: Nest;
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

const identity = (sx: readonly number[]): Pos => sx.map((d, k) => (d === 1 ? Z : { d: k, off: 0 }));

function formOf(shape: readonly number[], pos: Pos, rank: number): Form {
  const st = stridesOf(shape);
  const coefs = new Array<number>(rank).fill(0);
  let c = 0;
  pos.forEach((x, k) => {
    if (shape[k] === 1) return;
    if (x.d >= 0) coefs[x.d] = coefs[x.d]! + st[k]!;
    c += x.off * st[k]!;
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
    if (db.at(-2) !== k || da.length < 2 || db.length < 2) throw new Unsupported('matmul shapes');
    const sx = [...out, k];
    const batchPos = (shape: number[]): Ix[] => {
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
  let offset = 0;
  return t.args.map((a) => {
    const sx = dims(a);
    if (sx.length !== out.length || sx.some((d, k) => k !== axis && d !== out[k])) throw new Unsupported('concat shapes');
    const store = { coefs: sx.map((d, k) => (d === 1 ? 0 : st[k]!)), c: offset * st[axis]! };
    offset += sx[axis]!;
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

const isIdentity = (pos: Pos, sx: readonly number[]): boolean =>
  pos.length === sx.length && pos.every((x, k) => (sx[k] === 1 ? true : x.d === k && x.off === 0));

/** Whether reading item `it`'s target at `pos` only touches entries of the current outer index. */
function outerIdentity(it: Item, pos: Pos, space: Space): boolean {
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

/**
 * Group targets (in topological order) into nests: a target joins an existing nest of the same
 * index space when everything it reads from that nest is available at the same outer index (in
 * an earlier pass, or as this pass's value at the very same element), and joining creates no
 * cycle between nests. Returns the nests in an order that runs producers first.
 */
export function groupNests(g: Graph, targets: readonly Node[]): { nests: Nest[]; itemsOf: Map<Node, Item[]> } {
  const nests: Nest[] = [];
  const itemsOf = new Map<Node, Item[]>();
  const reaches = (from: Nest, to: Nest): boolean => {
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
  };
  const externalNests = (reads: Array<{ node: Node }>, self?: Nest): Set<Nest> => {
    const s = new Set<Nest>();
    for (const r of reads) for (const it of itemsOf.get(r.node) ?? []) if (it.nest !== self) s.add(it.nest!);
    return s;
  };

  for (const t of targets) {
    const made = itemsFor(t);
    const list: Item[] = [];
    itemsOf.set(t, list);
    for (const { space, item, sealed } of made) {
      const reads = targetReads(g, item);
      let placed = false;
      if (!sealed) {
        for (const nest of nests) {
          if (nest.sealed || !sameArr(nest.space.sx, space.sx)) continue;
          const nestHasRed = nest.items.some((i) => i.kind === 'red');
          const identityPerm = nest.space.perm.every((p, i) => p === i);
          let convert = false;
          if (item.kind === 'ew' || item.kind === 'copy') {
            if (!identityPerm) continue;
          } else {
            // A reduction: same loop order and split, or an all-elementwise nest it can split.
            if (nestHasRed) {
              if (!sameArr(nest.space.perm, space.perm) || nest.space.outer !== space.outer) continue;
            } else {
              if (!space.perm.every((p, i) => p === i)) continue;
              convert = true;
            }
          }
          const trial: Space = convert ? space : nest.space;
          let pass = 0;
          let ok = true;
          for (const r of reads) {
            const its = itemsOf.get(r.node) ?? [];
            const inNest = its.find((i) => i.nest === nest);
            if (inNest) {
              if (inNest.kind === 'ew' && isIdentity(r.pos, trial.sx)) pass = Math.max(pass, inNest.pass);
              else if (outerIdentity(inNest, r.pos, trial)) pass = Math.max(pass, inNest.endPass + 1);
              else ok = false;
            } else {
              for (const it of its) if (reaches(it.nest!, nest)) ok = false;
            }
            if (!ok) break;
          }
          if (!ok) continue;
          if (convert) nest.space = space;
          item.pass = pass;
          item.endPass += pass;
          item.nest = nest;
          nest.items.push(item);
          nest.passes = Math.max(nest.passes, item.endPass + 1);
          for (const d of externalNests(reads, nest)) nest.deps.add(d);
          placed = true;
          break;
        }
      }
      if (!placed) {
        const nest: Nest = { id: nests.length, space, items: [item], passes: item.endPass + 1, deps: new Set(), sealed };
        item.nest = nest;
        for (const d of externalNests(reads)) nest.deps.add(d);
        nests.push(nest);
      }
      list.push(item);
    }
  }

  // Producers first (deps are acyclic by construction).
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
  return { nests: ordered, itemsOf };
}

// ---- Emission ---------------------------------------------------------------------------------

type Val = string | Local;

interface Local {
  name: string;
  key: string;
  /** Emission order within a level: topological index of the node (-1: index arithmetic). */
  order: number;
  deps: Local[];
  /** The pass of this nest whose results it reads (-1: none). */
  nestDep: number;
  level: number;
  render: () => string;
  /** A buffer read: which buffer and the SX form of the offset. */
  read?: { node: Node; form: Form };
  /** The lowest loop level it may live at (a read of softmax's scratch array: the element's loop). */
  minLevel?: number;
  /** The value of loop axis d (plus off). */
  index?: Ix;
  emitted?: boolean;
}

/** What emission needs from the whole kernel: names, and bookkeeping of buffer use. */
export interface Ctx {
  g: Graph;
  itemsOf: ReadonlyMap<Node, Item[]>;
  /** Buffer of a bound input / literal tensor, by node. */
  leafName(n: Node): string;
  /** The buffer a target is read from (marks it as read). */
  readName(n: Node): string;
  /** The buffers a target's value is stored into. */
  storeNames(n: Node): string[];
  useHelper(h: Helper): void;
  fresh(prefix: string): string;
  /** A Float64Array of `size` made once per kernel, for per-row scratch values. */
  scratch(size: number): string;
}

/**
 * A logsumexp whose exponentials a later pass of its row reuses: softmax's exp(x - lse(x)) is
 * exp(x - max) / sum, both already computed by the logsumexp's second pass, which keeps them in
 * a row-sized scratch array (one exp per element instead of two).
 */
interface SharedExp {
  /** The row-offset form of an element (the reduced axes, row-major). */
  inner: Form;
  /** Names given at emission: the running max, the sum of exponentials, the scratch array. */
  names: { a?: string; s?: string; w?: string };
  /** The places that read the scratch array, their locals and offset code (set when planned). */
  reads: Array<{ scope: Scope; local?: Local; off?: () => string }>;
}

const code = (v: Val): string => (typeof v === 'string' ? v : v.name);

class Scope {
  readonly locals = new Map<string, Local>();
  readonly all: Local[] = [];
  constructor(
    readonly ctx: Ctx,
    readonly nest: Nest,
    readonly pass: number,
    readonly sharedExps: Map<Item, SharedExp>,
  ) {}

  private add(l: Omit<Local, 'name' | 'level'>, prefix = 't'): Local {
    const local: Local = { ...l, name: this.ctx.fresh(prefix), level: -1 };
    this.locals.set(l.key, local);
    this.all.push(local);
    return local;
  }

  private combine(key: string, order: number, deps: Val[], render: () => string): Local {
    const ls = deps.filter((d): d is Local => typeof d !== 'string');
    let nestDep = -1;
    for (const l of ls) nestDep = Math.max(nestDep, l.nestDep);
    return this.add({ key, order, deps: ls, nestDep, render });
  }

  indexOf(x: Ix): Val {
    if (x.d < 0) return lit(x.off);
    const key = `I:${x.d}:${x.off}`;
    return this.locals.get(key) ?? this.add({ key, order: -1, deps: [], nestDep: -1, render: () => '', index: x }, 'j');
  }

  private readOf(n: Node, pos: Pos, nestDep: number): Local {
    const key = `R:${n.id}:${posKey(pos)}`;
    const hit = this.locals.get(key);
    if (hit) return hit;
    const form = formOf(dims(n), pos, this.nest.space.sx.length);
    return this.add({ key, order: this.ctx.g.index.get(n) ?? -1, deps: [], nestDep, render: () => '', read: { node: n, form } });
  }

  /**
   * How `n` at `pos` is had without looking at its arguments: a buffer read, a literal, or an
   * already built local; otherwise the key and normalised position under which to build it.
   */
  private direct(n: Node, p: Pos): { val: Val } | { key: string; pos: Pos } {
    const { g } = this.ctx;
    const pos = normPos(p, dims(n));
    if (g.boundSet.has(n) || isBufferLeaf(n, g.boundSet)) return { val: this.readOf(n, pos, -1) };
    if (isLiteral(n)) return { val: literalOf(n) };
    if (g.targets.has(n)) {
      const its = this.ctx.itemsOf.get(n) ?? [];
      if (its.length === 0) throw new Error('fused: target without items');
      const here = its.find((i) => i.nest === this.nest);
      if (!here || here.kind === 'copy' || here.kind === 'mm') return { val: this.readOf(n, pos, -1) };
      if (here.kind === 'ew' && here.pass === this.pass && isIdentity(pos, this.nest.space.sx)) {
        // Computed in this very pass at this very element: use the value, not the buffer.
      } else if (here.endPass < this.pass && outerIdentity(here, pos, this.nest.space)) {
        return { val: this.readOf(n, pos, here.endPass) };
      } else {
        throw new Error(`fused: ${n.op} read where it is not available`);
      }
    }
    const key = `V:${n.id}:${posKey(pos)}`;
    const hit = this.locals.get(key);
    return hit ? { val: hit } : { key, pos };
  }

  /**
   * The value of node `n` at position `pos` (of n's axes, in loop axes of this nest). Walks the
   * inlined expression with an explicit stack (a chain of any depth is fine).
   */
  value(n0: Node, p0: Pos): Val {
    const first = this.direct(n0, p0);
    if ('val' in first) return first.val;
    interface Frame {
      n: Node;
      key: string;
      pos: Pos;
      args: readonly Node[];
      aps: Pos[];
      vs: Val[];
    }
    const frame = (n: Node, key: string, pos: Pos): Frame => ({ n, key, pos, args: valueArgs(n), aps: argPositions(n, pos), vs: [] });
    const stack: Frame[] = [frame(n0, first.key, first.pos)];
    for (;;) {
      const f = stack[stack.length - 1]!;
      if (f.vs.length < f.args.length) {
        const i = f.vs.length;
        const d = this.direct(f.args[i]!, f.aps[i]!);
        if ('val' in d) f.vs.push(d.val);
        else stack.push(frame(f.args[i]!, d.key, d.pos));
        continue;
      }
      stack.pop();
      const v = this.locals.get(f.key) ?? this.build(f.n, f.key, f.pos, f.vs);
      if (stack.length === 0) return v;
      stack[stack.length - 1]!.vs.push(v);
    }
  }

  /** The local computing inlined node `n` at `pos` from its arguments' values `vs`. */
  private build(n: Node, key: string, pos: Pos, vs: Val[]): Val {
    const order = this.ctx.g.index.get(n) ?? -1;
    const use = (h: Helper) => this.ctx.useHelper(h);
    if (VIEW_OPS.has(n.op)) return vs[0]!; // positions were mapped by argPositions already
    switch (n.op) {
      case 'indices': {
        const v = this.indexOf(pos[0]!);
        return typeof v === 'string' ? v : this.combine(key, order, [v], () => code(v));
      }
      case 'one_hot': {
        const j = this.indexOf(pos[pos.length - 1]!);
        return this.combine(key, order, [...vs, j], () => `(${code(vs[0]!)} === ${code(j)} ? 1 : 0)`);
      }
      case 'cast': {
        const from = n.args[0]!.dtype;
        return this.combine(key, order, vs, () => castCode(code(vs[0]!), from, n.dtype));
      }
      case 'sum':
      case 'mean':
      case 'max':
      case 'min':
      case 'logsumexp':
        // Reductions over no axes (the others are targets): the argument itself.
        return vs[0]!;
      case 'where':
        return this.numbered(n.op, key, order, vs, () => `(${code(vs[0]!)} !== 0 ? ${code(vs[1]!)} : ${code(vs[2]!)})`);
      case 'clip':
        return this.numbered(n.op, key, order, vs, () => `Math.min(Math.max(${code(vs[0]!)}, ${code(vs[1]!)}), ${code(vs[2]!)})`);
      case 'pow': {
        const e = n.args[1]!;
        const ev = isLiteral(e) ? literalNumber(e) : undefined;
        return this.numbered(n.op, key, order, vs, () => powCode(code(vs[0]!), code(vs[1]!), ev));
      }
      case 'exp': {
        const x = vs[0]!;
        const shared = this.softmaxExp(n, key, order, pos, x);
        if (shared) return shared;
        if (typeof x === 'string') return this.numbered(n.op, key, order, vs, () => unaryCode(n.op, x, use)!);
        return this.reuse('exp', [x], key, () => this.steps(EXP_STEPS, x, key));
      }
      case 'sigmoid':
      case 'softplus': {
        const x = vs[0]!;
        if (typeof x !== 'string') return this.logistic(n.op, key, order, x);
        return this.numbered(n.op, key, order, vs, () => unaryCode(n.op, code(x), use)!);
      }
      default: {
        if (vs.length === 1 && unaryCode(n.op, 'x', () => {}) !== undefined) {
          return this.numbered(n.op, key, order, vs, () => unaryCode(n.op, code(vs[0]!), use)!);
        }
        if (vs.length === 2 && binaryCode(n.op, 'a', 'b') !== undefined) {
          return this.numbered(n.op, key, order, vs, () => binaryCode(n.op, code(vs[0]!), code(vs[1]!))!);
        }
        throw new Unsupported(`op ${n.op}`);
      }
    }
  }

  /**
   * exp(x - lse(x)) at an element of a row whose logsumexp this nest finished in an earlier
   * pass: that pass's exp(x - max), kept in the scratch array, over its sum. Rows with a
   * non-finite max (where lse is not max + log(sum)) take the exp as written.
   */
  private softmaxExp(n: Node, key: string, order: number, pos: Pos, arg: Val): Val | undefined {
    const d = n.args[0]!;
    if (d.op !== 'sub' || typeof arg === 'string') return undefined;
    const x = d.args[0]!;
    const [px, pl0] = argPositions(d, pos) as [Pos, Pos];
    let l = d.args[1]!;
    let pl = pl0;
    while (l.op === 'broadcast_like' || l.op === 'expand_dims') {
      pl = argPositions(l, pl)[0]!;
      l = l.args[0]!;
    }
    if (l.op !== 'logsumexp' || l.args[0] !== x) return undefined;
    const it = (this.ctx.itemsOf.get(l) ?? []).find((i) => i.nest === this.nest && i.kind === 'red' && i.op === 'logsumexp');
    if (!it || it.endPass >= this.pass || it.pass === it.endPass) return undefined;
    const dx = dims(x);
    if (posKey(normPos(px, dx)) !== posKey(normPos(it.terms[0]!.pos, dx))) return undefined;
    if (!outerIdentity(it, normPos(pl, dims(l)), this.nest.space)) return undefined;
    let shared = this.sharedExps.get(it);
    if (!shared) {
      const { sx, perm, outer } = this.nest.space;
      const coefs = sx.map(() => 0);
      let stride = 1;
      for (const k of [...perm.slice(outer)].reverse()) {
        coefs[k] = sx[k] === 1 ? 0 : stride;
        stride *= sx[k]!;
      }
      shared = { inner: { coefs, c: 0 }, names: {}, reads: [] };
      this.sharedExps.set(it, shared);
    }
    const read: { scope: Scope; local?: Local; off?: () => string } = { scope: this };
    shared.reads.push(read);
    const names = shared.names;
    // It reads the scratch array per element, even where its argument is the same along the row
    // (x broadcast over it), so it stays in the element's loop (its level is set when planned).
    read.local = this.combine(key, order, [arg], () => `(${names.a} - ${names.a} === 0 ? ${names.w}[${read.off!()}] / ${names.s} : Math.exp(${code(arg)}))`);
    return read.local;
  }

  // ---- Value numbering. The gradient rebuilds values the forward pass already has, written
  // differently: b * a for a * b, 1 - x for -(x - 1), y * -x for -(x * y). These identities are
  // exact in IEEE arithmetic, so recognising them changes no result, only the work done.

  /** For a local made by negating another: that other, and back. */
  private readonly negOf = new Map<Local, Local>();
  /** A local as ±(the earliest local of its negation family). */
  private readonly family = new Map<Local, { rep: Local; negated: boolean }>();

  private familyOf(x: Local): { rep: Local; negated: boolean } {
    return this.family.get(x) ?? { rep: x, negated: false };
  }

  /** `hit` also answers to `key` from now on. */
  private alias(key: string, hit: Local): Local {
    this.locals.set(key, hit);
    return hit;
  }

  /** The local already built for op(vs) under another node (now also answering to `key`), else make(). */
  private reuse(op: string, vs: readonly Val[], key: string, make: () => Local): Local {
    const sk = structuralKey(op, vs);
    const hit = this.locals.get(sk);
    if (hit) return this.alias(key, hit);
    const made = make();
    this.locals.set(sk, made);
    return made;
  }

  /** The local for op(vs), unless the same value (up to the identities above) is already built. */
  private numbered(op: string, key: string, order: number, vs: Val[], render: () => string): Val {
    return this.reuse(op, vs, key, () => this.numberedAnew(op, key, order, vs, render));
  }

  private numberedAnew(op: string, key: string, order: number, vs: Val[], render: () => string): Local {
    const x = vs[0]!;
    if (op === 'neg' && typeof x !== 'string') return this.negate(key, order, x);
    if (op === 'sub') {
      const swapped = this.locals.get(structuralKey('sub', [vs[1]!, x]));
      if (swapped) return this.negate(key, order, swapped);
    }
    if (op === 'mul' || op === 'div') {
      for (let i = 0; i < 2; i++) {
        const v = vs[i]!;
        const positive = typeof v === 'string' ? undefined : this.negOf.get(v);
        if (!positive) continue;
        const other = this.locals.get(structuralKey(op, i === 0 ? [positive, vs[1]!] : [x, positive]));
        if (other) return this.negate(key, order, other);
      }
    }
    return this.combine(key, order, vs, render);
  }

  /** -x, built once. */
  private negate(key: string, order: number, x: Local): Local {
    const known = this.negOf.get(x);
    if (known) return this.alias(key, known);
    const made = this.combine(key, order, [x], () => `-${code(x)}`);
    this.locals.set(structuralKey('neg', [x]), made);
    this.negOf.set(x, made);
    this.negOf.set(made, x);
    const f = this.familyOf(x);
    this.family.set(made, { rep: f.rep, negated: !f.negated });
    return made;
  }

  /** A local computed once per scope under `key` (shared subexpressions of several ops). */
  private once(key: string, deps: Local[], render: () => string): Local {
    const hit = this.locals.get(key);
    if (hit) return hit;
    let order = -1;
    for (const d of deps) order = Math.max(order, d.order);
    return this.combine(key, order, deps, render);
  }

  /**
   * A function given as straight-line steps (scalar.ts: EXP_STEPS, LOG1P01_STEPS) applied to
   * `x`: one local per step, the last one under `key` (found again there if already built).
   */
  private steps(steps: readonly Step[], x: Local, key: string): Local {
    const hit = this.locals.get(key);
    if (hit) return hit;
    const made = new Map<string, Local>([['x', x]]);
    const name = (id: string) => code(made.get(id)!);
    let last = x;
    steps.forEach((st, i) => {
      const k = i === steps.length - 1 ? key : `${key}:${st.id}`;
      last = this.once(k, st.deps.map((d) => made.get(d)!), () => st.code(name));
      made.set(st.id, last);
    });
    if (steps === EXP_STEPS) this.ctx.useHelper('pow2');
    return last;
  }

  /**
   * sigmoid and softplus of ±r share one exp(-|r|) (and softplus one log1p of it): a focal
   * loss's gradient asks for sigmoid(z), sigmoid(-z), softplus(-z)... of one z. Same formulas
   * as the stand-alone helpers, so the same results.
   */
  private logistic(op: 'sigmoid' | 'softplus', key: string, order: number, x: Local): Val {
    return this.reuse(op, [x], key, () => this.logisticAnew(op, key, order, x));
  }

  private logisticAnew(op: 'sigmoid' | 'softplus', key: string, order: number, x: Local): Local {
    const { rep, negated } = this.familyOf(x);
    const minusAbs = this.once(`A:${rep.key}`, [rep], () => `-Math.abs(${code(rep)})`);
    const e = this.steps(EXP_STEPS, minusAbs, `X:${rep.key}`);
    let made: Local;
    if (op === 'sigmoid') {
      // 1 / (1 + e) is the sigmoid of the one of ±r that is >= 0; e / (1 + e) the other's.
      const big = this.once(`Q:${rep.key}`, [e], () => `1 / (1 + ${code(e)})`);
      const small = () => `${code(e)} * ${code(big)}`;
      made = this.combine(key, order, [x, rep, e, big], () =>
        negated ? `(${code(rep)} >= 0 ? ${small()} : ${code(big)})` : `(${code(rep)} >= 0 ? ${code(big)} : ${small()})`,
      );
    } else {
      const l = this.steps(LOG1P01_STEPS, e, `L:${rep.key}`); // e = exp(-|r|) is in [0, 1]
      made = this.combine(key, order, [x, l], () => `Math.max(${code(x)}, 0) + ${code(l)}`);
    }
    return made;
  }
}

const COMMUTATIVE = new Set(['add', 'mul', 'maximum', 'minimum', 'eq', 'ne', 'and', 'or']);

/** What op(vs) computes, as a key: its op and its arguments' keys (sorted where order is free). */
function structuralKey(op: string, vs: readonly Val[]): string {
  const ks = vs.map((v) => (typeof v === 'string' ? v : v.key));
  if (COMMUTATIVE.has(op)) ks.sort();
  return `S:${op}:${ks.join('|')}`;
}

/** The number a literal node stands for. */
function literalNumber(n: Node): number {
  switch (n.op) {
    case 'const':
      return coerceConst(n.attrs.value, n.dtype);
    case 'param':
      return coerceConst(n.attrs.value, 'float32');
    case 'size': {
      const x = dims(n.args[0]!);
      return sizeOf(reductionAxes(n).map((a) => x[a]!));
    }
    default:
      throw new Unsupported(`literal ${n.op}`);
  }
}

const literalOf = (n: Node): string => lit(literalNumber(n));

/** Merge adjacent loop axes that every index form walks contiguously (fewer, longer loops). */
function mergeLoops(space: Space, forms: Form[]): { groups: number[][]; outer: number } {
  const { sx, perm, outer } = space;
  const split = (ps: number[]) => {
    const groups: number[][] = [];
    for (const d of ps) {
      if (sx[d] === 1) continue;
      const last = groups[groups.length - 1];
      const prev = last?.[last.length - 1];
      if (last && prev !== undefined && forms.every((f) => f.coefs[prev] === f.coefs[d]! * sx[d]!)) last.push(d);
      else groups.push([d]);
    }
    return groups;
  };
  const o = split(perm.slice(0, outer));
  const i = split(perm.slice(outer));
  return { groups: [...o, ...i], outer: o.length };
}

/**
 * Plan one nest: walk every item's values per pass (creating the locals), merge loops, give every
 * local its level and every buffer access its offset. Returns the renderer, to be called once all
 * nests are planned (only then is it known which buffers are read at all).
 */
export function planNest(ctx: Ctx, nest: Nest): () => string[] {
  const { sx } = nest.space;
  const passes = nest.passes;
  const isLse2 = (it: Item, p: number) => it.kind === 'red' && it.op === 'logsumexp' && it.endPass === p && it.pass !== p;

  // 1. Values of every item, per pass (a logsumexp is read again in its second pass).
  const scopes: Scope[] = [];
  const vals = new Map<Item, Map<number, Val[]>>();
  const sharedExps = new Map<Item, SharedExp>();
  for (const it of nest.items) vals.set(it, new Map());
  for (let p = 0; p < passes; p++) {
    const s = new Scope(ctx, nest, p, sharedExps);
    scopes.push(s);
    for (const it of nest.items) {
      if (it.pass === p || isLse2(it, p)) vals.get(it)!.set(p, it.terms.map((t) => s.value(t.node, t.pos)));
    }
  }

  // 2. Loops: merge adjacent axes every access walks contiguously.
  const forms: Form[] = nest.items.map((it) => it.store);
  for (const s of scopes) {
    for (const l of s.all) {
      if (l.read) forms.push(l.read.form);
      if (l.index) forms.push({ coefs: sx.map((_, k) => (k === l.index!.d ? 1 : 0)), c: 0 });
    }
  }
  const { groups, outer } = mergeLoops(nest.space, forms);
  const levelOf = new Map<number, number>();
  groups.forEach((gr, lv) => gr.forEach((d) => levelOf.set(d, lv)));
  const sizes = groups.map((gr) => sizeOf(gr.map((d) => sx[d]!)));
  const depth = groups.length;
  const lastOuter = outer - 1;
  const v = (lv: number) => `v${lv}`;
  const levelCoefs = (f: Form) => groups.map((gr) => f.coefs[gr[gr.length - 1]!]!);
  const maxLevel = (cs: number[]) => {
    for (let lv = cs.length - 1; lv >= 0; lv--) if (cs[lv] !== 0) return lv;
    return -1;
  };

  // 3. Offsets: partial sums hoisted to their level ("base" locals), shared by equal prefixes.
  const baseOf = (s: Scope, cs: number[], c: number, top: number): Val => {
    let lv = top;
    while (lv >= 0 && cs[lv] === 0) lv--;
    if (lv < 0) return lit(c);
    const key = `B:${c}:${cs.slice(0, lv + 1).join(',')}`;
    const hit = s.locals.get(key);
    if (hit) return hit;
    const prev = baseOf(s, cs, c, lv - 1);
    const term = cs[lv] === 1 ? v(lv) : `${v(lv)} * ${lit(cs[lv])}`;
    const l: Local = {
      key,
      name: ctx.fresh('o'),
      order: -1,
      deps: typeof prev === 'string' ? [] : [prev],
      nestDep: -1,
      level: lv,
      render: () => (code(prev) === '0' ? term : `${code(prev)} + ${term}`),
    };
    s.locals.set(key, l);
    s.all.push(l);
    return l;
  };
  const offset = (s: Scope, f: Form): (() => string) => {
    const cs = levelCoefs(f);
    const top = maxLevel(cs);
    if (top < 0) return () => lit(f.c);
    const base = baseOf(s, cs, f.c, top - 1);
    const term = cs[top] === 1 ? v(top) : `${v(top)} * ${lit(cs[top])}`;
    return () => (code(base) === '0' ? term : `${code(base)} + ${term}`);
  };

  // 4. Levels of reads and indices, then of everything built on them.
  for (const s of scopes) {
    for (const l of [...s.all]) {
      if (l.index) {
        const lv = levelOf.get(l.index.d);
        if (lv === undefined) throw new Error('fused: index of a merged loop axis');
        const off = l.index.off;
        l.level = lv;
        l.render = () => (off ? `${v(lv)} + ${lit(off)}` : v(lv));
      } else if (l.read) {
        const { node, form } = l.read;
        l.level = maxLevel(levelCoefs(form));
        if (l.nestDep >= 0) l.level = Math.max(l.level, lastOuter);
        const buf = ctx.g.boundSet.has(node) || isBufferLeaf(node, ctx.g.boundSet) ? ctx.leafName(node) : ctx.readName(node);
        const off = offset(s, form);
        l.render = () => `${buf}[${off()}]`;
      }
    }
  }
  const storeOff = new Map<Item, () => string>();
  for (const it of nest.items) {
    const p = it.kind === 'ew' || it.kind === 'copy' ? it.pass : it.endPass;
    storeOff.set(it, offset(scopes[p]!, it.store));
  }
  const sharedOff = new Map<Item, () => string>();
  for (const [it, sh] of sharedExps) {
    sh.names.w = ctx.scratch(it.count);
    sharedOff.set(it, offset(scopes[it.endPass]!, sh.inner));
    for (const r of sh.reads) {
      r.off = offset(r.scope, sh.inner);
      r.local!.minLevel = maxLevel(levelCoefs(sh.inner));
    }
  }
  for (const s of scopes) {
    for (const l of s.all) {
      if (l.read || l.index || l.key.startsWith('B:')) continue;
      let lv = l.minLevel ?? -1;
      for (const d of l.deps) lv = Math.max(lv, d.level);
      if (l.nestDep >= 0) lv = Math.max(lv, lastOuter);
      l.level = lv;
    }
  }

  // 5. A local outside the inner loops has the same value in every pass (a buffer read of a
  // target and its inline recomputation agree): the first pass that needs it defines it, later
  // passes alias it. Above the per-pass slot, it is emitted once at the start of its loop.
  const first = new Map<string, Local>();
  const definedBy = new Map<Local, Local>();
  const shared: Local[] = [];
  for (const s of scopes) {
    for (const l of s.all) {
      if (l.level > lastOuter) continue;
      const f = first.get(l.key);
      if (f) {
        l.name = f.name;
        l.emitted = true;
        definedBy.set(l, f);
      } else {
        first.set(l.key, l);
        if (l.level < lastOuter) shared.push(l);
      }
    }
  }

  // 6. Values nothing stores or accumulates (left behind by value numbering: the -x it built
  // before finding -(x*y) ready-made) are not emitted.
  const used = new Set<Local>();
  const pending: Local[] = [];
  for (const m of vals.values()) for (const vs of m.values()) for (const x of vs) if (typeof x !== 'string') pending.push(x);
  while (pending.length) {
    const l = pending.pop()!;
    if (used.has(l)) continue;
    used.add(l);
    pending.push(...l.deps);
    const f = definedBy.get(l);
    if (f) pending.push(f);
  }
  for (const s of scopes) for (const l of s.all) if (!used.has(l) && !l.read && !l.index && !l.key.startsWith('B:')) l.emitted = true;

  return () => {
    const lines: string[] = [];
    let indent = 1;
    const out = (t: string) => lines.push('  '.repeat(indent) + t);
    // In node order; a local that value numbering shares may have been made for a later node,
    // so its dependencies at this level go first.
    const emit = (l: Local, lv: number) => {
      l.emitted = true;
      for (const d of l.deps) if (d.level === lv && !d.emitted) emit(d, lv);
      out(`const ${l.name} = ${l.render()};`);
    };
    const emitLocals = (ls: Iterable<Local>, lv: number) => {
      const list = [...ls].filter((l) => l.level === lv && !l.emitted).sort((a, b) => a.order - b.order);
      for (const l of list) if (!l.emitted) emit(l, lv);
    };
    out(`{ // nest ${nest.id}: [${sx.join(', ')}], loops ${sizes.slice(0, outer).join('x') || '-'} / ${sizes.slice(outer).join('x') || '-'}, ${passes} pass(es)`);
    indent++;
    for (let lv = -1; lv < lastOuter; lv++) {
      if (lv >= 0) {
        out(`for (let ${v(lv)} = 0; ${v(lv)} < ${lit(sizes[lv])}; ${v(lv)}++) {`);
        indent++;
      }
      emitLocals(shared, lv);
    }
    if (outer > 0) {
      out(`for (let ${v(lastOuter)} = 0; ${v(lastOuter)} < ${lit(sizes[lastOuter])}; ${v(lastOuter)}++) {`);
      indent++;
    }
    const acc = new Map<Item, { a: string; s: string }>();
    for (let p = 0; p < passes; p++) {
      const s = scopes[p]!;
      emitLocals(s.all, lastOuter);
      for (const it of nest.items) {
        if ((it.kind === 'red' || it.kind === 'mm') && it.pass === p) {
          const a = ctx.fresh('a');
          acc.set(it, { a, s: '' });
          const sh = sharedExps.get(it);
          if (sh) sh.names.a = a;
          const init = it.op === 'max' || it.op === 'logsumexp' ? '-Infinity' : it.op === 'min' ? 'Infinity' : '0';
          out(`let ${a} = ${init};`);
        }
        if (isLse2(it, p)) {
          const st = ctx.fresh('s');
          acc.get(it)!.s = st;
          const sh = sharedExps.get(it);
          if (sh) sh.names.s = st;
          out(`let ${st} = 0;`);
        }
      }
      for (let lv = outer; lv < depth; lv++) {
        out(`for (let ${v(lv)} = 0; ${v(lv)} < ${lit(sizes[lv])}; ${v(lv)}++) {`);
        indent++;
        emitLocals(s.all, lv);
      }
      for (const it of nest.items) {
        const vs = vals.get(it)!.get(p);
        if (!vs) continue;
        if (it.kind === 'ew' || it.kind === 'copy') {
          const names = ctx.storeNames(it.target);
          const off = storeOff.get(it)!();
          for (const b of names) out(`${b}[${off}] = ${code(vs[0]!)};`);
          continue;
        }
        const { a, s: sum } = acc.get(it)!;
        const x = it.kind === 'mm' ? `${code(vs[0]!)} * ${code(vs[1]!)}` : code(vs[0]!);
        const sh = sharedExps.get(it);
        if (isLse2(it, p)) {
          const d = ctx.fresh('e');
          out(`const ${d} = ${x} - ${a};`);
          const e = stepLines(EXP_STEPS, d, () => ctx.fresh('e'));
          ctx.useHelper('pow2');
          e.lines.forEach(out);
          if (sh) out(`${sh.names.w}[${sharedOff.get(it)!()}] = ${e.value};`);
          out(`${sum} += ${e.value};`);
        } else if (it.op === 'sum' || it.op === 'mean') out(`${a} += ${x};`);
        else if (it.op === 'max' || it.op === 'logsumexp') out(`${a} = Math.max(${a}, ${x});`);
        else out(`${a} = Math.min(${a}, ${x});`);
      }
      for (let lv = depth - 1; lv >= outer; lv--) {
        indent--;
        out('}');
      }
      for (const it of nest.items) {
        if ((it.kind !== 'red' && it.kind !== 'mm') || it.endPass !== p) continue;
        const { a, s: sum } = acc.get(it)!;
        let val = a;
        if (it.op === 'mean') val = `${a} / ${lit(it.count)}`;
        if (it.op === 'logsumexp') val = `(${a} - ${a} === 0 ? ${a} + Math.log(${sum}) : ${a})`;
        const off = storeOff.get(it)!();
        for (const b of ctx.storeNames(it.target)) out(`${b}[${off}] = ${val};`);
      }
    }
    for (let lv = lastOuter; lv >= 0; lv--) {
      indent--;
      out('}');
    }
    indent--;
    out('}');
    for (const s of scopes) {
      for (const l of s.all) if (!l.emitted) throw new Error(`fused: local ${l.key} was never placed`);
    }
    return lines;
  };
}
