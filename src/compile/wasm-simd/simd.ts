// The WebAssembly SIMD target, for value-only calls on the wasm backend (`model.evaluate`,
// validation losses): from the checked IR of a reduced loss, one WebAssembly function that reads
// the inputs where tfjs-backend-wasm keeps them (its heap, imported as the module's memory) and
// computes four float32 lanes at a time.
//
// Shape-polymorphic: the sizes are arguments. The IR may have symbolic dimensions (a shape
// signature's `s0`, `s1`, ...: pipeline.ts); the function takes the inputs' addresses, the number
// of rows and of columns, and the value of each `size` node (float64), all read off the call's
// sizes, so one module serves every batch size. It keeps no scratch: its values live in locals.
//
// What it covers (anything else: `simdKernel` returns null and the JavaScript fused kernel runs):
// inputs of one float32 shape [..., C] (rank ≥ 2), and a root that is
//   total:   sums / means over every row of row values, then scalar arithmetic (in float64);
//   row:     sums, means, maxima, minima, logsumexps over the last axis of element values, and
//            elementwise ops of row values (float32, kept splatted in all four lanes);
//   element: elementwise ops of the inputs, scalar constants and row values (float32 × 4).
// Elementwise ops: + − × ÷, neg, abs, sqrt, floor, exp, log, log1p, sigmoid, softplus, max, min,
// clip, where, comparisons, and/or/not, whole powers up to 8, bool → float casts.
//
// Safety: the module is assembled from fixed opcodes and numbers made here (encode.ts); no string
// from the IR enters it. It reads memory only at the addresses of the inputs' own data.

import type { Node } from '../../ir/node.js';
import { REDUCTIONS } from '../../ir/ops.js';
import type { Dim } from '../../ir/shape.js';
import { classify, type Kind, Refused, sameShape, valueOrder } from './classify.js';
import { Code, F64, I32, moduleBytes, OP, V128, type SimdOp, type ValType } from './encode.js';
import { exp, log, log1p } from './math.js';

/** The value of a dimension at a call (a number for a number; a symbol's value at the call's binding). */
export type SizeOf = (d: Dim) => number;

/** Dimensions that are numbers: their values; a symbol has none. */
const exact: SizeOf = (d) => (typeof d === 'number' ? d : NaN);

/** A compiled value kernel: the loss from views of the inputs on the heap it was made for. */
export interface SimdKernel {
  /**
   * The value at the call's sizes (`size`, the symbols' values; by default the dimensions must be
   * numbers), or undefined when an input is not a view of this kernel's memory of that size.
   */
  run(inputs: readonly ArrayLike<number>[], size?: SizeOf): number | undefined;
}

const BINARY: Partial<Record<string, SimdOp>> = { add: 'f32x4_add', sub: 'f32x4_sub', mul: 'f32x4_mul', div: 'f32x4_div', maximum: 'f32x4_max', minimum: 'f32x4_min', lt: 'f32x4_lt', le: 'f32x4_le', gt: 'f32x4_gt', ge: 'f32x4_ge', eq: 'f32x4_eq', ne: 'f32x4_ne', and: 'and', or: 'or' };
const UNARY: Partial<Record<string, SimdOp>> = { neg: 'f32x4_neg', abs: 'f32x4_abs', sqrt: 'f32x4_sqrt', floor: 'f32x4_floor', not: 'not' };
const IDENTITY: Partial<Record<SimdOp, number>> = { f32x4_add: 0, f32x4_max: -Infinity, f32x4_min: Infinity };
const TOTAL: Partial<Record<string, number>> = { add: OP.f64_add, sub: OP.f64_sub, mul: OP.f64_mul, div: OP.f64_div, maximum: OP.f64_max, minimum: OP.f64_min };

/** A whole exponent in [-8, 8] \ {0}, or undefined. */
function wholePower(n: Node): number | undefined {
  const e = n.args[1]!;
  const v = e.op === 'const' ? e.attrs.value : undefined;
  return typeof v === 'number' && Number.isInteger(v) && v !== 0 && Math.abs(v) <= 8 ? v : undefined;
}

/**
 * Emits the kernel: locals per node, the loops over rows and columns, the float64 tail. Its
 * parameters: the inputs' addresses, rows, columns (i32), then the `size` nodes' values (f64).
 */
