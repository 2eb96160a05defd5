// Operators in the syntax tree, lowered without recursion on how many there are. The parser
// builds `a + b + … + z` (any length: 10 000 terms are 90 KB of source) as a tree as deep as
// the chain is long, and `x ^ -x ^ -x …` as deep too; a recursive walk would run out of stack.
// Here a run of operators of one precedence level (`a + b - c`, `a * b / c`, `a ^ b ^ c`, `a < b`)
// is one frame whose operands are lowered in turn; an operator nested in an operand pushes its
// own frame, and anything else (names, calls, lists, `if`s) goes back to the caller's `leaf`,
// whose nesting the parser's nesting limit bounds. Runs of + and - (and of * and /) are joined
// (and of `and`, of `or`) are given to `run` whole, so tensors can build them as balanced trees.

import type { Binary, BinaryOp, Expr, Span, Unary } from '../../grammar/ast.js';
import { LosscError } from '../errors.js';
import { MAX_DEPTH, type Node } from '../ir/node.js';
import { INFIX_OPS, OPS, PREC, type OpSpec } from '../ir/ops.js';

export interface OperatorHooks<T> {
  /** Anything that is not an operator. */
  leaf(e: Expr): T;
  unary(e: Unary, operand: T): T;
  /** `l op r`, `span` the operator's. */
  binary(op: BinaryOp, l: T, r: T, span: Span): T;
  /**
   * A whole run of + and - (or * and /, or `and`, or `or`): `items[i]` joined by `ops[i - 1]` (at `spans[i - 1]`).
   * Default: folded from the left with `binary`, as written.
   */
  run?(items: T[], ops: BinaryOp[], spans: Span[]): T;
}

type Operator = Unary | Binary;

/** Precedence levels (OPS's, src/ir/ops.ts); runs are folded from the left (`^` alone folds from the right). */
const levelOf = (op: BinaryOp): number => (OPS[INFIX_OPS[op]] as OpSpec).infix!.prec;

/** Levels whose runs `run` gets whole: + -, * /, and, or. */
const ASSOCIATIVE = new Set<number>([PREC.add, PREC.mul, PREC.and, PREC.or]);

interface Run {
  operands: Expr[];
  /** ops[i] joins operand i + 1 to what comes before it (for `^`: operand i to what follows). */
  ops: BinaryOp[];
  spans: Span[];
  rightAssoc: boolean;
}

type Frame<T> = { unary: Unary; value?: T } | { run: Run; values: T[] };

const isOperator = (e: Expr): e is Operator => e.kind === 'unary' || e.kind === 'binary';

/** The run of one level starting at `e`: along the left spine, or the right one for `^`. */
function runOf(e: Binary): Run {
  const operands: Expr[] = [];
  const ops: BinaryOp[] = [];
  const spans: Span[] = [];
  if (e.op === '^') {
    let cur: Expr = e;
    while (cur.kind === 'binary' && cur.op === '^') {
      operands.push(cur.left);
      ops.push(cur.op);
      spans.push(cur.span);
      cur = cur.right;
    }
    operands.push(cur);
    return { operands, ops, spans, rightAssoc: true };
  }
  const level = levelOf(e.op);
  let cur: Expr = e;
  while (cur.kind === 'binary' && levelOf(cur.op) === level) {
    operands.push(cur.right);
    ops.push(cur.op);
    spans.push(cur.span);
    cur = cur.left;
  }
  operands.push(cur);
  return { operands: operands.reverse(), ops: ops.reverse(), spans: spans.reverse(), rightAssoc: false };
}

function open<T>(e: Operator): Frame<T> {
  return e.kind === 'unary' ? { unary: e } : { run: runOf(e), values: [] };
}

/** Lower an operator expression with `hooks`, using an explicit stack instead of recursion. */
export function lowerOperators<T>(root: Operator, hooks: OperatorHooks<T>): T {
  const stack: Array<Frame<T>> = [open<T>(root)];
  let result: { v: T } | undefined;
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    if (result) {
      if ('unary' in f) f.value = result.v;
      else f.values.push(result.v);
      result = undefined;
    }
    const next = 'unary' in f ? (f.value === undefined ? f.unary.operand : undefined) : f.run.operands[f.values.length];
    if (next === undefined) {
      stack.pop();
      result = { v: 'unary' in f ? hooks.unary(f.unary, f.value as T) : finish(f.run, f.values, hooks) };
    } else if (isOperator(next)) {
      stack.push(open<T>(next));
    } else {
      result = { v: hooks.leaf(next) };
    }
  }
  return result!.v;
}

function finish<T>(run: Run, values: T[], hooks: OperatorHooks<T>): T {
  const { ops, spans } = run;
  if (run.rightAssoc) {
    let acc = values[values.length - 1] as T;
    for (let i = values.length - 2; i >= 0; i--) acc = hooks.binary(ops[i]!, values[i] as T, acc, spans[i]!);
    return acc;
  }
  if (hooks.run && ASSOCIATIVE.has(levelOf(ops[0]!))) return hooks.run(values, ops, spans);
  let acc = values[0] as T;
  for (let i = 1; i < values.length; i++) acc = hooks.binary(ops[i - 1]!, acc, values[i] as T, spans[i - 1]!);
  return acc;
}

/**
 * `n`, unless it is deeper than MAX_DEPTH: then a 'limit' error at `span`, the expression whose
 * lowering crossed the limit (so the error points into the program, not at a stage that overflowed).
 */
export function deepEnough(n: Node, span: Span): Node {
  if (n.depth <= MAX_DEPTH) return n;
  throw new LosscError(
    'limit',
    `this formula is nested ${n.depth} operations deep here, over lossc's limit of ${MAX_DEPTH} ` +
      '(long sums and products are fine; a long chain of `^` or of comparisons, or lets each built on the last, is not)',
    span,
  );
}
