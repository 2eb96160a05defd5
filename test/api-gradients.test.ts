// For every stdlib loss and option set: the gradient lossc attaches (symbolic, simplified,
// stabilised) agrees with tfjs's own tape through the compiled value, and with central finite
// differences of the float64 reference evaluator. No tensor leaks along the way.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Library } from '../src/lower/library.js';
import { Lowerer } from '../src/lower/lower.js';
import { bindSignature } from '../src/lower/signature.js';
import { evaluate } from '../src/eval/reference.js';
import { ndarray, type NdArray } from '../src/eval/ndarray.js';
import * as b from '../src/ir/build.js';
import { makeLoss } from '../src/api/losses.js';
import type { Static } from '../src/lower/builtins.js';
import { LOSS_INPUTS, logitOptions, seeded } from './helpers/loss-inputs.js';
import { baseName } from './helpers/arrays.js';

const lib = Library.stdlib();
const lossNames = lib.names().filter((n) => lib.get(n)!.def.kind === 'loss');


type Nested = number | Nested[];

function flat(x: Nested): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x];
}

function shapeOf(x: Nested): number[] {
  const s: number[] = [];
  for (let v = x; Array.isArray(v); v = v[0]!) s.push(v.length);
  return s;
}

/** d sum(loss) / d y_pred by central differences in float64 (y_pred of any rank). */
function finiteDifference(name: string, options: Record<string, Static>, yTrue: Nested, yPred: Nested): number[] {
  const def = lib.get(name)!.def;
  const shapeT = shapeOf(yTrue);
  const shapeP = shapeOf(yPred);
  const sig = bindSignature(def, { [def.params[0]!.name]: { shape: shapeT }, [def.params[1]!.name]: { shape: shapeP } });
  const lowered = new Lowerer(lib, false).lowerTop(def, options, sig);
  const total = b.reduce('sum', lowered.value, null);
  const t: NdArray = ndarray(yTrue);
  const base = flat(yPred);
  const at = (vals: number[]) => {
    const p: NdArray = { shape: shapeP, dtype: 'float32', data: Float64Array.from(vals) };
    return evaluate([total], { [def.params[0]!.name]: t, [def.params[1]!.name]: p })[0]!.data[0]!;
  };
  return base.map((v, k) => {
    const h = 1e-6 * Math.max(1, Math.abs(v));
    const up = [...base];
    up[k] = v + h;
    const down = [...base];
    down[k] = v - h;
    return (at(up) - at(down)) / (2 * h);
  });
}

function closeAll(got: number[], want: number[], rtol: number, atol: number): string | undefined {
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= atol + rtol * Math.abs(want[i]!))) return `entry ${i}: ${got[i]} vs ${want[i]}`;
  }
  return undefined;
}

describe('gradients of every stdlib loss', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('every stdlib loss has an input generator', () => {
    const missing = lossNames.map((n) => baseName(lib, n)).filter((n) => !(n in LOSS_INPUTS));
    expect([...new Set(missing)]).toEqual([]);
  });

  const cases: Array<[string, Record<string, unknown>, boolean]> = [];
  for (const name of Object.keys(LOSS_INPUTS)) {
    for (const o of LOSS_INPUTS[name]!.options) cases.push([name, o, false]);
    for (const o of logitOptions(name)) cases.push([name, o, true]);
  }

  for (const [name, options, logits] of cases) {
    it(`${name} ${JSON.stringify(options)}`, () => {
      if (!lib.get(name)) return; // reported by the coverage test above
      const entry = LOSS_INPUTS[name]!;
      const { yTrue, yPred } = (logits ? entry.gen2! : entry.gen)(seeded(name.length * 31 + JSON.stringify(options).length));
      const before = tf.memory().numTensors;
      const fn = makeLoss(lib, lib.get(name)!.def, { ...options, call: 'function' });
      const yt = tf.tensor(yTrue as number[]);
      const yp = tf.tensor(yPred);
      const custom = tf.grad((p: tf.Tensor) => tf.sum(fn(yt, p)))(yp);
      const taped = tf.grad((p: tf.Tensor) => tf.sum(fn.compiled.applyTaped([yt, p])))(yp);
      const gCustom = Array.from(custom.dataSync());
      const gTaped = Array.from(taped.dataSync());
      tf.dispose([yt, yp, custom, taped]);
      expect(tf.memory().numTensors).toBe(before);

      expect(gCustom.every(Number.isFinite), `lossc gradient finite: ${gCustom}`).toBe(true);
      const fd = finiteDifference(name, options as Record<string, Static>, yTrue, yPred);
      expect(closeAll(gCustom, fd, 2e-2, 2e-3), 'lossc gradient vs finite differences (float64)').toBeUndefined();
      // The tape may be NaN where lossc's stabilised gradient is not; compare where it is finite.
      const finite = gTaped.map((g, i) => (Number.isFinite(g) ? i : -1)).filter((i) => i >= 0);
      expect(closeAll(finite.map((i) => gCustom[i]!), finite.map((i) => gTaped[i]!), 1e-3, 1e-4), 'lossc gradient vs tf.grad').toBeUndefined();
    });
  }
});
