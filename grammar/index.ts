// The public face of the grammar: source text in, syntax tree (grammar/ast.ts) out, or a
// LosscErrors holding every syntax error found, each pointing at its place in the source.
//
//   text ──size check──▶ lexer (lexer.ts) ──nesting check──▶ parser (parser.ts, with recovery)
//        ──▶ visitor (visitor.ts) ──▶ Program | Expr
//
// Robustness: sources over 1 MB are refused up front; a cheap pass over the tokens refuses
// nesting deeper than MAX_NESTING (parentheses, brackets, calls, `if`s, prefix operators) before
// the recursive-descent parser sees it; long flat chains (`1+1+...`) are loops everywhere; and a
// stack overflow that slips through anyway becomes a 'limit' error. No chevrotain exception or
// JavaScript stack trace reaches the caller: everything thrown is a LosscError.

import {
  EOF,
  type IParserErrorMessageProvider,
  type IRecognitionException,
  type IToken,
  type TokenType,
} from 'chevrotain';
import type { Expr, Program, Span } from './ast.js';
import { LosscError, LosscErrors, registerSource } from '../src/errors.js';
import {
  KEYWORDS,
  allTokens,
  keywordTokens,
  topLevelKeywordTokens,
  lex,
  tokenSpan,
  type RawError,
  Loss, Def, Regularizer, If, Then, Else, Let, Not,
  Identifier, CallName, NumberLiteral, StringLiteral, True, False, None,
  LParen, RParen, LBracket, RBracket, Comma, Semicolon, Equals, EqEq, Minus, Star,
  BinaryOperator, PrefixOperator,
} from './lexer.js';
import { LosscParser, TooManyErrors } from './parser.js';
import { AstBuilder, IncompleteTree, type VisitContext } from './visitor.js';

export { KEYWORDS };

/** Largest source accepted, in bytes (UTF-8). */
export const MAX_SOURCE_BYTES = 1024 * 1024;
/**
 * Deepest nesting accepted: parentheses, brackets, calls, `if`s and prefix operators, counted
 * together. The parser needs ~50 stack frames per level of nested calls and Node's default stack
 * holds ~250 such levels; 100 leaves room for the caller and for later recursive passes.
 */
export const MAX_NESTING = 100;
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

// ---------------------------------------------------------------------------------------------
// Parser instance and error descriptions

/** What the parser's error message provider records; turned into a sentence by `explain`. */
interface ErrorPayload {
  kind: 'mismatch' | 'noViable' | 'earlyExit' | 'notAll';
  /** Token type names that would have been accepted (first tokens of each path). */
  expected: string[];
  rule: string;
}

function firstTokens(paths: TokenType[][]): string[] {
  const names = new Set<string>();
  for (const p of paths) if (p[0]) names.add(p[0].name);
  return [...names];
}

const messageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, ruleName }) =>
    JSON.stringify({ kind: 'mismatch', expected: [expected.name], rule: ruleName } satisfies ErrorPayload),
  buildNotAllInputParsedMessage: ({ ruleName }) =>
    JSON.stringify({ kind: 'notAll', expected: [], rule: ruleName } satisfies ErrorPayload),
  buildNoViableAltMessage: ({ expectedPathsPerAlt, ruleName }) =>
    JSON.stringify({
      kind: 'noViable',
      expected: firstTokens(expectedPathsPerAlt.flat()),
      rule: ruleName,
    } satisfies ErrorPayload),
  buildEarlyExitMessage: ({ expectedIterationPaths, ruleName }) =>
    JSON.stringify({
      kind: 'earlyExit',
      expected: firstTokens(expectedIterationPaths),
      rule: ruleName,
    } satisfies ErrorPayload),
};

let parserInstance: LosscParser | undefined;
function getParser(): LosscParser {
  parserInstance ??= new LosscParser({ errorMessageProvider: messageProvider, maxErrors: MAX_ERRORS + 1 });
  return parserInstance;
}

