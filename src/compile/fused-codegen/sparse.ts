// Sparse matmuls of the fused target (issue 13 item 5). The adjoint of a selection (a row-wise
// max or min: where(x == max(x), g / ties, 0), then masked, scaled and summed on its way back) is
// zero but for the picked entries, so a matmul that takes it as an operand (the chain back through
// a distance matrix `X Xᵀ`) is computed as a scatter: for each nonzero entry of the sparse operand,
// in its buffer's storage order, one row of the other operand times the entry is added to a row
// of the result. Ties keep their share: every tied entry is nonzero, with g / ties. The work is
// the operand's size (one test per entry) plus the nonzeros times the free axis, instead of the
// dense [I, K]·[K, J] product, and the operand is read in storage order. Zeros are skipped only
// when the other operand is all finite (0 · inf is NaN in the dense product), checked per call.

import type { Node } from '../../ir/node.js';
import { VIEWS } from '../../ir/ops.js';
import { argPositions, dims, isBufferLeaf, normPos, sizeOf, type Pos } from './graph.js';
import { formOf, type Form, type Item, type Nest } from './nests.js';
import { szEq, szTypical, type Sz } from './size.js';
import type { Ctx } from './scope.js';

/** A shape for a kernel's comments (a symbolic size as its polynomial's key). */
export const shown = (ds: readonly Sz[]): string => ds.map((d) => (typeof d === 'number' ? d : d.key.replace(/^1\*([^+]*)$/, '$1'))).join(', ');
export const isNil = (c: Sz | undefined): boolean => c === undefined || szEq(c, 0);

/** `v * c` as code (`v` when c is 1, '' when 0). */
export function term(ctx: Ctx, v: string, c: Sz | undefined): string {
  if (isNil(c)) return '';
  return c === 1 ? v : `${v} * ${ctx.size(c!)}`;
}

/** A sum of terms as code: '0' when every one is empty. */
export const sumCode = (ts: readonly string[]): string => ts.filter((t) => t && t !== '0').join(' + ') || '0';

const isZero = (n: Node): boolean => (n.op === 'const' && n.attrs.value === 0) || (n.op === 'broadcast_like' && isZero(n.args[0]!));

/** x == (a broadcast of) max(x) or min(x): true only at the extreme entries (and their ties). */
function selective(c: Node): boolean {
  if (c.op === 'and') return selective(c.args[0]!) || selective(c.args[1]!);
  if (c.op !== 'eq') return false;
  const [x, y] = c.args as [Node, Node];
  return extremeOf(y, x) || extremeOf(x, y);
}

function extremeOf(m: Node, x: Node): boolean {
  while (m.op === 'expand_dims' || m.op === 'broadcast_like') m = m.args[0]!;
  return (m.op === 'max' || m.op === 'min') && m.args[0] === x;
}

/**
 * Whether `n` is zero but for selected entries, by its structure: a `where` that keeps only
 * selective entries (or chooses between such values and 0), and sums, products, quotients,
 * negations and views of such.
 */
export function isSparse(n: Node, memo = new Map<Node, boolean>()): boolean {
  const hit = memo.get(n);
  if (hit !== undefined) return hit;
  memo.set(n, false); // the IR is a DAG; this only guards the recursion's bookkeeping
  const sp = (m: Node) => isSparse(m, memo);
  const zeroOrSparse = (m: Node) => isZero(m) || sp(m);
  const [a, b, c] = n.args;
  let out: boolean;
  switch (n.op) {
    case 'where':
      out = (isZero(c!) && (selective(a!) || sp(b!))) || (isZero(b!) && sp(c!)) || (zeroOrSparse(b!) && zeroOrSparse(c!) && !(isZero(b!) && isZero(c!)));
      break;
    case 'add':
    case 'sub':
      out = zeroOrSparse(a!) && zeroOrSparse(b!);
      break;
    case 'mul':
      out = sp(a!) || sp(b!);
      break;
    case 'div':
    case 'neg':
      out = sp(a!);
      break;
    default:
      out = VIEWS.has(n.op) && n.op !== 'broadcast_like' && sp(a!);
  }
  memo.set(n, out);
  return out;
}

/** A matmul operand read through its views down to a buffer: the buffer and its position. */
export function toBuffer(ctx: Ctx, node: Node, pos: Pos): { base: Node; pos: Pos } | null {
  const { g } = ctx;
  let n = node;
  let p = normPos(pos, dims(n));
  while (!(g.targets.has(n) || g.boundSet.has(n) || isBufferLeaf(n, g.boundSet))) {
    if (!VIEWS.has(n.op) || n.op === 'broadcast_like' || n.op === 'stop_gradient') return null;
    const arg = n.args[0]!;
    p = normPos(argPositions(n, p)[0]!, dims(arg));
    n = arg;
  }
  if (p.some((x) => x.off !== 0)) return null;
  return { base: n, pos: p };
}

