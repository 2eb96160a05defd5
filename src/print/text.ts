// IR → lossc source text. What is printed parses back (grammar/, src/lower/) to the same IR:
// the op → syntax mapping below is the contract with the lowering stage, and the printer never
// rewrites (a + -b stays `a + -b`). Shared sub-expressions become `let`s named after the user's
// own names where possible (src/ir/names.ts), and parentheses are the fewest the grammar needs.
//
// Nothing here recurses on the depth of the IR: the DAG is walked with topoSort (iterative) and
// each expression is expanded with an explicit stack, so a chain of 100 000 nodes prints fine.
// Expressions are additionally cut by a `let` every `maxDepth` levels so that what is printed
// stays shallow for every later reader (a recursive parser or lowering, a person).
//
// The planning (which nodes get lets, and their names: lets.ts) and the expansion engine are
// shared with the LaTeX printer (latex.ts), which only supplies a different rendering of each op.

import { LosscError } from '../errors.js';
import { topoSort, type Node } from '../ir/node.js';
import { shownOf } from '../ir/build.js';
import { OPS, PREC, reduceAxes, type OpName, type OpSpec } from '../ir/ops.js';
import type { DType } from '../ir/shape.js';
import { normAxis, planLets, trivialText, type PrintOptions, type SplitLet } from './lets.js';

// Precedence, lowest to highest, is the language's (src/ir/ops.ts).
export { PREC };

/** A hole in a rendering: print `node` here, in parentheses if it binds looser than `min`. */
export interface Ref {
  node: Node;
  min: number;
  /** Also parenthesise a unary minus (LaTeX: `a \cdot \left(-b\right)`). */
  noUnary?: boolean;
}
export type Piece = string | Ref;

/** One op rendered one level deep: its own text with holes for its arguments. */
export interface Rendered {
  prec: number;
  pieces: Piece[];
}

export interface Renderer {
  render(n: Node): Rendered;
  /** How a let-bound name is written. */
  name(name: string): string;
  open: string;
  close: string;
  /** Nodes printed as one of their arguments (LaTeX hides layout ops). */
  skip?(n: Node): Node | undefined;
}

export const ref = (node: Node, min: number, noUnary = false): Ref => (noUnary ? { node, min, noUnary } : { node, min });

/**
 * Expand `root` into text, iteratively. Nodes in `bound` print as their names, except `self`
 * (the node whose own `let` is being printed).
 */
export function expand(root: Node, min: number, bound: ReadonlyMap<Node, string>, r: Renderer, self?: Node): string {
  const out: string[] = [];
  const stack: Piece[] = [ref(root, min)];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    let node = item.node;
    let name: string | undefined;
    for (;;) {
      name = node === self ? undefined : bound.get(node);
      if (name !== undefined || !r.skip) break;
      const inner = r.skip(node);
      if (inner === undefined) break;
      node = inner;
    }
    if (name !== undefined) {
      out.push(r.name(name));
      continue;
    }
    const rendered = r.render(node);
    const wrap = rendered.prec < item.min || (item.noUnary === true && rendered.prec === PREC.neg);
    if (wrap) stack.push(r.close);
    for (let i = rendered.pieces.length - 1; i >= 0; i--) stack.push(rendered.pieces[i]!);
    if (wrap) stack.push(r.open);
  }
  return out.join('');
}

// ---------------------------------------------------------------------------------------------
// Numbers.

/** The float32 value of `epsilon` (1e-7, Keras's fuzz factor). */
export const EPSILON32 = Math.fround(1e-7);
/** The float32 value of `pi`. */
export const PI32 = Math.fround(Math.PI);

/** Shortest decimal digits that round-trip through float32: `digits` × 10^(exp - digits.length + 1). */
export function shortestDigits(v: number): { digits: string; exp: number } {
  const target = Math.fround(v);
  let s = v.toExponential(16);
  for (let p = 1; p <= 17; p++) {
    const t = v.toExponential(p - 1);
    if (Math.fround(Number(t)) === target) {
      s = t;
      break;
    }
  }
  const [mant, e] = s.split('e') as [string, string];
  const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
  return { digits, exp: Number(e) };
}

