// The Node entry's parser: grammar/index.js, required synchronously on the first parse (Node
// 20.19 and 22.12 on load an ES module with `require`), so a process that only uses stdlib losses
// never loads the grammar or chevrotain (grammar/load.ts). Installed by importing this module.

import { createRequire } from 'node:module';
import { provideGrammar, type GrammarModule } from '../../grammar/load.js';
import { LosscError, LosscErrors } from '../errors.js';

provideGrammar(() => {
  try {
    return createRequire(import.meta.url)('../../grammar/index.js') as GrammarModule;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'ERR_REQUIRE_ESM') throw e;
    const detail = `parsing lossc source needs Node 20.19 or 22.12 or later (this is ${process.version}), which load ES modules with require`;
    throw new LosscErrors([new LosscError('usage', detail)]);
  }
});
