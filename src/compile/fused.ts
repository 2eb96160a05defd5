// The fused-kernel target: from the checked IR of a loss (and its gradient), one specialised
// JavaScript function that computes every root in as few passes over the data as the
// reductions allow, on the tensors' CPU-side data. For backends that keep data on the CPU
// (cpu, wasm) this replaces one tfjs kernel (and one full-size intermediate tensor) per
// primitive by a handful of loops.
//
// How: nodes are split into targets (computed into buffers: roots, reductions, matmuls, concats,
// and shared or broadcast expensive subexpressions) and inlined nodes (evaluated as expressions
// inside the loop of the target that reads them); targets of one index space share a loop nest
// (fused-codegen/nests.ts, scope.ts, plan.ts), whose loops are merged where contiguous, and whose per-element values
// are hoisted to the outermost loop they depend on.
//
// Safety: the source is assembled only from fixed fragments, compiler-made identifiers and
// numbers checked to be numbers (fused-codegen/scalar.ts); no string from the IR's attributes
// (input names, param names) is ever written into it, and input data is passed as arguments.
// Where `new Function` is forbidden (a strict content-security policy) `fuse` returns null and
// the caller uses the op-by-op tfjs path.

import { LosscError } from '../errors.js';
import type { Node } from '../ir/node.js';
import { topoSort } from '../ir/node.js';
import { showShape } from '../ir/shape.js';
import { dims, isBufferLeaf, materialize, sizeOf, supported } from './fused-codegen/graph.js';
import { groupNests } from './fused-codegen/nests.js';
import { planNest } from './fused-codegen/plan.js';
import type { Ctx } from './fused-codegen/scope.js';
import { HELPERS, Unsupported, type Helper } from './fused-codegen/scalar.js';
import { blockedMatmul, columnSum, sparseMatmul } from './fused-codegen/sparse.js';

export interface FusedKernel {
  /** Shapes of the roots, in order. */
  readonly shapes: number[][];
  /** Shapes the inputs must have, in order. */
  readonly inputShapes: number[][];
  /** The generated JavaScript (for debugging and tests). */
  readonly source: string;
  /** Number of loop nests (passes over distinct index spaces) the kernel runs. */
  readonly nests: number;
  /**
   * Compute every root. `inputs`: one array per input, row-major, already in the input node's
   * dtype (float data for float inputs, whole numbers for int, 0/1 for bool). Returns one
   * row-major Float32Array per root (bools as 0/1, ints as floats). `outs`, where given, are
   * the arrays to write the roots into (one per root, of its size; a missing one is allocated).
   */
  run(inputs: readonly ArrayLike<number>[], outs?: readonly (Float32Array | undefined)[]): Float32Array[];
}

/** Whether `new Function` may be used here: undefined until first tried. */
let codegenAllowed: boolean | undefined;

/** Can generated code run in this environment (no CSP forbidding `new Function`)? Cached. */
export function fusedCodegenAvailable(): boolean {
  if (codegenAllowed === undefined) {
    try {
      codegenAllowed = new Function('return 1')() === 1;
    } catch (e) {
      if (!(e instanceof EvalError)) throw e;
      codegenAllowed = false;
    }
  }
  return codegenAllowed;
}

let refusal: string | undefined;

/** Why the last `fuse` call returned null (undefined when it did not). */
export function lastFuseRefusal(): string | undefined {
  return refusal;
}

/** For tests: forget the cached answer of fusedCodegenAvailable. */
export function resetFusedCodegenProbe(): void {
  codegenAllowed = undefined;
  kernels.clear();
}

/**
 * Compile `roots` (reading `inputs`, in order) to one fused JavaScript kernel. Returns null when
 * the graph uses an op the fused target does not know, a shape is not concrete, or generated
 * code is not allowed here; the caller then uses the tfjs plan.
 */
/** Kernels already generated, by their (hash-consed, immutable) roots and inputs. */
const kernels = new Map<string, { kernel: FusedKernel | null; refusal?: string }>();
const KERNEL_LIMIT = 256;

export function fuse(roots: readonly Node[], inputs: readonly Node[]): FusedKernel | null {
  const key = `${roots.map((r) => r.id).join(',')}|${inputs.map((r) => r.id).join(',')}`;
  const hit = kernels.get(key);
  if (hit) {
    refusal = hit.refusal;
    return hit.kernel;
  }
  const kernel = fuseUncached(roots, inputs);
  if (kernels.size >= KERNEL_LIMIT) kernels.delete(kernels.keys().next().value!);
  kernels.set(key, { kernel, refusal });
  return kernel;
}

