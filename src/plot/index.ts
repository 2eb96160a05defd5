// `lossc plot`'s stage: losses (or their derivatives) along one input, as curves with axes,
// ready for the SVG writer (svg.ts) or a Vega-Lite spec (vega.ts). It needs no file system, so
// the playground page uses it as it is.

import { scaleLinear } from 'd3-scale';
import { LosscError, didYouMean } from '../errors.js';
import type { Static } from '../lower/builtins.js';
import type { Library } from '../lower/library.js';
import { mappingNamed } from './mappings.js';
import { makeProbe, sample, type Quantity } from './sample.js';

export { MAPPINGS, mappingList } from './mappings.js';
export { toSvg } from './svg.js';
export { toVegaLite } from './vega.js';

export interface Sweep {
  name: string;
  values: Static[];
  /** The values as the user wrote them (for the legend). */
  texts: string[];
}

export interface PlotRequest {
  library: Library;
  losses: string[];
  /** A name in MAPPINGS. */
  over: string;
  range?: [number, number];
  /** The input differentiated (and varied): the loss's prediction, `y_pred` in the stdlib. */
  wrt?: string;
  options?: Record<string, Static>;
  sweep?: Sweep;
  derivative?: boolean;
  /** The y-axis range; by default the rule of `yDomain`. */
  y?: [number, number];
  title?: string;
  width?: number;
  height?: number;
}

export interface Curve {
  label: string;
  points: Array<[number, number]>;
}

export interface Plot {
  title: string;
  xLabel: string;
  yLabel: string;
  xDomain: [number, number];
  yDomain: [number, number];
  curves: Curve[];
  width: number;
  height: number;
}

/** Greek letters for the option names papers write that way (legend and title only). */
const GREEK: Record<string, string> = { alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ', epsilon: 'ε', tau: 'τ', lambda: 'λ', sigma: 'σ', kappa: 'κ' };

export function symbolFor(name: string): string {
  return GREEK[name] ?? name;
}

export function computePlot(req: PlotRequest): Plot {
  if (req.losses.length === 0) throw new LosscError('usage', 'plot needs at least one loss');
  const m = mappingNamed(req.over);
  const [lo, hi] = req.range ?? m.range;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) throw new LosscError('usage', `the range of \`${req.over}\` must be two finite numbers, low < high, got ${lo}:${hi}`);
  const width = req.width ?? 640;
  const height = req.height ?? 420;
  const quantity: Quantity = req.derivative ? 'derivative' : 'value';
  const sweeps = req.sweep ? req.sweep.values.map((v, i) => ({ value: v, text: req.sweep!.texts[i]! })) : [undefined];
  if (req.sweep && req.sweep.values.length === 0) throw new LosscError('usage', `--sweep ${req.sweep.name} needs at least one value`);
  const curves: Curve[] = [];
  checkOptionsKnown(req);
  for (const name of req.losses) {
    const def = req.library.require(name, ['loss']).def;
    const pred = def.params[1]?.name ?? 'y_pred';
    if (req.wrt !== undefined && req.wrt !== pred) {
      const first = def.params[0]?.name ?? 'y_true';
      throw new LosscError('usage', `\`${req.over}\` varies \`${name}\`'s prediction \`${pred}\` (its target \`${first}\` is fixed), so --wrt must be ${pred}, got \`${req.wrt}\``);
    }
    // With several losses, an option applies to those that have it (delta to huber, not to mse).
    const has = (k: string) => req.losses.length === 1 || def.options.some((o) => o.name === k);
    const own = Object.fromEntries(Object.entries(req.options ?? {}).filter(([k]) => has(k)));
    const swept = req.sweep && has(req.sweep.name) ? sweeps : [undefined];
    for (const s of swept) {
      const options = { ...own };
      if (s && req.sweep) options[req.sweep.name] = s.value;
      const probe = makeProbe(req.library, name, req.over, m, options, quantity);
      const points = sample(probe, lo, hi, { widthPx: width, heightPx: height, ySpan: (xs, ys) => spanOf(yDomain(xs, ys, lo, hi)) });
      const sweptText = s && req.sweep ? `${symbolFor(req.sweep.name)} = ${s.text}` : '';
      const label = req.losses.length > 1 ? (sweptText ? `${name}, ${sweptText}` : name) : sweptText || name;
      curves.push({ label, points });
    }
  }
  const all = curves.flatMap((c) => c.points);
  const yDom = req.y ?? niceDomain(yDomain(all.map((p) => p[0]), all.map((p) => p[1]), lo, hi));
  const fixed = [...Object.entries(req.options ?? {}).map(([k, v]) => `${symbolFor(k)} = ${String(v)}`), ...defaultsShown(req)];
  const what = req.derivative ? `derivative of ${req.losses.join(', ')}` : req.losses.join(', ');
  const title = req.title ?? `${what} over ${req.over}${fixed.length ? ` (${fixed.join(', ')})` : ''}`;
  const yLabel = req.derivative ? `∂loss / ∂${req.over}` : 'loss';
  return { title, xLabel: m.label, yLabel, xDomain: [lo, hi], yDomain: yDom, curves, width, height };
}

