// The checks of one well-formed program: it must compile; the compiled value (float32) must
// match the float64 reference evaluator; the compiled gradient must match central differences
// of the reference (in random directions, skipping directions where the difference quotient is
// not stable across two step sizes: a kink or a discontinuity nearby); the fused target must
// match the op-by-op one; and no tensor may be left behind.

import * as tf from '@tensorflow/tfjs';
import { makeLoss } from '../../src/api/losses.js';
import { FastPath } from '../../src/compile/fast.js';
import { LosscError } from '../../src/errors.js';
import { broadcastShape, broadcastTo, type NdArray } from '../../src/eval/ndarray.js';
import { evaluate } from '../../src/eval/reference.js';
import * as b from '../../src/ir/build.js';
import { mapDag, topoSort, withArgs, type Node } from '../../src/ir/node.js';
import { Library } from '../../src/lower/library.js';
import { Lowerer } from '../../src/lower/lower.js';
import { bindSignature } from '../../src/lower/signature.js';
import { Rng } from '../rng.js';

export type FailKind = 'crash' | 'hang' | 'unlocated' | 'rejected' | 'wrong-value' | 'wrong-gradient' | 'fused-vs-op' | 'leak';

export type Verdict =
  | { kind: 'ok'; fused: boolean; skippedChecks: number }
  | { kind: 'skip'; reason: string }
  | { kind: 'fail'; check: FailKind; detail: string };

/** What the checker needs besides the text: the inputs and the options to compile with. */
export interface WellCase {
  seed: number;
  yTrueShape: number[];
  yPredShape: number[];
  labels: boolean;
  yTrue: number[];
  yPred: number[];
  overrides: Record<string, number | boolean>;
}

// Tolerances: float32 compute against float64, relative plus absolute.
const VALUE_RTOL = 2e-3;
const VALUE_ATOL = 1e-4;
const GRAD_RTOL = 1e-2;
const GRAD_ATOL = 1e-3;
/** Two FD step sizes; a direction whose two estimates differ more than this is near a kink. */
const H1 = 1e-3;
const H2 = 1e-4;
const FD_AGREE = 2e-3;
const PATHS_RTOL = 1e-3;

const fail = (check: FailKind, detail: string): Verdict => ({ kind: 'fail', check, detail });

type Total = (yt: Float64Array, yp: Float64Array) => number;

/**
 * The reference's total (sum of the per-sample values, masked ones zeroed) as a function of the
 * inputs; and the same with every stop_gradient frozen at its value at (yt0, yp0), whose
 * differences are what lossc's gradient must match.
 */
function referenceTotals(lib: Library, c: WellCase, yt0: Float64Array, yp0: Float64Array): { total: Total; frozen: Total; nearJump: boolean; literalTie: boolean; tie: boolean; overflow: boolean; nudged: number } {
  const def = lib.get('f')!.def;
  const sig = bindSignature(def, { y_true: { shape: c.yTrueShape }, y_pred: { shape: c.yPredShape } });
  const lowered = new Lowerer(lib, false).lowerTop(def, c.overrides, sig);
  let v: Node = lowered.value;
  if (lowered.mask) v = b.mul(v, b.cast(lowered.mask, 'float32'));
  const root = exactInFloat64([b.reduce('sum', v, null)])[0]!;
  const dtT = lowered.inputs[0]!.dtype;
  const inputs = (yt: Float64Array, yp: Float64Array): Record<string, NdArray> => ({
    y_true: { shape: c.yTrueShape, dtype: dtT, data: yt },
    y_pred: { shape: c.yPredShape, dtype: 'float32', data: yp },
  });
  const fn = (r: Node): Total => (yt, yp) => evaluate([r], inputs(yt, yp))[0]!.data[0]!;
  const jump = nearDiscontinuity(root, inputs(yt0, yp0));
  const nearJump = jump === 'near' || periodicOfLarge(root, inputs(yt0, yp0));
  const literalTie = jump === 'literal tie';
  const overflow = infiniteInside(root, inputs(yt0, yp0));
  const tie = exactTie(root, inputs(yt0, yp0)) || overflow || tinyClampBites(root, inputs(yt0, yp0));
  const nudged = fn(nudgeConstants(root))(yt0, yp0);
  const stops = topoSort([root]).filter((n) => n.op === 'stop_gradient');
  if (!stops.length) return { total: fn(root), frozen: fn(root), nearJump, literalTie, tie, overflow, nudged };
  const at0 = evaluate(stops, inputs(yt0, yp0));
  const frozenValue = new Map(stops.map((n, i) => [n, at0[i]!]));
  const [frozenRoot] = mapDag([root], (n, args) => {
    const f = frozenValue.get(n);
    if (!f) return withArgs(n, args);
    return f.shape.length === 0 ? b.constant(f.data[0]!) : b.tensorConst(Array.from(f.data), f.shape);
  });
  return { total: fn(root), frozen: fn(frozenRoot!), nearJump, literalTie, tie, overflow, nudged };
}

