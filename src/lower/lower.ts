// Lowering: syntax tree → IR. Resolves names, inlines `def`s and called losses, substitutes
// options (as symbolic params for printing, or as constants for compiling), and folds the
// compile-time `if`s. Every error is pinned to the source span that caused it.
//
// An expression is lowered in one of two contexts: as a tensor (an IR node) or as a static
// compile-time value (axis numbers, booleans for `if`, option values). Lets and options are
// lazy bindings that can produce either on demand.

import type { Binary, BinaryOp, Call, Definition, Expr, Span, Unary } from '../../grammar/ast.js';
import { LosscError, LosscErrors, didYouMean } from '../errors.js';
import * as b from '../ir/build.js';
import { Node } from '../ir/node.js';
import { Origins } from '../ir/origin.js';
import { NameHints } from '../ir/names.js';
import type { Shape } from '../ir/shape.js';
import { BUILTINS, CONSTANTS, showStatic, type Arg, type Builtin, type SizeOf, type Static } from './builtins.js';
import { bindCall, builtinCallee, definitionCallee } from './bind.js';
import { Library } from './library.js';
import { deepEnough, lowerOperators } from './operators.js';
import { displaySignature, paramDtype, type TensorType } from './signature.js';
import {
  activeOriginsNow, at, binaryNode, Env, folded, givenOption, inStdlib, isNumberList, once, resolveOptions, setActiveOrigins, staticBinary, staticToTensor, staticUnary, tensorBinding, tryKey,
  type BinaryNodeOp, type Binding,
} from './values.js';

export interface LowerOptions {
  /** Option values given by the user (snake_case names); the rest take their defaults. */
  options?: Record<string, Static>;
  /** Keep numeric options as named params (for printing) instead of constants (for compiling). */
  symbolic?: boolean;
  /** Shapes of the tensor parameters; default: from the annotations (see signature.ts). */
  signature?: Record<string, TensorType>;
}

export interface Lowered {
  def: Definition;
  /** One input node per tensor parameter, in order. */
  inputs: Node[];
  value: Node;
  /** For losses that exclude some entries from the mean (Keras's output mask). */
  mask?: Node;
  /** Every option's value, defaults filled in. */
  options: Record<string, Static>;
  /** The source span each node came from, for errors raised later from the IR. */
  origins?: Origins;
  /** The `let` names this lowering gave nodes, for the printers (`names.ts`). */
  hints: NameHints;
}

/** Inlining deeper than this is refused: it is a runaway, not a loss. */
const MAX_CALL_DEPTH = 64;

export class Lowerer {
  private depth = 0;
  private readonly stack: string[] = [];
  private readonly memo = new Map<string, Node>();
  private readonly hints = new NameHints();

  constructor(
    private readonly lib: Library,
    private readonly symbolic: boolean,
  ) {}

  /** Lower a `loss`, `regularizer` or `def` with tensors of the given shapes. */
  lowerTop(def: Definition, given: Record<string, Static>, signature: Record<string, TensorType>): Lowered {
    const options = this.resolveOptions(def, given, undefined);
    const env = new Env();
    const inputs: Node[] = [];
    for (const p of def.params) {
      const t = signature[p.name] ?? { shape: ['N', 'D'] as Shape, dtype: paramDtype(p.type) };
      const node = b.input(p.name, t.shape, t.dtype);
      inputs.push(node);
      env.set(p.name, tensorBinding(node, `the tensor \`${p.name}\``, p.span));
    }
    for (const o of def.options) {
      const value = options[o.name]!;
      // An option the user fixed is a constant; the others stay symbolic when printing.
      const symbolic = this.symbolic && !(o.name in given) && (typeof value === 'number' || isNumberList(value));
      env.set(o.name, {
        span: o.span,
        what: `the option \`${o.name}\``,
        static: () => value,
        tensor: once(() => (symbolic ? b.param(o.name, value as number | number[]) : staticToTensor(value, o.span))),
      });
    }
    this.stack.push(def.name);
    const outer = setActiveOrigins(new Origins());
    try {
      const { value, mask } = this.lowerBody(def, env, true);
      // A loss or a penalty is a number per sample: a comparison or an int there is a slip.
      if (def.kind !== 'def' && value.dtype !== 'float32') {
        throw new LosscError('type', `a ${def.kind} must give float values, but \`${def.name}\` gives ${value.dtype} (convert with float(...))`, def.body.result.span);
      }
      return { def, inputs, value, mask, options, origins: activeOriginsNow(), hints: this.hints };
    } finally {
      setActiveOrigins(outer);
      this.stack.pop();
    }
  }

