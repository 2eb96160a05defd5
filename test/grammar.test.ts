// The lossc grammar: tokens, every parser rule, precedence, doc comments and spans.
// Errors: test/grammar-errors.test.ts. Limits and pathological input: test/grammar-limits.test.ts.
// Random trees and garbage: test/grammar-property.test.ts.

import { describe, expect, it } from 'vitest';
import type { Binary, Call, Definition, Expr, NumberLit, Program } from '../grammar/ast.js';
import { KEYWORDS, parseExpression, parseProgram } from '../grammar/index.js';
import { allTokens, checkedLexer, lex, losscLexer } from '../grammar/lexer.js';
import { Lexer } from '../grammar/chevrotain.js';
import { LosscParser, RULE_NAMES } from '../grammar/parser.js';
import { LosscError, LosscErrors } from '../src/errors.js';

/** `(+ a (* b c))`-style text of an expression: shape only, no spans. Iterative-safe depth. */
function sexp(e: Expr): string {
  switch (e.kind) {
    case 'number': return e.text;
    case 'bool': return String(e.value);
    case 'none': return 'none';
    case 'string': return JSON.stringify(e.value);
    case 'name': return e.name;
    case 'list': return `[${e.items.map(sexp).join(' ')}]`;
    case 'unary': return `(${e.op} ${sexp(e.operand)})`;
    case 'binary': return `(${e.op} ${sexp(e.left)} ${sexp(e.right)})`;
    case 'call':
      return `(${[e.callee, ...e.args.map(sexp), ...e.kwargs.map((k) => `:${k.name} ${sexp(k.value)}`)].join(' ')})`;
    case 'if': return `(if ${sexp(e.cond)} ${sexp(e.then)} ${sexp(e.else)})`;
  }
}

const expr = (src: string): string => sexp(parseExpression(src));

function errorOf(src: string): LosscError {
  try {
    parseExpression(src, 'cli');
  } catch (e) {
    expect(e).toBeInstanceOf(LosscErrors);
    expect((e as LosscErrors).errors).toHaveLength(1);
    return (e as LosscErrors).errors[0]!;
  }
  throw new Error(`expected ${JSON.stringify(src)} not to parse`);
}

const BRIEF = `# Focal loss (Lin et al. 2017): down-weights easy examples.
# Second doc line.
loss binary_focal(y_true, y_pred: [N, C]; gamma = 2.0, alpha = 0.25, from_logits = false) =
  let p   = clip(y_pred, epsilon, 1 - epsilon)
  let p_t = y_true * p + (1 - y_true) * (1 - p)
  let a_t = y_true * alpha + (1 - y_true) * (1 - alpha)
  mean(-a_t * (1 - p_t)^gamma * log(p_t), axis = -1)

def softmax(x; axis = -1) = exp(x - logsumexp(x, axis = axis, keepdims = true))

loss triplet(y_true, y_pred; margin = 0.2) =
  let [a, p, n] = split(y_pred, 3, axis = 1)
  relu(sum((a - p)^2, axis = 1) - sum((a - n)^2, axis = 1) + margin)

loss scce(y_true: int[...], y_pred: [..., C]; from_logits = false, ignore_class = none, axes = [1, 2]) =
  if from_logits then a else b

regularizer l2(w; l2 = 0.01) = l2 * sum(w^2)
import "other/file.loss"
`;

function types(src: string): string[] {
  const r = lex(src, 't');
  expect(r.errors).toEqual([]);
  return r.tokens.map((t) => t.tokenType.name);
}
function images(src: string): string[] {
  return lex(src, 't').tokens.map((t) => t.image);
}
function def(src: string, i = 0): Definition {
  return parseProgram(src, 'd.loss').definitions[i]!;
}

// ---------------------------------------------------------------------------------------------

