// Syntax errors: every class of error, its message for humans, its place (file:line:col, the
// source line, the caret), and many errors reported at once.

import { describe, expect, it } from 'vitest';
import { MAX_ERRORS, parseExpression, parseProgram } from '../grammar/index.js';
import { LosscError, LosscErrors } from '../src/errors.js';

function errorsOf(src: string, file = 'test.loss', mode: 'program' | 'expression' = 'program'): LosscError[] {
  try {
    if (mode === 'program') parseProgram(src, file);
    else parseExpression(src, file);
  } catch (e) {
    expect(e).toBeInstanceOf(LosscErrors);
    const errs = (e as LosscErrors).errors;
    for (const err of errs) {
      expect(err).toBeInstanceOf(LosscError);
      expect(err.kind).toMatch(/^(syntax|limit)$/);
      expect(err.span).toMatchObject({ file, line: expect.any(Number), column: expect.any(Number) });
    }
    return errs;
  }
  throw new Error(`expected ${JSON.stringify(src)} not to parse`);
}

function errorOf(src: string, file = 'test.loss', mode: 'program' | 'expression' = 'program'): LosscError {
  const errs = errorsOf(src, file, mode);
  expect(errs.map((e) => e.detail)).toHaveLength(1);
  return errs[0]!;
}

/** The rendered lines of an error: `file:line:col: ...`, gutter, source line, caret line. */
function lines(e: LosscError): string[] {
  return e.message.split('\n');
}

/** Asserts the whole rendering of an error. */
function expectRendered(e: LosscError, header: string, source: string, caret: string): void {
  const [h, , src, car] = lines(e);
  expect(h).toBe(header);
  expect(src!.replace(/^\d+ \| /, '')).toBe(source);
  expect(car!.replace(/^\s*\| /, '')).toBe(caret);
}

// ---------------------------------------------------------------------------------------------