function fuseUncached(roots: readonly Node[], inputs: readonly Node[]): FusedKernel | null {
  refusal = undefined;
  const refuse = (why: string) => {
    refusal = why;
    return null;
  };
  if (!fusedCodegenAvailable()) return refuse('generated code is not allowed here (new Function)');
  // Anything reachable at all must be an op we know (a newer op: leave it to the tfjs path).
  for (const n of topoSort(roots)) {
    if (!supported(n)) return refuse(`unsupported op ${String(n.op)}`);
    if (!n.shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) return refuse('symbolic shape');
  }
  let built: Built;
  try {
    built = generate(roots, inputs);
  } catch (e) {
    if (e instanceof Unsupported) return refuse(e.message);
    if (e instanceof RangeError) return refuse(`graph too deep: ${e.message}`);
    throw e;
  }
  let factory: (consts: Float64Array[]) => (outs: Float32Array[], ...xs: ArrayLike<number>[]) => void;
  try {
    factory = new Function('K', built.source) as typeof factory;
  } catch (e) {
    if (e instanceof EvalError) {
      codegenAllowed = false;
      return refuse('generated code is not allowed here (new Function)');
    }
    throw e;
  }
  const kernel = factory(built.consts);
  const { inputShapes, inputSizes, rootSlots, slotSizes } = built;
  return {
    shapes: roots.map((r) => dims(r)),
    inputShapes,
    source: built.source,
    nests: built.nests,
    run(xs: readonly ArrayLike<number>[], outs?: readonly (Float32Array | undefined)[]): Float32Array[] {
      if (xs.length !== inputSizes.length) {
        throw new LosscError('arity', `the fused kernel takes ${inputSizes.length} input(s), got ${xs.length}`);
      }
      xs.forEach((x, i) => {
        if (x.length !== inputSizes[i]) {
          throw new LosscError('value', `input ${i} should have shape ${showShape(inputShapes[i]!)} (${inputSizes[i]} values), got ${x.length} values`);
        }
      });
      // One array per distinct root (a root given twice is computed once, then copied): the
      // first array given for it, else a new one. Each array is handed back to one root only.
      const given = rootSlots.map((s, i) => checkedOutput(outs, i, slotSizes[s]!));
      const slots: Float32Array[] = [];
      const owner: number[] = []; // slot -> the root whose given array it is
      rootSlots.forEach((s, i) => {
        if (slots[s] === undefined && given[i]) [slots[s], owner[s]] = [given[i]!, i];
      });
      slotSizes.forEach((n, s) => (slots[s] ??= new Float32Array(n)));
      kernel(slots, ...xs);
      const handed = new Set<number>();
      return rootSlots.map((s, i) => {
        if (owner[s] === i || (owner[s] === undefined && !handed.has(s))) {
          handed.add(s);
          return slots[s]!;
        }
        const o = given[i] ?? new Float32Array(slotSizes[s]!);
        o.set(slots[s]!);
        return o;
      });
    },
  };
}

/** The array given for root i, checked to have the root's size. */
function checkedOutput(outs: readonly (Float32Array | undefined)[] | undefined, i: number, size: number): Float32Array | undefined {
  const o = outs?.[i];
  if (o !== undefined && o.length !== size) throw new LosscError('value', `output ${i} should hold ${size} values, got ${o.length}`);
  return o;
}

interface Built {
  source: string;
  consts: Float64Array[];
  inputShapes: number[][];
  inputSizes: number[];
  /** For each root, which of the kernel's outputs it is (a root given twice shares one). */
  rootSlots: number[];
  /** Size of each distinct root. */
  slotSizes: number[];
  nests: number;
}

