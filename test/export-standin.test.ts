// The JAX and Keras 3 exports. Neither can be installed here, so every exported module (each
// stdlib loss, both targets, and JAX --with-gradient) is checked with py_compile, and run on the
// NumPy stand-ins in test/fixtures/export/standin (which map the jax.numpy / keras.ops names
// the modules use to NumPy): values against lossc on the Keras reference cases and the random
// cases, keras.losses.Loss subclasses through get_config/from_config, and jax.custom_vjp's
// backward (lossc's derivative) against lossc's gradient.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { exportLoss } from '../src/export/index.js';
import { Library } from '../src/lower/library.js';
import { buildCases, type CaseSet } from './helpers/export-cases.js';
import { kerasCases } from './helpers/arrays.js';
import { PYTHON, pythonHas, relError, runCases, tempDir, type PyAnswer } from './helpers/python.js';
import type { Target } from '../src/export/index.js';

const HAVE = pythonHas(['numpy']);
const RTOL = 1e-5;

describe.skipIf(!HAVE)('exported JAX and Keras 3 modules (py_compile, NumPy stand-ins)', () => {
  const sets = new Map<Target, CaseSet>();
  const answers = new Map<Target, Map<string, PyAnswer>>();
  let dir = '';
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = tempDir('standin');
    for (const [t, s] of buildCases(dir, ['jax', 'keras'], { grad: false, withGradient: false, classes: true, vjp: true })) sets.set(t, s);
    for (const t of ['jax', 'keras'] as const) answers.set(t, runCases(dir, t, sets.get(t)!.expected.map((e) => e.case), true));
  }, 600_000);

  it('every stdlib loss exports to jax, jax --with-gradient and keras, and each module compiles', () => {
    const lib = Library.stdlib();
    const names = lib.names().filter((n) => lib.get(n)!.def.kind === 'loss');
    const files: string[] = [];
    for (const n of names) {
      for (const [t, g] of [['jax', false], ['jax', true], ['keras', false]] as const) {
        const f = join(dir, `compile_${n}_${t}${g ? '_g' : ''}.py`);
        writeFileSync(f, exportLoss(n, t, { withGradient: g }));
        files.push(f);
      }
    }
    const r = spawnSync(PYTHON, ['-c', 'import py_compile, sys\nfor f in sys.argv[1:]:\n    py_compile.compile(f, doraise=True)', ...files], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(files.length).toBe(names.length * 3);
  });

  for (const target of ['jax', 'keras'] as const) {
    it(`${target}: every case matches lossc's value on the stand-in${target === 'keras' ? ' (function and Loss subclass)' : ''}`, () => {
      const set = sets.get(target)!;
      const bad: string[] = [];
      let worst = 0;
      let n = 0;
      for (const e of set.expected) {
        if (e.case.vjp) continue;
        n++;
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
      console.log(`export ${target} (stand-in): ${n} cases, ${set.losses} losses, max rel error ${worst.toExponential(2)}`);
      expect(bad.slice(0, 20)).toEqual([]);
      expect(set.expected.filter((e) => e.case.id.startsWith('random:')).length).toBeGreaterThan(800);
      expect(set.expected.filter((e) => e.case.id.startsWith('keras:')).length).toBe(kerasCases().length);
    });
  }

  it("jax --with-gradient: custom_vjp's backward equals lossc's gradient", () => {
    const bad: string[] = [];
    let worst = 0;
    let n = 0;
    for (const e of sets.get('jax')!.expected) {
      if (!e.case.vjp) continue;
      n++;
      const a = answers.get('jax')!.get(e.case.id)!;
      if (a.error || !a.vjp_grads || a.vjp_grads.length !== 1) {
        bad.push(`${e.case.id}: ${a.error ?? `${a.vjp_grads?.length} custom_vjp calls`}`);
        continue;
      }
      const err = relError(a.vjp_grads[0], e.grad);
      if (typeof err === 'string' || err > 1e-4) bad.push(`${e.case.id}: ${err}`);
      else worst = Math.max(worst, err);
    }
    console.log(`export jax custom_vjp (stand-in): ${n} cases, max rel error ${worst.toExponential(2)}`);
    expect(bad).toEqual([]);
    expect(n).toBeGreaterThan(60);
  });
});
