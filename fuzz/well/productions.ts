// The float productions of the well-formed generator, one per language feature: a weight, when
// it applies to a wanted shape, and how it builds a node of exactly that shape with values kept
// in a domain where the float64 reference stays finite.

import type { Gen } from './gen.js';
import { bin, call, dropsTo, iv, ivAdd, ivDiv, ivHull, ivMul, ivSquare, ivSub, neg, node, num, P, sizeOf, type G, type Iv } from './expr.js';
import { LAYOUT_PRODUCTIONS } from './layout.js';

export interface Production {
  w: number;
  ok(g: Gen, S: number[]): boolean;
  make(g: Gen, S: number[], d: number): G;
}

const always = () => true;
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const maxAbs = (x: Iv) => Math.max(Math.abs(x[0]), Math.abs(x[1]));

type Unary = (g: Gen, S: number[], d: number) => G;
const u = (name: string, arg: (g: Gen, S: number[], d: number) => G, range: (x: Iv) => Iv): Unary => (g, S, d) => {
  const x = arg(g, S, d);
  const [lo, hi] = range(iv(x));
  return call(name, [x], [], 'float', S, lo, hi);
};
const any = (g: Gen, S: number[], d: number) => g.float(S, d);
const mono = (f: (x: number) => number) => (x: Iv): Iv => [f(x[0]), f(x[1])];

/** Unary builtins and prelude helpers, each with the domain its argument is kept in. */
const UNARY: Record<string, Unary> = {
  exp: u('exp', (g, S, d) => g.bounded(S, d, 6), mono(Math.exp)),
  log: u('log', (g, S, d) => g.pos(S, d, 0.1), mono(Math.log)),
  log1p: u('log1p', (g, S, d) => g.pos(S, d, 0.1), mono(Math.log1p)),
  expm1: u('expm1', (g, S, d) => g.bounded(S, d, 6), mono(Math.expm1)),
  sqrt: u('sqrt', (g, S, d) => g.pos(S, d, 0.1), mono(Math.sqrt)),
  abs: u('abs', any, (x) => [x[0] > 0 ? x[0] : x[1] < 0 ? -x[1] : 0, maxAbs(x)]),
  sign: u('sign', any, () => [-1, 1]),
  sigmoid: u('sigmoid', any, mono(sig)),
  softplus: u('softplus', any, mono(softplus)),
  tanh: u('tanh', any, mono(Math.tanh)),
  cosh: u('cosh', (g, S, d) => g.bounded(S, d, 6), (x) => [Math.cosh(x[0] > 0 ? x[0] : x[1] < 0 ? -x[1] : 0), Math.cosh(maxAbs(x))]),
  sinh: u('sinh', (g, S, d) => g.bounded(S, d, 6), mono(Math.sinh)),
  cos: u('cos', any, () => [-1, 1]),
  sin: u('sin', any, () => [-1, 1]),
  floor: u('floor', any, mono(Math.floor)),
  stop_gradient: u('stop_gradient', any, (x) => x),
  relu: u('relu', any, (x) => [Math.max(x[0], 0), Math.max(x[1], 0)]),
  square: u('square', any, ivSquare),
  clip_probability: u('clip_probability', any, (x) => [Math.min(Math.max(x[0], 1e-7), 1 - 1e-7), Math.min(Math.max(x[1], 1e-7), 1 - 1e-7)]),
  float_int: (g, S, d) => {
    const x = g.float(S, d);
    const i = call('int', [x], [], 'int', S, Math.trunc(x.lo), Math.trunc(x.hi));
    return call('float', [i], [], 'float', S, i.lo, i.hi);
  },
  neg: (g, S, d) => neg(g.float(S, d)),
};

const ARITH = ['+', '-', '*', '/', '^', 'maximum', 'minimum', 'max', 'min'] as const;

function arith(g: Gen, S: number[], d: number): G {
  const op = g.rng.pick(ARITH);
  const [sa, sb] = g.bcastPair(S);
  if (op === '/') {
    const a = g.float(sa, d);
    const b = g.nonzero(sb, d);
    return bin('/', a, b, 'float', S, ivDiv(iv(a), iv(b)));
  }
  if (op === '^') return power(g, S, sa, sb, d);
  const a = g.float(sa, d);
  const b = g.rng.chance(0.25) && sb.length === 0 ? g.leafFloat([]) : g.float(sb, d);
  if (op === '+') return bin('+', a, b, 'float', S, ivAdd(iv(a), iv(b)));
  if (op === '-') return bin('-', a, b, 'float', S, ivSub(iv(a), iv(b)));
  if (op === '*') return bin('*', a, b, 'float', S, ivMul(iv(a), iv(b)));
  const isMax = op === 'maximum' || op === 'max';
  const range: Iv = isMax ? [Math.max(a.lo, b.lo), Math.max(a.hi, b.hi)] : [Math.min(a.lo, b.lo), Math.min(a.hi, b.hi)];
  return call(op, [a, b], [], 'float', S, range[0], range[1]);
}

