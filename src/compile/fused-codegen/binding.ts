// A kernel's sizes at a call: its symbols read off the inputs' shapes (checked to agree), its
// quotients computed from them, then every size it needs (loop bounds in the generated code,
// buffer sizes here) as a flat evaluation over an array of atom values. Built once per kernel,
// so a call does a few multiplications, not polynomial arithmetic.

import { LosscError } from '../../errors.js';
import { showShape } from '../../ir/shape.js';
import { szKey } from './graph.js';
import { atomsOf, quotientOf, type Sz } from './size.js';

/** A size as coefficient × atoms terms over the kernel's atom array. */
type Flat = Array<{ c: number; atoms: number[] }>;

export class SizeBinding {
  /** Every atom: the kernel's (in its `N` order) first, then those only buffer sizes or quotients read. */
  private readonly atoms: string[];
  /** Per input, per axis: the atom it binds, or the number it must be. */
  private readonly reads: Array<Array<{ atom: number } | { size: number }>>;
  private readonly quotients: Array<{ at: number; num: Flat; den: number }>;
  private readonly shown: string[];

  constructor(
    kernelAtoms: readonly string[],
    inputDims: readonly (readonly Sz[])[],
    /** The sizes to evaluate per call, by name. */
    private readonly sizes: readonly Sz[],
  ) {
    const atoms = [...kernelAtoms];
    /** The atoms a quotient's numerator reads (a kernel atom's too: q1 = q0 / 2, seed 73748788). */
    const numerators = (a: string) => {
      const q = quotientOf(a);
      if (q) for (const x of atomsOf(q.num)) add(x);
    };
    const add = (a: string) => {
      if (atoms.includes(a)) return;
      numerators(a);
      atoms.push(a);
    };
    for (const a of kernelAtoms) numerators(a);
    for (const ds of inputDims) for (const d of ds) for (const a of atomsOf(d)) add(a);
    for (const s of sizes) for (const a of atomsOf(s)) add(a);
    this.atoms = atoms;
    this.reads = inputDims.map((ds) =>
      ds.map((d) => {
        if (typeof d === 'number') return { size: d };
        // An input's dimension is one symbol of a signature.
        const [a] = atomsOf(d);
        if (d.key !== `1*${a}`) throw new Error('fused: an input dimension that is not a symbol');
        return { atom: atoms.indexOf(a!) };
      }),
    );
    // Quotients after the quotients their numerators read.
    const order: number[] = [];
    const visit = (at: number) => {
      const q = quotientOf(atoms[at]!);
      if (!q || order.includes(at)) return;
      for (const x of atomsOf(q.num)) visit(atoms.indexOf(x));
      order.push(at);
    };
    atoms.forEach((_, at) => visit(at));
    this.quotients = order.map((at) => {
      const q = quotientOf(atoms[at]!)!;
      return { at, num: this.flat(q.num), den: q.den };
    });
    this.flats = sizes.map((s) => this.flat(s));
    this.shown = inputDims.map((ds) => showShape(ds.map(szKey)));
    this.kernelAtoms = kernelAtoms.length;
  }

  private readonly flats: Flat[];
  private readonly kernelAtoms: number;

  private flat(s: Sz): Flat {
    if (typeof s === 'number') return [{ c: s, atoms: [] }];
    return [...s.terms].map(([m, c]) => ({ c, atoms: m ? m.split('*').map((a) => this.atoms.indexOf(a)) : [] }));
  }

  /**
   * The atoms' values (the first ones are the kernel's `N`) and the sizes, in order, for inputs
   * of these shapes; a 'value' error when the shapes do not fit the kernel's.
   */
  bind(shapes: readonly (readonly number[])[]): { atoms: number[]; sizes: number[] } {
    // The shapes of the last call again (the common case): its result, which nobody modifies.
    const last = this.last;
    if (last && sameShapes(last.shapes, shapes)) return last.bound;
    const bound = this.bindAnew(shapes);
    this.last = { shapes: shapes.map((s) => [...s]), bound };
    return bound;
  }

  private last?: { shapes: number[][]; bound: { atoms: number[]; sizes: number[] } };

  private bindAnew(shapes: readonly (readonly number[])[]): { atoms: number[]; sizes: number[] } {
    const v = new Float64Array(this.atoms.length).fill(NaN);
    this.reads.forEach((axes, i) => {
      const got = shapes[i];
      const wrong = () => new LosscError('value', `input ${i} should have shape ${this.shown[i]}, got ${got ? showShape(got) : 'none'}`);
      if (!got || got.length !== axes.length) throw wrong();
      for (let k = 0; k < axes.length; k++) {
        const r = axes[k]!;
        const n = got[k]!;
        if ('size' in r) {
          if (r.size !== n) throw wrong();
        } else {
          // A symbol is never 1 (a size of 1 is part of the signature), and one value everywhere.
          const seen = v[r.atom]!;
          if (n === 1 || (seen === seen && seen !== n)) throw wrong();
          v[r.atom] = n;
        }
      }
    });
    for (const q of this.quotients) {
      const n = evalFlat(q.num, v);
      if (n % q.den !== 0) throw new LosscError('value', 'the input shapes do not divide as the formula needs');
      v[q.at] = n / q.den;
    }
    const sizes = this.flats.map((f) => evalFlat(f, v));
    if (sizes.some((s) => !Number.isInteger(s))) throw new LosscError('value', 'a size of the formula is not a size of its inputs');
    // Plain small integers, so the generated loops count in int32 (a Float64Array's are doubles).
    const atoms: number[] = [];
    for (let i = 0; i < this.kernelAtoms; i++) atoms.push(v[i]!);
    return { atoms, sizes };
  }
}

function evalFlat(f: Flat, v: Float64Array): number {
  let total = 0;
  for (const t of f) {
    let x = t.c;
    for (const a of t.atoms) x *= v[a]!;
    total += x;
  }
  return total;
}

export function sameShapes(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.length !== y.length) return false;
    for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return false;
  }
  return true;
}
