// Let planning for the printers (text.ts, latex.ts): which nodes get a name, in which order,
// called what. Shared nodes, the parts of a split (one destructuring let) and cuts of chains
// deeper than `maxDepth` become lets, named after the user's own names where possible.

import { topoSort, type Node } from '../ir/node.js';
import { OPS } from '../ir/ops.js';
import { KEYWORDS } from '../../grammar/ast.js';
import { BUILTINS, CONSTANTS } from '../lower/builtins.js';


/** Names for some nodes: a map, the `NameHints` of a lowering, or a function. */
export type NameSource = { get(n: Node): string | undefined } | ((n: Node) => string | undefined);

export interface PrintOptions {
  /** Preferred names for nodes (over `hints`). */
  names?: NameSource;
  /**
   * The `let` names the lowering of these nodes recorded (`Lowered.hints`). Hints are never
   * global, so a printer given none names its lets t1, t2, ...
   */
  hints?: NameSource;
  /** Further names a `let` must not take (e.g. a definition's parameters and options). */
  reserved?: Iterable<string>;
  /** Longest chain of nested operations printed in one expression before a `let` cuts it. */
  maxDepth?: number;
}

export interface SingleLet {
  kind: 'let';
  node: Node;
  name: string;
}

/** `let [a, _, c] = split(source, parts, axis = axis)`: every part of one split. */
export interface SplitLet {
  kind: 'split';
  source: Node;
  /** Normalised (non-negative). */
  axis: number;
  parts: number;
  /** By index; undefined for a part the DAG never uses. */
  nodes: Array<Node | undefined>;
  /** By index; `_` for an unused part. */
  names: string[];
}

export type PlannedLet = SingleLet | SplitLet;

export interface Plan {
  roots: Node[];
  lets: PlannedLet[];
  /** Every let-bound node and its name. */
  bound: Map<Node, string>;
}

export const DEFAULT_MAX_DEPTH = 100;

/** Keywords, named constants and builtin functions: a `let` never takes one of these names. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  ...KEYWORDS,
  ...Object.keys(CONSTANTS),
  ...Object.keys(BUILTINS),
  // prelude helpers people call constantly
  'relu', 'square', 'softmax', 'log_softmax', 'l2_normalize', 'norm',
  // the placeholder of unused destructured names
  '_',
]);

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

const isLeaf = (n: Node): boolean => OPS[n.op].family === 'leaf';

/** Leaves other than tensor literals: never worth a `let`. */
const isAtomLeaf = (n: Node): boolean => isLeaf(n) && n.op !== 'tensor';

/** Nodes the text printer repeats rather than naming: leaves and cheap wrappers of leaves. */
export function trivialText(n: Node): boolean {
  if (isAtomLeaf(n)) return true;
  switch (n.op) {
    case 'neg':
    case 'cast':
    case 'size':
      return isAtomLeaf(n.args[0]!);
    case 'broadcast_like':
      return isAtomLeaf(n.args[0]!) && isAtomLeaf(n.args[1]!);
    default:
      return false;
  }
}

export const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** The name `src` gives `n`, if any. */
export function lookupName(src: NameSource | undefined, n: Node): string | undefined {
  if (src === undefined) return undefined;
  return typeof src === 'function' ? src(n) : src.get(n);
}

/** Levels of nesting a node's own syntax adds (`int(3)`, `[[1]]`, `concat([...])`, `-(...)`). */
function ownNesting(n: Node): number {
  switch (n.op) {
    case 'const':
      return n.attrs.dtype === 'int32' ? 1 : 0;
    case 'tensor':
      return n.rank;
    case 'input':
    case 'param':
      return 0;
    case 'concat':
      return 2;
    case 'one_hot':
      return n.args.length === 2 ? 2 : 1;
    default:
      return 1;
  }
}

function splitKey(part: Node): string {
  const source = part.args[0]!;
  return `${source.id}|${normAxis(part.attrs.axis as number, source.rank)}|${part.attrs.parts}`;
}

type Draft = { kind: 'let'; node: Node } | { kind: 'split'; source: Node; axis: number; parts: number; nodes: Array<Node | undefined> };

/**
 * The nodes that get a let: those used twice (unless trivial), split parts, and cuts of chains at
 * `maxDepth` levels of syntax (operators, calls, parentheses, brackets) that the node's text nests,
 * an upper bound both on the parser's nesting count and on the depth of the syntax tree.
 */
