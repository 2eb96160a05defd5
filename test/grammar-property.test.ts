// Property tests of the grammar (fast-check):
//   - random well-formed expressions, printed fully parenthesised, parse back to the same tree;
//   - printed with the fewest parentheses the precedence table allows, they still do (this checks
//     precedence and associativity against the table in grammar/lossc.ebnf);
//   - random garbage never makes the parser throw anything but LosscErrors of LosscError.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BinaryOp, Expr } from '../grammar/ast.js';
import { KEYWORDS, parseExpression, parseProgram } from '../grammar/index.js';
import { LosscError, LosscErrors } from '../src/errors.js';

// ---- trees without spans ---------------------------------------------------------------------

type Bare<T> = T extends { span: unknown } ? { [K in keyof Omit<T, 'span'>]: BareField<T[K]> } : T;
type BareField<F> = F extends Expr ? BareExpr : F extends (infer U)[] ? Bare<U>[] : F;
type BareExpr = Bare<Expr>;

/** Removes every `span` from a tree (the trees here are shallow, so recursion is fine). */
function strip(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(strip);
  if (x && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (k !== 'span') out[k] = strip(v);
    return out;
  }
  return x;
}

const keywords = new Set(KEYWORDS);
const BINARY_OPS: BinaryOp[] = ['+', '-', '*', '/', '^', '<', '<=', '>', '>=', '==', '!=', 'and', 'or'];
const COMPARISONS = new Set<BinaryOp>(['<', '<=', '>', '>=', '==', '!=']);

const nameArb = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/)
  .filter((n) => !keywords.has(n));

const numberArb: fc.Arbitrary<BareExpr> = fc
  .oneof(
    fc.nat({ max: 100_000 }).map(String),
    fc.double({ min: 0, max: 1e30, noNaN: true }).map(String),
    fc.constantFrom('1e-7', '2.5E+3', '.5', '1.', '007', '0.0', '1e308'),
    fc.nat({ max: 1000 }).map((n) => `-${n}`),
    fc.constantFrom('-0.25', '-1e-3'),
  )
  .map((text) => ({ kind: 'number', value: Number(text), text }) as BareExpr);

const stringArb: fc.Arbitrary<BareExpr> = fc
  .string({ maxLength: 8, unit: 'grapheme' })
  .filter((s) => !/[\r\n]/.test(s))
  .map((value) => ({ kind: 'string', value }) as BareExpr);

const leafArb: fc.Arbitrary<BareExpr> = fc.oneof(
  numberArb,
  stringArb,
  nameArb.map((name) => ({ kind: 'name', name }) as BareExpr),
  fc.boolean().map((value) => ({ kind: 'bool', value }) as BareExpr),
  fc.constant({ kind: 'none' } as BareExpr),
);

const { expr: exprArb } = fc.letrec<{ expr: BareExpr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', maxDepth: 5 },
    leafArb,
    fc.record({ kind: fc.constant('unary'), op: fc.constantFrom('-', 'not'), operand: tie('expr') }) as fc.Arbitrary<BareExpr>,
    fc.record({ kind: fc.constant('binary'), op: fc.constantFrom(...BINARY_OPS), left: tie('expr'), right: tie('expr') }) as fc.Arbitrary<BareExpr>,
    fc.record({ kind: fc.constant('if'), cond: tie('expr'), then: tie('expr'), else: tie('expr') }) as fc.Arbitrary<BareExpr>,
    fc.record({ kind: fc.constant('list'), items: fc.array(tie('expr'), { maxLength: 3 }) }) as fc.Arbitrary<BareExpr>,
    fc
      .record({
        callee: nameArb,
        args: fc.array(tie('expr'), { maxLength: 3 }),
        kwargs: fc.uniqueArray(fc.record({ name: nameArb, value: tie('expr') }), { maxLength: 2, selector: (k) => k.name }),
      })
      .map((c) => ({ kind: 'call', ...c }) as BareExpr),
  ),
}));

// ---- printers --------------------------------------------------------------------------------

