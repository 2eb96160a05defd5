// What the WebAssembly SIMD target covers (simd.ts), decided on the checked IR before any code is
// emitted: every node the root reads is an element (the inputs' shape), a row value (one per row:
// the shape without its last axis, or with it 1), a total (one number from the rows), a uniform
// (one number from constants and sizes alone, `label_smoothing / C`: known before the loops) or a
// scalar constant, and reductions, broadcasts and mixtures of these classes are the ones the
// emitted loops compute.

import type { Node } from '../../ir/node.js';
import { readsValueOf, REDUCTIONS, reduceAxes } from '../../ir/ops.js';
import type { Dim } from '../../ir/shape.js';

/** What the target does not cover: the caller runs the JavaScript fused kernel. */
export class Refused extends Error {}

export type Kind = 'const' | 'uniform' | 'elem' | 'row' | 'total';

export const sameShape = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** The nodes `root` reads the values of, arguments first (a `size` reads only its argument's shape). */
export function valueOrder(root: Node): Node[] {
  const out: Node[] = [];
  const seen = new Set<Node>([root]);
  // iterative post-order, so deep graphs cannot overflow the stack
  const stack: Array<[Node, number]> = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [n, i] = top;
    if (i < n.args.length) {
      top[1]++;
      const a = n.args[i]!;
      if (readsValueOf(n.op, i) && !seen.has(a)) {
        seen.add(a);
        stack.push([a, 0]);
      }
    } else {
      stack.pop();
      out.push(n);
    }
  }
  return out;
}

/** The class of every node `root` reads, from its shape; Refused where none fits. */
export function classify(order: readonly Node[], inputs: readonly Node[], shape: readonly Dim[]): Map<Node, Kind> {
  const kinds = new Map<Node, Kind>();
  const rowKeep = [...shape.slice(0, -1), 1];
  const rowDrop = shape.slice(0, -1);
  for (const n of order) {
    const argKinds = n.args.map((a) => kinds.get(a)!);
    let k: Kind;
    if (n.op === 'size') {
      if (n.rank !== 0) throw new Refused('a size that is not a number');
      kinds.set(n, 'uniform');
      continue;
    } else if (n.op === 'const') {
      if (typeof n.attrs.value !== 'number' || n.rank !== 0) throw new Refused('non-scalar constant');
      k = 'const';
    } else if (n.op === 'input') {
      if (!inputs.includes(n)) throw new Refused('unbound input');
      k = 'elem';
    } else if (sameShape(n.shape, shape)) k = 'elem';
    else if (sameShape(n.shape, rowKeep) || sameShape(n.shape, rowDrop)) k = 'row';
    else if (n.rank === 0) k = argKinds.every((a) => a === 'const' || a === 'uniform') ? 'uniform' : 'total';
    else throw new Refused(`a value of another shape (${n.op})`);
    if (REDUCTIONS.has(n.op)) {
      const from = argKinds[0];
      const axes = reduceAxes(n.attrs, n.args[0]!.rank);
      const ok = (from === 'elem' && k === 'row' && sameShape(axes, [n.args[0]!.rank - 1])) || (from === 'row' && k === 'total' && axes.length === n.args[0]!.rank && (n.op === 'sum' || n.op === 'mean'));
      if (!ok) throw new Refused(`a ${n.op} over other axes`);
    } else if (argKinds.some((a) => rank(a) > rank(k)) || (k !== 'total' && argKinds.includes('total'))) {
      throw new Refused(`${n.op} mixes a total with rows or elements`);
    } else if (n.args.some((a, i) => argKinds[i] === 'row' && !rowArg(n, k, a))) {
      throw new Refused(`${n.op} broadcasts a row value along another axis`);
    }
    if (n.dtype === 'int32' || (n.op === 'input' && n.dtype !== 'float32')) throw new Refused('integer values');
    kinds.set(n, k);
  }
  const root = kinds.get(order[order.length - 1]!);
  if (root !== 'total' && root !== 'uniform') throw new Refused('the root is not one number');
  return kinds;
}

/** Which classes a class may read: a total reads totals, uniforms and constants, and so on. */
const rank = (k: Kind) => ({ const: 0, uniform: 0, total: 1, row: 2, elem: 3 })[k];

/**
 * Whether row value `a` is read per row by `n`: by an element op, as [..., 1] (a [...] would
 * broadcast along the last axis, where rows and columns have equal sizes); by a row op, at its
 * own shape (or reshaped by squeeze / expand_dims).
 */
function rowArg(n: Node, k: Kind, a: Node): boolean {
  if (k === 'elem') return a.rank === n.rank;
  return n.op === 'squeeze' || n.op === 'expand_dims' || sameShape(a.shape, n.shape);
}
