// Loop nests of the fused target, part 3: merging a nest's loops and emitting its code. planNest
// builds the values of every item per pass (scope.ts), merges adjacent loop axes that every access
// walks contiguously, gives every local its loop level and every buffer access its offset, and
// returns the renderer of the nest's JavaScript.

import type { Node } from '../../ir/node.js';
import { isBufferLeaf, sizeOf, szKey } from './graph.js';
import type { Form, Item, Nest, Space } from './nests.js';
import { code, Scope, type Ctx, type Local, type SharedExp, type Val } from './scope.js';
import { EXP_STEPS, stepLines } from './scalar.js';
import { szEq, szMul, type Sz } from './size.js';

/** Merge adjacent loop axes that every index form walks contiguously (fewer, longer loops). */
function mergeLoops(space: Space, forms: Form[]): { groups: number[][]; outer: number } {
  const { sx, perm, outer } = space;
  const split = (ps: number[]) => {
    const groups: number[][] = [];
    for (const d of ps) {
      if (sx[d] === 1) continue;
      const last = groups[groups.length - 1];
      const prev = last?.[last.length - 1];
      if (last && prev !== undefined && forms.every((f) => szEq(f.coefs[prev]!, szMul(f.coefs[d]!, sx[d]!)))) last.push(d);
      else groups.push([d]);
    }
    return groups;
  };
  const o = split(perm.slice(0, outer));
  const i = split(perm.slice(outer));
  return { groups: [...o, ...i], outer: o.length };
}

const isLse2 = (it: Item, p: number) => it.kind === 'red' && it.op === 'logsumexp' && it.endPass === p && it.pass !== p;

/** The loop variable of level `lv`. */
const v = (lv: number) => `v${lv}`;

/** What planning knows of one nest once its values are built and its loops merged. */
interface Plan {
  ctx: Ctx;
  nest: Nest;
  scopes: Scope[];
  /** The values of each item's terms, per pass that computes or re-reads it. */
  vals: Map<Item, Map<number, Val[]>>;
  sharedExps: Map<Item, SharedExp>;
  /** The merged loops: SX axes per loop level, and how many levels are outer. */
  groups: number[][];
  outer: number;
  sizes: Sz[];
  levelOf: Map<number, number>;
  /** Offsets of the stores, and of the softmax scratch writes. */
  storeOff: Map<Item, () => string>;
  sharedOff: Map<Item, () => string>;
  /** Locals above the per-pass level, emitted once at the start of their loop. */
  shared: Local[];
}

/** 1. Values of every item, per pass (a logsumexp is read again in its second pass). */
function buildValues(ctx: Ctx, nest: Nest): Pick<Plan, 'scopes' | 'vals' | 'sharedExps'> {
  const scopes: Scope[] = [];
  const vals = new Map<Item, Map<number, Val[]>>();
  const sharedExps = new Map<Item, SharedExp>();
  for (const it of nest.items) vals.set(it, new Map());
  for (let p = 0; p < nest.passes; p++) {
    const s = new Scope(ctx, nest, p, sharedExps);
    scopes.push(s);
    for (const it of nest.items) {
      if (it.pass === p || isLse2(it, p)) vals.get(it)!.set(p, it.terms.map((t) => s.value(t.node, t.pos)));
    }
  }
  return { scopes, vals, sharedExps };
}

/** 2. Loops: merge adjacent axes every access walks contiguously. */
function loopsOf(nest: Nest, scopes: readonly Scope[]): Pick<Plan, 'groups' | 'outer' | 'sizes' | 'levelOf'> {
  const { sx } = nest.space;
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
  return { groups, outer, sizes, levelOf };
}

type Loops = Pick<Plan, 'ctx' | 'groups'>;

const levelCoefs = (pl: Loops, f: Form) => pl.groups.map((gr) => f.coefs[gr[gr.length - 1]!]!);

function maxLevel(cs: Sz[]): number {
  for (let lv = cs.length - 1; lv >= 0; lv--) if (cs[lv] !== 0) return lv;
  return -1;
}

/** 3. Offsets: partial sums hoisted to their level ("base" locals), shared by equal prefixes. */
function baseOf(pl: Loops, s: Scope, cs: Sz[], c: Sz, top: number): Val {
  let lv = top;
  while (lv >= 0 && cs[lv] === 0) lv--;
  if (lv < 0) return pl.ctx.size(c);
  const key = `B:${szKey(c)}:${cs.slice(0, lv + 1).map(szKey).join(',')}`;
  const hit = s.locals.get(key);
  if (hit) return hit;
  const prev = baseOf(pl, s, cs, c, lv - 1);
  const term = cs[lv] === 1 ? v(lv) : `${v(lv)} * ${pl.ctx.size(cs[lv]!)}`;
  const l: Local = {
    key,
    name: pl.ctx.fresh('o'),
    order: -1,
    deps: typeof prev === 'string' ? [] : [prev],
    nestDep: -1,
    level: lv,
    render: () => (code(prev) === '0' ? term : `${code(prev)} + ${term}`),
  };
  s.locals.set(key, l);
  s.all.push(l);
  return l;
}

