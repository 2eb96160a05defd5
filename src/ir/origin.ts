// Where in the source each IR node came from: lowering notes the span of the expression that
// produced a node, so errors raised later from the IR (shape errors of the derivative at the
// display signature, with symbolic sizes) point at their place like lowering's own errors.
// A table per lowering, not a field: nodes are interned and shared between programs.

import type { Span } from '../../grammar/ast.js';
import { LosscError } from '../errors.js';
import type { Node } from './node.js';

/** How many nodes below a node built by a rewrite or a derivative rule are searched for an origin. */
const SEARCH_LIMIT = 64;

export class Origins {
  private readonly spans = new Map<Node, Span>();

  /** Note that `span` produced `node` (the first note wins). */
  note(node: Node, span: Span): void {
    if (!this.spans.has(node)) this.spans.set(node, span);
  }

  /** The span of `node`, or of the nearest node it reads that has one (breadth first, bounded). */
  of(node: Node): Span | undefined {
    const queue: Node[] = [node];
    const seen = new Set<Node>(queue);
    for (let i = 0; i < queue.length && i < SEARCH_LIMIT; i++) {
      const span = this.spans.get(queue[i]!);
      if (span) return span;
      for (const a of queue[i]!.args) {
        if (!seen.has(a)) {
          seen.add(a);
          queue.push(a);
        }
      }
    }
    return undefined;
  }
}

/** Run f; a LosscError without a location gets the origin of `node` (or `fallback`). */
export function locatedAt<T>(origins: Origins | undefined, node: Node, f: () => T, fallback?: Span): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof LosscError && !e.span) {
      const span = origins?.of(node) ?? fallback;
      if (span) throw new LosscError(e.kind, e.detail, span);
    }
    throw e;
  }
}
