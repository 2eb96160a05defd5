// Binding a call's arguments to what it calls, in one place for definitions (`def`s and called
// losses) and builtins: positional arguments in order, keyword arguments by name, each given at
// most once, every required one present. Each error points at the call or at the keyword.

import type { Call, Definition, Expr } from '../../grammar/ast.js';
import { LosscError, didYouMean, type ErrorKind } from '../errors.js';
import type { Builtin } from './builtins.js';

/** What a call can bind: parameters (by position or by name) and options (by name only). */
export interface Callee {
  name: string;
  kind: CalleeKind;
  params: { name: string; optional: boolean }[];
  /** Names given by keyword only: a definition's options. */
  options: string[];
}

type CalleeKind = 'definition' | 'builtin';

/**
 * How the errors speak of each kind of callee: a definition takes tensors by position and options
 * by name (so an unknown keyword is an unknown option); a builtin's parameters go either way.
 */
const WORDING: Record<CalleeKind, { noun: string; atMost: string; unknown(f: Callee, keyword: string): [ErrorKind, string] }> = {
  definition: {
    noun: 'tensor argument',
    atMost: '',
    unknown: (f, k) => [
      'option',
      `\`${f.name}\` has no option \`${k}\`${didYouMean(k, [...f.options, ...f.params.map((p) => p.name)])}` +
        (f.options.length ? ` (its options: ${f.options.join(', ')})` : ' (it takes no options)'),
    ],
  },
  builtin: {
    noun: 'argument',
    atMost: 'at most ',
    unknown: (f, k) => {
      const names = f.params.map((p) => p.name);
      return ['arity', `\`${f.name}\` has no argument \`${k}\`${didYouMean(k, names)} (it takes ${names.join(', ')})`];
    },
  },
};

export function definitionCallee(def: Definition): Callee {
  return { name: def.name, kind: 'definition', params: def.params.map((p) => ({ name: p.name, optional: false })), options: def.options.map((o) => o.name) };
}

export function builtinCallee(name: string, fn: Builtin): Callee {
  return { name, kind: 'builtin', params: fn.params.map((p) => ({ name: p.name, optional: 'default' in p })), options: [] };
}

/** The expression call `c` gives each parameter and option of `f` (those it leaves out are absent). */
export function bindCall(f: Callee, c: Call): Map<string, Expr> {
  const words = WORDING[f.kind];
  const names = f.params.map((p) => p.name);
  if (c.args.length > names.length) {
    throw new LosscError(
      'arity',
      `\`${f.name}\` takes ${words.atMost}${names.length} ${words.noun}(s) (${names.join(', ')}), got ${c.args.length}` +
        (f.options.length ? `; options are given by name (${f.options.map((o) => `${o} = ...`).join(', ')})` : ''),
      c.span,
    );
  }
  const bound = new Map<string, Expr>();
  c.args.forEach((a, i) => bound.set(names[i]!, a));
  for (const k of c.kwargs) {
    if (!names.includes(k.name) && !f.options.includes(k.name)) {
      const [kind, message] = words.unknown(f, k.name);
      throw new LosscError(kind, message, k.span);
    }
    // (A keyword given twice is a parse error; here it is a keyword naming a positional argument.)
    if (bound.has(k.name)) throw new LosscError('arity', `argument \`${k.name}\` of \`${f.name}\` is given twice`, k.span);
    bound.set(k.name, k.value);
  }
  const required = f.params.filter((p) => !p.optional).map((p) => p.name);
  const missing = required.find((p) => !bound.has(p));
  if (missing !== undefined) {
    const given = names.filter((p) => bound.has(p)).length;
    throw new LosscError('arity', `\`${f.name}\` needs ${required.length} ${words.noun}(s) (${required.join(', ')}), got ${given}: \`${missing}\` is missing`, c.span);
  }
  return bound;
}