/**
 * A non-negative finite number as the shortest decimal that round-trips through float32:
 * `0.1`, `2`, `0.25`, `1e-7`, `1e30` (exponent form only when it is strictly shorter).
 */
export function formatNumber(v: number): string {
  if (v === 0) return '0';
  if (Number.isInteger(v) && Math.abs(v) < 1e21 && Math.fround(v) !== v) return String(v);
  const { digits, exp } = shortestDigits(v);
  const n = digits.length;
  let plain: string;
  if (exp >= n - 1) plain = digits + '0'.repeat(exp - n + 1);
  else if (exp < 0) plain = '0.' + '0'.repeat(-exp - 1) + digits;
  else plain = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  const sci = (n > 1 ? `${digits[0]}.${digits.slice(1)}` : digits) + `e${exp}`;
  return sci.length < plain.length ? sci : plain;
}

/**
 * A float constant as lossc text: `0.5`, `-3`, `epsilon`, `pi`, `inf`, `-inf`.
 * A minus written against a number literal is part of the literal (`-3` is the constant -3, the
 * parser folds it), but `-epsilon` is the negation of the constant epsilon: so the constant
 * -1e-7 prints as the literal `-1e-7`, and `-epsilon` is left to neg(epsilon).
 */
export function floatText(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (Object.is(v, -0)) return '-0';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === EPSILON32) return 'epsilon';
  if (v === PI32) return 'pi';
  return (v < 0 ? '-' : '') + formatNumber(Math.abs(v));
}

function intText(v: number): string {
  return Object.is(v, -0) ? '0' : String(v);
}

// ---------------------------------------------------------------------------------------------
// The lossc rendering of every op.

const atom = (...pieces: Piece[]): Rendered => ({ prec: PREC.atom, pieces });

function call(name: string, args: readonly Node[], kwargs: Array<[string, string]> = []): Rendered {
  const pieces: Piece[] = [`${name}(`];
  args.forEach((a, i) => {
    if (i > 0) pieces.push(', ');
    pieces.push(ref(a, PREC.lowest));
  });
  for (const [k, v] of kwargs) pieces.push(`${pieces.length > 1 ? ', ' : ''}${k} = ${v}`);
  pieces.push(')');
  return atom(...pieces);
}

/** An axis as printed: the last axis is `-1`, any other its index. */
export function axisText(axis: number, rank: number): string {
  const a = normAxis(axis, rank);
  return a === rank - 1 ? '-1' : String(a);
}

/** The `axis = ...` of a reduction, or undefined when it reduces every axis. */
export function axesText(axes: readonly number[], rank: number): string | undefined {
  if (axes.length === rank && axes.every((a, i) => a === i)) return undefined;
  if (axes.length === 1) return axisText(axes[0]!, rank);
  return `[${axes.join(', ')}]`;
}

const CAST_NAME: Record<DType, string> = { float32: 'float', int32: 'int', bool: 'bool' };


/** A tensor literal as nested lists, `[[1, 2], [3, 4]]`. */
export function tensorText(values: readonly number[], shape: readonly unknown[], num: (v: number) => string = floatText): string {
  if (!shape.every((d) => typeof d === 'number')) return `[${values.map(num).join(', ')}]`;
  const dims = shape as number[];
  if (dims.length === 0) return num(values[0] ?? 0);
  let level = values.map(num);
  for (let i = dims.length - 1; i >= 0; i--) {
    const d = dims[i]!;
    const next: string[] = [];
    for (let j = 0; j < level.length; j += d) next.push(`[${level.slice(j, j + d).join(', ')}]`);
    if (d === 0) next.push('[]');
    level = next;
  }
  return level[0] ?? '[]';
}

