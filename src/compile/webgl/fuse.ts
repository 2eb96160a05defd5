// The WebGL target's planning: which nodes of a plan become one GLSL program each, and the
// program's source, from the checked IR only.
//
// A node is fusible when its op has GLSL (glsl.ts) and it and what it reads are float or bool
// (ints stay with tfjs). A fusible node is materialised (a program computes it into a texture)
// when a root is it, a tfjs kernel reads it, or it is costly and several programs would
// otherwise each compute it again. A program evaluates its root at each output element: the
// fusible, unmaterialised nodes below it inline (their shapes broadcast to the root's, so each
// is its value at the element's coordinates), const and param as literals, and everything else
// (materialised nodes, kernels' results, the plan's inputs) sampled with broadcasting by
// tfjs's `getXAtOutCoords()`.
//
// Safety: the source is fixed fragments (glsl.ts), names made up here (`x3`, `t12`) and
// numbers through glslFloat; no attribute string ever enters it.

import { mapDag, Node, withArgs } from '../../ir/node.js';
import { OPS } from '../../ir/ops.js';
import { GLSL, prelude, readArgs, type Helper } from './glsl.js';

/** A program for tfjs's webgl backend (its GPGPUProgram). */
export interface WebglProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  packedInputs: false;
  packedOutput: false;
}

export interface Group {
  /** The node the program computes. */
  root: Node;
  /** The nodes it evaluates, arguments first (the root last); const and param among them. */
  nodes: Node[];
  /** The nodes it samples, in the order of its variables. */
  inputs: Node[];
  program: WebglProgram;
}

/** A step of a webgl plan: one tfjs kernel for a node, or one program for a group. */
export type WebglStep = { node: Node; group?: undefined } | { node: Node; group: Group };

/** Work an op's element costs, roughly (a transcendental helper is several multiplies). */
const HEAVY = new Set(['exp', 'log', 'log1p', 'expm1', 'sqrt', 'sigmoid', 'softplus', 'tanh', 'pow', 'div']);
/** A shared node is computed once more per extra program that reads it while this is small. */
const SHARE_COST = 16;
/** getOutputCoords goes up to rank 6. */
const MAX_RANK = 6;

const isLeaf = (n: Node) => OPS[n.op].family === 'leaf';
const floatOrBool = (n: Node) => n.dtype === 'float32' || n.dtype === 'bool';

function glslOf(n: Node, args: readonly string[], use: (h: Helper) => void): string | null {
  return GLSL[n.op]?.(args, n, use) ?? null;
}

function fusible(n: Node): boolean {
  if (!floatOrBool(n) || n.rank > MAX_RANK || !readArgs(n).every(floatOrBool)) return false;
  return glslOf(n, readArgs(n).map(() => 'a'), () => {}) !== null;
}

/**
 * The roots with each logsumexp spelled out as its tfjs kernel computes it (lse = log(sum(exp(x -
 * s))) + s, s = max(x) where finite, else 0), so that its elementwise parts join programs: two
 * reductions and what programs read, instead of nine kernels.
 */
export function expandForWebgl(roots: readonly Node[]): Node[] {
  return mapDag(roots, (n, args) => {
    if (n.op !== 'logsumexp') return withArgs(n, args);
    const axes = n.attrs.axes as number[];
    if (axes.length === 0) return args[0]!;
    const f = (op: Parameters<typeof Node.make>[0], ...xs: Node[]) => Node.make(op, xs);
    const m = Node.make('max', args, { axes, keepdims: true });
    const shift = f('where', f('lt', f('abs', m), Node.make('const', [], { value: Infinity })), m, Node.make('const', [], { value: 0 }));
    const s = Node.make('sum', [f('exp', f('sub', args[0]!, shift))], { axes, keepdims: true });
    let r = f('add', f('log', s), shift);
    if (n.attrs.keepdims !== true) for (const a of [...axes].sort((p, q) => q - p)) r = Node.make('squeeze', [r], { axis: a });
    return r;
  });
}

