// A plot as a Vega-Lite v5 spec: the same sampled points as the SVG, one line per curve, for
// interactive use (the Vega editor, an Observable or Jupyter cell).

import type { Plot } from './index.js';
import { COLORS } from './svg.js';

export function toVegaLite(plot: Plot): Record<string, unknown> {
  const values = plot.curves.flatMap((c) => c.points.map(([x, y]) => ({ x, y: Number.isFinite(y) ? y : null, curve: c.label })));
  const labels = plot.curves.map((c) => c.label);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: plot.title,
    width: plot.width - 120,
    height: plot.height - 100,
    data: { values },
    mark: { type: 'line', clip: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: plot.xLabel, scale: { domain: plot.xDomain, nice: false } },
      y: { field: 'y', type: 'quantitative', title: plot.yLabel, scale: { domain: plot.yDomain, nice: false } },
      color: { field: 'curve', type: 'nominal', title: null, sort: labels, scale: { domain: labels, range: labels.map((_, i) => COLORS[i % COLORS.length]) } },
      order: { field: 'x', type: 'quantitative' },
    },
  };
}
