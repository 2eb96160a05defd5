// Rewrite patterns are written in lossc itself: `log(sigmoid(x)) -> -softplus(-x)`. A pattern is
// parsed once into a small tree; identifiers are variables (the same name twice must match the
// same node, which hash-consing makes a pointer comparison), numbers match constants, and
// `axis = a` / `keepdims = k` in a reduction bind or set its attributes.

import type { Expr } from '../../grammar/ast.js';
import { parseExpression } from '../../grammar/load.js';
import * as b from '../ir/build.js';
import { Node } from '../ir/node.js';
import { INFIX_OPS, OPS, opCalled, PREFIX_OPS, type CompareOp, type OpName, type ReduceOp } from '../ir/ops.js';
import { RULE_PATTERNS } from './rule-patterns.generated.js';

export type Pat =
  | { k: 'var'; name: string }
  | { k: 'const'; value: number }
  | { k: 'op'; op: OpName; args: Pat[]; attrVars?: { axes?: string; keepdims?: string | boolean } };

export type Bindings = Map<string, unknown>;

let parsed: Map<string, Pat> | undefined;

/** The pattern of `text`: the rules' own come parsed at build time (scripts/gen-stdlib.mjs). */
export function compilePattern(text: string): Pat {
  parsed ??= new Map(JSON.parse(RULE_PATTERNS) as Array<[string, Pat]>);
  return parsed.get(text) ?? parsePattern(text);
}

/** The pattern of `text`, parsed now. */
export function parsePattern(text: string): Pat {
  return toPat(parseExpression(text, '<rewrite rule>'));
}

function toPat(e: Expr): Pat {
  switch (e.kind) {
    case 'number':
      return { k: 'const', value: Math.fround(e.value) };
    case 'name':
      return { k: 'var', name: e.name };
    case 'unary':
      if (e.op === '-' && e.operand.kind === 'number') return { k: 'const', value: Math.fround(-e.operand.value) };
      return { k: 'op', op: PREFIX_OPS[e.op], args: [toPat(e.operand)] };
    case 'binary':
      return { k: 'op', op: INFIX_OPS[e.op], args: [toPat(e.left), toPat(e.right)] };
    case 'call': {
      const args = e.args.map(toPat);
      const kw = new Map(e.kwargs.map((k) => [k.name, k.value]));
      const unary = opCalled(e.callee, 'unary');
      if (unary) return { k: 'op', op: unary, args };
      const elementwise = args.length === 2 ? opCalled(e.callee, 'binary') : undefined;
      if (elementwise) return { k: 'op', op: elementwise, args };
      const reduction = opCalled(e.callee, 'reduce');
      if (reduction) {
        const axis = kw.get('axis');
        const keep = kw.get('keepdims');
        // Only the attributes the pattern names: the patterns go through JSON (rule-patterns.generated.ts).
        const attrVars: NonNullable<Extract<Pat, { k: 'op' }>['attrVars']> = {};
        if (axis?.kind === 'name') attrVars.axes = axis.name;
        if (keep?.kind === 'name') attrVars.keepdims = keep.name;
        else if (keep?.kind === 'bool') attrVars.keepdims = keep.value;
        return { k: 'op', op: reduction, args, attrVars };
      }
      const select = opCalled(e.callee, 'select');
      if (select) return { k: 'op', op: select, args };
      if (e.callee === 'zeros_like') return { k: 'op', op: 'broadcast_like', args: [{ k: 'const', value: 0 }, args[0]!] };
      if (e.callee === 'broadcast_like') return { k: 'op', op: 'broadcast_like', args };
      if (e.callee === 'size') {
        const axis = kw.get('axis');
        return { k: 'op', op: 'size', args, attrVars: axis?.kind === 'name' ? { axes: axis.name } : {} };
      }
      throw new Error(`rewrite pattern: unsupported function ${e.callee}`);
    }
    default:
      throw new Error(`rewrite pattern: unsupported syntax ${e.kind}`);
  }
}

/** Match `n` against `p`, extending `m`; false when it does not match. */
export function match(p: Pat, n: Node, m: Bindings): boolean {
  if (p.k === 'var') {
    const prev = m.get(p.name);
    if (prev === undefined) {
      m.set(p.name, n);
      return true;
    }
    return prev === n;
  }
  if (p.k === 'const') return n.op === 'const' && n.attrs.value === p.value && n.dtype === 'float32';
  if (n.op !== p.op || n.args.length !== p.args.length) return false;
  if (p.attrVars) {
    const { axes, keepdims } = p.attrVars;
    if (axes !== undefined) {
      const prev = m.get(axes);
      const key = JSON.stringify(n.attrs.axes);
      if (prev !== undefined && JSON.stringify(prev) !== key) return false;
      m.set(axes, n.attrs.axes);
    }
    if (typeof keepdims === 'boolean' && n.attrs.keepdims !== keepdims) return false;
    if (typeof keepdims === 'string') {
      const prev = m.get(keepdims);
      if (prev !== undefined && prev !== n.attrs.keepdims) return false;
      m.set(keepdims, n.attrs.keepdims);
    }
  }
  for (let i = 0; i < p.args.length; i++) if (!match(p.args[i]!, n.args[i]!, m)) return false;
  return true;
}

/** Build the replacement for bindings `m`. */
export function instantiate(p: Pat, m: Bindings): Node {
  if (p.k === 'var') return m.get(p.name) as Node;
  if (p.k === 'const') return b.constant(p.value);
  const args = p.args.map((a) => instantiate(a, m));
  if (p.attrVars || p.op === 'size') {
    const axes = p.attrVars?.axes !== undefined ? (m.get(p.attrVars.axes) as number[]) : null;
    const kd = p.attrVars?.keepdims;
    const keepdims = typeof kd === 'boolean' ? kd : typeof kd === 'string' ? (m.get(kd) as boolean) : false;
    if (p.op === 'size') return b.size(args[0]!, axes);
    return b.reduce(p.op as ReduceOp, args[0]!, axes, keepdims);
  }
  if (p.op === 'broadcast_like') return Node.make('broadcast_like', args);
  if (p.op === 'where') return b.where(args[0]!, args[1]!, args[2]!);
  if (p.op === 'clip') return b.clip(args[0]!, args[1]!, args[2]!);
  const family = OPS[p.op].family;
  if (p.op === 'not' || family === 'logic') return Node.make(p.op, args);
  if (family === 'compare') return b.compare(p.op as CompareOp, args[0]!, args[1]!);
  if (args.length === 1) return b.unary(p.op, args[0]!);
  return b.binary(p.op, args[0]!, args[1]!);
}

/** The root op of a pattern (for indexing rules), or undefined for a bare variable. */
export function rootOp(p: Pat): OpName | undefined {
  return p.k === 'op' ? p.op : p.k === 'const' ? 'const' : undefined;
}
