// Definition attributes (`@no_align` above a loss): parsed, checked with located errors, printed
// back, and read by what they change (Keras's rank alignment in makeLoss and in the Python export)
// instead of recognising a loss by its name.

import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { parseProgram } from '../grammar/index.js';
import { hasAttribute } from '../grammar/ast.js';
import { LosscError } from '../src/errors.js';
import { compile } from '../src/api/compile.js';
import { exportLoss } from '../src/export/index.js';
import { Library } from '../src/lower/library.js';
import { printDefinition } from '../src/print/text.js';
import { lowerDefinition } from '../src/lower/lower.js';

const SQ = '(y_true - y_pred)^2';

function syntaxError(src: string): LosscError {
  try {
    parseProgram(src, 'a.loss');
  } catch (e) {
    expect(e).toBeInstanceOf(LosscError);
    return e as LosscError;
  }
  throw new Error('expected a syntax error');
}

describe('attributes', () => {
  it('parse above the keyword, keep the doc above them, and split definitions as before', () => {
    const p = parseProgram(`# Doc line.\n@no_align\nloss f(y_true, y_pred) = ${SQ}\nloss g(y_true, y_pred) = ${SQ}\n`, 'a.loss');
    expect(p.definitions.map((d) => [d.name, d.attributes.map((a) => a.name), d.doc])).toEqual([
      ['f', ['no_align'], 'Doc line.'],
      ['g', [], ''],
    ]);
    expect(p.definitions[0]!.attributes[0]!.span).toMatchObject({ line: 2, column: 1, length: 9 });
    // On the keyword's line too.
    expect(hasAttribute(parseProgram(`@no_align loss f(y_true, y_pred) = ${SQ}`).definitions[0]!, 'no_align')).toBe(true);
  });

  it('the stdlib says which loss takes its inputs unaligned', () => {
    const lib = Library.stdlib();
    expect(hasAttribute(lib.require('elementwise_squared_error').def, 'no_align')).toBe(true);
    expect(hasAttribute(lib.require('mean_squared_error').def, 'no_align')).toBe(false);
  });

  it('an unknown attribute, one on a def, and one written twice are located errors', () => {
    const unknown = syntaxError(`@no_alignment\nloss f(y_true, y_pred) = ${SQ}`);
    expect(unknown.message).toContain('unknown attribute `@no_alignment`: the attributes are `@no_align`');
    expect(unknown.span).toMatchObject({ line: 1, column: 1 });
    const onDef = syntaxError(`@no_align\ndef f(x) = x`);
    expect(onDef.message).toContain('`@no_align` applies to a `loss`, not to a `def`');
    const twice = syntaxError(`@no_align @no_align\nloss f(y_true, y_pred) = ${SQ}`);
    expect(twice.message).toContain('`@no_align` is written twice');
    expect(twice.span).toMatchObject({ line: 1, column: 11 });
    // An attribute with no definition after it.
    expect(syntaxError('@no_align\n').message).toMatch(/expected|end/);
  });

  it('the printer writes them back and the text parses to the same attributes', () => {
    const src = `# Squares.\n@no_align\nloss f(y_true, y_pred) = ${SQ}\n`;
    const lib = Library.fromSource(src, 'a.loss');
    const lowered = lowerDefinition(lib, 'f', { symbolic: true });
    const text = printDefinition({ attributes: ['no_align'], kind: 'loss', name: 'f', params: [{ name: 'y_true' }, { name: 'y_pred' }], options: [], doc: 'Squares.' }, lowered.value);
    expect(text).toBe('# Squares.\n@no_align\nloss f(y_true, y_pred) =\n  (y_true - y_pred)^2\n');
    const back = parseProgram(text).definitions[0]!;
    expect([back.doc, back.attributes.map((a) => a.name)]).toEqual(['Squares.', ['no_align']]);
  });

  it('@no_align skips rank alignment in makeLoss (the same formula without it aligns)', () => {
    const m = compile(`@no_align\nloss raw(y_true, y_pred) = ${SQ}\nloss aligned(y_true, y_pred) = ${SQ}\n`);
    const yt = tf.tensor1d([1, 0, 1, 0]);
    const yp = tf.tensor2d([[0.1], [0.2], [0.3], [0.4]]);
    // Aligned: y_true [4] is expanded to [4, 1] (Keras's rule for a rank-1 side), so the values are elementwise.
    const a = m['aligned']!({ reduction: 'none' })(yt, yp);
    expect(a.shape).toEqual([4, 1]);
    // As given: [4] against [4, 1] broadcasts to [4, 4].
    const r = m['raw']!({ reduction: 'none' })(yt, yp);
    expect(r.shape).toEqual([4, 4]);
    tf.dispose([yt, yp, a, r]);
  });

  it('@no_align drops `_align` from the Python export', () => {
    const src = `@no_align\nloss raw(y_true, y_pred) = ${SQ}\n`;
    expect(exportLoss(src, 'torch')).not.toMatch(/y_true, y_pred = _align\(/);
    expect(exportLoss(src.replace('@no_align\n', ''), 'torch')).toMatch(/y_true, y_pred = _align\(/);
  });
});