function generate(roots: readonly Node[], inputs: readonly Node[]): Built {
  const bound = new Map<Node, number>();
  inputs.forEach((n, i) => {
    if (!bound.has(n)) bound.set(n, i);
  });
  const boundSet = new Set(bound.keys());
  for (const n of topoSort(roots)) {
    if (n.op === 'input' && !bound.has(n)) {
      // A name, in an error message only (never in generated code).
      throw new LosscError('usage', `the formula reads \`${String(n.attrs.name)}\`, which was not given`);
    }
  }
  const m = materialize(roots, boundSet);
  const graph = { bound, boundSet, targets: m.targetSet, index: m.index };
  const { nests, itemsOf } = groupNests(graph, m.targets);

  // Names: every identifier is made here from a counter or an index.
  let counter = 0;
  const fresh = (prefix: string) => `${prefix}${counter++}`;
  const consts: Float64Array[] = [];
  const constName = new Map<Node, string>();
  const tempName = new Map<Node, string>();
  const read = new Set<Node>();
  const helpers = new Set<Helper>();
  const scratch: number[] = [];
  const uniqueRoots = [...new Set(roots)];
  const outName = new Map<Node, string>(uniqueRoots.map((r, i) => [r, `r${i}`]));

  const ctx: Ctx = {
    g: graph,
    itemsOf,
    leafName(n) {
      const i = bound.get(n);
      if (i !== undefined) return `x${i}`;
      let name = constName.get(n);
      if (!name) {
        name = `k${consts.length}`;
        consts.push(literalTensor(n));
        constName.set(n, name);
      }
      return name;
    },
    readName(n) {
      read.add(n);
      let name = tempName.get(n);
      if (!name) tempName.set(n, (name = `b${tempName.size}`));
      return name;
    },
    storeNames(n) {
      const names: string[] = [];
      const o = outName.get(n);
      if (o) names.push(o);
      if (read.has(n)) names.push(tempName.get(n)!);
      return names;
    },
    useHelper: (h) => helpers.add(h),
    fresh,
    scratch(size) {
      scratch.push(size);
      return `w${scratch.length - 1}`;
    },
  };

  const renderers = nests.map((nest) => sparseMatmul(ctx, nest) ?? blockedMatmul(ctx, nest) ?? columnSum(ctx, nest) ?? planNest(ctx, nest));
  const body = renderers.flatMap((r) => r());

  const inputShapes = inputs.map((n) => dims(n));
  const source = assemble({ consts, helpers, tempName, scratch, inputs: inputs.length, uniqueRoots, outName, body });
  return {
    source,
    consts,
    inputShapes,
    inputSizes: inputShapes.map(sizeOf),
    rootSlots: roots.map((r) => uniqueRoots.indexOf(r)),
    slotSizes: uniqueRoots.map((r) => sizeOf(dims(r))),
    nests: nests.length,
  };
}

/** The kernel's source: constants, helpers, buffers and scratch arrays, then the function running the nests. */
function assemble(k: {
  consts: readonly Float64Array[];
  helpers: ReadonlySet<Helper>;
  tempName: ReadonlyMap<Node, string>;
  scratch: readonly number[];
  inputs: number;
  uniqueRoots: readonly Node[];
  outName: ReadonlyMap<Node, string>;
  body: readonly string[];
}): string {
  const { consts, helpers, tempName, scratch, inputs, uniqueRoots, outName, body } = k;
  const src: string[] = ['"use strict";'];
  consts.forEach((_, i) => src.push(`const k${i} = K[${i}];`));
  for (const h of [...helpers].sort()) src.push(HELPERS[h]);
  for (const [n, name] of tempName) {
    const size = sizeOf(dims(n));
    src.push(`const ${name} = new ${n.dtype === 'bool' ? 'Uint8Array' : 'Float64Array'}(${size});`);
  }
  scratch.forEach((size, i) => src.push(`const w${i} = new Float64Array(${sizeOf([size])});`));
  src.push(`return function fused(outs${Array.from({ length: inputs }, (_, i) => `, x${i}`).join('')}) {`);
  uniqueRoots.forEach((r, i) => src.push(`  const ${outName.get(r)} = outs[${i}];`));
  src.push(...body);
  src.push('};');
  return src.join('\n');
}

/** The values of a literal tensor (a `tensor` node or a vector `param`), checked to be numbers. */
function literalTensor(n: Node): Float64Array {
  if (!isBufferLeaf(n, new Set())) throw new Unsupported(`not a literal tensor: ${n.op}`);
  const values = n.op === 'tensor' ? n.attrs.values : n.attrs.value;
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'number')) throw new Unsupported('literal values');
  if (values.length !== sizeOf(dims(n))) throw new Unsupported('literal size');
  return Float64Array.from(values as number[]);
}
