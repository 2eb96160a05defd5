// Last-resort guards: whatever goes wrong inside the parser, callers get a LosscErrors, never a
// RangeError or a chevrotain exception. The parser is replaced by one that fails on purpose.
// (The setup file loaded the grammar already, so it is loaded afresh here, with the mock.)

import { describe, expect, it, vi } from 'vitest';

vi.resetModules();
const { parseExpression, parseProgram } = await import('../grammar/index.js');
const { LosscErrors } = await import('../src/errors.js');
type LosscErrors = InstanceType<typeof LosscErrors>;

vi.mock('../grammar/parser.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../grammar/parser.js')>();
  class FailingParser extends m.LosscParser {
    constructor(...args: ConstructorParameters<typeof m.LosscParser>) {
      super(...args);
      // A stack overflow deep in parsing, and a plain bug.
      Object.assign(this, {
        expression: () => {
          throw new RangeError('Maximum call stack size exceeded');
        },
        program: () => {
          throw new TypeError("Cannot read properties of undefined (reading 'image')");
        },
      });
    }
  }
  return { ...m, LosscParser: FailingParser };
});

function thrown(f: () => unknown): LosscErrors {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LosscErrors);
    return e as LosscErrors;
  }
  throw new Error('expected an error');
}

describe('last-resort guards', () => {
  it('turns a stack overflow into a limit error', () => {
    const e = thrown(() => parseExpression('1 + 2', 'deep'));
    expect(e.errors).toHaveLength(1);
    expect(e.errors[0]!.kind).toBe('limit');
    expect(e.errors[0]!.detail).toBe('the source is nested too deeply to parse (the stack ran out)');
    expect(e.errors[0]!.span).toMatchObject({ file: 'deep', line: 1, column: 1 });
  });

  it('turns any other failure into an error naming it as internal', () => {
    const e = thrown(() => parseProgram('loss f(x) = x', 'bug.loss'));
    expect(e.errors[0]!.kind).toBe('syntax');
    expect(e.errors[0]!.detail).toMatch(/^internal error in the lossc parser: Cannot read properties/);
    expect(e.message).not.toMatch(/\n\s+at /); // no stack trace in the message
  });

  it('rejects a non-string source as usage', () => {
    const e = thrown(() => parseProgram(42 as unknown as string));
    expect(e.errors[0]!.kind).toBe('usage');
  });
});