/** A single loss's numeric options left at their defaults, as written (the title says what was drawn). */
function defaultsShown(req: PlotRequest): string[] {
  if (req.losses.length !== 1) return [];
  const def = req.library.require(req.losses[0]!, ['loss']).def;
  const taken = new Set([...Object.keys(req.options ?? {}), ...(req.sweep ? [req.sweep.name] : []), 'axis']);
  return def.options.filter((o) => !taken.has(o.name) && o.default.kind === 'number').map((o) => `${symbolFor(o.name)} = ${o.default.kind === 'number' ? o.default.text : ''}`);
}

/** With several losses, each option given must belong to at least one of them. */
function checkOptionsKnown(req: PlotRequest): void {
  if (req.losses.length < 2) return;
  const defs = req.losses.map((n) => req.library.require(n, ['loss']).def);
  const known = [...new Set(defs.flatMap((d) => d.options.map((o) => o.name)))];
  for (const k of [...Object.keys(req.options ?? {}), ...(req.sweep ? [req.sweep.name] : [])]) {
    if (!known.includes(k)) {
      throw new LosscError('option', `none of ${req.losses.join(', ')} has an option \`${k}\`${didYouMean(k, known)}${known.length ? ` (their options: ${known.join(', ')})` : ''}`);
    }
  }
}

function spanOf([a, b]: [number, number]): number {
  return b - a;
}

/**
 * The y-range the curves are drawn in: their values, except that an end reached only near the
 * edges of the x-range (the outer 1% on each side), and more than twice as far out as the rest
 * of the curve goes, is cut to what the inner 98% reaches. So -log(p_t) near p_t = 0 does not
 * flatten every other curve, while a parabola keeps its ends.
 */
export function yDomain(xs: number[], ys: number[], lo: number, hi: number): [number, number] {
  const margin = (hi - lo) * 0.01;
  let [min, max, imin, imax] = [Infinity, -Infinity, Infinity, -Infinity];
  xs.forEach((x, i) => {
    const y = ys[i]!;
    if (!Number.isFinite(y)) return;
    min = Math.min(min, y);
    max = Math.max(max, y);
    if (x >= lo + margin && x <= hi - margin) {
      imin = Math.min(imin, y);
      imax = Math.max(imax, y);
    }
  });
  if (!Number.isFinite(min)) return [0, 1];
  if (!Number.isFinite(imin)) return [min, max];
  const inner = Math.max(imax - imin, 1e-12);
  const top = max - imin > 2 * inner ? imax : max;
  const bottom = imax - min > 2 * inner ? imin : min;
  return [bottom, top];
}

/** The range rounded out to round ticks, with a flat curve given some room. */
function niceDomain([a, b]: [number, number]): [number, number] {
  if (b - a < 1e-9 * Math.max(1, Math.abs(a))) return [a - 1, b + 1];
  return scaleLinear().domain([a, b]).nice(8).domain() as [number, number];
}