/** x^k for a whole k (any base), or a positive base to a bounded power. */
function power(g: Gen, S: number[], sa: number[], sb: number[], d: number): G {
  const tight = g.rng.chance(0.5);
  if (g.rng.chance(0.5)) {
    const k = g.rng.pick([2, 3, 1, 0, 4]);
    const a = g.bounded(S, d, 10);
    const range: Iv = k % 2 === 0 ? [k === 0 ? 1 : Math.min(...ivPow(iv(a), k)), Math.max(...ivPow(iv(a), k))] : ivPow(iv(a), k);
    if (k % 2 === 0 && a.lo < 0 && a.hi > 0) range[0] = 0;
    return bin('^', a, num(k, g.rng.int(0, 4)), 'float', S, range, tight);
  }
  const base = g.tame(g.pos(sa, d, 0.2), 10);
  const opt = g.opts.filter((o) => o.kind === 'num');
  const e = sb.length === 0 && opt.length && g.rng.chance(0.3)
    ? node('float', [], opt[0]!.value as number, opt[0]!.value as number, P.ATOM, [], () => opt[0]!.name)
    : g.bounded(sb, d, 2);
  const logs: Iv = [Math.log(base.lo), Math.log(base.hi)];
  const [l, h] = ivMul(logs, iv(e));
  return bin('^', base, e, 'float', S, [Math.exp(l), Math.exp(h)], tight);
}

function ivPow(x: Iv, k: number): Iv {
  const a = x[0] ** k;
  const b = x[1] ** k;
  return [Math.min(a, b), Math.max(a, b)];
}

/** The shape to reduce from, and the axes: prefer the shape of a variable, else insert axes. */
function reduceSource(g: Gen, S: number[], keepdims: boolean): { Q: number[]; axes: number[] } {
  if (!keepdims) {
    const fits = g.vars.filter((v) => v.g.shape.length > S.length && dropsTo(v.g.shape, S) !== null);
    if (fits.length && g.rng.chance(0.6)) {
      const Q = g.rng.pick(fits).g.shape;
      return { Q, axes: dropsTo(Q, S)! };
    }
    const Q = [...S];
    const n = g.rng.chance(0.8) || S.length >= 2 ? 1 : 2;
    for (let i = 0; i < n; i++) Q.splice(g.rng.int(0, Q.length), 0, g.rng.pick(g.dims));
    return { Q, axes: dropsTo(Q, S)! };
  }
  const ones = S.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
  const axes = ones.filter(() => g.rng.chance(0.7));
  if (!axes.length) axes.push(g.rng.pick(ones));
  const Q = S.map((d, i) => (axes.includes(i) ? g.rng.pick(g.dims) : d));
  return { Q, axes };
}

function axesText(g: Gen, axes: number[], rank: number, all: boolean): string[] {
  if (all && g.rng.chance(0.6)) return g.rng.chance(0.5) ? [] : ['axis = none'];
  if (axes.length === 1) return [`axis = ${g.axisText(axes[0]!, rank)}`];
  const shown = axes.map((a) => (g.rng.chance(0.3) ? a - rank : a));
  return [`axis = [${(g.rng.chance(0.2) ? [...shown].reverse() : shown).join(', ')}]`];
}

function reduce(g: Gen, S: number[], d: number): G {
  const keepdims = S.includes(1) && g.rng.chance(0.3);
  const { Q, axes } = reduceSource(g, S, keepdims);
  const op = g.rng.pick(['sum', 'mean', 'max', 'min', 'logsumexp', 'norm', 'squared_distance']);
  const n = sizeOf(axes.map((a) => Q[a]!));
  const all = !keepdims && S.length === 0;
  if ((op === 'norm' || op === 'squared_distance') && axes.length === 1 && !keepdims) {
    const ax = [`axis = ${g.axisText(axes[0]!, Q.length)}`];
    if (op === 'norm') {
      const x = g.bounded(Q, d, 100);
      return call('norm', [x], ax, 'float', S, 0, Math.sqrt(n) * maxAbs(iv(x)));
    }
    const a = g.bounded(Q, d, 100);
    const b = g.bounded(Q, d, 100);
    return call('squared_distance', [a, b], ax, 'float', S, 0, n * ivSquare(ivSub(iv(a), iv(b)))[1]);
  }
  const name = op === 'norm' || op === 'squared_distance' ? 'sum' : op;
  const x = name === 'logsumexp' ? g.bounded(Q, d, 20) : g.float(Q, d);
  const extra = [...axesText(g, axes, Q.length, all), ...(keepdims ? ['keepdims = true'] : g.rng.chance(0.1) ? ['keepdims = false'] : [])];
  const range: Iv = name === 'sum' ? ivHull([x.lo * n, x.hi * n], iv(x)) : name === 'logsumexp' ? [x.lo, x.hi + Math.log(n)] : iv(x);
  return call(name, [x], extra, 'float', S, range[0], range[1]);
}

