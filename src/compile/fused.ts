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
import { showShape, type Dim, type DType } from '../ir/shape.js';
import { dims, isBufferLeaf, materialize, sizeOf, supported } from './fused-codegen/graph.js';
import { groupNests } from './fused-codegen/nests.js';
import { planNest, unrollMarked } from './fused-codegen/plan.js';
import { withScratch, type Scratch, type ScratchKind } from './fused-codegen/pool.js';
import { storedAsFloat32, type Ctx } from './fused-codegen/scope.js';
import { HELPERS, lit, Unsupported, type Helper } from './fused-codegen/scalar.js';
import { SizeBinding } from './fused-codegen/binding.js';
import { atomsOf, type Poly, type Sz } from './fused-codegen/size.js';
import { columnSum, sparseMatmuls } from './fused-codegen/sparse.js';
import { blockedMatmul } from './fused-codegen/matmul.js';
import { shareBuffers } from './fused-codegen/alias.js';

export interface FusedKernel {
  /** Shapes of the roots, in order (symbols where the kernel takes its sizes at run time). */
  readonly shapes: Dim[][];
  /** Shapes the inputs must have, in order (likewise). */
  readonly inputShapes: Dim[][];
  /** The roots it computes. */
  readonly roots: readonly Node[];
  /** Whether it takes its sizes at run time (one kernel for every binding of its symbols). */
  readonly symbolic: boolean;
  /** The roots' shapes for inputs of these shapes. */
  shapesAt(inputShapes: readonly (readonly number[])[]): number[][];
  /** The scratch buffers a call with inputs of these shapes takes from the pool: kind and elements. */
  scratchAt(inputShapes: readonly (readonly number[])[]): Array<{ kind: ScratchKind; size: number }>;
  /** The generated JavaScript (for debugging and tests). */
  readonly source: string;
  /** Number of loop nests (passes over distinct index spaces) the kernel runs. */
  readonly nests: number;
  /**
   * Compute every root. `inputs`: one array per input, row-major, already in the input node's
   * dtype (float data for float inputs, whole numbers for int, 0/1 for bool). Returns one
   * row-major Float32Array per root (bools as 0/1, ints as floats). `outs`, where given, are
   * the arrays to write the roots into (one per root, of its size; a missing one is allocated).
   * `shapes`: the inputs' shapes, needed when the kernel is symbolic. Scratch comes from the
   * call's pool (pool.ts) and is given back before it returns.
   */
  run(inputs: readonly ArrayLike<number>[], outs?: readonly (Float32Array | undefined)[], shapes?: readonly (readonly number[])[]): Float32Array[];
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

/** How many kernels have been generated (each `fuse` that was not a cache hit), for tests. */
let generated = 0;
export function fusedKernelsGenerated(): number {
  return generated;
}

type Factory = (consts: Float64Array[]) => (outs: Float32Array[], sizes: number[], temps: Scratch[], ...xs: ArrayLike<number>[]) => void;

function fuseUncached(roots: readonly Node[], inputs: readonly Node[]): FusedKernel | null {
  refusal = undefined;
  const refuse = (why: string) => {
    refusal = why;
    return null;
  };
  if (!fusedCodegenAvailable()) return refuse('generated code is not allowed here (new Function)');
  // Anything reachable at all must be an op we know (a newer op: leave it to the tfjs path), and
  // every size a number or a polynomial over a signature's symbols (size.ts).
  let built: Built;
  try {
    for (const n of topoSort(roots)) {
      if (!supported(n)) return refuse(`unsupported op ${String(n.op)}`);
      dims(n);
    }
    generated++;
    built = generate(roots, inputs);
  } catch (e) {
    if (e instanceof Unsupported) return refuse(e.message);
    if (e instanceof RangeError) return refuse(`graph too deep: ${e.message}`);
    throw e;
  }
  let factory: Factory;
  try {
    factory = new Function('K', built.source) as Factory;
  } catch (e) {
    if (e instanceof EvalError) {
      codegenAllowed = false;
      return refuse('generated code is not allowed here (new Function)');
    }
    throw e;
  }
  return kernelOf(built, factory(built.consts), roots);
}

/** The kernel's `run`: the call's sizes bound from its input shapes, scratch from the pool. */
function kernelOf(built: Built, kernel: ReturnType<Factory>, roots: readonly Node[]): FusedKernel {
  const { inputDims, rootSlots, slotDims, atoms, temps } = built;
  const symbolic = atoms.length > 0 || inputDims.some((ds) => ds.some((d) => typeof d !== 'number'));
  // The sizes a call needs: its inputs', its roots', its scratch buffers' (in that order).
  const nIn = inputDims.length;
  const nSlots = slotDims.length;
  const binding = new SizeBinding(atoms, inputDims, [...inputDims.map(sizeOf), ...slotDims.map(sizeOf), ...temps.map((t) => t.size)]);
  const concrete = inputDims.map((ds) => ds as number[]);
  let rootDims: SizeBinding | undefined;
  return {
    roots,
    shapes: roots.map((r) => [...r.shape]),
    inputShapes: inputDims.map((ds) => ds.map((d) => (typeof d === 'number' ? d : d.key))),
    source: built.source,
    nests: built.nests,
    symbolic,
    shapesAt: (shapes) => {
      const flat = (rootDims ??= new SizeBinding(atoms, inputDims, slotDims.flat())).bind(shapes).sizes;
      let at = 0;
      const bySlot = slotDims.map((ds) => ds.map(() => flat[at++]!));
      return rootSlots.map((s) => bySlot[s]!);
    },
    scratchAt: (shapes) => {
      const { sizes } = binding.bind(shapes);
      return temps.map((t, i) => ({ kind: t.kind, size: sizes[nIn + nSlots + i]! }));
    },
    run(xs, outs, shapes) {
      if (xs.length !== nIn) throw new LosscError('arity', `the fused kernel takes ${nIn} input(s), got ${xs.length}`);
      if (!shapes && symbolic) throw new LosscError('usage', 'a kernel at symbolic sizes needs the shapes of its inputs');
      const { atoms: sizeArgs, sizes } = binding.bind(shapes ?? concrete);
      for (let i = 0; i < nIn; i++) {
        if (xs[i]!.length !== sizes[i]) {
          const shape = shapes?.[i] ?? concrete[i]!;
          throw new LosscError('value', `input ${i} should have shape ${showShape(shape)} (${sizes[i]} values), got ${xs[i]!.length} values`);
        }
      }
      const slotSizes = sizes.slice(nIn, nIn + nSlots);
      // One array per distinct root (a root given twice is computed once, then copied): the
      // first array given for it, else a new one. Each array is handed back to one root only.
      const given = rootSlots.map((s, i) => checkedOutput(outs, i, slotSizes[s]!));
      const slots: Float32Array[] = [];
      const owner: number[] = []; // slot -> the root whose given array it is
      rootSlots.forEach((s, i) => {
        if (slots[s] === undefined && given[i]) [slots[s], owner[s]] = [given[i]!, i];
      });
      slotSizes.forEach((n, s) => (slots[s] ??= new Float32Array(n)));
      if (temps.length === 0) kernel(slots, sizeArgs, [], ...xs);
      else withScratch((take) => kernel(slots, sizeArgs, temps.map((t, i) => take(t.kind, sizes[nIn + nSlots + i]!)), ...xs));
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
  inputDims: Sz[][];
  /** For each root, which of the kernel's outputs it is (a root given twice shares one). */
  rootSlots: number[];
  /** Shape of each distinct root. */
  slotDims: Sz[][];
  /** The size atoms the kernel takes (symbols, quotients), in order. */
  atoms: string[];
  /** The scratch buffers it takes per call: the targets' buffers, then per-row scratch. */
  temps: Array<{ kind: ScratchKind; size: Sz }>;
  nests: number;
}

/**
 * Buffers per dtype: float32 targets in float32 (what tfjs computes in; they may be as large as
 * the inputs) where `storedAsFloat32` says (scope.ts rounds their values alike), the others and
 * ints in float64, bools as bytes. Per-row scratch (softmax's exponentials) stays float64:
 * a row is small, and reading it back as float32 measured slower.
 */
const SCRATCH_KIND: Record<DType, ScratchKind> = { float32: 'f64', int32: 'f64', bool: 'u8' };

// size: one closure per Ctx method, each a few lines; splitting would scatter the name tables
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
  const scratch: Sz[] = [];
  const sizes = new SizeNames();
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
    size: (sz) => sizes.code(sz),
  };

  const scatters = sparseMatmuls(ctx, nests);
  const renderers = nests.map((nest) => scatters.get(nest) ?? blockedMatmul(ctx, nest) ?? columnSum(ctx, nest) ?? planNest(ctx, nest));
  const rendered = renderers.map((r, i) => ({ nest: nests[i]!, lines: r() }));
  const bufs = [...tempName].map(([n, name]) => ({ name, kind: storedAsFloat32(n) ? ('f32' as const) : SCRATCH_KIND[n.dtype], size: sizeOf(dims(n)) }));
  const shared = shareBuffers(rendered, bufs);
  const body = unrollMarked(shared.blocks.flatMap((b) => b.lines));

  const temps = [...shared.temps.map(({ kind, size }) => ({ kind, size })), ...scratch.map((size) => ({ kind: 'f64' as const, size }))];
  const tempNames = [...shared.temps.map((t) => t.name), ...scratch.map((_, i) => `w${i}`)];
  const source = assemble({ consts, helpers, sizes, tempNames, inputs: inputs.length, uniqueRoots, outName, body });
  return {
    source,
    consts,
    inputDims: inputs.map((n) => dims(n)),
    rootSlots: roots.map((r) => uniqueRoots.indexOf(r)),
    slotDims: uniqueRoots.map((r) => dims(r)),
    atoms: sizes.atoms,
    temps,
    nests: nests.length,
  };
}

/** The sizes a kernel's code uses: its atoms (arguments `n0`, ...) and the products and sums of them (`z0`, ...). */
class SizeNames {
  readonly atoms: string[] = [];
  private readonly names = new Map<string, { name: string; poly: Poly }>();

