// The public face of the grammar: source text in, syntax tree (grammar/ast.ts) out, or a
// LosscErrors holding every syntax error found, each pointing at its place in the source.
//
//   text ──size check──▶ lexer (lexer.ts) ──nesting check (prepass.ts)──▶ parser (parser.ts, with
//        recovery) ──▶ visitor (visitor.ts) ──▶ Program | Expr
//
// Robustness: sources over 1 MB are refused up front; a cheap pass over the tokens refuses
// nesting deeper than MAX_NESTING (parentheses, brackets, calls, `if`s, prefix operators) before
// the recursive-descent parser sees it; long flat chains (`1+1+...`) are loops everywhere; and a
// stack overflow that slips through anyway becomes a 'limit' error. No chevrotain exception or
// JavaScript stack trace reaches the caller: everything thrown is a LosscError. The wording of
// syntax errors is messages.ts's.

import { EOF, type IRecognitionException, type IToken } from './chevrotain.js';
import type { Expr, Program, Span } from './ast.js';
import { LosscError, LosscErrors, registerSource } from '../src/errors.js';
import { KEYWORDS, lex, tokenSpan, type RawError } from './lexer.js';
import { LosscParser, TooManyErrors } from './parser.js';
import { AstBuilder, IncompleteTree, type VisitContext } from './visitor.js';
import { checkNesting, chunks, markLayoutBreaks } from './prepass.js';
import { Explainer, messageProvider, payloadOf, type Mode } from './messages.js';
import { MAX_SOURCE_BYTES } from './limits.js';

export { KEYWORDS };
export { MAX_NESTING } from './prepass.js';

export { MAX_SOURCE_BYTES };
/** At most this many errors are reported for one source. */
export const MAX_ERRORS = 50;

/**
 * Parses a whole `.loss` source: imports and definitions.
 * @throws LosscErrors with every syntax error found (kind 'syntax'), or a 'limit' error.
 */
export function parseProgram(text: string, file = '<input>'): Program {
  return guarded(text, file, () => {
    const session = new Session(text, file, 'program');
    return session.parseProgram();
  });
}

/**
 * Parses one expression (rewrite-rule tables, CLI `--option` values).
 * @throws LosscErrors with every syntax error found (kind 'syntax'), or a 'limit' error.
 */
export function parseExpression(text: string, file = '<expr>'): Expr {
  return guarded(text, file, () => {
    const session = new Session(text, file, 'expression');
    return session.parseExpression();
  });
}

// ---------------------------------------------------------------------------------------------
// Guards

function guarded<T>(text: string, file: string, run: () => T): T {
  if (typeof text !== 'string') {
    throw new LosscErrors([new LosscError('usage', `source must be a string, not ${typeof text}`)]);
  }
  checkSize(text, file);
  registerSource(file, text);
  try {
    return run();
  } catch (e) {
    if (e instanceof LosscError) throw e;
    const at: Span = { file, line: 1, column: 1, offset: 0, length: 1 };
    if (e instanceof RangeError) {
      throw new LosscErrors([
        new LosscError('limit', 'the source is nested too deeply to parse (the stack ran out)', at),
      ]);
    }
    // A bug in lossc, not in the user's source; still never a raw exception.
    const why = e instanceof Error ? e.message : String(e);
    throw new LosscErrors([new LosscError('syntax', `internal error in the lossc parser: ${why}`, at)]);
  }
}

