// Name hints: the `let` names a user gave nodes, so that printed formulas (derivatives above all)
// reuse the user's own names. A hint never changes what a node means and never splits a node in
// two: nodes are hash-consed and shared between programs, so the hints of one lowering live in a
// table of its own (Lowered.hints), handed to the printers, never beside the node itself: a
// global table made one loss's printed derivative depend on what the process lowered before it.
// When one node is named twice in a lowering (one sub-expression bound in two places) the last
// name wins.

import type { Node } from './node.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class NameHints {
  private readonly names = new Map<Node, string>();

  /** Record that the user called `node` `name`. Leaves keep their own names and are not hinted. */
  set(node: Node, name: string): void {
    if (node.args.length === 0) return;
    if (!IDENT.test(name) || name === '_') return;
    this.names.set(node, name);
  }

  /** The name the user gave `node`, if any. */
  get(node: Node): string | undefined {
    return this.names.get(node);
  }
}
