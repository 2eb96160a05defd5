// The WebGL target's planning, in Node (no GPU here: test/browser.test.ts runs the programs on
// webgl and checks them against op by op): the GLSL table covers every elementwise op, numbers
// enter the source only as literals, no attribute string reaches it, which nodes become
// programs, logsumexp spelled out, and a group's op-by-op fallback (tfjs's CPU hand-off).

import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as b from '../src/ir/build.js';
import { topoSort, type Node } from '../src/ir/node.js';
import { OPS, type OpName } from '../src/ir/ops.js';
import { KERNELS } from '../src/compile/kernels.js';
import { Plan } from '../src/compile/plan.js';
import { GLSL, glslFloat } from '../src/compile/webgl/glsl.js';
import { expandForWebgl, webglSteps } from '../src/compile/webgl/fuse.js';
import { runGroup } from '../src/compile/webgl/run.js';
import { losses } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ELEMENTWISE = new Set(['unary', 'binary', 'compare', 'logic', 'select']);

/** The webgl steps of a plan over `roots`, as the Plan builds them. */
function stepsOf(roots: Node[], inputs: Node[]) {
  const expanded = expandForWebgl(roots);
  return webglSteps(topoSort(expanded), expanded, new Set(inputs));
}

describe('the WebGL target', () => {
  it('has GLSL for every elementwise op', () => {
    const missing = (Object.keys(OPS) as OpName[]).filter((op) => ELEMENTWISE.has(OPS[op].family) && GLSL[op] === null);
    expect(missing).toEqual([]);
  });

  it('writes numbers as float literals only (exponent form; infinities and NaN by name; no subnormals, no strings)', () => {
    expect(glslFloat(0.5)).toBe('5e-1');
    expect(glslFloat(-2)).toBe('(-2e+0)');
    expect(glslFloat(1e-7)).toBe(`${Math.fround(1e-7).toExponential()}`);
    expect(glslFloat(Infinity)).toBe('LC_INF');
    expect(glslFloat(-Infinity)).toBe('(-LC_INF)');
    expect(glslFloat(NaN)).toBe('NAN');
    expect(glslFloat(0)).toBe('0.0');
    expect(glslFloat(1e-45)).toBeNull();
    expect(glslFloat('1; discard')).toBeNull();
    expect(glslFloat(true)).toBe('1e+0');
  });

  it('one program per elementwise chain a kernel or a root reads; reductions stay kernels; no attribute text in the source', () => {
    const yt = b.input('y_true; evil()', [8, 4]);
    const yp = b.input('y_pred', [8, 4]);
    const e = b.binary('sub', yt, yp);
    const v = b.reduce('mean', b.binary('mul', b.unary('log1p', b.binary('mul', e, e)), b.param('scale /* x */', 0.5)), [1]);
    const g = b.binary('mul', b.unary('exp', e), b.expandDims(v, 1));
    const steps = stepsOf([v, g], [yt, yp]);
    const programs = steps.filter((s) => s.group);
    expect(steps.map((s) => s.node.op)).toEqual(['mul', 'mean', 'expand_dims', 'mul']);
    expect(programs.map((s) => s.group!.inputs.length)).toEqual([2, 3]);
    for (const s of programs) {
      const src = s.group!.program.userCode;
      expect(src).not.toMatch(/evil|y_true|y_pred|scale/);
      expect(src).toContain('setOutput(');
      expect(s.group!.program.variableNames).toEqual(s.group!.inputs.map((_, i) => `x${i}`));
    }
    expect(programs[0]!.group!.program.userCode).toContain('5e-1');
  });

  it('ints stay with tfjs: the cast of int labels is a kernel, the float chain after it one program', () => {
    const labels = b.input('labels', [8], 'int32');
    const x = b.input('x', [8]);
    const y = b.binary('mul', b.binary('add', labels, b.constant(1)), x);
    const steps = stepsOf([y], [labels, x]);
    expect(steps.map((s) => [s.node.op, !!s.group])).toEqual([
      ['cast', false],
      ['mul', true],
    ]);
  });

  it('logsumexp spelled out: the same values as its kernel, -inf rows and NaN included', () => {
    const x = b.input('x', [3, 4]);
    const lse = b.reduce('logsumexp', b.binary('mul', x, b.constant(2)), [1]);
    const data = tf.tensor2d([
      [1, 2, 3, 100],
      [-Infinity, -Infinity, -Infinity, -Infinity],
      [0, NaN, 1, 2],
    ]);
    const want = tf.tidy(() => Array.from(new Plan([lse], [x]).run([data])[0]!.dataSync()));
    const got = tf.tidy(() => Array.from(new Plan(expandForWebgl([lse]), [x]).run([data])[0]!.dataSync()));
    expect(got).toEqual(want);
    expect(stepsOf([lse], [x]).map((s) => s.node.op)).toEqual(['mul', 'max', 'exp', 'sum', 'add', 'squeeze']);
    data.dispose();
  });

  it("a group run op by op where tfjs would hand its kernels to the CPU gives the plan's values", () => {
    const f = losses.binary_focal_crossentropy!();
    const entry = f.compiled.entry([{ shape: [4, 3] }, { shape: [4, 3] }]);
    const plan = entry.gradient(0).plan; // y_true's: its plan reads only the inputs and the seed
    const steps = stepsOf([...plan.roots], [...plan.inputs]);
    const yt = tf.tensor2d([[0, 1, 1], [1, 0, 0], [0, 0, 1], [1, 1, 0]]);
    const yp = tf.tensor2d([[0.1, 0.7, 0.4], [0.9, 0.2, 0.5], [0.3, 0.6, 0.8], [0.5, 0.5, 0.05]]);
    const dy = tf.ones([4]);
    const cpu = { compileAndRun: () => { throw new Error('no GPU here'); }, shouldExecuteOnCPU: () => true };
    const got = tf.tidy(() => {
      const values = new Map<Node, tf.Tensor>(plan.inputs.map((n, i) => [n, [yt, yp, dy][i]!]));
      for (const s of steps) {
        const args = (s.group ? s.group.inputs : s.node.args).map((a) => values.get(a)!);
        values.set(s.node, s.group ? runGroup(s.group, args, cpu) : KERNELS[s.node.op](args, s.node));
      }
      return plan.roots.map((r) => Array.from(values.get(r)!.dataSync()));
    });
    const want = tf.tidy(() => plan.run([yt, yp, dy]).map((t) => Array.from(t.dataSync())));
    expect(got).toEqual(want);
    expect(steps.filter((s) => s.group).length).toBeGreaterThan(0);
    tf.dispose([yt, yp, dy]);
  });
});
