// Loop nests of the fused target, part 2: the per-element values of a nest's items. Everything a
// target reads that is not a buffer is inlined as one local (`const`) per (node, position); a
// `Scope` (one per pass) builds them with value numbering, so a value the gradient rebuilds in
// another spelling is computed once, and with the peepholes that share exp(-|r|) between sigmoid and
// softplus and softmax's exponentials with its logsumexp. How one element of an op is written is
// scalar.ts's table; plan.ts gives every local its loop level.

import type { Node } from '../../ir/node.js';
import { OPS, REDUCTIONS, VIEWS, type OpName, type OpSpec } from '../../ir/ops.js';
import {
  argPositions,
  dims,
  isBufferLeaf,
  isLiteral,
  isSymmetric,
  normPos,
  posKey,
  reductionAxes,
  sizeOf,
  szKey,
  valueArgs,
  type Ix,
  type Pos,
} from './graph.js';
import { formOf, isIdentity, outerIdentity, type Form, type Graph, type Item, type Nest } from './nests.js';
import { castCode, coerceConst, SCALAR_CODE, Unsupported, EXP_STEPS, LOG1P01_STEPS, type Helper, type Step } from './scalar.js';
import { szMul, type Sz } from './size.js';

export type Val = string | Local;

export interface Local {
  name: string;
  key: string;
  /** Emission order within a level: topological index of the node (-1: index arithmetic). */
  order: number;
  deps: Local[];
  /** The pass of this nest whose results it reads (-1: none). */
  nestDep: number;
  level: number;
  render: () => string;
  /** A buffer read: which buffer and the SX form of the offset. */
  read?: { node: Node; form: Form };
  /** The lowest loop level it may live at (a read of softmax's scratch array: the element's loop). */
  minLevel?: number;
  /** The value of loop axis d (plus off). */
  index?: Ix;
  emitted?: boolean;
}

/** What emission needs from the whole kernel: names, and bookkeeping of buffer use. */
export interface Ctx {
  g: Graph;
  itemsOf: ReadonlyMap<Node, Item[]>;
  /** Buffer of a bound input / literal tensor, by node. */
  leafName(n: Node): string;
  /** The buffer a target is read from (marks it as read). */
  readName(n: Node): string;
  /** The buffers a target's value is stored into. */
  storeNames(n: Node): string[];
  useHelper(h: Helper): void;
  fresh(prefix: string): string;
  /** A scratch array of `size` elements, from the call's pool, for per-row values. */
  scratch(size: Sz): string;
  /** A size as code: a literal, or the name of a constant the kernel computes from its sizes. */
  size(size: Sz): string;
}

/**
 * A logsumexp whose exponentials a later pass of its row reuses: softmax's exp(x - lse(x)) is
 * exp(x - max) / sum, both already computed by the logsumexp's second pass, which keeps them in
 * a row-sized scratch array (one exp per element instead of two).
 */
export interface SharedExp {
  /** The row-offset form of an element (the reduced axes, row-major). */
  inner: Form;
  /** Names given at emission: the running max, the sum of exponentials, the scratch array. */
  names: { a?: string; s?: string; w?: string };
  /** The places that read the scratch array, their locals and offset code (set when planned). */
  reads: Array<{ scope: Scope; local?: Local; off?: () => string }>;
}

export const code = (v: Val): string => (typeof v === 'string' ? v : v.name);

export class Scope {
  readonly locals = new Map<string, Local>();
  readonly all: Local[] = [];
  constructor(
    readonly ctx: Ctx,
    readonly nest: Nest,
    readonly pass: number,
    readonly sharedExps: Map<Item, SharedExp>,
  ) {}

  private add(l: Omit<Local, 'name' | 'level'>, prefix = 't'): Local {
    const local: Local = { ...l, name: this.ctx.fresh(prefix), level: -1 };
    this.locals.set(l.key, local);
    this.all.push(local);
    return local;
  }

  private combine(key: string, order: number, deps: Val[], render: () => string): Local {
    const ls = deps.filter((d): d is Local => typeof d !== 'string');
    let nestDep = -1;
    for (const l of ls) nestDep = Math.max(nestDep, l.nestDep);
    return this.add({ key, order, deps: ls, nestDep, render });
  }

