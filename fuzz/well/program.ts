// A whole well-formed program: input shapes and values, options (defaults and the overrides
// the checker compiles with), `def` helpers, `let`s (plain and `split` destructuring), the
// result (optionally `masked`). Rendered to lossc text from the typed trees of expr.ts.

import { Rng } from '../rng.js';
import { leaf, render, sizeOf, type G } from './expr.js';
import { Gen, type NumOption } from './gen.js';
import { generateStability, isStabilitySeed } from './stability.js';

export interface Let {
  names: string[];
  value: G;
  /** For `split`: the number of parts and the axis. */
  split?: { parts: number; axis: string };
}

export interface Def {
  name: string;
  params: string[];
  option?: { name: string; default: number };
  body: G;
}

export interface WellProgram {
  seed: number;
  /** 'stability': a naive formula at large logits (stability.ts), shown whole rather than shrunk. */
  family?: 'stability';
  yTrueShape: number[];
  yPredShape: number[];
  labels: boolean;
  yTrue: number[];
  yPred: number[];
  /** Options given at compile time (overrides of the defaults). */
  overrides: Record<string, number | boolean>;
  header: string;
  defs: Def[];
  lets: Let[];
  result: G;
  mask?: G;
}

/** The program's lossc text; `sub` swaps nodes for others (the minimizer's edits). */
export function programText(p: WellProgram, sub?: ReadonlyMap<G, G>): string {
  const lines: string[] = [`# lossc fuzz program, seed ${p.seed}`];
  for (const d of p.defs) {
    const opt = d.option ? `; ${d.option.name} = ${d.option.default}` : '';
    lines.push(`def ${d.name}(${d.params.join(', ')}${opt}) =`, `  ${render(d.body, sub).text}`);
  }
  lines.push(p.header);
  for (const l of p.lets) {
    const v = render(l.value, sub).text;
    if (l.split) lines.push(`  let [${l.names.join(', ')}] = split(${v}, ${l.split.parts}${l.split.axis})`);
    else lines.push(`  let ${l.names[0]} = ${v}`);
  }
  const r = render(p.result, sub).text;
  lines.push(p.mask ? `  masked(${r}, ${render(p.mask, sub).text})` : `  ${r}`);
  return lines.join('\n') + '\n';
}

const randShape = (r: Rng, rank: number) => Array.from({ length: rank }, () => r.int(1, 4));

/** Generate the program of one seed. */
export function generateWell(seed: number): WellProgram {
  if (isStabilitySeed(seed)) return generateStability(seed);
  const rng = new Rng(seed);
  const g = new Gen(rng);
  g.budget = rng.int(8, 45);
  const labels = rng.chance(0.25);
  const ctc = labels && rng.chance(0.25);
  const yPredShape = ctc ? [rng.int(1, 3), rng.int(2, 5), rng.int(2, 4)] : randShape(rng, rng.int(labels ? 2 : 1, 3));
  if (labels) yPredShape[yPredShape.length - 1] = rng.int(2, 4);
  else if (rng.chance(0.1)) yPredShape.length = 0;
  const yTrueShape = ctc ? [yPredShape[0]!, rng.int(1, Math.min(3, yPredShape[1]!))] : labels ? yPredShape.slice(0, -1) : rng.chance(0.7) ? [...yPredShape] : yPredShape.map((d) => (rng.chance(0.5) ? 1 : d));
  g.dims = [...new Set([...yPredShape, ...yTrueShape].filter((d) => d > 1))];
  if (!g.dims.length) g.dims = [2];
  const classes = labels ? yPredShape[yPredShape.length - 1]! : 0;
  const probTargets = !labels && rng.chance(0.4);
  const yPred = Array.from({ length: sizeOf(yPredShape) }, () => Math.fround(rng.uniform(-2, 2)));
  const yTrue = Array.from({ length: sizeOf(yTrueShape) }, () => (labels ? rng.int(0, classes - 1) : Math.fround(probTargets ? rng.next() : rng.uniform(-2, 2))));
  if (ctc) {
    // CTC labels: classes 1..C-1, padded with 0 (the blank) at the end of each row.
    const L = yTrueShape[1]!;
    for (let i = 0; i < yTrueShape[0]!; i++) {
      const len = rng.int(0, L);
      for (let k = 0; k < L; k++) yTrue[i * L + k] = k < len ? rng.int(1, classes - 1) : 0;
    }
    g.ctc = yPredShape as [number, number, number];
  }

  const { decls, overrides } = makeOptions(g, yPredShape.length);
  const defs = makeDefs(g);
  const tAnn = labels ? (rng.chance(0.5) ? ': int' : `: int[${yTrueShape.join(', ')}]`) : '';
  const pAnn = rng.chance(0.2) && yPredShape.length ? `: [..., ${yPredShape[yPredShape.length - 1]}]` : '';
  const header = `loss f(y_true${tAnn}, y_pred${pAnn}${decls.length ? `; ${decls.join(', ')}` : ''}) =`;
  g.vars.push({ name: 'y_pred', g: leaf('y_pred', 'float', yPredShape, -2, 2) });
  g.vars.push({ name: 'y_true', g: leaf('y_true', labels ? 'int' : 'float', yTrueShape, labels ? 0 : probTargets ? 0 : -2, labels ? classes - 1 : 2) });
  if (labels) g.classes = classes;
  const lets = makeLets(g, yPredShape, yTrueShape);
  const outShapes = ctc ? [[yPredShape[0]!], [yPredShape[0]!], []] : [yPredShape.slice(0, -1), [], yPredShape, yTrueShape];
  const outShape = rng.pick(outShapes.filter((s) => s.length <= yPredShape.length));
  // The result should depend on y_pred (through the lets or directly): a few tries.
  const dependent = new Set(['y_pred']);
  for (const l of lets) if (mentions(render(l.value).text, dependent)) l.names.forEach((n) => dependent.add(n));
  let result = g.float(outShape, rng.int(2, 5));
  for (let k = 0; k < 3 && !mentions(render(result).text, dependent); k++) result = g.float(outShape, rng.int(2, 5));
  const mask = rng.chance(0.12) ? g.bool(outShape, 2) : undefined;
  return { seed, yTrueShape, yPredShape, labels, yTrue, yPred, overrides, header, defs, lets, result, mask };
}

