// The one pipeline every target shares: lower a definition at its call's shapes, stabilise the
// value, and differentiate and simplify on demand. A `Pipeline` holds one per-shape cache; each
// target (the tfjs plans, the fused kernels) keeps what it builds from a stage on that stage
// (`Stage.memo`), so a shape is lowered once however many targets run it. A target whose code
// takes its sizes at run time (the fused kernels) asks for a stage per shape *signature* instead
// (`atSignature`): every size other than 1 is a symbol (`s0`, `s1`, ...; equal sizes one symbol),
// so one stage serves every batch size.

import type { Definition } from '../../grammar/ast.js';
import { grad } from '../autodiff/grad.js';
import { LosscError } from '../errors.js';
import type { Origins } from '../ir/origin.js';
import { topoSort, type Node } from '../ir/node.js';
import { OPS } from '../ir/ops.js';
import { collectAssumptions, showShape, type Dim, type DType } from '../ir/shape.js';
import type { Static } from '../lower/builtins.js';
import type { Library } from '../lower/library.js';
import { Lowerer, type Lowered } from '../lower/lower.js';
import { bindSignature, paramDtype } from '../lower/signature.js';
import { rewrite, type Fired } from '../rewrite/engine.js';
import { ALL_RULES, STABILIZE_RULES } from '../rewrite/rules.js';

/** The value made finite: the `fold` and `stabilize` rules only (it computes what the formula says). */
export function stabilise(roots: readonly Node[], fired?: Fired[]): Node[] {
  return rewrite([...roots], STABILIZE_RULES, fired);
}

/** d sum(value · seed) / d wrt, simplified with every rule (normal forms included). */
export function differentiate(value: Node, wrt: readonly Node[], how: { seed?: Node; origins?: Origins; fired?: Fired[] } = {}): Node[] {
  return rewrite(grad(value, [...wrt], how.seed, how.origins), ALL_RULES, how.fired);
}

/**
 * What `roots`' shapes take for granted about symbolic sizes (src/ir/shape.ts): each node's shape
 * inferred again while collecting. Hash-consing means a node's inference ran once, perhaps for
 * another graph, so the graph is asked, not the lowering that made it.
 */
export function sizeAssumptions(roots: readonly Node[]): Array<readonly [Dim, Dim]> {
  return collectAssumptions(() => {
    for (const n of topoSort(roots)) OPS[n.op].infer(n.args, n.attrs);
  });
}

/** One definition lowered at one set of input shapes, its value (and mask) stabilised. */
export class Stage {
  /** The value's and the mask's roots after stabilisation. */
  readonly value: Node;
  readonly mask?: Node;
  /** Which inputs are differentiated (floats). */
  readonly differentiable: boolean[];
  private readonly built = new Map<string, unknown>();

  constructor(
    readonly lowered: Lowered,
    /** The input shapes it was lowered at (symbols for a signature's stage). */
    readonly shapes: readonly (readonly Dim[])[],
  ) {
    const roots = lowered.mask ? [lowered.value, lowered.mask] : [lowered.value];
    const stable = stabilise(roots);
    this.value = stable[0]!;
    this.mask = stable[1];
    this.differentiable = lowered.inputs.map((n) => n.dtype === 'float32');
  }

  get inputs(): Node[] {
    return this.lowered.inputs;
  }

  /** What a target builds from this stage, built once (the key names the target and its variant). */
  memo<T>(key: string, make: () => T): T {
    if (!this.built.has(key)) this.built.set(key, make());
    return this.built.get(key) as T;
  }
}

const CACHE_LIMIT = 32;

/** A call's shapes as a signature: each size other than 1 a symbol, equal sizes one symbol. */
export interface Signature {
  key: string;
  shapes: Dim[][];
  /** The call's value of each symbol. */
  binding: Map<string, number>;
}

export function signatureOf(shapes: readonly (readonly number[])[]): Signature {
  const names = new Map<number, string>();
  const binding = new Map<string, number>();
  const symbolic = shapes.map((s) =>
    s.map((d): Dim => {
      if (d === 1) return 1;
      let name = names.get(d);
      if (!name) {
        name = `s${names.size}`;
        names.set(d, name);
        binding.set(name, d);
      }
      return name;
    }),
  );
  return { key: symbolic.map((s) => s.join('x')).join('|'), shapes: symbolic, binding };
}

/** A least-recently-used map of at most CACHE_LIMIT entries. */
function cached<T>(cache: Map<string, T>, key: string, make: () => T): T {
  const hit = cache.get(key);
  if (hit !== undefined) {
    // Refresh its place in the LRU order.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const made = make();
  cache.set(key, made);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return made;
}

/** A definition with its options fixed, lowered per distinct set of input shapes (an LRU cache). */
export class Pipeline {
  private readonly cache = new Map<string, Stage>();
  /** Stages per signature; null where lowering at symbolic sizes fails (the concrete stage then serves). */
  private readonly signatures = new Map<string, Stage | null>();

  constructor(
    readonly lib: Library,
    readonly def: Definition,
    readonly options: Record<string, Static>,
  ) {}

  /** The stage for these input shapes (lowered on first use); shape errors name the call's shapes. */
  at(shapes: readonly (readonly number[])[]): Stage {
    if (shapes.length !== this.def.params.length) {
      const params = this.def.params.map((p) => p.name).join(', ');
      throw new LosscError('arity', `\`${this.def.name}\` takes ${this.def.params.length} tensors (${params}), got ${shapes.length}`);
    }
    return cached(this.cache, shapes.map((s) => s.join('x')).join('|'), () => this.lower(shapes.map((s) => [...s])));
  }

  /**
   * The stage for these shapes' signature and the call's binding of its symbols; a null stage
   * where the shapes fail the annotations or lowering needs the sizes themselves (callers then
   * use `at`, which reports errors with the call's shapes). What its graphs assume of the sizes
   * (`collectAssumptions`) the caller checks on the binding.
   */
  atSignature(shapes: readonly (readonly number[])[]): { stage: Stage | null; binding: Map<string, number> } {
    const sig = signatureOf(shapes);
    const stage = cached(this.signatures, sig.key, () => {
      if (shapes.length !== this.def.params.length) return null;
      try {
        const actual: Record<string, { shape: number[] }> = {};
        this.def.params.forEach((p, i) => (actual[p.name] = { shape: [...shapes[i]!] }));
        bindSignature(this.def, actual); // the annotations' checks, on this call's sizes
        const signature: Record<string, { shape: Dim[]; dtype: DType }> = {};
        this.def.params.forEach((p, i) => (signature[p.name] = { shape: sig.shapes[i]!, dtype: paramDtype(p.type) }));
        return new Stage(new Lowerer(this.lib, false).lowerTop(this.def, this.options, signature), sig.shapes);
      } catch {
        return null;
      }
    });
    return { stage, binding: sig.binding };
  }

  private lower(shapes: number[][]): Stage {
    const actual: Record<string, { shape: number[] }> = {};
    this.def.params.forEach((p, i) => (actual[p.name] = { shape: shapes[i]! }));
    const signature = bindSignature(this.def, actual);
    let lowered: Lowered;
    try {
      lowered = new Lowerer(this.lib, false).lowerTop(this.def, this.options, signature);
    } catch (e) {
      if (e instanceof LosscError && e.kind === 'shape') {
        const shown = this.def.params.map((p, i) => `${p.name} ${showShape(shapes[i]!)}`).join(', ');
        throw new LosscError('shape', `\`${this.def.name}\` with ${shown}: ${e.detail}`, e.span);
      }
      throw e;
    }
    return new Stage(lowered, shapes);
  }
}