class Emitter {
  readonly c: Code;
  private readonly local = new Map<Node, number>();
  private readonly rows: number;
  private readonly cols: number;
  private readonly rowOff: number;
  private readonly col: number;
  /** bytes of the whole vectors of a row */
  private readonly fullBytes: number;
  /** lanes of the last vector of a row that are in it (all ones), when the row is not whole vectors */
  private readonly restMask: number;
  private readonly colsVec: number;

  constructor(
    private readonly kinds: Map<Node, Kind>,
    private readonly inputs: readonly Node[],
    private readonly sizes: readonly Node[],
  ) {
    const c = (this.c = new Code([...inputs.map((): ValType => I32), I32, I32, ...sizes.map((): ValType => F64)]));
    this.rows = inputs.length;
    this.cols = inputs.length + 1;
    this.rowOff = c.local(I32);
    this.col = c.local(I32);
    this.fullBytes = c.local(I32);
    this.restMask = c.local(V128);
    this.colsVec = c.local(V128);
    c.get(this.cols).i32(2).op(OP.i32_shr_u).i32(4).op(OP.i32_shl).set(this.fullBytes);
    c.laneIndices().get(this.cols).i32(3).op(OP.i32_and).simd('i32x4_splat').simd('i32x4_lt_s').set(this.restMask);
    c.get(this.cols).op(OP.f32_convert_i32_u).simd('f32x4_splat').set(this.colsVec);
    sizes.forEach((n, i) => this.local.set(n, inputs.length + 2 + i));
  }

  /** Uniforms' values splatted (float32), in v128 locals made before the loops. */
  private readonly splatted = new Map<Node, number>();

  /** Nodes' values as v128s on the stack, in order (constants splatted). */
  private vec(...ns: Node[]): Code {
    for (const n of ns) {
      if (n.op === 'const') this.c.splat(n.attrs.value as number);
      else this.c.get(this.splatted.get(n) ?? this.local.get(n)!);
    }
    return this.c;
  }

  /** A node's value in a v128 local (constants put in a fresh one). */
  private vecLocal(n: Node): number {
    const have = this.splatted.get(n) ?? this.local.get(n);
    if (have !== undefined) return have;
    const l = this.c.local(V128);
    this.vec(n);
    this.c.set(l);
    return l;
  }

  /** One elementwise op over four lanes, its arguments in locals; the result into the node's local. */
  private elementwise(n: Node): void {
    const c = this.c;
    const [a, b2, b3] = n.args;
    const bin = BINARY[n.op];
    const un = UNARY[n.op];
    if (bin) this.vec(a!, b2!).simd(bin);
    else if (un) this.vec(a!).simd(un);
    else if (n.op === 'stop_gradient') this.vec(a!);
    else if (n.op === 'exp') exp(c, this.vecLocal(a!));
    else if (n.op === 'log') log(c, this.vecLocal(a!));
    else if (n.op === 'log1p') log1p(c, this.vecLocal(a!));
    else if (n.op === 'sigmoid' || n.op === 'softplus') this.logistic(n.op, a!);
    else if (n.op === 'where') this.vec(b2!, b3!, a!).simd('bitselect');
    else if (n.op === 'clip') this.vec(a!, b2!).simd('f32x4_max').get(this.vecLocal(b3!)).simd('f32x4_min');
    else if (n.op === 'cast' && a!.dtype === 'bool' && n.dtype === 'float32') this.vec(a!).splat(1).simd('and');
    else if (n.op === 'cast' && a!.dtype === n.dtype) this.vec(a!);
    else if (n.op === 'pow' && wholePower(n) !== undefined) this.power(a!, wholePower(n)!);
    else if ((n.op === 'squeeze' || n.op === 'expand_dims') && this.kinds.get(n) === 'row') this.vec(a!);
    else throw new Refused(`unsupported op ${n.op}`);
    const l = c.local(V128);
    c.set(l);
    this.local.set(n, l);
  }

  /** exp(−|x|) of a node, once per loop (sigmoid and softplus of one value share it). */
  private readonly expNegAbs = new Map<Node, number>();