function quote(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\t/g, '\\t') + '"';
}

function printAtom(e: BareExpr, print: (e: BareExpr) => string): string | undefined {
  switch (e.kind) {
    case 'number': return e.text;
    case 'string': return e.value.length % 2 === 0 ? quote(e.value) : "'" + e.value.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
    case 'name': return e.name;
    case 'bool': return String(e.value);
    case 'none': return 'none';
    case 'list': return '[' + e.items.map(print).join(', ') + ']';
    case 'call':
      return e.callee + '(' + [...e.args.map(print), ...e.kwargs.map((k) => `${k.name} = ${print(k.value)}`)].join(', ') + ')';
  }
  return undefined;
}

/** Every compound expression in parentheses. */
function printFull(e: BareExpr): string {
  if (e.kind === 'number' && e.text.startsWith('-')) return `(${e.text})`;
  const atom = printAtom(e, printFull);
  if (atom !== undefined) return atom;
  switch (e.kind) {
    case 'unary': return `(${e.op} ${printFull(e.operand)})`;
    case 'binary': return `(${printFull(e.left)} ${e.op} ${printFull(e.right)})`;
    case 'if': return `(if ${printFull(e.cond)} then ${printFull(e.then)} else ${printFull(e.else)})`;
  }
  throw new Error('unreachable');
}

const PREC: Record<BinaryOp, number> = {
  or: 1, and: 2, '<': 4, '<=': 4, '>': 4, '>=': 4, '==': 4, '!=': 4, '+': 5, '-': 5, '*': 6, '/': 6, '^': 8,
};
function prec(e: BareExpr): number {
  if (e.kind === 'if') return 0;
  if (e.kind === 'binary') return PREC[e.op];
  if (e.kind === 'unary') return e.op === 'not' ? 3 : 7;
  if (e.kind === 'number' && e.text.startsWith('-')) return 7;
  return 9;
}

/** The fewest parentheses the precedence table allows. */
function printMin(e: BareExpr): string {
  const atom = printAtom(e, printMin);
  if (atom !== undefined) return atom;
  const wrap = (x: BareExpr, yes: boolean): string => (yes ? `(${printMin(x)})` : printMin(x));
  switch (e.kind) {
    case 'unary':
      return `${e.op} ${wrap(e.operand, prec(e.operand) < prec(e))}`;
    case 'binary': {
      const p = PREC[e.op];
      const pl = prec(e.left);
      const pr = prec(e.right);
      const leftParens = pl < p || (pl === p && (e.op === '^' || COMPARISONS.has(e.op)));
      const minusAfterPower = e.op === '^' && pr === 7;
      const rightParens = !minusAfterPower && (pr < p || (pr === p && e.op !== '^'));
      return `${wrap(e.left, leftParens)} ${e.op} ${wrap(e.right, rightParens)}`;
    }
    case 'if':
      return `if ${printMin(e.cond)} then ${printMin(e.then)} else ${printMin(e.else)}`;
  }
  throw new Error('unreachable');
}

// ---- properties ------------------------------------------------------------------------------

describe('round trips', () => {
  it('fully parenthesised expressions parse back to the same tree', () => {
    fc.assert(
      fc.property(exprArb, (e) => {
        expect(strip(parseExpression(printFull(e)))).toEqual(e);
      }),
      { numRuns: 400 },
    );
  });

  it('minimally parenthesised expressions parse back to the same tree (precedence table)', () => {
    fc.assert(
      fc.property(exprArb, (e) => {
        const src = printMin(e);
        expect(strip(parseExpression(src)), src).toEqual(e);
      }),
      { numRuns: 400 },
    );
  });

  it('expressions inside definitions (as lets, options, results) parse back too', () => {
    fc.assert(
      fc.property(exprArb, exprArb, exprArb, (a, b, c) => {
        // A result that starts with '-' would continue the `let` above it (documented): wrap it.
        const result = printMin(c).startsWith('-') ? `(${printMin(c)})` : printMin(c);
        const src = `# doc\nloss f(y_true, y_pred; k = ${printMin(a)}) =\n  let v = ${printFull(b)}\n  ${result}\n`;
        const d = parseProgram(src).definitions[0]!;
        expect(strip(d.options[0]!.default)).toEqual(a);
        expect(strip(d.body.lets[0]!.value)).toEqual(b);
        expect(strip(d.body.result)).toEqual(c);
        expect(d.doc).toBe('doc');
      }),
      { numRuns: 200 },
    );
  });
});