function boundNodes(order: readonly Node[], roots: readonly Node[], trivial: (n: Node) => boolean, maxDepth: number): Set<Node> {
  const rootSet = new Set(roots);
  const uses = new Map<Node, number>();
  const use = (n: Node) => uses.set(n, (uses.get(n) ?? 0) + 1);
  // The parts of one split read their source once, in the split's own let.
  const splitKeys = new Set<string>();
  for (const n of order) {
    if (n.op === 'part') {
      const key = splitKey(n);
      if (splitKeys.has(key)) continue;
      splitKeys.add(key);
    }
    for (const a of n.args) use(a);
  }
  for (const r of roots) use(r);

  const bound = new Set<Node>();
  const depth = new Map<Node, number>();
  for (const n of order) {
    if (n.op === 'part' || ((uses.get(n) ?? 0) >= 2 && !trivial(n))) bound.add(n);
    let d = ownNesting(n);
    if (n.args.length > 0) {
      let inner = 0;
      for (const a of n.args) inner = Math.max(inner, bound.has(a) ? 0 : depth.get(a)!);
      d += inner;
      if (d >= maxDepth && !rootSet.has(n)) bound.add(n);
    }
    depth.set(n, d);
  }
  return bound;
}

/**
 * Lets in dependency order; the parts of one split share one destructuring let, placed where
 * the first of them is needed (every part depends on the source only).
 */
function draftLets(order: readonly Node[], bound: ReadonlySet<Node>): Draft[] {
  const drafts: Draft[] = [];
  const splits = new Map<string, Array<Extract<Draft, { kind: 'split' }>>>();
  for (const n of order) {
    if (!bound.has(n)) continue;
    if (n.op !== 'part') {
      drafts.push({ kind: 'let', node: n });
      continue;
    }
    const source = n.args[0]!;
    const axis = normAxis(n.attrs.axis as number, source.rank);
    const parts = n.attrs.parts as number;
    const index = n.attrs.index as number;
    const key = splitKey(n);
    const groups = splits.get(key) ?? [];
    splits.set(key, groups);
    // Two distinct nodes for one part (e.g. attrs written differently) need two splits.
    let g = groups.find((x) => x.nodes[index] === undefined);
    if (!g) {
      g = { kind: 'split', source, axis, parts, nodes: new Array<Node | undefined>(parts).fill(undefined) };
      groups.push(g);
      drafts.push(g);
    }
    g.nodes[index] = n;
  }

  return drafts;
}

/** Names: a hint when it is a valid, unique, unreserved identifier; else t1, t2, ... */
function letNames(order: readonly Node[], drafts: readonly Draft[], opts: PrintOptions): Map<Node, string> {
  const reserved = new Set<string>(RESERVED_NAMES);
  for (const r of opts.reserved ?? []) reserved.add(r);
  for (const n of order) if (n.op === 'input' || n.op === 'param') reserved.add(n.attrs.name as string);

  const boundInOrder: Node[] = [];
  for (const d of drafts) {
    if (d.kind === 'let') boundInOrder.push(d.node);
    else for (const n of d.nodes) if (n) boundInOrder.push(n);
  }
  const valid = (s: string | undefined): s is string => s !== undefined && IDENT.test(s) && !reserved.has(s);
  const wanted = new Map<Node, string>();
  const count = new Map<string, number>();
  for (const n of boundInOrder) {
    const explicit = lookupName(opts.names, n);
    const h = valid(explicit) ? explicit : lookupName(opts.hints, n);
    if (!valid(h)) continue;
    wanted.set(n, h);
    count.set(h, (count.get(h) ?? 0) + 1);
  }
  const names = new Map<Node, string>();
  const used = new Set<string>();
  for (const [n, h] of wanted) {
    if (count.get(h) === 1) {
      names.set(n, h);
      used.add(h);
    }
  }
  let k = 0;
  for (const n of boundInOrder) {
    if (names.has(n)) continue;
    let name: string;
    do name = `t${++k}`;
    while (used.has(name) || reserved.has(name));
    names.set(n, name);
    used.add(name);
  }

  return names;
}

/** Decide the lets for printing `roots`: shared nodes, split parts, and cuts of deep chains. */
export function planLets(roots: readonly Node[], trivial: (n: Node) => boolean, opts: PrintOptions = {}): Plan {
  const maxDepth = Math.max(2, opts.maxDepth ?? DEFAULT_MAX_DEPTH);
  const order = topoSort(roots);
  const drafts = draftLets(order, boundNodes(order, roots, trivial, maxDepth));
  const names = letNames(order, drafts, opts);
  const lets: PlannedLet[] = drafts.map((d) =>
    d.kind === 'let'
      ? { kind: 'let', node: d.node, name: names.get(d.node)! }
      : { ...d, names: d.nodes.map((n) => (n ? names.get(n)! : '_')) },
  );
  return { roots: [...roots], lets, bound: names };
}