  indexOf(x: Ix): Val {
    if (x.d < 0) return this.ctx.size(x.off);
    const key = `I:${x.d}:${szKey(x.off)}`;
    return this.locals.get(key) ?? this.add({ key, order: -1, deps: [], nestDep: -1, render: () => '', index: x }, 'j');
  }

  private readOf(n: Node, at: Pos, nestDep: number): Local {
    // A symmetric buffer read down its columns by the inner loop is read along its rows instead.
    const inner = this.nest.space.perm.at(-1);
    const pos = isSymmetric(n) && at[0]!.d === inner && at[1]!.d !== inner && at[0]!.off === 0 && at[1]!.off === 0 ? [at[1]!, at[0]!] : at;
    const key = `R:${n.id}:${posKey(pos)}`;
    const hit = this.locals.get(key);
    if (hit) return hit;
    const form = formOf(dims(n), pos, this.nest.space.sx.length);
    return this.add({ key, order: this.ctx.g.index.get(n) ?? -1, deps: [], nestDep, render: () => '', read: { node: n, form } });
  }

  /**
   * How `n` at `pos` is had without looking at its arguments: a buffer read, a literal, or an
   * already built local; otherwise the key and normalised position under which to build it.
   */
  private direct(n: Node, p: Pos): { val: Val } | { key: string; pos: Pos } {
    const { g } = this.ctx;
    const pos = normPos(p, dims(n));
    if (g.boundSet.has(n) || isBufferLeaf(n, g.boundSet)) return { val: this.readOf(n, pos, -1) };
    if (isLiteral(n)) return { val: this.ctx.size(literalSize(n)) };
    if (g.targets.has(n)) {
      const its = this.ctx.itemsOf.get(n) ?? [];
      if (its.length === 0) throw new Error('fused: target without items');
      const here = its.find((i) => i.nest === this.nest);
      if (!here || here.kind === 'copy' || here.kind === 'mm') return { val: this.readOf(n, pos, -1) };
      if (here.kind === 'ew' && here.pass === this.pass && isIdentity(pos, this.nest.space.sx)) {
        // Computed in this very pass at this very element: use the value, not the buffer.
      } else if (here.endPass < this.pass && outerIdentity(here, pos, this.nest.space)) {
        return { val: this.readOf(n, pos, here.endPass) };
      } else {
        throw new Error(`fused: ${n.op} read where it is not available`);
      }
    }
    const key = `V:${n.id}:${posKey(pos)}`;
    const hit = this.locals.get(key);
    return hit ? { val: hit } : { key, pos };
  }

  /**
   * The value of node `n` at position `pos` (of n's axes, in loop axes of this nest). Walks the
   * inlined expression with an explicit stack (a chain of any depth is fine).
   */
  value(n0: Node, p0: Pos): Val {
    const first = this.direct(n0, p0);
    if ('val' in first) return first.val;
    interface Frame {
      n: Node;
      key: string;
      pos: Pos;
      args: readonly Node[];
      aps: Pos[];
      vs: Val[];
    }
    const frame = (n: Node, key: string, pos: Pos): Frame => ({ n, key, pos, args: valueArgs(n), aps: argPositions(n, pos), vs: [] });
    const stack: Frame[] = [frame(n0, first.key, first.pos)];
    for (;;) {
      const f = stack[stack.length - 1]!;
      if (f.vs.length < f.args.length) {
        const i = f.vs.length;
        const d = this.direct(f.args[i]!, f.aps[i]!);
        if ('val' in d) f.vs.push(d.val);
        else stack.push(frame(f.args[i]!, d.key, d.pos));
        continue;
      }
      stack.pop();
      const v = this.locals.get(f.key) ?? this.rounded(f.n, f.key, this.build(f.n, f.key, f.pos, f.vs));
      if (stack.length === 0) return v;
      stack[stack.length - 1]!.vs.push(v);
    }
  }

