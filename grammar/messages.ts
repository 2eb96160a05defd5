// The wording of syntax errors: chevrotain's recognition errors (recorded by `messageProvider` as
// an ErrorPayload) turned into one sentence each, with hints for the usual slips (a space before a
// call's '(', '=' for '==', '**' for '^', a `-` line that continued a `let`).

import type { IParserErrorMessageProvider, IRecognitionException, IToken, TokenType } from './chevrotain.js';
import {
  allTokens,
  keywordTokens,
  Loss, Def, Regularizer, If, Then, Else, Let,
  Identifier, CallName, NumberLiteral, StringLiteral, True, False, None,
  LParen, RParen, LBracket, RBracket, Comma, Semicolon, Equals, EqEq, Minus, Star,
  BinaryOperator, PrefixOperator,
} from './lexer.js';
import { backward, isOpener, operandEnders } from './prepass.js';

export type Mode = 'program' | 'expression';

export interface ErrorPayload {
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

/**
 * Chevrotain's only channel from its error builders to the exceptions it creates is the message
 * string, and every exception it makes carries one: so the payload travels as JSON there, written
 * by `messageProvider` and read back by `payloadOf`, and nowhere else. (A side table keyed by
 * token would not do: chevrotain reports every error past the input at one shared EOF token.)
 */
export const messageProvider: IParserErrorMessageProvider = {
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

/** The payload `messageProvider` wrote into a recognition error. */
export function payloadOf(ex: IRecognitionException): ErrorPayload {
  let payload: ErrorPayload;
  try {
    payload = JSON.parse(ex.message) as ErrorPayload;
  } catch {
    payload = { kind: 'noViable', expected: [], rule: '' };
  }
  // Leftover input is what chevrotain reports when it expects the end (EOF) in any way.
  if (payload.kind === 'mismatch' && payload.expected[0] === 'EOF') payload.kind = 'notAll';
  return payload;
}

const keywordSet = new Set<TokenType>(keywordTokens);
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

/** The sentences for the parser errors of one token vector. */
export class Explainer {
  constructor(
    private readonly tokens: readonly IToken[],
    private readonly mode: Mode,
  ) {}

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
    for (const { j, type, depth } of backward(this.tokens, idx, start)) if (depth === 0 && isOpener(type)) return j;
    return -1;
  }

  /** The innermost `if` before idx still waiting for `kw` (`then` or `else`), or -1. */
  private findIf(idx: number, start: number, kw: TokenType): number {
    let pending = 0;
    for (const { j, type, depth } of backward(this.tokens, idx, start)) {
      if (depth !== 0) continue;
      if (isOpener(type)) return -1;
      if (type === kw) pending++;
      else if (type === If) {
        if (pending === 0) return j;
        pending--;
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
  explain(ex: IRecognitionException, p: ErrorPayload, idx: number, start: number): string {
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
    // The first `-` after the last `let`, at the let's bracket depth, that starts a line.
    let letDepth: number | undefined;
    let minus: IToken | undefined;
    const minuses: Array<{ t: IToken; depth: number }> = [];
    for (const { j, type, depth } of backward(this.tokens, idx, start)) {
      if (type === Let) {
        letDepth = depth;
        break;
      }
      const t = this.tokens[j]!;
      if (type === Minus && j > start && (this.tokens[j - 1]!.endLine ?? 0) < (t.startLine ?? 0)) minuses.push({ t, depth });
    }
    if (letDepth === undefined) return '';
    for (const m of minuses) if (m.depth === letDepth) minus = m.t; // the last one pushed is the first in the text
    if (!minus) return '';
    return ` (the line starting with '-' at ${this.where(minus)} continues the \`let\` above it; to start the result with a minus, put the result in parentheses)`;
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
      // the `(` matching prev
      for (const { j, type, depth } of backward(this.tokens, idx, start)) if (depth === 1 && isOpener(type)) return check(j);
    }
    return undefined;
  }
}
