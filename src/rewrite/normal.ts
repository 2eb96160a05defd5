// Two normal forms that do most of the work of making derivatives short, where a table of
// one-line patterns would need dozens of commuted variants:
//   sums     a + b - c + a    → flattened into signed terms, like terms combined  (2*a + b - c);
//            a nested sum is kept whole where opening it combines nothing          (z - (x + y))
//   products 2 * g * x / (2*y) → flattened into a coefficient, factors and divisors (g * x / y)
// Both assume finite values (x - x = 0, x / x = 1), as every algebra system's simplifier does;
// they run on derivatives for printing and on compiled IR, never changing a finite result.

import * as b from '../ir/build.js';
import { Node } from '../ir/node.js';
import { foldConstant } from './fold.js';

const isConst = (n: Node) => n.op === 'const' && n.dtype === 'float32';
const cval = (n: Node) => n.attrs.value as number;

/** -c for a constant that prints as written: -(a - b) is b - a, -(-x) is x; else the folded -c. */
function negated(n: Node): Node {
  const shown = b.shownOf(n);
  if (shown?.op === 'sub') return foldConstant(b.sub(shown.args[1]!, shown.args[0]!)) ?? b.constant(-cval(n));
  if (shown?.op === 'neg') return shown.args[0]!;
  return shown ? (foldConstant(b.neg(n)) ?? b.constant(-cval(n))) : b.constant(-cval(n));
}

/**
 * The constant v, written as the one constant it came from when that one prints as written
 * (`1 - 0.9`, not 0.100000024): `sole` is the only constant combined into v.
 */
function constantFrom(v: number, sole: Node | undefined): Node {
  if (sole && b.shownOf(sole) && Math.abs(cval(sole)) === Math.abs(Math.fround(v))) return cval(sole) === Math.fround(v) ? sole : negated(sole);
  return b.constant(v);
}

// ---- sums -------------------------------------------------------------------------------------

interface Term {
  node: Node;
  coef: number;
  /** The one constant the coefficient came from (printed as written), if it came from one. */
  from?: Node;
  /** The nested sum (an operand of the root's that is itself a sum, or one below) it came from. */
  unit?: Unit;
}

/** A nested sum, counted `sign` times: kept whole when opening it combines nothing. */
interface Unit {
  node: Node;
  sign: number;
  /** Its constants, folded into Acc's too. */
  c: number;
  consts: Node[];
  /** Its terms and constants. */
  leaves: number;
}

type Acc = { c: number; consts: Node[]; spineConstant?: boolean; units: Unit[] };

/**
 * Collect the terms of `n`, each counted `sign` times (a coefficient: ±1, or c in c * x);
 * `from` is the constant node the sign came from, when it came from exactly one. A sum met below
 * the root (outside any other) starts a `unit`.
 */
function collectTerms(n: Node, sign: number, out: Term[], acc: Acc, from?: Node, unit?: Unit): void {
  const sum = (x: Node) => x.op === 'add' || x.op === 'sub';
  const term = (t: Term) => {
    out.push(t);
    if (unit) unit.leaves++;
  };
  const open = (x: Node, k: number, f?: Node) => {
    if (unit || !sum(x)) return collectTerms(x, k, out, acc, f, unit);
    const u: Unit = { node: x, sign: k, c: 0, consts: [], leaves: 0 };
    acc.units.push(u);
    collectTerms(x, k, out, acc, f, u);
  };
  if (n.op === 'add' || n.op === 'sub') {
    open(n.args[0]!, sign, from);
    open(n.args[1]!, n.op === 'add' ? sign : -sign, from);
  } else if (n.op === 'neg') {
    open(n.args[0]!, -sign, from);
  } else if (isConst(n)) {
    acc.c += sign * cval(n);
    // A constant scaled by another is no longer as written.
    acc.consts.push(n, ...(from ? [from] : []));
    if (unit) {
      unit.leaves++;
      unit.c += sign * cval(n);
      unit.consts.push(n, ...(from ? [from] : []));
    } else acc.spineConstant = true;
  } else if (n.op === 'mul' && isConst(n.args[0]!)) {
    // c * x counts as c copies of x, so 2*x + x becomes 3*x, and 1 * -x + x becomes 0. A sum
    // inside is opened only when c is ±1, where it would print unwrapped anyway (so that a second
    // pass finds nothing to do); 2 * (a - b) stays as written.
    const k = sign * cval(n.args[0]!);
    const c = Math.abs(cval(n.args[0]!)) === 1 ? from : from ? undefined : n.args[0]!;
    const x = n.args[1]!;
    if (Math.abs(k) === 1) open(x, k, c);
    else if (!sum(x)) collectTerms(x, k, out, acc, c, unit);
    else term({ node: x, coef: k, from: c, unit });
  } else {
    term({ node: n, coef: sign, from, unit });
  }
}

