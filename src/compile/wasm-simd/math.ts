// exp, log and log1p of four float32 lanes at once, as WebAssembly SIMD instruction sequences
// (WebAssembly has no transcendental instructions). Cephes's single-precision polynomials, within
// about 2 float32 ulp of the true values on normal numbers; the special values (0, ±∞, NaN,
// negative arguments of log, subnormals) are selected explicitly.
//
// Each function reads its argument from a v128 local and leaves its result on the stack.

import { V128, type Code } from './encode.js';

const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;
/** Beyond this exp overflows float32 (Cephes's bound, kept below ln(2^128) so 2^k stays finite). */
const EXP_HI = 88.3762626647949;
/** Below this exp is subnormal in float32: 0 is returned. */
const EXP_LO = -87.3365478515625;
const EXP_POLY = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
const LOG_POLY = [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1];

/** Horner's rule in local `x`: ((c0·x + c1)·x + …), left on the stack. */
function horner(c: Code, x: number, coeffs: readonly number[]): void {
  c.splat(coeffs[0]!);
  for (const k of coeffs.slice(1)) c.get(x).simd('f32x4_mul').splat(k).simd('f32x4_add');
}

/** exp(x): 2^k · p(r), k = round(x / ln 2), r = x − k ln 2 (ln 2 in two parts). */
export function exp(c: Code, x: number): void {
  const xc = c.local(V128);
  const k = c.local(V128);
  const r = c.local(V128);
  const res = c.local(V128);
  c.get(x).splat(EXP_LO).simd('f32x4_max').splat(EXP_HI).simd('f32x4_min').set(xc);
  c.get(xc).splat(Math.LOG2E).simd('f32x4_mul').simd('f32x4_nearest').set(k);
  c.get(xc).get(k).splat(LN2_HI).simd('f32x4_mul').simd('f32x4_sub').get(k).splat(LN2_LO).simd('f32x4_mul').simd('f32x4_sub').set(r);
  // p = poly(r)·r² + r + 1
  horner(c, r, EXP_POLY);
  c.get(r).get(r).simd('f32x4_mul').simd('f32x4_mul').get(r).simd('f32x4_add').splat(1).simd('f32x4_add');
  // · 2^k, made from k's bits
  c.get(k).simd('i32x4_trunc_sat_f32x4_s').splatInt(127).simd('i32x4_add').i32(23).simd('i32x4_shl').simd('f32x4_mul').set(res);
  // overflow to +∞, underflow (and −∞) to 0; NaN stays NaN (min and max propagate it)
  c.splat(Infinity).get(res).get(x).splat(EXP_HI).simd('f32x4_gt').simd('bitselect').set(res);
  c.splat(0).get(res).get(x).splat(EXP_LO).simd('f32x4_lt').simd('bitselect');
}

/** log(x): x = m·2^e with m in [√½, √2], log(m) by Cephes's polynomial in f = m − 1. */
export function log(c: Code, x: number): void {
  const xs = c.local(V128);
  const small = c.local(V128);
  const e = c.local(V128);
  const m = c.local(V128);
  const big = c.local(V128);
  const f = c.local(V128);
  const z = c.local(V128);
  const res = c.local(V128);
  // subnormals: scaled by 2^23 first
  c.get(x).splat(1.1754943508222875e-38).simd('f32x4_lt').set(small);
  c.get(x).splat(8388608).simd('f32x4_mul').get(x).get(small).simd('bitselect').set(xs);
  // e = exponent bits − 127 (− 23 where scaled); m = mantissa with exponent 0, in [1, 2)
  c.get(xs).i32(23).simd('i32x4_shr_s').splatInt(127).simd('i32x4_sub');
  c.splatInt(23).get(small).simd('and').simd('i32x4_sub').set(e);
  c.get(xs).splatInt(0x007fffff).simd('and').splatInt(0x3f800000).simd('or').set(m);
  // m > √2: halve it and add 1 to e (the mask is −1 where true)
  c.get(m).splat(Math.SQRT2).simd('f32x4_gt').set(big);
  c.get(m).splat(0.5).simd('f32x4_mul').get(m).get(big).simd('bitselect').set(m);
  c.get(e).get(big).simd('i32x4_sub').simd('f32x4_convert_i32x4_s').set(e);
  c.get(m).splat(1).simd('f32x4_sub').set(f);
  c.get(f).get(f).simd('f32x4_mul').set(z);
  // y = poly(f)·f·z + e·LN2_LO − z/2; result f + y + e·LN2_HI
  horner(c, f, LOG_POLY);
  c.get(f).simd('f32x4_mul').get(z).simd('f32x4_mul');
  c.get(e).splat(LN2_LO).simd('f32x4_mul').simd('f32x4_add');
  c.get(z).splat(0.5).simd('f32x4_mul').simd('f32x4_sub');
  c.get(f).simd('f32x4_add').get(e).splat(LN2_HI).simd('f32x4_mul').simd('f32x4_add').set(res);
  // special values: NaN for x < 0 or NaN, −∞ at 0, +∞ at +∞
  c.splat(NaN).get(res).get(x).splat(0).simd('f32x4_lt').get(x).get(x).simd('f32x4_ne').simd('or').simd('bitselect').set(res);
  c.splat(-Infinity).get(res).get(x).splat(0).simd('f32x4_eq').simd('bitselect').set(res);
  c.splat(Infinity).get(res).get(x).splat(Infinity).simd('f32x4_eq').simd('bitselect');
}

/** log1p(x) = log(u) − ((u − 1) − x)/u with u = 1 + x (the rounding of u corrected); x where u = 1, −∞ where u = 0. */
export function log1p(c: Code, x: number): void {
  const u = c.local(V128);
  const lu = c.local(V128);
  c.get(x).splat(1).simd('f32x4_add').set(u);
  log(c, u);
  c.set(lu);
  c.get(x);
  c.get(lu).get(u).splat(1).simd('f32x4_sub').get(x).simd('f32x4_sub').get(u).simd('f32x4_div').simd('f32x4_sub');
  c.get(u).splat(1).simd('f32x4_eq').simd('bitselect').set(lu);
  c.splat(-Infinity).get(lu).get(u).splat(0).simd('f32x4_eq').simd('bitselect').set(lu);
  c.splat(Infinity).get(lu).get(x).splat(Infinity).simd('f32x4_eq').simd('bitselect');
}
