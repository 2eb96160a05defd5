// The one pipeline every target shares: lower a definition at its call's shapes, stabilise the
// value, and differentiate and simplify on demand. A `Pipeline` holds one per-shape cache; each
// target (the tfjs plans, the fused kernels) keeps what it builds from a stage on that stage
// (`Stage.memo`), so a shape is lowered once however many targets run it.

import type { Definition } from '../../grammar/ast.js';
import { grad } from '../autodiff/grad.js';
import { LosscError } from '../errors.js';
import type { Node } from '../ir/node.js';
import type { Origins } from '../ir/origin.js';
import { showShape } from '../ir/shape.js';
import type { Static } from '../lower/builtins.js';
import type { Library } from '../lower/library.js';
import { Lowerer, type Lowered } from '../lower/lower.js';
import { bindSignature } from '../lower/signature.js';
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
    readonly shapes: readonly number[][],
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

/** A definition with its options fixed, lowered per distinct set of input shapes (an LRU cache). */
export class Pipeline {
  private readonly cache = new Map<string, Stage>();

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
    const key = shapes.map((s) => s.join('x')).join('|');
    const hit = this.cache.get(key);
    if (hit) {
      // Refresh its place in the LRU order.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const stage = this.lower(shapes.map((s) => [...s]));
    this.cache.set(key, stage);
    if (this.cache.size > CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    return stage;
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
