// The printers: IR → lossc source text, LaTeX, Graphviz dot.

export {
  printBody,
  printExpr,
  printDefinition,
  formatNumber,
  floatText,
  type PrintedBody,
  type PrintedLet,
  type DefinitionHeader,
} from './text.js';
export type { PrintOptions, NameSource } from './lets.js';
export { toLatex, latexName, latexNumber, type LatexOptions } from './latex.js';
export { toDot, type DotOptions } from './dot.js';
