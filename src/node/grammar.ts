// The Node entry's parser: grammar/index.js, required synchronously on the first parse (Node
// 20.19 and 22.12 on load an ES module with `require`), so a process that only uses stdlib losses
// never loads the grammar or chevrotain (grammar/load.ts). The Node entry and the command line
// call `installGrammar` (a call, not an import for its effect, which a bundler may drop).

import { createRequire } from 'node:module';
import { provideGrammar, type GrammarModule } from '../../grammar/load.js';
import { LosscError, LosscErrors } from '../errors.js';

/** Set in the Node bundle (scripts/bundle.mjs): where the parser lies from it. */
declare const LOSSC_GRAMMAR: string | undefined;
/** grammar/index.js, from this module (tsc's dist/src/node/) or from the bundle (dist/node/). */
const GRAMMAR = typeof LOSSC_GRAMMAR === 'string' ? LOSSC_GRAMMAR : '../../grammar/index.js';

/** Makes the first parse require grammar/index.js. */
export function installGrammar(): void {
  provideGrammar(loadGrammar);
}

function loadGrammar(): GrammarModule {
  try {
    return createRequire(import.meta.url)(GRAMMAR) as GrammarModule;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'ERR_REQUIRE_ESM') throw e;
    const detail = `parsing lossc source needs Node 20.19 or 22.12 or later (this is ${process.version}), which load ES modules with require`;
    throw new LosscErrors([new LosscError('usage', detail)]);
  }
}
