// One exported loss as Python source for one target: its formula functions (one per distinct
// variant, variants.ts), the dispatch on ranks and boolean options, Keras's semantics around the
// per-sample values, and the target's idiomatic wrapper (torch.nn.Module, keras.losses.Loss).

import type { Node } from '../ir/node.js';
import type { Static } from '../lower/builtins.js';
import { emitBody } from './emit.js';
import { TARGET_INFO, type Target } from './spellings.js';
import type { ExportOption, LossVariants, Variant } from './variants.js';

export const indent = (lines: readonly string[], by = '    '): string[] => lines.map((l) => (l === '' ? l : by + l));

/** A Python literal for an option value (`int`s stay ints where the source wrote an int). */
export function pyLiteral(v: Static, intLike: boolean): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => pyLiteral(x, intLike)).join(', ')}]`;
  if (!Number.isFinite(v)) return v > 0 ? 'math.inf' : '-math.inf';
  return Number.isInteger(v) && !intLike ? `${v}.0` : String(v);
}

/** Text inside a Python docstring: no closing quotes, backslashes kept literally. */
export function docText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"');
}

export const camelClass = (name: string): string => name.split('_').map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : '')).join('');

interface Names {
  loss: string;
  /** Tensor parameters, in order. */
  params: string[];
  /** Runtime (numeric) options, passed to every formula function. */
  runtime: string[];
}

/** The prologue of a formula: int/bool inputs cast, list options as tensors. */
function prologue(v: Variant, target: Target, runtime: readonly ExportOption[]): string[] {
  const info = TARGET_INFO[target];
  const out: string[] = [];
  const firstFloat = v.lowered!.inputs.find((n) => n.dtype === 'float32')?.attrs.name as string | undefined;
  for (const n of v.lowered!.inputs) {
    const name = n.attrs.name as string;
    if (n.dtype === 'int32') out.push(target === 'keras' ? `${name} = ops.cast(${name}, ${info.dtype.int32})` : target === 'pytorch' ? `${name} = ${name}.to(${info.dtype.int32})` : `${name} = ${name}.astype(${info.dtype.int32})`);
    if (n.dtype === 'bool') out.push(`${name} = ${name} != 0`);
  }
  for (const o of runtime) {
    if (!Array.isArray(o.value)) continue;
    const like = firstFloat ?? v.lowered!.inputs[0]!.attrs.name;
    if (target === 'pytorch') out.push(`${o.name} = torch.as_tensor(${o.name}, dtype=${like}.dtype, device=${like}.device)`);
    else if (target === 'keras') out.push(`${o.name} = ops.convert_to_tensor(${o.name}, dtype=${like}.dtype)`);
    else out.push(`${o.name} = ${info.m}.asarray(${o.name}, dtype=${like}.dtype)`);
  }
  return out;
}

function keyText(lv: LossVariants, key: Variant['key']): string {
  const branches = lv.options.filter((o) => o.role === 'branch');
  const parts: string[] = [];
  branches.forEach((o, i) => parts.push(`${o.name}=${key[i] ? 'True' : 'False'}`));
  lv.def.params.forEach((p, i) => parts.push(`${p.name} rank ${key[branches.length + i]}`));
  lv.unitParams.forEach((p, i) => parts.push(`${p} ${key[branches.length + lv.def.params.length + i] ? 'ending in 1' : 'not ending in 1'}`));
  return parts.join(', ');
}

export interface Formulas {
  /** Function definitions (value formulas, and gradients when asked). */
  defs: string[];
  /** Python expression per key, of the formula function name (or an error message string). */
  table: Array<{ key: string; target: string }>;
  /** The name of the single formula when every key has the same one (no dispatch needed). */
  single?: string;
  /** The formula most keys use (the table lists only the others; other ranks use it too). */
  common?: string;
  gradients: boolean;
}

/** Emit each distinct formula once; the dispatch table maps every key to its function. */
export function formulas(lv: LossVariants, target: Target, names: Names, withGradient: boolean): Formulas {
  const runtime = lv.options.filter((o) => o.role === 'runtime');
  const byText = new Map<string, string>();
  const defs: string[] = [];
  const table: Formulas['table'] = [];
  const args = [...names.params, ...names.runtime];
  const reserved = [...args, names.loss];
  for (const v of lv.variants) {
    const key = `(${v.key.map((k) => (typeof k === 'boolean' ? (k ? 'True' : 'False') : String(k))).join(', ')}${v.key.length === 1 ? ',' : ''})`;
    if (v.error) {
      table.push({ key, target: JSON.stringify(v.error) });
      continue;
    }
    const roots: Array<Node | null> = [v.value!, v.mask ?? null];
    const body = [...prologue(v, target, runtime), ...emitBody(roots, target, reserved, v.names, v.lowered?.hints).lines];
    const grad = withGradient ? [...prologue(v, target, runtime), ...emitBody(v.grads!, target, [...reserved, 'dy'], v.names, v.lowered?.hints).lines] : [];
    const text = body.join('\n') + '\n#grad\n' + grad.join('\n');
    let fname = byText.get(text);
    if (!fname) {
      fname = `_${names.loss}_${byText.size + 1}`;
      byText.set(text, fname);
      defs.push([
        `def ${fname}(${args.join(', ')}):`,
        `    """Per-sample values and the loss's own mask (None if it has none), for ${keyText(lv, v.key)}{{more:${fname}}}."""`,
        ...indent(body),
      ].join('\n'));
      if (withGradient) {
        defs.push([
          `def ${fname}_grad(${[...args, 'dy'].join(', ')}):`,
          `    """lossc's simplified derivative of sum(values * dy) for each tensor (None: not differentiable)."""`,
          ...indent(grad),
        ].join('\n'));
      }
    }
    table.push({ key, target: fname });
  }
  const counts = new Map<string, number>();
  for (const t of table) if (!t.target.startsWith('"')) counts.set(t.target, (counts.get(t.target) ?? 0) + 1);
  for (const [i, d] of defs.entries()) {
    defs[i] = d.replace(/\{\{more:(\w+)\}\}/, (_, fn: string) => {
      const more = (counts.get(fn) ?? 1) - 1;
      return more ? ` (and ${more} more key${more > 1 ? 's' : ''})` : '';
    });
  }
  const common = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const single = counts.size === 1 && counts.get(common!) === table.length ? common : undefined;
  return { defs, table: table.filter((t) => t.target !== common), single, common, gradients: withGradient };
}

/** The dispatch: which formula serves these tensors and boolean options. */
export function dispatch(lv: LossVariants, target: Target, names: Names, f: Formulas): string[] {
  const info = TARGET_INFO[target];
  const branches = lv.options.filter((o) => o.role === 'branch').map((o) => `bool(${o.name})`);
  const ranks = names.params.map((p) => info.ndimOf.replace('{x}', p));
  const units = lv.unitParams.map((p) => `(${info.ndimOf.replace('{x}', p)} >= 2 and ${info.dimOf.replace('{x}', p).replace('{a}', '-1')} == 1)`);
  const upper = names.loss.toUpperCase();
  if (f.single) return [`formula = ${f.single}`];
  const key = [...branches, ...ranks, ...units];
  return [
    `key = (${key.join(', ')}${key.length === 1 ? ',' : ''})`,
    `formula = _${upper}_FORMULAS.get(key${f.common ? `, ${f.common}` : ''})`,
    ...(f.common ? [] : [
      `if formula is None:`,
      `    raise ValueError(f"${names.loss}: no exported formula for {key} (${describeKey(lv)}); tensors of rank 1 to 4 are exported")`,
    ]),
    `if isinstance(formula, str):`,
    `    raise ValueError(formula)`,
  ];
}

function describeKey(lv: LossVariants): string {
  const parts = [...lv.options.filter((o) => o.role === 'branch').map((o) => o.name), ...lv.def.params.map((p) => `rank of ${p.name}`), ...lv.unitParams.map((p) => `${p} ends in size 1`)];
  return parts.join(', ');
}

/** The dispatch table, as a module-level dict (absent when one formula serves every key). */
export function formulaTable(names: Names, f: Formulas): string[] {
  if (f.single) return [];
  const other = f.common ? `any other key: ${f.common}` : 'no other key';
  const lines = [`# The formula for each key (${other}), or why there is none.`, `_${names.loss.toUpperCase()}_FORMULAS = {`];
  for (const t of f.table) lines.push(`    ${t.key}: ${t.target},`);
  lines.push('}');
  return lines;
}
