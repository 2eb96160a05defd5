// IR → LaTeX, for people reading a loss or its derivative. The let structure is the text
// printer's (same plan, same names), rendered as an `aligned` block; each op has its usual
// mathematical notation. Unlike the text printer this one is free to hide what a reader does
// not care about: broadcasts, expand_dims/squeeze and int→float conversions print as their
// argument.

import type { Node } from '../ir/node.js';
import { shownOf } from '../ir/build.js';
import { reduceAxes, type OpName } from '../ir/ops.js';
import type { DType } from '../ir/shape.js';
import {
  EPSILON32,
  PI32,
  PREC,
  expand,
  formatNumber,
  ref,
  type Piece,
  type Rendered,
  type Renderer,
} from './text.js';
import { planLets, trivialText, type PrintOptions } from './lets.js';

// ---------------------------------------------------------------------------------------------
// Names.

const GREEK = new Set([
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'varepsilon', 'zeta', 'eta', 'theta', 'vartheta', 'iota', 'kappa',
  'lambda', 'mu', 'nu', 'xi', 'pi', 'rho', 'sigma', 'tau', 'upsilon', 'phi', 'varphi', 'chi', 'psi', 'omega',
  'Gamma', 'Delta', 'Theta', 'Lambda', 'Xi', 'Pi', 'Sigma', 'Upsilon', 'Phi', 'Psi', 'Omega',
]);

