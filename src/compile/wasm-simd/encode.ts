// The WebAssembly binary format, as much of it as the SIMD value kernels need: one function of
// i32 and f64 parameters (addresses and sizes) returning an f64, reading a memory it imports
// (tfjs-backend-wasm's heap).
// Instructions are appended to a Code as bytes; only numbers made here ever enter a module.

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
/** i32, f64, v128 (f32 0x7d is not needed: row values live splatted in v128s) */
export type ValType = typeof I32 | typeof F64 | typeof V128;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const bytesOf = (a: Float32Array | Float64Array) => [...new Uint8Array(a.buffer)];
const name = (s: string) => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** The SIMD instructions used (0xfd prefix), by name. */
export const SIMD = {
  load: 0x00, const: 0x0c, i32x4_splat: 0x11, f32x4_splat: 0x13, f32x4_extract: 0x1f, i32x4_lt_s: 0x39, f32x4_eq: 0x41,
  f32x4_ne: 0x42, f32x4_lt: 0x43, f32x4_gt: 0x44, f32x4_le: 0x45, f32x4_ge: 0x46, not: 0x4d,
  and: 0x4e, or: 0x50, bitselect: 0x52, f32x4_floor: 0x68, f32x4_nearest: 0x6a, i32x4_shl: 0xab,
  i32x4_shr_s: 0xac, i32x4_add: 0xae, i32x4_sub: 0xb1, f32x4_abs: 0xe0, f32x4_neg: 0xe1, f32x4_sqrt: 0xe3,
  f32x4_add: 0xe4, f32x4_sub: 0xe5, f32x4_mul: 0xe6, f32x4_div: 0xe7, f32x4_min: 0xe8, f32x4_max: 0xe9,
  i32x4_trunc_sat_f32x4_s: 0xf8, f32x4_convert_i32x4_s: 0xfa,
} as const;
export type SimdOp = keyof typeof SIMD;

/** Plain (non-SIMD) opcodes used. */
export const OP = {
  block: 0x02, loop: 0x03, if: 0x04, end: 0x0b, br_if: 0x0d, i32_add: 0x6a, i32_and: 0x71,
  i32_shl: 0x74, i32_shr_u: 0x76, i32_lt_u: 0x49, f32_add: 0x92, f32_min: 0x96, f32_max: 0x97,
  f64_neg: 0x9a, f64_add: 0xa0, f64_sub: 0xa1, f64_mul: 0xa2, f64_div: 0xa3, f64_min: 0xa4,
  f64_max: 0xa5, f32_convert_i32_u: 0xb3, f32_demote_f64: 0xb6, f64_convert_i32_u: 0xb8, f64_promote_f32: 0xbb,
} as const;

/** One function body being written: its locals (after the parameters) and its instructions. */
export class Code {
  readonly bytes: number[] = [];
  private readonly locals: ValType[] = [];
  constructor(readonly params: readonly ValType[]) {}

  local(type: ValType): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }
  op(code: number): this {
    this.bytes.push(code);
    return this;
  }
  simd(op: SimdOp, ...imm: number[]): this {
    this.bytes.push(0xfd, ...uleb(SIMD[op]), ...imm);
    return this;
  }
  get(i: number): this {
    this.bytes.push(0x20, ...uleb(i));
    return this;
  }
  set(i: number): this {
    this.bytes.push(0x21, ...uleb(i));
    return this;
  }
  tee(i: number): this {
    this.bytes.push(0x22, ...uleb(i));
    return this;
  }
  i32(v: number): this {
    this.bytes.push(0x41, ...sleb(v | 0));
    return this;
  }
  f64(v: number): this {
    this.bytes.push(0x44, ...bytesOf(Float64Array.of(v)));
    return this;
  }
  /** An f32x4 constant with every lane `v`. */
  splat(v: number): this {
    return this.simd('const', ...bytesOf(Float32Array.of(v, v, v, v)));
  }
  /** An i32x4 constant with every lane `v`. */
  splatInt(v: number): this {
    return this.simd('const', ...new Uint8Array(Int32Array.of(v, v, v, v).buffer));
  }
  /** The i32x4 constant [0, 1, 2, 3] (lane indices). */
  laneIndices(): this {
    return this.simd('const', ...new Uint8Array(Int32Array.of(0, 1, 2, 3).buffer));
  }
  /** v128.load of the address on the stack (any alignment). */
  load(): this {
    return this.simd('load', 0, 0);
  }
  /** A counted loop: `body` runs while local `i` (stepped by `step` after each run) < local `end` (i starts at its current value; runs at least once). */
  loop(i: number, step: number, end: number, body: () => void): this {
    this.op(OP.block).op(0x40).op(OP.loop).op(0x40);
    body();
    this.get(i).i32(step).op(OP.i32_add).tee(i).get(end).op(OP.i32_lt_u).op(OP.br_if).bytes.push(0);
    return this.op(OP.end).op(OP.end);
  }
  /** `body` where the i32 on the stack is not 0. */
  when(body: () => void): this {
    this.op(OP.if).op(0x40);
    body();
    return this.op(OP.end);
  }

  /** The function body: locals declared one by one, the instructions, end. */
  body(): number[] {
    const decl = [...uleb(this.locals.length), ...this.locals.flatMap((t) => [1, t])];
    const all = [...decl, ...this.bytes, OP.end];
    return [...uleb(all.length), ...all];
  }
}

/** A module of one exported function `run(...params) -> f64`, importing memory `m.mem`. */
export function moduleBytes(code: Code): Uint8Array<ArrayBuffer> {
  const type = section(1, [1, 0x60, ...uleb(code.params.length), ...code.params, 1, F64]);
  const imports = section(2, [1, ...name('m'), ...name('mem'), 0x02, 0x00, 0x00]);
  const funcs = section(3, [1, 0]);
  const exports = section(7, [1, ...name('run'), 0x00, 0]);
  const codes = section(10, [1, ...code.body()]);
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...type, ...imports, ...funcs, ...exports, ...codes]);
}
