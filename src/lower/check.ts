// Checking a program as `lossc check` does, in one place for the command line and the
// playground page: every definition lowered with its annotated shapes, every error collected.

import { LosscError, LosscErrors } from '../errors.js';
import type { Library } from './library.js';
import { lowerDefinition } from './lower.js';
import { displaySignature } from './signature.js';

/** Errors that depend on the shapes and dtypes a definition is given. */
const SHAPE_DEPENDENT = new Set<string>(['shape', 'type', 'value', 'limit']);

export interface Checked {
  /** The program's library, when it parsed. */
  library?: Library;
  errors: LosscError[];
  /** Definitions checked. */
  count: number;
}

/** Check a program: `load` builds its library (parse, imports); each definition is then lowered. */
export function checkProgram(load: () => Library): Checked {
  const errors: LosscError[] = [];
  let count = 0;
  let library: Library | undefined;
  try {
    const lib = (library = load());
    const seen = new Set<string>();
    for (const def of lib.own) {
      count++;
      try {
        lowerDefinition(lib, def.name, { symbolic: true, signature: displaySignature(def) });
      } catch (e) {
        const found = e instanceof LosscErrors ? e.errors : e instanceof LosscError ? [e] : undefined;
        if (!found) throw e;
        // A helper's shapes and dtypes are its callers' to give: for a `def`, only errors that
        // hold whatever the shapes (an unknown name, arity, options, recursion) are reported.
        // An error met through two definitions is reported once.
        for (const x of found) {
          if ((def.kind !== 'def' || !SHAPE_DEPENDENT.has(x.kind)) && !seen.has(x.message)) {
            seen.add(x.message);
            errors.push(x);
          }
        }
      }
    }
  } catch (e) {
    if (e instanceof LosscErrors) errors.push(...e.errors);
    else if (e instanceof LosscError) errors.push(e);
    else throw e;
  }
  return { library, errors, count };
}
