// Moving data between tfjs tensors and the fused kernels, without copies where the backend allows.
//
//   cpu   dataSync() hands out the tensor's own array, and a new tensor adopts the array it is
//         given: no copy either way.
//   wasm  dataSync() copies out of the wasm heap (a fresh 4 MB array per million floats, which
//         costs more than the arithmetic of a loss) and tf.tensor() copies back in. Instead we
//         read and write views of the heap: the same way the wasm backend's own kernels do.
//
// A heap view is valid only until the wasm heap grows (any tfjs allocation may grow it): read
// views right before the kernel runs, and make new tensors only after it has finished.

import * as tf from '@tensorflow/tfjs';

type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };

/** The parts of tfjs-backend-wasm's backend that its own kernels use (4.x). */
interface WasmHeapBackend {
  dataIdMap: { has(dataId: object): boolean };
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object): boolean;
}

function heapBackend(): WasmHeapBackend | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const b = tf.backend() as unknown as Partial<WasmHeapBackend>;
  const usable = typeof b.typedArrayFromHeap === 'function' && typeof b.makeOutput === 'function' && typeof b.disposeData === 'function' && b.dataIdMap !== undefined;
  return usable ? (b as WasmHeapBackend) : undefined;
}

/** tfjs-backend-wasm's heap (the memory its module exports), for kernels of our own that read it. */
export function wasmHeapMemory(): WebAssembly.Memory | undefined {
  if (!heapBackend()) return undefined;
  const mem = (tf.backend() as unknown as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  return typeof WebAssembly !== 'undefined' && mem instanceof WebAssembly.Memory ? mem : undefined;
}

/** The values of `x`, row-major: a view where the backend allows one, else a copy. */
export function readData(x: tf.Tensor): ArrayLike<number> {
  const heap = heapBackend();
  if (heap && x.dtype !== 'string' && x.dtype !== 'complex64' && heap.dataIdMap.has(x.dataId)) {
    return heap.typedArrayFromHeap(x as unknown as TensorInfo);
  }
  return x.dataSync() as ArrayLike<number>;
}

/** A float32 buffer for a kernel to write into, and then the tensor that owns it. */
export interface OutputBuffer {
  readonly data: Float32Array;
  /** The tensor holding `data` (call once, after the kernel has written it). */
  toTensor(): tf.Tensor;
  /** Give the memory back when no tensor will be made (the kernel failed). */
  discard(): void;
}

/** A new float32 output of `shape`: on the wasm heap where possible, else a plain array. */
export function newOutput(shape: number[]): OutputBuffer {
  const heap = heapBackend();
  if (heap) {
    const info = heap.makeOutput(shape, 'float32');
    return {
      data: heap.typedArrayFromHeap(info) as Float32Array,
      toTensor: () => tf.engine().makeTensorFromTensorInfo(info),
      discard: () => void heap.disposeData(info.dataId),
    };
  }
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  return { data, toTensor: () => tf.tensor(data, shape, 'float32'), discard: () => {} };
}
