// Two normal forms that do most of the work of making derivatives short, where a table of
// one-line patterns would need dozens of commuted variants:
//   sums     a + b - c + a    → flattened into signed terms, like terms combined  (2*a + b - c)
//   products 2 * g * x / (2*y) → flattened into a coefficient, factors and divisors (g * x / y)
// Both assume finite values (x - x = 0, x / x = 1), as every algebra system's simplifier does;
// they run on derivatives for printing and on compiled IR, never changing a finite result.

import * as b from '../ir/build.js';
import { Node } from '../ir/node.js';

const isConst = (n: Node) => n.op === 'const' && n.dtype === 'float32';
const cval = (n: Node) => n.attrs.value as number;

// ---- sums -------------------------------------------------------------------------------------

interface Term {
  node: Node;
  coef: number;
}

/** Collect the terms of `n`, each counted `sign` times (a coefficient: ±1, or c in c * x). */
function collectTerms(n: Node, sign: number, out: Term[], acc: { c: number }): void {
  if (n.op === 'add') {
    collectTerms(n.args[0]!, sign, out, acc);
    collectTerms(n.args[1]!, sign, out, acc);
  } else if (n.op === 'sub') {
    collectTerms(n.args[0]!, sign, out, acc);
    collectTerms(n.args[1]!, -sign, out, acc);
  } else if (n.op === 'neg') {
    collectTerms(n.args[0]!, -sign, out, acc);
  } else if (isConst(n)) {
    acc.c += sign * cval(n);
  } else if (n.op === 'mul' && isConst(n.args[0]!)) {
    // c * x counts as c copies of x, so 2*x + x becomes 3*x, and 1 * -x + x becomes 0. A sum
    // inside is opened only when c is ±1, where it would print unwrapped anyway (so that a second
    // pass finds nothing to do); 2 * (a - b) stays as written.
    const k = sign * cval(n.args[0]!);
    const x = n.args[1]!;
    if (Math.abs(k) === 1 || (x.op !== 'add' && x.op !== 'sub')) collectTerms(x, k, out, acc);
    else out.push({ node: x, coef: k });
  } else {
    out.push({ node: n, coef: sign });
  }
}

/** Flatten a tree of + and -, combine like terms and constants. */
export function normalizeSum(n: Node): Node | null {
  if (n.op !== 'add' && n.op !== 'sub') return null;
  const raw: Term[] = [];
  const acc = { c: 0 };
  collectTerms(n, 1, raw, acc);
  const merged = new Map<Node, number>();
  for (const t of raw) merged.set(t.node, (merged.get(t.node) ?? 0) + t.coef);
  const terms = [...merged].filter(([, c]) => c !== 0).map(([node, coef]) => ({ node, coef }));
  const c = Math.fround(acc.c);
  let out: Node | undefined;
  const scaled = (t: Term, abs: boolean) => {
    const k = abs ? Math.abs(t.coef) : t.coef;
    return k === 1 ? t.node : b.mul(b.constant(k), t.node);
  };
  // Positive terms first keeps `a - b` rather than `-b + a`; a positive constant leads when no
  // term is positive (`1 - a`, not `-a + 1`).
  const ordered = [...terms.filter((t) => t.coef > 0), ...terms.filter((t) => t.coef < 0)];
  // The pieces in order, each joined by + or - (`inv`); a long sum becomes a balanced tree.
  const items: Node[] = [];
  const inv: boolean[] = [];
  const put = (x: Node, minus: boolean) => {
    items.push(x);
    inv.push(minus);
  };
  let c2 = c;
  if (c > 0 && ordered.length > 0 && ordered[0]!.coef < 0) {
    put(b.constant(c), false);
    c2 = 0;
  }
  for (const t of ordered) {
    if (!items.length) put(t.coef > 0 ? scaled(t, false) : b.neg(scaled(t, true)), false);
    else put(scaled(t, true), t.coef < 0);
  }
  if (c2 !== 0) put(b.constant(items.length ? Math.abs(c2) : c2), items.length > 0 && c2 < 0);
  if (items.length) out = b.chain(items, inv, (l, r, minus) => (minus ? b.sub(l, r) : b.add(l, r)));
  out ??= b.constant(0);
  return out === n ? null : out;
}

