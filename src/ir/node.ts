// IR nodes: immutable and hash-consed. Building the same op on the same arguments with the same
// attributes returns the very same Node, so identical sub-expressions are one node and a DAG never
// holds two copies of anything (derivatives do not swell, and `===` is structural equality).

import { LosscError } from '../errors.js';
import { OPS, type Attrs, type OpName, type OpSpec } from './ops.js';
import type { DType, Shape } from './shape.js';

/**
 * The deepest graph lossc builds from a program: the longest path from an output to a leaf.
 * Lowering refuses a program that goes deeper with a 'limit' error at the expression that
 * crossed it (src/lower/lower.ts), so every stage may walk a graph recursively: its gradient
 * and its rewrites stay within a small multiple of this (checked by test/deep-programs.test.ts).
 * Long chains of + and * are lowered as balanced trees and do not come near it.
 */
export const MAX_DEPTH = 500;

let nextId = 1;
/**
 * The intern table. It holds its nodes weakly: a node nothing else refers to any more (every
 * program, plan and library that used it is gone) is collected, and the registry then drops its
 * entry, so a long-running process (a fuzzer, a server compiling users' losses) does not keep
 * every node it ever built. A node's arguments are held by the node itself, so a live node's
 * whole DAG stays interned, and an id is never reused, so a key never names a dead node's
 * successor by mistake.
 */
const table = new Map<string, WeakRef<Node>>();
const reaper = new FinalizationRegistry<{ key: string; ref: WeakRef<Node> }>(({ key, ref }) => {
  // The key may since have been interned again for a new node: drop only the dead one's entry.
  if (table.get(key) === ref) table.delete(key);
});

export class Node {
  readonly id: number;
  readonly op: OpName;
  readonly args: readonly Node[];
  readonly attrs: Attrs;
  readonly shape: Shape;
  readonly dtype: DType;
  /** The structural key this node is interned under. */
  readonly key: string;
  /** The longest path from this node down to a leaf, counted in nodes (a leaf is 1). */
  readonly depth: number;

  private constructor(op: OpName, args: readonly Node[], attrs: Attrs, shape: Shape, dtype: DType, key: string) {
    this.id = nextId++;
    let depth = 0;
    for (const a of args) if (a.depth > depth) depth = a.depth;
    this.depth = depth + 1;
    this.op = op;
    this.args = args;
    this.attrs = attrs;
    this.shape = shape;
    this.dtype = dtype;
    this.key = key;
    Object.freeze(this);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Build (or find) a node. Throws a LosscError of kind shape/type when arguments do not fit. */
  static make(op: OpName, args: readonly Node[], attrs: Attrs = {}): Node {
    const spec: OpSpec = OPS[op];
    if (spec.arity >= 0 && args.length !== spec.arity) {
      throw new LosscError('arity', `\`${op}\` takes ${spec.arity} argument(s), got ${args.length}`);
    }
    if (spec.canon) attrs = spec.canon(args, attrs);
    const key = `${op}|${stableJson(attrs)}|${args.map((a) => a.id).join(',')}`;
    const found = table.get(key)?.deref();
    if (found) return found;
    const { shape, dtype } = spec.infer(args, attrs);
    const node = new Node(op, Object.freeze([...args]), Object.freeze({ ...attrs }), Object.freeze([...shape]), dtype, key);
    const ref = new WeakRef(node);
    table.set(key, ref);
    reaper.register(node, { key, ref });
    return node;
  }

  /** How many entries the intern table holds (live nodes, and dead ones not yet reaped). */
  static internedCount(): number {
    return table.size;
  }
}

/** JSON with sorted keys, so attribute order never splits a node in two. */
export function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    // Distinguish -0 from 0: they are different constants.
    if (typeof v === 'number' && Object.is(v, -0)) return '-0';
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    return JSON.stringify(v) ?? 'undefined';
  }
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
    .join(',')}}`;
}

/** Every node reachable from `roots` (not below `leaves`), each once, arguments before their users. */
export function topoSort(roots: readonly Node[], leaves?: ReadonlySet<Node>): Node[] {
  const seen = new Set<Node>();
  const out: Node[] = [];
  // Iterative post-order, so deep graphs cannot overflow the stack.
  const stack: Array<[Node, number]> = [];
  for (const r of roots) {
    if (seen.has(r)) continue;
    stack.push([r, 0]);
    seen.add(r);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [n, i] = top;
      if (i < n.args.length && !leaves?.has(n)) {
        top[1]++;
        const a = n.args[i]!;
        if (!seen.has(a)) {
          seen.add(a);
          stack.push([a, 0]);
        }
      } else {
        stack.pop();
        out.push(n);
      }
    }
  }
  return out;
}

/** How many nodes a DAG has (its size for swell tests and statistics). */
export function countNodes(roots: readonly Node[]): number {
  return topoSort(roots).length;
}

/** Rebuild a DAG bottom-up, replacing nodes through `f` (which sees rebuilt arguments). */
export function mapDag(roots: readonly Node[], f: (n: Node, args: readonly Node[]) => Node): Node[] {
  const done = new Map<Node, Node>();
  for (const n of topoSort(roots)) {
    const args = n.args.map((a) => done.get(a)!);
    done.set(n, f(n, args));
  }
  return roots.map((r) => done.get(r)!);
}

/** The same node with new arguments (identity when nothing changed). */
export function withArgs(n: Node, args: readonly Node[]): Node {
  if (args.length === n.args.length && args.every((a, i) => a === n.args[i])) return n;
  return Node.make(n.op, args, n.attrs);
}