  private logistic(op: 'sigmoid' | 'softplus', a: Node): void {
    const c = this.c;
    const x = this.vecLocal(a);
    let e = this.expNegAbs.get(a);
    if (e === undefined) {
      const t = c.local(V128);
      c.get(x).simd('f32x4_abs').simd('f32x4_neg').set(t);
      exp(c, t);
      c.set((e = c.local(V128)));
      this.expNegAbs.set(a, e);
    }
    if (op === 'sigmoid') {
      // 1 / (1 + e) where x ≥ 0, else e / (1 + e)
      const r = c.local(V128);
      c.splat(1).splat(1).get(e).simd('f32x4_add').simd('f32x4_div').set(r);
      c.get(r).get(e).get(r).simd('f32x4_mul').get(x).splat(0).simd('f32x4_ge').simd('bitselect');
      return;
    }
    // max(x, 0) + log1p(e)
    c.get(x).splat(0).simd('f32x4_max');
    log1p(c, e);
    c.simd('f32x4_add');
  }

  private power(a: Node, p: number): void {
    const c = this.c;
    if (p < 0) c.splat(1);
    this.vec(a);
    for (let i = 1; i < Math.abs(p); i++) this.vec(a).simd('f32x4_mul');
    if (p < 0) c.simd('f32x4_div');
  }

  /** The element nodes a row reduction's argument needs (stopping at rows and constants), in order. */
  private elemDag(arg: Node): Node[] {
    const out: Node[] = [];
    const seen = new Set<Node>();
    const visit = (n: Node) => {
      if (seen.has(n) || this.kinds.get(n) !== 'elem') return;
      seen.add(n);
      n.args.forEach(visit);
      out.push(n);
    };
    visit(arg);
    return out;
  }

  /**
   * One pass over the columns of the current row: acc ← combine(acc, value of `arg`), or of
   * exp(arg − shift). Whole vectors of 4, then the last C mod 4 columns as one vector whose
   * other lanes (read past the row, never used) are replaced by the combine's identity.
   */
  private columns(arg: Node, acc: number, combine: SimdOp, shift?: number): void {
    const c = this.c;
    const dag = this.elemDag(arg);
    c.i32(0).set(this.col);
    c.get(this.fullBytes).when(() => c.loop(this.col, 16, this.fullBytes, () => this.step(dag, arg, acc, combine, shift, false)));
    c.get(this.cols).i32(3).op(OP.i32_and).when(() => this.step(dag, arg, acc, combine, shift, true));
  }

  /** One vector of the pass at column offset `col`; `last`: only the lanes of `restMask` counted. */
  private step(dag: Node[], arg: Node, acc: number, combine: SimdOp, shift: number | undefined, last: boolean): void {
    const c = this.c;
    this.expNegAbs.clear();
    for (const n of dag) {
      if (n.op === 'input') {
        const l = this.local.get(n) ?? c.local(V128);
        c.get(this.inputs.indexOf(n)).get(this.rowOff).op(OP.i32_add).get(this.col).op(OP.i32_add).load().set(l);
        this.local.set(n, l);
      } else {
        this.local.delete(n); // recomputed in this loop
        this.elementwise(n);
      }
    }
    c.get(acc);
    if (shift === undefined) this.vec(arg);
    else {
      const t = c.local(V128);
      this.vec(arg).get(shift).simd('f32x4_sub').set(t);
      exp(c, t);
    }
    if (last) {
      const t = c.local(V128);
      c.set(t).get(t).splat(IDENTITY[combine]!).get(this.restMask).simd('bitselect');
    }
    c.simd(combine).set(acc);
  }

  /** The four lanes of local `acc` combined by the f32 op `op`, splatted. */
  private horizontal(acc: number, op: number): void {
    const c = this.c;
    c.get(acc).simd('f32x4_extract', 0).get(acc).simd('f32x4_extract', 1).op(op);
    c.get(acc).simd('f32x4_extract', 2).get(acc).simd('f32x4_extract', 3).op(op).op(op);
    c.simd('f32x4_splat');
  }