const topLevelKeywords = new Set<TokenType>(topLevelKeywordTokens);
const keywordSet = new Set<TokenType>(keywordTokens);
/** Tokens after which a `-` is binary (they end an operand). */
const operandEnders = new Set<TokenType>([
  Identifier, NumberLiteral, StringLiteral, True, False, None, RParen, RBracket,
]);
/** Tokens that can start an operand. */
const operandStarters = new Set<TokenType>([
  Identifier, CallName, NumberLiteral, StringLiteral, True, False, None, LParen, LBracket,
]);

const is = (t: IToken | undefined, type: TokenType): boolean => t !== undefined && t.tokenType === type;

/** How a token type is named in "expected ..." lists: as it is typed, or what it is. */
function expectedLabel(name: string): string {
  switch (name) {
    case 'Identifier': return 'identifier';
    case 'CallName': return 'function call';
    case 'NumberLiteral': return 'number';
    case 'StringLiteral': return 'string';
    case 'BinaryOperator': return 'operator';
    case 'PrefixOperator': return "'-' or `not`";
    case 'EOF': return 'the end of the input';
  }
  const type = allTokens.find((t) => t.name === name);
  if (type && keywordSet.has(type)) return '`' + (type.PATTERN as RegExp).source + '`';
  return type?.LABEL ?? name;
}

function joinOr(items: string[]): string {
  if (items.length <= 1) return items[0] ?? 'something else';
  return items.slice(0, -1).join(', ') + ' or ' + items[items.length - 1];
}

function truncate(s: string, n = 30): string {
  return s.length > n ? s.slice(0, n) + '…' : s;
}

// ---------------------------------------------------------------------------------------------
// Layout: where a `let` ends

/**
 * A `let` value runs on across lines, so `let a = b` followed by a line `- c` would read as
 * `b - c`. People write the result of a body at the column of its `let`s, and continue a long
 * formula further right; so a `-` that starts a line at or left of the column of the `let` it
 * follows (outside any brackets) ends that let: it begins the result. Marked here, on the
 * token; the parser's operator loop stops at a marked token.
 */
