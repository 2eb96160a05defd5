// lossc's library API: the browser-safe entry (`browser`/`default` in package.json's exports;
// the Node entry, index.node.ts, adds files on disk). Nothing here touches Node. At import, lossc
// registers its regularizer and layer classes with tfjs's serialization and installs its
// compile/fit integration (src/api/fit.ts); these modules are listed in package.json's sideEffects.
// The parser comes in with it (a bundle holds it anyway); the Node entry loads it on first use.
//
//   import { losses, compile, derivative, regularizers } from 'lossc';
//   model.compile({ optimizer: 'adam', loss: losses.categorical_crossentropy({ from_logits: true }) });

import './api/fit.js'; // lossc losses in tfjs-layers' compile and fit (integer targets, classWeight)
import * as grammar from '../grammar/index.js';
import { provideGrammar } from '../grammar/load.js';

provideGrammar(grammar);

export * from './exports.js';
