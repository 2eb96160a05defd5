// The scalar layer of the WebGL target: how one element of each elementwise op is written in
// GLSL ES 3.00 (every value a highp float, bools as 0.0/1.0), and the only way a number enters
// the generated source (`glslFloat`, which takes values of type number only).
//
// Precision and special values: GLSL leaves exp/log of large or zero arguments, sqrt and log of
// negatives, and NaN through max/min undefined, so every such op goes through a helper that
// answers those cases as IEEE and tfjs's cpu backend do (NaN in, NaN out; log(0) = -inf;
// exp overflow = inf). Forms that lose digits in float32 are replaced by stable ones: log1p
// and expm1 by series near 0, tanh through expm1, sigmoid and softplus from exp(-|x|).

import type { Node } from '../../ir/node.js';
import type { OpName } from '../../ir/ops.js';

/** GLSL helper functions, in dependency order (each may call those above it). */
const HELPER_CODE = {
  exp: 'float lc_exp(float x) { if (isnan(x)) return x; if (x > 88.72284) return LC_INF; if (x < -103.98) return 0.0; return exp(x); }',
  log: 'float lc_log(float x) { if (isnan(x) || x == LC_INF) return x; if (x < 0.0) return NAN; if (x == 0.0) return -LC_INF; return log(x); }',
  // log1p(x) = 2 atanh(s), s = x / (2 + x), |s| <= 0.172 near 0 (series to s^11); else log(1 + x).
  log1p:
    'float lc_log1p(float x) { if (isnan(x) || x == LC_INF) return x; if (x < -1.0) return NAN; if (x == -1.0) return -LC_INF;' +
    ' if (x > -0.29289323 && x < 0.41421357) { float s = x / (2.0 + x); float z = s * s;' +
    ' return 2.0 * s * (1.0 + z * (0.33333334 + z * (0.2 + z * (0.14285715 + z * (0.11111111 + z * 0.09090909))))); }' +
    ' return log(1.0 + x); }',
  // expm1: Taylor to x^8 for |x| < 0.5 (relative error below 1e-8), else exp(x) - 1.
  expm1:
    'float lc_expm1(float x) { if (isnan(x)) return x; if (abs(x) < 0.5) return x * (1.0 + x * (0.5 + x * (0.16666667 + x * (0.041666668' +
    ' + x * (0.008333334 + x * (0.0013888889 + x * (0.0001984127 + x * 0.0000248016))))))); return lc_exp(x) - 1.0; }',
  sqrt: 'float lc_sqrt(float x) { if (isnan(x) || x < 0.0) return NAN; return sqrt(x); }',
  sign: 'float lc_sign(float x) { return isnan(x) ? x : sign(x); }',
  sigmoid: 'float lc_sigmoid(float x) { if (isnan(x)) return x; float e = lc_exp(-abs(x)); float s = 1.0 / (1.0 + e); return x >= 0.0 ? s : e * s; }',
  softplus: 'float lc_softplus(float x) { if (isnan(x)) return x; return max(x, 0.0) + lc_log1p(lc_exp(-abs(x))); }',
  tanh: 'float lc_tanh(float x) { if (isnan(x)) return x; float e = lc_expm1(-2.0 * abs(x)); return sign(x) * (-e / (2.0 + e)); }',
  // cosh and sinh from e = exp(|x| - log 2) = exp(|x|) / 2, so they overflow where float32 does, not before; sinh by expm1 near 0.
  cosh: 'float lc_cosh(float x) { if (isnan(x)) return x; float e = lc_exp(abs(x) - 0.6931472); return e + 0.25 / e; }',
  sinh:
    'float lc_sinh(float x) { if (isnan(x)) return x; float a = abs(x); if (a < 0.5) { float m = lc_expm1(a); return sign(x) * 0.5 * (m + m / (m + 1.0)); }' +
    ' float e = lc_exp(a - 0.6931472); return sign(x) * (e - 0.25 / e); }',
  cos: 'float lc_cos(float x) { if (isnan(x) || abs(x) == LC_INF) return NAN; return cos(x); }',
  sin: 'float lc_sin(float x) { if (isnan(x) || abs(x) == LC_INF) return NAN; return sin(x); }',
  max: 'float lc_max(float a, float b) { if (isnan(a)) return a; if (isnan(b)) return b; return max(a, b); }',
  min: 'float lc_min(float a, float b) { if (isnan(a)) return a; if (isnan(b)) return b; return min(a, b); }',
  // a == b gives exactly 1 (GPUs may divide as a * (1 / b), and a / a would be 0.99999994).
  div: 'float lc_div(float a, float b) { return (a == b && a != 0.0 && abs(a) != LC_INF) ? 1.0 : a / b; }',
  // As tfjs's webgl pow (the op-by-op path runs it): NaN for a negative base and a fractional exponent.
  pow:
    'float lc_pow(float a, float b) { if (b == 0.0) return 1.0; if (isnan(a) || isnan(b) || (a < 0.0 && floor(b) < b)) return NAN;' +
    ' if (a == 0.0) return b > 0.0 ? 0.0 : LC_INF; float p = pow(abs(a), b); return (a < 0.0 && mod(b, 2.0) == 1.0) ? -p : p; }',
} as const;
export type Helper = keyof typeof HELPER_CODE;

/** The definitions the program starts with: infinity, then the helpers used, in dependency order. */
export function prelude(used: ReadonlySet<Helper>): string {
  const lines = ['const float LC_INF = uintBitsToFloat(0x7f800000u);'];
  for (const h of Object.keys(HELPER_CODE) as Helper[]) if (used.has(h)) lines.push(HELPER_CODE[h]);
  return lines.join('\n');
}

