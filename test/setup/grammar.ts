// The parser for every test file: tests run the TypeScript sources, which the Node entry's
// synchronous require (src/node/grammar.ts) cannot load, so the grammar is handed over here.
// test/faststart.test.ts checks the entries' own way, on dist/, in child processes.
import * as grammar from '../../grammar/index.js';
import { provideGrammar } from '../../grammar/load.js';

provideGrammar(grammar);
