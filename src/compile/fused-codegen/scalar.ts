// The scalar layer of the fused code generator: how one element of each elementwise op is
// written in JavaScript, and the only way a number ever enters the generated source.
//
// Safety contract: generated code is assembled from fixed fragments written here, identifiers the
// compiler makes up itself (`t12`, `b3`, `v0`), and numbers that went through `lit` / `int`,
// which accept only values of type number (never a string from an attribute, whatever it says).

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
  sigmoid: 'function sigmoid(x) { if (x >= 0) return 1 / (1 + Math.exp(-x)); const e = Math.exp(x); return e / (1 + e); }',
  softplus: 'function softplus(x) { return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))); }',
  sign: 'function sign(x) { return x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN; }',
} as const;
export type Helper = keyof typeof HELPERS;

/** One element of a unary op on `a` (an identifier or literal); `use` records helpers needed. */
export function unaryCode(op: string, a: string, use: (h: Helper) => void): string | undefined {
  switch (op) {
    case 'neg':
      return `-${a}`;
    case 'exp':
    case 'log':
    case 'log1p':
    case 'expm1':
    case 'sqrt':
    case 'abs':
    case 'tanh':
    case 'floor':
      return `Math.${op}(${a})`;
    case 'sign':
    case 'sigmoid':
    case 'softplus':
      use(op);
      return `${op}(${a})`;
    case 'not':
      return `(${a} !== 0 ? 0 : 1)`;
    case 'stop_gradient':
      return a;
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

export function binaryCode(op: string, a: string, b: string): string | undefined {
  switch (op) {
    case 'add':
      return `${a} + ${b}`;
    case 'sub':
      return `${a} - ${b}`;
    case 'mul':
      return `${a} * ${b}`;
    case 'div':
      return `${a} / ${b}`;
    case 'maximum':
      return `Math.max(${a}, ${b})`;
    case 'minimum':
      return `Math.min(${a}, ${b})`;
    case 'lt':
      return `(${a} < ${b} ? 1 : 0)`;
    case 'le':
      return `(${a} <= ${b} ? 1 : 0)`;
    case 'gt':
      return `(${a} > ${b} ? 1 : 0)`;
    case 'ge':
      return `(${a} >= ${b} ? 1 : 0)`;
    case 'eq':
      return `(${a} === ${b} ? 1 : 0)`;
    case 'ne':
      return `(${a} !== ${b} ? 1 : 0)`;
    case 'and':
      return `(${a} !== 0 && ${b} !== 0 ? 1 : 0)`;
    case 'or':
      return `(${a} !== 0 || ${b} !== 0 ? 1 : 0)`;
    default:
      return undefined;
  }
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
