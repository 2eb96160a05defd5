// The rewriter: apply a table of rules bottom-up over the hash-consed DAG until nothing changes.
// A rule may replace a node by one of a smaller, broadcast-compatible shape (`x * 0 -> 0`);
// where a consumer needs the exact shape (a reduction, a reshape, the result itself) the
// replacement is widened again with broadcast_like, pointing at an input of that shape.

import { Node, mapDag, withArgs } from '../ir/node.js';
import type { OpName } from '../ir/ops.js';
import { isElementwise, readsValueOf } from '../ir/ops.js';
import { broadcastShapes, sameShape } from '../ir/shape.js';
import * as b from '../ir/build.js';
import { LosscError } from '../errors.js';
import { compilePattern, instantiate, match, rootOp, type Bindings, type Pat } from './pattern.js';

export type Family = 'simplify' | 'stabilize' | 'fold';

/** A rule as written in the tables: a pattern pair, or a function for what patterns can't say. */
export interface RuleSpec {
  name: string;
  family: Family;
  /** `lhs -> rhs` in lossc syntax. */
  rule?: string;
  /** Only rewrite when this holds of the bindings (a domain condition, a constant check, ...). */
  when?: (m: Bindings) => boolean;
  /** A code rule: returns the replacement or null. */
  apply?: (n: Node) => Node | null;
  /** Ops a code rule can fire on (for indexing); omitted: every op. */
  ops?: OpName[];
  /** Where the rule is only sound on a domain, say which (shown by --explain and in docs). */
  domain?: string;
}

export interface CompiledRule extends RuleSpec {
  lhs?: Pat;
  rhs?: Pat;
}

export interface Fired {
  rule: string;
  before: Node;
  after: Node;
}

/** The two sides of a pattern rule's `lhs -> rhs`, trimmed. */
export function ruleSides(s: RuleSpec): [string, string] {
  const [l, r] = (s.rule ?? '').split('->');
  if (!l || !r) throw new Error(`rewrite rule ${s.name}: expected "lhs -> rhs"`);
  return [l.trim(), r.trim()];
}

export function compileRules(specs: readonly RuleSpec[]): CompiledRule[] {
  return specs.map((s) => {
    if (!s.rule) return { ...s };
    const [l, r] = ruleSides(s);
    return { ...s, lhs: compilePattern(l), rhs: compilePattern(r) };
  });
}

/** Rules indexed by the op at their root, so a node is only tried against rules that could fire. */
class RuleIndex {
  private readonly byOp = new Map<string, CompiledRule[]>();
  private readonly any: CompiledRule[] = [];
  constructor(rules: readonly CompiledRule[]) {
    for (const r of rules) {
      const ops = r.lhs ? [rootOp(r.lhs)] : r.ops;
      if (!ops || ops.includes(undefined as unknown as OpName)) this.any.push(r);
      else for (const op of ops) this.byOp.set(op!, [...(this.byOp.get(op!) ?? []), r]);
    }
  }
  for(op: OpName): CompiledRule[] {
    return [...(this.byOp.get(op) ?? []), ...this.any];
  }
}

function tryRule(r: CompiledRule, n: Node): Node | null {
  try {
    if (r.apply) return r.apply(n);
    const m: Bindings = new Map();
    if (!match(r.lhs!, n, m)) return null;
    if (r.when && !r.when(m)) return null;
    return instantiate(r.rhs!, m);
  } catch (e) {
    // A replacement that does not type-check (shapes, dtypes) simply does not apply.
    if (e instanceof LosscError) return null;
    throw e;
  }
}

/** Can `r` stand where `n` stood? Same dtype, and a shape that broadcasts to n's. */
function fits(r: Node, n: Node): boolean {
  if (r.dtype !== n.dtype) return false;
  if (sameShape(r.shape, n.shape)) return true;
  if (r.rank > n.rank) return false;
  try {
    return sameShape(broadcastShapes([r.shape, n.shape]), n.shape) && r.shape.every((d, i) => {
      const nd = n.shape[i + n.rank - r.rank];
      return d === nd || d === 1;
    });
  } catch {
    return false;
  }
}