const escapeText = (s: string): string => s.replace(/[\\{}_^#$%&~]/g, (c) => (c === '\\' ? '\\textbackslash{}' : `\\${c}`));

/** A short name (one letter or a Greek letter's name) written as a math symbol, or undefined. */
function symbol(s: string): string | undefined {
  if (/^[A-Za-z]$/.test(s)) return s;
  if (GREEK.has(s)) return `\\${s}`;
  return undefined;
}

function subscript(s: string): string {
  const body = symbol(s) ?? (/^\d+$/.test(s) ? s : `\\mathrm{${escapeText(s)}}`);
  return body.length === 1 ? `_${body}` : `_{${body}}`;
}

/**
 * A lossc name in LaTeX: `y_true` → `y_{\mathrm{true}}`, `p_t` → `p_t`, `gamma` → `\gamma`,
 * `alpha_t` → `\alpha_t`, `t12` → `t_{12}`, `margin` → `\mathrm{margin}`,
 * `label_smoothing` → `\mathrm{label\_smoothing}`.
 */
export function latexName(name: string): string {
  if (name === '_') return '\\_';
  const us = name.indexOf('_');
  if (us > 0 && us < name.length - 1) {
    const base = symbol(name.slice(0, us));
    if (base !== undefined) return base + subscript(name.slice(us + 1));
  }
  const whole = symbol(name);
  if (whole !== undefined) return whole;
  const m = /^([A-Za-z]+?)(\d+)$/.exec(name);
  if (m) {
    const base = symbol(m[1]!);
    if (base !== undefined) return base + subscript(m[2]!);
  }
  return `\\mathrm{${escapeText(name)}}`;
}

// ---------------------------------------------------------------------------------------------
// Numbers.

/** A number in LaTeX: `0.25`, `10^{30}`, `2.5 \times 10^{-8}`, `\epsilon`, `\infty`, `\pi`. */
export function latexNumber(v: number): { text: string; prec: number } {
  if (Number.isNaN(v)) return { text: '\\mathrm{NaN}', prec: PREC.atom };
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  // (Unlike the text printer, -1e-7 may be written -\epsilon: nothing reads LaTeX back.)
  let text: string;
  let prec: number = PREC.atom;
  if (a === Infinity) text = '\\infty';
  else if (a === EPSILON32) text = '\\epsilon';
  else if (a === PI32) text = '\\pi';
  else {
    text = formatNumber(a);
    const e = text.indexOf('e');
    if (e >= 0) {
      const m = text.slice(0, e);
      const x = text.slice(e + 1);
      if (m === '1') {
        text = `10^{${x}}`;
        prec = PREC.pow;
      } else {
        text = `${m} \\times 10^{${x}}`;
        prec = PREC.mul;
      }
    }
  }
  return neg ? { text: `-${text}`, prec: Math.min(prec, PREC.neg) } : { text, prec };
}

// ---------------------------------------------------------------------------------------------
// Ops.

const atom = (...pieces: Piece[]): Rendered => ({ prec: PREC.atom, pieces });

/** `\operatorname{clip}_{sub}(a, b, c)`; `name` is LaTeX already (`\exp`, `\operatorname{...}`). */
function fn(name: string, args: readonly Node[], sub?: string): Rendered {
  const pieces: Piece[] = [`${name}${sub === undefined ? '' : `_{${sub}}`}(`];
  args.forEach((a, i) => {
    if (i > 0) pieces.push(', ');
    pieces.push(ref(a, PREC.lowest));
  });
  pieces.push(')');
  return atom(...pieces);
}

const op = (name: string): string => `\\operatorname{${escapeText(name)}}`;

const REDUCE_NAME: Record<'mean' | 'max' | 'min' | 'logsumexp', string> = {
  mean: op('mean'),
  max: '\\max',
  min: '\\min',
  logsumexp: op('logsumexp'),
};

/** Axis subscript: `-1` for the last axis, `1, 2` for several, undefined for every axis. */
function axesSub(axes: readonly number[], rank: number): { text: string; many: boolean } | undefined {
  if (axes.length === rank && axes.every((a, i) => a === i)) return undefined;
  if (axes.length === 1) return { text: axes[0] === rank - 1 ? '-1' : String(axes[0]), many: false };
  return { text: axes.join(', '), many: true };
}

const axisSub = (axis: number, rank: number): string => {
  const a = axis < 0 ? axis + rank : axis;
  return a === rank - 1 ? '-1' : String(a);
};

const isSum = (n: Node): boolean => n.op === 'sum';

function isFloatConst(n: Node, value: number): boolean {
  return n.op === 'const' && n.attrs.dtype === undefined && Object.is(n.attrs.value, value);
}

function tensorLatex(values: readonly number[], shape: readonly unknown[]): string {
  const num = (v: number) => latexNumber(v).text;
  if (shape.length === 1 && typeof shape[0] === 'number') {
    return `\\begin{bmatrix} ${values.map(num).join(' & ')} \\end{bmatrix}`;
  }
  if (shape.length === 2 && typeof shape[0] === 'number' && typeof shape[1] === 'number') {
    const cols = shape[1];
    const rows: string[] = [];
    for (let i = 0; i < shape[0]; i++) rows.push(values.slice(i * cols, (i + 1) * cols).map(num).join(' & '));
    return `\\begin{bmatrix} ${rows.join(' \\\\ ')} \\end{bmatrix}`;
  }
  return `\\left[${values.map(num).join(', ')}\\right]`;
}

/** `\name(a, b)`, `name` LaTeX already (`\exp`, `\operatorname{...}`). */
const named = (name: string) => (n: Node): Rendered => fn(name, n.args);

/** `\operatorname{op}(a, b)`, the op's own name. */
const opName = (n: Node): Rendered => fn(op(n.op), n.args);

/** `a < b`: a comparison. */
const comparison = (text: string) => (n: Node): Rendered => ({ prec: PREC.compare, pieces: [ref(n.args[0]!, PREC.add), text, ref(n.args[1]!, PREC.add)] });

/** A reduction other than sum: `\max_{-1}(x)`. */
function reduceLatex(n: Node): Rendered {
  const x = n.args[0]!;
  const sub = axesSub(reduceAxes(n.attrs, x.rank), x.rank);
  return fn(REDUCE_NAME[n.op as keyof typeof REDUCE_NAME], n.args, sub?.text);
}

/** The LaTeX of every op, in its usual mathematical notation. */
export const LATEX: Record<OpName, (n: Node) => Rendered> = {
  input: (n) => atom(latexName(n.attrs.name as string)),
  const: (n) => {
    const shown = shownOf(n);
    if (shown) return renderLatex(shown);
    const dtype = (n.attrs.dtype as DType | undefined) ?? 'float32';
    const v = n.attrs.value as number;
    if (dtype === 'bool') return atom(v ? '\\mathrm{true}' : '\\mathrm{false}');
    if (dtype === 'int32') return { prec: v < 0 ? PREC.neg : PREC.atom, pieces: [String(v)] };
    const { text, prec } = latexNumber(v);
    return { prec, pieces: [text] };
  },
  tensor: (n) => atom(tensorLatex(n.attrs.values as number[], n.attrs.shape as unknown[])),
  param: (n) => atom(latexName(n.attrs.name as string)),
  size: (n) => {
    const x = n.args[0]!;
    return fn(op('size'), n.args, axesSub(reduceAxes(n.attrs, x.rank), x.rank)?.text);
  },
  indices: (n) => fn(op('indices'), n.args, String(n.attrs.axis)),

  // A big sum keeps its conventional reach: `-\sum x` is -(\sum x).
  neg: (n) => (isSum(n.args[0]!) ? { prec: PREC.add, pieces: ['-', ref(n.args[0]!, PREC.add)] } : { prec: PREC.neg, pieces: ['-', ref(n.args[0]!, PREC.pow)] }),
  exp: named('\\exp'),
  log: named('\\log'),
  log1p: opName,
  expm1: opName,
  sqrt: (n) => atom('\\sqrt{', ref(n.args[0]!, PREC.lowest), '}'),
  abs: (n) => atom('\\lvert ', ref(n.args[0]!, PREC.lowest), '\\rvert'),
  sign: opName,
  sigmoid: named('\\sigma'),
  softplus: opName,
  tanh: named('\\tanh'),
  cosh: named('\\cosh'),
  sinh: named('\\sinh'),
  cos: named('\\cos'),
  sin: named('\\sin'),
  floor: (n) => atom('\\lfloor ', ref(n.args[0]!, PREC.lowest), '\\rfloor'),
  not: (n) => ({ prec: PREC.not, pieces: ['\\lnot ', ref(n.args[0]!, PREC.not)] }),
  cast: (n) => {
    const from = n.args[0]!.dtype;
    const to = n.attrs.dtype as DType;
    if (from === 'bool' && to !== 'bool') return atom('\\mathbb{1}[', ref(n.args[0]!, PREC.lowest), ']');
    return fn(op(to === 'int32' ? 'int' : to === 'bool' ? 'bool' : 'float'), n.args);
  },
  stop_gradient: named(op('sg')),

  // By convention a sum reaches to the next + or -, so `a - \sum x` needs no parentheses.
  add: (n) => ({ prec: PREC.add, pieces: [ref(n.args[0]!, PREC.add), ' + ', ref(n.args[1]!, isSum(n.args[1]!) ? PREC.add : PREC.mul, true)] }),
  sub: (n) => ({ prec: PREC.add, pieces: [ref(n.args[0]!, PREC.add), ' - ', ref(n.args[1]!, isSum(n.args[1]!) ? PREC.add : PREC.mul, true)] }),
  mul: (n) => ({ prec: PREC.mul, pieces: [ref(n.args[0]!, PREC.mul), ' \\cdot ', ref(n.args[1]!, PREC.neg, true)] }),
  div: (n) => ({ prec: PREC.pow, pieces: ['\\frac{', ref(n.args[0]!, PREC.lowest), '}{', ref(n.args[1]!, PREC.lowest), '}'] }),
  pow: (n) => ({ prec: PREC.pow, pieces: [ref(n.args[0]!, PREC.atom), '^{', ref(n.args[1]!, PREC.lowest), '}'] }),
  maximum: named('\\max'),
  minimum: named('\\min'),
  lt: comparison(' < '),
  le: comparison(' \\le '),
  gt: comparison(' > '),
  ge: comparison(' \\ge '),
  eq: comparison(' = '),
  ne: comparison(' \\ne '),
  and: (n) => ({ prec: PREC.and, pieces: [ref(n.args[0]!, PREC.and), ' \\land ', ref(n.args[1]!, PREC.not)] }),
  or: (n) => ({ prec: PREC.or, pieces: [ref(n.args[0]!, PREC.or), ' \\lor ', ref(n.args[1]!, PREC.and)] }),

  where: (n) => ({
    prec: PREC.lowest,
    pieces: ['\\begin{cases} ', ref(n.args[1]!, PREC.lowest), ' & \\text{if } ', ref(n.args[0]!, PREC.lowest), ' \\\\ ', ref(n.args[2]!, PREC.lowest), ' & \\text{otherwise} \\end{cases}'],
  }),
  clip: named(op('clip')),

  sum: (n) => {
    const x = n.args[0]!;
    const sub = axesSub(reduceAxes(n.attrs, x.rank), x.rank);
    const head = sub === undefined ? '\\sum ' : `\\sum_{\\text{${sub.many ? 'axes' : 'axis'} }${sub.text}} `;
    return { prec: PREC.add, pieces: [head, ref(x, PREC.pow)] };
  },
  mean: reduceLatex,
  max: reduceLatex,
  min: reduceLatex,
  logsumexp: reduceLatex,

  broadcast_like: (n) => {
    if (isFloatConst(n.args[0]!, 0)) return atom('\\mathbf{0}');
    if (isFloatConst(n.args[0]!, 1)) return atom('\\mathbf{1}');
    return fn(op('broadcast_like'), n.args); // not reached: skipped
  },
  // Not reached: skipped (skipLatex).
  expand_dims: opName,
  squeeze: opName,
  part: (n) => fn(op('part'), n.args, `${n.attrs.index}/${n.attrs.parts}, ${axisSub(n.attrs.axis as number, n.args[0]!.rank)}`),
  concat: (n) => fn(op('concat'), n.args, axisSub(n.attrs.axis as number, n.args[0]!.rank)),
  transpose: (n) => {
    const perm = n.attrs.perm as number[];
    if (perm.length === 2 && perm[0] === 1) return { prec: PREC.pow, pieces: [ref(n.args[0]!, PREC.atom), '^{\\top}'] };
    return fn(op('transpose'), n.args, `[${perm.join(', ')}]`);
  },
  matmul: named(op('matmul')),
  one_hot: (n) => {
    const a = n.args;
    if (a.length === 2) {
      const r = a[1]!;
      return atom(`${op('one_hot')}(`, ref(a[0]!, PREC.lowest), `, ${op('size')}_{${axisSub(n.attrs.axis as number, r.rank)}}(`, ref(r, PREC.lowest), '))');
    }
    return atom(`${op('one_hot')}(`, ref(a[0]!, PREC.lowest), `, ${n.attrs.depth})`);
  },
  ctc: opName,
  ctc_grad: opName,
};

export const renderLatex = (n: Node): Rendered => LATEX[n.op](n);

/** Layout the reader does not need to see: the node prints as this argument instead. */
export function skipLatex(n: Node): Node | undefined {
  switch (n.op) {
    case 'expand_dims':
    case 'squeeze':
      return n.args[0];
    case 'broadcast_like':
      return isFloatConst(n.args[0]!, 0) || isFloatConst(n.args[0]!, 1) ? undefined : n.args[0];
    case 'cast':
      return n.args[0]!.dtype === 'int32' && n.attrs.dtype === 'float32' ? n.args[0] : undefined;
    default:
      return undefined;
  }
}

function trivialLatex(n: Node): boolean {
  for (let s = skipLatex(n); s !== undefined; s = skipLatex(n)) n = s;
  return trivialText(n);
}

export const LATEX_RENDERER: Renderer = {
  render: renderLatex,
  name: latexName,
  open: '\\left(',
  close: '\\right)',
  skip: skipLatex,
};

export interface LatexOptions extends PrintOptions {
  /**
   * The left-hand side of the result. Without lets the result is printed alone (or as
   * `lhs = ...` when given); with lets it is the last line of the block, `\mathcal{L}` by default.
   */
  lhs?: string;
}

/** LaTeX of a formula: lets as an `aligned` block (`t_1 &= ... \\`), then the result. */
export function toLatex(root: Node | readonly Node[], opts: LatexOptions = {}): string {
  const roots = Array.isArray(root) ? [...(root as readonly Node[])] : [root as Node];
  const plan = planLets(roots, trivialLatex, opts);
  const r = LATEX_RENDERER;
  // A truth value on the right of `&=` is set in Iverson brackets, so that `t_1 &= [y = 1]` does
  // not read as a chain of equalities.
  const top = (n: Node, text: string): string => (n.dtype === 'bool' ? `\\left[${text}\\right]` : text);
  const lines = plan.lets.map((l) => {
    if (l.kind === 'let') return `${latexName(l.name)} &= ${top(l.node, expand(l.node, PREC.lowest, plan.bound, r, l.node))}`;
    const src = expand(l.source, PREC.lowest, plan.bound, r);
    const names = l.names.map(latexName).join(', ');
    return `\\left[${names}\\right] &= ${op('split')}_{${axisSub(l.axis, l.source.rank)}}(${src}, ${l.parts})`;
  });
  const parts = roots.map((x) => top(x, expand(x, PREC.lowest, plan.bound, r)));
  const result = Array.isArray(root) ? `\\left(${parts.join(', ')}\\right)` : parts[0]!;
  if (lines.length === 0) return opts.lhs === undefined ? result : `${opts.lhs} = ${result}`;
  return [
    '\\begin{aligned}',
    ...lines.map((l) => `${l} \\\\`),
    `${opts.lhs ?? '\\mathcal{L}'} &= ${result}`,
    '\\end{aligned}',
  ].join('\n');
}