  /** Option values: defaults, overridden by `given`, each type-checked. */
  resolveOptions(def: Definition, given: Record<string, Static>, span: Span | undefined): Record<string, Static> {
    return resolveOptions(def, given, span, (e) => this.lowerStatic(e, new Env()));
  }


  private lowerBody(def: Definition, env: Env, top: boolean): { value: Node; mask?: Node } {
    let scope = new Env(env);
    const bindings: Binding[] = [];
    for (const l of def.body.lets) {
      // A let sees the names bound before it, not itself or later ones (`let x = x * 2` reads the
      // outer x; a let that saw itself would recurse forever).
      const inner = scope;
      scope = new Env(inner);
      const bind = (name: string, bnd: Binding) => {
        scope.set(name, bnd);
        bindings.push(bnd);
      };
      if (l.destructure) {
        const parts = once(() => this.lowerTensors(l.value, inner, l.names.length));
        l.names.forEach((name, i) => {
          bind(name, {
            span: l.span,
            what: `\`${name}\``,
            tensor: () => {
              const n = parts()[i]!;
              if (n.op !== 'input' && n.op !== 'param' && name !== '_') this.hints.set(n, name);
              return n;
            },
            static: () => {
              throw new LosscError('type', `\`${name}\` is a tensor, not a compile-time constant`);
            },
          });
        });
      } else {
        const name = l.names[0]!;
        const value = l.value;
        const tensor = once(() => {
          const n = this.lowerTensor(value, inner);
          if (n.args.length > 0) this.hints.set(n, name);
          return n;
        });
        bind(name, { span: l.span, what: `\`${name}\``, tensor, static: once(() => this.lowerStatic(value, inner)) });
      }
    }
    // Lets are lazy, but an unused let must still be checked: lower each one now.
    for (const bnd of bindings) {
      try {
        bnd.tensor();
      } catch (e) {
        try {
          bnd.static();
        } catch {
          throw e;
        }
      }
    }
    return this.lowerResult(def.body.result, scope, top);
  }

  /** The result of a body: an expression, a compile-time `if`, or a call giving a loss's mask (`masked`). */
  private lowerResult(e: Expr, env: Env, top: boolean): { value: Node; mask?: Node } {
    if (e.kind === 'if') return this.lowerResult(this.pickBranch(e, env), env, top);
    const called = e.kind === 'call' ? this.callee(e) : undefined;
    if (e.kind === 'call' && called && 'builtin' in called && called.builtin.mask !== undefined) {
      const { out, args } = this.callBuiltin(called.builtin, e, env);
      return { value: out as Node, mask: top ? (args[called.builtin.mask] as Node) : undefined };
    }
    return { value: this.lowerTensor(e, env) };
  }

  /** The branch an `if` takes, following `else if` chains of any length in a loop. */
  private pickBranch(first: Extract<Expr, { kind: 'if' }>, env: Env): Expr {
    let e: Expr = first;
    while (e.kind === 'if') {
      const c = this.lowerStatic(e.cond, env);
      if (typeof c !== 'boolean') {
        throw new LosscError('type', `the condition of \`if\` must be a compile-time boolean (e.g. an option), got ${showStatic(c)}; for an elementwise choice use where(cond, a, b)`, e.cond.span);
      }
      e = c ? e.then : e.else;
    }
    return e;
  }

  // ---- tensor context -------------------------------------------------------------------------

  lowerTensor(e: Expr, env: Env): Node {
    return deepEnough(this.lowerTensorKind(e, env), e.span);
  }