/** The length of `text` in UTF-8 bytes (a lone surrogate counts as U+FFFD, 3 bytes, as encoders write it). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function checkSize(text: string, file: string): void {
  // UTF-8 takes at least one byte per UTF-16 unit, so a long string is too big without counting.
  const bytes = text.length > MAX_SOURCE_BYTES ? text.length : utf8Length(text);
  if (bytes <= MAX_SOURCE_BYTES) return;
  const shown = text.length > MAX_SOURCE_BYTES ? utf8Length(text) : bytes;
  // Register only the first line: the error points at 1:1 and the whole text need not be kept.
  const nl = text.indexOf('\n');
  registerSource(file, text.slice(0, Math.min(nl < 0 ? 200 : nl, 200)));
  const mb = (shown / (1024 * 1024)).toFixed(1);
  throw new LosscErrors([
    new LosscError('limit', `source is ${mb} MB; lossc reads at most ${MAX_SOURCE_BYTES / (1024 * 1024)} MB`, {
      file,
      line: 1,
      column: 1,
      offset: 0,
      length: 1,
    }),
  ]);
}

let parserInstance: LosscParser | undefined;
function getParser(): LosscParser {
  parserInstance ??= new LosscParser({ errorMessageProvider: messageProvider, maxErrors: MAX_ERRORS + 1 });
  return parserInstance;
}

// ---------------------------------------------------------------------------------------------
// One parse

/** f's tree, or undefined when the parse stopped at its error limit (the errors are kept). */
function untilTooManyErrors<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof TooManyErrors) return undefined;
    throw e;
  }
}

