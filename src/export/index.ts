// `exportLoss(nameOrSource, target, options?)`: a lossc loss (a stdlib name, or every loss of a
// source text) as one readable Python module for PyTorch, NumPy, JAX or Keras 3. Returns the text;
// writing it is the caller's business (the command line's `lossc export`).

import { LosscError, didYouMean } from '../errors.js';
import type { Static } from '../lower/builtins.js';
import { Library } from '../lower/library.js';
import { pythonModule } from './python.js';
import { TARGETS, type Target } from './spellings.js';
import { lossVariants, type LossVariants } from './variants.js';
import type { Definition } from '../../grammar/ast.js';
import { stableJson } from '../ir/node.js';

export { TARGETS, type Target } from './spellings.js';

export interface ExportOptions {
  /** Option values fixed at export (`-o k=v`); numeric ones stay keyword arguments with this default. */
  options?: Record<string, unknown>;
  /** PyTorch and JAX: lossc's simplified derivative as the backward pass. */
  withGradient?: boolean;
  /** Where a name is looked up (default: the stdlib); `--file` gives a file's library. */
  library?: Library;
  /** With source text or a library: export only this loss (default: every loss it defines). */
  name?: string;
  /** Shown in the module's docstring. */
  source?: string;
  command?: string;
}

const ALIASES: Record<string, Target> = { torch: 'pytorch' };

/** Lowerings per definition and options, shared by the targets (a gradient one serves both). */
const lowered = new WeakMap<Definition, Map<string, LossVariants>>();

function variantsOf(lib: Library, def: Definition, given: Record<string, Static>, withGradient: boolean): LossVariants {
  let byKey = lowered.get(def);
  if (!byKey) lowered.set(def, (byKey = new Map()));
  const key = stableJson(given);
  const hit = byKey.get(`${key}|g`) ?? (withGradient ? undefined : byKey.get(key));
  if (hit) return hit;
  const v = lossVariants(lib, def, given, withGradient);
  byKey.set(withGradient ? `${key}|g` : key, v);
  return v;
}

export function checkTarget(t: unknown): Target {
  const name = typeof t === 'string' ? (ALIASES[t] ?? t) : t;
  if (typeof name === 'string' && (TARGETS as readonly string[]).includes(name)) return name as Target;
  throw new LosscError('usage', `unknown export target ${JSON.stringify(t)}${typeof t === 'string' ? didYouMean(t, [...TARGETS]) : ''} (targets: ${TARGETS.join(', ')})`);
}

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function staticOf(v: unknown, name: string): Static {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new LosscError('option', `option \`${name}\` must be finite, got ${v}`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => staticOf(x, name));
  throw new LosscError('option', `option \`${name}\` must be a number, boolean, string, list or null, got ${typeof v}`);
}

/** Export one loss (a name) or the losses of lossc source text, as a Python module's text. */
export function exportLoss(nameOrSource: string, target: Target | string, opts: ExportOptions = {}): string {
  if (typeof nameOrSource !== 'string') throw new LosscError('usage', 'exportLoss takes a loss name or lossc source text');
  const t = checkTarget(target);
  const isName = /^\s*[A-Za-z_][A-Za-z0-9_]*\s*$/.test(nameOrSource);
  const lib = isName ? (opts.library ?? Library.stdlib()) : Library.fromSource(nameOrSource, opts.source ?? '<source>');
  const names = isName ? [nameOrSource.trim()] : opts.name ? [opts.name] : null;
  return exportFromLibrary(lib, names, t, { ...opts, source: opts.source ?? (isName ? 'the lossc stdlib' : '<source>') });
}

/** Export the named losses of a library (null: every loss its own program defines). */
export function exportFromLibrary(lib: Library, names: string[] | null, target: Target | string, opts: ExportOptions = {}): string {
  const t = checkTarget(target);
  if (opts.withGradient && t !== 'pytorch' && t !== 'jax') {
    throw new LosscError('usage', `--with-gradient is for the pytorch and jax targets (${t} has no custom-gradient hook lossc exports to)`);
  }
  let defs;
  if (names) defs = names.map((n) => lib.require(n, ['loss']).def);
  else {
    defs = lib.own.filter((d) => d.kind === 'loss');
    if (defs.length === 0) throw new LosscError('name', 'the source defines no loss to export');
  }
  const given: Record<string, Static> = {};
  for (const [k, v] of Object.entries(opts.options ?? {})) if (v !== undefined) given[snake(k)] = staticOf(v, snake(k));
  for (const k of Object.keys(given)) {
    if (!defs.some((d) => d.options.some((o) => o.name === k))) {
      const known = [...new Set(defs.flatMap((d) => d.options.map((o) => o.name)))];
      throw new LosscError('option', `${defs.map((d) => `\`${d.name}\``).join(', ')} has no option \`${k}\`${didYouMean(k, known)}${known.length ? ` (its options: ${known.join(', ')})` : ' (it takes no options)'}`);
    }
  }
  const losses = defs.map((d) => {
    const own = Object.fromEntries(Object.entries(given).filter(([k]) => d.options.some((o) => o.name === k)));
    return variantsOf(lib, d, own, opts.withGradient === true);
  });
  const shown = defs.map((d) => d.name).join(' ');
  const optText = Object.entries(given).map(([k, v]) => ` -o ${k}=${JSON.stringify(v)}`).join('');
  const command = opts.command ?? `lossc export ${shown} --to ${t}${optText}${opts.withGradient ? ' --with-gradient' : ''}`;
  const source = opts.source ?? '<source>';
  return pythonModule({ target: t, losses, withGradient: opts.withGradient === true, command, source });
}
