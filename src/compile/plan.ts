// A plan: the IR flattened once into a list of kernel calls over numbered slots, so that a call
// only walks an array (no graph traversal, no lookups by name). Run it inside tf.tidy.

import type * as tf from '@tensorflow/tfjs';
import { LosscError } from '../errors.js';
import { topoSort, type Node } from '../ir/node.js';
import { KERNELS, type Kernel } from './kernels.js';

interface Step {
  kernel: Kernel;
  node: Node;
  args: number[];
  out: number;
}

export class Plan {
  private readonly steps: Step[] = [];
  private readonly inputSlots: number[];
  private readonly outputSlots: number[];
  private readonly slotCount: number;

  constructor(
    readonly roots: readonly Node[],
    readonly inputs: readonly Node[],
  ) {
    const order = topoSort(roots);
    const slot = new Map<Node, number>();
    inputs.forEach((n, i) => slot.set(n, i));
    let next = inputs.length;
    for (const n of order) {
      if (slot.has(n)) continue;
      if (n.op === 'input') {
        throw new LosscError('usage', `the formula reads \`${n.attrs.name as string}\`, which was not given`);
      }
      const out = next++;
      slot.set(n, out);
      this.steps.push({ kernel: KERNELS[n.op], node: n, args: n.args.map((a) => slot.get(a)!), out });
    }
    this.inputSlots = inputs.map((_, i) => i);
    this.outputSlots = roots.map((r) => slot.get(r)!);
    this.slotCount = next;
  }

  /** Run on tensors bound to the inputs (call inside tf.tidy: intermediates are not disposed here). */
  run(values: readonly tf.Tensor[]): tf.Tensor[] {
    const slots = new Array<tf.Tensor>(this.slotCount);
    for (const i of this.inputSlots) slots[i] = values[i]!;
    for (const s of this.steps) {
      const args = s.args.map((a) => slots[a]!);
      slots[s.out] = s.kernel(args, s.node);
    }
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
