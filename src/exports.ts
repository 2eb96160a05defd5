// The API both entries export (src/index.ts for the browser, src/index.node.ts for Node). It loads
// no parser: parseProgram and parseExpression go through grammar/load.ts, which each entry opens
// its own way.
export { losses, makeLoss, type LossFunction, type LossFactory, type LossOptions } from './api/losses.js';
export { regularizers, makeRegularizer, type LosscRegularizer, type RegularizerFactory } from './api/regularizers.js';
export { compile, type CompiledModule, type CompileResult, type Compiled, type Definitions } from './api/compile.js';
export type { StdlibLosses, StdlibRegularizers, CommonLossOptions, WithCamel } from './api/typed.js';
export type { StdlibLossOptions, StdlibRegularizerOptions, OptionValue } from './api/stdlib-types.js';
export { saveModel, loadModel, modelRecord, type SaveModelOptions, type LoadModelOptions, type LosscModelRecord, type SavedFunction } from './api/models.js';
export { MODEL_FORMAT } from './api/serial.js';
export { layers, ActivityRegularization, type ActivityRegularizationArgs } from './api/layers.js';
export { trainStep, type TrainStepOptions } from './api/train.js';
export { takesIntegerTargets } from './api/fit.js';
export { derivative, explain, Derivative, type DerivativeOptions } from './pipeline/derivative.js';
export { LosscError, LosscErrors, type ErrorKind } from './errors.js';
export { Library, type ImportOptions } from './lower/library.js';
export { type ImportResolver, type ImportHost } from './lower/loader.js';
export { lowerDefinition, type Lowered } from './lower/lower.js';
export { parseProgram, parseExpression } from '../grammar/load.js';
export { printBody, printDefinition } from './print/text.js';
export { toLatex } from './print/latex.js';
export { toDot } from './print/dot.js';
export { REDUCTIONS, type Reduction } from './keras/wrapper.js';
export { exportLoss, exportFromLibrary, TARGETS as EXPORT_TARGETS, type ExportOptions, type Target as ExportTarget } from './export/index.js';