describe('lexical errors', () => {
  it('unexpected character', () => {
    const e = errorOf('loss f(x) = x $ 2', 'a.loss');
    expect(e.kind).toBe('syntax');
    expect(e.span).toEqual({ file: 'a.loss', line: 1, column: 15, offset: 14, length: 1 });
    expectRendered(e, "a.loss:1:15: syntax error: unexpected character '$'", 'loss f(x) = x $ 2', '              ^');
    expect(lines(e)).toEqual([
      "a.loss:1:15: syntax error: unexpected character '$'",
      '  |',
      '1 | loss f(x) = x $ 2',
      '  |               ^',
    ]);
  });

  it('runs of unexpected characters, with hints', () => {
    expect(errorOf('loss f(x) = x @@@ 2').detail).toBe("unexpected characters '@@@'");
    expect(errorOf('loss f(x) = !x').detail).toMatch(/^unexpected character '!' \(write `not x`/);
    expect(errorOf('loss f(x) = a && b').detail).toBe("unexpected characters '&&' (write `and`)");
    expect(errorOf('loss f(x) = a || b').detail).toBe("unexpected characters '||' (write `or`)");
    expect(errorOf('loss f(x) = café').detail).toMatch(/^unexpected character 'é' \(names use only ASCII/);
    expect(errorOf('loss f(x) = x\u0007').detail).toBe("unexpected character '\\u{7}'");
  });

  it('unterminated string', () => {
    const e = errorOf('import "lib.loss\nloss f(x) = x', 'u.loss');
    expectRendered(
      e,
      `u.loss:1:8: syntax error: unterminated string: the closing '"' is missing before the end of the line`,
      'import "lib.loss',
      '       ^^^^^^^^^',
    );
    expect(errorOf("loss f(x; r = 'sum) = x\nloss g(y) = y").detail).toBe(
      `unterminated string: the closing "'" is missing before the end of the line`,
    );
    // the rest of the file is still checked
    expect(errorsOf('import "a\nloss f(x) = $').map((e) => e.detail)).toEqual([
      `unterminated string: the closing '"' is missing before the end of the line`,
      "unexpected character '$'",
    ]);
  });

  it('unknown escape in a string', () => {
    const e = errorOf('loss f(x; r = "a\\qb") = x', 'e.loss');
    expect(e.detail).toBe(`unknown escape '\\q' in a string (the escapes are \\\\ \\" \\' \\n \\t)`);
    expect(e.span).toMatchObject({ column: 17, length: 2 });
  });

  it('number literal too large', () => {
    const e = errorOf('loss f(x) = x * 1e999', 'n.loss');
    expectRendered(
      e,
      'n.loss:1:17: syntax error: number literal 1e999 is too large (it overflows to infinity)',
      'loss f(x) = x * 1e999',
      '                ^^^^^',
    );
    expect(parseExpression('1e-999')).toMatchObject({ value: 0 }); // underflow is fine
  });
});

// ---------------------------------------------------------------------------------------------

describe('parse errors', () => {
  it('unclosed call, with the place it was opened', () => {
    const src = 'loss f(x) =\n  let a = mean(x\n  let b = 2\n  a';
    const e = errorOf(src, 'c.loss');
    expectRendered(
      e,
      "c.loss:3:3: syntax error: expected ')' to close the call of `mean` opened at 2:15, found `let`",
      '  let b = 2',
      '  ^^^',
    );
  });

  it('unclosed parenthesis, list, shape, parameter list', () => {
    expect(errorOf('loss f(x) = (x + 1').detail).toBe("expected ')' to close the '(' opened at 1:13, found the end of the input");
    expect(errorOf('loss f(x) = [1, 2').detail).toBe("expected ']' to close the list opened at 1:13, found the end of the input");
    expect(errorOf('loss f(x: [N, C) = x').detail).toBe("expected ']' to close the shape opened at 1:11, found ')'");
    expect(errorOf('loss f(x = x').detail).toMatch(/^expected '\)' to close the parameter list of `f` opened at 1:7, found '='/);
    expect(errorOf('loss f(x) = let [a, b = g(x) a').detail).toBe(
      "expected ']' to close the names of `let [...]` opened at 1:17, found '='",
    );
  });

  it('end of input is shown after the last token', () => {
    const e = errorOf('loss f(x) = mean(x', 'eof.loss');
    expectRendered(
      e,
      "eof.loss:1:19: syntax error: expected ')' to close the call of `mean` opened at 1:17, found the end of the input",
      'loss f(x) = mean(x',
      '                  ^',
    );
  });

  it('missing then / else', () => {
    expect(errorOf('loss f(x) = if a b else c').detail).toBe(
      'expected `then` after the condition of the `if` at 1:13, found name `b` (is an operator missing before it?)',
    );
    expect(errorOf('loss f(x) = if a then b').detail).toBe(
      'expected `else` to complete the `if` at 1:13 (every `if` needs an `else` branch), found the end of the input',
    );
    expect(errorOf('loss f(x) = if a then b else if c then d').detail).toMatch(/the `if` at 1:30 /);
  });

  it('a keyword where a name is needed', () => {
    expect(errorOf('loss if(x) = 1').detail).toBe(
      'expected a name after `loss`, found `if` (`if` is a keyword and cannot be used as a name)',
    );
    expect(errorOf('loss f(x, then) = 1').detail).toBe(
      'expected a parameter name, found `then` (`then` is a keyword and cannot be used as a name)',
    );
    expect(errorOf('loss f(x; none = 1) = 1').detail).toMatch(/found `none` \(`none` is a keyword and cannot be used as a name\)$/);
    expect(errorOf('loss f(x) = let and = 2 x').detail).toMatch(/^expected a name or `\[names\]` after `let`, found `and`/);
    expect(errorOf('loss f(x) = let [a, or] = g(x) a').detail).toMatch(/^expected a name in `let \[\.\.\.\]`, found `or`/);
  });

  it('every keyword is rejected as a name', () => {
    for (const kw of ['loss', 'def', 'regularizer', 'import', 'let', 'if', 'then', 'else', 'and', 'or', 'not', 'true', 'false', 'none']) {
      const errs = errorsOf(`def f(x) =\n  let ${kw} = 1\n  x`);
      expect(errs[0]!.span!.line).toBe(2);
    }
  });

  it('something other than a definition at top level', () => {
    const e = errorOf('x = 3', 'top.loss');
    expectRendered(
      e,
      'top.loss:1:1: syntax error: expected a definition (`loss`, `def`, `regularizer`) or `import`, found name `x`',
      'x = 3',
      '^',
    );
    expect(errorOf('loss f(x) = x)').detail).toBe(
      "expected a definition (`loss`, `def`, `regularizer`) or `import`, found ')' (this ')' has no matching '(')",
    );
    expect(errorOf('loss f(x) = x\nlet y = 2').detail).toMatch(/found `let` \(`let`s come before the result expression/);
    expect(errorOf('loss f(x) = a b').detail).toMatch(/found name `b` \(is an operator missing before it\?\)$/);
    expect(errorOf('loss f(x) = 2x').detail).toMatch(/\(multiplication is written with '\*': `2 \* x`\)$/);
    expect(errorOf('loss f(x) = 1e').detail).toMatch(/\(a number's exponent needs digits, e\.g\. `1e-7`\)$/);
  });

  it('a space between a function name and ( hints at the call rule', () => {
    const e = errorOf('loss f(x) = mean (x)', 'sp.loss');
    expect(e.detail).toMatch(/a call is written without a space before '\(': `mean\(\.\.\.\)`$/);
    expect(lines(e)[3]).toBe('  |                  ^');
    expect(errorOf('loss f(x) =\n  let y = mean (x) + 1\n  y').detail).toMatch(
      /`mean \(\.\.\.\)` is not a call: a call is written without a space before '\('/,
    );
    expect(errorOf('loss f(x) = g(mean (x))').detail).toMatch(/a call is written without a space before '\('/);
    expect(errorOf('mean (x)', 'cli', 'expression').detail).toMatch(/a call is written without a space before '\('/);
  });

  it('missing expressions, with their context', () => {
    expect(errorOf('loss f(x) =').detail).toBe('expected the result expression of `f`, found the end of the input');
    expect(errorOf('loss f(x) = let a = 1').detail).toBe(
      'expected the result expression of `f` after its `let`s, found the end of the input',
    );
    expect(errorOf('loss f(x) = let a = \n a').detail).toMatch(/^expected the result expression|^expected a value after/);
    expect(errorOf('loss f(x) = x +').detail).toBe("expected an expression after '+', found the end of the input");
    expect(errorOf('loss f(x) = x + )').detail).toBe("expected an expression after '+', found ')'");
    expect(errorOf('loss f(x; a = ) = x').detail).toBe("expected a default value for option `a`, found ')'");
    expect(errorOf('loss f(x) = g(axis = )').detail).toBe("expected a value for keyword argument `axis`, found ')'");
    expect(errorOf('loss f(x) = if then 1 else 2').detail).toBe('expected a condition after `if`, found `then`');
    expect(errorOf('loss f(x) = ()').detail).toBe("expected an expression after '(', found ')'");
    expect(errorOf('', 'e', 'expression').detail).toBe('expected an expression, found the end of the input');
  });

  it('a line starting with minus, indented deeper than its let, continues it', () => {
    const e = errorOf('loss f(x) =\n  let a = x\n    -a * 2');
    expect(e.detail).toMatch(
      /found the end of the input \(the line starting with '-' at 3:5 continues the `let` above it; to start the result with a minus, put the result in parentheses\)$/,
    );
  });

  it('operators in the wrong place', () => {
    expect(errorOf('loss f(x) = 1 + if a then b else c').detail).toBe(
      "expected an expression after '+', found `if` (an `if` inside a larger expression must be in parentheses: `(if c then a else b)`)",
    );
    expect(errorOf('loss f(x) = x ** 2').detail).toBe(
      "expected an expression after '*', found '*' (powers are written with '^', e.g. `x^2`)",
    );
    expect(errorOf('loss f(x) = if a = b then 1 else 2').detail).toMatch(/found '=' \(to compare, write '=='\)$/);
  });

  it('chained comparisons', () => {
    const e = errorOf('loss f(x) = 0 < x <= 1', 'cmp.loss');
    expectRendered(
      e,
      "cmp.loss:1:19: syntax error: comparisons cannot be chained: '<' at 1:15 and '<=' here; write `a < b and b <= c`, or use parentheses",
      'loss f(x) = 0 < x <= 1',
      '                  ^^',
    );
    expect(errorOf('a == b == c', 'e', 'expression').detail).toMatch(/^comparisons cannot be chained/);
    expect(errorOf('a < b + c > d', 'e', 'expression').detail).toMatch(/^comparisons cannot be chained/);
  });

  it('not after a tighter operator', () => {
    expect(errorOf('a == not b', 'e', 'expression').detail).toBe(
      "`not` cannot directly follow '==' (it binds more loosely); put it in parentheses: `== (not ...)`",
    );
    expect(errorOf('a + not b', 'e', 'expression').detail).toMatch(/^`not` cannot directly follow '\+'/);
    expect(errorOf('-not b', 'e', 'expression').detail).toMatch(/^`not` cannot directly follow '-'/);
  });

  it('options need defaults and come after ;', () => {
    expect(errorOf('loss f(x; gamma) = x').detail).toBe(
      "expected '=' after option `gamma` (an option after ';' needs a default, e.g. `gamma = 2.0`), found ')'",
    );
    expect(errorOf('loss f(x, gamma = 2) = x').detail).toBe(
      "expected ')' to close the parameter list of `f` opened at 1:7, found '=' (options with defaults come after a ';': `f(y_true, y_pred; gamma = 2.0)`)",
    );
  });

  it('definition headers', () => {
    expect(errorOf('loss f = 1').detail).toBe(
      "expected '(' and the parameters of `f`, e.g. `loss f(y_true, y_pred) = ...`, found '='",
    );
    expect(errorOf('loss f(x) x').detail).toBe("expected '=' after the header of `f`, found name `x`");
    expect(errorOf('import foo').detail).toBe(
      'expected a quoted file name after `import`, e.g. `import "losses.loss"`, found name `foo`',
    );
    expect(errorOf('loss f(x) = let a, b = g(x) a').detail).toBe(
      "expected '=' after `let a`, found ',' (to unpack several values, write `let [a, b] = ...`)",
    );
  });

  it('types and dimensions', () => {
    expect(errorOf('loss f(x: flot) = x').detail).toBe(
      'unknown dtype `flot`: a type is `float`, `int` or `bool`, and/or a shape in brackets such as `[N, C]` (did you mean `float`?)',
    );
    expect(errorOf('loss f(x: tensor) = x').detail).toBe(
      'unknown dtype `tensor`: a type is `float`, `int` or `bool`, and/or a shape in brackets such as `[N, C]`',
    );
    expect(errorOf('loss f(x: N) = x').detail).toMatch(/^unknown dtype `N`.*\(for a shape, write `\[N\]`\)$/);
    expect(errorOf('loss f(x: [2.5]) = x').detail).toBe('a dimension must be a whole number, a name or `...`, not `2.5`');
    const e = errorOf('loss f(x: [..., N, ...]) = x');
    expect(e.detail).toBe('a shape may contain `...` only once (the first is at 1:12)');
    expect(e.span).toMatchObject({ column: 20, length: 3 });
    expect(errorOf('loss f(x: [-1]) = x').detail).toBe(
      "expected ']' to close the shape opened at 1:11, found '-' (a dimension is a whole number, a name or `...`)",
    );
    expect(errorOf('loss f(x: [N, -1]) = x').detail).toBe(
      "expected a dimension (a whole number, a name or `...`), found '-'",
    );
    expect(errorOf('loss f(x:) = x').detail).toMatch(/^expected a type after ':'/);
  });

  it('arguments: positional after keyword, repeated keyword', () => {
    const e = errorOf('loss f(x) = mean(axis = 1, x + 1)');
    expect(e.detail).toBe(
      'positional argument after keyword argument `axis` in the call of `mean`; positional arguments come first',
    );
    expect(e.span).toMatchObject({ column: 28, length: 1 });
    const d = errorOf('loss f(x) = mean(x, axis = 1, axis = 2)');
    expect(d.detail).toBe('keyword argument `axis` is given twice in the call of `mean` (first at 1:21)');
    expect(d.span).toMatchObject({ column: 31 });
  });

  it('duplicate parameter, option and destructured names', () => {
    const errs = errorsOf('loss f(x, y, x; a = 1, y = 2) =\n  let [p, p] = g(x)\n  p');
    expect(errs.map((e) => [e.detail, e.span!.line, e.span!.column])).toEqual([
      ['duplicate name `x`: already declared as a parameter at 1:8', 1, 14],
      ['duplicate name `y`: already declared as a parameter at 1:11', 1, 24],
      ['duplicate name `p` in `let [...]` (first at 2:8)', 2, 11],
    ]);
    expect(errorOf('def f(; a = 1, a = 2) = a').detail).toBe('duplicate name `a`: already declared as an option at 1:9');
  });

  it('never shows chevrotain wording', () => {
    const bad = ['loss', 'loss f', 'loss f(', 'loss f(x', 'loss f(x)', 'loss f(x) =', 'def g(x) = [', 'import', '(', ')', ']', ',', ';', 'if'];
    for (const src of bad) {
      for (const e of errorsOf(src)) {
        expect(e.message).not.toMatch(/-->|<--|Expecting|NoViableAlt|EarlyExit|Redundant input|\{"kind"/);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('many errors at once', () => {
  const src = [
    'loss a(x) = x',
    'loss b(y) = (y',
    'loss c(z) = z +',
    'def ok(q) = q',
    'loss d(w) = w $ w',
    'loss e(v) = v v',
    'loss f(u; k) = u',
  ].join('\n');

  it('reports every error, in source order, with one LosscErrors', () => {
    let thrown: unknown;
    try {
      parseProgram(src, 'many.loss');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(LosscErrors);
    const errs = (thrown as LosscErrors).errors;
    expect(errs.map((e) => `${e.span!.line}:${e.span!.column} ${e.detail}`)).toEqual([
      "3:1 expected ')' to close the '(' opened at 2:13, found `loss`",
      "4:1 expected an expression after '+', found `def`",
      "5:15 unexpected character '$'",
      '6:15 expected a definition (`loss`, `def`, `regularizer`) or `import`, found name `v` (is an operator missing before it?)',
      "7:12 expected '=' after option `k` (an option after ';' needs a default, e.g. `k = 2.0`), found ')'",
    ]);
    // the combined message holds every rendered error; the first error's place is the whole's
    const whole = thrown as LosscErrors;
    expect(whole.message.split('\n\n')).toHaveLength(5);
    expect(whole.message).toContain('many.loss:5:15: syntax error:');
    expect(whole.span).toEqual(errs[0]!.span);
    expect(whole.kind).toBe('syntax');
  });

  it('reports lexical, parse and tree errors together', () => {
    const errs = errorsOf('loss f(x, x) = 1e999\nloss g(y) = (y\nloss h(z) = a < b < c');
    expect(errs.map((e) => e.detail.slice(0, 30))).toEqual([
      'duplicate name `x`: already de',
      'number literal 1e999 is too la',
      "expected ')' to close the '(' ",
      'comparisons cannot be chained:',
    ]);
  });

  it('reports several errors inside one definition', () => {
    const errs = errorsOf('loss f(x) = a +* b + c * / d');
    expect(errs.map((e) => e.span!.column)).toEqual([16, 26]);
  });

  it('keeps one error per position', () => {
    const errs = errorsOf('loss f(x) = (((');
    const offsets = errs.map((e) => e.span!.offset);
    expect(new Set(offsets).size).toBe(offsets.length);
  });

  it('stops after MAX_ERRORS errors and says so', () => {
    const errs = errorsOf(Array.from({ length: 80 }, (_, i) => `loss f${i}(x) = x +`).join('\n'));
    expect(errs).toHaveLength(MAX_ERRORS + 1);
    expect(errs[MAX_ERRORS]!.detail).toBe(`too many errors; stopping after the first ${MAX_ERRORS}`);
    const lexErrs = errorsOf('$ '.repeat(1000));
    expect(lexErrs).toHaveLength(MAX_ERRORS + 1);
  });
});

// ---------------------------------------------------------------------------------------------

describe('every error class renders file:line:col, the source line and a caret under the span', () => {
  const classes: [string, string][] = [
    ['unexpected character', 'loss f(x) =\n  x @ 2'],
    ['unterminated string', "import 'a.loss"],
    ['unknown escape', 'import "a\\z.loss"'],
    ['number too large', 'def f(x) = x * 1e400'],
    ['unclosed call', 'def f(x) =\n  mean(x'],
    ['unclosed list', 'def f(x) = [x, 1'],
    ['missing then', 'def f(x) = if x x else 1'],
    ['missing else', 'def f(x) = if x then 1\ndef g(x) = x'],
    ['keyword as name', 'def f(x) =\n    let then = 1\n    x'],
    ['top-level junk', 'def f(x) = x\n\nwhat'],
    ['spaced call', 'def f(x) = exp (x)'],
    ['missing expression', 'def f(x) = x *'],
    ['if as operand', 'def f(x) = 2 * if x then 1 else 2'],
    ['chained comparison', 'def f(x) = 0 <= x < 1'],
    ['not after operator', 'def f(x) = x == not x'],
    ['positional after keyword', 'def f(x) = g(a = 1, x)'],
    ['repeated keyword', 'def f(x) = g(a = 1, a = 2)'],
    ['duplicate parameter', 'def f(x, x) = x'],
    ['duplicate option', 'def f(x; a = 1, a = 2) = x'],
    ['option without default', 'def f(x; a) = x'],
    ['unknown dtype', 'def f(x: double) = x'],
    ['bad dimension', 'def f(x: [1.5]) = x'],
    ['two ellipses', 'def f(x: [..., ...]) = x'],
    ['nesting limit', 'def f(x) = ' + '-'.repeat(101) + 'x'],
  ];
  for (const [name, src] of classes) {
    it(name, () => {
      const e = errorsOf(src, 'cls.loss')[0]!;
      const span = e.span!;
      const [header, gutter, line, caret] = lines(e);
      expect(header).toBe(`cls.loss:${span.line}:${span.column}: ${e.kind} error: ${e.detail}`);
      expect(gutter).toMatch(/^\s+\|$/);
      const sourceLine = src.split('\n')[span.line - 1]!;
      expect(line).toBe(`${span.line} | ${sourceLine}`);
      const col = Math.min(span.column - 1, sourceLine.length);
      const width = Math.max(1, Math.min(span.length, sourceLine.length - col));
      expect(caret).toBe(`${' '.repeat(String(span.line).length)} | ${' '.repeat(col)}${'^'.repeat(width)}`);
      // the caret is under the offending text
      expect(src.slice(span.offset, span.offset + span.length).length).toBeGreaterThanOrEqual(Math.min(1, src.length - span.offset));
    });
  }
});
