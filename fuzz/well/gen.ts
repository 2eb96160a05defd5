// The generator's state and its core draws: leaves, tamed and positive sub-expressions,
// booleans and integers. The float productions (one per language feature) are a table in
// productions.ts; this file picks among them and keeps every value in a safe domain.

import { Rng } from '../rng.js';
import {
  bin,
  broadcastsTo,
  call,
  dropsTo,
  iv,
  ivAdd,
  ivSquare,
  leaf,
  node,
  not,
  num,
  P,
  same,
  sizeOf,
  type G,
} from './expr.js';
import { FLOAT_PRODUCTIONS } from './productions.js';

export interface Var {
  name: string;
  g: G;
}

export interface NumOption {
  name: string;
  kind: 'num' | 'bool' | 'axis';
  /** The value the program is compiled with (the default, or the override). */
  value: number | boolean;
  default: number | boolean;
}

export interface DefInfo {
  name: string;
  params: { name: string; shape: number[] }[];
  /** The option k of the helper, if it has one (values assumed in [0.5, 2]). */
  option?: string;
  out: G;
}


export class Gen {
  vars: Var[] = [];
  opts: NumOption[] = [];
  defs: DefInfo[] = [];
  budget = 40;
  /** Sizes that appear in the inputs' shapes (reductions insert these, to reach the inputs). */
  dims: number[] = [2, 3];
  /** The input labels' class count when y_true holds integer labels. */
  classes = 0;
  /** [B, T, C] when y_true holds CTC labels [B, L] for logits y_pred [B, T, C]. */
  ctc?: [number, number, number];

  constructor(readonly rng: Rng) {}

  /** A float expression of exactly this shape. */
  float(S: number[], d: number): G {
    this.budget--;
    if (d <= 0 || this.budget <= 0 || this.rng.chance(0.12)) return this.leafFloat(S);
    const table: Record<string, number> = {};
    for (const [name, p] of Object.entries(FLOAT_PRODUCTIONS)) if (p.ok(this, S)) table[name] = p.w;
    const name = this.rng.weighted(table);
    const g = FLOAT_PRODUCTIONS[name]!.make(this, S, d - 1);
    return this.rng.chance(0.05) ? { ...g, prec: P.ATOM, kids: [g], fmt: (k) => `(${k[0]!.text})` } : this.tame(g, 1e3);
  }

  /** A float expression whose values lie within [-M, M]. */
  bounded(S: number[], d: number, M: number): G {
    return this.tame(this.float(S, d), M);
  }

  /** A float expression whose values are at least `m` (> 0). */
  pos(S: number[], d: number, m = 0.1): G {
    return this.positivize(this.float(S, d), m);
  }

  /** A float expression bounded away from 0 (for denominators). */
  nonzero(S: number[], d: number): G {
    const p = this.pos(S, d, 0.2);
    if (!this.rng.chance(0.3)) return p;
    return node('float', S, -p.hi, -p.lo, P.NEG, [p], (k) => `-${k[0]!.prec >= P.NEG ? k[0]!.text : `(${k[0]!.text})`}`);
  }

  tame(g: G, M: number): G {
    if (Math.max(Math.abs(g.lo), Math.abs(g.hi)) <= M) return g;
    const r = this.rng.int(0, 2);
    if (r === 0 && M >= 1) return call('tanh', [g], [], 'float', g.shape, Math.tanh(g.lo), Math.tanh(g.hi));
    if (r === 1) {
      const lo = num(-M);
      const hi = num(M);
      return node('float', g.shape, Math.max(g.lo, -M), Math.min(g.hi, M), P.ATOM, [g, lo, hi], (k) => `clip(${k[0]!.text}, ${k[1]!.text}, ${k[2]!.text})`);
    }
    const K = 10 ** Math.ceil(Math.log10(Math.max(Math.abs(g.lo), Math.abs(g.hi)) / M));
    const k = num(K);
    return bin('/', g, k, 'float', g.shape, [g.lo / K, g.hi / K]);
  }