function offset(pl: Loops, s: Scope, f: Form): () => string {
  const cs = levelCoefs(pl, f);
  const top = maxLevel(cs);
  if (top < 0) {
    const c = pl.ctx.size(f.c);
    return () => c;
  }
  const base = baseOf(pl, s, cs, f.c, top - 1);
  const term = cs[top] === 1 ? v(top) : `${v(top)} * ${pl.ctx.size(cs[top]!)}`;
  return () => (code(base) === '0' ? term : `${code(base)} + ${term}`);
}

/** 4a. Levels and renderers of reads and indices. */
function placeAccesses(pl: Omit<Plan, 'storeOff' | 'sharedOff' | 'shared'>): void {
  const { ctx, levelOf } = pl;
  const lastOuter = pl.outer - 1;
  const leaf = (node: Node) => ctx.g.boundSet.has(node) || isBufferLeaf(node, ctx.g.boundSet);
  for (const s of pl.scopes) {
    for (const l of [...s.all]) {
      if (l.index) {
        const lv = levelOf.get(l.index.d);
        if (lv === undefined) throw new Error('fused: index of a merged loop axis');
        const off = l.index.off;
        const offCode = ctx.size(off);
        l.level = lv;
        l.render = () => (off !== 0 ? `${v(lv)} + ${offCode}` : v(lv));
      } else if (l.read) {
        const { node, form } = l.read;
        l.level = maxLevel(levelCoefs(pl, form));
        if (l.nestDep >= 0) l.level = Math.max(l.level, lastOuter);
        const buf = leaf(node) ? ctx.leafName(node) : ctx.readName(node);
        const off = offset(pl, s, form);
        l.render = () => `${buf}[${off()}]`;
      }
    }
  }
}

/** 4b. Offsets of stores and scratch accesses, then the levels of everything built on reads and indices. */
function placeLocals(pl: Omit<Plan, 'storeOff' | 'sharedOff' | 'shared'>): Pick<Plan, 'storeOff' | 'sharedOff'> {
  placeAccesses(pl);
  const storeOff = new Map<Item, () => string>();
  for (const it of pl.nest.items) {
    const p = it.kind === 'ew' || it.kind === 'copy' ? it.pass : it.endPass;
    storeOff.set(it, offset(pl, pl.scopes[p]!, it.store));
  }
  const sharedOff = new Map<Item, () => string>();
  for (const [it, sh] of pl.sharedExps) {
    sh.names.w = pl.ctx.scratch(it.count);
    sharedOff.set(it, offset(pl, pl.scopes[it.endPass]!, sh.inner));
    for (const r of sh.reads) {
      r.off = offset(pl, r.scope, sh.inner);
      r.local!.minLevel = maxLevel(levelCoefs(pl, sh.inner));
    }
  }
  const lastOuter = pl.outer - 1;
  for (const s of pl.scopes) {
    for (const l of s.all) {
      if (l.read || l.index || l.key.startsWith('B:')) continue;
      let lv = l.minLevel ?? -1;
      for (const d of l.deps) lv = Math.max(lv, d.level);
      if (l.nestDep >= 0) lv = Math.max(lv, lastOuter);
      l.level = lv;
    }
  }
  return { storeOff, sharedOff };
}

/**
 * 5. A local outside the inner loops has the same value in every pass (a buffer read of a target
 * and its inline recomputation agree): the first pass that needs it defines it, later passes alias
 * it. Above the per-pass slot, it is emitted once at the start of its loop.
 * 6. Values nothing stores or accumulates (left behind by value numbering: the -x it built before
 * finding -(x*y) ready-made) are not emitted.
 */
function shareAndPrune(scopes: readonly Scope[], vals: Plan['vals'], lastOuter: number): Local[] {
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
  return shared;
}

/**
 * Plan one nest: walk every item's values per pass (creating the locals), merge loops, give every
 * local its level and every buffer access its offset. Returns the renderer, to be called once all
 * nests are planned (only then is it known which buffers are read at all).
 */