// ---- garbage ---------------------------------------------------------------------------------

const PIECES = [
  'loss', 'def', 'regularizer', 'import', 'let', 'if', 'then', 'else', 'and', 'or', 'not', 'true', 'false', 'none',
  'x', 'mean', 'mean(', 'f (', 'y_true', '1', '2.5', '.5', '1e-7', '1e999', '"s"', "'t'", '"open', "'\\q'",
  '(', ')', '[', ']', ',', ';', ':', '...', '=', '==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '^',
  '#c\n', '\n', ' ', '$', '!', '&', 'é', '\t', 'int', 'float', '[N, C]',
];

function checkOutcome(src: string, run: () => unknown): void {
  try {
    run();
  } catch (e) {
    if (!(e instanceof LosscErrors)) throw new Error(`${JSON.stringify(src)} threw ${String(e)}`, { cause: e });
    expect(e.errors.length).toBeGreaterThan(0);
    for (const err of e.errors) {
      expect(err).toBeInstanceOf(LosscError);
      expect(['syntax', 'limit']).toContain(err.kind);
      const span = err.span!;
      expect(span.line).toBeGreaterThanOrEqual(1);
      expect(span.column).toBeGreaterThanOrEqual(1);
      expect(span.offset).toBeGreaterThanOrEqual(0);
      expect(span.offset).toBeLessThanOrEqual(src.length);
      expect(span.length).toBeGreaterThanOrEqual(1);
      expect(err.message).not.toMatch(/-->|<--|Expecting|NoViableAlt|EarlyExit|Redundant input|\{"kind"|undefined|NaN|\[object/);
    }
  }
}

describe('garbage in, LosscErrors out', () => {
  it('random strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120, unit: 'binary' }), (src) => {
        checkOutcome(src, () => parseProgram(src, 'g.loss'));
        checkOutcome(src, () => parseExpression(src, 'g'));
      }),
      { numRuns: 500 },
    );
  });

  it('random sequences of tokens and near-tokens', () => {
    const soup = fc
      .array(fc.tuple(fc.constantFrom(...PIECES), fc.constantFrom(' ', '', '\n', '  ')), { maxLength: 60 })
      .map((parts) => parts.map(([p, sep]) => p + sep).join(''));
    fc.assert(
      fc.property(soup, (src) => {
        checkOutcome(src, () => parseProgram(src, 'soup.loss'));
        checkOutcome(src, () => parseExpression(src, 'soup'));
      }),
      { numRuns: 1500 },
    );
  });

  it('valid programs with one token deleted or duplicated', () => {
    const base =
      'loss f(y_true, y_pred: [N, C]; g = 2.0, h = [1, 2]) =\n  let [a, b] = split(y_pred, 2, axis = 1)\n  let p = if g > 1 then a else -b^2\n  mean(-(p * log(p)), axis = -1) + 1 > 0 and not true or none == "s"\nimport "x.loss"\n';
    expect(parseProgram(base).definitions).toHaveLength(1);
    const pieces = base.split(/(?<=[\s(),[\];=])|(?=[\s(),[\];=])/);
    fc.assert(
      fc.property(fc.nat({ max: pieces.length - 1 }), fc.boolean(), (i, dup) => {
        const copy = [...pieces];
        if (dup) copy.splice(i, 0, copy[i]!);
        else copy.splice(i, 1);
        const src = copy.join('');
        checkOutcome(src, () => parseProgram(src, 'mut.loss'));
      }),
      { numRuns: 400 },
    );
  });
});
