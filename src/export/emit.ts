// IR → the statements of one Python function, for one target: shared sub-expressions become local
// variables named as the source's `let`s (the printers' let planning, src/print/text.ts), each op
// is written through the spelling table (spellings.ts), axes counted from the end.

import type { Node } from '../ir/node.js';
import { reduceAxes } from '../ir/ops.js';
import type { DType } from '../ir/shape.js';
import { EPSILON32, PREC, expand, formatNumber, ref, tensorText, type Piece, type Rendered, type Renderer } from '../print/text.js';
import { planLets, trivialText, type NameSource } from '../print/lets.js';
import { TARGET_INFO, spellingOf, type Target } from './spellings.js';

/** Names an emitted local never takes: Python keywords and builtins, the modules, the helpers. */
export const PYTHON_RESERVED = [
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del',
  'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal',
  'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield', 'self', 'cls', 'print', 'len', 'range',
  'float', 'int', 'bool', 'abs', 'min', 'max', 'sum', 'math', 'functools', 'np', 'torch', 'jnp', 'jax', 'ops', 'keras',
  'EPSILON', 'ONE_MINUS_EPSILON', 'dy', 'values', 'mask', 'sample_weight', 'reduction',
];

/** The float32 1 - epsilon, lossc's (and Keras's) upper clip bound for probabilities. */
export const ONE_MINUS_EPSILON32 = Math.fround(1 - EPSILON32);

/** Lossc's stated epsilon, as the float32 constant the IR holds: written as the module's EPSILON. */
function floatLiteral(v: number): string {
  if (Number.isNaN(v)) return 'math.nan';
  if (v === Infinity) return 'math.inf';
  if (v === -Infinity) return '-math.inf';
  if (v === EPSILON32) return 'EPSILON';
  if (v === -EPSILON32) return '-EPSILON';
  if (v === ONE_MINUS_EPSILON32) return 'ONE_MINUS_EPSILON';
  // Short decimals as written (0.1); a long float32 value exactly, since 1 - x may amplify it.
  const short = formatNumber(Math.abs(v));
  const s = short.replace(/^0\.0*|\.|e.*$/g, '').length <= 6 ? short : String(Math.abs(v));
  const lit = /^\d+$/.test(s) ? `${s}.0` : s;
  return v < 0 ? `-${lit}` : lit;
}

const PREC_OF = { compare: PREC.compare, add: PREC.add, mul: PREC.mul, neg: PREC.neg, pow: PREC.pow, atom: PREC.atom, lowest: PREC.lowest } as const;

const fromEnd = (axis: number, rank: number): number => axis - rank;
const tuple = (xs: number[]): string => (xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(', ')})`);
const axesValue = (xs: number[]): string => (xs.length === 1 ? String(xs[0]) : tuple(xs));

/** The attribute placeholders of one node for one target. */
function attribute(n: Node, key: string, target: Target): Piece[] {
  const info = TARGET_INFO[target];
  const x = n.args[0];
  const rank = x?.rank ?? 0;
  switch (key) {
    case 'm':
      return [info.m];
    case 'name':
      return [n.attrs.name === '__dy' ? 'dy' : (n.attrs.name as string)];
    case 'value': {
      const v = n.attrs.value as number;
      const dtype = (n.attrs.dtype as DType | undefined) ?? 'float32';
      if (dtype === 'bool') return [v ? 'True' : 'False'];
      return [dtype === 'int32' ? String(v) : floatLiteral(v)];
    }
    case 'tensor':
      return [tensorText(n.attrs.values as number[], n.attrs.shape as unknown[], floatLiteral)];
    case 'dtype':
      return [info.dtype[n.attrs.dtype as DType]];
    case 'perm':
      return [tuple(n.attrs.perm as number[])];
    case 'parts':
    case 'index':
      return [String(n.attrs[key])];
    case 'axis':
      return [String(fromEnd(n.attrs.axis as number, n.op === 'expand_dims' ? rank + 1 : rank))];
    case 'args':
      return n.args.flatMap((a, i) => (i > 0 ? [', ', ref(a, PREC.lowest)] : [ref(a, PREC.lowest)]));
    case 'axes':
    case 'axesAll': {
      const axes = reduceAxes(n.attrs, rank).map((a) => fromEnd(a, rank));
      // Every axis of a matrix or more: no axis argument (a vector's one axis is written, -1).
      const all = axes.length === rank && rank >= 2;
      if (key === 'axesAll') return [axesValue(axes.length ? axes : [])];
      return all && n.attrs.keepdims !== true ? [] : [`, ${info.axisKw}=${axes.length ? axesValue(axes) : '()'}`];
    }
    case 'keepdims':
      return n.attrs.keepdims === true ? [`, ${info.keepKw}=True`] : [];
    case 'sizeAxes': {
      const axes = reduceAxes(n.attrs, rank).map((a) => fromEnd(a, rank));
      return [axes.length === rank ? 'None' : tuple(axes)];
    }
    case 'depth': {
      if (n.args.length === 1) return [String(n.attrs.depth)];
      const like = n.args[1]!;
      const a = String(fromEnd(n.attrs.axis as number, like.rank));
      const [before, after] = info.dimOf.replace('{a}', a).split('{x}') as [string, string];
      return [before, ref(like, PREC.lowest), after];
    }
    default:
      throw new Error(`export: unknown placeholder {${key}} in the spelling of \`${n.op}\``);
  }
}