  private lowerTensorKind(e: Expr, env: Env): Node {
    switch (e.kind) {
      case 'number':
        return b.constant(e.value);
      case 'bool':
        return b.constant(e.value ? 1 : 0, 'bool');
      case 'string':
        throw new LosscError('type', `the string ${JSON.stringify(e.value)} cannot be used as a tensor`, e.span);
      case 'none':
        throw new LosscError('type', '`none` cannot be used as a tensor', e.span);
      case 'list':
        return staticToTensor(this.lowerStatic(e, env), e.span);
      case 'name':
        return this.lookup(e.name, e.span, env).tensor();
      case 'unary':
      case 'binary':
        return this.tensorOperators(e, env);
      case 'if':
        return this.lowerTensor(this.pickBranch(e, env), env);
      case 'call':
        return folded(this.lowerCall(e, env, 1)[0]!);
    }
  }

  /** Operators (iteratively: see operators.ts); runs of + - and * / become balanced trees when long. */
  private tensorOperators(e: Unary | Binary, env: Env): Node {
    const join = (op: BinaryOp, l: Node, r: Node, span: Span) => deepEnough(folded(at(span, () => binaryNode(op as BinaryNodeOp, l, r))), span);
    return lowerOperators<Node>(e, {
      leaf: (x) => this.lowerTensor(x, env),
      unary: (u, x) => {
        if (u.op === 'not') return deepEnough(folded(at(u.span, () => Node.make('not', [x.dtype === 'bool' ? x : b.cast(x, 'bool')]))), u.span);
        // `-inf` written together is the constant -inf (as `-3` is the literal -3, and as the
        // printer writes it); `-(inf)` stays the negation of inf.
        if (x.op === 'const' && x.attrs.value === Infinity && u.operand.kind === 'name' && u.operand.span.offset === u.span.offset + 1) {
          return b.constant(-Infinity);
        }
        return deepEnough(folded(at(u.span, () => b.neg(x))), u.span);
      },
      binary: join,
      run: (items, ops, spans) => {
        const inverted = [false, ...ops.map((op) => op === '-' || op === '/')];
        const [plain, inverse] = ops[0] === '+' || ops[0] === '-' ? (['+', '-'] as const) : ops[0] === '*' || ops[0] === '/' ? (['*', '/'] as const) : [ops[0]!, ops[0]!];
        return b.chain(items, inverted, (l, r, inv, i) => join(inv ? inverse : plain, l, r, spans[i - 1]!));
      },
    });
  }

  /** An expression that yields several tensors (`split`), for destructuring lets. */
  private lowerTensors(e: Expr, env: Env, want: number): Node[] {
    let nodes: Node[];
    if (e.kind === 'call') nodes = this.lowerCall(e, env, want);
    else if (e.kind === 'list') nodes = e.items.map((x) => this.lowerTensor(x, env));
    else if (e.kind === 'if') return this.lowerTensors(this.pickBranch(e, env), env, want);
    else throw new LosscError('type', 'only a list or a call such as split(...) can be destructured', e.span);
    if (nodes.length !== want) {
      throw new LosscError('arity', `this gives ${nodes.length} value(s) but ${want} name(s) are bound`, e.span);
    }
    return nodes;
  }

  private lookup(name: string, span: Span, env: Env): Binding {
    const found = env.get(name);
    if (found) return found;
    if (Object.hasOwn(CONSTANTS, name)) {
      const v = CONSTANTS[name]!;
      return { what: `the constant \`${name}\``, tensor: () => b.constant(v), static: () => v };
    }
    const isFn = this.lib.get(name) || Object.hasOwn(BUILTINS, name);
    if (isFn) throw new LosscError('name', `\`${name}\` is a function; call it as ${name}(...)`, span);
    const pool = [...env.names(), ...Object.keys(CONSTANTS)];
    throw new LosscError('name', `unknown name \`${name}\`${didYouMean(name, pool)}`, span);
  }

  // ---- calls ----------------------------------------------------------------------------------

  /** Lower a call; `want` > 1 asks for a list result (split). */
  private lowerCall(c: Call, env: Env, want: number): Node[] {
    const called = this.callee(c);
    if (called && 'def' in called) return [this.inlineDefinition(called.def, c, env)];
    if (!called) {
      const pool = [...this.lib.names(), ...Object.keys(BUILTINS)];
      throw new LosscError('name', `unknown function \`${c.callee}\`${didYouMean(c.callee, pool)}`, c.span);
    }
    const { out } = this.callBuiltin(called.builtin, c, env);
    if (Array.isArray(out)) {
      if (want === 1) throw new LosscError('type', `\`${c.callee}\` gives several tensors: destructure it with let [a, b, ...] = ${c.callee}(...)`, c.span);
      return out;
    }
    return [out];
  }

