// A syntax tree in a compact form for shipping parsed sources (the stdlib, scripts/gen-stdlib.mjs):
// the tree as it is, but every span (the values of `span` and `nameSpan`) as `[offset, length]`,
// its file and its line and column restored from the source text on unpacking (a span whose line
// or column the offset does not give is kept as `[offset, length, line, column]`). The spans are
// most of a tree: packed, the stdlib's trees take under half the space. `pack` checks that
// `unpack` gives the tree back.

import type { Program, Span } from './ast.js';

type PackedSpan = [number, number] | [number, number, number, number];
const SPAN_KEYS = new Set(['span', 'nameSpan']);

/** Where each line of `text` starts (chevrotain's line breaks: \n, \r\n, \r). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
  }
  return starts;
}

/** The 1-based line and column of `offset`. */
function place(starts: number[], offset: number): [number, number] {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return [lo + 1, offset - starts[lo]! + 1];
}

/** Rebuilds every value in `x` the same way, spans by `span`. */
function mapTree(x: unknown, span: (s: never) => unknown): unknown {
  if (Array.isArray(x)) return x.map((v) => mapTree(v, span));
  if (x === null || typeof x !== 'object') return x;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) out[k] = SPAN_KEYS.has(k) ? span(v as never) : mapTree(v, span);
  return out;
}

/** `program` (parsed from `text`) packed: plain JSON data. */
export function pack(program: Program, text: string): unknown {
  const starts = lineStarts(text);
  const packed = mapTree(program, (s: Span): PackedSpan => {
    if (s.file !== program.file) throw new Error(`a span in ${program.file} points into ${s.file}`);
    const [line, column] = place(starts, s.offset);
    return line === s.line && column === s.column ? [s.offset, s.length] : [s.offset, s.length, s.line, s.column];
  });
  const back = unpack(JSON.parse(JSON.stringify(packed)), text);
  if (JSON.stringify(back) !== JSON.stringify(program)) throw new Error(`${program.file} does not unpack to itself`);
  return packed;
}

/** The program `pack` packed (JSON.parse's fresh data, restored in place), `text` its source. */
export function unpack(packed: unknown, text: string): Program {
  return unpacker((packed as Program).file, text)(packed as Program);
}

/**
 * Restores, in place, any part of a program packed from `text` (a definition, say, so that a
 * library restores only the definitions it uses).
 */
export function unpacker(file: string, text: string): <T>(packed: T) => T {
  let starts: number[] | undefined;
  const restore = (x: Record<string, unknown> | unknown[]): void => {
    if (Array.isArray(x)) {
      for (const v of x) if (v !== null && typeof v === 'object') restore(v as Record<string, unknown>);
      return;
    }
    for (const k in x) {
      const v = x[k];
      if (SPAN_KEYS.has(k)) {
        const s = v as PackedSpan;
        const [line, column] = s.length === 4 ? [s[2], s[3]] : place((starts ??= lineStarts(text)), s[0]);
        x[k] = { file, line, column, offset: s[0], length: s[1] } satisfies Span;
      } else if (v !== null && typeof v === 'object') restore(v as Record<string, unknown>);
    }
  };
  return <T>(packed: T): T => {
    restore(packed as Record<string, unknown>);
    return packed;
  };
}
