// lossc's Node entry (`node` in package.json's exports): the library of index.ts, plus files on
// disk: `Library.fromFile`, and `compile(text, { root })` imports resolved in a folder. The parser
// (grammar/, chevrotain) loads on the first parse of a user's source (src/node/grammar.ts), so
// importing lossc and using stdlib losses never loads it.

import './api/fit.js'; // lossc losses in tfjs-layers' compile and fit (integer targets, classWeight)
import './node/files.js';
import { installGrammar } from './node/grammar.js';

installGrammar();

export * from './exports.js';
export { folderHost } from './node/files.js';
// Picking cpu/wasm by name (the command line's --backend); in a web page, call tf.setBackend.
export { useBackend } from './backend.js';