  /** What a call calls: a definition the call's place sees, else a builtin (undefined: neither). */
  private callee(c: Call): { def: Definition } | { builtin: Builtin } | undefined {
    const entry = this.libraryAt(c.span).get(c.callee);
    const builtin = Object.hasOwn(BUILTINS, c.callee) ? BUILTINS[c.callee] : undefined;
    // A definition named after a builtin wraps it: inside its own body (where calling itself would
    // be recursion, which is not allowed) the name means the builtin, as in the stdlib's
    // `loss ctc(y_true, y_pred) = ctc(y_true, y_pred)`.
    if (entry && !(builtin && this.stack.includes(c.callee))) return { def: entry.def };
    return builtin ? { builtin } : undefined;
  }

  /**
   * The definitions a call sees: a stdlib definition calls the stdlib's own helpers, so that a
   * program defining its own `relu` or `square` does not change how `hinge` is computed.
   */
  private libraryAt(span: Span): Library {
    return inStdlib(span) ? Library.stdlib() : this.lib;
  }

  /** A builtin's call: its arguments bound and lowered, then built (errors without a place get the call's). */
  private callBuiltin(fn: Builtin, c: Call, env: Env): { out: Node | Node[]; args: Record<string, Arg> } {
    const exprs = bindCall(builtinCallee(c.callee, fn), c);
    const args = this.lowerArgs(fn, c.callee, exprs, env);
    const ctx = { span: (name: string) => exprs.get(name)?.span, definition: this.stack[0] ?? '?' };
    return { out: at(c.span, () => fn.build(args, ctx)), args };
  }

  /** Each parameter's argument lowered as its kind says (or its default). */
  private lowerArgs(fn: Builtin, name: string, exprs: Map<string, Expr>, env: Env): Record<string, Arg> {
    const args: Record<string, Arg> = {};
    for (const p of fn.params) {
      const e = exprs.get(p.name);
      if (!e) args[p.name] = p.default as Static;
      else if (p.kind === 'tensor') args[p.name] = p.dtype ? b.cast(this.lowerTensor(e, env), p.dtype) : this.lowerTensor(e, env);
      else if (p.kind === 'deferred') args[p.name] = () => this.lowerTensor(e, env);
      else if (p.kind === 'tensors') {
        if (e.kind !== 'list') throw new LosscError('type', `\`${p.name}\` of \`${name}\` must be a list [a, b, ...]`, e.span);
        args[p.name] = e.items.map((x) => this.lowerTensor(x, env));
      } else {
        // A compile-time value; a count may instead be size(x, axis = k).
        args[p.name] = (p.kind === 'count' ? this.sizeOf(e, env) : undefined) ?? this.staticArg(e, env, p.what ?? `\`${p.name}\` of \`${name}\``);
      }
    }
    return args;
  }

  /** A call of the builtin `size`, as its tensor and axis: its arguments checked as at any call of it, not evaluated. */
  private sizeOf(e: Expr, env: Env): SizeOf | undefined {
    const called = e.kind === 'call' ? this.callee(e) : undefined;
    if (e.kind !== 'call' || !called || !('builtin' in called) || called.builtin !== BUILTINS.size) return undefined;
    const a = this.lowerArgs(called.builtin, e.callee, bindCall(builtinCallee(e.callee, called.builtin), e), env);
    return { sizeOf: a.x as Node, axis: a.axis as Static };
  }

  private staticArg(e: Expr, env: Env, what: string): Static {
    try {
      return this.lowerStatic(e, env);
    } catch (err) {
      if (err instanceof LosscError && err.kind === 'type') {
        throw new LosscError('type', `${what} must be a compile-time constant: ${err.detail}`, e.span);
      }
      throw err;
    }
  }

