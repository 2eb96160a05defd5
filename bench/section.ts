// One shape for every "done when" row of issue 13's bench: a section (a file under bench/) measures
// lossc against the tfjs code it replaces, interleaved in one run, and returns its rows; `bench/run.ts`
// prints them all in one table at the end and says which goals hold.

export interface GoalRow {
  /** Which section measured it: 'shapes', 'cold start', 'op-by-op', 'value only', 'fit', 'sparse', … */
  section: string;
  /** What was measured, e.g. 'batch-hard N=2048, 200 shapes in rotation, wasm'. */
  row: string;
  /** tfjs time / lossc time (or tfjs memory / lossc memory), per repetition, interleaved. */
  ratios: number[];
  /** The ratio's goal: the median must be ≥ this (1 for "never slower than tfjs"). */
  goal: number;
  /** Anything the reader needs beside the ratio: kernel counts, RSS, absolute times. */
  note?: string;
}

export interface SectionOptions {
  quick: boolean;
  backends: string[];
}

export type Section = (opts: SectionOptions) => Promise<GoalRow[]>;

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The rows as one markdown table: median ratio, its spread (min–max) and whether the goal holds. */
export function goalRowsTable(rows: GoalRow[]): string {
  const lines = [
    '| section | row | tfjs / lossc (median) | spread | goal | holds | note |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const m = median(r.ratios);
    const spread = `${Math.min(...r.ratios).toFixed(2)}–${Math.max(...r.ratios).toFixed(2)}`;
    lines.push(`| ${r.section} | ${r.row} | ${m.toFixed(2)}× | ${spread} | ≥ ${r.goal} | ${m >= r.goal ? 'yes' : 'NO'} | ${r.note ?? ''} |`);
  }
  return lines.join('\n');
}