  positivize(g: G, m: number): G {
    if (g.lo >= m && this.rng.chance(0.7)) return g;
    const c = this.rng.pick([0.5, 1, 2].filter((x) => x >= m));
    switch (this.rng.int(0, 4)) {
      case 0: {
        const sq = bin('^', g, num(2), 'float', g.shape, ivSquare(iv(g)), this.rng.chance(0.5));
        return bin('+', sq, num(c), 'float', g.shape, ivAdd(iv(sq), [c, c]));
      }
      case 1: {
        const a = call('abs', [g], [], 'float', g.shape, Math.max(0, g.lo, -g.hi), Math.max(Math.abs(g.lo), Math.abs(g.hi)));
        return bin('+', a, num(c), 'float', g.shape, ivAdd(iv(a), [c, c]));
      }
      case 2: {
        const t = this.tame(g, 3);
        return call('exp', [t], [], 'float', g.shape, Math.exp(t.lo), Math.exp(t.hi));
      }
      case 3: {
        const s = call('sigmoid', [g], [], 'float', g.shape, 0, 1);
        return bin('+', s, num(c), 'float', g.shape, [c, 1 + c]);
      }
      default: {
        const sp = call('softplus', [this.tame(g, 20)], [], 'float', g.shape, 0, 21);
        return bin('+', sp, num(c), 'float', g.shape, [c, 21 + c]);
      }
    }
  }

  /** A float leaf of shape S: a variable, a number, an option, a constant, a reduction of a variable or a literal. */
  leafFloat(S: number[]): G {
    const exact = this.vars.filter((v) => v.g.dtype === 'float' && same(v.g.shape, S));
    if (exact.length && this.rng.chance(0.85)) return this.rng.pick(exact).g;
    if (S.length === 0) {
      const opts = this.opts.filter((o) => o.kind === 'num');
      const r = this.rng.int(0, 9);
      if (r < 2 && opts.length) {
        const o = this.rng.pick(opts);
        return leaf(o.name, 'float', [], o.value as number, o.value as number);
      }
      if (r === 2) return this.rng.chance(0.5) ? leaf('pi', 'float', [], Math.PI, Math.PI) : leaf('epsilon', 'float', [], 1e-7, 1e-7);
      if (r < 6 || !this.vars.length) return num(this.rng.pick([0.5, 1, 2, 3, -1, 0.25, 1.5, -0.5, 0.1, 10]), this.rng.int(0, 9));
    }
    const reducible = this.vars.filter((v) => v.g.dtype === 'float' && v.g.shape.length > S.length && dropsTo(v.g.shape, S) !== null);
    if (reducible.length && this.rng.chance(0.8)) {
      const v = this.rng.pick(reducible).g;
      const axes = dropsTo(v.shape, S)!;
      const op = this.rng.pick(['sum', 'mean', 'max', 'min']);
      const n = sizeOf(axes.map((a) => v.shape[a]!));
      const ax = S.length === 0 && this.rng.chance(0.5) ? [] : [`axis = ${axes.length === 1 ? String(axes[0]) : `[${axes.join(', ')}]`}`];
      const [lo, hi] = op === 'sum' ? [Math.min(v.lo * n, v.lo), Math.max(v.hi * n, v.hi)] : [v.lo, v.hi];
      return call(op, [v], ax, 'float', S, lo, hi);
    }
    const wide = this.vars.filter((v) => v.g.dtype === 'float' && v.g.shape.length && broadcastsTo(v.g.shape, S));
    const lit = this.literal(S);
    if (!wide.length || sizeOf(S) > 24) return lit;
    const v = this.rng.pick(wide).g;
    return bin('+', v, lit, 'float', S, ivAdd(iv(v), iv(lit)));
  }

  /** A tensor literal of shape S, e.g. [[1, 2], [3, 4]]. */
  literal(S: number[]): G {
    const vals = Array.from({ length: sizeOf(S) }, () => this.rng.pick([0, 0.5, 1, -1, 2, 0.25, -2, 1.5]));
    let k = 0;
    const build = (dim: number): string =>
      dim === S.length ? String(vals[k++]) : `[${Array.from({ length: S[dim]! }, () => build(dim + 1)).join(', ')}]`;
    if (S.length === 0) return num(vals[0]!); // a signed literal binds like unary minus: (-2)^2, not -2^2
    const text = build(0);
    return leaf(text, 'float', S, Math.min(...vals), Math.max(...vals));
  }