  code(sz: Sz): string {
    if (typeof sz === 'number') return lit(sz);
    let hit = this.names.get(sz.key);
    if (!hit) {
      for (const a of atomsOf(sz)) if (!this.atoms.includes(a)) this.atoms.push(a);
      hit = { name: `z${this.names.size}`, poly: sz };
      this.names.set(sz.key, hit);
    }
    return hit.name;
  }

  /** `const z0 = n0 * n1 + 3;` for each size used (atoms are named by their index, never by their text). */
  lines(): string[] {
    // `| 0`: each dimension is below 2^31, and int32 loop bounds keep the loops in integers.
    const out = this.atoms.map((_, i) => `const n${i} = N[${i}] | 0;`);
    for (const { name, poly } of this.names.values()) {
      const terms = [...poly.terms].map(([m, c]) => {
        const factors = m ? m.split('*').map((a) => `n${this.atoms.indexOf(a)}`) : [];
        return c === 1 && factors.length ? factors.join(' * ') : [lit(c), ...factors].join(' * ');
      });
      out.push(`const ${name} = ${terms.join(' + ')};`);
    }
    return out;
  }
}

/** The kernel's source: constants, helpers, then the function: its sizes, buffers and scratch, and the nests. */
function assemble(k: {
  consts: readonly Float64Array[];
  helpers: ReadonlySet<Helper>;
  sizes: SizeNames;
  tempNames: readonly string[];
  inputs: number;
  uniqueRoots: readonly Node[];
  outName: ReadonlyMap<Node, string>;
  body: readonly string[];
}): string {
  const { consts, helpers, sizes, tempNames, inputs, uniqueRoots, outName, body } = k;
  const src: string[] = ['"use strict";'];
  consts.forEach((_, i) => src.push(`const k${i} = K[${i}];`));
  for (const h of [...helpers].sort()) src.push(HELPERS[h]);
  src.push(`return function fused(outs, N, T${Array.from({ length: inputs }, (_, i) => `, x${i}`).join('')}) {`);
  for (const l of sizes.lines()) src.push(`  ${l}`);
  tempNames.forEach((name, i) => src.push(`  const ${name} = T[${i}];`));
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
