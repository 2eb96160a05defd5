// The parser behind a door. The rest of lossc parses through here, and grammar/index.ts (with
// chevrotain under it) is loaded only when a source must be parsed: the stdlib and the rewrite
// rules come parsed at build time (scripts/gen-stdlib.mjs), so a program that only uses stdlib
// losses never loads the parser. The API stays synchronous; what loads the grammar is handed in:
//   the browser entry (src/index.ts)     grammar/index.ts itself, imported (bundlers join it in);
//   the Node entry (src/node/grammar.ts) a synchronous require of it, made on the first parse;
//   tests (test/setup/grammar.ts), the command line, tools    grammar/index.ts itself.

import type * as Grammar from './index.js';
import { LosscError, LosscErrors } from '../src/errors.js';

/** What lossc needs of grammar/index.ts. */
export type GrammarModule = Pick<typeof Grammar, 'parseProgram' | 'parseExpression'>;

let grammar: GrammarModule | undefined;
let loader: (() => GrammarModule) | undefined;

/** Hands over the grammar, or a function that loads it (called once, on the first parse). */
export function provideGrammar(source: GrammarModule | (() => GrammarModule)): void {
  if (typeof source === 'function') loader = source;
  else grammar = source;
}

function load(): GrammarModule {
  if (grammar) return grammar;
  if (!loader) {
    throw new LosscErrors([
      new LosscError('usage', 'lossc cannot parse source here: no parser was provided (import lossc through its package entry)'),
    ]);
  }
  grammar = loader();
  return grammar;
}

/** grammar/index.ts's parseProgram, loading the grammar on first use. */
export const parseProgram: GrammarModule['parseProgram'] = (text, file) => load().parseProgram(text, file);

/** grammar/index.ts's parseExpression, loading the grammar on first use. */
export const parseExpression: GrammarModule['parseExpression'] = (text, file) => load().parseExpression(text, file);