export function planNest(ctx: Ctx, nest: Nest): () => string[] {
  const values = buildValues(ctx, nest);
  const partial = { ctx, nest, ...values, ...loopsOf(nest, values.scopes) };
  const offsets = placeLocals(partial);
  const plan: Plan = { ...partial, ...offsets, shared: shareAndPrune(values.scopes, values.vals, partial.outer - 1) };
  return () => new Emitter(plan).nest();
}

const UNROLL = ' // unroll 2';
const MARKED = /^(\s*)for \(let (v\d+) = 0; \2 < (.+); \2\+\+\) \{ \/\/ unroll 2$/;

/**
 * The kernel's lines with every marked loop unrolled by two (the same operations in the same
 * order, so the same results), after buffer sharing has read the lines as one element's code.
 * A marked loop is a row's inner loop: its trip count is the row's length, which is also the inner
 * trip count of the kernel tfjs runs next on the row's tensor (the backward matmul of a Dense
 * layer with that many units). Such a JS loop slowed that wasm matmul's next call by ~5% here
 * (branch prediction, it seems: the call after is not slowed; bench fit mse batch 1024); unrolled, it did not.
 */
export function unrollMarked(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = MARKED.exec(lines[i]!);
    if (!m) {
      out.push(lines[i]!);
      continue;
    }
    const [, ind, x, n] = m as unknown as [string, string, string, string];
    const end = lines.indexOf(`${ind}}`, i + 1);
    const body = lines.slice(i + 1, end);
    const copy = (pad: string) => body.map((l) => pad + l);
    out.push(`${ind}{ // ${x} unrolled by 2`, `${ind}  let ${x} = 0;`, `${ind}  for (; ${x} + 1 < ${n}; ${x}++) {`);
    out.push(`${ind}    {`, ...copy('    '), `${ind}    }`, `${ind}    ${x}++;`, `${ind}    {`, ...copy('    '), `${ind}    }`);
    out.push(`${ind}  }`, `${ind}  if (${x} < ${n}) {`, ...copy('  '), `${ind}  }`, `${ind}}`);
    i = end;
  }
  return out;
}

const nestHasTies = (nest: Nest, it: Item) => nest.items.some((i) => i.tieOf === it);

/** The renderer of one planned nest: its loops, the locals at each level, stores and accumulators. */
class Emitter {
  private readonly lines: string[] = [];
  private indent = 1;
  /** Per reduction: its accumulator, logsumexp's running sum, a tied max/min's value before the element. */
  private readonly acc = new Map<Item, { a: string; s: string; o?: string }>();
  constructor(private readonly pl: Plan) {}

  private out(t: string): void {
    this.lines.push('  '.repeat(this.indent) + t);
  }

  /** A loop; an inner loop under an outer one is marked to be unrolled (see unrollMarked). */
  private open(lv: number, unroll = false): void {
    this.out(`for (let ${v(lv)} = 0; ${v(lv)} < ${this.pl.ctx.size(this.pl.sizes[lv]!)}; ${v(lv)}++) {${unroll ? UNROLL : ''}`);
    this.indent++;
  }

  private close(): void {
    this.indent--;
    this.out('}');
  }

  /** In node order; a local that value numbering shares may have been made for a later node, so its dependencies at this level go first. */
  private emit(l: Local, lv: number): void {
    l.emitted = true;
    for (const d of l.deps) if (d.level === lv && !d.emitted) this.emit(d, lv);
    this.out(`const ${l.name} = ${l.render()};`);
  }

  private emitLocals(ls: Iterable<Local>, lv: number): void {
    const list = [...ls].filter((l) => l.level === lv && !l.emitted).sort((a, b) => a.order - b.order);
    for (const l of list) if (!l.emitted) this.emit(l, lv);
  }

  nest(): string[] {
    const { nest, sizes, outer, scopes } = this.pl;
    const lastOuter = outer - 1;
    const shown = (ss: readonly Sz[]) => ss.map(szKey).join('x');
    this.out(`{ // nest ${nest.id}: [${nest.space.sx.map(szKey).join(', ')}], loops ${shown(sizes.slice(0, outer)) || '-'} / ${shown(sizes.slice(outer)) || '-'}, ${nest.passes} pass(es)`);
    this.indent++;
    for (let lv = -1; lv < lastOuter; lv++) {
      if (lv >= 0) this.open(lv);
      this.emitLocals(this.pl.shared, lv);
    }
    if (outer > 0) this.open(lastOuter);
    for (let p = 0; p < nest.passes; p++) this.pass(p);
    for (let lv = lastOuter; lv >= 0; lv--) this.close();
    this.close();
    for (const s of scopes) {
      for (const l of s.all) if (!l.emitted) throw new Error(`fused: local ${l.key} was never placed`);
    }
    return this.lines;
  }

