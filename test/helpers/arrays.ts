// Nested JSON arrays as tests meet them (Keras cases, eval answers): their shape, their values
// flattened, and an elementwise tolerance check. Also the stdlib-loss → base-loss alias map.

import { readFileSync } from 'node:fs';
import { Library } from '../../src/lower/library.js';

export function shapeOf(v: unknown): number[] {
  const s: number[] = [];
  while (Array.isArray(v)) {
    s.push(v.length);
    v = v[0];
  }
  return s;
}

/** Values in row-major order; strings (eval's "NaN", "Infinity") become numbers. */
export function flatten(v: unknown): number[] {
  return Array.isArray(v) ? v.flatMap(flatten) : [typeof v === 'string' ? Number(v) : (v as number)];
}

/** Why `got` is not within `atol + rtol * |want|` of `want` elementwise (same shape), or undefined. */
export function mismatch(got: unknown, want: unknown, rtol: number, atol: number): string | undefined {
  if (JSON.stringify(shapeOf(got)) !== JSON.stringify(shapeOf(want))) {
    return `shape ${JSON.stringify(shapeOf(got))} != ${JSON.stringify(shapeOf(want))}`;
  }
  const g = flatten(got);
  const w = flatten(want);
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs(g[i]! - w[i]!) <= atol + rtol * Math.abs(w[i]!))) return `element ${i}: got ${g[i]}, want ${w[i]}`;
  }
  return undefined;
}

/** The loss an alias stands for (a loss whose body is just a call of another loss). */
export function baseName(lib: Library, name: string): string {
  const def = lib.get(name)!.def;
  const r = def.body.result;
  // (A loss wrapping the builtin of its own name, as `ctc`, is no alias.)
  if (def.body.lets.length === 0 && r.kind === 'call' && r.callee !== name && lib.get(r.callee)?.def.kind === 'loss' && r.args.length === 2) {
    return baseName(lib, r.callee);
  }
  return name;
}

/** One reference case of test/fixtures/keras_cases.json (see test/fixtures/README.md). */
export interface KerasCase {
  id: string;
  loss: string;
  options: Record<string, unknown>;
  reduction: string;
  y_true: unknown;
  y_pred: unknown;
  sample_weight: unknown;
  mask?: unknown;
  call?: string;
  expected: unknown;
  expected_ref: unknown;
  rtol: number;
  atol: number;
}

/** The Keras reference cases, a fixture inside the repository (a missing file is an error, not a skip). */
export function kerasCases(): KerasCase[] {
  const path = new URL('../fixtures/keras_cases.json', import.meta.url);
  return JSON.parse(readFileSync(path, 'utf8')) as KerasCase[];
}
