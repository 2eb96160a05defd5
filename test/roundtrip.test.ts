// The printer round trip: print(parse(print(ir))) == print(ir), for every stdlib definition
// (lowered with its options symbolic) and for test programs, and the reprinted text lowers back
// to the very same (hash-consed) node.

import { describe, expect, it } from 'vitest';
import { ATTRIBUTES, type Definition, type Param } from '../grammar/ast.js';
import { Library } from '../src/lower/library.js';
import { lowerDefinition, type Lowered } from '../src/lower/lower.js';
import { showStatic } from '../src/lower/builtins.js';
import { printDefinition, type DefinitionHeader } from '../src/print/text.js';
import { derivative } from '../src/pipeline/derivative.js';
import type { Node } from '../src/ir/node.js';

/** A parameter's annotation as source text: `int[N]`, `[..., C]`, `bool`. */
function typeText(p: Param): string | undefined {
  const t = p.type;
  if (!t) return undefined;
  const dims = t.shape?.map((d) => (d.kind === 'ellipsis' ? '...' : d.kind === 'fixed' ? String(d.size) : d.name));
  return `${t.dtype ?? ''}${dims ? `[${dims.join(', ')}]` : ''}` || undefined;
}

function header(def: Definition, lowered: Lowered, name = def.name): DefinitionHeader {
  return {
    // A def made from a loss (its mask, its derivative) keeps only what a def may carry.
    attributes: def.attributes.filter((a) => (ATTRIBUTES[a.name].kinds as readonly string[]).includes(def.kind)).map((a) => a.name),
    kind: def.kind,
    name,
    params: def.params.map((p) => ({ name: p.name, type: typeText(p) })),
    options: def.options.map((o) => ({ name: o.name, value: showStatic(lowered.options[o.name]!) })),
  };
}

/** Print, lower the printed text, print again: the two texts and the two nodes are the same. */
function roundTrip(def: Definition, lowered: Lowered, roots: Node, file: string): string {
  const h = header(def, lowered);
  const first = printDefinition(h, roots);
  let back: Lowered;
  try {
    back = lowerDefinition(Library.fromSource(first, file), def.name, { symbolic: true });
  } catch (e) {
    throw new Error(`the printed text does not lower back:\n${first}\n${(e as Error).message}`, { cause: e });
  }
  const second = printDefinition(header(def, back), back.value);
  expect(second, first).toBe(first);
  expect(back.value === roots, `not the same node:\n${first}`).toBe(true);
  return first;
}

describe('every stdlib definition prints and reads back to itself', () => {
  const lib = Library.stdlib();
  const names = lib.names().sort();

  it('the stdlib has definitions', () => {
    expect(names.length).toBeGreaterThan(20);
  });

  for (const name of names) {
    const def = lib.get(name)!.def;
    it(`${def.kind} ${name}`, () => {
      const lowered = lowerDefinition(lib, name, { symbolic: true });
      const text = roundTrip(def, lowered, lowered.value, `roundtrip-${name}.loss`);
      expect(text.replace(/^(@\w+\n)*/, '').startsWith(`${def.kind} ${name}(`)).toBe(true);
      if (lowered.mask) {
        const maskDef = { ...def, kind: 'def' as const, name: `${name}_mask` };
        roundTrip(maskDef, lowered, lowered.mask, `roundtrip-${name}-mask.loss`);
      }
    });
  }

  it('and so do the derivatives of every loss', () => {
    for (const name of names.filter((n) => lib.get(n)!.def.kind === 'loss')) {
      const params = lib.get(name)!.def.params;
      const wrt = params.find((p) => p.name === 'y_pred')?.name ?? params[params.length - 1]!.name;
      const d = derivative(name, wrt);
      roundTrip({ ...d.lowered.def, name: `d_${name}`, kind: 'def' }, d.lowered, d.grads[0]!, `roundtrip-d-${name}.loss`);
    }
  });
});

describe('test programs print and read back to themselves', () => {
  const programs: Record<string, string> = {
    'lets and shared nodes': `
loss t(y_true, y_pred; delta = 1.5) =
  let e = y_pred - y_true
  let a = abs(e)
  mean(where(a <= delta, 0.5 * e^2, delta * (a - 0.5 * delta)), axis = -1)`,
    'focal, from the design': `
loss t(y_true, y_pred; gamma = 2.0, alpha = 0.25) =
  let p   = clip(y_pred, epsilon, 1 - epsilon)
  let p_t = y_true * p + (1 - y_true) * (1 - p)
  let a_t = y_true * alpha + (1 - y_true) * (1 - alpha)
  mean(-a_t * (1 - p_t)^gamma * log(p_t), axis = -1)`,
    'triplet, from the design': `
loss t(y_true, y_pred; margin = 0.2) =
  let [a, p, n] = split(y_pred, 3, axis = 1)
  relu(sum((a - p)^2, axis = 1) - sum((a - n)^2, axis = 1) + margin)`,
    'negative numbers and infinities': `
loss t(y_true, y_pred) = max(y_pred, -inf) + min(y_true, inf) * -2 - -(3) + y_pred^-1 + max(-(inf), y_pred)`,
    'int labels and one-hot': `
loss t(y_true: int[N], y_pred: [N, C]) =
  let y = one_hot(y_true, size(y_pred, axis = -1))
  sum(float(indices(y_pred, axis = -1))) - sum(y * log_softmax(y_pred), axis = -1)`,
    'logic, casts and comparisons': `
loss t(y_true, y_pred) =
  let m = y_true > 0 and not (y_pred < 0 or y_true == y_pred)
  float(m) * y_pred + float(int(y_true)) + where(bool(y_true), 1, 0)`,
    'layout': `
loss t(y_true: [N, 4], y_pred: [N, 4]) =
  let w = matmul(transpose(y_pred), y_true)
  sum(concat([expand_dims(sum(w, axis = 0), axis = 0), squeeze(expand_dims(y_pred, axis = 1), axis = 1)], axis = 0)) + logsumexp(y_pred, axis = [0, 1])`,
    'a mask': `
loss t(y_true, y_pred) = masked(mean((y_true - y_pred)^2, axis = -1), sum(y_true, axis = -1) != 0)`,
    'tensor literals and list options': `
loss t(y_true: [N, 3], y_pred: [N, 3]; weights = [1.0, 2.0, 0.5]) = sum(y_true * y_pred * weights * [[1, 2, 3]], axis = -1)`,
  };
  for (const [what, text] of Object.entries(programs)) {
    it(what, () => {
      const lib = Library.fromSource(text, `${what}.loss`);
      let lowered: Lowered;
      try {
        lowered = lowerDefinition(lib, 't', { symbolic: true });
      } catch (e) {
        // A test program that does not lower is a bug in the test, not the printer.
        throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
      }
      roundTrip(lib.get('t')!.def, lowered, lowered.value, `rt-${what}.loss`);
    });
  }
});