  /** A bool expression of exactly this shape. */
  bool(S: number[], d: number): G {
    this.budget--;
    const vars = this.vars.filter((v) => v.g.dtype === 'bool' && same(v.g.shape, S));
    const r = d <= 0 || this.budget <= 0 ? 0 : this.rng.int(0, 9);
    if (vars.length && this.rng.chance(0.3)) return this.rng.pick(vars).g;
    if (r <= 4) {
      const [sa, sb] = this.bcastPair(S);
      const a = this.float(sa, d - 1);
      const b = this.rng.chance(0.3) && sb.length === 0 ? num(this.rng.pick([0, 0.5, -0.5, 1])) : this.float(sb, d - 1);
      return bin(this.rng.pick(['<', '<=', '>', '>=', '==', '!=']), a, b, 'bool', S, [0, 1]);
    }
    if (r === 5) return not(this.bool(S, d - 1));
    if (r <= 7) {
      const flags = this.opts.filter((o) => o.kind === 'bool');
      const [sa, sb] = this.bcastPair(S);
      const a = this.bool(sa, d - 1);
      const b = sb.length === 0 && this.rng.chance(0.3) ? (flags.length ? leaf(this.rng.pick(flags).name, 'bool', [], 0, 1) : leaf(this.rng.pick(['true', 'false']), 'bool', [], 0, 1)) : this.bool(sb, d - 1);
      return bin(this.rng.pick(['and', 'or']), a, b, 'bool', S, [0, 1]);
    }
    if (r === 8) return call('bool', [this.float(S, d - 1)], [], 'bool', S, 0, 1);
    const k = this.rng.int(0, S.length);
    const src = [...S.slice(0, k), this.rng.pick(this.dims), ...S.slice(k)];
    return call(this.rng.pick(['all', 'any']), [this.bool(src, d - 1)], [`axis = ${k}`], 'bool', S, 0, 1);
  }

  /** An int expression of exactly this shape with values in [0, n - 1] (labels). */
  labels(S: number[], d: number, n: number): G {
    const vars = this.vars.filter((v) => v.g.dtype === 'int' && same(v.g.shape, S) && v.g.lo >= 0 && v.g.hi <= n - 1);
    if (vars.length && this.rng.chance(0.7)) return this.rng.pick(vars).g;
    if (S.length === 1 && S[0] === n && this.rng.chance(0.3)) {
      const x = this.float(S, d - 1);
      return call('indices', [x], this.rng.chance(0.5) ? [] : ['axis = 0'], 'int', S, 0, n - 1);
    }
    const x = this.float(S, d - 1);
    const c = node('float', S, 0, n - 1, P.ATOM, [x], (k) => `clip(${k[0]!.text}, 0, ${n - 1})`);
    return call('int', [c], [], 'int', S, 0, n - 1);
  }

  /** Two shapes that broadcast together to exactly S. */
  bcastPair(S: number[]): [number[], number[]] {
    const a: number[] = [];
    const b: number[] = [];
    for (const d of S) {
      const r = d === 1 ? 0 : this.rng.int(0, 3);
      a.push(r === 1 ? 1 : d);
      b.push(r === 2 || r === 3 ? 1 : d);
    }
    // Leading axes of size 1 may be dropped from one side.
    const dropA = this.rng.chance(0.2) ? leadingOnes(a) : 0;
    const dropB = dropA === 0 && this.rng.chance(0.2) ? leadingOnes(b) : 0;
    const sa = a.slice(this.rng.int(0, dropA));
    const sb = b.slice(this.rng.int(0, dropB));
    return this.rng.chance(0.5) ? [sa, sb] : [sb, sa];
  }

  /** A shape that broadcasts to S. */
  sub(S: number[]): number[] {
    return this.bcastPair(S)[1];
  }

  /** A fresh name. */
  fresh(prefix: string): string {
    const taken = new Set([...this.vars.map((v) => v.name), ...this.opts.map((o) => o.name), ...this.defs.map((d) => d.name)]);
    for (let i = 0; ; i++) if (!taken.has(`${prefix}${i}`)) return `${prefix}${i}`;
  }

  /** An axis written in one of its forms: k, k - rank, or an axis option's name when it matches. */
  axisText(k: number, rank: number): string {
    const o = this.opts.find((x) => x.kind === 'axis' && ((x.value as number) === k || (x.value as number) + rank === k));
    if (o && this.rng.chance(0.6)) return o.name;
    return this.rng.chance(0.4) ? String(k - rank) : String(k);
  }
}

function leadingOnes(s: number[]): number {
  let k = 0;
  while (k < s.length && s[k] === 1) k++;
  return k;
}

