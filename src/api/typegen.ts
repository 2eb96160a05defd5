// The TypeScript types of the stdlib's losses and regularizers, generated from their definitions
// (test/types.test.ts checks src/api/stdlib-types.ts is this text, and rewrites it with
// LOSSC_WRITE_TYPES=1). An option's type is what the compiler accepts for its default's kind.

import type { Definition } from '../../grammar/ast.js';
import type { Static } from '../lower/builtins.js';
import type { Library } from '../lower/library.js';
import { evalStatic } from '../lower/lower.js';

type DefaultKind = 'number' | 'boolean' | 'string' | 'none' | 'list';

/** What an option accepts, by the kind of its default (optionAccepts in src/lower/lower.ts). */
const OPTION_TYPES: Record<DefaultKind, string> = {
  number: 'number | number[] | null',
  list: 'number | number[] | null',
  boolean: 'boolean',
  string: 'string',
  none: 'OptionValue',
};

function kindOf(v: Static): DefaultKind {
  if (v === null) return 'none';
  if (Array.isArray(v)) return 'list';
  return typeof v as 'number' | 'boolean' | 'string';
}

function optionsType(lib: Library, def: Definition): string {
  const fields = def.options.map((o) => `    ${o.name}?: ${OPTION_TYPES[kindOf(evalStatic(lib, o.default))]};`);
  return fields.length ? `{\n${fields.join('\n')}\n  }` : 'Record<never, never>';
}

/** The text of src/api/stdlib-types.ts. */
export function stdlibTypesSource(lib: Library): string {
  const defs = lib.names().map((n) => lib.get(n)!.def);
  const block = (kind: Definition['kind']) =>
    defs.filter((d) => d.kind === kind).map((d) => `  ${d.name}: ${optionsType(lib, d)};`).join('\n');
  return `// Generated from stdlib/*.loss by src/api/typegen.ts: do not edit (test/types.test.ts checks it;
// LOSSC_WRITE_TYPES=1 npx vitest run test/types.test.ts rewrites it).

export type OptionValue = number | boolean | string | null | number[] | number[][];

/** Each stdlib loss's own options (snake_case; camelCase twins are added by WithCamel). */
export interface StdlibLossOptions {
${block('loss')}
}

/** Each stdlib regularizer's options. */
export interface StdlibRegularizerOptions {
${block('regularizer')}
}
`;
}