/**
 * The graph with each non-integer float constant moved by one float32 ulp: where that moves the
 * value past the tolerance, float32's rounding of the constants alone decides it, and the value
 * is not checked (seed 4029003: `l2_normalize(log_cosh(a, a))` is `(softplus(0) - log(2)) / eps`,
 * 0 in float32 and -0.019 in float64, whose log(2) is a float32 constant).
 */
function nudgeConstants(root: Node): Node {
  return mapDag([root], (n, args) => {
    const v = n.attrs.value;
    if (n.op === 'const' && n.dtype === 'float32' && typeof v === 'number' && !Number.isInteger(v)) return b.constant(v * (1 + 2 ** -22));
    return withArgs(n, args);
  })[0]!;
}

/**
 * Does an elementwise maximum or minimum of two computed values sit exactly on a tie? There lossc
 * gives the whole adjoint to the first argument (TensorFlow's rule, README "Gradients at kinks");
 * no local rule is right for every composition (`minimum(maximum(stop_gradient(a), a), a)` is `a`,
 * yet every tie rule gives it a gradient of 0, 1/4 or 1/2, seed 10300153), and when the
 * composition is smooth the one-sided quotients cannot see the kink; the gradient is not checked.
 */
function exactTie(root: Node, inputs: Record<string, NdArray>): boolean {
  const literal = (x: Node) => x.op === 'const' || x.op === 'tensor' || x.op === 'param';
  const ties = topoSort([root]).filter((n) => (n.op === 'maximum' || n.op === 'minimum') && !n.args.some(literal));
  if (!ties.length) return false;
  const args = [...new Set(ties.flatMap((n) => n.args))];
  const evaluated = evaluate(args, inputs);
  const values = new Map(args.map((a, i) => [a, evaluated[i]!]));
  return ties.some((n) => {
    const shape = broadcastShape(n.args.map((x) => values.get(x)!.shape));
    const [x, y] = n.args.map((a) => broadcastTo(values.get(a)!, shape).data);
    return x!.some((v, i) => v === y![i]);
  });
}

/**
 * Does a clamp at a tiny floor bite (`max(sum(x^2), epsilon^2)`: a norm of a vector at or near 0)?
 * Past it the derivative is divided by ε, about 1e7, and terms that cancel in exact arithmetic
 * (x/|x| over a one-entry axis, seed 73737176) leave a float32 rounding of 1e-8, of order 1 there:
 * no float32 program resolves that gradient, and it is not checked.
 */
function tinyClampBites(root: Node, inputs: Record<string, NdArray>): boolean {
  const floor = (x: Node) => x.op === 'const' && typeof x.attrs.value === 'number' && x.attrs.value > 0 && x.attrs.value <= 1e-6;
  const clamps = topoSort([root]).filter((n) => n.op === 'maximum' && n.args.some(floor) && !n.args.every(floor));
  if (!clamps.length) return false;
  const args = clamps.map((n) => n.args.find((a) => !floor(a))!);
  const evaluated = evaluate(args, inputs);
  return clamps.some((n, i) => {
    const c = n.args.find(floor)!.attrs.value as number;
    return evaluated[i]!.data.some((v) => v < c);
  });
}

/**
 * Does a periodic op (sin, cos) take an argument so large that its float32 rounding alone moves
 * the value past the tolerance (seed 73729157: sin of an infeasible ctc, 1e5 ± 0.004)? Then the
 * float32 value is not checked against float64's.
 */