/**
 * The terms with each nested sum kept whole where opening it combines nothing (no term shared
 * with the rest, no constant to fold with another): `t3 - (y + c)` stays, so a sum the forward
 * pass computed is reused, not recomputed in another order. In float32 the other order differs
 * by an ulp, which a division by a clamped norm (ε) turns into a wrong gradient (seed 71708325).
 */
function keepUnits(raw: Term[], acc: Acc): Term[] {
  const groups = new Map<Unit | undefined, Term[]>();
  for (const t of raw) groups.set(t.unit, [...(groups.get(t.unit) ?? []), t]);
  const withConstants = acc.units.filter((u) => u.consts.length > 0).length + (acc.spineConstant ? 1 : 0);
  const owner = new Map<Node, Set<Unit | undefined>>();
  for (const t of raw) owner.set(t.node, (owner.get(t.node) ?? new Set()).add(t.unit));
  const out: Term[] = [];
  for (const [u, ts] of groups) {
    // A long one is opened, to be balanced as b.chain balances every long sum.
    const whole = u && u.leaves <= b.BALANCE_AFTER && !(u.consts.length > 0 && withConstants > 1) && ts.every((t) => owner.get(t.node)!.size === 1) && isNormalSum(u.node);
    if (!whole) {
      out.push(...ts);
      continue;
    }
    out.push({ node: u.node, coef: u.sign });
    acc.c -= u.c;
    acc.consts = acc.consts.filter((c) => !u.consts.includes(c));
  }
  return out;
}

const normalSums = new WeakMap<Node, boolean>();

/** A sum its normal form leaves as it is, not led by a negated term (`x + (-a - b)` is opened). */
function isNormalSum(n: Node): boolean {
  let known = normalSums.get(n);
  if (known === undefined) {
    let lead = n;
    while (lead.op === 'add' || lead.op === 'sub') lead = lead.args[0]!;
    known = lead.op !== 'neg' && normalizeSum(n) === null;
    normalSums.set(n, known);
  }
  return known;
}

/** Flatten a tree of + and -, combine like terms and constants. */
export function normalizeSum(n: Node): Node | null {
  if (n.op !== 'add' && n.op !== 'sub') return null;
  const collected: Term[] = [];
  const acc: Acc = { c: 0, consts: [], units: [] };
  collectTerms(n, 1, collected, acc);
  const raw = keepUnits(collected, acc);
  const sole = acc.consts.length === 1 ? acc.consts[0] : undefined;
  const merged = new Map<Node, Term>();
  for (const t of raw) {
    const m = merged.get(t.node);
    // Like terms combined: their coefficient is a new number.
    merged.set(t.node, m ? { node: t.node, coef: m.coef + t.coef } : t);
  }
  const terms = [...merged.values()].filter((t) => t.coef !== 0);
  const c = Math.fround(acc.c);
  let out: Node | undefined;
  const scaled = (t: Term, abs: boolean) => {
    const k = abs ? Math.abs(t.coef) : t.coef;
    return k === 1 ? t.node : b.mul(constantFrom(k, t.from), t.node);
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
    put(constantFrom(c, sole), false);
    c2 = 0;
  }
  for (const t of ordered) {
    if (!items.length) put(t.coef > 0 ? scaled(t, false) : b.neg(scaled(t, true)), false);
    else put(scaled(t, true), t.coef < 0);
  }
  if (c2 !== 0) put(constantFrom(items.length ? Math.abs(c2) : c2, sole), items.length > 0 && c2 < 0);
  if (items.length) out = b.chain(items, inv, (l, r, minus) => (minus ? b.sub(l, r) : b.add(l, r)));
  out ??= b.constant(0);
  return out === n ? null : out;
}

