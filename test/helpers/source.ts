// Helpers to lower lossc source text in tests, and to catch the LosscError a program should raise.

import { expect } from 'vitest';
import { LosscError } from '../../src/errors.js';
import { Library } from '../../src/lower/library.js';
import { lowerDefinition, type LowerOptions, type Lowered } from '../../src/lower/lower.js';
import type { Shape, DType } from '../../src/ir/shape.js';
import type { TensorType } from '../../src/lower/signature.js';

/** Lower definition `name` of a program (the stdlib is visible), options symbolic by default. */
export function lowerSource(text: string, name: string, opts: LowerOptions = {}): Lowered {
  return lowerDefinition(Library.fromSource(text), name, { symbolic: true, ...opts });
}

/** A signature with concrete shapes: `sig({ y_true: [2, 3], y_pred: [2, 3] })`. */
export function sig(shapes: Record<string, Shape | [Shape, DType]>): Record<string, TensorType> {
  const out: Record<string, TensorType> = {};
  for (const [k, v] of Object.entries(shapes)) {
    const [shape, dtype] = Array.isArray(v[0]) ? (v as [Shape, DType]) : [v as Shape, 'float32' as DType];
    out[k] = { shape, dtype };
  }
  return out;
}

/** The LosscError `f` throws; fails the test if it throws nothing or something else. */
export function errorOf(f: () => unknown): LosscError {
  try {
    f();
  } catch (e) {
    if (e instanceof LosscError) return e;
    throw new Error(`expected a LosscError, got ${(e as Error)?.stack ?? String(e)}`, { cause: e });
  }
  expect.fail('expected a LosscError, but nothing was thrown');
}

/** `f` throws a LosscError of `kind` whose message contains each of `parts`. */
export function expectError(f: () => unknown, kind: string, ...parts: Array<string | RegExp>): LosscError {
  const e = errorOf(f);
  expect(e.kind, e.message).toBe(kind);
  for (const p of parts) {
    if (typeof p === 'string') expect(e.message).toContain(p);
    else expect(e.message).toMatch(p);
  }
  return e;
}

/** The error points at `line:col` of `file`, with the source line and a caret under the place. */
export function expectLocated(e: LosscError, file: string, line: number, column: number, caretText?: string): void {
  expect(e.span, e.message).toBeDefined();
  expect(e.message.startsWith(`${file}:${line}:${column}: `), e.message).toBe(true);
  const lines = e.message.split('\n');
  const caretLine = lines.find((l) => /^\s*\|\s*\^+/.test(l) || /\|\s+\^/.test(l));
  expect(caretLine, e.message).toBeDefined();
  const src = lines.find((l) => l.startsWith(`${line} | `));
  expect(src, e.message).toBeDefined();
  // The caret starts under column `column` of the quoted line.
  const srcStart = src!.indexOf('| ') + 2;
  const caretStart = caretLine!.indexOf('^');
  expect(caretStart - srcStart, e.message).toBe(column - 1);
  if (caretText !== undefined) {
    const width = caretLine!.length - caretStart;
    expect(src!.slice(srcStart + column - 1, srcStart + column - 1 + width), e.message).toBe(caretText);
  }
}
