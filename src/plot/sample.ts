// The numbers on a plot's curves: lossc's compiled loss (and its compiled symbolic gradient,
// through tf.grad and the customGrad it attaches) evaluated along a mapping, sampled on a grid
// and refined where the curve bends, so that kinks and jumps are drawn where they are.

import * as tf from '@tensorflow/tfjs';
import { CompiledDefinition } from '../compile/compiled.js';
import { LosscError } from '../errors.js';
import type { Static } from '../lower/builtins.js';
import type { Library } from '../lower/library.js';
import { mappingOptions, type Mapping } from './mappings.js';

export type Quantity = 'value' | 'derivative';

/** Evaluates one loss (options fixed) at many x at once: its value or d value / d x. */
export type Probe = (xs: number[]) => number[];

export function makeProbe(lib: Library, name: string, over: string, m: Mapping, given: Record<string, Static>, quantity: Quantity): Probe {
  const def = lib.require(name, ['loss']).def;
  const options = mappingOptions(over, m, def, given);
  const compiled = new CompiledDefinition(lib, def, options);
  const k = m.target.length;
  const run = (xs: number[]): number[] =>
    tf.tidy(() => {
      const n = xs.length;
      const yt = tf.tensor2d(xs.flatMap(() => m.target), [n, k]);
      const yp = tf.tensor2d(xs.flatMap((x) => m.prediction(x)), [n, k]);
      const perSample = (p: tf.Tensor): tf.Tensor => {
        const v = compiled.apply([yt, p]).value;
        if (v.rank === 0 || v.shape[0] !== n) {
          throw new LosscError('shape', `\`${name}\` does not give one value per sample (its value has shape [${v.shape.join(', ')}] for ${n} samples)`);
        }
        return v.rank === 1 ? v : tf.sum(v, [...Array(v.rank).keys()].slice(1));
      };
      if (quantity === 'value') return Array.from(perSample(yp).dataSync());
      const g = tf.grad((p: tf.Tensor) => tf.sum(perSample(p)))(yp);
      const slope = tf.sum(tf.mul(g, tf.tensor1d(m.tangent)), 1);
      return Array.from(slope.dataSync());
    });
  return (xs) => {
    if (xs.length === 0) return [];
    try {
      return run(xs);
    } catch (e) {
      // A loss that reduces over the whole batch (dice with axis = none): one sample per call.
      if (e instanceof LosscError && e.kind === 'shape' && xs.length > 1 && /one value per sample/.test(e.detail)) {
        return xs.flatMap((x) => run([x]));
      }
      throw e;
    }
  };
}

export interface SampleOptions {
  /** Points of the first, even grid. */
  grid?: number;
  /** Rounds of refinement (each halves the intervals still bending). */
  rounds?: number;
  /** Drawing size, so that the tolerance is in pixels. */
  widthPx: number;
  heightPx: number;
  /** Largest gap, in pixels, between the curve and its chord. */
  tolerancePx?: number;
  /** The y-range the curve will be drawn in (its tolerance is relative to it). */
  ySpan?: (xs: number[], ys: number[]) => number;
}

/**
 * Sample f on [lo, hi]: an even grid, then rounds of bisection of every interval whose midpoint
 * is off its chord by more than the tolerance (or whose ends differ in finiteness), down to
 * intervals a thousandth of a pixel wide. Each round is one batched call of f.
 */
export function sample(f: Probe, lo: number, hi: number, o: SampleOptions): Array<[number, number]> {
  const grid = o.grid ?? 121;
  const rounds = o.rounds ?? 20;
  let xs = Array.from({ length: grid }, (_, i) => Math.fround(lo + ((hi - lo) * i) / (grid - 1)));
  let ys = f(xs);
  const minWidth = ((hi - lo) / o.widthPx) * 1e-3;
  let bending = xs.slice(1).map(() => true);
  for (let round = 0; round < rounds && bending.some(Boolean); round++) {
    const span = o.ySpan ? o.ySpan(xs, ys) : spanOf(ys);
    const tol = ((o.tolerancePx ?? 0.2) * (span > 0 ? span : 1)) / o.heightPx;
    const mids: number[] = [];
    const at: number[] = [];
    bending.forEach((b, i) => {
      const m = Math.fround((xs[i]! + xs[i + 1]!) / 2);
      if (b && xs[i + 1]! - xs[i]! > minWidth && m > xs[i]! && m < xs[i + 1]!) {
        mids.push(m);
        at.push(i);
      }
    });
    if (!mids.length) break;
    const ym = f(mids);
    const nx: number[] = [xs[0]!];
    const ny: number[] = [ys[0]!];
    const nb: boolean[] = [];
    let j = 0;
    for (let i = 0; i + 1 < xs.length; i++) {
      if (at[j] === i) {
        const [a, b, c] = [ys[i]!, ym[j]!, ys[i + 1]!];
        const off = !(Number.isFinite(a) && Number.isFinite(b) && Number.isFinite(c)) ? Number.isFinite(a) !== Number.isFinite(c) || Number.isFinite(a) !== Number.isFinite(b) : Math.abs(b - (a + c) / 2) > tol;
        nx.push(mids[j]!, xs[i + 1]!);
        ny.push(b, c);
        nb.push(off, off);
        j++;
      } else {
        nx.push(xs[i + 1]!);
        ny.push(ys[i + 1]!);
        nb.push(false);
      }
    }
    [xs, ys, bending] = [nx, ny, nb];
  }
  return xs.map((x, i) => [x, ys[i]!]);
}

function spanOf(ys: number[]): number {
  const fin = ys.filter(Number.isFinite);
  return fin.length ? Math.max(...fin) - Math.min(...fin) : 1;
}