/** A 2-D matmul nest with a sparse operand: what its scatter reads and writes. */
interface Scatter {
  nest: Nest;
  item: Item;
  /** The sparse operand's buffer (its name) and the index form it is read at. */
  S: string;
  fS: Form;
  D: string;
  fD: Form;
  /** The dense operand's buffer size (checked all finite before zeros are skipped). */
  dSize: Sz;
  /** The SX axes looped over (the sparse operand's, in its storage order), and the free one. */
  loops: number[];
  free: number;
}

function scatterOf(ctx: Ctx, nest: Nest): Scatter | null {
  if (nest.items.length !== 1 || nest.space.sx.length !== 3) return null;
  const it = nest.items[0]!;
  if (it.kind !== 'mm') return null;
  const s = it.terms.findIndex((t) => isSparse(t.node));
  if (s < 0) return null;
  const sparse = toBuffer(ctx, it.terms[s]!.node, it.terms[s]!.pos);
  const dense = toBuffer(ctx, it.terms[1 - s]!.node, it.terms[1 - s]!.pos);
  if (!sparse || !dense) return null;
  const sx = nest.space.sx;
  // SX axes: 0 = i (rows of the result), 1 = j (its columns), 2 = k (summed). The sparse operand
  // spans {i, k} (the left one) or {k, j}; the other axis is the free one, the inner loop.
  const own = s === 0 ? [0, 2] : [2, 1];
  const loops: number[] = [];
  for (const x of sparse.pos) if (x.d >= 0 && !loops.includes(x.d)) loops.push(x.d);
  for (const d of own) if (!loops.includes(d) && szTypical(sx[d]!) > 1) loops.push(d);
  if (loops.some((d) => !own.includes(d))) return null;
  const name = (n: Node) => (ctx.g.targets.has(n) ? ctx.readName(n) : ctx.leafName(n));
  return {
    nest,
    item: it,
    S: name(sparse.base),
    fS: formOf(dims(sparse.base), sparse.pos, 3),
    D: name(dense.base),
    fD: formOf(dims(dense.base), dense.pos, 3),
    dSize: sizeOf(dims(dense.base)),
    loops,
    free: s === 0 ? 1 : 0,
  };
}

/** Whether b's scatter visits the entries a's does, in the same order (same buffer, loops, index). */
function sameWalk(a: Scatter, b: Scatter): boolean {
  const [sa, sb] = [a.nest.space.sx, b.nest.space.sx];
  const form = (x: Scatter) => [x.fS.c, ...x.loops.map((d) => x.fS.coefs[d]!)];
  const [fa, fb] = [form(a), form(b)];
  return a.S === b.S && a.loops.length === b.loops.length && a.loops.every((d, l) => szEq(sa[d]!, sb[b.loops[l]!]!)) && fa.every((c, i) => szEq(c, fb[i]!));
}

/**
 * The renderers of the 2-D matmul nests with a sparse operand (the others are left out). Nests
 * next to each other in the run order whose scatters walk the same buffer the same way (batch-hard's
 * S·X and Sᵀ·X... read as X's rows scattered by S's entries) share one walk over it: one pass over
 * the [N, N] operand for both products.
 */
export function sparseMatmuls(ctx: Ctx, nests: readonly Nest[]): Map<Nest, () => string[]> {
  const out = new Map<Nest, () => string[]>();
  let group: Scatter[] = [];
  const flush = () => {
    if (group.length === 0) return;
    const g = group;
    out.set(g[0]!.nest, renderScatters(ctx, g));
    for (const x of g.slice(1)) out.set(x.nest, () => []);
    group = [];
  };
  for (const nest of nests) {
    const sc = scatterOf(ctx, nest);
    if (!sc) {
      flush();
      continue;
    }
    if (group.length > 0 && !(sameWalk(group[0]!, sc) && !nest.deps.has(group.at(-1)!.nest) && group.every((x) => !nest.deps.has(x.nest)))) flush();
    group.push(sc);
  }
  flush();
  return out;
}

