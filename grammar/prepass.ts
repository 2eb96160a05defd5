// Passes over the token vector before and beside the parser: the layout rule that ends a `let`
// (markLayoutBreaks), the nesting bound that protects the recursive parser (checkNesting), the
// split into top-level chunks parsed one by one (chunks), and the one backward bracket scan the
// error messages use (backward).

import type { IToken, TokenType } from './chevrotain.js';
import type { RawError } from './lexer.js';
import {
  topLevelKeywordTokens,
  tokenSpan,
  Attribute,
  If, Then, Else, Not,
  Identifier, NumberLiteral, StringLiteral, True, False, None,
  LParen, RParen, LBracket, RBracket, Minus,
} from './lexer.js';

/**
 * Deepest nesting accepted: parentheses, brackets, calls, `if`s and prefix operators, counted
 * together. The parser needs ~50 stack frames per level of nested calls and Node's default stack
 * holds ~250 such levels; 100 leaves room for the caller and for later recursive passes.
 */
export const MAX_NESTING = 100;

export const topLevelKeywords = new Set<TokenType>(topLevelKeywordTokens);
/** Tokens after which a `-` is binary (they end an operand). */
export const operandEnders = new Set<TokenType>([
  Identifier, NumberLiteral, StringLiteral, True, False, None, RParen, RBracket,
]);

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
    } else if (topLevelKeywords.has(t.tokenType)) {
      letColumn = -1;
    }
    if (name === 'LParen' || name === 'LBracket') depth++;
    else if (name === 'RParen' || name === 'RBracket') depth = Math.max(0, depth - 1);
  }
}

/**
 * Refuses nesting deeper than MAX_NESTING before the recursive parser sees it. Counts open
 * parentheses/brackets (calls included), `if`s whose `else` has not come yet, and runs of
 * prefix operators. Linear and allocation-light; approximate on broken input, which is fine:
 * it only has to bound the parser's recursion.
 */
export function checkNesting(tokens: readonly IToken[], file: string): RawError | undefined {
  const stack: number[] = []; // token types: 0 paren, 1 bracket, 2 if (in condition), 3 if (after then)
  let prefixRun = 0;
  const toks = tokens;
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
      return {
        kind: 'limit',
        detail:
          `nested too deeply: more than ${MAX_NESTING} levels of parentheses, brackets, calls, ` +
          `\`if\`s and prefix operators (lossc's limit is ${MAX_NESTING})`,
        span: tokenSpan(file, t),
      };
    }
  }
  return undefined;
}

/**
 * Splits the token vector before every `loss`/`def`/`regularizer`/`import` or attribute that
 * starts a line (a keyword right after its definition's attributes stays with them). Each part
 * is parsed on its own, so an error in one definition cannot swallow the next one.
 */
export function* chunks(tokens: readonly IToken[]): Generator<[number, number]> {
  const toks = tokens;
  let start = 0;
  for (let i = 1; i < toks.length; i++) {
    const t = toks[i]!;
    const prev = toks[i - 1]!;
    if (topLevelKeywords.has(t.tokenType) && prev.tokenType !== Attribute && (prev.endLine ?? 0) < (t.startLine ?? 0)) {
      yield [start, i];
      start = i;
    }
  }
  if (start < toks.length) yield [start, toks.length];
}

/**
 * The tokens before `idx`, back to `start`, last first, each with its bracket depth relative to
 * idx: how many more closing than opening brackets lie strictly between it and idx. An opening
 * bracket at depth 0 is one still open at idx; the pair of a closing bracket at depth d is the
 * opening bracket met next at depth d + 1.
 */
export function* backward(tokens: readonly IToken[], idx: number, start: number): Generator<{ j: number; type: TokenType; depth: number }> {
  let depth = 0;
  for (let j = idx - 1; j >= start; j--) {
    const type = tokens[j]!.tokenType;
    yield { j, type, depth };
    if (type === RParen || type === RBracket) depth++;
    else if (type === LParen || type === LBracket) depth--;
  }
}

export const isOpener = (type: TokenType): boolean => type === LParen || type === LBracket;
