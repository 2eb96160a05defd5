// The scalar layer of the fused code generator: how one element of each elementwise op is
// written in JavaScript, and the only way a number ever enters the generated source.
//
// Safety contract: generated code is assembled from fixed fragments written here, identifiers the
// compiler makes up itself (`t12`, `b3`, `v0`), and numbers that went through `lit` / `int`,
// which accept only values of type number (never a string from an attribute, whatever it says).

import type { Node } from '../../ir/node.js';
import { reduceAxes, type OpName } from '../../ir/ops.js';

/** Thrown while planning when the graph uses something the fused target does not handle. */
export class Unsupported extends Error {}

/** A number as a JavaScript literal (parenthesised when negative, so `a - -1` never glues). */
export function lit(v: unknown): string {
  if (typeof v !== 'number') throw new Unsupported(`not a number: ${typeof v}`);
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '(-Infinity)';
  if (Object.is(v, -0)) return '(-0)';
  const s = String(v);
  // String(finite number) is digits, '.', 'e', '+', '-' only; check anyway.
  if (!/^-?[0-9.]+(e[+-]?[0-9]+)?$/.test(s)) throw new Unsupported(`unexpected number text`);
  return v < 0 ? `(${s})` : s;
}

/** A whole number in [lo, hi] (axes, sizes, offsets), or Unsupported. */
export function int(v: unknown, lo = 0, hi = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new Unsupported(`bad integer attribute`);
  return v;
}

/** Helper functions the generated code may call (fixed text; only the ones used are emitted). */
export const HELPERS = {
  pow2: 'const P2 = new Float64Array(2101); for (let k = -1075; k <= 1025; k++) P2[k + 1075] = Math.pow(2, k);',
  sigmoid: 'function sigmoid(x) { if (x >= 0) return 1 / (1 + Math.exp(-x)); const e = Math.exp(x); return e / (1 + e); }',
  softplus: 'function softplus(x) { return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))); }',
  sign: 'function sign(x) { return x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN; }',
} as const;
export type Helper = keyof typeof HELPERS;

/**
 * One element of an op, from its arguments' elements (identifiers or literals) and the node
 * (for facts such as a constant exponent); `use` records helpers needed.
 */
type ScalarCode = (v: readonly string[], use: (h: Helper) => void, n: Node) => string;

const math = (f: string): ScalarCode => ([a]) => `Math.${f}(${a})`;
const helper = (h: Helper): ScalarCode => ([a], use) => {
  use(h);
  return `${h}(${a})`;
};
// A comparison of floats is made at float32, as tfjs makes it: the kernel computes in float64 and
// stores elementwise targets as float32, so two equal values, one read back from a buffer and one
// computed in place, may differ in float64 only (seed 50465941: `v + 0.25 != v + [0.25]`).
const f32 = (v: string, x: Node) => (x.dtype === 'float32' ? `Math.fround(${v})` : v);
const test = (op: string): ScalarCode => ([a, b], _use, n) => `(${f32(a!, n.args[0]!)} ${op} ${f32(b!, n.args[1]!)} ? 1 : 0)`;

/**
 * The one table of how an element of each op is written, when it is an expression of its
 * arguments' elements (the Scope of scope.ts reads it, value-numbered by op and arguments). null:
 * not such an expression here. Leaves are buffer reads or literals, views and reductions over no
 * axes move positions, `cast` (whose dtype a value number would not see), `indices` and `one_hot`
 * (which read the loop index) are built by the Scope itself; reductions, matmul and concat are
 * targets of their own (nests.ts, plan.ts); ctc is not supported (graph.ts's FUSED_COST).
 */