  /**
   * An elementwise float target is stored in float32 (fused.ts): its value here is rounded the
   * same way, so this pass's readers see what later nests read from its buffer (an `x == max(x)`
   * of the gradient of a max must not tell them apart).
   */
  private rounded(n: Node, key: string, v: Val): Val {
    if (!this.ctx.g.targets.has(n) || !storedAsFloat32(n)) return v;
    const r = this.combine(`F:${key}`, this.ctx.g.index.get(n) ?? -1, [v], () => `Math.fround(${code(v)})`);
    this.locals.set(key, r);
    return r;
  }

  /** The local computing inlined node `n` at `pos` from its arguments' values `vs`. */
  private build(n: Node, key: string, pos: Pos, vs: Val[]): Val {
    const order = this.ctx.g.index.get(n) ?? -1;
    const use = (h: Helper) => this.ctx.useHelper(h);
    if (VIEWS.has(n.op)) return vs[0]!; // positions were mapped by argPositions already
    switch (n.op) {
      case 'indices': {
        const v = this.indexOf(pos[0]!);
        return typeof v === 'string' ? v : this.combine(key, order, [v], () => code(v));
      }
      case 'one_hot': {
        const j = this.indexOf(pos[pos.length - 1]!);
        return this.combine(key, order, [...vs, j], () => `(${code(vs[0]!)} === ${code(j)} ? 1 : 0)`);
      }
      case 'cast': {
        const from = n.args[0]!.dtype;
        return this.combine(key, order, vs, () => castCode(code(vs[0]!), from, n.dtype));
      }
      case 'sum':
      case 'mean':
      case 'max':
      case 'min':
      case 'logsumexp':
        // Reductions over no axes (the others are targets): the argument itself.
        return vs[0]!;
      case 'div': {
        // By a size (the divisor of a mean at symbolic sizes): once 1 / n, then a product per element.
        const d = vs[1]!;
        if (isSizeExpression(d)) {
          const r = this.once(`RCP:${typeof d === 'string' ? d : d.key}`, typeof d === 'string' ? [] : [d], () => `1 / ${code(d)}`);
          return this.numbered('mul', key, order, [vs[0]!, r], () => `${code(vs[0]!)} * ${code(r)}`);
        }
        break;
      }
      case 'exp': {
        const x = vs[0]!;
        const shared = this.softmaxExp(n, key, order, pos, x);
        if (shared) return shared;
        if (typeof x !== 'string') return this.reuse('exp', [x], key, () => this.steps(EXP_STEPS, x, key));
        break;
      }
      case 'sigmoid':
      case 'softplus': {
        const x = vs[0]!;
        if (typeof x !== 'string') return this.logistic(n.op, key, order, x);
        break;
      }
    }
    const scalar = SCALAR_CODE[n.op];
    if (!scalar) throw new Unsupported(`op ${n.op}`);
    return this.numbered(n.op, key, order, vs, () => scalar(vs.map(code), use, n));
  }

  /**
   * exp(x - lse(x)) at an element of a row whose logsumexp this nest finished in an earlier
   * pass: that pass's exp(x - max), kept in the scratch array, over its sum. Rows with a
   * non-finite max (where lse is not max + log(sum)) take the exp as written.
   */
  private softmaxExp(n: Node, key: string, order: number, pos: Pos, arg: Val): Val | undefined {
    const d = n.args[0]!;
    if (d.op !== 'sub' || typeof arg === 'string') return undefined;
    const x = d.args[0]!;
    const [px, pl0] = argPositions(d, pos) as [Pos, Pos];
    let l = d.args[1]!;
    let pl = pl0;
    while (l.op === 'broadcast_like' || l.op === 'expand_dims') {
      pl = argPositions(l, pl)[0]!;
      l = l.args[0]!;
    }
    if (l.op !== 'logsumexp' || l.args[0] !== x) return undefined;
    const it = (this.ctx.itemsOf.get(l) ?? []).find((i) => i.nest === this.nest && i.kind === 'red' && i.op === 'logsumexp');
    if (!it || it.endPass >= this.pass || it.pass === it.endPass) return undefined;
    const dx = dims(x);
    if (posKey(normPos(px, dx)) !== posKey(normPos(it.terms[0]!.pos, dx))) return undefined;
    if (!outerIdentity(it, normPos(pl, dims(l)), this.nest.space)) return undefined;
    let shared = this.sharedExps.get(it);
    if (!shared) {
      const { sx, perm, outer } = this.nest.space;
      const coefs: Sz[] = sx.map(() => 0);
      let stride: Sz = 1;
      for (const k of [...perm.slice(outer)].reverse()) {
        coefs[k] = sx[k] === 1 ? 0 : stride;
        stride = szMul(stride, sx[k]!);
      }
      shared = { inner: { coefs, c: 0 }, names: {}, reads: [] };
      this.sharedExps.set(it, shared);
    }
    const read: { scope: Scope; local?: Local; off?: () => string } = { scope: this };
    shared.reads.push(read);
    const names = shared.names;
    // It reads the scratch array per element, even where its argument is the same along the row
    // (x broadcast over it), so it stays in the element's loop (its level is set when planned).
    read.local = this.combine(key, order, [arg], () => `(${names.a} - ${names.a} === 0 ? ${names.w}[${read.off!()}] / ${names.s} : Math.exp(${code(arg)}))`);
    return read.local;
  }

