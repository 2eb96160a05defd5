// What an exported loss computes, as lossc's checked and stabilised IR. Lowering fixes what a
// Python function decides at run time, so a loss is lowered once per combination of
//   - its boolean options (`from_logits`: both branches, chosen by an `if` in Python),
//   - the ranks of its tensors (1 to 4; axes are written from the end, so ranks that lower to the
//     same text share one function), and
//   - for a tensor whose trailing size 1 changes the formula (sparse labels [N, 1]), whether it is 1.
// Numeric options stay symbolic (Python keyword arguments) unless their value changes the formula
// (`axis`, `ignore_class`, `label_smoothing = 0`): those are fixed at export time, like `-o k=v`.

import type { Definition, Expr, OptionDecl } from '../../grammar/ast.js';
import { grad } from '../autodiff/grad.js';
import { LosscError } from '../errors.js';
import * as b from '../ir/build.js';
import { topoSort, type Node } from '../ir/node.js';
import type { Dim, Shape } from '../ir/shape.js';
import type { Static } from '../lower/builtins.js';
import type { Library } from '../lower/library.js';
import { Lowerer, type Lowered } from '../lower/lower.js';
import { paramDtype, type TensorType } from '../lower/signature.js';
import { printBody } from '../print/text.js';
import { rewrite } from '../rewrite/engine.js';
import { ALL_RULES, STABILIZE_RULES } from '../rewrite/rules.js';

export const MAX_RANK = 4;

export type OptionRole = 'runtime' | 'branch' | 'fixed';

export interface ExportOption {
  name: string;
  role: OptionRole;
  /** The exported value (the default, or what `-o` gave). */
  value: Static;
}

export interface Variant {
  /** The Python dispatch key: branch options' values, then ranks, then unit flags. */
  key: Array<boolean | number>;
  lowered?: Lowered;
  value?: Node;
  mask?: Node;
  /** d sum(value * dy) / d input, for each float input (null for the others); dy is input `__dy`. */
  grads?: Array<Node | null>;
  /** The source's `let` names of nodes of the stabilised formula (and of its gradient). */
  names?: Map<Node, string>;
  /** Why this combination has no formula (lossc's own message). */
  error?: string;
}

export interface LossVariants {
  def: Definition;
  options: ExportOption[];
  /** Parameters whose trailing size 1 is part of the key. */
  unitParams: string[];
  variants: Variant[];
  /** The formula at the default key, as lossc text (options symbolic), for the docstring. */
  formula: string;
}

/** A copy of `def` whose option defaults are `values` (so they stay symbolic params when lowered). */
function withDefaults(def: Definition, values: Record<string, Static>): Definition {
  const lit = (v: Static, o: OptionDecl): Expr => {
    const span = o.span;
    if (typeof v === 'number') return { kind: 'number', value: v, text: String(v), span };
    if (typeof v === 'boolean') return { kind: 'bool', value: v, span };
    if (typeof v === 'string') return { kind: 'string', value: v, span };
    if (v === null) return { kind: 'none', span };
    return { kind: 'list', items: v.map((x) => lit(x, o)), span };
  };
  return { ...def, options: def.options.map((o) => (o.name in values ? { ...o, default: lit(values[o.name]!, o) } : o)) };
}

function showAnnotation(p: Definition['params'][number]): string {
  const dims = p.type?.shape ?? [];
  return `[${dims.map((d) => (d.kind === 'ellipsis' ? '...' : d.kind === 'fixed' ? String(d.size) : d.name)).join(', ')}]`;
}

/** Symbolic shapes for a parameter of rank `rank` (respecting its annotation), or undefined. */
function shapeFor(def: Definition, name: string, rank: number, unit: boolean): Shape | undefined {
  const p = def.params.find((q) => q.name === name)!;
  const dims = p.type?.shape;
  let shape: Dim[];
  if (!dims) shape = ['N', 'D', 'D3', 'D4'].slice(0, rank);
  else {
    const e = dims.findIndex((d) => d.kind === 'ellipsis');
    const fixed = dims.filter((d) => d.kind !== 'ellipsis');
    if (e < 0 ? rank !== dims.length : rank < fixed.length) return undefined;
    const lead = ['N', 'B2', 'B3', 'B4'].slice(0, rank - fixed.length);
    shape = dims.flatMap((d) => (d.kind === 'ellipsis' ? lead : [d.kind === 'fixed' ? d.size : d.name]));
  }
  if (unit) {
    if (rank < 2 || typeof shape[rank - 1] === 'number') return undefined;
    shape[rank - 1] = 1;
  }
  return shape;
}

