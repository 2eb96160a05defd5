// Sizes of the fused target: a number when a dimension is known, else a polynomial with integer
// coefficients over the symbolic sizes of a shape signature (`s0`, `s1`, ...) and their exact
// quotients (`(s0)/3`, from `split`). A kernel generated from IR with symbolic dimensions takes the
// symbols' values as arguments, so one kernel serves every batch size; loop bounds, strides and
// offsets are these polynomials, written as JavaScript over the arguments (`sizeCode`).
//
// Polynomials are canonical (sorted monomials, no zero coefficients, a constant polynomial is a
// number), so two sizes are equal for every binding exactly when `szEq` says so.

import type { Dim } from '../../ir/shape.js';
import { Unsupported } from './scalar.js';

/** A size: a number, or a non-constant polynomial. */
export type Sz = number | Poly;

/** A quotient atom: a polynomial divided by a whole number (exactly: the binding must divide it). */
export interface Quotient {
  num: Poly;
  den: number;
}

export class Poly {
  /** Monomial (atom names sorted, joined by '*'; '' for the constant) -> coefficient. */
  readonly terms: ReadonlyMap<string, number>;
  /** Canonical text; equal polynomials have equal keys. */
  readonly key: string;
  constructor(terms: Map<string, number>) {
    const sorted = [...terms].filter(([, c]) => c !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.terms = new Map(sorted);
    this.key = sorted.map(([m, c]) => `${c}${m ? `*${m}` : ''}`).join('+');
  }
}

/** Quotient atoms by name (`q0`, ...), shared by every kernel: the name fixes its meaning. */
const quotients = new Map<string, Quotient>();
const quotientNames = new Map<string, string>();

function quotientAtom(num: Poly, den: number): string {
  const k = `${num.key}/${den}`;
  let name = quotientNames.get(k);
  if (!name) {
    name = `q${quotientNames.size}`;
    quotientNames.set(k, name);
    quotients.set(name, { num, den });
  }
  return name;
}

export function quotientOf(atom: string): Quotient | undefined {
  return quotients.get(atom);
}

function norm(terms: Map<string, number>): Sz {
  const p = new Poly(terms);
  if (p.terms.size === 0) return 0;
  if (p.terms.size === 1 && p.terms.has('')) return p.terms.get('')!;
  return p;
}

const termsOf = (a: Sz): Map<string, number> => (typeof a === 'number' ? new Map([['', a]]) : new Map(a.terms));

export function szAdd(a: Sz, b: Sz): Sz {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  const t = termsOf(a);
  for (const [m, c] of termsOf(b)) t.set(m, (t.get(m) ?? 0) + c);
  return norm(t);
}

const mulMono = (a: string, b: string): string => (a && b ? [...a.split('*'), ...b.split('*')].sort().join('*') : a || b);

export function szMul(a: Sz, b: Sz): Sz {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  const t = new Map<string, number>();
  for (const [ma, ca] of termsOf(a)) {
    for (const [mb, cb] of termsOf(b)) {
      const m = mulMono(ma, mb);
      t.set(m, (t.get(m) ?? 0) + ca * cb);
    }
  }
  return norm(t);
}

export function szDiv(a: Sz, den: number): Sz {
  if (!Number.isInteger(den) || den < 1) throw new Unsupported('size divided by a non-positive or fractional number');
  if (typeof a === 'number') {
    if (a % den !== 0) throw new Unsupported('size does not divide');
    return a / den;
  }
  if ([...a.terms.values()].every((c) => c % den === 0)) return norm(new Map([...a.terms].map(([m, c]) => [m, c / den])));
  return norm(new Map([[quotientAtom(a, den), 1]]));
}

export const szEq = (a: Sz, b: Sz): boolean => (typeof a === 'number' || typeof b === 'number' ? a === b : a.key === b.key);

/** The product of sizes (elements of a shape). */
export function szProduct(ds: readonly Sz[]): Sz {
  let p: Sz = 1;
  for (const d of ds) p = szMul(p, d);
  return p;
}

/** Row-major strides of a shape. */
export function szStrides(shape: readonly Sz[]): Sz[] {
  const st = new Array<Sz>(shape.length);
  let acc: Sz = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc = szMul(acc, shape[i]!);
  }
  return st;
}

/** The atoms (symbols and quotients) a size reads. */
export function atomsOf(a: Sz): string[] {
  if (typeof a === 'number') return [];
  const out = new Set<string>();
  for (const m of a.terms.keys()) if (m) for (const x of m.split('*')) out.add(x);
  return [...out];
}

/** The value of a size at a binding of the symbols; NaN when a quotient does not divide. */
export function szEval(a: Sz, symbol: (name: string) => number): number {
  if (typeof a === 'number') return a;
  let total = 0;
  for (const [m, c] of a.terms) {
    let v = c;
    if (m) for (const x of m.split('*')) v *= atomValue(x, symbol);
    total += v;
  }
  return total;
}

/** The value of one atom (a symbol, or a quotient of them) at a binding. */
export function atomValue(x: string, symbol: (name: string) => number): number {
  const q = quotients.get(x);
  if (!q) return symbol(x);
  const n = szEval(q.num, symbol);
  return n % q.den === 0 ? n / q.den : NaN;
}

/** A representative value (every atom 1024): for size heuristics that must not depend on a binding. */
export const szTypical = (a: Sz): number => szEval(a, () => 1024);

// ---- Dims of the IR as sizes: `s0`, `2*s1`, `s0*s1`, `(s0+s1)/2`, `s0+s1` --------------------

/** The size a dimension of the IR stands for. */
export function dimSize(d: Dim): Sz {
  if (typeof d === 'number') {
    if (!Number.isInteger(d) || d < 0) throw new Unsupported('bad dimension');
    return d;
  }
  const cached = parsed.get(d);
  if (cached !== undefined) return cached;
  const p = new DimParser(d);
  const s = p.sum();
  if (p.at < d.length) throw new Unsupported('dimension text');
  parsed.set(d, s);
  return s;
}

const parsed = new Map<string, Sz>();

/** A symbol of a shape signature: what `Pipeline` names the sizes it leaves open. */
export const SYMBOL = /^s[0-9]+$/;

class DimParser {
  at = 0;
  constructor(private readonly text: string) {}

  sum(): Sz {
    let s = this.product();
    while (this.text[this.at] === '+') {
      this.at++;
      s = szAdd(s, this.product());
    }
    return s;
  }

  private product(): Sz {
    let p = this.factor();
    for (;;) {
      const op = this.text[this.at];
      if (op === '*') {
        this.at++;
        p = szMul(p, this.factor());
      } else if (op === '/') {
        this.at++;
        const d = this.factor();
        if (typeof d !== 'number') throw new Unsupported('size divided by a size');
        p = szDiv(p, d);
      } else return p;
    }
  }

  private factor(): Sz {
    const rest = this.text.slice(this.at);
    if (rest.startsWith('(')) {
      this.at++;
      const s = this.sum();
      if (this.text[this.at] !== ')') throw new Unsupported('dimension text');
      this.at++;
      return s;
    }
    const m = /^([0-9]+|[A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
    if (!m) throw new Unsupported('dimension text');
    this.at += m[1]!.length;
    if (/^[0-9]/.test(m[1]!)) return Number(m[1]);
    // Only a signature's symbols: a name of an annotation (`N`) has no value at run time.
    if (!SYMBOL.test(m[1]!)) throw new Unsupported('symbolic dimension without a value');
    return norm(new Map([[m[1]!, 1]]));
  }
}
