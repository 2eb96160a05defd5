// Typed expression trees for the well-formed generator. Every node knows its dtype, its exact
// shape and bounds on its values (interval arithmetic, conservative), so that the generator
// builds only programs that are shape-correct and keep the float64 reference finite. Text is
// rendered from the tree with the fewest parentheses the precedence table allows, so a node can
// be swapped for one of its children (the minimizer does) and the text stays correct.

export type DT = 'float' | 'bool' | 'int';

/** Precedence levels, loosest to tightest (grammar/lossc.ebnf). */
export const P = { IF: 1, OR: 2, AND: 3, NOT: 4, CMP: 5, SUM: 6, PROD: 7, NEG: 8, POW: 9, ATOM: 10 } as const;

export interface R {
  text: string;
  prec: number;
}

export interface G {
  dtype: DT;
  shape: number[];
  /** Every value lies in [lo, hi]. */
  lo: number;
  hi: number;
  /** The largest magnitude of any value computed in this subtree (for tolerances). */
  scale: number;
  prec: number;
  kids: G[];
  fmt: (kids: R[]) => string;
}

export function render(g: G, sub?: ReadonlyMap<G, G>): R {
  const s = sub?.get(g);
  if (s) return render(s, sub);
  return { text: g.fmt(g.kids.map((k) => render(k, sub))), prec: g.prec };
}

export const wrap = (r: R, min: number): string => (r.prec >= min ? r.text : `(${r.text})`);

export function node(dtype: DT, shape: number[], lo: number, hi: number, prec: number, kids: G[], fmt: (k: R[]) => string): G {
  let scale = Math.max(Math.abs(lo), Math.abs(hi));
  for (const k of kids) scale = Math.max(scale, k.scale);
  if (!Number.isFinite(scale)) scale = 1e30;
  return { dtype, shape, lo, hi, scale, prec, kids, fmt };
}

export const leaf = (text: string, dtype: DT, shape: number[], lo: number, hi: number): G =>
  node(dtype, shape, lo, hi, P.ATOM, [], () => text);

/** A number as lossc writes it, in one of several spellings. */
export function numText(v: number, style: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e6) {
    if (style % 5 === 1) return `${v}.`;
    if (style % 5 === 2) return `${v}.0`;
    return String(v);
  }
  const s = String(v);
  if (style % 4 === 1 && s.startsWith('0.')) return s.slice(1);
  if (style % 4 === 2) return v.toExponential();
  return s;
}

/** A float scalar literal (negative ones are a signed literal, which binds like unary minus). */
export function num(v: number, style = 0): G {
  const t = numText(Math.abs(v), style);
  return v < 0 ? node('float', [], v, v, P.NEG, [], () => `-${t}`) : leaf(t, 'float', [], v, v);
}

/** `name(kid0, kid1, ..., extra...)` */
export function call(name: string, kids: G[], extra: string[], dtype: DT, shape: number[], lo: number, hi: number): G {
  return node(dtype, shape, lo, hi, P.ATOM, kids, (k) => `${name}(${[...k.map((r) => r.text), ...extra].join(', ')})`);
}


// ---- interval arithmetic ----

export type Iv = [number, number];

const fin = (x: number) => (Number.isNaN(x) ? Infinity : x);
export const ivAdd = (a: Iv, b: Iv): Iv => [a[0] + b[0], a[1] + b[1]];
export const ivSub = (a: Iv, b: Iv): Iv => [a[0] - b[1], a[1] - b[0]];
export function ivMul(a: Iv, b: Iv): Iv {
  const p = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]].map(fin);
  return [Math.min(...p), Math.max(...p)];
}
/** Division by an interval that excludes 0. */
export const ivDiv = (a: Iv, b: Iv): Iv => ivMul(a, [1 / b[1], 1 / b[0]]);
export function ivSquare(a: Iv): Iv {
  const [l, h] = a;
  if (l >= 0) return [l * l, h * h];
  if (h <= 0) return [h * h, l * l];
  return [0, Math.max(l * l, h * h)];
}
export const ivHull = (...xs: Iv[]): Iv => [Math.min(...xs.map((x) => x[0])), Math.max(...xs.map((x) => x[1]))];
export const iv = (g: G): Iv => [g.lo, g.hi];

// ---- shapes ----

export const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
export const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Does `a` broadcast to exactly `b` (numpy rules)? */
export function broadcastsTo(a: readonly number[], b: readonly number[]): boolean {
  if (a.length > b.length) return false;
  const off = b.length - a.length;
  return a.every((d, i) => d === 1 || d === b[off + i]);
}

/** Left and right minimum precedence, and the node's own, per binary operator. */
const BIN_PREC: Record<string, [number, number, number]> = {
  '+': [P.SUM, P.PROD, P.SUM],
  '-': [P.SUM, P.PROD, P.SUM],
  '*': [P.PROD, P.NEG, P.PROD],
  '/': [P.PROD, P.NEG, P.PROD],
  '^': [P.ATOM, P.NEG, P.POW],
  '<': [P.SUM, P.SUM, P.CMP],
  '<=': [P.SUM, P.SUM, P.CMP],
  '>': [P.SUM, P.SUM, P.CMP],
  '>=': [P.SUM, P.SUM, P.CMP],
  '==': [P.SUM, P.SUM, P.CMP],
  '!=': [P.SUM, P.SUM, P.CMP],
  and: [P.AND, P.NOT, P.AND],
  or: [P.OR, P.AND, P.OR],
};

export function bin(op: string, a: G, b: G, dtype: DT, shape: number[], range: Iv, tight = false): G {
  const [pl, pr, p] = BIN_PREC[op]!;
  const sp = tight && op === '^' ? '' : ' ';
  return node(dtype, shape, range[0], range[1], p, [a, b], (k) => `${wrap(k[0]!, pl)}${sp}${op}${sp}${wrap(k[1]!, pr)}`);
}

export const neg = (a: G): G => node(a.dtype, a.shape, -a.hi, -a.lo, P.NEG, [a], (k) => `-${wrap(k[0]!, P.NEG)}`);
export const not = (a: G): G => node('bool', a.shape, 0, 1, P.NOT, [a], (k) => `not ${wrap(k[0]!, P.NOT)}`);

/** The axes of `from` to remove so that it becomes `to` (a subsequence), or null. */
export function dropsTo(from: readonly number[], to: readonly number[]): number[] | null {
  const axes: number[] = [];
  let j = 0;
  for (let i = 0; i < from.length; i++) {
    if (j < to.length && from[i] === to[j]) j++;
    else axes.push(i);
  }
  return j === to.length && axes.length > 0 ? axes : null;
}


/** Helper parameters are assumed to lie in this range; call sites tame their arguments into it. */
export const DEF_PARAM_RANGE = 3;