  /** A row reduction over the last axis, into the node's local. */
  private rowReduce(n: Node): void {
    const c = this.c;
    const acc = c.local(V128);
    const out = c.local(V128);
    const arg = n.args[0]!;
    const init = (v: number) => c.splat(v).set(acc);
    if (n.op === 'sum' || n.op === 'mean') {
      init(0);
      this.columns(arg, acc, 'f32x4_add');
      this.horizontal(acc, OP.f32_add);
      if (n.op === 'mean') c.get(this.colsVec).simd('f32x4_div');
    } else if (n.op === 'max' || n.op === 'min') {
      init(n.op === 'max' ? -Infinity : Infinity);
      this.columns(arg, acc, n.op === 'max' ? 'f32x4_max' : 'f32x4_min');
      this.horizontal(acc, n.op === 'max' ? OP.f32_max : OP.f32_min);
    } else {
      // logsumexp: m = max, then m + log Σ exp(x − m)
      const m = c.local(V128);
      const s = c.local(V128);
      init(-Infinity);
      this.columns(arg, acc, 'f32x4_max');
      this.horizontal(acc, OP.f32_max);
      c.set(m);
      init(0);
      this.columns(arg, acc, 'f32x4_add', m);
      this.horizontal(acc, OP.f32_add);
      c.set(s);
      c.get(m);
      log(c, s);
      c.simd('f32x4_add');
    }
    c.set(out);
    this.local.set(n, out);
  }

  /** A float64 value of the tail (totals and constants) on the stack. */
  private scalar(...ns: Node[]): Code {
    for (const n of ns) {
      if (n.op === 'const') this.c.f64(n.attrs.value as number);
      else this.c.get(this.local.get(n)!);
    }
    return this.c;
  }

  private totalOp(n: Node): void {
    const c = this.c;
    const op = TOTAL[n.op];
    const [a, b2] = n.args;
    if (op !== undefined) this.scalar(a!, b2!).op(op);
    else if (n.op === 'neg') this.scalar(a!).op(OP.f64_neg);
    else if (n.op === 'pow' && wholePower(n) !== undefined) {
      const p = wholePower(n)!;
      if (p < 0) c.f64(1);
      this.scalar(a!);
      for (let i = 1; i < Math.abs(p); i++) this.scalar(a!).op(OP.f64_mul);
      if (p < 0) c.op(OP.f64_div);
    } else throw new Refused(`unsupported op on a total: ${n.op}`);
    const l = c.local(F64);
    c.set(l);
    this.local.set(n, l);
  }

  emit(order: readonly Node[]): Code {
    const c = this.c;
    const root = order[order.length - 1]!;
    const rows = order.filter((n) => this.kinds.get(n) === 'row');
    const totals = order.filter((n) => this.kinds.get(n) === 'total');
    const sums = totals.filter((n) => this.kinds.get(n.args[0]!) === 'row');
    // uniforms: in float64 from the constants and the size arguments, then splatted for the loops
    for (const u of order.filter((n) => this.kinds.get(n) === 'uniform')) {
      if (u.op !== 'size') this.totalOp(u);
      const v = c.local(V128);
      c.get(this.local.get(u)!).op(OP.f32_demote_f64).simd('f32x4_splat').set(v);
      this.splatted.set(u, v);
    }
    for (const t of sums) {
      const l = c.local(F64);
      c.f64(0).set(l);
      this.local.set(t, l);
    }
    const r = c.local(I32);
    const rowBytes = c.local(I32);
    c.get(this.cols).i32(2).op(OP.i32_shl).set(rowBytes);
    c.i32(0).set(r).i32(0).set(this.rowOff);
    c.loop(r, 1, this.rows, () => {
      for (const n of rows) {
        if (REDUCTIONS.has(n.op)) this.rowReduce(n);
        else this.elementwise(n);
      }
      for (const t of sums) c.get(this.local.get(t)!).get(this.local.get(t.args[0]!)!).simd('f32x4_extract', 0).op(OP.f64_promote_f32).op(OP.f64_add).set(this.local.get(t)!);
      c.get(this.rowOff).get(rowBytes).op(OP.i32_add).set(this.rowOff);
    });
    for (const t of totals) {
      if (!sums.includes(t)) this.totalOp(t);
      else if (t.op === 'mean') c.get(this.local.get(t)!).get(this.rows).op(OP.f64_convert_i32_u).op(OP.f64_div).set(this.local.get(t)!);
    }
    this.scalar(root);
    return c;
  }
}

/** A module and what its arguments are: the inputs' shape, and the dimensions each `size` multiplies. */
interface Built {
  module: WebAssembly.Module;
  shape: readonly Dim[];
  sizes: ReadonlyArray<readonly Dim[]>;
}

/** Compiled modules by root and inputs (hash-consed nodes: ids are structure; symbolic dimensions make one per shape signature). */
const modules = new Map<string, Built | null>();
const MODULE_LIMIT = 256;

