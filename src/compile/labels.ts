// Keras raises on a class label outside [0, classes) (TensorFlow's "Received a label value of 7
// which is outside the valid range of [0, 2)"), where the `one_hot` op itself, like tf.oneHot,
// gives a row of zeros and so a silent loss of 0. A compiled loss checks, before computing, the
// labels that every `one_hot` of its lowered graph reads, on the call's data.
//
// Cost: nothing for losses without `one_hot`. Labels that are an input (the common case, y_true)
// are scanned in place, one comparison per label; computed labels (`where(valid, labels, 0)` of
// an ignore_class) are evaluated alone by the reference evaluator, over the labels only.

import * as tf from '@tensorflow/tfjs';
import { LosscError } from '../errors.js';
import { topoSort, type Node } from '../ir/node.js';
import { fromData } from '../eval/ndarray.js';
import { evaluate } from '../eval/reference.js';
import { readData } from './tensor-data.js';
import type { Dim } from '../ir/shape.js';

interface OneHotLabels {
  /** The int labels one `one_hot` reads. */
  labels: Node;
  /** Its number of classes (a symbol in a signature's graph: the call gives its value). */
  classes: Dim;
  /** The input the labels are (or are cast from), when they are one: scanned without evaluating. */
  direct?: number;
}

export interface LabelCheck {
  checks: OneHotLabels[];
  inputs: readonly Node[];
}

/** What must be checked on the data of `roots` (from inputs `inputs`); undefined when nothing. */
export function labelCheck(roots: readonly Node[], inputs: readonly Node[]): LabelCheck | undefined {
  const checks: OneHotLabels[] = [];
  const seen = new Set<string>();
  for (const n of topoSort(roots)) {
    if (n.op !== 'one_hot') continue;
    const classes = n.shape[n.rank - 1]!;
    const labels = n.args[0]!;
    const key = `${labels.id}:${classes}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // Casts between int and float (an int[...] input cast to float and back, as the stdlib's
    // sparse losses do) change no label's verdict: truncation is what firstOutside models, and an
    // int too large for a float is outside [0, classes) either way. A cast to bool does change it.
    let source = labels;
    while (source.op === 'cast' && source.dtype !== 'bool') source = source.args[0]!;
    const at = inputs.indexOf(source);
    checks.push({ labels, classes, direct: at >= 0 ? at : undefined });
  }
  return checks.length ? { checks, inputs } : undefined;
}

/** Throws a 'value' error naming the loss when a label is outside [0, classes). Creates no tensors. */
export function checkLabels(check: LabelCheck | undefined, xs: readonly tf.Tensor[], loss: string, size: (d: Dim) => number = Number): void {
  if (!check) return;
  for (const c0 of check.checks) {
    const c = { ...c0, classes: size(c0.classes) };
    const bad = c.direct !== undefined ? firstOutside(readData(xs[c.direct]!), c.classes) : computedOutside(c, check.inputs, xs);
    if (bad !== undefined) {
      throw new LosscError(
        'value',
        `\`${loss}\`: a label is ${bad}, outside the valid range [0, ${c.classes}) of its ${c.classes} classes` +
          ' (labels are class ids from 0; an ignored label needs the ignore_class option)',
      );
    }
  }
}

/** The first value outside [0, classes) once truncated to an integer (as labels are cast), if any. */
function firstOutside(data: ArrayLike<number>, classes: number): number | undefined {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // NaN compares false both ways: it is outside too (its cast to int would be 0, a wrong class).
    if (!(v > -1 && v < classes)) return v;
  }
  return undefined;
}

function computedOutside(c: OneHotLabels & { classes: number }, inputs: readonly Node[], xs: readonly tf.Tensor[]): number | undefined {
  const values: Record<string, ReturnType<typeof fromData>> = {};
  for (const n of topoSort([c.labels])) {
    if (n.op !== 'input') continue;
    const i = inputs.indexOf(n);
    const x = xs[i];
    if (!x) return undefined; // not one of the call's inputs: nothing to read
    values[n.attrs.name as string] = fromData(x.shape, readData(x));
  }
  const [labels] = evaluate([c.labels], values);
  return firstOutside(labels!.data, c.classes);
}