interface Ctx {
  lib: Library;
  def: Definition;
  runtime: Record<string, Static>;
  fixed: Record<string, Static>;
  /** The ranks the options were probed at (the formula shown in the docstring). */
  probeRanks?: number[];
}

function lowerAt(ctx: Ctx, branch: Record<string, boolean>, signature: Record<string, TensorType>): Lowered {
  const def = withDefaults(ctx.def, ctx.runtime);
  return new Lowerer(ctx.lib, true).lowerTop(def, { ...ctx.fixed, ...branch }, signature);
}

function signatureAt(def: Definition, ranks: number[], units: boolean[]): Record<string, TensorType> | undefined {
  const out: Record<string, TensorType> = {};
  for (const [i, p] of def.params.entries()) {
    const shape = shapeFor(def, p.name, ranks[i]!, units[i]!);
    if (!shape) return undefined;
    out[p.name] = { shape, dtype: paramDtype(p.type) };
  }
  return out;
}

/** The stabilised formula as text, or the error it raises (for comparing two lowerings). */
function textAt(ctx: Ctx, branch: Record<string, boolean>, signature: Record<string, TensorType> | undefined): string {
  if (!signature) return '!no signature';
  try {
    const l = lowerAt(ctx, branch, signature);
    return printBody(l.mask ? rewrite([l.value, l.mask], STABILIZE_RULES) : rewrite([l.value], STABILIZE_RULES)[0]!, { hints: l.hints }).text;
  } catch (e) {
    if (e instanceof LosscError) return `!${e.message}`;
    throw e;
  }
}

/**
 * The stabilised roots, and the source's `let` names carried over the rewrite: each named node
 * of the lowered DAG is rewritten too (as an extra root), and its rewritten form keeps the name.
 */
function stabilised(lowered: Lowered): { roots: Node[]; names: Map<Node, string> } {
  const base = lowered.mask ? [lowered.value, lowered.mask] : [lowered.value];
  const roots = rewrite(base, STABILIZE_RULES);
  const hinted = topoSort(base).filter((n) => n.args.length > 0 && lowered.hints.get(n) !== undefined);
  const names = new Map<Node, string>();
  if (hinted.length) {
    const out = rewrite([...base, ...hinted], STABILIZE_RULES);
    hinted.forEach((h, i) => {
      const r = out[base.length + i]!;
      if (r.args.length > 0) names.set(r, lowered.hints.get(h)!);
    });
  }
  return { roots, names };
}

/** A different value for probing whether a numeric option shapes the formula. */
const probe = (v: number): number => (v === 0 ? 0.5 : v * 1.25 + 0.125);

/** The default ranks: the annotation's, else 2. */
function defaultRanks(def: Definition): number[] {
  return def.params.map((p) => p.type?.shape?.length ?? 2);
}

function classify(ctx: Ctx, given: Record<string, Static>, values: Record<string, Static>): ExportOption[] {
  const options: ExportOption[] = [];
  const defaults = new Lowerer(ctx.lib, true).resolveOptions(ctx.def, {}, undefined);
  // First every numeric option is runtime and every other fixed; then probe each numeric one.
  for (const o of ctx.def.options) {
    const v = values[o.name]!;
    const d = defaults[o.name]!;
    const role: OptionRole = typeof d === 'boolean' ? 'branch' : typeof v === 'number' || (Array.isArray(v) && v.every((x) => typeof x === 'number')) ? 'runtime' : 'fixed';
    options.push({ name: o.name, role, value: v });
  }
  const branch = Object.fromEntries(options.filter((o) => o.role === 'branch').map((o) => [o.name, o.value as boolean]));
  for (const o of options) if (o.role === 'runtime') ctx.runtime[o.name] = o.value;
  for (const o of options) if (o.role === 'fixed') ctx.fixed[o.name] = o.value;
  // Probe at the default ranks, or the first equal ranks the options fit (dice with axis = [1, 2]).
  const candidates = [defaultRanks(ctx.def), ...[1, 2, 3, 4].map((r) => ctx.def.params.map(() => r))];
  const texts = candidates.map((ranks) => signatureAt(ctx.def, ranks, ranks.map(() => false))).map((sig) => ({ sig, text: textAt(ctx, branch, sig) }));
  const found = texts.find((t) => !t.text.startsWith('!'));
  if (!found) throw new LosscError('shape', `cannot export \`${ctx.def.name}\` at any rank from 1 to ${MAX_RANK}: ${texts[0]!.text.slice(1)}`);
  const { sig, text: base } = found;
  ctx.probeRanks = candidates[texts.indexOf(found)]!;
  for (const o of options) {
    if (o.role !== 'runtime') continue;
    const v = o.value;
    const moved = typeof v === 'number' ? probe(v) : (v as number[]).map(probe);
    const text = textAt({ ...ctx, runtime: { ...ctx.runtime, [o.name]: moved } }, branch, sig);
    if (text !== base) {
      o.role = 'fixed';
      delete ctx.runtime[o.name];
      ctx.fixed[o.name] = v;
    }
  }
  void given;
  return options;
}