class Session {
  private readonly tokens: IToken[];
  private readonly comments: IToken[];
  private readonly lexErrors: RawError[];
  private readonly lexTruncated: boolean;
  private readonly errors: RawError[] = [];
  private readonly explainer: Explainer;
  /** Number of recognition (parser) errors so far, to stop early on hopeless input. */
  private parseErrorCount = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
    mode: Mode,
  ) {
    const lexed = lex(text, file);
    this.tokens = lexed.tokens;
    markLayoutBreaks(this.tokens);
    this.comments = lexed.comments;
    this.lexErrors = lexed.errors;
    this.lexTruncated = lexed.truncated;
    this.explainer = new Explainer(this.tokens, mode);
  }

  parseProgram(): Program {
    const program: Program = { file: this.file, imports: [], definitions: [] };
    this.checkNesting();
    const parser = getParser();
    for (const [start, end] of chunks(this.tokens)) {
      if (this.parseErrorCount >= MAX_ERRORS) break;
      parser.input = this.tokens.slice(start, end);
      const cst = untilTooManyErrors(() => parser.program());
      if (parser.errors.length > 0 || !cst) {
        this.addParseErrors(parser.errors, start, end);
        continue;
      }
      const part = this.visit((b) => b.program(cst));
      if (part) {
        program.imports.push(...part.imports);
        program.definitions.push(...part.definitions);
      }
    }
    this.fail();
    return program;
  }

  parseExpression(): Expr {
    this.checkNesting();
    const parser = getParser();
    parser.input = this.tokens;
    const cst = untilTooManyErrors(() => parser.expression());
    let expr: Expr | undefined;
    if (parser.errors.length > 0 || !cst) this.addParseErrors(parser.errors, 0, this.tokens.length);
    else expr = this.visit((b) => b.expression(cst));
    this.fail();
    return expr!;
  }

  private builderContext: VisitContext | undefined;
  private builder: AstBuilder | undefined;

  /** Runs the visitor; any tree-level errors go to this.errors. */
  private visit<T>(f: (b: AstBuilder) => T): T | undefined {
    this.builderContext ??= { file: this.file, text: this.text, comments: this.comments, errors: [] };
    this.builder ??= new AstBuilder(this.builderContext);
    const errors: RawError[] = [];
    this.builderContext.errors = errors;
    try {
      const r = f(this.builder);
      this.errors.push(...errors);
      return r;
    } catch (e) {
      if (e instanceof IncompleteTree) {
        // Only possible after a parse error, which is already reported.
        if (this.errors.length + this.lexErrors.length === 0) throw e;
        return undefined;
      }
      throw e;
    }
  }

  /** Throws every error found so far, if any, as one LosscErrors. */
  private fail(): void {
    const all = [...this.lexErrors, ...this.errors];
    if (all.length === 0) return;
    // Stable sort by position; keep one error per position.
    const sorted = all
      .map((e, i) => ({ e, i }))
      .sort((a, b) => a.e.span.offset - b.e.span.offset || a.i - b.i)
      .map((x) => x.e);
    const kept: RawError[] = [];
    let lastOffset = -1;
    for (const e of sorted) {
      if (e.span.offset === lastOffset) continue;
      lastOffset = e.span.offset;
      kept.push(e);
    }
    const shown = kept.slice(0, MAX_ERRORS).map((e) => new LosscError(e.kind, e.detail, e.span));
    if (kept.length > MAX_ERRORS || this.parseErrorCount >= MAX_ERRORS || this.lexTruncated) {
      const next = kept[MAX_ERRORS] ?? kept[kept.length - 1]!;
      shown.push(
        new LosscError('syntax', `too many errors; stopping after the first ${MAX_ERRORS}`, next.span),
      );
    }
    throw new LosscErrors(shown);
  }

  /** Refuses nesting deeper than MAX_NESTING before the recursive parser sees it (prepass.ts). */
  private checkNesting(): void {
    const error = checkNesting(this.tokens, this.file);
    if (!error) return;
    this.errors.push(error);
    this.fail();
  }

  // ---- parse errors ---------------------------------------------------------------------------

  private pushParse(e: RawError): void {
    this.errors.push(e);
    this.parseErrorCount++;
  }

  private addParseErrors(exceptions: IRecognitionException[], start: number, end: number): void {
    let lastIdx = -1;
    for (const ex of exceptions) {
      if (this.parseErrorCount >= MAX_ERRORS) return;
      const idx = this.indexOf(ex.token, start, end);
      if (this.followsLexError(idx)) continue; // the lexical error is the real problem
      const payload = payloadOf(ex);
      if (lastIdx >= 0) {
        // After a first error, recovery often produces follow-on errors: leftover input, errors
        // at the end of the definition, or errors within two tokens of the previous one. Drop those.
        if (payload.kind === 'notAll' || idx >= end || idx <= lastIdx + 2) continue;
      }
      lastIdx = idx;
      const detail = this.explainer.explain(ex, payload, idx, start);
      this.pushParse({ kind: 'syntax', detail, span: this.spanAt(idx) });
    }
  }

  /** Index of a token in the whole vector; EOF of a chunk maps to the chunk's end. */
  private indexOf(tok: IToken, start: number, end: number): number {
    if (!tok || tok.tokenType === EOF || !Number.isFinite(tok.startOffset)) return end;
    let lo = start;
    let hi = end - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const o = this.tokens[mid]!.startOffset;
      if (o === tok.startOffset) return mid;
      if (o < tok.startOffset) lo = mid + 1;
      else hi = mid - 1;
    }
    return end;
  }

  /** Whether a lexical error lies between token idx-1 and token idx. */
  private followsLexError(idx: number): boolean {
    const prev = idx > 0 ? this.tokens[idx - 1] : undefined;
    const from = prev ? prev.endOffset! + 1 : 0;
    const to = idx < this.tokens.length ? this.tokens[idx]!.startOffset : this.text.length;
    return this.lexErrors.some(
      (e) =>
        (e.span.offset >= from && e.span.offset < to) ||
        // an unterminated string swallowed the rest of its line
        (prev !== undefined && e.span.offset === prev.startOffset && e.detail.startsWith('unterminated')),
    );
  }

  private spanAt(idx: number): Span {
    if (idx < this.tokens.length) return tokenSpan(this.file, this.tokens[idx]!);
    const last = this.tokens[this.tokens.length - 1];
    if (!last) return { file: this.file, line: 1, column: 1, offset: 0, length: 1 };
    return {
      file: this.file,
      line: last.endLine ?? 1,
      column: (last.endColumn ?? 0) + 1,
      offset: (last.endOffset ?? 0) + 1,
      length: 1,
    };
  }

}
