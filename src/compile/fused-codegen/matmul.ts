// Dense 2-D matmuls of the fused target, blocked 4 × 2: each pass over k computes eight results
// from six loads (the plain loop needs two loads per multiply-add), in registers. Rows and columns
// left over by the blocks get smaller blocks. Each result still sums its k terms in order, in a
// double. A symmetric product (A Aᵀ, batch-hard's Gram matrix: graph.ts isSymmetric) computes only
// the blocks on and above the diagonal and copies the others across it, tile by tile: the copy is
// bit for bit what computing them gives (the same products summed in the same order), for half
// the multiplies.

import type { Node } from '../../ir/node.js';
import { dims, isSymmetric } from './graph.js';
import { formOf, type Form, type Nest } from './nests.js';
import { szAdd, szEq, szMul, szTypical, type Sz } from './size.js';
import type { Ctx } from './scope.js';
import { isNil, shown, sumCode, term, toBuffer } from './sparse.js';

/** Rows per block (and columns: COLS); the mirror copies tiles of TILE × TILE. */
const ROWS = 4;
const COLS = 2;
const TILE = 64;

// size: one renderer with its block, row and mirror emitters as closures over the nest's names
export function blockedMatmul(ctx: Ctx, nest: Nest): (() => string[]) | null {
  if (nest.items.length !== 1 || nest.space.sx.length !== 3) return null;
  const it = nest.items[0]!;
  if (it.kind !== 'mm') return null;
  const [I, J, K] = nest.space.sx as [Sz, Sz, Sz];
  // Codegen-time choice at a typical size (symbolic sizes are at least 2; any size is computed right).
  if (szTypical(I) < 2 || szTypical(J) < 2 || szTypical(K) < 4) return null;
  const a = toBuffer(ctx, it.terms[0]!.node, it.terms[0]!.pos);
  const b = toBuffer(ctx, it.terms[1]!.node, it.terms[1]!.pos);
  if (!a || !b) return null;
  const sym = isSymmetric(it.target) && szEq(I, J);
  const name = (n: Node) => (ctx.g.targets.has(n) ? ctx.readName(n) : ctx.leafName(n));
  const A = name(a.base);
  const B = name(b.base);
  const fA = formOf(dims(a.base), a.pos, 3);
  const fB = formOf(dims(b.base), b.pos, 3);
  const fC = it.store;
  /** The result at (j, i) for the loop's (i, j): the mirror's source. */
  const fT: Form = { coefs: [fC.coefs[1]!, fC.coefs[0]!, 0], c: fC.c };
  const [vi, vj, vk, ib, jb, ie, ce] = ['i', 'j', 'k', 'p', 'p', 'e', 'e'].map((p) => ctx.fresh(p)) as [string, string, string, string, string, string, string];
  const m = ctx.fresh('m'); // the block's locals: m<n>a0, m<n>b1, m<n>c01 (no other name starts with m)
  const off = (f: Form, di: number, dj: number, withK: boolean) => {
    const c = szAdd(f.c, szAdd(szMul(di, f.coefs[0]!), szMul(dj, f.coefs[1]!)));
    return sumCode([isNil(c) ? '' : ctx.size(c), term(ctx, vi, f.coefs[0]), term(ctx, vj, f.coefs[1]), withK ? term(ctx, vk, f.coefs[2]) : '']);
  };
  /** A size rounded down to a multiple of q, as code. */
  const whole = (n: Sz, q: number) => (typeof n === 'number' ? ctx.size(n - (n % q)) : `${ctx.size(n)} - ${ctx.size(n)} % ${q}`);
  const rest = (n: Sz, q: number) => typeof n !== 'number' || n % q !== 0;
  return () => {
    const lines: string[] = [];
    const out = (depth: number, t: string) => lines.push('  '.repeat(depth) + t);
    const stores = ctx.storeNames(it.target);
    /** One block of rows di < h and columns dj < w at (vi, vj). */
    const block = (depth: number, h: number, w: number) => {
      const acc = (di: number, dj: number) => `${m}c${di}${dj}`;
      for (let di = 0; di < h; di++) for (let dj = 0; dj < w; dj++) out(depth, `let ${acc(di, dj)} = 0;`);
      out(depth, `for (let ${vk} = 0; ${vk} < ${ctx.size(K)}; ${vk}++) {`);
      for (let di = 0; di < h; di++) out(depth + 1, `const ${m}a${di} = ${A}[${off(fA, di, 0, true)}];`);
      for (let dj = 0; dj < w; dj++) out(depth + 1, `const ${m}b${dj} = ${B}[${off(fB, 0, dj, true)}];`);
      for (let di = 0; di < h; di++) for (let dj = 0; dj < w; dj++) out(depth + 1, `${acc(di, dj)} += ${m}a${di} * ${m}b${dj};`);
      out(depth, '}');
      for (let di = 0; di < h; di++) for (let dj = 0; dj < w; dj++) for (const s of stores) out(depth, `${s}[${off(fC, di, dj, false)}] = ${acc(di, dj)};`);
    };
    /** The columns from `from` of the h rows at vi: pairs, then the odd last one. */
    const columns = (depth: number, h: number, from: string) => {
      out(depth, `for (let ${vj} = ${from}; ${vj} < ${whole(J, COLS)}; ${vj} += ${COLS}) {`);
      block(depth + 1, h, COLS);
      out(depth, '}');
      if (!rest(J, COLS)) return;
      out(depth, `${typeof J === 'number' ? '' : `if (${ctx.size(J)} % ${COLS}) `}{ const ${vj} = ${typeof J === 'number' ? ctx.size(J - 1) : `${ctx.size(J)} - 1`};`);
      block(depth + 1, h, 1);
      out(depth, '}');
    };
    const note = sym ? `, symmetric: the blocks from the diagonal on, mirrored` : '';
    out(1, `{ // nest ${nest.id}: matmul [${shown(dims(it.target))}] over ${shown([K])}, blocked ${ROWS} x ${COLS}${note}`);
    const I4 = whole(I, ROWS);
    out(2, `for (let ${vi} = 0; ${vi} < ${I4}; ${vi} += ${ROWS}) {`);
    columns(3, ROWS, sym ? vi : '0');
    out(2, '}');
    if (rest(I, ROWS)) {
      // The rows left over compute every column (nothing of theirs is mirrored).
      out(2, `for (let ${vi} = ${I4}; ${vi} < ${ctx.size(I)}; ${vi}++) {`);
      columns(3, 1, '0');
      out(2, '}');
    }
    if (sym) {
      // Row i of the blocked rows has its columns from i - i % ROWS on: the others come from (j, i).
      out(2, `for (let ${ib} = 0; ${ib} < ${I4}; ${ib} += ${TILE}) {`);
      out(3, `const ${ie} = Math.min(${ib} + ${TILE}, ${I4});`);
      out(3, `for (let ${jb} = 0; ${jb} < ${ie}; ${jb} += ${TILE}) {`);
      out(4, `for (let ${vi} = ${ib}; ${vi} < ${ie}; ${vi}++) {`);
      out(5, `const ${ce} = Math.min(${jb} + ${TILE}, ${vi} - ${vi} % ${ROWS});`);
      out(5, `for (let ${vj} = ${jb}; ${vj} < ${ce}; ${vj}++) {`);
      for (const s of stores) out(6, `${s}[${off(fC, 0, 0, false)}] = ${s}[${off(fT, 0, 0, false)}];`);
      out(5, '}');
      out(4, '}');
      out(3, '}');
      out(2, '}');
    }
    out(1, '}');
    return lines;
  };
}
