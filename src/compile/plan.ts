// A plan: the IR flattened once into a list of steps over numbered slots, so that a call only
// walks an array (no graph traversal, no lookups by name). Run it inside tf.tidy. A step is one
// tfjs kernel per op; on webgl (src/compile/webgl/), elementwise chains are one program each,
// except while tfjs records a gradient (its tape does not know the programs).

import type * as tf from '@tensorflow/tfjs';
import { LosscError } from '../errors.js';
import { Node, topoSort } from '../ir/node.js';
import { recordingGradients } from './engine.js';
import { KERNELS } from './kernels.js';
import { expandForWebgl, webglSteps } from './webgl/fuse.js';
import { runGroup, webglTarget } from './webgl/run.js';

interface Step {
  run(args: tf.Tensor[]): tf.Tensor;
  args: number[];
  out: number;
}

/** Steps over slots: the inputs first, then one slot per node. */
interface Schedule {
  steps: Step[];
  slots: number;
  outputs: number[];
}

/** Slots for `roots` (inputs first), and the steps `stepsOf` gives for the nodes to compute, arguments first. */
function schedule(roots: readonly Node[], inputs: readonly Node[], stepsOf: (order: Node[], slot: Map<Node, number>) => Step[]): Schedule {
  // Bound nodes are leaves: what only they read (a forward intermediate's own arguments) is not computed.
  const order = topoSort(roots, new Set(inputs));
  const slot = new Map<Node, number>();
  inputs.forEach((n, i) => slot.set(n, i));
  for (const n of order) {
    if (slot.has(n)) continue;
    if (n.op === 'input') throw new LosscError('usage', `the formula reads \`${n.attrs.name as string}\`, which was not given`);
    slot.set(n, slot.size);
  }
  return { steps: stepsOf(order, slot), slots: slot.size, outputs: roots.map((r) => slot.get(r)!) };
}

function kernelStep(node: Node, slot: ReadonlyMap<Node, number>): Step {
  const kernel = KERNELS[node.op];
  return { run: (args) => kernel(args, node), args: node.args.map((a) => slot.get(a)!), out: slot.get(node)! };
}

/**
 * Forms tfjs runs in fewer kernels, one entry a rewrite of a node whose arguments are rewritten
 * already (undefined: not its pattern). Only the tfjs kernels' schedule uses them.
 */
const TFJS_FORMS: Array<(n: Node) => Node | undefined> = [
  // lo <= x and x <= hi (a clip's gradient mask), constant bounds: clip(x, lo, hi) == x, one
  // comparison with the clip the forward computes (false for NaN, as both comparisons are).
  (n) => {
    if (n.op !== 'and') return undefined;
    const ge = n.args.find((a) => a.op === 'ge');
    const le = n.args.find((a) => a.op === 'le');
    const x = ge?.args[0];
    if (!ge || !le || !x || le.args[0] !== x || x.dtype !== 'float32' || x.shape.join() !== n.shape.join()) return undefined;
    const [lo, hi] = [ge.args[1]!, le.args[1]!];
    if (lo.op !== 'const' || hi.op !== 'const' || !((lo.attrs.value as number) <= (hi.attrs.value as number))) return undefined;
    return Node.make('eq', [Node.make('clip', [x, lo, hi]), x]);
  },
  // x == 0 or x == 1 (hinge's test for {0, 1} labels): x * (x - 1) == 0, exact for every float
  // (NaN and ±inf give NaN and inf; a nonzero x - 1 times a nonzero x underflows to no 0, as
  // |x - 1| is about 1 where |x| is tiny). Cheap arithmetic and one comparison, not two and an or.
  (n) => {
    if (n.op !== 'or') return undefined;
    const [p, q] = n.args as [Node, Node];
    const value = (c: Node) => (c.op === 'const' ? (c.attrs.value as number) : undefined);
    const x = p.args[0];
    if (p.op !== 'eq' || q.op !== 'eq' || !x || q.args[0] !== x || x.dtype !== 'float32' || x.shape.join() !== n.shape.join()) return undefined;
    const cs = [value(p.args[1]!), value(q.args[1]!)].sort();
    if (cs[0] !== 0 || cs[1] !== 1) return undefined;
    const [zero, one] = (value(p.args[1]!) === 0 ? [p.args[1]!, q.args[1]!] : [q.args[1]!, p.args[1]!]) as [Node, Node];
    return Node.make('eq', [Node.make('mul', [x, Node.make('sub', [x, one])]), zero]);
  },
];

/** `roots` with every node in its TFJS_FORMS form (the same nodes when no form applies). */
export function tfjsForms(roots: readonly Node[]): Node[] {
  const made = new Map<Node, Node>();
  for (const n of topoSort(roots)) {
    const args = n.args.map((a) => made.get(a)!);
    const m = args.some((a, i) => a !== n.args[i]) ? Node.make(n.op, args, n.attrs) : n;
    made.set(n, TFJS_FORMS.reduce<Node | undefined>((found, form) => found ?? form(m), undefined) ?? m);
  }
  return roots.map((r) => made.get(r)!);
}

export class Plan {
  private readonly kernels: Schedule;
  private webgl?: Schedule;

  constructor(
    readonly roots: readonly Node[],
    readonly inputs: readonly Node[],
  ) {
    const bound = new Set(inputs);
    this.kernels = schedule(tfjsForms(roots), inputs, (order, slot) => order.filter((n) => !bound.has(n)).map((n) => kernelStep(n, slot)));
  }

  /** The schedule for webgl (built on first use there): kernels, and a program per elementwise chain. */
  private webglSchedule(): Schedule {
    if (this.webgl) return this.webgl;
    const roots = expandForWebgl(this.roots);
    return (this.webgl = schedule(roots, this.inputs, (order, slot) =>
      webglSteps(order, roots, new Set(this.inputs)).map(({ node, group }) => {
        if (!group) return kernelStep(node, slot);
        const run = (args: tf.Tensor[]) => runGroup(group, args, webglTarget()!);
        return { run, args: group.inputs.map((x) => slot.get(x)!), out: slot.get(node)! };
      }),
    ));
  }

  /**
   * Run on tensors bound to the inputs (call inside tf.tidy: intermediates are not disposed here).
   * `distinct`: how many outputs, from the first, must be tensors of their own (all by default);
   * the others may be given tensors (outputs saved for a backward pass, which copies them anyway).
   */
  run(values: readonly tf.Tensor[], distinct = Infinity): tf.Tensor[] {
    const { steps, slots: count, outputs } = webglTarget() && !recordingGradients() ? this.webglSchedule() : this.kernels;
    const slots = new Array<tf.Tensor>(count);
    values.forEach((v, i) => (slots[i] = v));
    for (const s of steps) slots[s.out] = s.run(s.args.map((a) => slots[a]!));
    // An output that is one of the given tensors (the formula is an input, or a kernel such as
    // a reduction over no axes returned its argument), or another output again, is a copy: a
    // tf.customGrad that returns the tensor it was given counts its gradient twice.
    const given = new Set<tf.Tensor>(values);
    return outputs.map((o, i) => {
      const t = slots[o]!;
      if (i >= distinct || !given.has(t)) {
        given.add(t);
        return t;
      }
      return t.clone();
    });
  }

  get length(): number {
    return this.kernels.steps.length;
  }
}