export const SCALAR_CODE: Record<OpName, ScalarCode | null> = {
  input: null,
  const: null,
  tensor: null,
  param: null,
  size: null,
  indices: null,

  neg: ([a]) => `-${a}`,
  exp: math('exp'),
  log: math('log'),
  log1p: math('log1p'),
  expm1: math('expm1'),
  sqrt: math('sqrt'),
  abs: math('abs'),
  tanh: math('tanh'),
  cosh: math('cosh'),
  sinh: math('sinh'),
  cos: math('cos'),
  sin: math('sin'),
  floor: math('floor'),
  sign: helper('sign'),
  sigmoid: helper('sigmoid'),
  softplus: helper('softplus'),
  not: ([a]) => `(${a} !== 0 ? 0 : 1)`,
  cast: null,
  stop_gradient: null,

  add: ([a, b]) => `${a} + ${b}`,
  sub: ([a, b]) => `${a} - ${b}`,
  mul: ([a, b]) => `${a} * ${b}`,
  div: ([a, b]) => `${a} / ${b}`,
  pow: ([a, b], _use, n) => powCode(a!, b!, literalNumber(n.args[1]!)),
  maximum: ([a, b]) => `Math.max(${a}, ${b})`,
  minimum: ([a, b]) => `Math.min(${a}, ${b})`,
  lt: test('<'),
  le: test('<='),
  gt: test('>'),
  ge: test('>='),
  eq: test('==='),
  ne: test('!=='),
  and: ([a, b]) => `(${a} !== 0 && ${b} !== 0 ? 1 : 0)`,
  or: ([a, b]) => `(${a} !== 0 || ${b} !== 0 ? 1 : 0)`,
  where: ([c, a, b]) => `(${c} !== 0 ? ${a} : ${b})`,
  clip: ([x, lo, hi]) => `Math.min(Math.max(${x}, ${lo}), ${hi})`,

  sum: null,
  mean: null,
  max: null,
  min: null,
  logsumexp: null,

  broadcast_like: null,
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

/**
 * The number a literal node stands for (a scalar constant or option, a size of known axes), or
 * undefined for any other node.
 */
export function literalNumber(n: Node): number | undefined {
  switch (n.op) {
    case 'const':
      return coerceConst(n.attrs.value, n.dtype);
    case 'param':
      return Array.isArray(n.attrs.value) ? undefined : coerceConst(n.attrs.value, 'float32');
    case 'size': {
      // At symbolic sizes (a shape signature) a size is no literal number.
      const x = n.args[0]!;
      const ds = reduceAxes(n.attrs, x.rank).map((a) => x.shape[int(a, 0, x.rank - 1)]);
      return ds.every((d) => typeof d === 'number') ? ds.reduce((p: number, d) => p * (d as number), 1) : undefined;
    }
    default:
      return undefined;
  }
}

/** Whole exponents up to this size are written as products (V8's Math.pow is ~80× a multiply). */
const MAX_PRODUCT_POWER = 8;

/** `x ^ p` for a constant exponent: small whole powers as products, else Math.pow. */
export function powCode(a: string, b: string, exponent: number | undefined): string {
  if (exponent !== undefined && exponent !== 0 && Number.isInteger(exponent) && Math.abs(exponent) <= MAX_PRODUCT_POWER) {
    const product = Array<string>(Math.abs(exponent)).fill(a).join(' * ');
    if (exponent > 0) return product;
    return exponent === -1 ? `1 / ${a}` : `1 / (${product})`;
  }
  return `Math.pow(${a}, ${b})`;
}

/** A cast between IR dtypes: float→int truncates, anything→bool is (x != 0). */
export function castCode(a: string, from: string, to: string): string {
  if (to === 'bool') return from === 'bool' ? a : `(${a} !== 0 ? 1 : 0)`;
  if (to === 'int32') return from === 'float32' ? `Math.trunc(${a})` : a;
  return a;
}

/** A constant value as the IR dtype stores it (ints truncate, bools are 0/1). */
export function coerceConst(v: unknown, dtype: string): number {
  if (typeof v !== 'number' && typeof v !== 'boolean') throw new Unsupported('constant is not a number');
  const x = Number(v);
  if (dtype === 'int32') return Math.trunc(x);
  if (dtype === 'bool') return x !== 0 ? 1 : 0;
  return x;
}

// ---- exp and log1p as straight-line arithmetic ----------------------------------------------
// V8's Math.exp and Math.log1p are calls into C++ (about 13 and 20 ns); in a fused loop these
// steps are inlined and pipelined, 2-3x faster, within 3e-13 of Math.exp and 4e-14 of
// Math.log1p (relative): far below float32's 6e-8. Outside exp's range, Math.exp runs.

/** One step: its name, the steps (or 'x', the argument) it reads, and its expression. */
export interface Step {
  id: string;
  deps: string[];
  code: (v: (id: string) => string) => string;
}

/** exp(x) = 2^k e^r, k = round(x / ln 2), |r| <= ln(2)/2: Taylor to r^10, in Estrin's form. */
export const EXP_STEPS: readonly Step[] = [
  // x / ln 2 rounded to an integer by adding and subtracting 1.5 * 2^52
  { id: 'k', deps: ['x'], code: (v) => `${v('x')} * 1.4426950408889634 + 6755399441055744 - 6755399441055744` },
  // r = x - k ln 2, with ln 2 in two parts so that k ln 2 is exact
  { id: 'r', deps: ['x', 'k'], code: (v) => `${v('x')} - ${v('k')} * 0.6931471803691238 - ${v('k')} * 1.9082149292705877e-10` },
  { id: 'r2', deps: ['r'], code: (v) => `${v('r')} * ${v('r')}` },
  { id: 'r4', deps: ['r2'], code: (v) => `${v('r2')} * ${v('r2')}` },
  { id: 'r8', deps: ['r4'], code: (v) => `${v('r4')} * ${v('r4')}` },
  {
    id: 'p',
    deps: ['r', 'r2', 'r4', 'r8'],
    code: (v) =>
      `1 + ${v('r')} + ${v('r2')} * (0.5 + ${v('r')} * 0.16666666666666666)` +
      ` + ${v('r4')} * (0.041666666666666664 + ${v('r')} * 0.008333333333333333 + ${v('r2')} * (0.001388888888888889 + ${v('r')} * 0.0001984126984126984))` +
      ` + ${v('r8')} * (0.0000248015873015873 + ${v('r')} * 0.0000027557319223985893 + ${v('r2')} * 2.755731922398589e-7)`,
  },
  // 2^k from a table (helper pow2); beyond +-708 (overflow, subnormals), NaN: Math.exp itself
  { id: 'exp', deps: ['x', 'k', 'p'], code: (v) => `(${v('x')} > -708 && ${v('x')} < 708 ? ${v('p')} * P2[(${v('k')} | 0) + 1075] : Math.exp(${v('x')}))` },
];

/**
 * log1p(x) for x in [0, 1] (or NaN): with m = 1 + x, or (1 + x) / 2 and ln 2 added when x >
 * sqrt(2) - 1, log(m) = 2 atanh(s), s = (m - 1) / (m + 1) in [-0.172, 0.172], computed from x
 * directly (no rounding of 1 + x); the atanh series to s^15.
 */
export const LOG1P01_STEPS: readonly Step[] = [
  { id: 's', deps: ['x'], code: (v) => `(${v('x')} > 0.41421356237309503 ? (${v('x')} - 1) / (${v('x')} + 3) : ${v('x')} / (2 + ${v('x')}))` },
  { id: 'z', deps: ['s'], code: (v) => `${v('s')} * ${v('s')}` },
  { id: 'z2', deps: ['z'], code: (v) => `${v('z')} * ${v('z')}` },
  { id: 'z4', deps: ['z2'], code: (v) => `${v('z2')} * ${v('z2')}` },
  {
    id: 'q',
    deps: ['z', 'z2', 'z4'],
    code: (v) =>
      `1 + ${v('z')} * 0.3333333333333333 + ${v('z2')} * (0.2 + ${v('z')} * 0.14285714285714285)` +
      ` + ${v('z4')} * (0.1111111111111111 + ${v('z')} * 0.09090909090909091 + ${v('z2')} * (0.07692307692307693 + ${v('z')} * 0.06666666666666667))`,
  },
  { id: 'log1p', deps: ['x', 's', 'q'], code: (v) => `(${v('x')} > 0.41421356237309503 ? 0.6931471805599453 : 0) + 2 * ${v('s')} * ${v('q')}` },
];

/** The steps as `const` statements (names from `fresh`); returns them and the result's name. */
export function stepLines(steps: readonly Step[], x: string, fresh: () => string): { lines: string[]; value: string } {
  const names = new Map<string, string>([['x', x]]);
  const lines: string[] = [];
  for (const st of steps) {
    const name = fresh();
    lines.push(`const ${name} = ${st.code((id) => names.get(id)!)};`);
    names.set(st.id, name);
  }
  return { lines, value: names.get(steps[steps.length - 1]!.id)! };
}
