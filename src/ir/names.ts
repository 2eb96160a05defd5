// Name hints: the `let` name a user gave a node, so that printed formulas (derivatives above all)
// reuse the user's own names. A hint never changes what a node means and never splits a node in
// two: nodes are hash-consed, so the hint lives beside the node (a WeakMap), not inside it.
// When one node is named twice (the same sub-expression bound in two places) the last name wins.

import type { Node } from './node.js';

const hints = new WeakMap<Node, string>();

/** Record that the user called `node` `name`. Leaves keep their own names and are not hinted. */
export function setNameHint(node: Node, name: string): void {
  if (node.args.length === 0) return;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name === '_') return;
  hints.set(node, name);
}

/** The name the user gave `node`, if any. */
export function nameHint(node: Node): string | undefined {
  return hints.get(node);
}

/** Forget the name of `node` (for tests and for passes that know a hint no longer fits). */
export function clearNameHint(node: Node): void {
  hints.delete(node);
}