/** The plan's nodes (`order`, arguments first; `bound` are given) as kernel steps and program steps. */
export function webglSteps(order: readonly Node[], roots: readonly Node[], bound: ReadonlySet<Node>): WebglStep[] {
  const inline = new Set<Node>();
  const fused = new Set<Node>();
  for (const n of order) {
    if (bound.has(n)) continue;
    if (isLeaf(n)) {
      if (glslOf(n, [], () => {}) !== null) inline.add(n);
    } else if (fusible(n)) fused.add(n);
  }
  const materialized = chooseMaterialized(order, roots, bound, fused);
  // Backwards from the roots: what must be computed, and by which step.
  const needed = new Set<Node>(roots);
  const steps: WebglStep[] = [];
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    if (!needed.has(n) || bound.has(n)) continue;
    if (materialized.has(n)) {
      const group = groupOf(n, order, bound, inline, fused, materialized);
      for (const x of group.inputs) needed.add(x);
      steps.push({ node: n, group });
    } else {
      for (const a of n.args) needed.add(a);
      steps.push({ node: n });
    }
  }
  return steps.reverse();
}

function chooseMaterialized(order: readonly Node[], roots: readonly Node[], bound: ReadonlySet<Node>, fused: ReadonlySet<Node>): Set<Node> {
  const readers = new Map<Node, Node[]>();
  const byKernel = new Set<Node>(roots);
  const cost = new Map<Node, number>();
  for (const n of order) {
    if (bound.has(n)) continue;
    if (!fused.has(n)) {
      for (const a of n.args) byKernel.add(a);
      continue;
    }
    let c = HEAVY.has(n.op) ? 4 : 1;
    for (const a of readArgs(n)) {
      if (!readers.has(a)) readers.set(a, []);
      readers.get(a)!.push(n);
      c += cost.get(a) ?? 0;
    }
    cost.set(n, Math.min(c, 1e6));
  }
  // From the roots down: the programs that would evaluate each node inline.
  const materialized = new Set<Node>();
  const reach = new Map<Node, Set<Node>>();
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    if (!fused.has(n)) continue;
    const programs = new Set<Node>();
    for (const u of readers.get(n) ?? []) for (const p of materialized.has(u) ? [u] : reach.get(u) ?? []) programs.add(p);
    if (byKernel.has(n) || (programs.size > 1 && cost.get(n)! * (programs.size - 1) > SHARE_COST)) materialized.add(n);
    reach.set(n, programs);
  }
  return materialized;
}

/** The program computing `root`: what it inlines and what it samples, and its GLSL. */
function groupOf(
  root: Node,
  order: readonly Node[],
  bound: ReadonlySet<Node>,
  inline: ReadonlySet<Node>,
  fused: ReadonlySet<Node>,
  materialized: ReadonlySet<Node>,
): Group {
  const members = new Set<Node>([root]);
  const inputs: Node[] = [];
  const stack = [root];
  while (stack.length) {
    for (const a of readArgs(stack.pop()!)) {
      if (members.has(a) || inputs.includes(a)) continue;
      const inlined = !bound.has(a) && (inline.has(a) || (fused.has(a) && !materialized.has(a)));
      if (!inlined) inputs.push(a);
      else {
        members.add(a);
        stack.push(a);
      }
    }
  }
  const nodes = order.filter((n) => members.has(n));
  const used = new Set<Helper>();
  const names = new Map<Node, string>();
  const lines: string[] = [];
  inputs.forEach((x, i) => {
    names.set(x, `x${i}v`);
    lines.push(`float x${i}v = getX${i}AtOutCoords();`);
  });
  for (const n of nodes) {
    const code = glslOf(n, readArgs(n).map((a) => names.get(a)!), (h) => used.add(h))!;
    if (isLeaf(n)) names.set(n, code);
    else {
      names.set(n, `t${names.size}`);
      lines.push(`float ${names.get(n)!} = ${code};`);
    }
  }
  const userCode = `${prelude(used)}\nvoid main() {\n  ${lines.join('\n  ')}\n  setOutput(${names.get(root)!});\n}\n`;
  const variableNames = inputs.map((_, i) => `x${i}`);
  return { root, nodes, inputs, program: { variableNames, outputShape: [...(root.shape as number[])], userCode, packedInputs: false, packedOutput: false } };
}
