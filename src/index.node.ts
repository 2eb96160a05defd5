// lossc's Node entry (`node` in package.json's exports): the library of index.ts, plus files on
// disk: `Library.fromFile`, and `compile(text, { root })` imports resolved in a folder.

import './node/files.js';

export * from './index.js';
export { folderHost } from './node/files.js';
// Picking cpu/wasm by name (the command line's --backend); in a web page, call tf.setBackend.
export { useBackend } from './backend.js';