function* product(lists: ReadonlyArray<ReadonlyArray<boolean | number>>): Generator<Array<boolean | number>> {
  if (lists.length === 0) {
    yield [];
    return;
  }
  for (const head of lists[0]!) for (const rest of product(lists.slice(1))) yield [head, ...rest];
}

/** Every variant of a loss, for export (with the gradient when asked). */
export function lossVariants(lib: Library, def: Definition, given: Record<string, Static>, withGradient: boolean): LossVariants {
  const values = new Lowerer(lib, true).resolveOptions(def, given, undefined);
  const ctx: Ctx = { lib, def, runtime: {}, fixed: {} };
  const options = classify(ctx, given, values);
  const branches = options.filter((o) => o.role === 'branch');
  const ranks = ctx.probeRanks!;
  const defaultBranch = Object.fromEntries(branches.map((o) => [o.name, o.value as boolean]));
  const base = textAt(ctx, defaultBranch, signatureAt(def, ranks, ranks.map(() => false)));
  const unitParams = def.params
    .filter((p, i) => textAt(ctx, defaultBranch, signatureAt(def, ranks, ranks.map((_, j) => j === i))) !== base)
    .map((p) => p.name);
  const lists: Array<ReadonlyArray<boolean | number>> = [
    ...branches.map(() => [false, true]),
    ...def.params.map(() => [1, 2, 3, 4]),
    ...unitParams.map(() => [false, true]),
  ];
  const variants: Variant[] = [];
  for (const key of product(lists)) {
    const branch = Object.fromEntries(branches.map((o, i) => [o.name, key[i] as boolean]));
    const r = key.slice(branches.length, branches.length + def.params.length) as number[];
    const unitFlags = key.slice(branches.length + def.params.length) as boolean[];
    const units = def.params.map((p) => (unitParams.includes(p.name) ? unitFlags[unitParams.indexOf(p.name)]! : false));
    const sig = signatureAt(def, r, units);
    if (!sig) {
      // A size-1 trailing axis needs rank 2 or more: that key never occurs.
      if (units.some((u, i) => u && r[i]! < 2)) continue;
      const bad = def.params.filter((p, i) => !shapeFor(def, p.name, r[i]!, false)).map((p) => `\`${p.name}\` of rank ${r[def.params.indexOf(p)]} (it is declared ${showAnnotation(p)})`);
      variants.push({ key, error: `${def.name}: ${bad.join(' and ')}` });
      continue;
    }
    try {
      const lowered = lowerAt(ctx, branch, sig);
      const { roots, names } = stabilised(lowered);
      const v: Variant = { key, lowered, value: roots[0]!, mask: roots[1], names };
      if (withGradient) {
        const floats = lowered.inputs.filter((n) => n.dtype === 'float32');
        const seed = b.input('__dy', v.value!.shape);
        const gs = floats.length ? rewrite(grad(v.value!, floats, seed), ALL_RULES) : [];
        v.grads = lowered.inputs.map((n) => (n.dtype === 'float32' ? gs[floats.indexOf(n)]! : null));
      }
      variants.push(v);
    } catch (e) {
      if (!(e instanceof LosscError)) throw e;
      variants.push({ key, error: e.detail });
    }
  }
  const formula = base;
  return { def, options, unitParams, variants, formula };
}
