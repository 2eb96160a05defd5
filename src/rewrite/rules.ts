// The rewrite rules, as data. Each is one line: a name, `pattern -> replacement` in lossc syntax,
// and where it is only sound on a domain, a guard and a note saying which. Three families:
//   fold       constants computed at compile time (in float64, kept where float32 holds them);
//   simplify   algebra that makes derivatives as short as a person would write them;
//   stabilize  forms that stay finite where the naive formula overflows or loses every digit.
// Adding a rule: one line below, and it is picked up by the rule tests (fires, keeps the value).

import * as b from '../ir/build.js';
import { Node } from '../ir/node.js';
import { isElementwise, OPS } from '../ir/ops.js';
import { isConcrete, numElements } from '../ir/shape.js';
import { compileRules, type RuleSpec } from './engine.js';
import type { Bindings } from './pattern.js';
import { normalizeProduct, normalizeSum } from './normal.js';
import { foldConstant } from './fold.js';

const node = (m: Bindings, k: string) => m.get(k) as Node;
const isConstNode = (n: Node) => n.op === 'const';
const constant = (k: string) => (m: Bindings) => isConstNode(node(m, k));

/** Is n > 0 everywhere, as far as its form shows? */
export function provablyPositive(n: Node): boolean {
  switch (n.op) {
    case 'const':
      return (n.attrs.value as number) > 0;
    case 'exp':
    case 'sigmoid':
    case 'softplus':
    case 'cosh':
      return true;
    case 'add':
    case 'mul':
    case 'div':
      return provablyPositive(n.args[0]!) && provablyPositive(n.args[1]!);
    case 'clip':
      return provablyPositive(n.args[1]!);
    case 'maximum':
      return provablyPositive(n.args[0]!) || provablyPositive(n.args[1]!);
    default:
      return false;
  }
}

/** Is n >= 0 everywhere, as far as its form shows (squares, sums of squares, norms)? */
function provablyNonnegative(n: Node): boolean {
  switch (n.op) {
    case 'const':
      return (n.attrs.value as number) >= 0;
    case 'abs':
    case 'sqrt':
      return true;
    case 'pow': {
      const k = n.args[1]!;
      return k.op === 'const' && Number.isInteger(k.attrs.value) && (k.attrs.value as number) % 2 === 0 ? true : provablyNonnegative(n.args[0]!);
    }
    case 'mul':
      return n.args[0] === n.args[1] || (provablyNonnegative(n.args[0]!) && provablyNonnegative(n.args[1]!));
    case 'maximum':
      return provablyNonnegative(n.args[0]!) || provablyNonnegative(n.args[1]!);
    case 'add':
    case 'div':
    case 'minimum':
      return provablyNonnegative(n.args[0]!) && provablyNonnegative(n.args[1]!);
    case 'sum':
    case 'mean':
    case 'max':
    case 'min':
    case 'broadcast_like':
      return provablyNonnegative(n.args[0]!);
    default:
      return provablyPositive(n);
  }
}

const positiveConstant = (k: string) => (m: Bindings) => isConstNode(node(m, k)) && (node(m, k).attrs.value as number) > 0;

/** size(x) is a number once x's shape is known. */
function foldSize(n: Node): Node | null {
  if (n.op !== 'size') return null;
  const x = n.args[0]!;
  const dims = (n.attrs.axes as number[]).map((a) => x.shape[a]!);
  if (!isConcrete(dims)) return null;
  return b.constant(numElements(dims)!);
}

/** size(f(x, y)) is the size of whichever argument has the same dims there: size(x). */
function sizeOfLeaf(n: Node): Node | null {
  if (n.op !== 'size') return null;
  const x = n.args[0]!;
  const axes = n.attrs.axes as number[];
  // The size of a reduction's result is the size of its argument along the axes it kept.
  if (OPS[x.op].family === 'reduce' && x.attrs.keepdims !== true) {
    const reduced = new Set(x.attrs.axes as number[]);
    const kept = x.args[0]!.shape.map((_, i) => i).filter((i) => !reduced.has(i));
    return b.size(x.args[0]!, axes.map((k) => kept[k]!));
  }
  if (!isElementwise(x.op) && x.op !== 'broadcast_like') return null;
  const candidates = (x.op === 'broadcast_like' ? [x.args[1]!] : x.args).filter(
    (a) => a.rank === x.rank && a.op !== 'const' && axes.every((k) => a.shape[k] === x.shape[k]),
  );
  // Prefer y_pred, the input a derivative is usually taken against, for a readable result.
  const pick = candidates.find((a) => a.op === 'input' && a.attrs.name === 'y_pred') ?? candidates[0];
  return pick ? b.size(pick, axes) : null;
}