function makeOptions(g: Gen, rank: number): { decls: string[]; overrides: Record<string, number | boolean> } {
  const decls: string[] = [];
  const overrides: Record<string, number | boolean> = {};
  const add = (kind: NumOption['kind'], dflt: number | boolean, other: number | boolean) => {
    const name = g.fresh(kind === 'num' ? 'o' : kind === 'bool' ? 'flag' : 'ax');
    const override = g.rng.chance(0.4);
    const value = override ? other : dflt;
    if (override) overrides[name] = other;
    g.opts.push({ name, kind, value, default: dflt });
    decls.push(`${name} = ${typeof dflt === 'number' && dflt < 0 ? `-${-dflt}` : String(dflt)}`);
  };
  const pickNum = () => g.rng.pick([0.25, 0.5, 1, 1.5, 2, 2.5, 3]);
  for (let i = g.rng.int(0, 2); i > 0; i--) add('num', pickNum(), pickNum());
  for (let i = g.rng.int(0, 2); i > 0; i--) {
    const b = g.rng.chance(0.5);
    add('bool', b, !b);
  }
  if (rank >= 1 && g.rng.chance(0.3)) add('axis', -1, g.rng.int(0, rank - 1));
  return { decls, overrides };
}

function makeDefs(g: Gen): Def[] {
  const defs: Def[] = [];
  for (let i = g.rng.int(0, 2); i > 0; i--) {
    const name = g.fresh('h');
    const shapes = Array.from({ length: g.rng.int(1, 2) }, () => g.rng.pick(shapePalette(g)));
    const params = shapes.map((_, k) => ['a', 'b'][k]!);
    const saved = { vars: g.vars, opts: g.opts, budget: g.budget };
    g.vars = params.map((p, k) => ({ name: p, g: leaf(p, 'float', shapes[k]!, -3, 3) }));
    g.opts = [];
    g.budget = g.rng.int(3, 10);
    const outShape = g.rng.pick(shapes);
    let body = g.float(g.rng.chance(0.7) ? outShape : outShape.slice(0, -1), 3);
    g.vars = saved.vars;
    g.opts = saved.opts;
    g.budget = saved.budget;
    let option: Def['option'];
    if (g.rng.chance(0.5)) {
      option = { name: 'k', default: g.rng.pick([0.5, 1, 2]) };
      const inner = body;
      const lo = Math.min(inner.lo * 0.5, inner.lo * 2);
      const hi = Math.max(inner.hi * 0.5, inner.hi * 2);
      body = { ...inner, lo, hi, prec: 7, kids: [inner], fmt: (k) => `k * ${k[0]!.prec >= 8 ? k[0]!.text : `(${k[0]!.text})`}` };
    }
    defs.push({ name, params, option, body });
    g.defs.push({ name, params: params.map((p, k) => ({ name: p, shape: shapes[k]! })), option: option?.name, out: body });
  }
  return defs;
}

function shapePalette(g: Gen): number[][] {
  const vs = g.vars.filter((v) => v.g.dtype === 'float').map((v) => v.g.shape);
  return vs.length ? [...vs, []] : [[g.rng.pick(g.dims)], [], [g.rng.pick(g.dims), g.rng.pick(g.dims)]];
}

function makeLets(g: Gen, yPred: number[], yTrue: number[]): Let[] {
  const lets: Let[] = [];
  for (let i = g.rng.int(0, 3); i > 0; i--) {
    const S = g.rng.pick([yPred, yTrue, yPred.slice(0, -1), [], yPred]);
    if (g.rng.chance(0.2) && S.length) {
      const parts = g.rng.int(2, 3);
      const k = g.rng.int(0, S.length - 1);
      const value = g.float(S.map((v, j) => (j === k ? v * parts : v)), 2);
      const names = Array.from({ length: parts }, () => '');
      for (let j = 0; j < parts; j++) {
        names[j] = g.fresh('p');
        g.vars.push({ name: names[j]!, g: leaf(names[j]!, 'float', S, value.lo, value.hi) });
      }
      const axis = k === S.length - 1 && g.rng.chance(0.5) ? '' : `, axis = ${g.axisText(k, S.length)}`;
      lets.push({ names, value, split: { parts, axis } });
      continue;
    }
    const bool = g.rng.chance(0.15);
    const value = bool ? g.bool(S, 2) : g.float(S, g.rng.int(1, 3));
    const name = g.fresh('v');
    g.vars.push({ name, g: leaf(name, value.dtype, S, value.lo, value.hi) });
    lets.push({ names: [name], value });
  }
  return lets;
}

function mentions(text: string, names: Set<string>): boolean {
  return (text.match(/[A-Za-z_]\w*/g) ?? []).some((w) => names.has(w));
}