/** Fill a template: argument holes become refs (at their precedence), attributes text. */
export function fill(template: string, n: Node, target: Target, args: readonly Node[] = n.args): Piece[] {
  const pieces: Piece[] = [];
  const re = /\{(\w+)(?::(\w+))?\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) pieces.push(template.slice(last, m.index));
    const [, key, prec] = m as unknown as [string, string, string | undefined];
    if (/^\d$/.test(key)) {
      const a = args[Number(key)];
      if (!a) throw new Error(`export: \`${n.op}\` has no argument ${key}`);
      pieces.push(ref(a, PREC_OF[(prec ?? 'lowest') as keyof typeof PREC_OF]));
    } else pieces.push(...attribute(n, key, target));
    last = m.index + m[0].length;
  }
  if (last < template.length) pieces.push(template.slice(last));
  return pieces;
}

export function renderer(target: Target): Renderer {
  return {
    render(n: Node): Rendered {
      const { prec, template } = spellingOf(n.op, target);
      const pieces = fill(template, n, target);
      // A negative literal binds as a unary minus (`x - (-3.0)`).
      const neg = n.op === 'const' && typeof pieces[0] === 'string' && pieces[0].startsWith('-');
      return { prec: neg ? PREC.neg : PREC_OF[prec], pieces };
    },
    name: (s) => s,
    open: '(',
    close: ')',
  };
}

export interface EmittedBody {
  /** Statement lines (no indentation), the last one a `return`. */
  lines: string[];
}

/**
 * The body of a function computing `roots` (returned as a tuple when several, `None` for an
 * absent one), for one target; lets named by `names`, else by `hints` (the lowering's `let` names).
 */
export function emitBody(roots: ReadonlyArray<Node | null>, target: Target, reserved: Iterable<string>, names?: NameSource, hints?: NameSource): EmittedBody {
  const present = roots.filter((r): r is Node => r !== null);
  const plan = planLets(present, trivialText, { reserved: [...PYTHON_RESERVED, ...reserved], maxDepth: 40, names, hints });
  const r = renderer(target);
  const lines: string[] = [];
  for (const l of plan.lets) {
    if (l.kind === 'let') {
      lines.push(`${l.name} = ${expand(l.node, PREC.lowest, plan.bound, r, l.node)}`);
      continue;
    }
    const part = l.nodes.find((x) => x !== undefined)!;
    const template = spellingOf('part', target).template.replace(/\[\{index\}\]$/, '');
    lines.push(`${l.names.join(', ')} = ${splitRhs(l.source, part, template, plan.bound, r, target)}`);
  }
  const results = roots.map((root) => (root === null ? 'None' : expand(root, PREC.lowest, plan.bound, r)));
  lines.push(`return ${results.join(', ')}`);
  return { lines };
}

/** The right-hand side of a destructuring split: the part's spelling without its index. */
function splitRhs(source: Node, part: Node, template: string, bound: ReadonlyMap<Node, string>, r: Renderer, target: Target): string {
  const pieces = fill(template, part, target, [source]);
  return pieces.map((p) => (typeof p === 'string' ? p : expand(p.node, p.min, bound, r))).join('');
}
