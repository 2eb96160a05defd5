// A plot as a standalone SVG: title, axes with ticks and grid, one path per curve (clipped to
// the plotting area), and a legend in the corner the curves cross least. Scales and paths come
// from d3-scale and d3-shape (no DOM); numbers are written with fixed digits, so the same plot
// is the same bytes.

import { scaleLinear, type ScaleLinear } from 'd3-scale';
import { line } from 'd3-shape';
import type { Plot } from './index.js';

/** Tableau 10, in order. */
export const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const MARGIN = { top: 46, right: 20, bottom: 54, left: 66 };
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

export interface SvgOptions {
  /** Prefix of the clip path's id, for several plots in one page. */
  id?: string;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const r2 = (v: number): string => String(Math.round(v * 100) / 100);

export function toSvg(plot: Plot, opts: SvgOptions = {}): string {
  const { width: W, height: H } = plot;
  const id = `${opts.id ?? 'lossc-plot'}-area`;
  const [x0, x1] = [MARGIN.left, W - MARGIN.right];
  const [y0, y1] = [H - MARGIN.bottom, MARGIN.top];
  const x = scaleLinear().domain(plot.xDomain).range([x0, x1]);
  const y = scaleLinear().domain(plot.yDomain).range([y0, y1]);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT}>`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<defs><clipPath id="${esc(id)}"><rect x="${x0 - 3}" y="${y1 - 3}" width="${x1 - x0 + 6}" height="${y0 - y1 + 6}"/></clipPath></defs>`);
  // A long title is set smaller rather than cut (about 0.6 em per bold character).
  const titleSize = Math.max(10, Math.min(16, Math.floor((W - 16) / (0.6 * plot.title.length))));
  out.push(`<text x="${r2(W / 2)}" y="26" text-anchor="middle" font-size="${titleSize}" font-weight="bold" fill="#222">${esc(plot.title)}</text>`);
  out.push(...axes(plot, x, y));
  const yLimit = (v: number): number => Math.max(y1 - 10 * H, Math.min(y0 + 10 * H, y(v)));
  const path = line<[number, number]>()
    .defined((p) => Number.isFinite(p[1]))
    .x((p) => x(p[0]))
    .y((p) => yLimit(p[1]))
    .digits(2);
  out.push(`<g clip-path="url(#${esc(id)})" fill="none" stroke-width="2.2" stroke-linejoin="round" stroke-linecap="round">`);
  plot.curves.forEach((c, i) => {
    out.push(`<path data-curve="${esc(c.label)}" stroke="${COLORS[i % COLORS.length]}" d="${path(c.points) ?? ''}"/>`);
  });
  out.push('</g>');
  out.push(...legend(plot, x, y));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function axes(plot: Plot, x: ScaleLinear<number, number>, y: ScaleLinear<number, number>): string[] {
  const [x0, x1] = x.range() as [number, number];
  const [y0, y1] = y.range() as [number, number];
  const out: string[] = ['<g font-size="12" fill="#333">'];
  const xt = x.ticks(8);
  const xf = x.tickFormat(8);
  for (const t of xt) {
    const px = r2(x(t));
    out.push(`<line x1="${px}" x2="${px}" y1="${y1}" y2="${y0}" stroke="#e6e6e6"/>`);
    out.push(`<line x1="${px}" x2="${px}" y1="${y0}" y2="${y0 + 5}" stroke="#333"/>`);
    out.push(`<text x="${px}" y="${y0 + 19}" text-anchor="middle">${esc(xf(t).replace('−', '-'))}</text>`);
  }
  const yt = y.ticks(6);
  const yf = y.tickFormat(6);
  for (const t of yt) {
    const py = r2(y(t));
    out.push(`<line x1="${x0}" x2="${x1}" y1="${py}" y2="${py}" stroke="#e6e6e6"/>`);
    out.push(`<line x1="${x0 - 5}" x2="${x0}" y1="${py}" y2="${py}" stroke="#333"/>`);
    out.push(`<text x="${x0 - 8}" y="${py}" dy="0.32em" text-anchor="end">${esc(yf(t).replace('−', '-'))}</text>`);
  }
  out.push(`<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#333"/>`);
  out.push('</g>');
  out.push(`<text x="${r2((x0 + x1) / 2)}" y="${y0 + 42}" text-anchor="middle" font-size="14" fill="#222">${esc(plot.xLabel)}</text>`);
  const my = r2((y0 + y1) / 2);
  out.push(`<text transform="translate(18,${my}) rotate(-90)" text-anchor="middle" font-size="14" fill="#222">${esc(plot.yLabel)}</text>`);
  return out;
}

/** The legend box, in the inner corner that the fewest curve points fall in. */
function legend(plot: Plot, x: ScaleLinear<number, number>, y: ScaleLinear<number, number>): string[] {
  if (plot.curves.length < 2 && !/=/.test(plot.curves[0]?.label ?? '')) return [];
  const [x0, x1] = x.range() as [number, number];
  const [y0, y1] = y.range() as [number, number];
  const rowH = 20;
  const w = Math.ceil(Math.max(...plot.curves.map((c) => c.label.length)) * 7.4 + 46);
  const h = plot.curves.length * rowH + 10;
  const pad = 10;
  const corners: Array<[number, number]> = [
    [x1 - pad - w, y1 + pad],
    [x0 + pad, y1 + pad],
    [x1 - pad - w, y0 - pad - h],
    [x0 + pad, y0 - pad - h],
  ];
  const pts = plot.curves.flatMap((c) => c.points.filter((p) => Number.isFinite(p[1])).map((p) => [x(p[0]), y(p[1])] as const));
  const hits = corners.map(([cx, cy]) => pts.filter(([px, py]) => px >= cx - 4 && px <= cx + w + 4 && py >= cy - 4 && py <= cy + h + 4).length);
  const best = hits.indexOf(Math.min(...hits));
  const [lx, ly] = corners[best]!;
  const out = [`<g font-size="13" fill="#222" transform="translate(${r2(lx)},${r2(ly)})">`];
  out.push(`<rect width="${w}" height="${h}" fill="#ffffff" fill-opacity="0.92" stroke="#bbbbbb" rx="3"/>`);
  plot.curves.forEach((c, i) => {
    const cy = 5 + rowH * i + rowH / 2;
    out.push(`<line x1="8" x2="32" y1="${cy}" y2="${cy}" stroke="${COLORS[i % COLORS.length]}" stroke-width="2.6"/>`);
    out.push(`<text x="38" y="${cy}" dy="0.32em">${esc(c.label)}</text>`);
  });
  out.push('</g>');
  return out;
}
