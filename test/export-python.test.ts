// The exported Python, run by /usr/bin/python3 (Debian's numpy and torch 1.13): every stdlib
// loss and the user-written ones, exported to NumPy and PyTorch, give lossc's values on every
// Keras reference case and on random cases with every reduction, with and without sample
// weights (rtol 1e-5, atol 1e-6); PyTorch autograd's gradient equals lossc's, and so does the
// backward of --with-gradient (lossc's own derivative). One python process per target.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildCases, type CaseSet } from './helpers/export-cases.js';
import { kerasCases } from './helpers/arrays.js';
import { pythonHas, relError, runCases, SKIP_NOTE, tempDir, type PyAnswer } from './helpers/python.js';
import type { Target } from '../src/export/index.js';

const HAVE = pythonHas(['numpy', 'torch']);
const RTOL = 1e-5;
// lossc's gradients are float32 (tfjs); the exported ones run in float64 here. Large, summed
// gradients (circle's scale 80) differ from float32 by up to ~2e-5 of their size.
const GRAD_RTOL = 1e-4;

describe.skipIf(!HAVE)('exported NumPy and PyTorch modules against lossc', () => {
  const sets = new Map<Target, CaseSet>();
  const answers = new Map<Target, Map<string, PyAnswer>>();
  beforeAll(async () => {
    await tf.setBackend('cpu');
    const dir = tempDir('export');
    for (const [t, s] of buildCases(dir, ['numpy', 'pytorch'], { grad: true, withGradient: true, classes: true })) sets.set(t, s);
    for (const t of ['numpy', 'pytorch'] as const) answers.set(t, runCases(dir, t, sets.get(t)!.expected.map((e) => e.case)));
  }, 600_000);

  for (const target of ['numpy', 'pytorch'] as const) {
    it(`${target}: every case matches lossc's value (and the wrapper class matches the function)`, () => {
      const set = sets.get(target)!;
      const bad: string[] = [];
      let worst = 0;
      for (const e of set.expected) {
        const a = answers.get(target)!.get(e.case.id)!;
        if (a.error) {
          bad.push(`${e.case.id} (${e.case.module}): ${a.error}`);
          continue;
        }
        for (const [what, got] of [['value', a.value], ['class', a.class_value]] as const) {
          if (what === 'class' && !e.case.class) continue;
          const err = relError(got, e.value);
          if (typeof err === 'string' || err > RTOL) bad.push(`${e.case.id} ${what}: ${err} (got ${JSON.stringify(got)}, lossc ${JSON.stringify(e.value)})`);
          else worst = Math.max(worst, err);
        }
      }
      console.log(`export ${target}: ${set.expected.length} cases, ${set.losses} losses, ${set.modules} modules, max rel error ${worst.toExponential(2)}`);
      expect(bad.slice(0, 20)).toEqual([]);
      expect(set.expected.filter((e) => e.case.id.startsWith('random:')).length).toBeGreaterThan(800);
      expect(set.expected.filter((e) => e.case.id.startsWith('keras:')).length).toBe(kerasCases().length);
    });
  }

  it("pytorch: autograd's gradient and --with-gradient's backward equal lossc's gradient", () => {
    const set = sets.get('pytorch')!;
    const bad: string[] = [];
    const worst = { autograd: 0, lossc: 0, value: 0 };
    let n = 0;
    for (const e of set.expected) {
      if (!e.case.grad) continue;
      n++;
      const a = answers.get('pytorch')!.get(e.case.id)!;
      if (a.error) continue; // reported by the value test
      for (const [what, got, want] of [['autograd', a.grad, e.grad], ['lossc', a.grad_lossc, e.grad], ['value', a.value_lossc, e.value]] as const) {
        const err = relError(got, want);
        if (typeof err === 'string' || err > (what === 'value' ? RTOL : GRAD_RTOL)) bad.push(`${e.case.id} ${what}: ${err} (got ${JSON.stringify(got)}, lossc ${JSON.stringify(want)})`);
        else worst[what] = Math.max(worst[what], err);
      }
    }
    console.log(`export pytorch gradients: ${n} cases, max rel error autograd ${worst.autograd.toExponential(2)}, --with-gradient ${worst.lossc.toExponential(2)} (its values ${worst.value.toExponential(2)})`);
    expect(bad.slice(0, 20)).toEqual([]);
    expect(n).toBeGreaterThan(800);
  });
});

// Without Python and torch, say so (CI installs them, so there this never shows).
if (!HAVE) describe('exported Python', () => it.skip(SKIP_NOTE, () => {}));