  // ---- Value numbering. The gradient rebuilds values the forward pass already has, written
  // differently: b * a for a * b, 1 - x for -(x - 1), y * -x for -(x * y). These identities are
  // exact in IEEE arithmetic, so recognising them changes no result, only the work done.

  /** For a local made by negating another: that other, and back. */
  private readonly negOf = new Map<Local, Local>();
  /** A local as ±(the earliest local of its negation family). */
  private readonly family = new Map<Local, { rep: Local; negated: boolean }>();

  private familyOf(x: Local): { rep: Local; negated: boolean } {
    return this.family.get(x) ?? { rep: x, negated: false };
  }

  /** `hit` also answers to `key` from now on. */
  private alias(key: string, hit: Local): Local {
    this.locals.set(key, hit);
    return hit;
  }

  /** The local already built for op(vs) under another node (now also answering to `key`), else make(). */
  private reuse(op: OpName, vs: readonly Val[], key: string, make: () => Local): Local {
    const sk = structuralKey(op, vs);
    const hit = this.locals.get(sk);
    if (hit) return this.alias(key, hit);
    const made = make();
    this.locals.set(sk, made);
    return made;
  }

  /** The local for op(vs), unless the same value (up to the identities above) is already built. */
  private numbered(op: OpName, key: string, order: number, vs: Val[], render: () => string): Val {
    return this.reuse(op, vs, key, () => this.numberedAnew(op, key, order, vs, render));
  }

  private numberedAnew(op: OpName, key: string, order: number, vs: Val[], render: () => string): Local {
    const x = vs[0]!;
    if (op === 'neg' && typeof x !== 'string') return this.negate(key, order, x);
    if (op === 'sub') {
      const swapped = this.locals.get(structuralKey('sub', [vs[1]!, x]));
      if (swapped) return this.negate(key, order, swapped);
    }
    if (op === 'mul' || op === 'div') {
      for (let i = 0; i < 2; i++) {
        const v = vs[i]!;
        const positive = typeof v === 'string' ? undefined : this.negOf.get(v);
        if (!positive) continue;
        const other = this.locals.get(structuralKey(op, i === 0 ? [positive, vs[1]!] : [x, positive]));
        if (other) return this.negate(key, order, other);
      }
    }
    return this.combine(key, order, vs, render);
  }

  /** -x, built once. */
  private negate(key: string, order: number, x: Local): Local {
    const known = this.negOf.get(x);
    if (known) return this.alias(key, known);
    const made = this.combine(key, order, [x], () => `-${code(x)}`);
    this.locals.set(structuralKey('neg', [x]), made);
    this.negOf.set(x, made);
    this.negOf.set(made, x);
    const f = this.familyOf(x);
    this.family.set(made, { rep: f.rep, negated: !f.negated });
    return made;
  }

  /** A local computed once per scope under `key` (shared subexpressions of several ops). */
  private once(key: string, deps: Local[], render: () => string): Local {
    const hit = this.locals.get(key);
    if (hit) return hit;
    let order = -1;
    for (const d of deps) order = Math.max(order, d.order);
    return this.combine(key, order, deps, render);
  }