/**
 * A node with exactly `n`'s shape to widen a shrunken replacement against: preferably an input,
 * else the deepest such node below `n` (`x * y` for `x * y * 0`), else `n` itself.
 */
export function shapeWitness(n: Node): Node {
  const seen = new Set<Node>();
  const queue: Node[] = [n];
  let best: Node | undefined;
  let deepest: Node | undefined;
  for (let i = 0; i < queue.length && i < 400; i++) {
    const x = queue[i]!;
    if (sameShape(x.shape, n.shape) && x !== n) {
      if (x.op === 'input') {
        if (x.attrs.name === 'y_pred') return x;
        best ??= x;
      } else if (x.args.length > 0) deepest = x;
    }
    for (const a of x.args) {
      if (!seen.has(a)) {
        seen.add(a);
        queue.push(a);
      }
    }
  }
  return best ?? deepest ?? n;
}

/** Rewrite `roots` to a fixed point. `log` collects every rule that fired. */
/**
 * Results of earlier rewrites, per rule table. Nodes are hash-consed and never change, so the
 * same roots always rewrite to the same result: compiling a loss again (another call site, the
 * same shapes) finds its simplified gradient here instead of redoing the fixed point.
 */
const memo = new WeakMap<readonly CompiledRule[], Map<string, Node[]>>();
const MEMO_LIMIT = 512;

export function rewrite(roots: readonly Node[], rules: readonly CompiledRule[], log?: Fired[], maxPasses = 40): Node[] {
  // With a log the caller wants to see the rules fire, so compute afresh.
  if (log) return rewriteUncached(roots, rules, log, maxPasses);
  let table = memo.get(rules);
  if (!table) memo.set(rules, (table = new Map()));
  const key = `${maxPasses}:${roots.map((r) => r.id).join(',')}`;
  const hit = table.get(key);
  if (hit) return [...hit];
  const out = rewriteUncached(roots, rules, undefined, maxPasses);
  if (table.size >= MEMO_LIMIT) table.delete(table.keys().next().value!);
  table.set(key, out);
  return [...out];
}

function rewriteUncached(roots: readonly Node[], rules: readonly CompiledRule[], log: Fired[] | undefined, maxPasses: number): Node[] {
  const index = new RuleIndex(rules);
  let current = [...roots];
  for (let pass = 0; pass < maxPasses; pass++) {
    // Roots are widened inside the loop, so that the witness a widening points at is rewritten
    // too and what is returned is a fixed point (rewriting it again changes nothing).
    const next = fixRoots(rewritePass(current, index, log), roots);
    if (next.every((n, i) => n === current[i])) return next;
    current = next;
  }
  return current;
}

function fixRoots(out: Node[], roots: readonly Node[]): Node[] {
  return out.map((n, i) => (sameShape(n.shape, roots[i]!.shape) ? n : b.broadcastLike(n, shapeWitness(roots[i]!))));
}

function rewritePass(roots: readonly Node[], index: RuleIndex, log?: Fired[]): Node[] {
  return mapDag(roots, (orig, newArgs) => {
    // Consumers that are not elementwise need their arguments at the exact original shape.
    let args = newArgs;
    if (!isElementwise(orig.op)) {
      args = newArgs.map((a, i) => {
        const o = orig.args[i]!;
        if (sameShape(a.shape, o.shape)) return a;
        // An argument read only for its shape keeps its old form: widening it would wrap it in a
        // new broadcast_like on every pass (whose own shape argument is widened again, ...).
        if (!readsValueOf(orig.op, i)) return o;
        return b.broadcastLike(a, shapeWitness(o));
      });
    }
    let n = withArgs(orig, args);
    // Apply rules at this node until none fires (bounded, in case two rules undo each other).
    for (let step = 0; step < 20; step++) {
      let changed = false;
      for (const r of index.for(n.op)) {
        const out = tryRule(r, n);
        if (out && out !== n && fits(out, n)) {
          log?.push({ rule: r.name, before: n, after: out });
          n = out;
          changed = true;
          break;
        }
      }
      if (!changed) break;
    }
    return n;
  });
}
