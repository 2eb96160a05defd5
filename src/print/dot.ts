// IR → Graphviz dot: one graph node per IR node (its op, a summary of its attributes, its shape),
// one edge per argument, from a node to each of its arguments. Roots are drawn with a double
// border. Node ids follow dependency order (n0 is the first leaf), so output is deterministic.

import { topoSort, type Node } from '../ir/node.js';
import { lookupName, type NameSource } from './lets.js';
import { OPS, reduceAxes } from '../ir/ops.js';
import { showShape } from '../ir/shape.js';
import { floatText, tensorText } from './text.js';

export interface DotOptions {
  /** The graph's name (an identifier; default `lossc`). */
  name?: string;
  /** Labels for the roots (e.g. `d/dy_pred`), drawn as a note pointing at each root. */
  rootLabels?: readonly string[];
  /** The `let` names the lowering of these nodes recorded (`Lowered.hints`), shown beside nodes. */
  hints?: NameSource;
}

/** A dot double-quoted string. */
export function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

const clip = (s: string, n = 48): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function summary(n: Node): string {
  const at = n.attrs;
  if (OPS[n.op].family === 'reduce' || n.op === 'size') {
    const x = n.args[0]!;
    const axes = reduceAxes(at, x.rank);
    const all = axes.length === x.rank;
    return `${n.op}${all ? '' : ` axes=[${axes.join(', ')}]`}${at.keepdims === true ? ' keepdims' : ''}`;
  }
  switch (n.op) {
    case 'input':
      return `input ${at.name}`;
    case 'param':
      return `param ${at.name} = ${Array.isArray(at.value) ? `[${(at.value as number[]).map(floatText).join(', ')}]` : floatText(at.value as number)}`;
    case 'const': {
      const v = at.value as number;
      if (at.dtype === 'bool') return `const ${v ? 'true' : 'false'}`;
      if (at.dtype === 'int32') return `const int ${v}`;
      return `const ${floatText(v)}`;
    }
    case 'tensor':
      return `tensor ${clip(tensorText(at.values as number[], at.shape as unknown[]))}`;
    case 'cast':
      return `cast ${at.dtype}`;
    default: {
      const keys = Object.keys(at).sort();
      if (keys.length === 0) return n.op;
      const shown = keys.map((k) => `${k}=${Array.isArray(at[k]) ? `[${(at[k] as unknown[]).join(', ')}]` : String(at[k])}`);
      return `${n.op} ${clip(shown.join(' '))}`;
    }
  }
}

function nodeShape(n: Node): string {
  if (n.op === 'input' || n.op === 'param') return 'ellipse';
  if (n.op === 'const' || n.op === 'tensor') return 'plaintext';
  return 'box';
}

/** The DAG below `roots` as a Graphviz digraph. */
export function toDot(root: Node | readonly Node[], opts: DotOptions = {}): string {
  const roots = Array.isArray(root) ? [...(root as readonly Node[])] : [root as Node];
  const order = topoSort(roots);
  const id = new Map<Node, string>();
  order.forEach((n, i) => id.set(n, `n${i}`));
  const rootSet = new Set(roots);
  const graphName = opts.name && /^[A-Za-z_][A-Za-z0-9_]*$/.test(opts.name) ? opts.name : 'lossc';

  const lines: string[] = [`digraph ${graphName} {`, '  node [shape=box, fontname="Helvetica"];', '  edge [fontsize=9];'];
  for (const n of order) {
    const hint = lookupName(opts.hints, n);
    const dtype = n.dtype === 'float32' ? '' : ` ${n.dtype}`;
    const label = [summary(n) + (hint ? ` (${hint})` : ''), `${showShape(n.shape)}${dtype}`].join('\n');
    const attrs = [`label=${dotString(label)}`, `shape=${nodeShape(n)}`];
    if (rootSet.has(n)) attrs.push('peripheries=2');
    lines.push(`  ${id.get(n)} [${attrs.join(', ')}];`);
  }
  for (const n of order) {
    const many = n.args.length > 1 && OPS[n.op].family !== 'leaf';
    n.args.forEach((a, i) => {
      lines.push(`  ${id.get(n)} -> ${id.get(a)}${many ? ` [label="${i}"]` : ''};`);
    });
  }
  (opts.rootLabels ?? []).forEach((l, i) => {
    const r = roots[i];
    if (!r) return;
    lines.push(`  r${i} [label=${dotString(l)}, shape=note];`);
    lines.push(`  r${i} -> ${id.get(r)} [style=dashed];`);
  });
  lines.push('}');
  return lines.join('\n') + '\n';
}