  /**
   * A function given as straight-line steps (scalar.ts: EXP_STEPS, LOG1P01_STEPS) applied to
   * `x`: one local per step, the last one under `key` (found again there if already built).
   */
  private steps(steps: readonly Step[], x: Local, key: string): Local {
    const hit = this.locals.get(key);
    if (hit) return hit;
    const made = new Map<string, Local>([['x', x]]);
    const name = (id: string) => code(made.get(id)!);
    let last = x;
    steps.forEach((st, i) => {
      const k = i === steps.length - 1 ? key : `${key}:${st.id}`;
      last = this.once(k, st.deps.map((d) => made.get(d)!), () => st.code(name));
      made.set(st.id, last);
    });
    if (steps === EXP_STEPS) this.ctx.useHelper('pow2');
    return last;
  }

  /**
   * sigmoid and softplus of ±r share one exp(-|r|) (and softplus one log1p of it): a focal
   * loss's gradient asks for sigmoid(z), sigmoid(-z), softplus(-z)... of one z. Same formulas
   * as the stand-alone helpers, so the same results.
   */
  private logistic(op: 'sigmoid' | 'softplus', key: string, order: number, x: Local): Val {
    return this.reuse(op, [x], key, () => this.logisticAnew(op, key, order, x));
  }

  private logisticAnew(op: 'sigmoid' | 'softplus', key: string, order: number, x: Local): Local {
    const { rep, negated } = this.familyOf(x);
    const minusAbs = this.once(`A:${rep.key}`, [rep], () => `-Math.abs(${code(rep)})`);
    const e = this.steps(EXP_STEPS, minusAbs, `X:${rep.key}`);
    let made: Local;
    if (op === 'sigmoid') {
      // 1 / (1 + e) is the sigmoid of the one of ±r that is >= 0; e / (1 + e) the other's.
      const big = this.once(`Q:${rep.key}`, [e], () => `1 / (1 + ${code(e)})`);
      const small = () => `${code(e)} * ${code(big)}`;
      made = this.combine(key, order, [x, rep, e, big], () =>
        negated ? `(${code(rep)} >= 0 ? ${small()} : ${code(big)})` : `(${code(rep)} >= 0 ? ${code(big)} : ${small()})`,
      );
    } else {
      const l = this.steps(LOG1P01_STEPS, e, `L:${rep.key}`); // e = exp(-|r|) is in [0, 1]
      made = this.combine(key, order, [x, l], () => `Math.max(${code(x)}, 0) + ${code(l)}`);
    }
    return made;
  }
}

/**
 * Whether a target's buffer is float32: float targets, except reductions. The kernel computes in
 * float64, and a reduction's result meets the values it was taken from again: the gradient of a
 * max compares them, and `x - logsumexp(x)` over an axis of size 1 is exactly 0 only if both are
 * kept alike (seed 50435957). An elementwise target is rounded wherever it is computed (`rounded`).
 */
export function storedAsFloat32(n: Node): boolean {
  return n.dtype === 'float32' && !REDUCTIONS.has(n.op);
}

/** A size the kernel takes (`z3`), or a local computed from sizes alone (no reads, no loop index). */
function isSizeExpression(v: Val): boolean {
  if (typeof v === 'string') return /^z[0-9]+$/.test(v);
  return v.deps.length === 0 && !v.read && !v.index && v.render().split(/[^A-Za-z0-9_]+/).every((w) => w === '' || /^(z[0-9]+|[0-9.e]+)$/.test(w));
}

/** What op(vs) computes, as a key: its op and its arguments' keys (sorted where order is free). */
function structuralKey(op: OpName, vs: readonly Val[]): string {
  const ks = vs.map((v) => (typeof v === 'string' ? v : v.key));
  if ((OPS[op] as OpSpec).commutative) ks.sort();
  return `S:${op}:${ks.join('|')}`;
}

/** The number a literal node stands for (a size: a polynomial at symbolic sizes). */
function literalSize(n: Node): Sz {
  switch (n.op) {
    case 'const':
      return coerceConst(n.attrs.value, n.dtype);
    case 'param':
      return coerceConst(n.attrs.value, 'float32');
    case 'size': {
      const x = dims(n.args[0]!);
      return sizeOf(reductionAxes(n).map((a) => x[a]!));
    }
    default:
      throw new Unsupported(`literal ${n.op}`);
  }
}

