// The lossc lexer: chevrotain token types and one Lexer instance.
//
// Newlines are insignificant except in one place: a name written *directly* before `(`
// (no space, no newline) is a `CallName` token, so `mean(x)` is a call while
//
//     let a = b
//     (c + d) * 2
//
// is a `let` followed by a parenthesised result. Keywords never become calls: `not(x)` is
// `not (x)` and `if(c) then ...` is `if (c) then ...`.

import { createToken, Lexer, type IToken, type TokenType } from './chevrotain.js';
import { KEYWORDS, type Span } from './ast.js';

// ---------------------------------------------------------------------------------------------
// Operator categories: the parser reads a flat chain `operand { binaryOperator operand }` and
// grammar/visitor.ts applies precedence (this keeps the parser's stack shallow: deep nesting of
// parentheses costs ~3 rule calls per level instead of ~11 with one rule per precedence level).

/** Category of every infix operator: `or and < <= > >= == != + - * / ^`. */
export const BinaryOperator = createToken({ name: 'BinaryOperator', pattern: Lexer.NA, label: 'binary operator' });
/** Category of the prefix operators `-` and `not`. */
export const PrefixOperator = createToken({ name: 'PrefixOperator', pattern: Lexer.NA, label: 'prefix operator' });

// ---------------------------------------------------------------------------------------------
// Names

// Every token whose pattern is a RegExp names the characters it can start with
// (`start_chars_hint`): chevrotain would otherwise work them out from the RegExp, which took most
// of the lexer's construction (test/grammar.test.ts checks each hint against its pattern).
const NAME_START = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_'];

/** A name not directly followed by `(`: a variable, parameter, option, dtype or shape symbol. */
export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/, start_chars_hint: NAME_START, label: 'name' });

/** A name directly followed by `(` (the `(` is not part of the token): the callee of a call. */
export const CallName = createToken({
  name: 'CallName',
  pattern: /[A-Za-z_][A-Za-z0-9_]*(?=\()/,
  start_chars_hint: NAME_START,
  label: 'function name',
});

/** `@no_align`: an attribute of the definition that follows (grammar/ast.ts's ATTRIBUTES). */
export const Attribute = createToken({ name: 'Attribute', pattern: /@[A-Za-z_][A-Za-z0-9_]*/, start_chars_hint: ['@'], label: 'attribute' });

// Keywords. `longer_alt` makes `letter`, `iffy(`, `none_x` names rather than a keyword + a name;
// a keyword followed by `(` stays a keyword (the CallName match is not longer).
function keyword(word: string, name: string, categories: TokenType[] = []): TokenType {
  return createToken({
    name,
    pattern: new RegExp(word),
    start_chars_hint: [word[0]!],
    longer_alt: [CallName, Identifier],
    label: `'${word}'`,
    categories,
  });
}
export const Loss = keyword('loss', 'Loss');
export const Def = keyword('def', 'Def');
export const Regularizer = keyword('regularizer', 'Regularizer');
export const Import = keyword('import', 'Import');
export const Let = keyword('let', 'Let');
export const If = keyword('if', 'If');
export const Then = keyword('then', 'Then');
export const Else = keyword('else', 'Else');
export const And = keyword('and', 'And', [BinaryOperator]);
export const Or = keyword('or', 'Or', [BinaryOperator]);
export const Not = keyword('not', 'Not', [PrefixOperator]);
export const True = keyword('true', 'True');
export const False = keyword('false', 'False');
export const None = keyword('none', 'None');

// Every reserved word of the language: KEYWORDS, in ast.ts, which loads without chevrotain (the printer reads it).
export { KEYWORDS };

// ---------------------------------------------------------------------------------------------
// Literals

/** `1`, `1.5`, `1.`, `.5`, `1e-7`, `2.5E+3`. No sign: `-1` is unary minus applied to `1`. */
export const NumberLiteral = createToken({
  name: 'NumberLiteral',
  pattern: /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/,
  start_chars_hint: [...'0123456789.'],
  label: 'number',
});

/** `"..."` or `'...'` on one line, with escapes `\\ \" \' \n \t` (checked after lexing). */
export const StringLiteral = createToken({
  name: 'StringLiteral',
  pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*"|'(?:[^'\\\r\n]|\\[^\r\n])*'/,
  start_chars_hint: ['"', "'"],
  label: 'string',
});

/** A string whose closing quote is missing before the end of the line: reported as an error. */
export const UnterminatedString = createToken({
  name: 'UnterminatedString',
  pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*\\?|'(?:[^'\\\r\n]|\\[^\r\n])*\\?/,
  start_chars_hint: ['"', "'"],
  label: 'unterminated string',
});

