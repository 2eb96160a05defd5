// Every error a user can cause is a LosscError: a kind, a message that names the problem,
// and (when it comes from source text) the place, rendered as `file:line:col`, the line, a caret.

import type { Span } from '../grammar/ast.js';

export type ErrorKind =
  | 'syntax'
  | 'name' // unknown name
  | 'arity' // wrong number of arguments
  | 'option' // unknown option, or an option of the wrong type or value
  | 'type' // dtype problem (e.g. differentiating an integer input)
  | 'shape' // shapes that cannot broadcast, bad axis, ...
  | 'recursion' // a definition that calls itself
  | 'import' // an import that cannot be read or loops
  | 'value' // bad data: NaN, out-of-range labels, non-numeric JSON, ...
  | 'usage' // misuse of the CLI or API (exit status 2)
  | 'limit'; // input too large or too deep to handle

/**
 * Source texts by file name, so that errors can show the offending line. The most recent
 * SOURCE_LIMIT names only: a process that compiles many differently named sources (a server, the
 * fuzzer) must not keep every text it ever read; an error quoting an older one shows no caret line.
 */
const sources = new Map<string, string>();
const SOURCE_LIMIT = 256;

export function registerSource(file: string, text: string): void {
  sources.delete(file);
  sources.set(file, text);
  if (sources.size > SOURCE_LIMIT) sources.delete(sources.keys().next().value!);
}

/** The text registered for `file` (what an error there quotes), if any. */
export function sourceText(file: string): string | undefined {
  return sources.get(file);
}

export class LosscError extends Error {
  readonly kind: ErrorKind;
  readonly span?: Span;
  /** The bare message, without location or caret. */
  readonly detail: string;

  constructor(kind: ErrorKind, detail: string, span?: Span) {
    super(formatMessage(kind, detail, span));
    this.name = 'LosscError';
    this.kind = kind;
    this.detail = detail;
    this.span = span;
  }

  toJSON(): { kind: ErrorKind; message: string; line?: number; column?: number; file?: string } {
    const out: { kind: ErrorKind; message: string; line?: number; column?: number; file?: string } = {
      kind: this.kind,
      message: this.message,
    };
    if (this.span) {
      out.file = this.span.file;
      out.line = this.span.line;
      out.column = this.span.column;
    }
    return out;
  }
}

/** Several errors found in one go (e.g. every syntax error in a file). */
export class LosscErrors extends LosscError {
  readonly errors: LosscError[];
  constructor(errors: LosscError[]) {
    const first = errors[0]!;
    super(first.kind, errors.map((e) => e.message).join('\n\n'), undefined);
    // Keep the first error's place for tools that want one location.
    Object.defineProperty(this, 'span', { value: first.span });
    Object.defineProperty(this, 'message', { value: errors.map((e) => e.message).join('\n\n') });
    this.errors = errors;
  }
}

function formatMessage(kind: ErrorKind, detail: string, span?: Span): string {
  if (!span) return `${kind} error: ${detail}`;
  const head = `${span.file}:${span.line}:${span.column}: ${kind} error: ${detail}`;
  const text = sources.get(span.file);
  if (text === undefined) return head;
  const lineText = nthLine(text, span.line);
  if (lineText === undefined) return head;
  // A long line is shown as a window of 200 characters around the place, marked with '…'.
  const from = span.column - 1 > 150 ? span.column - 1 - 100 : 0;
  const head2 = from > 0 ? '…' : '';
  const window = lineText.slice(from, from + 200);
  const shown = head2 + window + (lineText.length > from + 200 ? '…' : '');
  const col = Math.min(span.column - 1 - from + head2.length, shown.length);
  const width = Math.max(1, Math.min(span.length, shown.length - col));
  const gutter = String(span.line).length;
  return [
    head,
    `${' '.repeat(gutter)} |`,
    `${span.line} | ${shown}`,
    `${' '.repeat(gutter)} | ${' '.repeat(col)}${'^'.repeat(width)}`,
  ].join('\n');
}

function nthLine(text: string, line: number): string | undefined {
  let start = 0;
  for (let i = 1; i < line; i++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? text.length : end).replace(/\r$/, '');
}

/**
 * Edit distance where a swap of two neighbouring letters counts as one edit, like an insertion,
 * a deletion or a substitution (optimal string alignment): `dleta` is one edit from `delta`.
 */
export function editDistance(a: string, b: string): number {
  // rows i-2, i-1 and i of the table
  let older = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1);
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, older[j - 2]! + 1);
      row[j] = d;
    }
    older = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/** Names longer than this get no suggestion: a typo of a 65-character name is implausible, and the work stays bounded. */
const LONGEST_SUGGESTED = 64;

/** How far a suggestion may be from a name: a third of the longer one's length, at least 1. */
const suggestionDistance = (a: number, b: number) => Math.max(1, Math.floor(Math.max(a, b) / 3));

/** The closest known name, if it is close enough to be a plausible typo. */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  if (name.length > LONGEST_SUGGESTED) return undefined;
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    // The distance is at least the difference in length: skip names that cannot be close.
    if (k.length > LONGEST_SUGGESTED || Math.abs(k.length - name.length) > suggestionDistance(name.length, k.length)) continue;
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestD || (d === bestD && best !== undefined && k.length < best.length)) {
      best = k;
      bestD = d;
    }
  }
  if (best === undefined) return undefined;
  return bestD <= suggestionDistance(name.length, best.length) ? best : undefined;
}

export function didYouMean(name: string, known: Iterable<string>): string {
  const n = nearestName(name, known);
  return n ? ` (did you mean \`${n}\`?)` : '';
}
