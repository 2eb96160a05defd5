// Pathological input: every case must end in a clear error (or a parse) well within a second,
// never a stack overflow or a hang. The timings are hang guards, not benchmarks.

import { describe, expect, it } from 'vitest';
import type { Expr } from '../grammar/ast.js';
import { MAX_NESTING, MAX_SOURCE_BYTES, parseExpression, parseProgram } from '../grammar/index.js';
import { LosscError, LosscErrors } from '../src/errors.js';

const N = 100_000;

/** Runs f once, returning how long it took and what it threw (if anything). */
function timedOnce(f: () => unknown): { ms: number; error?: LosscErrors } {
  const t0 = performance.now();
  let error: LosscErrors | undefined;
  try {
    f();
  } catch (e) {
    if (!(e instanceof LosscErrors)) throw new Error(`threw a ${(e as Error)?.constructor?.name}, not a LosscErrors: ${String(e)}`, { cause: e });
    for (const err of e.errors) expect(err).toBeInstanceOf(LosscError);
    error = e;
  }
  const ms = performance.now() - t0;
  if (process.env['LOSSC_TIMINGS']) console.log(`${ms.toFixed(0)} ms`);
  return { ms, error };
}

/**
 * The wall-clock limit of these tests: a hang guard, not a benchmark. Each of these inputs takes
 * well under a second on a quiet machine, and far longer if it became quadratic or recursive;
 * a busy CI machine (2 shared cores) must not fail them. `npm run bench` measures speed.
 */
const HANG_GUARD_MS = 10_000;

/**
 * Runs f until it takes less than `budget` ms, at most three times, and returns the fastest run.
 * These are hang guards: a hang or a blow-up fails every attempt, while a machine that is busy
 * with other work for a moment does not fail the test.
 */
function timed(f: () => unknown, budget = HANG_GUARD_MS): { ms: number; error?: LosscErrors } {
  let best = timedOnce(f);
  for (let i = 1; i < 3 && best.ms >= budget; i++) {
    const r = timedOnce(f);
    if (r.ms < best.ms) best = r;
  }
  return best;
}

function expectNestingLimit(f: () => unknown, column: number): void {
  const r = timed(f);
  expect(r.ms).toBeLessThan(HANG_GUARD_MS);
  expect(r.error).toBeDefined();
  const errs = r.error!.errors;
  expect(errs).toHaveLength(1);
  expect(errs[0]!.kind).toBe('limit');
  expect(errs[0]!.detail).toBe(
    `nested too deeply: more than ${MAX_NESTING} levels of parentheses, brackets, calls, \`if\`s and prefix operators (lossc's limit is ${MAX_NESTING})`,
  );
  expect(errs[0]!.span).toMatchObject({ line: 1, column });
}

describe('nesting limit', () => {
  it(`${N} nested parentheses`, () => {
    expectNestingLimit(() => parseExpression('('.repeat(N) + '1' + ')'.repeat(N)), MAX_NESTING + 1);
  });

  it(`${N} nested brackets`, () => {
    expectNestingLimit(() => parseExpression('['.repeat(N) + '1' + ']'.repeat(N)), MAX_NESTING + 1);
  });

  it(`${N} nested calls`, () => {
    expectNestingLimit(() => parseProgram('loss f(x) = ' + 'g('.repeat(N) + 'x' + ')'.repeat(N)), 13 + 2 * MAX_NESTING + 1);
  });

  it(`${N} prefix minuses, with and without spaces`, () => {
    expectNestingLimit(() => parseExpression('-'.repeat(N) + 'x'), MAX_NESTING + 1);
    expectNestingLimit(() => parseExpression('- '.repeat(N) + 'x'), 2 * MAX_NESTING + 1);
  });

  it(`${N} prefix nots`, () => {
    expectNestingLimit(() => parseExpression('not '.repeat(N) + 'x'), 4 * MAX_NESTING + 1);
  });

  it('a 50 000-deep if-then chain', () => {
    const src = 'if a then '.repeat(50_000) + '1' + ' else 2'.repeat(50_000);
    expectNestingLimit(() => parseExpression(src), 10 * MAX_NESTING + 1);
  });

  it('mixed nesting counts together', () => {
    const src = '-(['.repeat(N / 3) + 'x' + '])'.repeat(N / 3);
    const r = timed(() => parseExpression(src));
    expect(r.ms).toBeLessThan(HANG_GUARD_MS);
    expect(r.error!.errors[0]!.kind).toBe('limit');
  });

  it(`accepts exactly ${MAX_NESTING} levels of each kind`, () => {
    const M = MAX_NESTING;
    expect(parseExpression('('.repeat(M) + '1' + ')'.repeat(M)).kind).toBe('number');
    expect(parseExpression('['.repeat(M) + '1' + ']'.repeat(M)).kind).toBe('list');
    expect(parseExpression('f('.repeat(M) + '1' + ')'.repeat(M)).kind).toBe('call');
    expect(parseExpression('f(a = '.repeat(M) + '1' + ')'.repeat(M)).kind).toBe('call');
    expect(parseExpression('- '.repeat(M) + 'x').kind).toBe('unary');
    expect(parseExpression('not '.repeat(M) + 'x').kind).toBe('unary');
    expect(parseExpression('if a then '.repeat(M) + '1' + ' else 2'.repeat(M)).kind).toBe('if');
    expect(parseProgram('loss f(x) = ' + 'g(['.repeat(M / 2) + 'x' + '])'.repeat(M / 2)).definitions).toHaveLength(1);
    expectNestingLimit(() => parseExpression('('.repeat(M + 1) + '1' + ')'.repeat(M + 1)), M + 1);
  });

  it('nesting in one definition does not count in the next', () => {
    const half = '('.repeat(60) + 'x' + ')'.repeat(60);
    const p = parseProgram(`loss f(x) = ${half}\nloss g(x) = ${half}\nloss h(x) = ${half}`);
    expect(p.definitions).toHaveLength(3);
  });
});

