// The checks `compile` runs on a user's source before anything is called (and loadModel on a
// saved source): each own definition lowered with the shapes its annotations give; every error
// that holds whatever the real shapes (syntax, names, arity, options, dtypes) is thrown.

import { LosscError, LosscErrors } from '../errors.js';
import type { Library } from '../lower/library.js';
import { lowerDefinition } from '../lower/lower.js';
import { displaySignature } from '../lower/signature.js';

/** Errors that depend on the shapes and dtypes a definition is given (found when tensors arrive). */
const SHAPE_DEPENDENT = new Set<string>(['shape', 'value', 'limit']);

/** Lower each own definition with the shapes its annotations give; throw what holds whatever the shapes. */
export function checkDefinitions(lib: Library): void {
  const errors: LosscError[] = [];
  const seen = new Set<string>();
  for (const def of lib.own) {
    try {
      lowerDefinition(lib, def.name, { symbolic: true, signature: displaySignature(def) });
    } catch (e) {
      const found = e instanceof LosscErrors ? e.errors : e instanceof LosscError ? [e] : undefined;
      if (!found) throw e;
      for (const x of found) {
        if (SHAPE_DEPENDENT.has(x.kind) || (def.kind === 'def' && x.kind === 'type') || seen.has(x.message)) continue;
        seen.add(x.message);
        errors.push(x);
      }
    }
  }
  if (errors.length) throw errors.length === 1 ? errors[0]! : new LosscErrors(errors);
}