/** The module for `root` over `inputs`, or null when the target does not cover it. */
function simdModule(root: Node, inputs: readonly Node[]): Built | null {
  const key = `${root.id}|${inputs.map((n) => n.id).join(',')}`;
  if (modules.has(key)) return modules.get(key)!;
  let mod: Built | null = null;
  try {
    mod = build(root, inputs);
  } catch (e) {
    if (!(e instanceof Refused || e instanceof WebAssembly.CompileError || e instanceof RangeError)) throw e;
  }
  if (modules.size >= MODULE_LIMIT) modules.delete(modules.keys().next().value!);
  modules.set(key, mod);
  return mod;
}

/** How many modules have been built (each `simdModule` that was not a cache hit and compiled), for tests and the bench. */
let built = 0;
export function simdModulesBuilt(): number {
  return built;
}

function build(root: Node, inputs: readonly Node[]): Built {
  if (typeof WebAssembly === 'undefined' || inputs.length === 0) throw new Refused('no WebAssembly');
  const shape = inputs[0]!.shape;
  if (shape.length < 2) throw new Refused('shape');
  if (!inputs.every((n) => sameShape(n.shape, shape))) throw new Refused('inputs of different shapes');
  const order = valueOrder(root);
  const kinds = classify(order, inputs, shape);
  const sizes = order.filter((n) => n.op === 'size');
  const code = new Emitter(kinds, inputs, sizes).emit(order);
  const module = new WebAssembly.Module(moduleBytes(code));
  built++;
  const axes = (n: Node) => (n.attrs.axes as readonly number[] | null) ?? n.args[0]!.shape.map((_, i) => i);
  return { module, shape, sizes: sizes.map((n) => axes(n).map((a) => n.args[0]!.shape[a]!)) };
}

/** The kernel of `mod` on `memory` (instances are made once per memory). */
const instances = new WeakMap<WebAssembly.Module, WeakMap<WebAssembly.Memory, (...args: number[]) => number>>();

function instance(mod: WebAssembly.Module, memory: WebAssembly.Memory): ((...args: number[]) => number) | null {
  let perMemory = instances.get(mod);
  if (!perMemory) instances.set(mod, (perMemory = new WeakMap()));
  let run = perMemory.get(memory);
  if (!run) {
    // a threaded build's heap is shared memory, which this module does not import
    if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) return null;
    try {
      run = new WebAssembly.Instance(mod, { m: { mem: memory } }).exports.run as (...args: number[]) => number;
    } catch (e) {
      if (e instanceof WebAssembly.LinkError) return null;
      throw e;
    }
    perMemory.set(memory, run);
  }
  return run;
}

const product = (ds: readonly Dim[], size: SizeOf) => ds.reduce((p: number, d) => p * size(d), 1);

/** The SIMD kernel of `root` over `inputs` on `memory` (one module for every binding of their sizes), or null where the target does not cover it. */
export function simdKernel(root: Node, inputs: readonly Node[], memory: WebAssembly.Memory): SimdKernel | null {
  const mod = simdModule(root, inputs);
  const f = mod && instance(mod.module, memory);
  if (!mod || !f) return null;
  const rowDims = mod.shape.slice(0, -1);
  const colDim = mod.shape[mod.shape.length - 1]!;
  // the arguments after the addresses, and the inputs' length, at the last call's sizes
  let last: { size: SizeOf; tail: number[]; n: number; slack: number } | undefined;
  const at = (size: SizeOf) => {
    const rows = product(rowDims, size);
    const cols = size(colDim);
    const n = rows * cols;
    // i32 arguments: a size past 2^31 is not a heap's (and NaN, an unbound symbol, fails too)
    if (!(rows >= 1 && cols >= 1 && 4 * n < 2 ** 31)) return undefined;
    // the last vector of a row that is not a multiple of 4 reads up to 12 bytes past it
    return (last = { size, tail: [rows, cols, ...mod.sizes.map((ds) => product(ds, size))], n, slack: cols % 4 === 0 ? 0 : 12 });
  };
  return {
    run(xs, size = exact) {
      const call = last?.size === size ? last : at(size);
      if (!call) return undefined;
      const { n, slack } = call;
      const args: number[] = [];
      for (const x of xs) {
        if (!(x instanceof Float32Array) || x.buffer !== memory.buffer || x.length !== n) return undefined;
        if (x.byteOffset + 4 * n + slack > memory.buffer.byteLength) return undefined;
        args.push(x.byteOffset);
      }
      return f(...args, ...call.tail);
    },
  };
}
