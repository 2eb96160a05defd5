// The scratch memory of fused kernels: buffers a call's intermediate values live in, taken for the
// call and given back when it ends. Between calls the pool keeps at most KEEP_BYTES of free
// buffers (small calls then allocate nothing); anything larger goes back to the garbage
// collector. So the memory a loss holds between calls does not grow with the number or the size
// of the shapes it has seen: a kernel owns no scratch of its own.

/** Free bytes kept between calls, at most. */
export const KEEP_BYTES = 8 << 20;

/** Buffers up to this size are rounded up to a power of two, so nearby sizes share one. */
const ROUND_BELOW = 1 << 20;

export type ScratchKind = 'f32' | 'f64' | 'u8';
export type Scratch = Float32Array | Float64Array | Uint8Array;

const BYTES: Record<ScratchKind, number> = { f32: 4, f64: 8, u8: 1 };

/** A free buffer, with the views of it handed out before (a steady shape reuses its view objects). */
interface Buffer {
  buf: ArrayBuffer;
  views: Map<string, Scratch>;
}

const free: Buffer[] = [];
let freeBytes = 0;
let taken = 0;

function roundUp(bytes: number): number {
  if (bytes >= ROUND_BELOW) return bytes;
  let b = 64;
  while (b < bytes) b *= 2;
  return b;
}

const VIEWS_KEPT = 4;

function viewOf(b: Buffer, kind: ScratchKind, n: number): Scratch {
  const key = `${kind}${n}`;
  let v = b.views.get(key);
  if (!v) {
    v = kind === 'f32' ? new Float32Array(b.buf, 0, n) : kind === 'f64' ? new Float64Array(b.buf, 0, n) : new Uint8Array(b.buf, 0, n);
    if (b.views.size >= VIEWS_KEPT) b.views.clear();
    b.views.set(key, v);
  }
  return v;
}

/** Run `f` with `take`, which hands out buffers of `n` elements valid until `f` returns. */
export function withScratch<T>(f: (take: (kind: ScratchKind, n: number) => Scratch) => T): T {
  const mine: Buffer[] = [];
  const take = (kind: ScratchKind, n: number): Scratch => {
    const bytes = roundUp(Math.max(1, n) * BYTES[kind]);
    // The smallest free buffer that fits (the list is short: at most KEEP_BYTES of small buffers).
    let best = -1;
    for (let i = 0; i < free.length; i++) {
      const l = free[i]!.buf.byteLength;
      if (l >= bytes && (best < 0 || l < free[best]!.buf.byteLength)) best = i;
    }
    let b: Buffer;
    if (best >= 0) {
      b = free[best]!;
      free[best] = free[free.length - 1]!; // order does not matter: every take scans them all
      free.pop();
      freeBytes -= b.buf.byteLength;
    } else b = { buf: new ArrayBuffer(bytes), views: new Map() };
    mine.push(b);
    taken++;
    return viewOf(b, kind, n);
  };
  try {
    return f(take);
  } finally {
    taken -= mine.length;
    for (const b of mine) {
      free.push(b);
      freeBytes += b.buf.byteLength;
    }
    if (freeBytes > KEEP_BYTES) {
      // Keep the smallest, up to the bound; the rest is garbage once this call's views are.
      free.sort((a, b) => a.buf.byteLength - b.buf.byteLength);
      let n = 0;
      freeBytes = 0;
      while (n < free.length && freeBytes + free[n]!.buf.byteLength <= KEEP_BYTES) freeBytes += free[n++]!.buf.byteLength;
      free.length = n;
    }
  }
}

/** What the pool holds right now: bytes kept free between calls, and buffers taken by running calls. */
export function scratchHeld(): { freeBytes: number; taken: number } {
  return { freeBytes, taken };
}
