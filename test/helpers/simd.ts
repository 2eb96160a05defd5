// Helpers of the WebAssembly SIMD target's tests (wasm-simd.test.ts, simd-polymorphic.test.ts):
// inputs written into a memory of our own, the kernel's value there, the float64 reference.
import { expect } from 'vitest';
import { simdKernel, type SizeOf } from '../../src/compile/wasm-simd/simd.js';
import { evaluate } from '../../src/eval/reference.js';
import { fromData, type NdArray } from '../../src/eval/ndarray.js';
import type { Node } from '../../src/ir/node.js';

/** A memory of our own, the inputs written into it at unaligned addresses (as a heap might hold them). */
export function inMemory(data: Float32Array[]): { memory: WebAssembly.Memory; views: Float32Array[] } {
  const bytes = data.reduce((s, d) => s + d.length * 4 + 16, 64);
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
  let at = 4; // not 16-aligned
  const views = data.map((d) => {
    const v = new Float32Array(memory.buffer, at, d.length);
    v.set(d);
    at += d.length * 4 + 4;
    return v;
  });
  return { memory, views };
}

/** The SIMD value of `root` over inputs with `data` (at the sizes `size` binds), or null when the target refuses it. */
export function simdValue(root: Node, inputs: Node[], data: Float32Array[], size?: SizeOf): number | null {
  const { memory, views } = inMemory(data);
  const k = simdKernel(root, inputs, memory);
  if (!k) return null;
  const v = k.run(views, size);
  expect(v).toBeTypeOf('number');
  return v!;
}

/** The float64 reference value of `root` (its inputs at `shapes`, by default their own). */
export function reference(root: Node, inputs: Node[], data: Float32Array[], shapes = inputs.map((n) => n.shape as number[])): number {
  const bound: Record<string, NdArray> = {};
  inputs.forEach((n, i) => (bound[n.attrs.name as string] = fromData(shapes[i]!, data[i]!)));
  return evaluate([root], bound)[0]!.data[0]!;
}

export function close(got: number, want: number, rtol: number, atol = 0): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= atol + rtol * Math.abs(want);
}
