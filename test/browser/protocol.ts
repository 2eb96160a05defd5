// What test/browser.test.ts sends the page (test/browser/page.ts) and what the page answers.

export type Nested = number | Nested[];

export interface LossCase {
  name: string;
  options: Record<string, unknown>;
  yTrue: Nested;
  yPred: Nested;
}

export interface FitSpec {
  x: number[][];
  y: number[][];
  /** Initial weights of dense(tanh) → dense: kernel1, bias1, kernel2, bias2. */
  weights: Array<{ values: number[]; shape: number[] }>;
  epochs: number;
  learningRate: number;
}

export interface Request {
  backends: string[];
  cases: LossCase[];
  /** A user's `compile`d source, its loss name, inputs. */
  user: { source: string; loss: string; options: Record<string, unknown>; yTrue: Nested; yPred: Nested };
  fit: FitSpec;
}

export interface ValueGrad {
  value: number;
  grad: number[];
}

export interface BackendAnswer {
  backend: string;
  /** tf.backend().epsilon() and floatPrecision() as tfjs reports them. */
  epsilon: number;
  floatPrecision: number;
  cases: ValueGrad[];
  user: ValueGrad;
  /** Keras's clipping at the exact ends: binary_crossentropy at p = 0 and 1, and clip(p, epsilon, 1 - epsilon). */
  clipping: { bce: number[]; clipped: number[] };
  /** Loss per epoch of each training (test/browser/work.ts FITS): a softmax layer or logits, lossc's loss or tfjs's. */
  fit: Record<'lossc-softmax' | 'tfjs-softmax' | 'lossc-logits' | 'tfjs-logits', number[]>;
  /** Tensors left behind by everything above. */
  leaked: number;
  /** Whether the fused path could generate code here, and why it stepped aside if not. */
  fusedAvailable: boolean;
  fusedRefusal: string | null;
  millis: number;
  /** The WebGL target against op by op (webgl, on the page without a CSP only). */
  webglFused?: FusedAnswer;
}

export interface FusedAnswer {
  cases: FusedCase[];
  /** Elementwise formulas on overflowing, zero, negative, infinite and NaN inputs (test/browser/webgl-fused.ts), as strings. */
  specials: Record<string, string[]>;
}

export interface FusedCounts {
  /** Kernels tf.profile lists, lossc's programs among them, and every GPU program run (unpacking included). */
  kernels: number;
  fused: number;
  programs: number;
}

/** One loss, value + gradient at [256, 16]: the WebGL target on, off, and the tfjs built-in (if any). */
export interface FusedCase {
  name: string;
  fused: ValueGrad;
  opByOp: ValueGrad;
  builtin?: ValueGrad;
  counts: { fused: FusedCounts; opByOp: FusedCounts; builtin?: FusedCounts };
  millis: { fused: number; opByOp: number; builtin?: number };
}

export interface Answer {
  backends: BackendAnswer[];
  /** Imports in a browser: with a resolver, without one, and files. */
  imports: { resolved: number; unresolved: { kind: string; line: number | null; message: string }; files: { kind: string; message: string }; root: { kind: string; message: string } };
}