export function markLayoutBreaks(tokens: IToken[]): void {
  let depth = 0;
  let letColumn = -1;
  let letDepth = -1;
  let prevLine = 0;
  for (const t of tokens) {
    const name = t.tokenType.name;
    const startsLine = (t.startLine ?? 0) > prevLine;
    prevLine = t.endLine ?? t.startLine ?? prevLine;
    if (startsLine && letColumn >= 0 && depth === letDepth && (t.startColumn ?? 0) <= letColumn) {
      if (name === 'Minus') (t as IToken & { layoutBreak?: boolean }).layoutBreak = true;
      if (name !== 'Let') letColumn = -1; // the result has started: no more breaks
    }
    if (name === 'Let') {
      letColumn = t.startColumn ?? 0;
      letDepth = depth;
    } else if (name === 'Loss' || name === 'Def' || name === 'Regularizer' || name === 'Import') {
      letColumn = -1;
    }
    if (name === 'LParen' || name === 'LBracket') depth++;
    else if (name === 'RParen' || name === 'RBracket') depth = Math.max(0, depth - 1);
  }
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

type Mode = 'program' | 'expression';

class Session {
  private readonly tokens: IToken[];
  private readonly comments: IToken[];
  private readonly lexErrors: RawError[];
  private readonly lexTruncated: boolean;
  private readonly errors: RawError[] = [];
  /** Number of recognition (parser) errors so far, to stop early on hopeless input. */
  private parseErrorCount = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly mode: Mode,
  ) {
    const lexed = lex(text, file);
    this.tokens = lexed.tokens;
    markLayoutBreaks(this.tokens);
    this.comments = lexed.comments;
    this.lexErrors = lexed.errors;
    this.lexTruncated = lexed.truncated;
  }

  parseProgram(): Program {
    const program: Program = { file: this.file, imports: [], definitions: [] };
    if (!this.checkNesting()) this.fail();
    const parser = getParser();
    for (const [start, end] of this.chunks()) {
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
    if (!this.checkNesting()) this.fail();
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

  // ---- nesting pre-pass -----------------------------------------------------------------------

  /**
   * Refuses nesting deeper than MAX_NESTING before the recursive parser sees it. Counts open
   * parentheses/brackets (calls included), `if`s whose `else` has not come yet, and runs of
   * prefix operators. Linear and allocation-light; approximate on broken input, which is fine:
   * it only has to bound the parser's recursion.
   */
  private checkNesting(): boolean {
    const stack: number[] = []; // token types: 0 paren, 1 bracket, 2 if (in condition), 3 if (after then)
    let prefixRun = 0;
    const toks = this.tokens;
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i]!;
      const type = t.tokenType;
      let grew = false;
      if (type === Minus) {
        const prev = toks[i - 1];
        if (!prev || !operandEnders.has(prev.tokenType)) {
          prefixRun++;
          grew = true;
        }
      } else if (type === Not) {
        prefixRun++;
        grew = true;
      } else {
        prefixRun = 0;
        if (type === LParen) {
          stack.push(0);
          grew = true;
        } else if (type === LBracket) {
          stack.push(1);
          grew = true;
        } else if (type === RParen || type === RBracket) {
          const want = type === RParen ? 0 : 1;
          const at = stack.lastIndexOf(want);
          if (at >= 0) stack.length = at;
        } else if (type === If) {
          stack.push(2);
          grew = true;
        } else if (type === Then) {
          if (stack[stack.length - 1] === 2) stack[stack.length - 1] = 3;
        } else if (type === Else) {
          // `else` ends the `if`'s nesting: its branch is parsed in a loop (`else if`) or after.
          if (stack[stack.length - 1] === 3) stack.pop();
        } else if (topLevelKeywords.has(type)) {
          stack.length = 0;
        }
      }
      if (grew && stack.length + prefixRun > MAX_NESTING) {
        this.errors.push({
          kind: 'limit',
          detail:
            `nested too deeply: more than ${MAX_NESTING} levels of parentheses, brackets, calls, ` +
            `\`if\`s and prefix operators (lossc's limit is ${MAX_NESTING})`,
          span: tokenSpan(this.file, t),
        });
        return false;
      }
    }
    return true;
  }

  // ---- chunks ---------------------------------------------------------------------------------

  /**
   * Splits the token vector before every `loss`/`def`/`regularizer`/`import` that starts a line.
   * Each part is parsed on its own, so an error in one definition cannot swallow the next one.
   */
  private *chunks(): Generator<[number, number]> {
    const toks = this.tokens;
    let start = 0;
    for (let i = 1; i < toks.length; i++) {
      const t = toks[i]!;
      if (topLevelKeywords.has(t.tokenType) && (toks[i - 1]!.endLine ?? 0) < (t.startLine ?? 0)) {
        yield [start, i];
        start = i;
      }
    }
    if (start < toks.length) yield [start, toks.length];
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
      let payload: ErrorPayload;
      try {
        payload = JSON.parse(ex.message) as ErrorPayload;
      } catch {
        payload = { kind: 'noViable', expected: [], rule: '' };
      }
      // Leftover input is what chevrotain reports when it expects the end (EOF) in any way.
      if (payload.kind === 'mismatch' && payload.expected[0] === 'EOF') payload.kind = 'notAll';
      if (lastIdx >= 0) {
        // After a first error, recovery often produces follow-on errors: leftover input, errors
        // at the end of the definition, or errors within two tokens of the previous one. Drop those.
        if (payload.kind === 'notAll' || idx >= end || idx <= lastIdx + 2) continue;
      }
      lastIdx = idx;
      const detail = this.explain(ex, payload, idx, start);
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

  private describeFound(idx: number): string {
    const t = this.tokens[idx];
    if (!t) return 'the end of the input';
    const type = t.tokenType;
    if (keywordSet.has(type)) return '`' + t.image + '`';
    if (type === Identifier || type === CallName) return `name \`${t.image}\``;
    if (type === NumberLiteral) return `number \`${truncate(t.image)}\``;
    if (type === StringLiteral) return `string ${truncate(t.image)}`;
    return `'${t.image}'`;
  }

  private where(t: IToken): string {
    return `${t.startLine}:${t.startColumn}`;
  }

  /** The innermost unclosed `(` or `[` before idx (within the chunk), or -1. */
  private findOpener(idx: number, start: number): number {
    let depth = 0;
    for (let j = idx - 1; j >= start; j--) {
      const type = this.tokens[j]!.tokenType;
      if (type === RParen || type === RBracket) depth++;
      else if (type === LParen || type === LBracket) {
        if (depth === 0) return j;
        depth--;
      }
    }
    return -1;
  }

  /** The innermost `if` before idx still waiting for `kw` (`then` or `else`), or -1. */
  private findIf(idx: number, start: number, kw: TokenType): number {
    let depth = 0;
    let pending = 0;
    for (let j = idx - 1; j >= start; j--) {
      const type = this.tokens[j]!.tokenType;
      if (type === RParen || type === RBracket) depth++;
      else if (type === LParen || type === LBracket) {
        if (depth === 0) return -1;
        depth--;
      } else if (depth === 0) {
        if (type === kw) pending++;
        else if (type === If) {
          if (pending === 0) return j;
          pending--;
        }
      }
    }
    return -1;
  }

  /** The name of the definition that idx is in, if any. */
  private definitionName(idx: number, start: number): string | undefined {
    for (let j = Math.min(idx, this.tokens.length) - 1; j >= start; j--) {
      const t = this.tokens[j]!;
      if (t.tokenType === Loss || t.tokenType === Def || t.tokenType === Regularizer) {
        const n = this.tokens[j + 1];
        return n && (n.tokenType === Identifier || n.tokenType === CallName) ? n.image : undefined;
      }
    }
    return undefined;
  }

  private keywordNote(idx: number): string {
    const t = this.tokens[idx];
    return t && keywordSet.has(t.tokenType) ? ` (\`${t.image}\` is a keyword and cannot be used as a name)` : '';
  }

  /** A sentence for one parser error. */
  private explain(ex: IRecognitionException, p: ErrorPayload, idx: number, start: number): string {
    const found = this.describeFound(idx);
    const stack = ex.context?.ruleStack ?? [];
    const rule = p.rule || stack[stack.length - 1] || '';
    const parent = stack[stack.length - 2];
    const prev = idx - 1 >= start ? this.tokens[idx - 1] : undefined;
    let msg: string;
    if (p.kind === 'notAll') {
      msg =
        this.mode === 'expression'
          ? `unexpected ${found} after the end of the expression`
          : `expected a definition (\`loss\`, \`def\`, \`regularizer\`) or \`import\`, found ${found}`;
    } else if (p.kind === 'mismatch') {
      msg = this.mismatch(p.expected[0] ?? '', rule, idx, start, found, prev);
    } else {
      msg = this.noViable(p, rule, parent, idx, start, found, prev);
    }
    return msg + this.hints(idx, start, p.kind, p.expected, rule, parent);
  }

  private mismatch(expected: string, rule: string, idx: number, start: number, found: string, prev: IToken | undefined): string {
    const name = this.definitionName(idx, start);
    switch (expected) {
      case 'RParen':
      case 'RBracket': {
        const close = expected === 'RParen' ? "')'" : "']'";
        const j = this.findOpener(idx, start);
        if (j < 0) return `expected ${close}, found ${found}`;
        const opener = this.tokens[j]!;
        let what: string;
        const before = this.tokens[j - 1];
        if (rule === 'call' && before && before.tokenType === CallName) what = `the call of \`${before.image}\``;
        else if (rule === 'definition') what = name ? `the parameter list of \`${name}\`` : 'the parameter list';
        else if (rule === 'list') what = 'the list';
        else if (rule === 'shape') what = 'the shape';
        else if (rule === 'destructuring') what = 'the names of `let [...]`';
        else what = `the ${opener.tokenType === LParen ? "'('" : "'['"}`;
        let extra = '';
        if (rule === 'definition' && is(this.tokens[idx], Equals)) {
          extra = ' (options with defaults come after a \';\': `f(y_true, y_pred; gamma = 2.0)`)';
        } else if (rule === 'shape' && prev && (prev.tokenType === LBracket || prev.tokenType === Comma)) {
          extra = is(this.tokens[idx], None)
            ? ' (for a dimension of any size, use a name such as `N`)'
            : ' (a dimension is a whole number, a name or `...`)';
        } else if (prev && [Semicolon, Comma, LParen].includes(prev.tokenType)) {
          extra = this.keywordNote(idx);
        }
        return `expected ${close} to close ${what} opened at ${this.where(opener)}, found ${found}${extra}`;
      }
      case 'Then': {
        const j = this.findIf(idx, start, Then);
        const at = j >= 0 ? ` at ${this.where(this.tokens[j]!)}` : '';
        return `expected \`then\` after the condition of the \`if\`${at}, found ${found}`;
      }
      case 'Else': {
        const j = this.findIf(idx, start, Else);
        const at = j >= 0 ? ` at ${this.where(this.tokens[j]!)}` : '';
        return `expected \`else\` to complete the \`if\`${at} (every \`if\` needs an \`else\` branch), found ${found}`;
      }
      case 'Equals':
        if (is(this.tokens[idx], EqEq)) return `expected '=', found '==' (a single '=' here)`;
        if (rule === 'definition') return `expected '=' after the header of \`${name ?? '?'}\`, found ${found}`;
        if (rule === 'letBinding') {
          const hint = is(this.tokens[idx], Comma) ? ' (to unpack several values, write `let [a, b] = ...`)' : '';
          const bound = is(prev, RBracket) ? '[...]' : prev?.image ?? '';
          return `expected '=' after \`let ${bound}\`, found ${found}${hint}`;
        }
        if (rule === 'optionDecl') {
          return `expected '=' after option \`${prev?.image ?? ''}\` (an option after ';' needs a default, e.g. \`${prev?.image ?? 'gamma'} = 2.0\`), found ${found}`;
        }
        return `expected '=', found ${found}`;
      case 'Identifier': {
        const what =
          rule === 'param' ? 'a parameter name'
          : rule === 'optionDecl' ? 'an option name'
          : rule === 'destructuring' ? 'a name in `let [...]`'
          : 'a name';
        return `expected ${what}, found ${found}${this.keywordNote(idx)}`;
      }
      case 'LParen':
        if (rule === 'definition') {
          return `expected '(' and the parameters of \`${name ?? '?'}\`, e.g. \`loss ${name ?? 'f'}(y_true, y_pred) = ...\`, found ${found}`;
        }
        return `expected '(', found ${found}`;
      case 'StringLiteral':
        if (rule === 'importStatement') return `expected a quoted file name after \`import\`, e.g. \`import "losses.loss"\`, found ${found}`;
        return `expected a string, found ${found}`;
      default:
        return `expected ${expectedLabel(expected)}, found ${found}`;
    }
  }

  private noViable(
    p: ErrorPayload,
    rule: string,
    parent: string | undefined,
    idx: number,
    start: number,
    found: string,
    prev: IToken | undefined,
  ): string {
    const name = this.definitionName(idx, start);
    const wantsExpression = p.expected.includes('NumberLiteral') && rule !== 'dimension';
    if (wantsExpression) {
      if (rule === 'operand' && prev && (prev.tokenType.CATEGORIES ?? []).some((c) => c === BinaryOperator || c === PrefixOperator)) {
        return `expected an expression after '${prev.image}', found ${found}`;
      }
      switch (parent) {
        case 'body': {
          const hasLets = this.tokens.slice(start, idx).some((t) => t.tokenType === Let);
          return `expected the result expression of \`${name ?? '?'}\`${hasLets ? ' after its `let`s' : ''}, found ${found}` + this.minusContinuationHint(idx, start);
        }
        case 'letBinding':
          return `expected a value after \`let ... =\`, found ${found}`;
        case 'optionDecl':
          return `expected a default value for option \`${this.tokens[idx - 2]?.image ?? '?'}\`, found ${found}`;
        case 'argument':
          if (is(prev, Equals)) return `expected a value for keyword argument \`${this.tokens[idx - 2]?.image ?? '?'}\`, found ${found}`;
          return `expected an argument, found ${found}`;
        case 'ifExpression':
          if (is(prev, If)) return `expected a condition after \`if\`, found ${found}`;
          if (is(prev, Then)) return `expected an expression after \`then\`, found ${found}`;
          if (is(prev, Else)) return `expected an expression after \`else\`, found ${found}`;
          break;
        case 'operand':
          if (is(prev, LParen)) return `expected an expression after '(', found ${found}`;
          break;
      }
      return `expected an expression, found ${found}`;
    }
    switch (rule) {
      case 'definition': {
        const kw = prev?.image ?? 'loss';
        return `expected a name after \`${kw}\`, found ${found}${this.keywordNote(idx)}`;
      }
      case 'letBinding':
        return `expected a name or \`[names]\` after \`let\`, found ${found}${this.keywordNote(idx)}`;
      case 'typeAnnotation':
        return `expected a type after ':' (\`float\`, \`int\` or \`bool\`, and/or a shape such as \`[N, C]\`), found ${found}`;
      case 'dimension':
        return `expected a dimension (a whole number, a name or \`...\`), found ${found}` +
          (is(this.tokens[idx], None) ? ' (for a dimension of any size, use a name such as `N`)' : '');
    }
    return `expected ${joinOr(p.expected.map(expectedLabel))}, found ${found}`;
  }

  /** When a body lacks its result because a line starting with `-` continued the last `let`. */
  private minusContinuationHint(idx: number, start: number): string {
    let lastLet = -1;
    for (let j = idx - 1; j >= start; j--) {
      if (this.tokens[j]!.tokenType === Let) {
        lastLet = j;
        break;
      }
    }
    if (lastLet < 0) return '';
    let depth = 0;
    for (let j = lastLet + 1; j < idx; j++) {
      const t = this.tokens[j]!;
      if (t.tokenType === LParen || t.tokenType === LBracket) depth++;
      else if (t.tokenType === RParen || t.tokenType === RBracket) depth--;
      else if (depth === 0 && t.tokenType === Minus && (this.tokens[j - 1]!.endLine ?? 0) < (t.startLine ?? 0)) {
        return ` (the line starting with '-' at ${this.where(t)} continues the \`let\` above it; to start the result with a minus, put the result in parentheses)`;
      }
    }
    return '';
  }

  /** Hints that apply to many errors, keyed on what was found and what came before. */
  private hints(
    idx: number,
    start: number,
    kind: ErrorPayload['kind'],
    expected: string[],
    rule = '',
    parent = '',
  ): string {
    const t = this.tokens[idx];
    const prev = idx - 1 >= start ? this.tokens[idx - 1] : undefined;
    if (!t) return '';
    const adjacent = prev !== undefined && prev.endOffset !== undefined && prev.endOffset + 1 === t.startOffset;
    // `mean (x)`: a call needs the `(` right after the name.
    const spacedCall = this.spacedCallBefore(idx, start);
    if (spacedCall !== undefined) {
      return t.tokenType === LParen
        ? `; a call is written without a space before '(': \`${spacedCall}(...)\``
        : `; \`${spacedCall} (...)\` is not a call: a call is written without a space before '(': \`${spacedCall}(...)\``;
    }
    const nearEquals = ['definition', 'param', 'paramList', 'optionDecl', 'letBinding', 'destructuring'];
    if (
      t.tokenType === Equals &&
      prev !== undefined &&
      operandEnders.has(prev.tokenType) &&
      !expected.includes('Equals') &&
      !nearEquals.includes(rule) &&
      !nearEquals.includes(parent)
    ) {
      return kind === 'notAll'
        ? " (to compare, write '=='; to name a value, write `let name = ...`)"
        : " (to compare, write '==')";
    }
    if (t.tokenType === If && (rule === 'operand' || kind === 'notAll')) {
      return ' (an `if` inside a larger expression must be in parentheses: `(if c then a else b)`)';
    }
    if (t.tokenType === Star && is(prev, Star) && adjacent) return " (powers are written with '^', e.g. `x^2`)";
    if (kind === 'notAll') {
      const spaced = this.spacedCallOnLine(idx, start);
      if (spaced !== undefined) {
        return `; \`${spaced} (...)\` is not a call: a call is written without a space before '(': \`${spaced}(...)\``;
      }
    }
    const inExpression = ['call', 'ifExpression', 'list', 'operand', 'expression', 'argument'].includes(rule);
    if (kind === 'notAll' || (kind === 'mismatch' && inExpression)) {
      if (t.tokenType === Let && kind === 'notAll' && this.definitionName(idx, start) !== undefined) {
        return ' (`let`s come before the result expression; a definition has one result)';
      }
      if ((t.tokenType === RParen || t.tokenType === RBracket) && kind === 'notAll') {
        return ` (this '${t.image}' has no matching '${t.tokenType === RParen ? '(' : '['}')`;
      }
      if (prev && operandEnders.has(prev.tokenType) && operandStarters.has(t.tokenType) && prev.endLine === t.startLine) {
        if (is(prev, NumberLiteral) && adjacent && (t.tokenType === Identifier || t.tokenType === CallName)) {
          if (/^[eE]\d*$/.test(t.image)) return " (a number's exponent needs digits, e.g. `1e-7`)";
          return ` (multiplication is written with '*': \`${prev.image} * ${t.image}\`)`;
        }
        if (t.tokenType === LBracket && adjacent) return ' (lossc has no `x[...]` indexing)';
        return ' (is an operator missing before it?)';
      }
    }
    return '';
  }

  /** Whether the token at i is the name in a definition header (`loss name (`). */
  private isDefinitionName(i: number): boolean {
    const kw = this.tokens[i - 1];
    return kw !== undefined && (kw.tokenType === Loss || kw.tokenType === Def || kw.tokenType === Regularizer);
  }

  /** A `name (` with a space, earlier in the same `let` or result and on the line before idx. */
  private spacedCallOnLine(idx: number, start: number): string | undefined {
    const line = this.tokens[idx - 1]?.endLine;
    for (let j = idx - 1; j > start; j--) {
      const t = this.tokens[j]!;
      if (t.endLine !== line || t.tokenType === Let || t.tokenType === Equals) break;
      const name = this.tokens[j - 1]!;
      if (
        t.tokenType === LParen &&
        name.tokenType === Identifier &&
        name.endLine === t.startLine &&
        name.endOffset! + 1 < t.startOffset &&
        !this.isDefinitionName(j - 1)
      ) {
        return name.image;
      }
    }
    return undefined;
  }

  /** `name` if the token at idx is `(` after `name ` or follows `name (...)` on one line. */
  private spacedCallBefore(idx: number, start: number): string | undefined {
    const t = this.tokens[idx];
    if (!t) return undefined;
    const check = (open: number): string | undefined => {
      const paren = this.tokens[open];
      const name = this.tokens[open - 1];
      if (open - 1 < start || !paren || !name || paren.tokenType !== LParen || name.tokenType !== Identifier) return undefined;
      if (this.isDefinitionName(open - 1)) return undefined;
      if (name.endOffset! + 1 === paren.startOffset || name.endLine !== paren.startLine) return undefined;
      return name.image;
    };
    if (t.tokenType === LParen) return check(idx);
    const prev = this.tokens[idx - 1];
    if (prev && idx - 1 >= start && prev.tokenType === RParen && prev.endLine === t.startLine) {
      // find the `(` matching prev
      let depth = 0;
      for (let j = idx - 1; j >= start; j--) {
        const type = this.tokens[j]!.tokenType;
        if (type === RParen || type === RBracket) depth++;
        else if (type === LParen || type === LBracket) {
          depth--;
          if (depth === 0) return check(j);
        }
      }
    }
    return undefined;
  }
}