/** An elementwise op whose other operand already has the full shape needs no broadcast_like. */
function dropBroadcast(n: Node): Node | null {
  const family = OPS[n.op].family;
  if (family !== 'binary' && family !== 'compare') return null;
  const [x, y] = n.args as [Node, Node];
  if (x.op === 'broadcast_like' && x.args[1]!.rank <= y.rank) {
    const r = Node.make(n.op, [x.args[0]!, y]);
    if (r.shape.length === n.shape.length && r.shape.every((d, i) => d === n.shape[i])) return r;
  }
  if (y.op === 'broadcast_like' && y.args[1]!.rank <= x.rank) {
    const r = Node.make(n.op, [x, y.args[0]!]);
    if (r.shape.length === n.shape.length && r.shape.every((d, i) => d === n.shape[i])) return r;
  }
  return null;
}

/** sum over a broadcast constant is the constant times the count. */
function sumOfBroadcast(n: Node): Node | null {
  if (n.op !== 'sum') return null;
  const x = n.args[0]!;
  if (x.op !== 'broadcast_like' || x.args[0]!.rank !== 0) return null;
  const r = b.mul(x.args[0]!, b.size(x.args[1]!, n.attrs.axes as number[]));
  return r;
}

export const RULE_SPECS: RuleSpec[] = [
  // ---- fold ------------------------------------------------------------------------------------
  { name: 'fold-constants', family: 'fold', apply: foldConstant },
  { name: 'fold-size', family: 'fold', ops: ['size'], apply: foldSize },

  // ---- simplify --------------------------------------------------------------------------------
  { name: 'add-zero', family: 'simplify', rule: 'x + 0 -> x' },
  { name: 'zero-add', family: 'simplify', rule: '0 + x -> x' },
  { name: 'sub-zero', family: 'simplify', rule: 'x - 0 -> x' },
  { name: 'zero-sub', family: 'simplify', rule: '0 - x -> -x' },
  { name: 'sub-self', family: 'simplify', rule: 'x - x -> 0', domain: 'x finite' },
  { name: 'mul-one', family: 'simplify', rule: 'x * 1 -> x' },
  { name: 'one-mul', family: 'simplify', rule: '1 * x -> x' },
  { name: 'mul-zero', family: 'simplify', rule: 'x * 0 -> 0', domain: 'x finite' },
  { name: 'zero-mul', family: 'simplify', rule: '0 * x -> 0', domain: 'x finite' },
  { name: 'div-one', family: 'simplify', rule: 'x / 1 -> x' },
  { name: 'zero-div', family: 'simplify', rule: '0 / x -> 0', domain: 'x nonzero' },
  { name: 'neg-neg', family: 'simplify', rule: '-(-x) -> x' },
  { name: 'neg-sub', family: 'simplify', rule: '-(a - b) -> b - a' },
  { name: 'add-neg', family: 'simplify', rule: 'a + -b -> a - b' },
  { name: 'sub-neg', family: 'simplify', rule: 'a - -b -> a + b' },
  { name: 'neg-add', family: 'simplify', rule: '-a + b -> b - a' },
  { name: 'pow-one', family: 'simplify', rule: 'x^1 -> x' },
  { name: 'pow-zero', family: 'simplify', rule: 'x^0 -> 1' },
  { name: 'sum-normal-form', family: 'simplify', ops: ['add', 'sub'], apply: normalizeSum, domain: 'terms finite' },
  { name: 'product-normal-form', family: 'simplify', ops: ['mul', 'div', 'neg'], apply: normalizeProduct, domain: 'factors finite and nonzero' },
  { name: 'exp-log', family: 'simplify', rule: 'exp(log(x)) -> x', when: (m) => provablyPositive(node(m, 'x')), domain: 'x > 0 (checked)' },
  { name: 'where-same', family: 'simplify', rule: 'where(c, x, x) -> x' },
  { name: 'where-nested-then', family: 'simplify', rule: 'where(c, where(c, a, b), x) -> where(c, a, x)' },
  { name: 'where-nested-else', family: 'simplify', rule: 'where(c, x, where(c, a, b)) -> where(c, x, b)' },
  { name: 'where-add', family: 'simplify', rule: 'where(c, a, b) + where(c, d, e) -> where(c, a + d, b + e)' },
  { name: 'where-sub', family: 'simplify', rule: 'where(c, a, b) - where(c, d, e) -> where(c, a - d, b - e)' },
  { name: 'where-merge', family: 'simplify', rule: 'where(c, a, 0) + where(c, 0, b) -> where(c, a, b)' },
  { name: 'where-merge-swapped', family: 'simplify', rule: 'where(c, 0, b) + where(c, a, 0) -> where(c, a, b)' },
  { name: 'mul-where-left', family: 'simplify', rule: 'where(c, a, 0) * x -> where(c, a * x, 0)' },
  { name: 'mul-where-right', family: 'simplify', rule: 'x * where(c, a, 0) -> where(c, x * a, 0)' },
  { name: 'mul-where-else-left', family: 'simplify', rule: 'where(c, 0, a) * x -> where(c, 0, a * x)' },
  { name: 'mul-where-else-right', family: 'simplify', rule: 'x * where(c, 0, a) -> where(c, 0, x * a)' },
  { name: 'div-where', family: 'simplify', rule: 'where(c, a, 0) / x -> where(c, a / x, 0)' },
  { name: 'div-where-else', family: 'simplify', rule: 'where(c, 0, a) / x -> where(c, 0, a / x)' },
  { name: 'neg-where', family: 'simplify', rule: '-where(c, a, b) -> where(c, -a, -b)' },
  { name: 'where-common-divisor', family: 'simplify', rule: 'where(c, a / d, b / d) -> where(c, a, b) / d' },
  { name: 'where-common-factor', family: 'simplify', rule: 'where(c, k * a, k * b) -> k * where(c, a, b)', when: constant('k') },
  { name: 'common-divisor-add', family: 'simplify', rule: 'a / d + b / d -> (a + b) / d' },
  { name: 'common-divisor-sub', family: 'simplify', rule: 'a / d - b / d -> (a - b) / d' },
  { name: 'sigmoid-complement', family: 'simplify', rule: '1 - sigmoid(x) -> sigmoid(-x)' },
  { name: 'size-of-leaf', family: 'simplify', ops: ['size'], apply: sizeOfLeaf },
  { name: 'drop-broadcast', family: 'simplify', apply: dropBroadcast },
  { name: 'sum-of-broadcast', family: 'simplify', ops: ['sum'], apply: sumOfBroadcast },

  // ---- stabilize -------------------------------------------------------------------------------
  // Exact everywhere and finite where the left side overflows (exp(x) for x > 88 in float32,
  // x^2 for |x| > 1.8e19), so they belong to the value's rewrites too: softmax-ratio below
  // leaves log(exp(x - logsumexp(x))), which must become x - logsumexp(x) on the value.
  { name: 'log-exp', family: 'stabilize', rule: 'log(exp(x)) -> x' },
  { name: 'sqrt-square', family: 'stabilize', rule: 'sqrt(x^2) -> abs(x)' },
  { name: 'log-sigmoid', family: 'stabilize', rule: 'log(sigmoid(x)) -> -softplus(-x)' },
  { name: 'log-one-minus-sigmoid', family: 'stabilize', rule: 'log(1 - sigmoid(x)) -> -softplus(x)' },
  { name: 'log-sigmoid-neg', family: 'stabilize', rule: 'log(sigmoid(-x)) -> -softplus(x)' },
  { name: 'log-sum-exp', family: 'stabilize', rule: 'log(sum(exp(x), axis = a, keepdims = k)) -> logsumexp(x, axis = a, keepdims = k)' },
  { name: 'softmax-ratio', family: 'stabilize', rule: 'exp(x) / sum(exp(x), axis = a, keepdims = true) -> exp(x - logsumexp(x, axis = a, keepdims = true))' },
  { name: 'log-one-plus', family: 'stabilize', rule: 'log(1 + x) -> log1p(x)' },
  { name: 'log-plus-one', family: 'stabilize', rule: 'log(x + 1) -> log1p(x)' },
  { name: 'exp-minus-one', family: 'stabilize', rule: 'exp(x) - 1 -> expm1(x)' },
  { name: 'log1p-exp', family: 'stabilize', rule: 'log1p(exp(x)) -> softplus(x)' },
  // cosh overflows float32 past |x| = 89; log(cosh(x)) is about |x| there (stdlib's log_cosh form).
  { name: 'log-cosh', family: 'stabilize', rule: 'log(cosh(x)) -> x + softplus(-2 * x) - log(2)' },
  { name: 'log-one-plus-exp', family: 'stabilize', rule: 'log(1 + exp(x)) -> softplus(x)' },
  { name: 'log-one-minus-exp-neg-softplus', family: 'stabilize', rule: '1 / (1 + exp(-x)) -> sigmoid(x)' },
  // The naive logistic e^x / (1 + e^x): inf / inf = NaN past x = 88, and its derivative
  // overflows from x = 44 (found by the fuzzer's stability family, seeds 1116 and 1142).
  { name: 'exp-ratio-sigmoid', family: 'stabilize', rule: 'exp(x) / (1 + exp(x)) -> sigmoid(x)' },
  { name: 'exp-ratio-sigmoid-swapped', family: 'stabilize', rule: 'exp(x) / (exp(x) + 1) -> sigmoid(x)' },
  // Its other spellings (1 / (1 + exp(-x)) is above): the -x forms come first, so
  // 1 / (exp(-x) + 1) gives sigmoid(x), not sigmoid(--x).
  { name: 'sigmoid-neg-exp-swapped', family: 'stabilize', rule: '1 / (exp(-x) + 1) -> sigmoid(x)' },
  { name: 'sigmoid-of-neg', family: 'stabilize', rule: '1 / (1 + exp(x)) -> sigmoid(-x)' },
  { name: 'sigmoid-of-neg-swapped', family: 'stabilize', rule: '1 / (exp(x) + 1) -> sigmoid(-x)' },
  // log(e^a + e^b) from the larger of the two: softplus of a non-positive number never
  // overflows, and at a tie each side gets half the gradient (as the smooth formula gives).
  { name: 'log-add-exp', family: 'stabilize', rule: 'log(exp(a) + exp(b)) -> where(a >= b, a + softplus(b - a), b + softplus(a - b))', domain: 'a, b not both -inf' },
  // A positive constant factor leaves the log, so that what is inside can be stabilised:
  // log((exp(d) + exp(-d)) / 2) is log-add-exp minus log(2).
  { name: 'log-div-constant', family: 'stabilize', rule: 'log(x / k) -> log(x) - log(k)', when: positiveConstant('k'), domain: 'k > 0 (checked)' },
  { name: 'log-constant-mul', family: 'stabilize', rule: 'log(k * x) -> log(k) + log(x)', when: positiveConstant('k'), domain: 'k > 0 (checked)' },
  { name: 'log-mul-constant', family: 'stabilize', rule: 'log(x * k) -> log(x) + log(k)', when: positiveConstant('k'), domain: 'k > 0 (checked)' },
  // The Euclidean norm sqrt(sum(d^2)) and the like: the same value (NaN and inf included), but
  // at 0, where sqrt's derivative is 1 / 0 and the chain gives 0 * inf = NaN, the gradient is
  // 0 (a subgradient of the norm at 0). The inner where keeps sqrt's own derivative finite there.
  {
    name: 'sqrt-at-zero',
    family: 'stabilize',
    rule: 'sqrt(x) -> where(x == 0, 0, sqrt(where(x == 0, 1, x)))',
    when: (m) => provablyNonnegative(node(m, 'x')) && !provablyPositive(node(m, 'x')),
    domain: 'x >= 0 (checked)',
  },
];

/**
 * A list built on first use: importing lossc parses no rule (that costs the parser's set-up and
 * would run at page load in a browser). It reads as the array it becomes.
 */
function lazyList<T>(build: () => T[]): readonly T[] {
  let list: T[] | undefined;
  const get = () => (list ??= build());
  return new Proxy([] as T[], {
    get: (_t, prop) => Reflect.get(get(), prop),
    has: (_t, prop) => Reflect.has(get(), prop),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_t, prop) => Reflect.getOwnPropertyDescriptor(get(), prop),
  });
}

export const ALL_RULES = lazyList(() => compileRules(RULE_SPECS));
export const FOLD_RULES = lazyList(() => ALL_RULES.filter((r) => r.family === 'fold'));
export const STABILIZE_RULES = lazyList(() => ALL_RULES.filter((r) => r.family !== 'simplify'));