function constText(n: Node): Rendered {
  // A folded constant prints as the expression it was folded from (`1 - epsilon`).
  const shown = shownOf(n);
  if (shown) return renderText(shown);
  const v = n.attrs.value as number;
  const dtype = (n.attrs.dtype as DType | undefined) ?? 'float32';
  if (dtype === 'bool') return atom(v ? 'true' : 'false');
  if (dtype === 'int32') return atom(`int(${intText(v)})`);
  const s = floatText(v);
  return { prec: s.startsWith('-') ? PREC.neg : PREC.atom, pieces: [s] };
}

function isFloatConst(n: Node, value: number): boolean {
  return n.op === 'const' && n.attrs.dtype === undefined && Object.is(n.attrs.value, value);
}

/** `a op b` for an op written with an infix operator (OPS's `infix`): `a + b`, `a and b`. */
function infixText(n: Node): Rendered {
  const a = n.args;
  const { text, prec } = (OPS[n.op] as OpSpec).infix!;
  // Comparisons do not chain: both sides bind tighter (`a + b < c`).
  if (prec === PREC.compare) return { prec, pieces: [ref(a[0]!, PREC.add), ` ${text} `, ref(a[1]!, PREC.add)] };
  return { prec, pieces: [ref(a[0]!, prec), ` ${text} `, ref(a[1]!, prec + 1)] };
}

/** `f(a, b)`, `f` the builtin that computes the op from its arguments (OPS's `builtin`). */
const callText = (n: Node): Rendered => call((OPS[n.op] as OpSpec).builtin!.name, n.args);

/** A reduction or `size`: `sum(x, axis = -1, keepdims = true)`. */
function axesCall(n: Node): Rendered {
  const x = n.args[0]!;
  const kw: Array<[string, string]> = [];
  const ax = axesText(reduceAxes(n.attrs, x.rank), x.rank);
  if (ax !== undefined) kw.push(['axis', ax]);
  if (n.attrs.keepdims === true) kw.push(['keepdims', 'true']);
  return call(n.op, n.args, kw);
}

/** `f(x, axis = a)`, the axis counted in a rank of x's plus `extra`. */
const axisCall = (extra = 0) => (n: Node): Rendered =>
  call(n.op, n.args, [['axis', axisText(n.attrs.axis as number, n.args[0]!.rank + extra)]]);

