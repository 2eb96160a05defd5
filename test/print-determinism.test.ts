// A printed formula is a function of its loss's source (and the stdlib it calls) alone, not of
// what the process lowered before: name hints belong to the lowering that recorded them
// (src/ir/names.ts). Nodes are hash-consed, so `y_pred - y_true` is one node for every loss; when
// hints were global, lowering huber (`let e = y_pred - y_true`) made another loss's derivative
// print `e` where a fresh process prints `t1`.

import { describe, expect, it } from 'vitest';
import { compile } from '../src/api/compile.js';
import { topoSort } from '../src/ir/node.js';
import { checkProgram } from '../src/lower/check.js';
import { Library } from '../src/lower/library.js';
import { lowerDefinition } from '../src/lower/lower.js';
import { derivative } from '../src/pipeline/derivative.js';
import { printBody } from '../src/print/text.js';
import { exportLoss } from '../src/export/index.js';

const SOURCE = [
  // Uses y_pred - y_true twice and names it nowhere: its derivative binds it as t1.
  'loss plain(y_true, y_pred) = sum(exp(y_pred - y_true) * (y_pred - y_true), axis = -1)',
  // The same node, named by the user in two ways.
  'loss named_r(y_true, y_pred) =\n  let r = y_pred - y_true\n  sum(exp(r) * r, axis = -1)',
  'loss named_u(y_true, y_pred) =\n  let u = y_pred - y_true\n  sum(exp(u) * u, axis = -1)',
].join('\n\n');

const lib = Library.fromSource(SOURCE);
const PLAIN = 'let t1 = y_pred - y_true\nlet t2 = exp(t1)\nt2 + t1 * t2';

/** Every printed form of one loss's derivative (and its formula), as one string to compare. */
function printed(name: string): string {
  const inOwn = lib.own.some((d) => d.name === name);
  const opts = inOwn ? { library: lib } : {};
  const d = derivative(name, 'y_pred', opts);
  const l = lowerDefinition(inOwn ? lib : Library.stdlib(), name, { symbolic: true });
  return [d.toString(), d.toLatex(), d.toDot(), printBody(l.value, { hints: l.hints }).text].join('\n----\n');
}

/** Lowerings that name `y_pred - y_true` (or nodes near it) and print nothing. */
function otherWork(): void {
  for (const name of ['huber', 'log_cosh', 'mean_squared_error', 'focal_loss']) lowerDefinition(Library.stdlib(), name, { symbolic: true });
  compile('loss g(y_true, y_pred) =\n  let e = y_pred - y_true\n  let t1 = exp(e)\n  sum(t1 * e, axis = -1)');
  exportLoss('huber', 'torch', { withGradient: true });
}

const NAMES = ['plain', 'named_r', 'named_u', 'huber', 'log_cosh', 'focal_loss', 'categorical_crossentropy'];

describe('printed derivatives do not depend on what was lowered before', () => {
  it('a loss that names nothing prints t1, before and after huber and others name its nodes', () => {
    const first = printed('plain');
    expect(first.split('\n----\n')[0]).toBe(PLAIN);
    otherWork();
    for (const n of NAMES) printed(n);
    expect(printed('plain')).toBe(first);
    expect(derivative('plain', 'y_pred', { library: lib }).toString()).toBe(PLAIN);
  });

  it('every loss prints the same in one order and the reverse, with other work between', () => {
    const forward = NAMES.map(printed);
    otherWork();
    const backward = [...NAMES].reverse().map(printed).reverse();
    expect(backward).toEqual(forward);
    expect(NAMES.map(printed)).toEqual(forward);
  });

  it('two losses sharing an interned node each see their own name for it', () => {
    const r = lowerDefinition(lib, 'named_r', { symbolic: true });
    const u = lowerDefinition(lib, 'named_u', { symbolic: true });
    const diffR = topoSort([r.value]).find((n) => n.op === 'sub')!;
    const diffU = topoSort([u.value]).find((n) => n.op === 'sub')!;
    expect(diffR).toBe(diffU); // one node for both
    expect(r.hints.get(diffR)).toBe('r');
    expect(u.hints.get(diffU)).toBe('u');
    expect(derivative('named_r', 'y_pred', { library: lib }).toString()).toBe('let r = y_pred - y_true\nlet t1 = exp(r)\nt1 + r * t1');
    expect(derivative('named_u', 'y_pred', { library: lib }).toString()).toBe('let u = y_pred - y_true\nlet t1 = exp(u)\nt1 + u * t1');
    expect(derivative('plain', 'y_pred', { library: lib }).toString()).toBe(PLAIN);
  });

  it('the playground: checking the whole program first (every loss lowered) changes no derivative', () => {
    // site/main.ts checks the program (checkProgram lowers each definition), then prints the chosen one.
    const checked = checkProgram(() => Library.fromSource(SOURCE));
    expect(checked.errors).toEqual([]);
    expect(derivative('plain', 'y_pred', { library: checked.library }).toString()).toBe(PLAIN);
    expect(derivative('plain', 'y_pred', { library: checked.library }).toLatex()).toBe(derivative('plain', 'y_pred', { library: lib }).toLatex());
  });
});