// ---------------------------------------------------------------------------------------------
// Punctuation and operators

function punct(name: string, text: string, categories: TokenType[] = []): TokenType {
  const escaped = text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return createToken({ name, pattern: new RegExp(escaped), start_chars_hint: [text[0]!], label: `'${text}'`, categories });
}

export const LParen = punct('LParen', '(');
export const RParen = punct('RParen', ')');
export const LBracket = punct('LBracket', '[');
export const RBracket = punct('RBracket', ']');
export const Comma = punct('Comma', ',');
export const Semicolon = punct('Semicolon', ';');
export const Colon = punct('Colon', ':');
export const Ellipsis = punct('Ellipsis', '...');
export const Equals = punct('Equals', '=');

export const LessEq = punct('LessEq', '<=', [BinaryOperator]);
export const GreaterEq = punct('GreaterEq', '>=', [BinaryOperator]);
export const EqEq = punct('EqEq', '==', [BinaryOperator]);
export const NotEq = punct('NotEq', '!=', [BinaryOperator]);
export const Less = punct('Less', '<', [BinaryOperator]);
export const Greater = punct('Greater', '>', [BinaryOperator]);
export const Plus = punct('Plus', '+', [BinaryOperator]);
export const Minus = punct('Minus', '-', [BinaryOperator, PrefixOperator]);
export const Star = punct('Star', '*', [BinaryOperator]);
export const Slash = punct('Slash', '/', [BinaryOperator]);
export const Caret = punct('Caret', '^', [BinaryOperator]);

// ---------------------------------------------------------------------------------------------
// Trivia

export const WhiteSpace = createToken({
  name: 'WhiteSpace',
  pattern: /[ \t\f\v\ufeff]+/, // U+FEFF: a byte-order mark some editors put first
  start_chars_hint: [' ', '\t', '\f', '\v', '\ufeff'],
  group: Lexer.SKIPPED,
});

/** Line breaks (and the indentation after them): skipped, but they advance the line count. */
export const LineBreak = createToken({
  name: 'LineBreak',
  pattern: /(?:\r\n?|\n)[ \t\f\v]*/,
  start_chars_hint: ['\r', '\n'],
  group: Lexer.SKIPPED,
  line_breaks: true,
});

