// The derivative of every primitive, as its vector-Jacobian product: given the node, its
// arguments and the adjoint `g` flowing back from the node's users, the adjoint each argument
// receives (null: none, because the argument is not differentiable through this op).
// One entry per op, each a line or two of IR, in the spirit of micrograd's `_backward`s; a total
// table (null: no rule here, the op is differentiated by grad.ts itself or not at all).
//
// `g` may be smaller than the node (a scalar 1 seeds a sum, for instance): elementwise rules let
// it broadcast; rules that move axes first widen it with `full(g, n)`. Contributions larger
// than an argument are summed back over the broadcast axes by grad.ts.

import * as b from '../ir/build.js';
import { Node } from '../ir/node.js';
import type { OpName } from '../ir/ops.js';
import { gcd } from '../ir/op-spec.js';
import { LosscError } from '../errors.js';

export type Vjp = (n: Node, g: Node) => Array<Node | null>;

const { add, sub, mul, div, neg, pow, constant, where, compare } = b;
const zero = () => constant(0);
const one = () => constant(1);

/** g widened to the node's full shape (only when it is not already). */
export function full(g: Node, n: Node): Node {
  return g.rank === n.rank && g.shape.every((d, i) => d === n.shape[i]) ? g : b.broadcastLike(g, n);
}

/** The adjoint of a reduction's output, with the reduced axes restored as size 1. */
function unreduce(n: Node, g: Node): Node {
  if (g.rank === 0) return g;
  if (n.attrs.keepdims === true) return full(g, n);
  let out = full(g, n);
  for (const a of n.attrs.axes as number[]) out = b.expandDims(out, a);
  return out;
}

/** The reduction's output with its reduced axes kept (to compare or subtract against x). */
function keptOutput(n: Node): Node {
  if (n.attrs.keepdims === true) return n;
  let out = n;
  for (const a of n.attrs.axes as number[]) out = b.expandDims(out, a);
  return out;
}

const none: Vjp = (n) => n.args.map(() => null);

/** The adjoint of max/min: g divided among the entries that tie for the extreme, 0 elsewhere. */
function extremeAdjoint(n: Node, g: Node): Node {
  const hit = compare('eq', n.args[0]!, keptOutput(n));
  const ties = b.reduce('sum', b.cast(hit, 'float32'), n.attrs.axes as number[], true);
  return where(hit, div(unreduce(n, g), ties), zero());
}