function where(g: Gen, S: number[], d: number): G {
  const [sc, sx] = g.bcastPair(S);
  const c = g.bool(sc, d);
  const a = g.float(sx, d);
  const b = g.float(S, d);
  const [x, y] = g.rng.chance(0.5) ? [a, b] : [b, a];
  return call('where', [c, x, y], [], 'float', S, Math.min(a.lo, b.lo), Math.max(a.hi, b.hi));
}

function clip(g: Gen, S: number[], d: number): G {
  const x = g.float(S, d);
  const lo = g.rng.pick([-1, -0.5, 0, 0.1, -2]);
  const hi = lo + g.rng.pick([0.5, 1, 2, 3]);
  const inf = g.rng.chance(0.15);
  const loG = inf ? node('float', [], -Infinity, -Infinity, P.NEG, [], () => '-inf') : num(lo);
  const r: Iv = [inf ? x.lo : Math.min(Math.max(x.lo, lo), hi), Math.min(Math.max(x.hi, lo), hi)];
  return node('float', S, Math.min(r[0], hi), r[1], P.ATOM, [x, loG, num(hi)], (k) => `clip(${k[0]!.text}, ${k[1]!.text}, ${k[2]!.text})`);
}

/** A compile-time condition on the options: flag, not flag, flag and flag2, o > 0.5, ... */
function staticCond(g: Gen): string {
  const flags = g.opts.filter((o) => o.kind === 'bool');
  const nums = g.opts.filter((o) => o.kind === 'num');
  const r = g.rng.int(0, 4);
  if (r === 0 && nums.length) return `${g.rng.pick(nums).name} ${g.rng.pick(['>', '<', '>=', '<=', '==', '!='])} ${g.rng.pick([0.5, 1, 2])}`;
  const f = flags.length ? g.rng.pick(flags).name : 'true';
  if (r === 1) return `not ${f}`;
  if (r === 2 && flags.length) return `${f} ${g.rng.pick(['and', 'or'])} ${g.rng.pick(flags).name}`;
  return f;
}

function ifThen(g: Gen, S: number[], d: number): G {
  const cond = staticCond(g);
  const a = g.float(S, d);
  const b = g.float(S, d);
  if (g.rng.chance(0.25)) {
    const cond2 = staticCond(g);
    const c = g.float(S, d);
    return node('float', S, Math.min(a.lo, b.lo, c.lo), Math.max(a.hi, b.hi, c.hi), P.IF, [a, b, c], (k) => `if ${cond} then ${k[0]!.text} else if ${cond2} then ${k[1]!.text} else ${k[2]!.text}`);
  }
  return node('float', S, Math.min(a.lo, b.lo), Math.max(a.hi, b.hi), P.IF, [a, b], (k) => `if ${cond} then ${k[0]!.text} else ${k[1]!.text}`);
}

function matmul(g: Gen, S: number[], d: number): G {
  const batch = S.slice(0, -2);
  const [m, n] = S.slice(-2) as [number, number];
  const k = g.rng.int(1, 4);
  const bb = g.rng.chance(0.3) ? g.sub(batch) : batch;
  const [ba, bb2] = g.rng.chance(0.5) ? [batch, bb] : [bb, batch];
  const a = g.bounded([...ba, m, k], d, 30);
  const b = g.bounded([...bb2, k, n], d, 30);
  const [lo, hi] = ivMul(iv(a), iv(b));
  return call('matmul', [a, b], [], 'float', S, lo * k, hi * k);
}

export const FLOAT_PRODUCTIONS: Record<string, Production> = {
  unary: { w: 4, ok: always, make: (g, S, d) => UNARY[g.rng.pick(Object.keys(UNARY))]!(g, S, d) },
  arith: { w: 5, ok: always, make: arith },
  reduce: { w: 2.5, ok: always, make: reduce },
  where: { w: 1, ok: always, make: where },
  clip: { w: 0.6, ok: always, make: clip },
  if: { w: 0.6, ok: (g) => g.opts.some((o) => o.kind !== 'axis'), make: ifThen },
  matmul: { w: 0.5, ok: (_, S) => S.length >= 2, make: matmul },
  ...LAYOUT_PRODUCTIONS,
};