describe('lexer', () => {
  it('lexes every keyword, and only whole words as keywords', () => {
    expect(types(KEYWORDS.join(' '))).toEqual([
      'Loss', 'Def', 'Regularizer', 'Import', 'Let', 'If', 'Then', 'Else',
      'And', 'Or', 'Not', 'True', 'False', 'None',
    ]);
    expect(types('letter iffy none_x nothing define lossy importer _if')).toEqual(Array(8).fill('Identifier'));
    expect(types('iffy( letter( andx(')).toEqual(['CallName', 'LParen', 'CallName', 'LParen', 'CallName', 'LParen']);
  });

  it('exports the keywords', () => {
    expect([...KEYWORDS].sort()).toEqual(
      ['and', 'def', 'else', 'false', 'if', 'import', 'let', 'loss', 'none', 'not', 'or', 'regularizer', 'then', 'true'],
    );
  });

  it('makes a name directly followed by ( a CallName, and nothing else', () => {
    expect(types('mean(x)')).toEqual(['CallName', 'LParen', 'Identifier', 'RParen']);
    expect(types('mean (x)')).toEqual(['Identifier', 'LParen', 'Identifier', 'RParen']);
    expect(types('mean\n(x)')).toEqual(['Identifier', 'LParen', 'Identifier', 'RParen']);
    expect(types('Mean_2(')).toEqual(['CallName', 'LParen']);
    // keywords never become calls
    expect(types('if(c) not(x) and(y) true(')).toEqual([
      'If', 'LParen', 'Identifier', 'RParen', 'Not', 'LParen', 'Identifier', 'RParen',
      'And', 'LParen', 'Identifier', 'RParen', 'True', 'LParen',
    ]);
  });

  it('lexes numbers in every spelling', () => {
    const src = '1 1.5 .5 1e-7 2.5E+3 1. 0 007 3e5';
    expect(types(src)).toEqual(Array(9).fill('NumberLiteral'));
    expect(images(src)).toEqual(src.split(' '));
    // a sign is an operator
    expect(types('-1')).toEqual(['Minus', 'NumberLiteral']);
    // `...` is not a number
    expect(types('... .5')).toEqual(['Ellipsis', 'NumberLiteral']);
  });

  it('lexes strings with both quotes and escapes', () => {
    expect(types(`"a" 'b' "it's" 'say "hi"' "a\\"b" 'a\\'b' "\\\\" "\\n\\t"`)).toEqual(Array(8).fill('StringLiteral'));
    const e = parseExpression(`"a\\"b\\\\c\\n\\t\\'"`);
    expect(e).toMatchObject({ kind: 'string', value: 'a"b\\c\n\t\'' });
    expect(parseExpression(`'say "hi"'`)).toMatchObject({ kind: 'string', value: 'say "hi"' });
    expect(parseExpression(`""`)).toMatchObject({ kind: 'string', value: '' });
  });

  it('lexes punctuation and every operator', () => {
    expect(types('( ) [ ] , ; : ... = < <= > >= == != + - * / ^')).toEqual([
      'LParen', 'RParen', 'LBracket', 'RBracket', 'Comma', 'Semicolon', 'Colon', 'Ellipsis', 'Equals',
      'Less', 'LessEq', 'Greater', 'GreaterEq', 'EqEq', 'NotEq', 'Plus', 'Minus', 'Star', 'Slash', 'Caret',
    ]);
    expect(types('a<=b>=c==d!=e')).toEqual([
      'Identifier', 'LessEq', 'Identifier', 'GreaterEq', 'Identifier', 'EqEq', 'Identifier', 'NotEq', 'Identifier',
    ]);
  });

  it('keeps comments out of the token stream, in their own group', () => {
    const r = lex('a # one\n# two\nb', 't');
    expect(r.tokens.map((t) => t.image)).toEqual(['a', 'b']);
    expect(r.comments.map((t) => t.image)).toEqual(['# one', '# two']);
  });

  it('skips whitespace of every kind and tracks lines and columns', () => {
    const r = lex('a\tb\r\n  c\n\n   d\re', 't');
    expect(r.tokens.map((t) => [t.image, t.startLine, t.startColumn])).toEqual([
      ['a', 1, 1], ['b', 1, 3], ['c', 2, 3], ['d', 4, 4], ['e', 5, 1],
    ]);
  });

  it('names, for each RegExp token, exactly the characters it can start with (start_chars_hint)', () => {
    const probes = (c: string) => [c, `${c}1`, `${c}a(`, `${c}"`, `${c}'`, `${c}\n`, `${c}.`];
    const chars = [...Array.from({ length: 0x300 }, (_, i) => String.fromCharCode(i)), '\ufeff', '\u00a0', '\u2028'];
    for (const t of allTokens) {
      if (!(t.PATTERN instanceof RegExp) || t.PATTERN === Lexer.NA) continue; // NA: a category
      const sticky = new RegExp(t.PATTERN.source, 'y');
      const literal = t.PATTERN.source.replace(/\\(.)/g, '$1'); // a keyword's or a punctuation's text
      const matches = (p: string) => ((sticky.lastIndex = 0), sticky.test(p));
      const starts = chars.filter((c) => probes(c).some(matches) || (literal.startsWith(c) && matches(literal)));
      expect(t.START_CHARS_HINT, t.name).toBeDefined();
      expect([...t.START_CHARS_HINT!].map(String).sort(), t.name).toEqual(starts.sort());
    }
  });

  it('is fully optimized by chevrotain (no lexer definition errors or warnings)', () => {
    const checked = checkedLexer();
    expect(checked.lexerDefinitionErrors).toEqual([]);
    expect((checked as unknown as { lexerDefinitionWarning: unknown[] }).lexerDefinitionWarning).toEqual([]);
    expect(losscLexer().lexerDefinitionErrors).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('parser rules', () => {
  it('passes chevrotain\'s checks of the grammar (lossc builds it without them)', () => {
    expect(() => new LosscParser({ validate: true })).not.toThrow();
  });

  it('has the rules the EBNF documents', () => {
    const p = new LosscParser();
    expect(Object.keys(p.getGAstProductions()).sort()).toEqual([...RULE_NAMES].sort());
  });

  it('parses the example program', () => {
    const prog: Program = parseProgram(BRIEF, 'brief.loss');
    expect(prog.file).toBe('brief.loss');
    expect(prog.definitions.map((d) => `${d.kind} ${d.name}`)).toEqual([
      'loss binary_focal', 'def softmax', 'loss triplet', 'loss scce', 'regularizer l2',
    ]);
    expect(prog.imports.map((i) => i.path)).toEqual(['other/file.loss']);
    const focal = prog.definitions[0]!;
    expect(focal.doc).toBe('Focal loss (Lin et al. 2017): down-weights easy examples.\nSecond doc line.');
    expect(focal.params.map((p) => p.name)).toEqual(['y_true', 'y_pred']);
    expect(focal.params[1]!.type?.shape).toEqual([{ kind: 'symbol', name: 'N' }, { kind: 'symbol', name: 'C' }]);
    expect(focal.options.map((o) => `${o.name}=${sexp(o.default)}`)).toEqual(['gamma=2.0', 'alpha=0.25', 'from_logits=false']);
    expect(focal.body.lets.map((l) => `${l.names.join(',')} = ${sexp(l.value)}`)).toEqual([
      'p = (clip y_pred epsilon (- 1 epsilon))',
      'p_t = (+ (* y_true p) (* (- 1 y_true) (- 1 p)))',
      'a_t = (+ (* y_true alpha) (* (- 1 y_true) (- 1 alpha)))',
    ]);
    expect(sexp(focal.body.result)).toBe('(mean (* (* (- a_t) (^ (- 1 p_t) gamma)) (log p_t)) :axis -1)');
    const softmax = prog.definitions[1]!;
    expect(sexp(softmax.body.result)).toBe('(exp (- x (logsumexp x :axis axis :keepdims true)))');
    const triplet = prog.definitions[2]!;
    expect(triplet.body.lets[0]).toMatchObject({ names: ['a', 'p', 'n'], destructure: true });
    expect(sexp(triplet.body.result)).toBe(
      '(relu (+ (- (sum (^ (- a p) 2) :axis 1) (sum (^ (- a n) 2) :axis 1)) margin))',
    );
    const scce = prog.definitions[3]!;
    expect(scce.params[0]!.type).toMatchObject({ dtype: 'int', shape: [{ kind: 'ellipsis' }] });
    expect(scce.params[1]!.type).toMatchObject({ shape: [{ kind: 'ellipsis' }, { kind: 'symbol', name: 'C' }] });
    expect(scce.params[1]!.type!.dtype).toBeUndefined();
    expect(scce.options.map((o) => sexp(o.default))).toEqual(['false', 'none', '[1 2]']);
    expect(sexp(scce.body.result)).toBe('(if from_logits a b)');
    expect(sexp(prog.definitions[4]!.body.result)).toBe('(* l2 (sum (^ w 2)))');
  });

  it('parses each kind of definition, with or without a space before (', () => {
    expect(def('loss f(x) = x').kind).toBe('loss');
    expect(def('def f(x) = x').kind).toBe('def');
    expect(def('regularizer f(x) = x').kind).toBe('regularizer');
    expect(def('loss f (x) = x').name).toBe('f');
    expect(def('loss\n  f\n  (x)\n  =\n  x').name).toBe('f');
  });

  it('parses empty parameter lists and options without parameters', () => {
    expect(def('def pi() = 3.14159')).toMatchObject({ params: [], options: [] });
    expect(def('def f(;) = 1')).toMatchObject({ params: [], options: [] });
    const d = def('def f(; a = 1) = a');
    expect(d.params).toEqual([]);
    expect(d.options.map((o) => o.name)).toEqual(['a']);
  });

  it('parses parameter types: dtype, shape, both, none', () => {
    const d = def('loss f(a, b: float, c: int, d: bool, e: [N, 3], f: [], g: float[..., 3], h: int[...], i: [2, ..., K]) = a');
    const t = Object.fromEntries(d.params.map((p) => [p.name, p.type]));
    expect(t['a']).toBeUndefined();
    expect(t['b']).toMatchObject({ dtype: 'float' });
    expect(t['b']!.shape).toBeUndefined();
    expect(t['c']).toMatchObject({ dtype: 'int' });
    expect(t['d']).toMatchObject({ dtype: 'bool' });
    expect(t['e']).toMatchObject({ shape: [{ kind: 'symbol', name: 'N' }, { kind: 'fixed', size: 3 }] });
    expect(t['e']!.dtype).toBeUndefined();
    expect(t['f']).toMatchObject({ shape: [] });
    expect(t['g']).toMatchObject({ dtype: 'float', shape: [{ kind: 'ellipsis' }, { kind: 'fixed', size: 3 }] });
    expect(t['h']).toMatchObject({ dtype: 'int', shape: [{ kind: 'ellipsis' }] });
    expect(t['i']!.shape).toEqual([{ kind: 'fixed', size: 2 }, { kind: 'ellipsis' }, { kind: 'symbol', name: 'K' }]);
  });

  it('parses options with every kind of default', () => {
    const d = def(`loss f(x; a = 2, b = 0.5, c = -1, d = 1e-7, e = true, f = false, g = none, h = "sum", i = 'mean', j = [1, 2], k = [], l = 1 - 2, m = if a then 1 else 2) = x`);
    expect(Object.fromEntries(d.options.map((o) => [o.name, sexp(o.default)]))).toEqual({
      a: '2', b: '0.5', c: '-1', d: '1e-7', e: 'true', f: 'false', g: 'none', h: '"sum"', i: '"mean"',
      j: '[1 2]', k: '[]', l: '(- 1 2)', m: '(if a 1 2)',
    });
    expect(d.options.find((o) => o.name === 'c')!.default).toMatchObject({ kind: 'number', value: -1, text: '-1' });
  });

  it('parses lets and destructuring lets', () => {
    const d = def('loss f(x) =\n  let a = 1\n  let [b, c] = g(x)\n  let [d] = h(x)\n  a + b');
    expect(d.body.lets.map((l) => [l.names, l.destructure, sexp(l.value)])).toEqual([
      [['a'], false, '1'],
      [['b', 'c'], true, '(g x)'],
      [['d'], true, '(h x)'],
    ]);
    expect(sexp(d.body.result)).toBe('(+ a b)');
  });

  it('ends a let at a line break when the next line cannot continue it', () => {
    const d = def('loss f(x) =\n  let a = b\n  (c + d) * 2');
    expect(sexp(d.body.lets[0]!.value)).toBe('b');
    expect(sexp(d.body.result)).toBe('(* (+ c d) 2)');
    // …a leading minus indented deeper than the `let` continues it…
    const e = def('loss f(x) =\n  let a = b\n    - c\n  a');
    expect(sexp(e.body.lets[0]!.value)).toBe('(- b c)');
    // …and at the `let`'s column it begins the result (the layout rule)
    const r = def('loss f(x) =\n  let a = b\n  -a * 2');
    expect(sexp(r.body.lets[0]!.value)).toBe('b');
    expect(sexp(r.body.result)).toBe('(* (- a) 2)');
    // inside brackets there is no layout: the minus continues
    const k = def('loss f(x) =\n  let a = (b\n  - c)\n  a');
    expect(sexp(k.body.lets[0]!.value)).toBe('(- b c)');
  });

  it('parses definitions back to back, with imports anywhere between them', () => {
    const p = parseProgram('import "a.loss"\nloss f(x) = x import \'b.loss\'\ndef g(y) = y\nimport "c\\\\d.loss"');
    expect(p.imports.map((i) => i.path)).toEqual(['a.loss', 'b.loss', 'c\\d.loss']);
    expect(p.definitions.map((d) => d.name)).toEqual(['f', 'g']);
    expect(parseProgram('')).toEqual({ file: '<input>', imports: [], definitions: [] });
    expect(parseProgram('# only a comment\n\n')).toMatchObject({ imports: [], definitions: [] });
  });

  it('parses if/then/else, else-if chains, and nesting', () => {
    expect(expr('if a then b else c')).toBe('(if a b c)');
    expect(expr('if a then b else c + 1')).toBe('(if a b (+ c 1))');
    expect(expr('if a then b else if c then d else e')).toBe('(if a b (if c d e))');
    expect(expr('if a then b else if c then d else if e then f else g')).toBe('(if a b (if c d (if e f g)))');
    expect(expr('if if a then b else c then d else e')).toBe('(if (if a b c) d e)');
    expect(expr('if a then if b then c else d else e')).toBe('(if a (if b c d) e)');
    expect(expr('1 + (if a then 2 else 3)')).toBe('(+ 1 (if a 2 3))');
    expect(expr('f(if a then 1 else 2, k = if b then 3 else 4)')).toBe('(f (if a 1 2) :k (if b 3 4))');
    expect(expr('if(a) then b else c')).toBe('(if a b c)');
    expect(expr('if a or b and not c then x else y')).toBe('(if (or a (and b (not c))) x y)');
  });

  it('parses calls: positional, keyword, trailing comma, empty, nested', () => {
    expect(expr('f()')).toBe('(f)');
    expect(expr('f(x)')).toBe('(f x)');
    expect(expr('f(x, y, axis = -1, keepdims = true)')).toBe('(f x y :axis -1 :keepdims true)');
    expect(expr('f(axis = 1)')).toBe('(f :axis 1)');
    expect(expr('f(x, y,)')).toBe('(f x y)');
    expect(expr('f(g(h(x)), [1, 2], "s")')).toBe('(f (g (h x)) [1 2] "s")');
    expect(expr('f(a == b, c = d == e)')).toBe('(f (== a b) :c (== d e))');
    const c = parseExpression('mean(x, axis = 0)') as Call;
    expect(c.kwargs[0]!.name).toBe('axis');
    expect(c.kwargs[0]!.span).toMatchObject({ line: 1, column: 9, length: 4 });
  });

  it('parses lists: empty, trailing comma, nested, of expressions', () => {
    expect(expr('[]')).toBe('[]');
    expect(expr('[1]')).toBe('[1]');
    expect(expr('[1, 2,]')).toBe('[1 2]');
    expect(expr('[[1, 2], [], [x + 1]]')).toBe('[[1 2] [] [(+ x 1)]]');
    expect(parseExpression('[1, 2]')).toMatchObject({ kind: 'list', span: { column: 1, length: 6 } });
  });

  it('parses literals: numbers keep their spelling, true/false/none/strings', () => {
    expect(parseExpression('2.50')).toMatchObject({ kind: 'number', value: 2.5, text: '2.50' });
    expect(parseExpression('1e-7')).toMatchObject({ kind: 'number', value: 1e-7, text: '1e-7' });
    expect(parseExpression('.5')).toMatchObject({ kind: 'number', value: 0.5, text: '.5' });
    expect(parseExpression('true')).toMatchObject({ kind: 'bool', value: true });
    expect(parseExpression('false')).toMatchObject({ kind: 'bool', value: false });
    expect(parseExpression('none')).toMatchObject({ kind: 'none' });
    expect(parseExpression('"sum"')).toMatchObject({ kind: 'string', value: 'sum' });
    expect(parseExpression('y_true')).toMatchObject({ kind: 'name', name: 'y_true' });
  });

  it('reads a minus written directly before a number as part of it, unless raised to a power', () => {
    expect(parseExpression('-1')).toMatchObject({ kind: 'number', value: -1, text: '-1' });
    expect(parseExpression('-0.5')).toMatchObject({ kind: 'number', value: -0.5, text: '-0.5' });
    expect(expr('- 1')).toBe('(- 1)');
    expect(expr('-(1)')).toBe('(- 1)');
    expect(expr('-1^2')).toBe('(- (^ 1 2))');
    expect(expr('2^-1')).toBe('(^ 2 -1)');
    expect(expr('a - -1')).toBe('(- a -1)');
    expect(expr('--1')).toBe('(- -1)');
  });
});

// ---------------------------------------------------------------------------------------------

describe('operators: precedence and associativity', () => {
  const cases: [string, string][] = [
    // arithmetic
    ['a + b * c', '(+ a (* b c))'],
    ['a * b + c', '(+ (* a b) c)'],
    ['a - b - c', '(- (- a b) c)'],
    ['a / b / c', '(/ (/ a b) c)'],
    ['a - b + c', '(+ (- a b) c)'],
    ['a * b / c * d', '(* (/ (* a b) c) d)'],
    ['(a + b) * c', '(* (+ a b) c)'],
    // power
    ['a ^ b ^ c', '(^ a (^ b c))'],
    ['a^b^c^d', '(^ a (^ b (^ c d)))'],
    ['-x^2', '(- (^ x 2))'],
    ['2^-x', '(^ 2 (- x))'],
    ['2^-x^2', '(^ 2 (- (^ x 2)))'],
    ['2^-x*3', '(* (^ 2 (- x)) 3)'],
    ['a * b ^ c', '(* a (^ b c))'],
    ['(a * b) ^ c', '(^ (* a b) c)'],
    ['(-x)^2', '(^ (- x) 2)'],
    ['a * -b ^ c + d', '(+ (* a (- (^ b c))) d)'],
    // unary minus
    ['-a * b', '(* (- a) b)'],
    ['-a + b', '(+ (- a) b)'],
    ['a - -b', '(- a (- b))'],
    ['- - a', '(- (- a))'],
    ['a * -b', '(* a (- b))'],
    // comparisons
    ['a < b', '(< a b)'], ['a <= b', '(<= a b)'], ['a > b', '(> a b)'],
    ['a >= b', '(>= a b)'], ['a == b', '(== a b)'], ['a != b', '(!= a b)'],
    ['a + 1 < b * 2', '(< (+ a 1) (* b 2))'],
    ['(a < b) == c', '(== (< a b) c)'],
    // boolean
    ['a and b or c', '(or (and a b) c)'],
    ['a or b and c', '(or a (and b c))'],
    ['a or b or c', '(or (or a b) c)'],
    ['a and b and c', '(and (and a b) c)'],
    ['not a', '(not a)'],
    ['not not a', '(not (not a))'],
    ['not a and b', '(and (not a) b)'],
    ['not a == b', '(not (== a b))'],
    ['a and not b', '(and a (not b))'],
    ['not a < b or c', '(or (not (< a b)) c)'],
    ['a < b and b < c', '(and (< a b) (< b c))'],
    ['not -a', '(not (- a))'],
    ['not(x)', '(not x)'],
    ['a == (not b)', '(== a (not b))'],
  ];
  for (const [src, want] of cases) {
    it(`${src}  →  ${want}`, () => expect(expr(src)).toBe(want));
  }
});

// ---------------------------------------------------------------------------------------------

describe('doc comments', () => {
  it('attaches the comment block directly above, stripping "#" and one space', () => {
    const p = parseProgram('#  indented\n#no space\n#\n# last\nloss f(x) = x');
    expect(p.definitions[0]!.doc).toBe(' indented\nno space\n\nlast');
  });

  it('is broken by a blank line', () => {
    const p = parseProgram('# not mine\n\n# mine\nloss f(x) = x\n\n# orphan\n\nloss g(x) = x');
    expect(p.definitions[0]!.doc).toBe('mine');
    expect(p.definitions[1]!.doc).toBe('');
  });

  it('belongs to the next definition only, not to the one after it', () => {
    const p = parseProgram('# doc of f\nloss f(x) = x\nloss g(x) = x');
    expect(p.definitions.map((d) => d.doc)).toEqual(['doc of f', '']);
  });

  it('ignores comments that follow code on their line', () => {
    const p = parseProgram('loss f(x) = x  # about f\nloss g(x) = x # about g\n  # g2\ndef h(x) = x');
    expect(p.definitions.map((d) => d.doc)).toEqual(['', '', 'g2']);
  });

  it('allows indented comment lines and comments inside bodies', () => {
    const p = parseProgram('  # indented doc\nloss f(x) =\n  # a comment in the body\n  let a = x # trailing\n  a');
    expect(p.definitions[0]!.doc).toBe('indented doc');
    expect(sexp(p.definitions[0]!.body.result)).toBe('a');
  });

  it('works with CRLF line ends', () => {
    const p = parseProgram('# one\r\n# two\r\nloss f(x) = x\r\n');
    expect(p.definitions[0]!.doc).toBe('one\ntwo');
  });
});

// ---------------------------------------------------------------------------------------------

describe('spans', () => {
  const src = 'loss focal(y_true, y_pred; gamma = 2.0) =\n  let p = clip(y_pred, 0, 1)\n  mean(-p * log(p))';
  const d = parseProgram(src, 'spans.loss').definitions[0]!;

  it('points definitions at their keyword and name', () => {
    expect(d.span).toEqual({ file: 'spans.loss', line: 1, column: 1, offset: 0, length: 10 });
    expect(d.nameSpan).toEqual({ file: 'spans.loss', line: 1, column: 6, offset: 5, length: 5 });
    expect(d.params[1]!.span).toMatchObject({ line: 1, column: 20, length: 6 });
    expect(d.options[0]!.span).toMatchObject({ line: 1, column: 28, length: 5 });
    expect(d.options[0]!.default.span).toMatchObject({ line: 1, column: 36, length: 3 });
  });

  it('points lets at `let name`, calls at the callee, binary nodes at the operator', () => {
    const let0 = d.body.lets[0]!;
    expect(let0.span).toMatchObject({ line: 2, column: 3, length: 5 });
    expect(let0.value.span).toMatchObject({ line: 2, column: 11, length: 4 }); // clip
    const mean = d.body.result as Call;
    expect(mean.span).toMatchObject({ line: 3, column: 3, offset: src.indexOf('mean'), length: 4 });
    const times = mean.args[0] as Binary;
    expect(times.op).toBe('*');
    expect(times.span).toMatchObject({ line: 3, column: 11, length: 1 });
    expect(times.left).toMatchObject({ kind: 'unary', span: { line: 3, column: 8, length: 1 } });
    expect((times.right as Call).span).toMatchObject({ line: 3, column: 13, length: 3 });
  });

  it('points if expressions at `if`, and lists/strings at the whole literal', () => {
    const e = parseExpression('x +\n  (if c then 12.5 else "s")', 'e') as Binary;
    expect(e.right).toMatchObject({ kind: 'if', span: { line: 2, column: 4, length: 2 } });
    const ifE = e.right as Extract<Expr, { kind: 'if' }>;
    expect(ifE.then.span).toMatchObject({ line: 2, column: 14, length: 4 });
    expect(ifE.else.span).toMatchObject({ line: 2, column: 24, length: 3 });
  });

  it('covers the types, destructuring and imports', () => {
    const p = parseProgram('import "x.loss"\nloss f(y: int[N, 3]) =\n  let [a, b] = g(y)\n  a', 's');
    expect(p.imports[0]!.span).toMatchObject({ line: 1, column: 1, length: 15 });
    expect(p.definitions[0]!.params[0]!.type!.span).toMatchObject({ line: 2, column: 11, length: 9 });
    expect(p.definitions[0]!.body.lets[0]!.span).toMatchObject({ line: 3, column: 3, length: 10 });
  });

  it('puts literal spans on the literal', () => {
    const n = parseExpression('  42', 'n') as NumberLit;
    expect(n.span).toEqual({ file: 'n', line: 1, column: 3, offset: 2, length: 2 });
    const neg = parseExpression('a * -42') as Binary;
    expect(neg.right.span).toMatchObject({ column: 5, length: 3 });
  });
});

// ---------------------------------------------------------------------------------------------

describe('parseExpression', () => {
  it('parses one expression, with comments and newlines', () => {
    expect(expr('  a +  # comment\n b  ')).toBe('(+ a b)');
  });

  it('uses <expr> as the default file name', () => {
    expect(parseExpression('x').span.file).toBe('<expr>');
    expect(parseExpression('x', 'rules.ts:12').span.file).toBe('rules.ts:12');
  });

  it('refuses a second expression', () => {
    const e = errorOf('a b');
    expect(e.detail).toBe('unexpected name `b` after the end of the expression (is an operator missing before it?)');
  });

  it('parses an if expression', () => {
    const e: Expr = parseExpression('if a then 1 else 2');
    expect(e.kind).toBe('if');
  });
});

// ---------------------------------------------------------------------------------------------

describe('grammar documentation', () => {
  it('lossc.ebnf defines every parser rule', async () => {
    const { readFileSync } = await import('node:fs');
    const ebnf = readFileSync(new URL('../grammar/lossc.ebnf', import.meta.url), 'utf8');
    for (const rule of RULE_NAMES) expect(ebnf).toMatch(new RegExp(`^${rule}\\s+=`, 'm'));
  });

  it('diagrams.html is generated from the parser, deterministically, and up to date', async () => {
    const { readFileSync } = await import('node:fs');
    const { diagramsHtml } = await import('../grammar/generate-diagrams.js');
    const html = diagramsHtml();
    expect(diagramsHtml()).toBe(html);
    for (const rule of RULE_NAMES) expect(html).toContain(`"name": "${rule}"`);
    const onDisk = readFileSync(new URL('../grammar/diagrams.html', import.meta.url), 'utf8');
    expect(onDisk).toBe(html);
  });
});