export const VJP: Record<OpName, Vjp | null> = {
  // Leaves have no arguments to pass an adjoint to.
  input: none,
  const: none,
  tensor: none,
  param: none,

  neg: (_n, g) => [neg(g)],
  exp: (n, g) => [mul(g, n)],
  log: (n, g) => [div(g, n.args[0]!)],
  log1p: (n, g) => [div(g, add(one(), n.args[0]!))],
  expm1: (n, g) => [mul(g, b.exp(n.args[0]!))],
  sqrt: (n, g) => [div(g, mul(constant(2), n))],
  abs: (n, g) => [mul(g, b.sign(n.args[0]!))],
  sigmoid: (n, g) => [mul(g, mul(n, sub(one(), n)))],
  softplus: (n, g) => [mul(g, b.sigmoid(n.args[0]!))],
  tanh: (n, g) => [mul(g, sub(one(), pow(n, constant(2))))],
  cosh: (n, g) => [mul(g, b.unary('sinh', n.args[0]!))],
  sinh: (n, g) => [mul(g, b.unary('cosh', n.args[0]!))],
  cos: (n, g) => [neg(mul(g, b.unary('sin', n.args[0]!)))],
  sin: (n, g) => [mul(g, b.unary('cos', n.args[0]!))],
  sign: none,
  floor: none,
  not: none,
  stop_gradient: none,
  cast: (n, g) => [n.dtype === 'float32' && n.args[0]!.dtype === 'float32' ? g : null],

  add: (_n, g) => [g, g],
  sub: (_n, g) => [g, neg(g)],
  mul: (n, g) => [mul(g, n.args[1]!), mul(g, n.args[0]!)],
  div: (n, g) => {
    const [x, y] = n.args as [Node, Node];
    return [div(g, y), neg(div(mul(g, x), pow(y, constant(2))))];
  },
  pow: (n, g) => {
    const [x, y] = n.args as [Node, Node];
    // d/dx x^y = y x^(y-1); d/dy x^y = x^y log(x) (only needed when y depends on an input),
    // taken as 0 where x <= 0, as TensorFlow does (0^y has no log, and x^y is 0 or NaN there).
    const logx = () => where(compare('gt', x, zero()), b.log(x), zero());
    return [mul(g, mul(y, pow(x, sub(y, one())))), y.op === 'const' || y.op === 'param' ? null : mul(g, mul(n, logx()))];
  },
  // As TensorFlow: ties send the whole adjoint to the first argument of maximum, the first of minimum.
  maximum: (n, g) => {
    const [x, y] = n.args as [Node, Node];
    return [where(compare('ge', x, y), g, zero()), where(compare('lt', x, y), g, zero())];
  },
  minimum: (n, g) => {
    const [x, y] = n.args as [Node, Node];
    return [where(compare('le', x, y), g, zero()), where(compare('gt', x, y), g, zero())];
  },
  lt: none,
  le: none,
  gt: none,
  ge: none,
  eq: none,
  ne: none,
  and: none,
  or: none,

  where: (n, g) => {
    const [c] = n.args as [Node];
    return [null, where(c, g, zero()), where(c, zero(), g)];
  },
  // Passes through inside [lo, hi] (bounds included), as tf.clipByValue does.
  clip: (n, g) => {
    const [x, lo, hi] = n.args as [Node, Node, Node];
    const inside = Node.make('and', [compare('ge', x, lo), compare('le', x, hi)]);
    return [where(inside, g, zero()), where(compare('lt', x, lo), g, zero()), where(compare('gt', x, hi), g, zero())];
  },

  sum: (n, g) => [unreduce(n, g)],
  mean: (n, g) => [div(unreduce(n, g), b.size(n.args[0]!, n.attrs.axes as number[]))],
  // The entries equal to the extreme share the adjoint equally (TensorFlow's rule for
  // reduce_max/reduce_min): with k ties, each gets 1/k of it.
  max: (n, g) => [extremeAdjoint(n, g)],
  min: (n, g) => [extremeAdjoint(n, g)],
  // d logsumexp(x) = softmax(x) = exp(x - logsumexp(x)).
  logsumexp: (n, g) => [mul(unreduce(n, g), b.exp(sub(n.args[0]!, keptOutput(n))))],

  size: none,
  indices: none,
  broadcast_like: (_n, g) => [g, null],
  expand_dims: (n, g) => [b.squeeze(full(g, n), n.attrs.axis as number)],
  squeeze: (n, g) => [b.expandDims(full(g, n), n.attrs.axis as number)],
  // `part` is handled by grad.ts, which gathers every part of a tensor into one concat.
  part: null,
  concat: (n, g) => {
    const axis = n.attrs.axis as number;
    const gg = full(g, n);
    const sizes = n.args.map((a) => a.shape[axis]!);
    if (sizes.every((s) => s === sizes[0])) {
      return n.args.map((_, index) => Node.make('part', [gg], { axis, parts: n.args.length, index }));
    }
    // Unequal sizes: `part` cuts equal parts only, so cut g into pieces of the sizes' greatest
    // common divisor and give each argument the concat of its own pieces.
    if (!sizes.every((s): s is number => typeof s === 'number')) {
      throw new LosscError('shape', `the derivative of concat needs known sizes along the axis when they differ (${sizes.join(', ')})`);
    }
    const unit = sizes.reduce(gcd);
    const pieces = sizes.reduce((p, q) => p + q, 0) / unit;
    let at = 0;
    return sizes.map((s) => {
      const mine = b.partRange(gg, axis, pieces, at, at + s / unit);
      at += s / unit;
      return mine.length === 0 ? null : mine.length === 1 ? mine[0]! : Node.make('concat', mine, { axis });
    });
  },
  transpose: (n, g) => {
    const perm = n.attrs.perm as number[];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [Node.make('transpose', [full(g, n)], { perm: inverse })];
  },
  matmul: (n, g) => {
    const [x, y] = n.args as [Node, Node];
    const gg = full(g, n);
    return [Node.make('matmul', [gg, swapLast(y)]), Node.make('matmul', [swapLast(x), gg])];
  },
  one_hot: none,
  // d ctc(labels, logits)_b / d logits[b, t, c] is the primitive ctc_grad (forward-backward);
  // the adjoint of row b (a vector of the batch, or a scalar seed) scales its (T, C) block.
  ctc: (n, g) => {
    const [labels, logits] = n.args as [Node, Node];
    const perRow = g.rank === 0 ? g : b.expandDims(b.expandDims(full(g, n), -1), -1);
    return [null, mul(perRow, Node.make('ctc_grad', [labels, logits]))];
  },
  // Its own derivative (the second derivative of ctc) is not implemented.
  ctc_grad: () => {
    throw new LosscError('type', 'second derivatives of ctc are not supported (ctc_grad has no derivative rule)');
  },
};

function swapLast(x: Node): Node {
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  perm[x.rank - 1] = x.rank - 2;
  perm[x.rank - 2] = x.rank - 1;
  return Node.make('transpose', [x], { perm });
}