/** The lossc rendering of every op: what lowering reads back to the same node. */
export const TEXT: Record<OpName, (n: Node) => Rendered> = {
  input: (n) => atom(n.attrs.name as string),
  const: constText,
  tensor: (n) => atom(tensorText(n.attrs.values as number[], n.attrs.shape as unknown[])),
  param: (n) => atom(n.attrs.name as string),
  size: axesCall,
  indices: axisCall(),

  neg: (n) => {
    const x = n.args[0]!;
    // `-3` would read back as the constant -3: the negation of the constant 3 is `-(3)`
    // (likewise `-inf` is the constant -inf, the negation of inf is `-(inf)`).
    if (x.op === 'const' && x.attrs.dtype === undefined && !shownOf(x) && /^(\d|inf$)/.test(floatText(x.attrs.value as number))) {
      return { prec: PREC.neg, pieces: ['-(', floatText(x.attrs.value as number), ')'] };
    }
    // `-(-x)` rather than `--x`, which the grammar accepts but reads as a typo.
    return { prec: PREC.neg, pieces: ['-', ref(x, PREC.pow)] };
  },
  exp: callText,
  log: callText,
  log1p: callText,
  expm1: callText,
  sqrt: callText,
  abs: callText,
  sign: callText,
  sigmoid: callText,
  softplus: callText,
  tanh: callText,
  cosh: callText,
  sinh: callText,
  cos: callText,
  sin: callText,
  floor: callText,
  not: (n) => ({ prec: PREC.not, pieces: ['not ', ref(n.args[0]!, PREC.not)] }),
  cast: (n) => call(CAST_NAME[n.attrs.dtype as DType], n.args),
  stop_gradient: callText,

  add: infixText,
  sub: infixText,
  mul: infixText,
  div: infixText,
  // The base is an atom (`(-x)^2`, `(a^b)^c`); the exponent may carry minus signs (`x^-2`).
  pow: (n) => ({ prec: PREC.pow, pieces: [ref(n.args[0]!, PREC.atom), '^', ref(n.args[1]!, PREC.neg)] }),
  maximum: callText,
  minimum: callText,
  lt: infixText,
  le: infixText,
  gt: infixText,
  ge: infixText,
  eq: infixText,
  ne: infixText,
  and: infixText,
  or: infixText,

  where: callText,
  clip: callText,

  sum: axesCall,
  mean: axesCall,
  max: axesCall,
  min: axesCall,
  logsumexp: axesCall,

  broadcast_like: (n) => {
    const [x, like] = n.args as [Node, Node];
    if (isFloatConst(x, 0)) return call('zeros_like', [like]);
    if (isFloatConst(x, 1)) return call('ones_like', [like]);
    return callText(n);
  },
  expand_dims: axisCall(1),
  squeeze: axisCall(),
  // Only reached by printExpr (printBody always binds parts with a split).
  part: (n) => {
    const x = n.args[0]!;
    return atom('part(', ref(x, PREC.lowest), `, ${n.attrs.index}, ${n.attrs.parts}, axis = ${axisText(n.attrs.axis as number, x.rank)})`);
  },
  concat: (n) => {
    const pieces: Piece[] = ['concat(['];
    n.args.forEach((x, i) => {
      if (i > 0) pieces.push(', ');
      pieces.push(ref(x, PREC.lowest));
    });
    pieces.push(`], axis = ${axisText(n.attrs.axis as number, n.args[0]!.rank)})`);
    return atom(...pieces);
  },
  transpose: (n) => call('transpose', n.args, [['perm', `[${(n.attrs.perm as number[]).join(', ')}]`]]),
  matmul: callText,
  one_hot: (n) => {
    const a = n.args;
    if (a.length === 2) {
      const like = a[1]!;
      return atom('one_hot(', ref(a[0]!, PREC.lowest), ', size(', ref(like, PREC.lowest), `, axis = ${axisText(n.attrs.axis as number, like.rank)}))`);
    }
    return atom('one_hot(', ref(a[0]!, PREC.lowest), `, ${n.attrs.depth})`);
  },
  ctc: callText,
  ctc_grad: callText,
};

export const renderText = (n: Node): Rendered => TEXT[n.op](n);

export const TEXT_RENDERER: Renderer = {
  render: renderText,
  name: (s) => s,
  open: '(',
  close: ')',
};

// ---------------------------------------------------------------------------------------------
// Entry points.

export interface PrintedLet {
  /** The bound name, or for a split every part's name (`_` for an unused part). */
  names: string[];
  /** Whether this is a destructuring `let [a, b] = ...`. */
  destructure: boolean;
  /** The right-hand side. */
  text: string;
}

export interface PrintedBody {
  lets: PrintedLet[];
  /** The result expression (a list `[g1, g2]` when several roots were given). */
  result: string;
  /** The lets, one per line (`let name = expr`), then the result. */
  text: string;
}

const asRoots = (root: Node | readonly Node[]): Node[] => (Array.isArray(root) ? [...(root as readonly Node[])] : [root as Node]);

/** The source text of a split: `split(x, 3, axis = 1)`. */
function splitText(l: SplitLet, bound: ReadonlyMap<Node, string>, r: Renderer): string {
  return `split(${expand(l.source, PREC.lowest, bound, r)}, ${l.parts}, axis = ${axisText(l.axis, l.source.rank)})`;
}

export function letLine(l: PrintedLet): string {
  return `let ${l.destructure ? `[${l.names.join(', ')}]` : l.names[0]} = ${l.text}`;
}