function periodicOfLarge(root: Node, inputs: Record<string, NdArray>): boolean {
  const periodic = topoSort([root]).filter((n) => (n.op === 'sin' || n.op === 'cos') && n.args[0]!.op !== 'const');
  if (!periodic.length) return false;
  const evaluated = evaluate(periodic.map((n) => n.args[0]!), inputs);
  return evaluated.some((v) => v.data.some((x) => Math.abs(x) * 2 ** -24 > 1e-5));
}

/**
 * Is some value on the way infinite or NaN while the total is finite? There the chain rule meets
 * 0 · ∞ (seed 50641095: `0.99^cosh(ctc)` with an infeasible ctc is 0 in a whole neighbourhood,
 * yet the derivative's `sinh(ctc)` is ∞), as in every autodiff system; the gradient is not checked.
 */
function infiniteInside(root: Node, inputs: Record<string, NdArray>): boolean {
  const floats = topoSort([root]).filter((n) => n.dtype === 'float32');
  return evaluate(floats, inputs).some((v) => v.data.some((x) => !Number.isFinite(x)));
}

/**
 * The reference as float64 computes it exactly: `1 - sigmoid(x)` becomes `sigmoid(-x)` (the same
 * function), since past x ~ 30 float64 cancels it to a few ulps of 1e-16 and `log(1 - sigmoid(x))`
 * is off by whole units (seed 4025123: -36.04 for -36), which lossc's exact rewrite then "fails".
 */
function exactInFloat64(roots: Node[]): Node[] {
  return mapDag(roots, (n, args) => {
    const [one, s] = args;
    if (n.op === 'sub' && one?.op === 'const' && one.attrs.value === 1 && s?.op === 'sigmoid') return b.sigmoid(b.neg(s.args[0]!));
    return withArgs(n, args);
  });
}

/** Ops whose value jumps: where their argument sits (relatively) this close to the jump, float32 may land on the other side. */
const JUMP_MARGIN = 1e-4;
const JUMPS = new Set(['floor', 'sign', 'lt', 'le', 'gt', 'ge', 'eq', 'ne', 'cast']);

/**
 * Is any discontinuous op's argument within float32's reach of its jump at these inputs (floor or
 * int of a near-whole number, a comparison of near-equal values, the sign of a near-zero)? Then
 * the float32 value may differ from the float64 one by a whole step, and the value is not checked.
 */
function nearDiscontinuity(root: Node, inputs: Record<string, NdArray>): 'near' | 'literal tie' | null {
  const jumps = topoSort([root]).filter((n) => JUMPS.has(n.op) && n.args.every((a) => a.dtype === 'float32') && !(n.op === 'cast' && n.dtype === 'float32'));
  if (!jumps.length) return null;
  let literalTie = false;
  const args = [...new Set(jumps.flatMap((n) => n.args))];
  const evaluated = evaluate(args, inputs);
  const values = new Map(args.map((a, i) => [a, evaluated[i]!]));
  const literal = (x: Node) => x.op === 'const' || x.op === 'tensor';
  for (const n of jumps) {
    if (n.args.every(literal)) continue; // exact in float32 as in float64
    const shape = broadcastShape(n.args.map((x) => values.get(x)!.shape));
    const [a, b2] = n.args.map((x) => broadcastTo(values.get(x)!, shape).data);
    for (let i = 0; i < a!.length; i++) {
      const x = a![i]!;
      if (n.op === 'floor' || (n.op === 'cast' && n.dtype === 'int32')) {
        if (Math.abs(x - Math.round(x)) <= JUMP_MARGIN * (1 + Math.abs(x))) return 'near';
      } else if (n.op === 'cast' || n.op === 'sign') {
        if (Math.abs(x) <= JUMP_MARGIN) return 'near';
      } else {
        const y = b2![i]!;
        if (x !== y && Math.abs(x - y) <= JUMP_MARGIN * (1 + Math.abs(x) + Math.abs(y))) return 'near';
        // An exact tie of two computed values: float32 rounds each side on its own way, and the
        // order of the operations decides (seed 50630089: y + 1 <= -1 + (y + 2), where y + 2
        // is no float32). A computed value against a literal is a 'literal tie': float32 may
        // keep it (softmax over one entry is exactly 1, seed 50435957) or not (mean(...) - (y +
        // 1.5) is -2 in float64, -1.9999999 in float32, seed 74772937), see checkWell.
        if (x === y && n.args[0] !== n.args[1]) {
          if (!n.args.some(literal)) return 'near';
          literalTie = true;
        }
      }
    }
  }
  return literalTie ? 'literal tie' : null;
}