  /** Inline a `def` or a called `loss`/`regularizer`: bind its parameters and options, lower its body. */
  private inlineDefinition(def: Definition, c: Call, env: Env): Node {
    if (this.stack.includes(def.name)) {
      const cycle = [...this.stack.slice(this.stack.indexOf(def.name)), def.name];
      throw new LosscError('recursion', `\`${def.name}\` calls itself (${cycle.join(' → ')}); definitions are inlined, so recursion is not allowed`, c.span);
    }
    if (this.depth >= MAX_CALL_DEPTH) {
      throw new LosscError('limit', `calls nest more than ${MAX_CALL_DEPTH} deep`, c.span);
    }
    const exprs = bindCall(definitionCallee(def), c);
    const args = def.params.map((p) => {
      let n = this.lowerTensor(exprs.get(p.name)!, env);
      const want = paramDtype(p.type);
      if (n.dtype !== want) n = b.cast(n, want);
      return n;
    });
    // Each option given at the call, as both a static value and a tensor, computed on demand.
    const given = new Map<string, { static: () => Static; tensor: () => Node; span: Span }>();
    const keyParts: string[] = [];
    // In the order they are given: each is lowered here once, for the memo's key.
    for (const { name } of c.kwargs.filter((k) => !def.params.some((p) => p.name === k.name))) {
      const e = exprs.get(name)!;
      const st = once(() => this.lowerStatic(e, env));
      const te = once(() => this.lowerTensor(e, env));
      given.set(name, { static: st, tensor: te, span: e.span });
      keyParts.push(`${name}=${tryKey(st)}|${tryKey(() => te().id)}`);
    }
    const key = `${def.name}(${args.map((a) => a.id).join(',')};${keyParts.join(',')})`;
    const hit = this.memo.get(key);
    if (hit) return hit;

    const inner = new Env();
    def.params.forEach((p, i) => inner.set(p.name, tensorBinding(args[i]!, `the tensor \`${p.name}\``, p.span)));
    for (const o of def.options) {
      const g = given.get(o.name);
      if (g) {
        inner.set(o.name, givenOption(def.name, o, g, () => this.lowerStatic(o.default, new Env())));
      } else {
        const value = once(() => this.lowerStatic(o.default, new Env()));
        inner.set(o.name, { span: o.span, what: `the option \`${o.name}\``, static: value, tensor: once(() => staticToTensor(value(), o.span)) });
      }
    }
    this.stack.push(def.name);
    this.depth++;
    try {
      const { value } = this.lowerBody(def, inner, false);
      this.memo.set(key, value);
      return value;
    } catch (e) {
      // An error inside a stdlib definition, caused by what the user passed to it, is shown at
      // the user's call (the stdlib is not theirs to change), naming where inside it arose.
      if (e instanceof LosscError && !(e instanceof LosscErrors) && e.span && inStdlib(e.span) && !inStdlib(c.span)) {
        throw new LosscError(e.kind, `${e.detail} (in \`${def.name}\`, ${e.span.file}:${e.span.line}:${e.span.column})`, c.span);
      }
      throw e;
    } finally {
      this.stack.pop();
      this.depth--;
    }
  }

  // ---- static context -------------------------------------------------------------------------

  lowerStatic(e: Expr, env: Env): Static {
    switch (e.kind) {
      case 'number':
        return e.value;
      case 'bool':
        return e.value;
      case 'string':
        return e.value;
      case 'none':
        return null;
      case 'list':
        return e.items.map((x) => this.lowerStatic(x, env));
      case 'name':
        return at(e.span, () => this.lookup(e.name, e.span, env).static());
      case 'unary':
      case 'binary':
        return lowerOperators<Static>(e, {
          leaf: (x) => this.lowerStatic(x, env),
          unary: staticUnary,
          binary: (op, l, r, span) => at(span, () => staticBinary(op, l, r)),
        });
      case 'if':
        return this.lowerStatic(this.pickBranch(e, env), env);
      case 'call':
        throw new LosscError('type', `\`${e.callee}(...)\` is computed from tensors, but a compile-time constant is needed here`, e.span);
    }
  }
}

/** Lower a definition of a library by name. */
export function lowerDefinition(lib: Library, name: string, opts: LowerOptions = {}): Lowered {
  const entry = lib.require(name);
  const def = entry.def;
  const signature = opts.signature ?? displaySignature(def);
  return new Lowerer(lib, opts.symbolic ?? false).lowerTop(def, opts.options ?? {}, signature);
}

/** Evaluate a compile-time expression (an option value, a default) with no names in scope but constants. */
export function evalStatic(lib: Library, e: Expr): Static {
  return new Lowerer(lib, false).lowerStatic(e, new Env());
}
