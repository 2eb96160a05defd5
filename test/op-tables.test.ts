// The op registry (OPS in src/ir/ops.ts) and every per-op table of the other stages: each table
// has exactly one entry per op (the type checker demands them, `Record<OpName, ...>`; this checks
// it at run time too, against a table built by other means), and the facts OPS carries agree
// with the language (operators, builtins, reserved names).

import { describe, expect, it } from 'vitest';
import { INFIX_OPS, OP_NAMES, OPS, PREFIX_OPS, REDUCTIONS, VIEWS, isElementwise, type OpSpec } from '../src/ir/ops.js';
import { VJP } from '../src/autodiff/rules.js';
import { IMPLS } from '../src/eval/reference.js';
import { KERNELS } from '../src/compile/kernels.js';
import { TEXT } from '../src/print/text.js';
import { LATEX } from '../src/print/latex.js';
import { RESERVED_NAMES } from '../src/print/lets.js';
import { SCALAR_CODE } from '../src/compile/fused-codegen/scalar.js';
import { FUSED_COST } from '../src/compile/fused-codegen/graph.js';
import { SPELLINGS } from '../src/export/spellings.js';
import { BUILTINS } from '../src/lower/builtins.js';
import { parseExpression } from '../grammar/index.js';

const TABLES: Record<string, Record<string, unknown>> = { VJP, IMPLS, KERNELS, TEXT, LATEX, SCALAR_CODE, FUSED_COST, SPELLINGS };

const spec = (op: string): OpSpec => (OPS as Record<string, OpSpec>)[op]!;

describe('every per-op table covers OPS', () => {
  for (const [name, table] of Object.entries(TABLES)) {
    it(`${name} has one entry per op, none left undefined`, () => {
      expect(Object.keys(table).sort()).toEqual([...OP_NAMES].sort());
      expect(OP_NAMES.filter((op) => table[op] === undefined)).toEqual([]);
    });
  }

  it('only ctc and ctc_grad are unsupported by the fused target; only part has no VJP rule (grad.ts joins parts)', () => {
    expect(OP_NAMES.filter((op) => FUSED_COST[op] === null)).toEqual(['ctc', 'ctc_grad']);
    expect(OP_NAMES.filter((op) => VJP[op] === null)).toEqual(['part']);
  });

  it('every elementwise op the fused Scope does not build itself has its scalar code', () => {
    const built = new Set(['cast', 'stop_gradient']); // scope.ts: cast by dtype; stop_gradient is a view
    expect(OP_NAMES.filter((op) => isElementwise(op) && SCALAR_CODE[op] === null && !built.has(op))).toEqual([]);
  });
});

describe('the facts OPS carries', () => {
  it('each infix and prefix operator is one op, and the parser reads it as that operator', () => {
    for (const [text, op] of Object.entries(INFIX_OPS)) {
      expect(spec(op).infix?.text).toBe(text);
      const e = parseExpression(`a ${text} b`, '<test>');
      expect(e.kind === 'binary' && e.op).toBe(text);
    }
    expect(Object.keys(INFIX_OPS).sort()).toEqual(['!=', '*', '+', '-', '/', '<', '<=', '==', '>', '>=', '^', 'and', 'or']);
    expect(PREFIX_OPS).toEqual({ '-': 'neg', not: 'not' });
  });

  it('every builtin name OPS gives is a function programs can call, and a name a let never takes', () => {
    for (const op of OP_NAMES) {
      const name = spec(op).builtin?.name;
      if (name === undefined) continue;
      expect(RESERVED_NAMES.has(name), `${op}: ${name}`).toBe(true);
      expect(name in BUILTINS, `${op}: ${name}`).toBe(true);
    }
  });

  it('families agree with the derived sets', () => {
    expect([...REDUCTIONS]).toEqual(['sum', 'mean', 'max', 'min', 'logsumexp']);
    expect([...VIEWS]).toEqual(['stop_gradient', 'broadcast_like', 'expand_dims', 'squeeze', 'part', 'transpose']);
    for (const op of OP_NAMES) {
      const s = spec(op);
      if (s.infix || s.commutative) expect(s.arity, op).toBe(2);
      if (s.family === 'unary' || s.family === 'reduce') expect(s.arity, op).toBe(1);
    }
  });
});