// ---- products ---------------------------------------------------------------------------------

interface Factors {
  coef: number;
  /** The constants multiplied into coef (a divisor counts too). */
  consts: Node[];
  num: Map<Node, number>;
  den: Map<Node, number>;
}

function collectFactors(n: Node, inv: boolean, f: Factors, times = 1): void {
  if (n.op === 'mul') {
    collectFactors(n.args[0]!, inv, f, times);
    collectFactors(n.args[1]!, inv, f, times);
  } else if (n.op === 'div') {
    collectFactors(n.args[0]!, inv, f, times);
    collectFactors(n.args[1]!, !inv, f, times);
  } else if (n.op === 'neg') {
    if (times % 2 === 1) f.coef = -f.coef;
    collectFactors(n.args[0]!, inv, f, times);
  } else if (isConst(n) && cval(n) !== 0 && Number.isFinite(cval(n)) && Number.isFinite(cval(n) ** times)) {
    f.coef = inv ? f.coef / cval(n) ** times : f.coef * cval(n) ** times;
    // The constant as written, when it is used once (a power of it is a new number).
    if (Math.abs(cval(n)) !== 1) f.consts.push(times === 1 && !inv ? n : b.constant(cval(n)));
  } else if (n.op === 'pow' && isConst(n.args[1]!) && Number.isInteger(cval(n.args[1]!)) && cval(n.args[1]!) > 0) {
    // x^k is k factors x: its base's coefficient and factors are counted k times, so that
    // p * y / p^2 becomes y / p and (-x)^1 / x becomes -1 in one pass.
    collectFactors(n.args[0]!, inv, f, times * cval(n.args[1]!));
  } else {
    const m = inv ? f.den : f.num;
    m.set(n, (m.get(n) ?? 0) + times);
  }
}

/** How a difference's operand ranks for leading it: inputs first (y_pred before the others), by name. */
const leadKey = (n: Node): string => (n.op === 'input' ? `0${n.attrs.name === 'y_pred' ? '' : (n.attrs.name as string)}` : `1${n.op}`);

/**
 * `b - a` and `a - b` are one factor up to sign: (b - a)^k = (-1)^k (a - b)^k. Each such pair,
 * above or below, is counted as one orientation, so that the two cancel or add up instead of
 * standing side by side: the one counted more often, else the one whose first operand leads
 * (y_pred - y_true, as the formulas write it), else the one met first. Never the nodes' ids,
 * which depend on what was built before: the printed result must not.
 */
function joinFlippedDifferences(f: Factors): void {
  const maps = [f.num, f.den];
  const count = (n: Node) => (f.num.get(n) ?? 0) + (f.den.get(n) ?? 0);
  for (const m of maps) {
    for (const node of [...m.keys()]) {
      if (node.op !== 'sub' || !m.has(node)) continue;
      const flipped = b.sub(node.args[1]!, node.args[0]!);
      if (flipped === node || !maps.some((q) => q.has(flipped))) continue;
      const [x, y] = [leadKey(node.args[0]!), leadKey(node.args[1]!)];
      const keepNode = count(node) !== count(flipped) ? count(node) > count(flipped) : x !== y ? x < y : true;
      const [keep, drop] = keepNode ? [node, flipped] : [flipped, node];
      for (const q of maps) {
        const j = q.get(drop);
        if (j === undefined) continue;
        q.delete(drop);
        q.set(keep, (q.get(keep) ?? 0) + j);
        if (j % 2 === 1) f.coef = -f.coef;
      }
    }
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
  const f: Factors = { coef: 1, consts: [], num: new Map(), den: new Map() };
  collectFactors(n, false, f);
  if (f.coef === 0) return null; // 0 * x is the job of a rule with a stated domain
  joinFlippedDifferences(f);
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
  const sole = f.consts.length === 1 ? f.consts[0] : undefined;
  const num = product(f.num, divisor === undefined && mag !== 1 ? constantFrom(mag, sole) : undefined);
  const den = product(f.den, divisor !== undefined ? b.constant(divisor) : undefined);
  let out = num ?? b.constant(1);
  if (den) out = b.div(out, den);
  if (neg) out = out.op === 'const' ? negated(out) : b.neg(out);
  return out === n ? null : out;
}
