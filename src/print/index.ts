// The printers: IR → lossc source text, LaTeX, Graphviz dot.

export {
  printBody,
  printExpr,
  printDefinition,
  formatNumber,
  floatText,
  type PrintOptions,
  type PrintedBody,
  type PrintedLet,
  type DefinitionHeader,
  type NameSource,
} from './text.js';
export { toLatex, latexName, latexNumber, type LatexOptions } from './latex.js';
export { toDot, type DotOptions } from './dot.js';
