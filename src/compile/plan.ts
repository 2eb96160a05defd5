// A plan: the IR flattened once into a list of steps over numbered slots, so that a call only
// walks an array (no graph traversal, no lookups by name). Run it inside tf.tidy. A step is one
// tfjs kernel per op; on webgl (src/compile/webgl/), elementwise chains are one program each,
// except while tfjs records a gradient (its tape does not know the programs).

import type * as tf from '@tensorflow/tfjs';
import { LosscError } from '../errors.js';
import { topoSort, type Node } from '../ir/node.js';
import { recordingGradients } from './engine.js';
import { KERNELS } from './kernels.js';
import { webglSteps } from './webgl/fuse.js';
import { runGroup, webglTarget } from './webgl/run.js';

interface Step {
  run(args: tf.Tensor[]): tf.Tensor;
  args: number[];
  out: number;
}

export class Plan {
  private readonly steps: Step[];
  private webgl?: Step[];
  private readonly slot = new Map<Node, number>();
  private readonly inputSlots: number[];
  private readonly outputSlots: number[];

  constructor(
    readonly roots: readonly Node[],
    readonly inputs: readonly Node[],
  ) {
    const order = topoSort(roots);
    inputs.forEach((n, i) => this.slot.set(n, i));
    for (const n of order) {
      if (this.slot.has(n)) continue;
      if (n.op === 'input') {
        throw new LosscError('usage', `the formula reads \`${n.attrs.name as string}\`, which was not given`);
      }
      this.slot.set(n, this.slot.size);
    }
    this.steps = order.filter((n) => this.slot.get(n)! >= inputs.length).map((n) => this.kernelStep(n));
    this.inputSlots = inputs.map((_, i) => i);
    this.outputSlots = roots.map((r) => this.slot.get(r)!);
  }

  private kernelStep(node: Node): Step {
    const kernel = KERNELS[node.op];
    return { run: (args) => kernel(args, node), args: node.args.map((a) => this.slot.get(a)!), out: this.slot.get(node)! };
  }

  /** The steps for webgl: built on first use there. */
  private webglPlan(): Step[] {
    return (this.webgl ??= webglSteps(topoSort(this.roots), this.roots, new Set(this.inputs)).map(({ node, group }) => {
      if (!group) return this.kernelStep(node);
      return {
        run: (args: tf.Tensor[]) => runGroup(group, args, webglTarget()!),
        args: group.inputs.map((x) => this.slot.get(x)!),
        out: this.slot.get(node)!,
      };
    }));
  }

  /** Run on tensors bound to the inputs (call inside tf.tidy: intermediates are not disposed here). */
  run(values: readonly tf.Tensor[]): tf.Tensor[] {
    const slots = new Array<tf.Tensor>(this.slot.size);
    for (const i of this.inputSlots) slots[i] = values[i]!;
    const steps = webglTarget() && !recordingGradients() ? this.webglPlan() : this.steps;
    for (const s of steps) slots[s.out] = s.run(s.args.map((a) => slots[a]!));
    // An output that is one of the given tensors (the formula is an input, or a kernel such as
    // a reduction over no axes returned its argument), or another output again, is a copy: a
    // tf.customGrad that returns the tensor it was given counts its gradient twice.
    const given = new Set<tf.Tensor>(values);
    return this.outputSlots.map((o) => {
      const t = slots[o]!;
      if (!given.has(t)) {
        given.add(t);
        return t;
      }
      return t.clone();
    });
  }

  get length(): number {
    return this.steps.length;
  }
}
