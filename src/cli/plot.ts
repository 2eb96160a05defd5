// `lossc plot`: losses or their derivatives along one input, as SVG or a Vega-Lite spec.

import { writeFileSync } from 'node:fs';
import { LosscError } from '../errors.js';
import type { Static } from '../lower/builtins.js';
import type { Library } from '../lower/library.js';
import { computePlot, mappingList, toSvg, toVegaLite, type Sweep } from '../plot/index.js';
import { useBackend } from '../backend.js';
import { UsageError } from './usage.js';

export const PLOT_FLAGS = {
  over: { type: 'string' },
  wrt: { type: 'string' },
  sweep: { type: 'string' },
  option: { type: 'string', multiple: true },
  derivative: { type: 'boolean' },
  y: { type: 'string' },
  title: { type: 'string' },
  file: { type: 'string', short: 'f' },
  format: { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const;

export const PLOT_USAGE = `usage: lossc plot LOSS... --over INPUT[=LOW:HIGH] [--wrt y_pred] [--sweep k=v1,v2,...]
                  [--option k=v ...] [--derivative] [--y LOW:HIGH] [--title T] [--file F]
                  [--format svg|vega-lite] [-o FILE]

Draw one or more losses (or, with --derivative, their derivative) against one number, computed
by lossc's compiled loss and its compiled symbolic gradient. INPUT names how that number becomes
the loss's target and prediction (--wrt, if given, must be the prediction it varies):
${mappingList()}
--sweep draws one curve per value of an option; --option fixes options (long form only: -o is
the output file; standard output without it). The y-axis covers the curves, except an end
reached only within 1% of the x-range's edges and more than twice as far out as the rest
(--y sets it). The focal-loss paper's Figure 1:
  lossc plot binary_focal_crossentropy --over p_t=0:1 --sweep gamma=0,0.5,1,2,5 -o focal.svg`;

function pair(text: string, what: string): [number, number] {
  const parts = text.split(':').map((s) => (s.trim() === '' ? NaN : Number(s)));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0]! < parts[1]!)) {
    throw new UsageError(`${what} takes LOW:HIGH, two numbers with LOW < HIGH, got \`${text}\``);
  }
  return parts as [number, number];
}

export interface PlotDeps {
  library: Library;
  parseOptions(list: unknown): Record<string, Static>;
  parseValue(text: string, where: string): Static;
  out(s: string): void;
}

export async function runPlot(flags: Record<string, unknown>, losses: string[], deps: PlotDeps): Promise<number> {
  if (losses.length === 0) throw new UsageError('plot takes at least one LOSS');
  const overText = flags.over as string | undefined;
  if (!overText) throw new UsageError(`plot needs --over INPUT[=LOW:HIGH]; the choices:\n${mappingList()}`);
  const eq = overText.indexOf('=');
  const over = (eq < 0 ? overText : overText.slice(0, eq)).trim();
  const range = eq < 0 ? undefined : pair(overText.slice(eq + 1), `--over ${over}`);
  const format = (flags.format as string | undefined) ?? 'svg';
  if (format !== 'svg' && format !== 'vega-lite') throw new UsageError(`--format must be svg or vega-lite, got \`${format}\``);
  let sweep: Sweep | undefined;
  const sweepText = flags.sweep as string | undefined;
  if (sweepText !== undefined) {
    const at = sweepText.indexOf('=');
    if (at <= 0) throw new UsageError(`--sweep takes name=v1,v2,..., got \`${sweepText}\``);
    const name = sweepText.slice(0, at).trim();
    const texts = sweepText.slice(at + 1).split(',').map((s) => s.trim());
    if (texts.some((t) => t === '')) throw new UsageError(`--sweep ${name} has an empty value in \`${sweepText}\``);
    sweep = { name, texts, values: texts.map((t) => deps.parseValue(t, `--sweep ${name}`)) };
  }
  await useBackend('cpu');
  const plot = computePlot({
    library: deps.library,
    losses,
    over,
    range,
    wrt: flags.wrt as string | undefined,
    options: deps.parseOptions(flags.option),
    sweep,
    derivative: flags.derivative === true,
    y: flags.y === undefined ? undefined : pair(flags.y as string, '--y'),
    title: flags.title as string | undefined,
  });
  const text = format === 'svg' ? toSvg(plot) : JSON.stringify(toVegaLite(plot), null, 1) + '\n';
  const output = flags.output as string | undefined;
  if (output === undefined || output === '-') {
    deps.out(text.replace(/\n$/, ''));
    return 0;
  }
  try {
    writeFileSync(output, text);
  } catch {
    throw new LosscError('usage', `cannot write \`${output}\``);
  }
  return 0;
}
