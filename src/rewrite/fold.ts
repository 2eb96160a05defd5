// Folding elementwise operations on constants, in float32 as the tensors would compute them.
// The folded constant is what is computed; what is printed is what the user wrote: a fold
// whose value is not a short decimal (1 - epsilon = 0.9999999, 1 - 0.9 = 0.100000024 in
// float32, 1 / 3) keeps the expression it came from for the printers (build.ts shownConstant).
// Lowering folds with this same function, so printed text reads back to the same node.

import * as b from '../ir/build.js';
import { Node } from '../ir/node.js';
import { isElementwise } from '../ir/ops.js';
import { evaluate } from '../eval/reference.js';
import { fromData, type NdArray } from '../eval/ndarray.js';
import { shortestDigits } from '../print/text.js';

/** Significant digits of a constant as printed, or Infinity for one printed by name or kept as an expression. */
function writtenDigits(n: Node): number {
  if (n.op !== 'const' || b.shownOf(n)) return Infinity;
  const v = Math.abs(n.attrs.value as number);
  if (v === 0) return 1;
  if (!Number.isFinite(v) || v === Math.fround(1e-7) || v === Math.fround(Math.PI)) return Infinity;
  return shortestDigits(v).digits.length;
}

/**
 * Float64 values of constant expressions that float32 cannot hold (exp(100) overflows, exp(-200)
 * underflows to 0): such a node is left unfolded, and the expression around it folds from its
 * exact value instead, so log(1 + exp(100)) is 100, not inf. Nodes never change, so the memo holds.
 */
const exactValues = new WeakMap<Node, number>();
const exactValue = (n: Node): number | undefined => (n.op === 'const' ? (n.attrs.value as number) : exactValues.get(n));

/**
 * An elementwise op on constants only, computed now in float64 from its arguments' exact values;
 * null if it is not one, gives NaN, or float32 cannot hold the result faithfully (finite where it
 * is finite, nonzero where it is nonzero: then its exact value is remembered for the enclosing
 * expression, and the stabilising rules may still rewrite it).
 */
export function foldConstant(n: Node): Node | null {
  if (!isElementwise(n.op) || n.op === 'stop_gradient' || n.args.length === 0) return null;
  const values = n.args.map(exactValue);
  if (values.some((v) => v === undefined)) return null;
  const inputs: Record<string, NdArray> = {};
  const standIns = n.args.map((a, i) => {
    inputs[`c${i}`] = fromData([], [values[i]!], a.dtype);
    return b.input(`c${i}`, [], a.dtype);
  });
  const x = evaluate([Node.make(n.op, standIns, n.attrs)], inputs)[0]!.data[0]!;
  if (Number.isNaN(x)) return null;
  if (n.dtype !== 'float32') return b.constant(x, n.dtype);
  const value = Math.fround(x);
  if (Number.isFinite(value) !== Number.isFinite(x) || (value === 0 && x !== 0)) {
    exactValues.set(n, x);
    return null;
  }
  // A short decimal (0.5 * 0.1 = 0.05, 2 - 1 = 1) prints as its value; anything longer than its
  // operands' digits by more than two, or made from a named constant, as the expression.
  const given = Math.max(...n.args.map(writtenDigits));
  const shown = value === 0 || !Number.isFinite(value) ? 1 : shortestDigits(Math.abs(value)).digits.length;
  const keep = n.args.every((a) => a.dtype === 'float32') && (given === Infinity || shown > given + 2);
  return keep ? b.shownConstant(value, n) : b.constant(value);
}
