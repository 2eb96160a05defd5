// Lowering's bindings and compile-time values: the environment of names (Env, Binding), binding a
// call's arguments and options to a definition's parameters, static values turned into tensors,
// and the operators on compile-time values. lower.ts walks the syntax tree with these.

import type { Definition, Expr, Span, Unary } from '../../grammar/ast.js';
import { LosscError, didYouMean } from '../errors.js';
import * as b from '../ir/build.js';
import { Node } from '../ir/node.js';
import { INFIX_OPS, OPS, type CompareOp, type InfixOperator } from '../ir/ops.js';
import type { Origins } from '../ir/origin.js';
import { foldConstant } from '../rewrite/fold.js';
import { showStatic, type Static } from './builtins.js';

export interface Binding {
  span?: Span;
  what: string;
  tensor(): Node;
  static(): Static;
  tensors?(): Node[];
}

export class Env {
  private readonly vars = new Map<string, Binding>();
  constructor(private readonly parent?: Env) {}
  get(name: string): Binding | undefined {
    return this.vars.get(name) ?? this.parent?.get(name);
  }
  set(name: string, b: Binding): void {
    this.vars.set(name, b);
  }
  names(): string[] {
    return [...this.vars.keys(), ...(this.parent?.names() ?? [])];
  }
}

/** Where the nodes of the definition being lowered came from (see ir/origin.ts). */
let activeOrigins: Origins | undefined;

/** Makes `o` the table `at` notes origins in; returns the one it replaces. */
export function setActiveOrigins(o: Origins | undefined): Origins | undefined {
  const outer = activeOrigins;
  activeOrigins = o;
  return outer;
}

export const activeOriginsNow = (): Origins | undefined => activeOrigins;

/** Attach a span to an error raised without one (shape and type errors come from the IR). */
export function at<T>(span: Span | undefined, f: () => T): T {
  try {
    const out = f();
    // Later stages (the derivative, rewrites) raise errors at the nodes' origins.
    if (span && activeOrigins) {
      const o = activeOrigins;
      if (out instanceof Node) o.note(out, span);
      else if (Array.isArray(out)) for (const n of out) if (n instanceof Node) o.note(n, span);
    }
    return out;
  } catch (e) {
    if (e instanceof LosscError && !e.span && span) throw new LosscError(e.kind, e.detail, span);
    throw e;
  }
}

export function once<T>(f: () => T): () => T {
  let done = false;
  let v: T;
  return () => {
    if (!done) {
      v = f();
      done = true;
    }
    return v;
  };
}

function staticType(v: Static): string {
  if (v === null) return 'none';
  if (Array.isArray(v)) return 'list';
  return typeof v;
}

/** Does `given` fit an option whose default is `def`? Numbers accept lists (per-class values). */
function optionAccepts(def: Static, given: Static): boolean {
  if (def === null) return true;
  if (typeof def === 'number') return typeof given === 'number' || given === null || isNumberList(given);
  if (Array.isArray(def)) return isNumberList(given) || typeof given === 'number' || given === null;
  return typeof def === typeof given;
}

export function isNumberList(v: Static): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}

/** Static value → tensor: numbers become constants, number lists become literal tensors. */
export function staticToTensor(v: Static, span?: Span): Node {
  if (typeof v === 'number') return b.constant(v);
  if (typeof v === 'boolean') return b.constant(v ? 1 : 0, 'bool');
  if (Array.isArray(v)) {
    const shape: number[] = [];
    let level: Static = v;
    while (Array.isArray(level)) {
      shape.push(level.length);
      level = level[0] as Static;
    }
    const flat: number[] = [];
    const walk = (x: Static, depth: number): void => {
      if (depth === shape.length) {
        if (typeof x !== 'number') throw new LosscError('type', `a tensor literal holds numbers only, found ${showStatic(x)}`, span);
        flat.push(x);
        return;
      }
      if (!Array.isArray(x) || x.length !== shape[depth]) throw new LosscError('shape', 'a tensor literal must be rectangular', span);
      for (const y of x) walk(y, depth + 1);
    };
    walk(v, 0);
    return b.tensorConst(flat, shape);
  }
  throw new LosscError('type', `${v === null ? '`none`' : 'a string'} cannot be used as a tensor`, span);
}

/** Is this place in a stdlib file (parsed under the name `stdlib/<file>`)? */
export function inStdlib(span: Span): boolean {
  return span.file.startsWith('stdlib/');
}

export function tryKey(f: () => unknown): string {
  try {
    return JSON.stringify(f());
  } catch {
    return '?';
  }
}

export function tensorBinding(node: Node, what: string, span?: Span): Binding {
  return {
    span,
    what,
    tensor: () => node,
    static: () => {
      // No span here: the error points at the use (attached by lowerStatic), not the declaration.
      throw new LosscError('type', `${what} is a tensor, not a compile-time constant`);
    },
  };
}

