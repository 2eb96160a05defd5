// One fuzz case by kind and seed: generate, check, and (on request) minimize. Shared by the
// worker of `npm run fuzz` and the fixed slice in test/fuzz-slice.test.ts.

import { checkGarbled, generateGarbled } from './garbled.js';
import { shrinkText, shrinkTree, type Budget } from './minimize.js';
import { checkWell, type Verdict } from './well/check.js';
import type { G } from './well/expr.js';
import { generateWell, programText, type WellProgram } from './well/program.js';

export type Kind = 'well' | 'garbled';

export interface Case {
  kind: Kind;
  seed: number;
  text: string;
  verdict: Verdict;
  program?: WellProgram;
  scale: number;
}

/** The largest magnitude any of the program's sub-expressions can reach (from the generator's bounds). */
export function scaleOf(p: WellProgram): number {
  const trees: G[] = [p.result, ...p.lets.map((l) => l.value), ...p.defs.map((d) => d.body), ...(p.mask ? [p.mask] : [])];
  return Math.max(...trees.map((t) => t.scale));
}

export async function runOne(kind: Kind, seed: number, cli = true): Promise<Case> {
  if (kind === 'well') {
    const program = generateWell(seed);
    const text = programText(program);
    const scale = scaleOf(program);
    return { kind, seed, text, program, scale, verdict: checkWell(text, program, scale) };
  }
  const text = generateGarbled(seed);
  return { kind, seed, text, scale: 0, verdict: await checkGarbled(text, cli) };
}

/** What makes two failures "the same": the check, and the message's shape (numbers and paths elided). */
export function signature(v: Verdict): string {
  if (v.kind !== 'fail') return v.kind;
  const first = v.detail.split('\n')[0]!;
  if (v.check === 'crash' || v.check === 'rejected' || v.check === 'unlocated') {
    const msg = first.replace(/\/\S+/g, 'PATH').replace(/<[a-z]+>:\d+:\d+: /, '').replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/g, '#');
    return `${v.check}: ${msg.slice(0, 100)}`;
  }
  return `${v.check}: ${first.split(':')[0]}`;
}

/** Shrink a failing case to a small text that fails with the same signature. */
export async function minimize(c: Case, budget: Budget): Promise<string> {
  const want = signature(c.verdict);
  if (c.kind === 'well') {
    const p = c.program!;
    // A naive formula is the point of a stability program: shrinking it finds other formulas.
    if (p.family === 'stability') return c.text;
    const pred = async (t: string) => signature(checkWell(t, p, c.scale)) === want;
    const tree = await shrinkTree(p, pred, budget);
    return shrinkText(tree, pred, budget);
  }
  const pred = async (t: string) => signature(await checkGarbled(t)) === want;
  return shrinkText(c.text, pred, budget);
}