interface Compiled {
  value: number;
  gT: Float32Array;
  gP: Float32Array;
}

function run(f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, c: WellCase): Compiled {
  const yt = tf.tensor(c.yTrue, c.yTrueShape, 'float32');
  const yp = tf.tensor(c.yPred, c.yPredShape, 'float32');
  try {
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, p: tf.Tensor) => f(a, p) as tf.Scalar)([yt, yp]);
    const out = { value: value.dataSync()[0]!, gT: grads[0]!.dataSync() as Float32Array, gP: grads[1]!.dataSync() as Float32Array };
    tf.dispose([value, ...grads]);
    return out;
  } finally {
    tf.dispose([yt, yp]);
  }
}

const close = (a: number, b: number, rtol: number, atol: number) => Math.abs(a - b) <= atol + rtol * Math.max(Math.abs(a), Math.abs(b));

function unitDirection(r: Rng, n: number): Float64Array {
  const v = Float64Array.from({ length: n }, () => r.gaussian());
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

/** Check one program's text against its case. `scale` bounds its intermediate values (tolerances). */
export function checkWell(text: string, c: WellCase, scale: number): Verdict {
  let lib: Library;
  let total: Total;
  let frozen: Total;
  let nearJump: boolean;
  let literalTie: boolean;
  let tie: boolean;
  let overflow: boolean;
  let nudged: number;
  const yt = Float64Array.from(c.yTrue);
  const yp = Float64Array.from(c.yPred);
  try {
    lib = Library.fromSource(text, '<fuzz>');
  } catch (e) {
    return e instanceof LosscError ? fail('rejected', e.message) : fail('crash', `parse: ${String((e as Error)?.stack ?? e)}`);
  }
  let ref: number;
  try {
    ({ total, frozen, nearJump, literalTie, tie, overflow, nudged } = referenceTotals(lib, c, yt, yp));
    ref = total(yt, yp);
  } catch (e) {
    return e instanceof LosscError ? fail('rejected', `reference: ${e.message}`) : fail('crash', `reference: ${String((e as Error)?.stack ?? e)}`);
  }
  if (!Number.isFinite(ref)) return { kind: 'skip', reason: 'reference not finite' };

  const compiled = compileAndRun(lib, c);
  if ('kind' in compiled) return compiled;
  const { fusedOut, opOut } = compiled;

  const r = new Rng(c.seed ^ 0x5eed);
  const tolV = (x: number) => VALUE_ATOL * (1 + scale * 1e-2) + VALUE_RTOL * Math.abs(x);
  // Is the value stable under tiny input changes? (A discontinuity or a huge condition number nearby.)
  // Nor is it checked where a value on the way overflowed in float64 and something (a minimum, a
  // where) hid it: lossc's stable rewrites compute it (seed 71757580: minimum(ctc, log1p(exp(ctc /
  // 10))) at an infeasible ctc of 1e5 is 1e4, where float64's exp(1e4) is ∞ and the minimum 1e5).
  let stable = !nearJump && !overflow && Math.abs(nudged - ref) <= tolV(ref) / 4;
  for (let k = 0; k < 2 && stable; k++) {
    const dp = unitDirection(r, yp.length).map((v, i) => yp[i]! + 1e-5 * v);
    const dt = c.labels ? yt : unitDirection(r, yt.length).map((v, i) => yt[i]! + 1e-5 * v);
    const moved = total(dt, dp);
    if (!(Math.abs(moved - ref) <= tolV(ref) / 4)) stable = false;
  }
  const outs: Array<[string, Compiled]> = fusedOut ? [['fused', fusedOut], ['op-by-op', opOut]] : [['op-by-op', opOut]];
  // At a float64 tie with a literal, float32 rounding may take the other side: the targets must
  // agree with each other (both paths, where the fused one runs), not with float64.
  if (literalTie && (!fusedOut || Math.abs(fusedOut.value - opOut.value) <= tolV(ref))) stable = false;
  let skipped = 0;
  for (const [name, o] of outs) {
    if (!Number.isFinite(o.value)) return fail('wrong-value', `${name}: value ${o.value}, reference ${ref}`);
    if (stable && !(Math.abs(o.value - ref) <= tolV(ref))) return fail('wrong-value', `${name}: value ${o.value}, reference ${ref}`);
    if (c.labels && o.gT.some((g) => g !== 0)) return fail('wrong-gradient', `${name}: integer labels got a nonzero gradient`);
  }
  if (!stable) skipped++;

  // Near a jump float32 may take the other side, and what the jump's value multiplies is the
  // gradient too (seed 4017008: y * sign(v) where v is 0 in float64, -4e-8 in float32); at an
  // exact tie the rule decides (exactTie). There a gradient that disagrees is a skipped check.
  let grads = gradientChecks(frozen, c, outs, r, scale);
  if ('kind' in grads && (tie || nearJump || literalTie)) grads = { stable: false, skipped: 1 };
  if ('kind' in grads) return grads;
  skipped += grads.skipped;
  const allStable = stable && grads.stable;
  if (fusedOut && allStable) {
    const d = compare(fusedOut, opOut);
    if (d && !float32Noise(d, compiled.again, c, r)) return fail('fused-vs-op', d.detail);
    if (d) skipped++;
  }
  return { kind: 'ok', fused: fusedOut !== undefined, skippedChecks: skipped };
}

type Again = (c: WellCase) => { fusedOut?: Compiled; opOut: Compiled };

/** Compile (fused when it applies, and op-by-op through a sample weight) and run value and gradient; no tensor may stay behind. */
function compileAndRun(lib: Library, c: WellCase): { fusedOut?: Compiled; opOut: Compiled; again: Again } | Verdict {
  const before = tf.memory().numTensors;
  let fusedOut: Compiled | undefined;
  let opOut: Compiled;
  let again: Again;
  try {
    const def = lib.get('f')!.def;
    const fn = makeLoss(lib, def, { ...c.overrides, reduction: 'sum' });
    const fast = new FastPath(fn.compiled.pipeline, 'sum');
    const fusedApplies = fast.prepare([c.yTrueShape, c.yPredShape]) !== null;
    if (fusedApplies) fusedOut = run((a, p) => fast.tryCall([a, p])!, c);
    opOut = run((a, p) => fn(a, p, 1), c);
    if (!fusedApplies) run((a, p) => fn(a, p), c); // the default call, through whatever path it takes
    again = (c2) => ({ fusedOut: fusedApplies ? run((a, p) => fast.tryCall([a, p])!, c2) : undefined, opOut: run((a, p) => fn(a, p, 1), c2) });
  } catch (e) {
    return e instanceof LosscError ? fail('rejected', `compiled: ${e.message}`) : fail('crash', `compiled: ${String((e as Error)?.stack ?? e)}`);
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) return fail('leak', `${leaked} tensor(s) left after the calls`);
  return { fusedOut, opOut, again };
}

/**
 * Directional derivatives of the compiled code against central differences: two along y_pred, one
 * along y_true (floats), one along both. A direction is skipped where the differences show a kink:
 * two step sizes disagree, or the forward and backward quotients do.
 */
function gradientChecks(frozen: Total, c: WellCase, outs: Array<[string, Compiled]>, r: Rng, scale: number): { stable: boolean; skipped: number } | Verdict {
  // Directions: two in y_pred, one in y_true (floats), one in both.
  const dirs: Array<{ vt: Float64Array; vp: Float64Array; what: string }> = [];
  const yt = Float64Array.from(c.yTrue);
  const yp = Float64Array.from(c.yPred);
  const zeroT = new Float64Array(yt.length);
  const zeroP = new Float64Array(yp.length);
  dirs.push({ vt: zeroT, vp: unitDirection(r, yp.length), what: 'y_pred' });
  dirs.push({ vt: zeroT, vp: unitDirection(r, yp.length), what: 'y_pred' });
  if (!c.labels && yt.length) {
    dirs.push({ vt: unitDirection(r, yt.length), vp: zeroP, what: 'y_true' });
    const a = unitDirection(r, yt.length + yp.length);
    dirs.push({ vt: a.slice(0, yt.length), vp: a.slice(yt.length), what: 'y_true and y_pred' });
  }
  let stable = true;
  let skipped = 0;
  for (const { vt, vp, what } of dirs) {
    const at = (h: number) => frozen(yt.map((v, i) => v + h * vt[i]!), yp.map((v, i) => v + h * vp[i]!));
    const fd1 = (at(H1) - at(-H1)) / (2 * H1);
    const up = at(H2);
    const down = at(-H2);
    const fd2 = (up - down) / (2 * H2);
    // A kink exactly at the point (a tie, say) is symmetric: the one-sided quotients tell it.
    const mid = at(0);
    const oneSided = close((up - mid) / H2, (mid - down) / H2, FD_AGREE * 10, 1e-5 * (1 + scale));
    if (!Number.isFinite(fd1) || !Number.isFinite(fd2) || !oneSided || !close(fd1, fd2, FD_AGREE, 1e-6 * (1 + scale))) {
      skipped++;
      stable = false;
      continue;
    }
    // What float64 differences can resolve at this value: its rounding over the step (seed
    // 74702290: ctc^4 of an infeasible ctc is 3e19, whose ulp, 4096, over h = 1e-4 is 4e7).
    const resolution = 64 * Math.abs(mid) * 2 ** -52 / H2;
    for (const [name, o] of outs) {
      let dot = 0;
      let mag = 0;
      for (let i = 0; i < vt.length; i++) {
        dot += o.gT[i]! * vt[i]!;
        mag += Math.abs(o.gT[i]! * vt[i]!);
      }
      for (let i = 0; i < vp.length; i++) {
        dot += o.gP[i]! * vp[i]!;
        mag += Math.abs(o.gP[i]! * vp[i]!);
      }
      if (!Number.isFinite(dot) || !(Math.abs(dot - fd2) <= GRAD_ATOL + GRAD_RTOL * (mag + Math.abs(fd2)) + resolution)) {
        return fail('wrong-gradient', `${name}: directional derivative along ${what} ${dot}, central differences ${fd2} (h=${H1}: ${fd1})`);
      }
    }
  }
  return { stable, skipped };
}

interface Disagreement {
  detail: string;
  /** The gradient entry (undefined: the value). */
  entry?: { of: 'gT' | 'gP'; i: number };
}

/**
 * Is a fused/op-by-op gradient disagreement float32 rounding? It is when moving the inputs by a
 * few float32 ulps moves that entry on either path by half as much: a gradient that is the
 * difference of large backward terms (seed 50189860: l2_normalize over an axis of size 1, whose
 * gradient is 0 as 24 600 - 24 600, one ulp 0.002) has no digits either path could get right.
 */
function float32Noise(d: Disagreement, again: Again, c: WellCase, r: Rng): boolean {
  if (!d.entry) return false;
  const { of, i } = d.entry;
  const first = again(c);
  const gap = Math.abs(first.fusedOut![of][i]! - first.opOut[of][i]!);
  let spread = 0;
  for (let k = 0; k < 3; k++) {
    const nudge = (xs: number[]) => xs.map((x) => x * (1 + 1e-6 * r.gaussian()));
    const moved = again({ ...c, yPred: nudge(c.yPred), yTrue: c.labels ? c.yTrue : nudge(c.yTrue) });
    for (const o of [moved.fusedOut!, moved.opOut]) spread = Math.max(spread, Math.abs(o[of][i]! - first.opOut[of][i]!));
  }
  return 2 * spread >= gap;
}

function compare(a: Compiled, o: Compiled): Disagreement | undefined {
  if (!close(a.value, o.value, PATHS_RTOL, 1e-5)) return { detail: `value: fused ${a.value}, op-by-op ${o.value}` };
  for (const [name, x, y] of [['y_true', a.gT, o.gT], ['y_pred', a.gP, o.gP]] as const) {
    let m = 0;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!), Math.abs(y[i]!));
    for (let i = 0; i < x.length; i++) {
      if (!close(x[i]!, y[i]!, PATHS_RTOL, 1e-4 * (1 + m))) return { detail: `gradient of ${name}[${i}]: fused ${x[i]}, op-by-op ${y[i]}`, entry: { of: name === 'y_true' ? 'gT' : 'gP', i } };
    }
  }
  return undefined;
}