/** `#` to the end of the line; kept in the `comments` group for doc comments, never parsed. */
export const Comment = createToken({ name: 'Comment', pattern: /#[^\r\n]*/, start_chars_hint: ['#'], group: 'comments' });

// ---------------------------------------------------------------------------------------------

/** All token types, in matching order (first match wins, longer_alt aside). */
export const allTokens: TokenType[] = [
  WhiteSpace,
  LineBreak,
  Comment,
  // keywords before names, with longer_alt back to names
  Loss, Def, Regularizer, Import, Let, If, Then, Else, And, Or, Not, True, False, None,
  CallName,
  Identifier,
  Attribute,
  // `...` before numbers (`.5`)
  Ellipsis,
  NumberLiteral,
  StringLiteral,
  UnterminatedString,
  LParen, RParen, LBracket, RBracket, Comma, Semicolon, Colon,
  // two-character operators before their one-character prefixes
  LessEq, GreaterEq, EqEq, NotEq, Less, Greater,
  Equals,
  Plus, Minus, Star, Slash, Caret,
  // categories (never matched themselves)
  BinaryOperator, PrefixOperator,
];

/** The token types the parser consumes (the vocabulary of grammar/parser.ts). */
export const parserTokens: TokenType[] = allTokens.filter(
  (t) => t !== WhiteSpace && t !== LineBreak && t !== Comment && t !== UnterminatedString,
);

let lexerInstance: Lexer | undefined;

function makeLexer(validate: boolean): Lexer {
  return new Lexer(allTokens, {
    positionTracking: 'full',
    ensureOptimizations: true,
    skipValidations: !validate,
    // Messages are written by `lex` below; chevrotain's would only cost time on garbage input.
    errorMessageProvider: {
      buildUnexpectedCharactersMessage: () => '',
      buildUnableToPopLexerModeMessage: () => '',
    },
  });
}

/**
 * The lexer, built on first use (its analysis is not work to do when lossc is imported), without
 * chevrotain's checks of the token definitions: they took half its construction, and
 * `checkedLexer` runs them in the tests.
 */
export function losscLexer(): Lexer {
  return (lexerInstance ??= makeLexer(false));
}

/** A new lexer built with chevrotain's checks of the token definitions (for the tests). */
export function checkedLexer(): Lexer {
  return makeLexer(true);
}

/** Lexical errors described in full; beyond this many, `lex` only reports that there were more. */
export const MAX_LEX_ERRORS = 100;

/** Keyword token types. */
export const keywordTokens: readonly TokenType[] = [
  Loss, Def, Regularizer, Import, Let, If, Then, Else, And, Or, Not, True, False, None,
];

/** Tokens that start a top-level item: its keyword, or an attribute above a definition's keyword. */
export const topLevelKeywordTokens: readonly TokenType[] = [Loss, Def, Regularizer, Import, Attribute];

// ---------------------------------------------------------------------------------------------
// Lexing with checked literals

/**
 * An error found while reading source text, before it is made a LosscError (which renders the
 * source line at construction: cheap for the few errors shown, not for thousands).
 */
export interface RawError {
  kind: 'syntax' | 'limit';
  detail: string;
  span: Span;
}

export interface LexResult {
  /** Tokens for the parser (unterminated strings are turned into strings, so parsing goes on). */
  tokens: IToken[];
  /** `#` comments, in order. */
  comments: IToken[];
  /** Lexical errors: unexpected characters, unterminated strings, bad escapes, huge numbers. */
  errors: RawError[];
  /** Whether there were more than MAX_LEX_ERRORS errors (only the first ones are described). */
  truncated: boolean;
}

/** The span of a token (or of `length` characters from `offsetInToken` inside it). */
export function tokenSpan(file: string, tok: IToken, offsetInToken = 0, length?: number): Span {
  return {
    file,
    line: tok.startLine ?? 1,
    column: (tok.startColumn ?? 1) + offsetInToken,
    offset: tok.startOffset + offsetInToken,
    length: Math.max(1, length ?? tok.image.length - offsetInToken),
  };
}

const HINTS: Record<string, string> = {
  '!': " (write `not x` for negation; '!=' means not equal)",
  '&': ' (write `and`)',
  '|': ' (write `or`)',
  '.': " (there is no '.' operator; numbers are written `0.5` or `.5`)",
  '{': ' (braces are not used in lossc)',
  '}': ' (braces are not used in lossc)',
  '`': ' (strings are quoted with \'"\' or "\'")',
  '%': " (there is no '%' operator)",
};

const isControl = (c: string): boolean => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f;

function describeBadChars(chars: string): string {
  const shown = [...chars]
    .map((c) => (isControl(c) ? `\\u{${c.charCodeAt(0).toString(16)}}` : c))
    .join('');
  const first = [...chars][0] ?? '';
  let hint = HINTS[first] ?? '';
  if (!hint && /\p{L}/u.test(first)) hint = " (names use only ASCII letters, digits and '_')";
  if (!hint && /[\u00a0\u2000-\u200b\u2028\u2029\u3000]/.test(first)) hint = ' (an unusual space character)';
  if (!hint && /[\u201c\u201d\u2018\u2019]/.test(first)) hint = ' (a typographic quote; use \'"\' or "\'")';
  return [...chars].length === 1
    ? `unexpected character '${shown}'${hint}`
    : `unexpected characters '${shown}'${hint}`;
}

/** The value of a string token's text, and the escapes it could not understand. */
export function decodeString(image: string): { value: string; badEscapes: { index: number; text: string }[] } {
  const quote = image[0];
  const closed = image.length >= 2 && image[image.length - 1] === quote && !endsInEscape(image);
  const inner = image.slice(1, closed ? -1 : undefined);
  let value = '';
  const badEscapes: { index: number; text: string }[] = [];
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c !== '\\') {
      value += c;
      continue;
    }
    const n = inner[i + 1];
    switch (n) {
      case '\\': value += '\\'; break;
      case '"': value += '"'; break;
      case "'": value += "'"; break;
      case 'n': value += '\n'; break;
      case 't': value += '\t'; break;
      case undefined: break; // a lone `\` at the end of an unterminated string
      default:
        badEscapes.push({ index: i + 1, text: '\\' + n });
        value += n;
    }
    i++;
  }
  return { value, badEscapes };
}

