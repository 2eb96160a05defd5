// Folding elementwise operations on constants, in float32 as the tensors would compute them.
// The folded constant is what is computed; what is printed is what the user wrote: a fold
// whose value is not a short decimal (1 - epsilon = 0.9999999, 1 - 0.9 = 0.100000024 in
// float32, 1 / 3) keeps the expression it came from for the printers (build.ts shownConstant).
// Lowering folds with this same function, so printed text reads back to the same node.

import * as b from '../ir/build.js';
import type { Node } from '../ir/node.js';
import { OPS } from '../ir/ops.js';
import { evaluate } from '../eval/reference.js';
import { shortestDigits } from '../print/text.js';

/** Op kinds computed elementwise (folded when every argument is a constant). */
export const FOLDABLE_KINDS = new Set(['unary', 'binary', 'compare', 'logic', 'select']);

/** Significant digits of a constant as printed, or Infinity for one printed by name or kept as an expression. */
function writtenDigits(n: Node): number {
  if (b.shownOf(n)) return Infinity;
  const v = Math.abs(n.attrs.value as number);
  if (v === 0) return 1;
  if (!Number.isFinite(v) || v === Math.fround(1e-7) || v === Math.fround(Math.PI)) return Infinity;
  return shortestDigits(v).digits.length;
}

/** An elementwise op on constants only, computed now; null if it is not one (or gives NaN). */
export function foldConstant(n: Node): Node | null {
  if (!FOLDABLE_KINDS.has(OPS[n.op].kind) || n.op === 'stop_gradient') return null;
  if (n.args.length === 0 || !n.args.every((a) => a.op === 'const')) return null;
  const [v] = evaluate([n], {});
  const x = v!.data[0]!;
  if (Number.isNaN(x)) return null;
  if (n.dtype !== 'float32') return b.constant(x, n.dtype);
  const value = Math.fround(x);
  // A short decimal (0.5 * 0.1 = 0.05, 2 - 1 = 1) prints as its value; anything longer than its
  // operands' digits by more than two, or made from a named constant, as the expression.
  const given = Math.max(...n.args.map(writtenDigits));
  const shown = value === 0 || !Number.isFinite(value) ? 1 : shortestDigits(Math.abs(value)).digits.length;
  const keep = n.args.every((a) => a.dtype === 'float32') && (given === Infinity || shown > given + 2);
  return keep ? b.shownConstant(value, n) : b.constant(value);
}
