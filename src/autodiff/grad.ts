// Reverse-mode differentiation on the IR: walk the DAG from the output back to the inputs,
// asking each node's rule (rules.ts) for its arguments' adjoints and summing them. The result
// is IR too, so it can be simplified, printed, compiled, and differentiated again.

import { LosscError } from '../errors.js';
import * as b from '../ir/build.js';
import { Node, topoSort } from '../ir/node.js';
import { isElementwise } from '../ir/ops.js';
import { locatedAt, type Origins } from '../ir/origin.js';
import { sameShape } from '../ir/shape.js';
import { VJP } from './rules.js';

/**
 * The derivative of `sum(output)` with respect to each of `wrt` (a tensor shaped like it).
 * `seed` is the adjoint of the output (default: 1, i.e. the plain sum). An error a node's rule
 * raises (a shape error at symbolic sizes) is located at the node's origin in `origins`.
 */
export function grad(output: Node, wrt: readonly Node[], seed: Node = b.constant(1), origins?: Origins): Node[] {
  for (const w of wrt) {
    if (w.dtype !== 'float32') {
      const name = w.op === 'input' ? `\`${w.attrs.name as string}\`` : 'this tensor';
      throw new LosscError(
        'type',
        `cannot differentiate with respect to ${name}: it is ${w.dtype === 'int32' ? 'an integer tensor (labels)' : 'a boolean tensor'}, which has no derivative`,
      );
    }
  }
  if (output.dtype !== 'float32') throw new LosscError('type', 'only a float value can be differentiated');
  const order = topoSort([output]);
  // Only nodes on a path from some wrt to the output need adjoints.
  const needs = new Set<Node>(wrt);
  for (const n of order) if (n.args.some((a) => needs.has(a))) needs.add(n);

  // Each node's adjoint contributions, summed when the node is reached (all its users are done
  // then): as one balanced tree when there are many (b.chain), so a value used by 10 000 terms
  // does not get an adjoint 10 000 additions deep.
  const pending = new Map<Node, Node[]>();
  const adjoint = {
    get: (x: Node): Node | undefined => {
      const gs = pending.get(x);
      return gs && b.chain(gs, gs.map(() => false), (l, r) => b.add(l, r));
    },
  };
  // Adjoints of the parts of a split tensor, gathered so that they become one concat.
  const partAdjoints = new Map<Node, PartAdjoints>();
  const accumulate = (x: Node, g: Node) => {
    const gs = pending.get(x);
    if (gs) gs.push(g);
    else pending.set(x, [g]);
  };
  if (needs.has(output)) accumulate(output, seed);

  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    locatedAt(origins, n, () => step(n));
  }
  return wrt.map((w) => {
    const g = adjoint.get(w);
    return g ? b.broadcastLike(g, w) : b.broadcastLike(b.constant(0), w);
  });

  /** Pass n's adjoint on to its arguments. */
  function step(n: Node): void {
    const parts = partAdjoints.get(n);
    if (parts) accumulate(n, joinParts(n, parts));
    const g = adjoint.get(n);
    if (!g || n.args.length === 0 || !needs.has(n)) return;
    if (n.op === 'part') {
      const src = n.args[0]!;
      if (!needs.has(src)) return;
      const axis = n.attrs.axis as number;
      const count = n.attrs.parts as number;
      let split = partAdjoints.get(src);
      if (split && (split.axis !== axis || split.parts !== count)) {
        // Split two different ways: fall back to one concat per way, added as usual.
        accumulate(src, joinParts(src, { axis, parts: count, adjoints: new Map([[n.attrs.index as number, sumToShape(g, n)]]) }));
        return;
      }
      split ??= { axis, parts: count, adjoints: new Map() };
      const idx = n.attrs.index as number;
      const prev = split.adjoints.get(idx);
      const gg = sumToShape(g, n);
      split.adjoints.set(idx, prev ? b.add(prev, gg) : gg);
      partAdjoints.set(src, split);
      return;
    }
    const rule = VJP[n.op];
    if (!rule) throw new LosscError('type', `no derivative rule for \`${n.op}\``);
    const contributions = rule(n, g);
    n.args.forEach((a, k) => {
      const c = contributions[k];
      if (c && needs.has(a) && a.dtype === 'float32') accumulate(a, sumToShape(widenForBroadcast(c, a, n), a));
    });
  }
}

/** One concat of the adjoints of a tensor's parts, zeros for the parts nobody used (a run of them in few pieces). */
function joinParts(src: Node, split: PartAdjoints): Node {
  const pieces: Node[] = [];
  for (let index = 0; index < split.parts; ) {
    const adjoint = split.adjoints.get(index);
    if (adjoint) {
      pieces.push(b.broadcastLike(adjoint, Node.make('part', [src], { axis: split.axis, parts: split.parts, index })));
      index++;
      continue;
    }
    let end = index;
    while (end < split.parts && !split.adjoints.has(end)) end++;
    for (const zeros of b.partRange(src, split.axis, split.parts, index, end)) pieces.push(b.broadcastLike(b.constant(0), zeros));
    index = end;
  }
  return Node.make('concat', pieces, { axis: split.axis });
}

interface PartAdjoints {
  axis: number;
  parts: number;
  adjoints: Map<number, Node>;
}

/**
 * An argument that was broadcast up to its node's shape receives the SUM of the adjoint over the
 * broadcast axes. Adjoints may be kept smaller than their node (a scalar 1 seeds a whole sum), so
 * a small contribution is first widened to the node's shape: otherwise `sum(x) + mean(x, axis)`
 * would hand its scalar term an adjoint of 1 instead of N.
 */
function widenForBroadcast(c: Node, arg: Node, n: Node): Node {
  const broadcasting = isElementwise(n.op) || n.op === 'broadcast_like';
  if (!broadcasting || sameShape(arg.shape, n.shape) || sameShape(c.shape, n.shape)) return c;
  return b.broadcastLike(c, n);
}

/** Sum a contribution over the axes it was broadcast along, so it fits `target`'s shape. */
export function sumToShape(c: Node, target: Node): Node {
  let out = c;
  const extra = out.rank - target.rank;
  if (extra > 0) out = b.reduce('sum', out, Array.from({ length: extra }, (_, i) => i), false);
  const axes: number[] = [];
  out.shape.forEach((d, i) => {
    const t = target.shape[i + target.rank - out.rank];
    if (t === 1 && d !== 1) axes.push(i);
  });
  if (axes.length) out = b.reduce('sum', out, axes, true);
  return out;
}