function endsInEscape(image: string): boolean {
  // `"abc\"` is unterminated: count the backslashes before the last quote.
  let n = 0;
  for (let i = image.length - 2; i >= 1 && image[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

/** Lexes `text`, reporting every lexical problem as an error of kind 'syntax'. */
export function lex(text: string, file: string): LexResult {
  const result = losscLexer().tokenize(text);
  const charErrors: RawError[] = [];
  const tokenErrors: RawError[] = [];
  let truncated = false;
  // Each group is in source order, so keeping the first MAX_LEX_ERRORS of each keeps the
  // first MAX_LEX_ERRORS overall.
  const add = (group: RawError[], detail: string, span: Span): void => {
    if (group.length < MAX_LEX_ERRORS) group.push({ kind: 'syntax', detail, span });
    else truncated = true;
  };
  for (const e of result.errors) {
    if (charErrors.length >= MAX_LEX_ERRORS) {
      truncated = true;
      break;
    }
    const chars = text.slice(e.offset, e.offset + e.length);
    add(charErrors, describeBadChars(chars), {
      file,
      line: e.line ?? 1,
      column: e.column ?? 1,
      offset: e.offset,
      length: Math.max(1, e.length),
    });
  }
  for (const tok of result.tokens) {
    const type = tok.tokenType;
    if (type === UnterminatedString) {
      const quote = tok.image[0]!;
      add(
        tokenErrors,
        `unterminated string: the closing ${quote === '"' ? `'"'` : `"'"`} is missing before the end of the line`,
        tokenSpan(file, tok),
      );
      // Carry on as if the string were closed, so the rest of the file is still checked.
      tok.tokenType = StringLiteral;
      tok.tokenTypeIdx = StringLiteral.tokenTypeIdx!;
    }
    if (type === StringLiteral || type === UnterminatedString) {
      if (tok.image.includes('\\')) {
        for (const bad of decodeString(tok.image).badEscapes) {
          add(
            tokenErrors,
            `unknown escape '${bad.text}' in a string (the escapes are \\\\ \\" \\' \\n \\t)`,
            tokenSpan(file, tok, bad.index, bad.text.length),
          );
        }
      }
    } else if (type === NumberLiteral) {
      if (!Number.isFinite(Number(tok.image))) {
        add(tokenErrors, `number literal ${tok.image} is too large (it overflows to infinity)`, tokenSpan(file, tok));
      }
    }
  }
  const comments = (result.groups['comments'] as IToken[] | undefined) ?? [];
  const errors = [...charErrors, ...tokenErrors].sort((a, b) => a.span.offset - b.span.offset);
  if (errors.length > MAX_LEX_ERRORS) {
    errors.length = MAX_LEX_ERRORS;
    truncated = true;
  }
  return { tokens: result.tokens, comments, errors, truncated };
}