function renderScatters(ctx: Ctx, group: readonly Scatter[]): () => string[] {
  const lead = group[0]!;
  const sx = lead.nest.space.sx;
  const vs = lead.loops.map(() => ctx.fresh('p'));
  const [q, fin, x] = ['q', 'f', 'y'].map((p) => ctx.fresh(p)) as [string, string, string];
  const members = group.map((sc) => {
    const size = sizeOf(dims(sc.item.target));
    return { sc, size, w: ctx.scratch(size), od: ctx.fresh('o'), oc: ctx.fresh('o'), vf: ctx.fresh('p') };
  });
  return () => {
    const lines: string[] = [];
    const out = (depth: number, t: string) => lines.push('  '.repeat(depth) + t);
    /** An index form at the walk's loop variables (each member's own SX axes, loop by loop). */
    const at = (sc: Scatter, f: Form) => sumCode([isNil(f.c) ? '' : ctx.size(f.c), ...sc.loops.map((d, l) => term(ctx, vs[l]!, f.coefs[d]))]);
    const what = members.map((m) => `[${shown(dims(m.sc.item.target))}]`).join(' and ');
    const ids = members.map((m) => m.sc.nest.id).join(', ');
    out(1, `{ // nest${members.length > 1 ? 's' : ''} ${ids}: sparse matmul ${what}, a scatter of the nonzero entries of ${lead.S}`);
    for (const m of members) out(2, `${m.w}.fill(0);`);
    out(2, `let ${fin} = true;`);
    const dense = new Map(members.map((m) => [m.sc.D, m.sc.dSize]));
    for (const [D, n] of dense) out(2, `for (let ${q} = 0; ${fin} && ${q} < ${ctx.size(n)}; ${q}++) if (!Number.isFinite(${D}[${q}])) ${fin} = false;`);
    lead.loops.forEach((d, l) => out(2 + l, `for (let ${vs[l]} = 0; ${vs[l]} < ${ctx.size(sx[d]!)}; ${vs[l]}++) {`));
    const depth = 2 + lead.loops.length;
    out(depth, `const ${x} = ${lead.S}[${at(lead, lead.fS)}];`);
    // Skipped when 0 (and every dense entry finite, so 0 · x is 0): a block, not `continue`, since
    // there is no loop around it when every sparse axis has size 1 (seed 70765859).
    out(depth, `if (${x} !== 0 || !${fin}) {`);
    for (const { sc, w, od, oc, vf } of members) {
      const fC = sc.item.store;
      out(depth + 1, `const ${od} = ${at(sc, sc.fD)};`);
      out(depth + 1, `const ${oc} = ${at(sc, fC)};`);
      const step = (f: Form) => term(ctx, vf, f.coefs[sc.free]) || '0';
      out(depth + 1, `for (let ${vf} = 0; ${vf} < ${ctx.size(sc.nest.space.sx[sc.free]!)}; ${vf}++) ${w}[${oc} + ${step(fC)}] += ${x} * ${sc.D}[${od} + ${step(sc.fD)}];`);
    }
    out(depth, '}');
    for (let l = lead.loops.length - 1; l >= 0; l--) out(2 + l, '}');
    for (const { sc, size, w } of members) {
      for (const b of ctx.storeNames(sc.item.target)) out(2, `for (let ${q} = 0; ${q} < ${ctx.size(size)}; ${q}++) ${b}[${q}] = ${w}[${q}];`);
    }
    out(1, '}');
    return lines;
  };
}

/**
 * The renderer of a sum (or mean) over the rows of a matrix held in a buffer, in storage order:
 * one running sum per column, rows read contiguously (the planned nest reads each column down the
 * rows, one cache line per element). Each column still sums its rows in order, in a double.
 */
export function columnSum(ctx: Ctx, nest: Nest): (() => string[]) | null {
  if (nest.items.length !== 1 || nest.space.sx.length !== 2) return null;
  const it = nest.items[0]!;
  if (it.kind !== 'red' || (it.op !== 'sum' && it.op !== 'mean') || nest.space.perm.join() !== '1,0' || nest.space.outer !== 1) return null;
  const x = toBuffer(ctx, it.terms[0]!.node, it.terms[0]!.pos);
  if (!x) return null;
  const [R, C] = nest.space.sx as [Sz, Sz];
  const f = formOf(dims(x.base), x.pos, 2);
  // Storage order is a codegen-time choice, at a typical size (every order computes the same sums).
  if (!(szTypical(f.coefs[0]!) > szTypical(f.coefs[1]!)) || szTypical(R) < 2) return null;
  const X = ctx.g.targets.has(x.base) ? ctx.readName(x.base) : ctx.leafName(x.base);
  const w = ctx.scratch(C);
  const [vr, vc, o] = ['p', 'p', 'o'].map((p) => ctx.fresh(p)) as [string, string, string];
  return () => {
    const lines = [
      `  { // nest ${nest.id}: ${it.op} over the rows of [${shown([R, C])}], in storage order`,
      `    ${w}.fill(0);`,
      `    for (let ${vr} = 0; ${vr} < ${ctx.size(R)}; ${vr}++) {`,
      `      const ${o} = ${sumCode([isNil(f.c) ? '' : ctx.size(f.c), term(ctx, vr, f.coefs[0])])};`,
      `      for (let ${vc} = 0; ${vc} < ${ctx.size(C)}; ${vc}++) ${w}[${vc}] += ${X}[${sumCode([o, term(ctx, vc, f.coefs[1])])}];`,
      '    }',
    ];
    const val = it.op === 'mean' ? `${w}[${vc}] / ${ctx.size(it.count)}` : `${w}[${vc}]`;
    const fC = it.store;
    const at = sumCode([isNil(fC.c) ? '' : ctx.size(fC.c), term(ctx, vc, fC.coefs[1])]);
    for (const s of ctx.storeNames(it.target)) lines.push(`    for (let ${vc} = 0; ${vc} < ${ctx.size(C)}; ${vc}++) ${s}[${at}] = ${val};`);
    lines.push('  }');
    return lines;
  };
}