/**
 * Print a formula as lets and a result. An array of roots (a gradient with respect to several
 * inputs) prints its result as a list, `[g1, g2]`.
 */
export function printBody(root: Node | readonly Node[], opts: PrintOptions = {}): PrintedBody {
  const roots = asRoots(root);
  const plan = planLets(roots, trivialText, opts);
  const lets: PrintedLet[] = plan.lets.map((l) =>
    l.kind === 'let'
      ? { names: [l.name], destructure: false, text: expand(l.node, PREC.lowest, plan.bound, TEXT_RENDERER, l.node) }
      : { names: l.names, destructure: true, text: splitText(l, plan.bound, TEXT_RENDERER) },
  );
  const parts = roots.map((r) => expand(r, PREC.lowest, plan.bound, TEXT_RENDERER));
  let result = Array.isArray(root) ? `[${parts.join(', ')}]` : parts[0]!;
  // A line starting with `-` continues the `let` above it (`let a = b` / `- c` is `b - c`).
  if (lets.length > 0 && result.startsWith('-')) result = `(${result})`;
  const text = [...lets.map(letLine), result].join('\n');
  return { lets, result, text };
}

/**
 * One expression inline, without lets (shared nodes are repeated; a split part prints as
 * `part(x, index, parts, axis = a)`). Nodes named in `opts.names` print as those names.
 */
export function printExpr(node: Node, opts: { names?: ReadonlyMap<Node, string> } = {}): string {
  const names = opts.names ?? new Map<Node, string>();
  // Inlining repeats shared nodes, which can grow exponentially (x1 = x0 + x0, x2 = x1 + x1, ...).
  const size = new Map<Node, number>();
  for (const n of topoSort([node])) {
    let s = 1;
    if (n === node || !names.has(n)) for (const a of n.args) s += size.get(a)!;
    size.set(n, s);
  }
  if (size.get(node)! > MAX_INLINE_NODES) {
    throw new LosscError('limit', `the expression is too large to print inline (${size.get(node)!.toPrecision(3)} nodes once shared parts are repeated); print it with lets instead`);
  }
  return expand(node, PREC.lowest, names, TEXT_RENDERER, node);
}

/** Most nodes printExpr writes out (counting repeats of shared nodes). */
export const MAX_INLINE_NODES = 1_000_000;

export interface DefinitionHeader {
  /** Attribute names without the `@` (`no_align`), one line each above the keyword. */
  attributes?: readonly string[];
  kind: 'loss' | 'def' | 'regularizer';
  name: string;
  params: Array<{ name: string; type?: string }>;
  options: Array<{ name: string; value: string }>;
  doc?: string;
}

/**
 * A whole definition: the doc as `# ` lines, its attributes as `@name` lines, the header
 * `loss name(y_true, y_pred; delta = 1.0) =`, then the body indented by two spaces.
 * The text ends with a newline.
 */
export function printDefinition(def: DefinitionHeader, root: Node | readonly Node[], opts: PrintOptions = {}): string {
  const lines: string[] = [];
  const doc = def.doc?.replace(/\s+$/, '');
  if (doc) for (const l of doc.split(/\r?\n/)) lines.push(l.trim() === '' ? '#' : `# ${l}`);
  for (const a of def.attributes ?? []) lines.push(`@${a}`);
  const params = def.params.map((p) => (p.type ? `${p.name}: ${p.type}` : p.name)).join(', ');
  const options = def.options.map((o) => `${o.name} = ${o.value}`).join(', ');
  lines.push(`${def.kind} ${def.name}(${params}${options ? `; ${options}` : ''}) =`);
  const reserved = [...(opts.reserved ?? []), ...def.params.map((p) => p.name), ...def.options.map((o) => o.name), def.name];
  const body = printBody(root, { ...opts, reserved });
  for (const l of body.text.split('\n')) lines.push(`  ${l}`);
  return lines.join('\n') + '\n';
}
