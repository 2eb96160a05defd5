// `lossc plot` (src/plot/, src/cli/plot.ts): the focal-loss paper's Figure 1 and the Huber / MSE /
// MAE comparison (values and derivatives) as golden SVGs; `lossc playground`'s static server; the curves' numbers against closed
// forms; kinks drawn where they are; the mapping table's errors; Vega-Lite output.
// LOSSC_UPDATE_GOLDEN=1 rewrites the golden files.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { serveStatic } from '../src/cli/playground.js';
import { useBackend } from '../src/backend.js';
import { Library } from '../src/lower/library.js';
import { computePlot, MAPPINGS, toVegaLite, type Plot } from '../src/plot/index.js';

const GOLDEN = join(import.meta.dirname, 'golden');
const update = process.env.LOSSC_UPDATE_GOLDEN === '1';

async function lossc(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The golden figures: file name and the command line that draws it. */
export const FIGURES: Record<string, string[]> = {
  'focal-paper.svg': ['plot', 'focal_loss', '--wrt', 'y_pred', '--over', 'p_t=0:1', '--sweep', 'gamma=0,0.5,1,2,5', '--option', 'alpha=1'],
  'focal.svg': ['plot', 'focal_loss', '--wrt', 'y_pred', '--over', 'p_t=0:1', '--sweep', 'gamma=0,0.5,1,2,5'],
  'huber.svg': ['plot', 'huber', 'mean_squared_error', 'mean_absolute_error', '--over', 'residual=-3:3'],
  'huber-derivative.svg': ['plot', 'huber', 'mean_squared_error', 'mean_absolute_error', '--over', 'residual=-3:3', '--derivative'],
};

const lib = Library.stdlib();
const plot = (req: Partial<Parameters<typeof computePlot>[0]> & { losses: string[]; over: string }): Plot => computePlot({ library: lib, ...req });
const curve = (p: Plot, label: string) => p.curves.find((c) => c.label === label)!.points;

beforeAll(async () => {
  await useBackend('cpu');
});

describe('golden figures', () => {
  for (const [file, argv] of Object.entries(FIGURES)) {
    it(`lossc ${argv.join(' ')}`, async () => {
      const r = await lossc(...argv);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const svg = r.out + '\n';
      const path = join(GOLDEN, file);
      if (update) writeFileSync(path, svg);
      expect(existsSync(path), `${path} (LOSSC_UPDATE_GOLDEN=1 writes it)`).toBe(true);
      expect(svg).toBe(readFileSync(path, 'utf8'));
    });
  }

  it('is deterministic: the same command twice gives the same bytes', async () => {
    const a = await lossc(...FIGURES['huber.svg']!);
    const b = await lossc(...FIGURES['huber.svg']!);
    expect(a.out).toBe(b.out);
  });
});

describe('the curves are the losses', () => {
  it('focal loss with alpha = 1 is -(1 - p_t)^gamma log(p_t) (CE at gamma = 0), the paper\'s Figure 1', () => {
    const p = plot({ losses: ['focal_loss'], over: 'p_t', sweep: { name: 'gamma', values: [0, 0.5, 1, 2, 5], texts: ['0', '0.5', '1', '2', '5'] }, options: { alpha: 1 } });
    expect(p.curves.map((c) => c.label)).toEqual(['γ = 0', 'γ = 0.5', 'γ = 1', 'γ = 2', 'γ = 5']);
    expect(p.yDomain).toEqual([0, 5]);
    for (const [i, g] of [0, 0.5, 1, 2, 5].entries()) {
      for (const [x, y] of p.curves[i]!.points) {
        const q = Math.min(Math.max(x, 1e-7), 1 - 1e-7);
        const want = -((1 - q) ** g) * Math.log(q);
        expect(Math.abs(y - want)).toBeLessThan(2e-3 * Math.max(1, Math.abs(want)));
      }
    }
    // Keras's binary_focal_crossentropy has no alpha by default: the same figure.
    const k = plot({ losses: ['binary_focal_crossentropy'], over: 'p_t', sweep: { name: 'gamma', values: [2], texts: ['2'] } });
    for (const [x, y] of k.curves[0]!.points.filter(([x]) => x > 0.01 && x < 0.99)) {
      expect(Math.abs(y - -((1 - x) ** 2) * Math.log(x))).toBeLessThan(1e-3);
    }
  });

  it('the default alpha = 0.25 scales the positives\' curve by 0.25', () => {
    const p = plot({ losses: ['focal_loss'], over: 'p_t', sweep: { name: 'gamma', values: [0], texts: ['0'] } });
    const [x, y] = curve(p, 'γ = 0').find(([x]) => x >= 0.1)!;
    expect(y).toBeCloseTo(-0.25 * Math.log(x), 4);
  });

  it('derivatives are lossc\'s gradient: huber\'s is the residual clipped to ±delta, MAE\'s the sign', () => {
    const p = plot({ losses: ['huber', 'mean_absolute_error'], over: 'residual', range: [-3, 3], derivative: true, options: { delta: 1.5 } });
    for (const [x, y] of curve(p, 'huber')) expect(y).toBeCloseTo(Math.max(-1.5, Math.min(1.5, x)), 5);
    for (const [x, y] of curve(p, 'mean_absolute_error')) expect(y).toBe(Math.sign(x));
    expect(p.yLabel).toBe('∂loss / ∂residual');
  });

  it('draws kinks where they are: the polyline stays within a quarter pixel of huber\'s and hinge\'s true curves', () => {
    // The plotting area is 554 x 320 px.
    const p = plot({ losses: ['huber'], over: 'residual', range: [-3, 3], derivative: true, options: { delta: 0.77 } });
    const h = curve(p, 'huber');
    const [xpx, ypx] = [6 / 554, (p.yDomain[1] - p.yDomain[0]) / 320];
    expect(Math.min(...h.map(([x]) => Math.abs(x - 0.77))) / xpx).toBeLessThan(0.5);
    const chordsWithin = (pts: Array<[number, number]>, f: (x: number) => number, ypx: number) => {
      for (let i = 1; i < pts.length; i++) {
        const [x0, y0] = pts[i - 1]!;
        const [x1, y1] = pts[i]!;
        for (const t of [0.25, 0.5, 0.75]) {
          const x = x0 + t * (x1 - x0);
          expect(Math.abs(y0 + t * (y1 - y0) - f(x)) / ypx).toBeLessThan(0.25);
        }
      }
    };
    chordsWithin(h, (x) => Math.max(-0.77, Math.min(0.77, x)), ypx);
    const q = plot({ losses: ['hinge'], over: 'margin', range: [-2.3, 2.9] });
    const hinge = curve(q, 'hinge');
    chordsWithin(hinge, (m) => Math.max(0, 1 - m), (q.yDomain[1] - q.yDomain[0]) / 320);
    expect(Math.min(...hinge.map(([x]) => Math.abs(x - 1))) / (5.2 / 554)).toBeLessThan(0.5);
    // Smooth stretches are not oversampled.
    expect(hinge.length).toBeLessThan(400);
  });

  it('one-hot rows with logits set from_logits: categorical cross-entropy over z is softplus(-z)', () => {
    const p = plot({ losses: ['categorical_crossentropy'], over: 'logit_onehot' });
    for (const [z, y] of curve(p, 'categorical_crossentropy')) expect(y).toBeCloseTo(Math.log1p(Math.exp(-z)), 4);
    const q = plot({ losses: ['categorical_crossentropy'], over: 'p_t_onehot', range: [0.05, 1] });
    for (const [x, y] of curve(q, 'categorical_crossentropy')) expect(y).toBeCloseTo(-Math.log(Math.min(x, 1 - 1e-7)), 4);
  });
});

describe('the mapping is a choice, never a guess', () => {
  it('every mapping is documented', () => {
    for (const [name, m] of Object.entries(MAPPINGS)) {
      expect(m.doc.length, name).toBeGreaterThan(20);
      expect(m.prediction(0.5).length).toBe(m.target.length);
      expect(m.tangent.length).toBe(m.target.length);
    }
  });

  it('an unknown input is an error listing the choices, with did-you-mean', async () => {
    const r = await lossc('plot', 'huber', '--over', 'residul=-1:1');
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown plot input `residul` (did you mean `residual`?)');
    for (const name of Object.keys(MAPPINGS)) expect(r.err).toContain(`  ${name} `);
  });

  it('no --over is an error listing the choices', async () => {
    const r = await lossc('plot', 'huber');
    expect(r.code).toBe(2);
    expect(r.err).toContain('plot needs --over');
    expect(r.err).toContain('residual');
  });

  it('logits for a loss without from_logits, or probabilities with from_logits = true, are refused', async () => {
    const a = await lossc('plot', 'huber', '--over', 'logit');
    expect(a.code).toBe(2);
    expect(a.err).toContain('`logit` gives `huber` logits, but it has no option `from_logits`');
    const b = await lossc('plot', 'binary_crossentropy', '--over', 'p_t', '--option', 'from_logits=true');
    expect(b.code).toBe(2);
    expect(b.err).toContain('probabilities');
  });

  it('--wrt must be the input the mapping varies; bad ranges, sweeps and losses are errors', async () => {
    const w = await lossc('plot', 'focal_loss', '--wrt', 'y_true', '--over', 'p_t');
    expect(w.code).toBe(2);
    expect(w.err).toContain('--wrt must be y_pred');
    expect((await lossc('plot', 'huber', '--over', 'residual=3:-3')).err).toContain('LOW < HIGH');
    expect((await lossc('plot', 'huber', '--over', 'residual', '--sweep', 'delta=')).code).toBe(2);
    const n = await lossc('plot', 'hubr', '--over', 'residual');
    expect(n.code).toBe(1);
    expect(n.err).toContain('did you mean `huber`');
    const o = await lossc('plot', 'huber', '--over', 'residual', '--sweep', 'dleta=1,2');
    expect(o.code).toBe(1);
    expect(o.err).toContain('did you mean `delta`');
    const t = await lossc('plot', 'triplet_loss', '--over', 'residual');
    expect(t.code).toBe(1);
  });
});

describe('vega-lite', () => {
  it('gives a v5 spec with the same points and domains', async () => {
    const r = await lossc('plot', 'huber', 'mean_absolute_error', '--over', 'residual=-2:2', '--format', 'vega-lite');
    expect(r.code).toBe(0);
    const spec = JSON.parse(r.out);
    expect(spec.$schema).toBe('https://vega.github.io/schema/vega-lite/v5.json');
    expect(spec.mark.type).toBe('line');
    expect(spec.encoding.color.sort).toEqual(['huber', 'mean_absolute_error']);
    const p = plot({ losses: ['huber', 'mean_absolute_error'], over: 'residual', range: [-2, 2] });
    expect(spec).toEqual(JSON.parse(JSON.stringify(toVegaLite(p))));
    expect(spec.data.values.length).toBe(p.curves[0]!.points.length + p.curves[1]!.points.length);
  });
});

describe('lossc playground serves static files, and only those', () => {
  it('hands out a folder\'s files on 127.0.0.1 and nothing outside it', async () => {
    const { server, url } = await serveStatic(GOLDEN, 0);
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const ok = await fetch(`${url}huber.svg`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('image/svg+xml');
      expect(await ok.text()).toBe(readFileSync(join(GOLDEN, 'huber.svg'), 'utf8'));
      for (const bad of ['%2e%2e/plot.test.ts', '..%2fplot.test.ts', 'missing.svg']) expect((await fetch(url + bad)).status).toBe(404);
    } finally {
      server.close();
    }
  });

  it('refuses a bad port and a folder without a page', async () => {
    const err: string[] = [];
    expect(await main(['playground', '--port', 'eighty'], () => {}, (s) => err.push(s))).toBe(2);
    expect(err.join('\n')).toContain('--port must be a whole number');
    expect(await main(['playground', '--dir', GOLDEN], () => {}, (s) => err.push(s))).toBe(2);
    expect(err.join('\n')).toContain('has no index.html');
  });
});