export type BinaryNodeOp = InfixOperator;

/** `l op r` for an infix operator: the op OPS says it writes (src/ir/ops.ts, `infix`). */
export function binaryNode(operator: BinaryNodeOp, l: Node, r: Node): Node {
  const op = INFIX_OPS[operator];
  const family = OPS[op].family;
  if (family === 'compare') return b.compare(op as CompareOp, l, r);
  if (family === 'logic') {
    const toBool = (x: Node) => (x.dtype === 'bool' ? x : b.cast(x, 'bool'));
    return Node.make(op, [toBool(l), toBool(r)]);
  }
  return b.binary(op, l, r);
}

export function staticBinary(op: string, l: Static, r: Static): Static {
  if (op === 'and' || op === 'or') {
    if (typeof l !== 'boolean' || typeof r !== 'boolean') throw new LosscError('type', `\`${op}\` needs booleans, got ${showStatic(l)} and ${showStatic(r)}`);
    return op === 'and' ? l && r : l || r;
  }
  if (op === '==' || op === '!=') {
    const eq = JSON.stringify(l) === JSON.stringify(r);
    return op === '==' ? eq : !eq;
  }
  if (typeof l !== 'number' || typeof r !== 'number') {
    throw new LosscError('type', `\`${op}\` on compile-time values needs numbers, got ${showStatic(l)} and ${showStatic(r)}`);
  }
  switch (op) {
    case '+': return l + r;
    case '-': return l - r;
    case '*': return l * r;
    case '/': return l / r;
    case '^': return Math.pow(l, r);
    case '<': return l < r;
    case '<=': return l <= r;
    case '>': return l > r;
    case '>=': return l >= r;
  }
  throw new LosscError('type', `unknown operator ${op}`);
}

/** An option given at a call, as both a static value and a tensor, each computed on demand. */
export interface GivenOption {
  static: () => Static;
  tensor: () => Node;
  span: Span;
}

/** The binding of option `o` of definition `defName` given at a call: its static value checked against the default's type. */
export function givenOption(defName: string, o: Definition['options'][number], g: GivenOption, lowerDefault: () => Static): Binding {
  let dflt: Static | undefined;
  const checked = () => {
    const v = g.static();
    dflt ??= lowerDefault();
    if (!optionAccepts(dflt, v)) {
      throw new LosscError('option', `option \`${o.name}\` of \`${defName}\` takes a ${staticType(dflt)}, got ${showStatic(v)}`, g.span);
    }
    return v;
  };
  return {
    span: g.span,
    what: `the option \`${o.name}\``,
    static: checked,
    tensor: () => {
      // Used as a tensor, a compile-time value is still checked (`delta = true` is no number);
      // a value computed from tensors has no static type to check.
      try {
        checked();
      } catch (e) {
        if (!(e instanceof LosscError) || e.kind === 'option') throw e;
      }
      return g.tensor();
    },
  };
}

/** The options of a top-level definition: the given ones checked against their defaults' types, the rest defaulted. */
export function resolveOptions(def: Definition, given: Record<string, Static>, span: Span | undefined, lowerDefault: (e: Expr) => Static): Record<string, Static> {
  const out: Record<string, Static> = {};
  const declared = new Map(def.options.map((o) => [o.name, o]));
  for (const name of Object.keys(given)) {
    if (!declared.has(name)) {
      const known = def.options.map((o) => o.name);
      throw new LosscError(
        'option',
        `\`${def.name}\` has no option \`${name}\`${didYouMean(name, known)}` +
          (known.length ? ` (its options: ${known.join(', ')})` : ' (it takes no options)'),
        span,
      );
    }
  }
  for (const o of def.options) {
    const dflt = lowerDefault(o.default);
    const v = o.name in given ? given[o.name]! : dflt;
    if (o.name in given && !optionAccepts(dflt, v)) {
      throw new LosscError(
        'option',
        `option \`${o.name}\` of \`${def.name}\` takes a ${staticType(dflt)}${typeof dflt === 'number' ? ' (or a list of numbers)' : ''}, got ${showStatic(v)}`,
        span,
      );
    }
    out[o.name] = v;
  }
  return out;
}

/** A unary operator on a compile-time value. */
export function staticUnary(u: Unary, v: Static): Static {
  if (u.op === '-') {
    if (typeof v === 'number') return -v;
    if (isNumberList(v)) return v.map((x) => -x);
  } else if (typeof v === 'boolean') return !v;
  throw new LosscError('type', `cannot apply \`${u.op}\` to ${showStatic(v)}`, u.span);
}

/** Arithmetic on constants is done now (1 - epsilon is a constant that prints as written). */
export function folded(n: Node): Node {
  return foldConstant(n) ?? n;
}