describe('size limit', () => {
  it('rejects a 10 MB source up front', () => {
    const src = ('loss f(x) = x + 1 # padding padding padding\n').repeat(Math.ceil((10 * 1024 * 1024) / 44)).slice(0, 10 * 1024 * 1024);
    const r = timed(() => parseProgram(src, 'big.loss'));
    expect(r.ms).toBeLessThan(HANG_GUARD_MS);
    const e = r.error!.errors[0]!;
    expect(r.error!.errors).toHaveLength(1);
    expect(e.kind).toBe('limit');
    expect(e.detail).toBe('source is 10.0 MB; lossc reads at most 1 MB');
    expect(e.span).toMatchObject({ file: 'big.loss', line: 1, column: 1 });
    expect(e.message.split('\n')[0]).toBe('big.loss:1:1: limit error: source is 10.0 MB; lossc reads at most 1 MB');
  });

  it('counts bytes, not characters', () => {
    const src = '# ' + 'é'.repeat(MAX_SOURCE_BYTES / 2) + '\nloss f(x) = x';
    expect(src.length).toBeLessThan(MAX_SOURCE_BYTES);
    const r = timed(() => parseProgram(src));
    expect(r.error!.errors[0]!.kind).toBe('limit');
    expect(() => parseExpression('x'.repeat(MAX_SOURCE_BYTES + 1))).toThrow(/lossc reads at most 1 MB/);
  });

  it('accepts a source just under the limit', () => {
    const line = 'loss f(x) = x + 1\n';
    const src = line.repeat(Math.floor(MAX_SOURCE_BYTES / line.length / 4));
    const r = timed(() => parseProgram(src));
    expect(r.error).toBeUndefined();
  });
});

describe('long flat chains parse, iteratively', () => {
  it(`a ${N}-term sum`, () => {
    let e: Expr | undefined;
    const r = timed(() => (e = parseExpression('1' + '+1'.repeat(N - 1))));
    expect(r.error).toBeUndefined();
    expect(r.ms).toBeLessThan(HANG_GUARD_MS);
    // left-associative: walk down the left spine
    let depth = 0;
    let node: Expr = e!;
    while (node.kind === 'binary' && node.op === '+' && node.right.kind === 'number') {
      node = node.left;
      depth++;
    }
    expect(node.kind).toBe('number');
    expect(depth).toBe(N - 1);
  });

  it(`a ${N}-term sum inside a definition`, () => {
    const r = timed(() => parseProgram('loss f(x) = x' + ' + x'.repeat(N - 1)));
    expect(r.error).toBeUndefined();
    expect(r.ms).toBeLessThan(HANG_GUARD_MS);
  });

  it(`a ${N}-term power chain (right-associative) and a long mixed chain`, () => {
    let e: Expr | undefined;
    const r = timed(() => (e = parseExpression('2' + '^2'.repeat(N - 1))));
    expect(r.error).toBeUndefined();
    let depth = 0;
    let node: Expr = e!;
    while (node.kind === 'binary' && node.op === '^' && node.left.kind === 'number') {
      node = node.right;
      depth++;
    }
    expect(node.kind).toBe('number');
    expect(depth).toBe(N - 1);
    const mixed = Array.from({ length: N / 4 }, (_, i) => ['a * b', 'c / -d', 'e ^ f', 'g < h'][i % 4]).join(' and ');
    expect(timed(() => parseExpression(mixed)).error).toBeUndefined();
  });

  it('long else-if chains, lists and argument lists', () => {
    expect(timed(() => parseExpression('if a then 1 else '.repeat(5000) + '2')).error).toBeUndefined();
    expect(timed(() => parseExpression('[' + '1, '.repeat(N) + ']')).error).toBeUndefined();
    expect(timed(() => parseExpression('f(' + 'x, '.repeat(N) + ')')).error).toBeUndefined();
    expect(timed(() => parseProgram('loss f(x) =\n' + '  let a = x\n'.repeat(20_000) + '  a')).error).toBeUndefined();
  });

  it('many definitions', () => {
    const r = timed(() => parseProgram('# doc\nloss f(x) = x + 1\n'.repeat(5000)));
    expect(r.error).toBeUndefined();
  });
});

describe('garbage', () => {
  it('a megabyte of unexpected characters', () => {
    const r = timed(() => parseProgram('$ '.repeat(MAX_SOURCE_BYTES / 2 - 1)));
    expect(r.ms).toBeLessThan(HANG_GUARD_MS);
    expect(r.error!.errors[0]!.detail).toBe("unexpected character '$'");
  });

  it('a megabyte of closing parentheses', () => {
    const r = timed(() => parseProgram(') '.repeat(MAX_SOURCE_BYTES / 2 - 1)));
    expect(r.ms).toBeLessThan(HANG_GUARD_MS);
    expect(r.error!.errors).toHaveLength(1);
  });

  it('many broken definitions', () => {
    const r = timed(() => parseProgram('loss f(x) = (x +\n'.repeat(20_000)), 2000);
    expect(r.ms).toBeLessThan(HANG_GUARD_MS);
    expect(r.error!.errors.length).toBeGreaterThan(1);
  });
});