// ---- products ---------------------------------------------------------------------------------

interface Factors {
  coef: number;
  num: Map<Node, number>;
  den: Map<Node, number>;
}

function collectFactors(n: Node, inv: boolean, f: Factors): void {
  if (n.op === 'mul') {
    collectFactors(n.args[0]!, inv, f);
    collectFactors(n.args[1]!, inv, f);
  } else if (n.op === 'div') {
    collectFactors(n.args[0]!, inv, f);
    collectFactors(n.args[1]!, !inv, f);
  } else if (n.op === 'neg') {
    f.coef = -f.coef;
    collectFactors(n.args[0]!, inv, f);
  } else if (isConst(n) && cval(n) !== 0 && Number.isFinite(cval(n))) {
    f.coef = inv ? f.coef / cval(n) : f.coef * cval(n);
  } else if (n.op === 'pow' && isConst(n.args[1]!) && Number.isInteger(cval(n.args[1]!)) && cval(n.args[1]!) > 0) {
    // x^k is k factors x, so p * y / p^2 becomes y / p.
    const m = inv ? f.den : f.num;
    m.set(n.args[0]!, (m.get(n.args[0]!) ?? 0) + cval(n.args[1]!));
  } else {
    const m = inv ? f.den : f.num;
    m.set(n, (m.get(n) ?? 0) + 1);
  }
}

/** A coefficient that is 1/k for a small whole k reads better as a division by k. */
function asDivisor(c: number): number | undefined {
  const k = 1 / c;
  const r = Math.round(k);
  return Math.abs(r) > 1 && Math.abs(r) <= 1000 && Math.fround(1 / r) === Math.fround(c) ? r : undefined;
}

function product(ms: Map<Node, number>, first?: Node): Node | undefined {
  const items = first ? [first] : [];
  for (const [node, k] of ms) items.push(k === 1 ? node : b.pow(node, b.constant(k)));
  // A long product becomes a balanced tree (b.chain), a short one is folded as before.
  return items.length ? b.chain(items, items.map(() => false), (l, r) => b.mul(l, r)) : undefined;
}

/** Flatten a tree of *, / and unary minus into coefficient · factors / divisors. */
export function normalizeProduct(n: Node): Node | null {
  const inner = n.op === 'neg' ? n.args[0]! : n;
  if (inner.op !== 'mul' && inner.op !== 'div') return null;
  const f: Factors = { coef: 1, num: new Map(), den: new Map() };
  collectFactors(n, false, f);
  if (f.coef === 0) return null; // 0 * x is the job of a rule with a stated domain
  // Cancel a factor that appears above and below.
  for (const [node, k] of [...f.den]) {
    const up = f.num.get(node) ?? 0;
    const m = Math.min(up, k);
    if (m > 0) {
      if (up - m) f.num.set(node, up - m);
      else f.num.delete(node);
      if (k - m) f.den.set(node, k - m);
      else f.den.delete(node);
    }
  }
  let coef = Math.fround(f.coef);
  // A negative coefficient flips a difference among the factors: -2 * (a - b) → 2 * (b - a).
  if (coef < 0) {
    for (const [node, k] of f.num) {
      if (node.op === 'sub' && k % 2 === 1) {
        f.num.delete(node);
        f.num.set(b.sub(node.args[1]!, node.args[0]!), k);
        coef = -coef;
        break;
      }
    }
  }
  const neg = coef < 0;
  const mag = Math.abs(coef);
  const divisor = asDivisor(mag);
  // The coefficient leads the factors: 2 * w * x, not 2 * (w * x); likewise x / (3 * a * b).
  const num = product(f.num, divisor === undefined && mag !== 1 ? b.constant(mag) : undefined);
  const den = product(f.den, divisor !== undefined ? b.constant(divisor) : undefined);
  let out = num ?? b.constant(1);
  if (den) out = b.div(out, den);
  if (neg) out = out.op === 'const' ? b.constant(-cval(out)) : b.neg(out);
  return out === n ? null : out;
}
