// The derivative a person reads: lower the loss with its options symbolic, stabilise it,
// differentiate, simplify and stabilise the result, and print it (text, LaTeX or dot).

import { LosscError, didYouMean } from '../errors.js';
import type { Node } from '../ir/node.js';
import { countNodes } from '../ir/node.js';
import { locatedAt } from '../ir/origin.js';
import type { Static } from '../lower/builtins.js';
import { Library } from '../lower/library.js';
import { lowerDefinition, type Lowered } from '../lower/lower.js';
import type { TensorType } from '../lower/signature.js';
import { printBody } from '../print/text.js';
import { latexName, toLatex } from '../print/latex.js';
import { toDot } from '../print/dot.js';
import type { Fired } from '../rewrite/engine.js';
import { grad } from '../autodiff/grad.js';
import { differentiate, stabilise } from './pipeline.js';

export interface DerivativeOptions {
  /** Option values to fix; the others stay symbolic (`gamma` prints as `gamma`). */
  options?: Record<string, Static>;
  /** Skip simplification and stabilisation (show the derivative as the rules produce it). */
  raw?: boolean;
  /** Shapes of the inputs (default: from the definition's annotations). */
  signature?: Record<string, TensorType>;
  /** Where to find the definition (default: the stdlib). */
  library?: Library;
}

export class Derivative {
  constructor(
    readonly lowered: Lowered,
    /** The inputs differentiated against, in order. */
    readonly wrt: Node[],
    /** d sum(value) / d wrt[i], each shaped like wrt[i]. */
    readonly grads: Node[],
    /** The value the derivative is of (after stabilisation unless raw). */
    readonly value: Node,
    /** Recomputes the rewrites with a log (rewrites are memoised, so the log is made on demand). */
    private readonly replay: () => Fired[],
  ) {}

  private firedLog?: Fired[];

  /** Rewrite rules that fired, in order (for --explain). */
  get fired(): Fired[] {
    return (this.firedLog ??= this.replay());
  }

  /** The derivative as lossc source: `let` lines, then the result (a list for several inputs). */
  toString(): string {
    return printBody(this.grads.length === 1 ? this.grads[0]! : this.grads, { hints: this.lowered.hints }).text;
  }

  /** LaTeX, the result labelled ∂L/∂input (a tuple of them for several inputs). */
  toLatex(): string {
    const d = this.wrt.map((w) => `\\frac{\\partial \\mathcal{L}}{\\partial ${latexName(w.attrs.name as string)}}`);
    const lhs = d.length === 1 ? d[0]! : `\\left(${d.join(', ')}\\right)`;
    return toLatex(this.grads.length === 1 ? this.grads[0]! : this.grads, { lhs, hints: this.lowered.hints });
  }

  toDot(): string {
    return toDot(this.grads, { hints: this.lowered.hints });
  }

  /** Node count of the derivative DAG. */
  get size(): number {
    return countNodes(this.grads);
  }
}

/** The derivative of a loss's per-sample values (summed) with respect to named inputs. */
export function derivative(loss: string | Lowered, wrt: string | string[], opts: DerivativeOptions = {}): Derivative {
  const lowered =
    typeof loss === 'string'
      ? lowerDefinition(opts.library ?? Library.stdlib(), loss, { options: opts.options, symbolic: true, signature: opts.signature })
      : loss;
  const names = typeof wrt === 'string' ? [wrt] : wrt;
  const inputs = names.map((name) => {
    const i = lowered.def.params.findIndex((p) => p.name === name);
    if (i < 0) {
      const known = lowered.def.params.map((p) => p.name);
      throw new LosscError(
        'name',
        `\`${lowered.def.name}\` has no input \`${name}\`${didYouMean(name, known)} (its inputs: ${known.join(', ')})`,
      );
    }
    return lowered.inputs[i]!;
  });
  // An error from the IR (a shape error at symbolic sizes) points at the expression it came
  // from, or at least at the definition.
  const located = <T>(f: () => T): T => locatedAt(lowered.origins, lowered.value, f, lowered.def.span);
  if (opts.raw) return located(() => new Derivative(lowered, inputs, grad(lowered.value, inputs, undefined, lowered.origins), lowered.value, () => []));
  const [value] = located(() => stabilise([lowered.value]));
  const grads = located(() => differentiate(value!, inputs, { origins: lowered.origins }));
  const replay = () => {
    const fired: Fired[] = [];
    const [v] = stabilise([lowered.value], fired);
    differentiate(v!, inputs, { fired });
    return fired;
  };
  return new Derivative(lowered, inputs, grads, value!, replay);
}

/** A one-line-per-rule summary of what fired, for `--explain`. */
export function explain(fired: readonly Fired[]): string {
  const counts = new Map<string, number>();
  for (const f of fired) counts.set(f.rule, (counts.get(f.rule) ?? 0) + 1);
  if (counts.size === 0) return 'no rewrite rule fired';
  return [...counts].map(([rule, n]) => `${rule} ×${n}`).join('\n');
}