  /** One pass over the inner loops: accumulators, the loops with their locals, stores and updates, results. */
  private pass(p: number): void {
    const { nest, outer, groups } = this.pl;
    const s = this.pl.scopes[p]!;
    this.emitLocals(s.all, outer - 1);
    for (const it of nest.items) this.startAccumulators(it, p);
    for (let lv = outer; lv < groups.length; lv++) {
      this.open(lv, outer > 0 && lv === groups.length - 1);
      this.emitLocals(s.all, lv);
    }
    for (const it of nest.items) this.element(it, p);
    for (let lv = groups.length - 1; lv >= outer; lv--) this.close();
    for (const it of nest.items) this.finish(it, p);
  }

  private startAccumulators(it: Item, p: number): void {
    const { ctx, sharedExps } = this.pl;
    if ((it.kind === 'red' || it.kind === 'mm') && it.pass === p) {
      const a = ctx.fresh('a');
      this.acc.set(it, { a, s: '' });
      const sh = sharedExps.get(it);
      if (sh) sh.names.a = a;
      const init = it.op === 'max' || it.op === 'logsumexp' ? '-Infinity' : it.op === 'min' ? 'Infinity' : '0';
      this.out(`let ${a} = ${init};`);
    }
    if (isLse2(it, p)) {
      const st = ctx.fresh('s');
      this.acc.get(it)!.s = st;
      const sh = sharedExps.get(it);
      if (sh) sh.names.s = st;
      this.out(`let ${st} = 0;`);
    }
  }

  /** What item `it` does at one element in pass `p`: store it, or update its accumulator. */
  private element(it: Item, p: number): void {
    const { ctx, vals, storeOff, sharedExps, sharedOff } = this.pl;
    const vs = vals.get(it)!.get(p);
    if (!vs) return;
    if (it.kind === 'ew' || it.kind === 'copy') {
      const names = ctx.storeNames(it.target);
      const off = storeOff.get(it)!();
      for (const b of names) this.out(`${b}[${off}] = ${code(vs[0]!)};`);
      return;
    }
    const { a, s: sum } = this.acc.get(it)!;
    const x = it.kind === 'mm' ? `${code(vs[0]!)} * ${code(vs[1]!)}` : code(vs[0]!);
    const sh = sharedExps.get(it);
    if (isLse2(it, p)) {
      const d = ctx.fresh('e');
      this.out(`const ${d} = ${x} - ${a};`);
      const e = stepLines(EXP_STEPS, d, () => ctx.fresh('e'));
      ctx.useHelper('pow2');
      e.lines.forEach((l) => this.out(l));
      if (sh) this.out(`${sh.names.w}[${sharedOff.get(it)!()}] = ${e.value};`);
      this.out(`${sum} += ${e.value};`);
    } else if (it.tieOf) this.tieCount(it, a, x);
    else if (it.op === 'sum' || it.op === 'mean') this.out(`${a} += ${x};`);
    else {
      // A max/min whose ties are counted keeps its value before this element (for tieCount).
      if (nestHasTies(this.pl.nest, it)) this.out(`const ${(this.acc.get(it)!.o = ctx.fresh('o'))} = ${a};`);
      this.out(`${a} = Math.${it.op === 'min' ? 'min' : 'max'}(${a}, ${x});`);
    }
  }

  /**
   * The entries of x equal to the running extreme m (at float32 for floats, as eq compares),
   * counted online: when m moves to another float32 value every earlier entry is below it, so
   * the count restarts at this one (0 for NaN, which equals nothing and stays the extreme).
   */
  private tieCount(it: Item, c: string, x: string): void {
    const ext = this.acc.get(it.tieOf!)!;
    const f = (v: string) => (it.tieOf!.terms[0]!.node.dtype === 'float32' ? `Math.fround(${v})` : v);
    const hit = `(${f(x)} === ${f(ext.a)} ? 1 : 0)`;
    this.out(`${c} = ${f(ext.a)} === ${f(ext.o!)} ? ${c} + ${hit} : ${hit};`);
  }

  /** The result of a reduction or matmul whose last pass is `p`, stored. */
  private finish(it: Item, p: number): void {
    if ((it.kind !== 'red' && it.kind !== 'mm') || it.endPass !== p) return;
    const { a, s: sum } = this.acc.get(it)!;
    let val = a;
    if (it.op === 'mean') val = `${a} / ${this.pl.ctx.size(it.count)}`;
    if (it.op === 'logsumexp') val = `(${a} - ${a} === 0 ? ${a} + Math.log(${sum}) : ${a})`;
    const off = this.pl.storeOff.get(it)!();
    for (const b of this.pl.ctx.storeNames(it.target)) this.out(`${b}[${off}] = ${val};`);
  }
}
