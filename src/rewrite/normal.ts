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
    // c * x counts as c copies of x, so 2*x + x becomes 3*x.
    out.push({ node: n.args[1]!, coef: sign * cval(n.args[0]!) });
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
  let c2 = c;
  if (c > 0 && ordered.length > 0 && ordered[0]!.coef < 0) {
    out = b.constant(c);
    c2 = 0;
  }
  for (const t of ordered) {
    if (!out) out = t.coef > 0 ? scaled(t, false) : b.neg(scaled(t, true));
    else out = t.coef > 0 ? b.add(out, scaled(t, true)) : b.sub(out, scaled(t, true));
  }
  if (c2 !== 0) out = out ? (c2 > 0 ? b.add(out, b.constant(c2)) : b.sub(out, b.constant(-c2))) : b.constant(c2);
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

function product(ms: Map<Node, number>): Node | undefined {
  let out: Node | undefined;
  for (const [node, k] of ms) {
    const term = k === 1 ? node : b.pow(node, b.constant(k));
    out = out ? b.mul(out, term) : term;
  }
  return out;
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
  let num = product(f.num);
  let den = product(f.den);
  if (divisor !== undefined) den = den ? b.mul(b.constant(divisor), den) : b.constant(divisor);
  else if (mag !== 1) num = num ? b.mul(b.constant(mag), num) : b.constant(mag);
  let out = num ?? b.constant(1);
  if (den) out = b.div(out, den);
  if (neg) out = b.neg(out);
  return out === n ? null : out;
}
