// lossc's library API: the browser-safe entry (`browser`/`default` in package.json's exports;
// the Node entry, index.node.ts, adds files on disk). Nothing here touches Node or runs at import.
//
//   import { losses, compile, derivative, regularizers } from 'lossc';
//   model.compile({ optimizer: 'adam', loss: losses.categorical_crossentropy({ from_logits: true }) });

export { losses, makeLoss, type LossFunction, type LossFactory, type LossOptions } from './api/losses.js';
export { regularizers, makeRegularizer, type LosscRegularizer, type RegularizerFactory } from './api/regularizers.js';
export { compile, type CompiledModule, type CompileResult } from './api/compile.js';
export { derivative, explain, Derivative, type DerivativeOptions } from './autodiff/derivative.js';
export { LosscError, LosscErrors, type ErrorKind } from './errors.js';
export { Library, type ImportOptions } from './lower/library.js';
export { type ImportResolver, type ImportHost } from './lower/loader.js';
export { lowerDefinition, type Lowered } from './lower/lower.js';
export { parseProgram, parseExpression } from '../grammar/index.js';
export { printBody, printDefinition } from './print/text.js';
export { toLatex } from './print/latex.js';
export { toDot } from './print/dot.js';
export { REDUCTIONS, type Reduction } from './keras/wrapper.js';
export { exportLoss, exportFromLibrary, TARGETS as EXPORT_TARGETS, type ExportOptions, type Target as ExportTarget } from './export/index.js';