/** Helpers that call other helpers. */
const HELPER_DEPS: Partial<Record<Helper, Helper[]>> = {
  expm1: ['exp'],
  sigmoid: ['exp'],
  softplus: ['exp', 'log1p'],
  tanh: ['expm1', 'exp'],
  cosh: ['exp'],
  sinh: ['expm1', 'exp'],
};

/**
 * A number as a GLSL float literal: the float32 it rounds to, written with an exponent (so it is
 * a float, never an int), parenthesised when negative; infinities and NaN by name. Subnormals,
 * which GPUs may flush to zero, are refused (null).
 */
export function glslFloat(v: unknown): string | null {
  if (typeof v !== 'number' && typeof v !== 'boolean') return null;
  const f = Math.fround(Number(v));
  if (Number.isNaN(f)) return 'NAN';
  if (f === Infinity) return 'LC_INF';
  if (f === -Infinity) return '(-LC_INF)';
  if (f === 0) return Object.is(f, -0) ? '(-0.0)' : '0.0';
  if (Math.abs(f) < 2 ** -126) return null;
  const s = f.toExponential();
  // toExponential of a finite number is digits, '.', 'e', a sign and digits only; check anyway.
  if (!/^-?[0-9](\.[0-9]+)?e[+-][0-9]+$/.test(s)) return null;
  return f < 0 ? `(${s})` : s;
}

/**
 * One element of an op from its arguments' elements (GLSL expressions), or null when this node
 * is not fused; `use` records the helpers it calls.
 */
export type GlslCode = (v: readonly string[], n: Node, use: (h: Helper) => void) => string | null;

const call =
  (h: Helper): GlslCode =>
  (v, _n, use) => {
    use(h);
    for (const d of HELPER_DEPS[h] ?? []) use(d);
    return `lc_${h}(${v.join(', ')})`;
  };
const infix = (op: string): GlslCode => ([a, b]) => `(${a} ${op} ${b})`;
const test = (op: string): GlslCode => ([a, b]) => `float(${a} ${op} ${b})`;
const same: GlslCode = ([a]) => a!;
const leafValue: GlslCode = (_v, n) => (n.dtype === 'int32' ? null : glslFloat(n.attrs.value));

/** x ^ k for a whole constant k in [-4, 4] as products; any other exponent as tfjs's webgl pow. */
const pow: GlslCode = ([a, b], n, use) => {
  const e = n.args[1]!;
  const k = e.op === 'const' ? (e.attrs.value as number) : NaN;
  if (k === 0) return '1.0';
  if (Number.isInteger(k) && Math.abs(k) <= 4) {
    const product = `(${Array<string>(Math.abs(k)).fill(a!).join(' * ')})`;
    return k > 0 ? product : call('div')(['1.0', product], n, use);
  }
  return call('pow')([a!, b!], n, use);
};

/** A cast between float and bool (ints are not fused): to bool is x != 0. */
const cast: GlslCode = ([a], n) => {
  const from = n.args[0]!.dtype;
  if (from === 'int32' || n.dtype === 'int32') return null;
  return n.dtype === 'bool' && from !== 'bool' ? `float(${a} != 0.0)` : a!;
};

/**
 * The one table of how an element of each op is written in GLSL: total over the ops, null for
 * those that are not elementwise (reductions, layout, matmul, ...) or not fused, which run as
 * tfjs kernels. `const` and `param` are literals inlined where they are read.
 */
export const GLSL: Record<OpName, GlslCode | null> = {
  input: null,
  const: leafValue,
  tensor: null,
  param: (v, n) => (Array.isArray(n.attrs.value) ? null : leafValue(v, n, () => {})),
  size: null,
  indices: null,
  neg: ([a]) => `(-${a})`,
  exp: call('exp'),
  log: call('log'),
  log1p: call('log1p'),
  expm1: call('expm1'),
  sqrt: call('sqrt'),
  abs: ([a]) => `abs(${a})`,
  sign: call('sign'),
  sigmoid: call('sigmoid'),
  softplus: call('softplus'),
  tanh: call('tanh'),
  cosh: call('cosh'),
  sinh: call('sinh'),
  cos: call('cos'),
  sin: call('sin'),
  floor: ([a]) => `floor(${a})`,
  not: ([a]) => `float(${a} == 0.0)`,
  cast,
  stop_gradient: same,
  add: infix('+'),
  sub: infix('-'),
  mul: infix('*'),
  div: call('div'),
  pow,
  maximum: call('max'),
  minimum: call('min'),
  lt: test('<'),
  le: test('<='),
  gt: test('>'),
  ge: test('>='),
  eq: test('=='),
  ne: test('!='),
  and: ([a, b]) => `float(${a} != 0.0 && ${b} != 0.0)`,
  or: ([a, b]) => `float(${a} != 0.0 || ${b} != 0.0)`,
  where: ([c, a, b]) => `(${c} != 0.0 ? ${a} : ${b})`,
  clip: ([x, lo, hi], n, use) => call('min')([call('max')([x!, lo!], n, use)!, hi!], n, use),
  sum: null,
  mean: null,
  max: null,
  min: null,
  logsumexp: null,
  // Evaluated at the output's coordinates, a broadcast is its argument (`like` is not read).
  broadcast_like: same,
  expand_dims: null,
  squeeze: null,
  part: null,
  concat: null,
  transpose: null,
  matmul: null,
  one_hot: null,
  ctc: null,
  ctc_grad: null,
};

/** The arguments an op's GLSL reads (broadcast_like reads only its first). */
export function readArgs(n: Node): readonly Node[] {
  return n.op === 'broadcast_like' ? n.args.slice(0, 1) : n.args;
}
