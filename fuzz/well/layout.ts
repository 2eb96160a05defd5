// More float productions: layout builtins (transpose, moveaxis, expand_dims, squeeze, concat,
// part, broadcast_like, *_like, squeeze_like, check_broadcast), softmax-like helpers, one_hot,
// stdlib losses called from a program, the program's own `def` helpers, size, indices, require.

import type { Gen } from './gen.js';
import type { Production } from './productions.js';
import { call, DEF_PARAM_RANGE, iv, ivMul, ivSquare, ivSub, node, P, same, sizeOf, type G, type Iv } from './expr.js';

const ranked = (_: Gen, S: number[]) => S.length >= 1;
const maxAbs = (x: Iv) => Math.max(Math.abs(x[0]), Math.abs(x[1]));

function shuffled(g: Gen, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = g.rng.int(0, i);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

function transpose(g: Gen, S: number[], d: number): G {
  const r = S.length;
  if (g.rng.chance(0.3)) {
    const x = g.float([...S].reverse(), d);
    return call('transpose', [x], [], 'float', S, x.lo, x.hi);
  }
  const perm = shuffled(g, r);
  // out[i] = in[perm[i]], so in[perm[i]] = S[i]
  const Q = new Array<number>(r);
  perm.forEach((p, i) => (Q[p] = S[i]!));
  const x = g.float(Q, d);
  return call('transpose', [x], [`perm = [${perm.join(', ')}]`], 'float', S, x.lo, x.hi);
}

function moveaxis(g: Gen, S: number[], d: number): G {
  const r = S.length;
  const src = g.rng.int(0, r - 1);
  const dst = g.rng.int(0, r - 1);
  // moving src to dst gives S: undo it
  const axes = Array.from({ length: r }, (_, i) => i).filter((i) => i !== dst);
  axes.splice(src, 0, dst);
  const Q = axes.map((a) => S[a]!);
  const x = g.float(Q, d);
  const extra = [g.axisText(src, r), ...(g.rng.chance(0.3) && dst === r - 1 ? [] : [g.axisText(dst, r)])];
  return call('moveaxis', [x], extra, 'float', S, x.lo, x.hi);
}

function expandDims(g: Gen, S: number[], d: number): G {
  const ones = S.map((v, i) => (v === 1 ? i : -1)).filter((i) => i >= 0);
  const k = g.rng.pick(ones);
  const x = g.float(S.filter((_, i) => i !== k), d);
  return call('expand_dims', [x], [`axis = ${g.rng.chance(0.4) ? k - S.length : k}`], 'float', S, x.lo, x.hi);
}

function squeeze(g: Gen, S: number[], d: number): G {
  const k = g.rng.int(0, S.length);
  const Q = [...S.slice(0, k), 1, ...S.slice(k)];
  const x = g.float(Q, d);
  return call('squeeze', [x], [`axis = ${g.rng.chance(0.4) ? k - Q.length : k}`], 'float', S, x.lo, x.hi);
}

function concat(g: Gen, S: number[], d: number): G {
  const axes = S.map((v, i) => (v >= 2 ? i : -1)).filter((i) => i >= 0);
  const k = g.rng.pick(axes);
  const n = S[k]!;
  const cut = g.rng.int(1, n - 1);
  const sizes = n - cut >= 2 && g.rng.chance(0.3) ? [cut, 1, n - cut - 1] : [cut, n - cut];
  const xs = sizes.map((s) => g.float(S.map((v, i) => (i === k ? s : v)), d));
  const lo = Math.min(...xs.map((x) => x.lo));
  const hi = Math.max(...xs.map((x) => x.hi));
  const ax = k === S.length - 1 && g.rng.chance(0.4) ? '' : `, axis = ${g.axisText(k, S.length)}`;
  return node('float', S, lo, hi, P.ATOM, xs, (t) => `concat([${t.map((r) => r.text).join(', ')}]${ax})`);
}

function part(g: Gen, S: number[], d: number): G {
  const k = g.rng.int(0, S.length - 1);
  const parts = g.rng.int(2, 3);
  const index = g.rng.int(0, parts - 1);
  const x = g.float(S.map((v, i) => (i === k ? v * parts : v)), d);
  const ax = k === S.length - 1 && g.rng.chance(0.4) ? [] : [`axis = ${g.axisText(k, S.length)}`];
  return call('part', [x], [`index = ${index}`, `parts = ${parts}`, ...ax], 'float', S, x.lo, x.hi);
}

function broadcastLike(g: Gen, S: number[], d: number): G {
  const r = g.rng.int(0, 2);
  const like = g.float(S, d);
  if (r === 0) return call('zeros_like', [like], [], 'float', S, 0, 0);
  if (r === 1) return call('ones_like', [like], [], 'float', S, 1, 1);
  const x = g.float(g.sub(S), d);
  return call('broadcast_like', [x, like], [], 'float', S, x.lo, x.hi);
}

function squeezeLike(g: Gen, S: number[], d: number): G {
  if (g.rng.chance(0.5)) {
    const Q = [...S, 1];
    const x = g.float(Q, d);
    const like = g.float(Q.map((v, i) => (i === Q.length - 1 ? g.rng.pick(g.dims) : v)), d);
    return call('squeeze_like', [x, like], [], 'float', S, x.lo, x.hi);
  }
  const x = g.float(S, d);
  const like = g.float([...S, 2], d);
  return call('squeeze_like', [x, like], [], 'float', S, x.lo, x.hi);
}

function checkBroadcast(g: Gen, S: number[], d: number): G {
  const x = g.float(S, d);
  const like = g.float(g.rng.chance(0.5) ? S : [g.rng.pick(g.dims), ...S], d);
  return call('check_broadcast', [x, like], ['"fuzz: shapes"'], 'float', S, x.lo, x.hi);
}

function softmaxLike(g: Gen, S: number[], d: number): G {
  const op = g.rng.pick(['softmax', 'log_softmax', 'l2_normalize']);
  const k = g.rng.int(0, S.length - 1);
  const ax = k === S.length - 1 && g.rng.chance(0.5) ? [] : [`axis = ${g.axisText(k, S.length)}`];
  const x = g.bounded(S, d, 20);
  const n = S[k]!;
  if (op === 'softmax') return call(op, [x], ax, 'float', S, 0, 1);
  if (op === 'log_softmax') return call(op, [x], ax, 'float', S, x.lo - x.hi - Math.log(n), 0);
  return call(op, [x], ax, 'float', S, -1, 1);
}

function oneHot(g: Gen, S: number[], d: number): G {
  const depth = S[S.length - 1]!;
  const labels = g.labels(S.slice(0, -1), d, depth);
  const withSize = g.vars.filter((v) => v.g.shape.includes(depth));
  if (withSize.length && g.rng.chance(0.4)) {
    const v = g.rng.pick(withSize).g;
    const k = v.shape.indexOf(depth);
    // The axis text is chosen now, not when rendering: inside a definition's body the options
    // in scope (g.opts) are the definition's, and a later render would name the loss's (seed 4013700).
    const axis = g.axisText(k, v.shape.length);
    const sizeArg = node('float', [], depth, depth, P.ATOM, [v], (t) => `size(${t[0]!.text}, axis = ${axis})`);
    return call('one_hot', [labels, sizeArg], [], 'float', S, 0, 1);
  }
  return call('one_hot', [labels], [String(depth)], 'float', S, 0, 1);
}

/** Stdlib losses called from a program (each reduces the last axis). */
function stdlibLoss(g: Gen, S: number[], d: number): G {
  const Q = [...S, g.rng.pick(g.dims)];
  const n = Q[Q.length - 1]!;
  const name = g.rng.pick(['mean_squared_error', 'mean_absolute_error', 'huber', 'log_cosh', 'binary_crossentropy', 'categorical_crossentropy', 'cosine_similarity', 'poisson']);
  const a = g.bounded(Q, d, 10);
  if (name === 'poisson') {
    const p = g.tame(g.pos(Q, d, 0.1), 50);
    return call(name, [a, p], [], 'float', S, -maxAbs(iv(a)) * Math.abs(Math.log(p.hi + 1e-7)) - 1, p.hi + maxAbs(iv(a)) * 5);
  }
  const b = g.bounded(Q, d, 10);
  const diff = ivSub(iv(a), iv(b));
  switch (name) {
    case 'mean_squared_error':
      return call(name, [a, b], [], 'float', S, 0, ivSquare(diff)[1]);
    case 'mean_absolute_error':
    case 'log_cosh':
      return call(name, [a, b], [], 'float', S, 0, maxAbs(diff));
    case 'huber': {
      const delta = g.rng.pick([0.5, 1, 2]);
      return call(name, [a, b], g.rng.chance(0.5) ? [`delta = ${delta}`] : [], 'float', S, 0, ivSquare(diff)[1]);
    }
    case 'cosine_similarity':
      return call(name, [a, b], [], 'float', S, -1, 1);
    case 'binary_crossentropy': {
      const m = maxAbs(ivMul(iv(a), iv(b))) + maxAbs(iv(b)) + 20;
      return call(name, [a, b], ['from_logits = true'], 'float', S, -m, m);
    }
    default: {
      const m = n * maxAbs(iv(a)) * (b.hi - b.lo + Math.log(n) + 1);
      return call(name, [a, b], ['from_logits = true'], 'float', S, -m, m);
    }
  }
}

/** An argument tamed into the range a helper's body was generated for. */
function intoParamRange(g: Gen, x: G): G {
  if (maxAbs(iv(x)) <= DEF_PARAM_RANGE) return x;
  if (g.rng.chance(0.5)) return node('float', x.shape, -3, 3, P.PROD, [x], (t) => `3 * tanh(${t[0]!.text})`);
  return node('float', x.shape, Math.max(x.lo, -3), Math.min(x.hi, 3), P.ATOM, [x], (t) => `clip(${t[0]!.text}, -3, 3)`);
}

function defCall(g: Gen, S: number[], d: number): G {
  const def = g.rng.pick(g.defs.filter((f) => same(f.out.shape, S)));
  const args = def.params.map((p) => intoParamRange(g, g.float(p.shape, d)));
  const extra = def.option && g.rng.chance(0.5) ? [`${def.option} = ${g.rng.pick([0.5, 1, 1.5, 2])}`] : [];
  return call(def.name, args, extra, 'float', S, def.out.lo, def.out.hi);
}

function size(g: Gen, _S: number[], d: number): G {
  const v = g.vars.length && g.rng.chance(0.7) ? g.rng.pick(g.vars).g : g.float([g.rng.pick(g.dims), g.rng.pick(g.dims)], d);
  if (v.shape.length === 0 || g.rng.chance(0.3)) return call('size', [v], [], 'float', [], sizeOf(v.shape), sizeOf(v.shape));
  const k = g.rng.int(0, v.shape.length - 1);
  return call('size', [v], [`axis = ${g.axisText(k, v.shape.length)}`], 'float', [], v.shape[k]!, v.shape[k]!);
}

function fromBool(g: Gen, S: number[], d: number): G {
  const c = g.bool(S, d);
  return call('float', [c], [], 'float', S, 0, 1);
}

function indices(g: Gen, S: number[], d: number): G {
  const n = S[0]!;
  const withSize = g.vars.filter((v) => v.g.shape.includes(n));
  const v = withSize.length ? g.rng.pick(withSize).g : g.float([n], d);
  const k = v.shape.indexOf(n);
  const inner = call('indices', [v], k === 0 && g.rng.chance(0.5) ? [] : [`axis = ${g.axisText(k, v.shape.length)}`], 'int', S, 0, n - 1);
  return call('float', [inner], [], 'float', S, 0, n - 1);
}

function requireP(g: Gen, S: number[], d: number): G {
  const x = g.float(S, d);
  const nums = g.opts.filter((o) => o.kind === 'num');
  const cond = nums.length ? `${nums[0]!.name} > ${(nums[0]!.value as number) - 1}` : '1 < 2';
  return node('float', S, x.lo, x.hi, P.ATOM, [x], (t) => `require(${cond}, "fuzz: needs it", ${t[0]!.text})`);
}

/** ctc(labels, logits) [B] and ctc_grad [B, T, C], when y_true holds CTC labels [B, L]. */
function ctc(g: Gen, S: number[], d: number): G {
  const [B, T, C] = g.ctc!;
  const labels = g.vars.find((v) => v.name === 'y_true')!.g;
  const x = g.bounded([B, T, C], d, 5);
  if (S.length === 1) return call('ctc', [labels, x], [], 'float', S, 0, T * (10 + Math.log(C)) + 1);
  // ctc_grad has no derivative of its own (a documented limit): only under stop_gradient.
  const grad = call('ctc_grad', [labels, x], [], 'float', S, -1, 1);
  return call('stop_gradient', [grad], [], 'float', S, -1, 1);
}

/** sparse_categorical_crossentropy of the integer labels y_true against logits or probabilities. */
function sparse(g: Gen, S: number[], d: number): G {
  const labels = g.vars.find((v) => v.name === 'y_true')!.g;
  const C = g.classes;
  const x = g.bounded([...S, C], d, 10);
  if (g.rng.chance(0.5)) return call('sparse_categorical_crossentropy', [labels, x], ['from_logits = true'], 'float', S, 0, 20 + Math.log(C) + 1);
  const p = call('softmax', [x], [], 'float', [...S, C], 0, 1);
  return call('sparse_categorical_crossentropy', [labels, p], [], 'float', S, 0, 17);
}

export const LAYOUT_PRODUCTIONS: Record<string, Production> = {
  ctc: { w: 2, ok: (g, S) => g.ctc !== undefined && g.vars.some((v) => v.name === 'y_true') && (same(S, [g.ctc[0]]) || (same(S, g.ctc) && g.rng.chance(0.2))), make: ctc },
  sparse: { w: 1.5, ok: (g, S) => g.classes > 0 && !g.ctc && same(S, g.vars.find((v) => v.name === 'y_true')?.g.shape ?? [-1]), make: sparse },
  transpose: { w: 0.5, ok: (_, S) => S.length >= 2, make: transpose },
  moveaxis: { w: 0.3, ok: (_, S) => S.length >= 2, make: moveaxis },
  expand_dims: { w: 0.4, ok: (_, S) => S.includes(1), make: expandDims },
  squeeze: { w: 0.3, ok: (_, S) => S.length <= 3, make: squeeze },
  concat: { w: 0.4, ok: (_, S) => S.some((v) => v >= 2), make: concat },
  part: { w: 0.4, ok: ranked, make: part },
  broadcast_like: { w: 0.5, ok: always, make: broadcastLike },
  squeeze_like: { w: 0.15, ok: (_, S) => S.length <= 2, make: squeezeLike },
  check_broadcast: { w: 0.15, ok: always, make: checkBroadcast },
  softmax: { w: 0.7, ok: ranked, make: softmaxLike },
  one_hot: { w: 0.4, ok: (_, S) => S.length >= 1 && S[S.length - 1]! >= 1, make: oneHot },
  stdlib_loss: { w: 0.5, ok: always, make: stdlibLoss },
  def_call: { w: 1.5, ok: (g, S) => g.defs.some((f) => same(f.out.shape, S)), make: defCall },
  size: { w: 0.3, ok: (_, S) => S.length === 0, make: size },
  from_bool: { w: 0.6, ok: always, make: fromBool },
  indices: { w: 0.2, ok: (_, S) => S.length === 1, make: indices },
  require: { w: 0.1, ok: always, make: requireP },
  literal: { w: 0.15, ok: (_, S) => sizeOf(S) <= 12, make: (g, S) => g.literal(S) },
  scaled: { w: 0.3, ok: always, make: (g, S, d) => scaledByOption(g, S, d) },
};

function always(): boolean {
  return true;
}

/** An option used as a tensor: o * x. */
function scaledByOption(g: Gen, S: number[], d: number): G {
  const x = g.float(S, d);
  const opts = g.opts.filter((o) => o.kind === 'num');
  const o = opts.length ? g.rng.pick(opts) : undefined;
  const v = o ? (o.value as number) : 2;
  const name = o ? o.name : '2';
  const [lo, hi] = ivMul(iv(x), [v, v]);
  return node('float', S, lo, hi, P.PROD, [x], (t) => `${name} * ${t[0]!.prec >= P.NEG ? t[0]!.text : `(${t[0]!.text})`}`);
}

