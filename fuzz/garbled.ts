// Garbled programs: a well-formed program (or a stdlib file) with its tokens deleted, duplicated,
// swapped or replaced, odd unicode, huge numbers, deep nesting, long lines, long chains and
// truncation. The only acceptable outcome is success or a LosscError that says where (line and
// column), from parsing, lowering, printing the derivative, compiling and calling, and the CLI.

import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseProgram } from '../grammar/index.js';
import { derivative } from '../src/pipeline/derivative.js';
import { compile } from '../src/api/compile.js';
import { makeLoss } from '../src/api/losses.js';
import { main as cliMain } from '../src/cli/main.js';
import { LosscError, LosscErrors } from '../src/errors.js';
import type { Library } from '../src/lower/library.js';
import { STDLIB_SOURCES } from '../src/lower/stdlib-sources.js';
import { lowerDefinition } from '../src/lower/lower.js';
import { Rng } from './rng.js';
import { generateWell, programText } from './well/program.js';
import type { Verdict } from './well/check.js';

/** Split text into tokens (names, numbers, strings, operators, single characters) and the gaps between them. */
export function tokens(text: string): string[] {
  return text.match(/[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|<=|>=|==|!=|\.\.\.|\s+|#[^\n]*|[\s\S]/gu) ?? [];
}

const ODD = ['\u00a0', '\u200b', '\u202e', '\ufeff', 'é', '𝑥', '\ud800', '\u0000', '１', 'λ', '😀', '\r', '\t', '\u2028', '\\', '`', '$', '@', '{', '}', '"', "'", '#'];
const HUGE = ['1e308', '1e999', '9'.repeat(400), '1e-400', '0.0000000000000000000000000000001', '123456789012345678901234567890', '1e38', '-1e38', '2147483648', '4294967297', '1e16', '.', '1.e', '0x10', '00', '1_000', 'NaN', 'Infinity', 'inf', '-inf'];
const WORDS = ['loss', 'def', 'regularizer', 'let', 'if', 'then', 'else', 'and', 'or', 'not', 'true', 'false', 'none', 'import', 'y_pred', 'y_true', 'sum(', 'mean(', 'split(', 'one_hot(', 'where(', 'axis', 'keepdims', '=', ',', ';', '(', ')', '[', ']', ':', '^', '-', '+', '*', '/', '...', 'int', 'float', 'bool', '\n', 'epsilon', 'inf', 'softmax(', 'part(', 'transpose(', 'concat(', 'matmul(', 'ctc(', 'masked(', 'require('];

function stdlibTexts(): string[] {
  return Object.keys(STDLIB_SOURCES).sort().map((f) => STDLIB_SOURCES[f]!);
}

let stdlibCache: string[] | undefined;

/** Mutations over a token list (each returns the new list). */
const MUTATIONS: Record<string, (r: Rng, t: string[]) => string[]> = {
  delete: (r, t) => {
    const i = r.int(0, t.length - 1);
    return [...t.slice(0, i), ...t.slice(i + r.int(1, 3))];
  },
  duplicate: (r, t) => {
    const i = r.int(0, t.length - 1);
    const j = Math.min(t.length, i + r.int(1, 6));
    return [...t.slice(0, j), ...t.slice(i, j), ...t.slice(j)];
  },
  swap: (r, t) => {
    const u = [...t];
    const i = r.int(0, t.length - 1);
    const j = r.int(0, t.length - 1);
    [u[i], u[j]] = [u[j]!, u[i]!];
    return u;
  },
  insert: (r, t) => {
    const i = r.int(0, t.length);
    const w = r.chance(0.3) ? r.pick(ODD) : r.pick(WORDS);
    return [...t.slice(0, i), r.chance(0.5) ? ` ${w} ` : w, ...t.slice(i)];
  },
  number: (r, t) => {
    const nums = t.map((x, i) => (/^\d|^\.\d/.test(x) ? i : -1)).filter((i) => i >= 0);
    const u = [...t];
    const i = nums.length ? r.pick(nums) : r.int(0, t.length - 1);
    u[i] = r.pick(HUGE);
    return u;
  },
  nest: (r, t) => {
    const n = r.pick([50, 99, 100, 101, 200, 3000]);
    const i = r.int(0, t.length);
    const [open, close] = r.pick([['(', ')'], ['[', ']'], ['-', ''], ['not ', ''], ['exp(', ')'], ['if true then ', ' else 0'], ['- -', ''], ['[', '']]);
    return [...t.slice(0, i), open.repeat(n), ...t.slice(i, i + 1), close.repeat(n), ...t.slice(i + 1)];
  },
  chain: (r, t) => {
    const n = r.pick([100, 2000, 10000]);
    // Right after a name (an operand) most of the time, so that the chain parses.
    const names = t.map((x, i) => (x === 'y_pred' || x === 'y_true' ? i + 1 : -1)).filter((i) => i >= 0);
    const i = names.length && r.chance(0.8) ? r.pick(names) : r.int(0, t.length);
    const link = r.pick([' + y_pred', '^1', ' * 1', ' and true', ' - 1', ', 1']);
    return [...t.slice(0, i), link.repeat(n), ...t.slice(i)];
  },
  staticArg: (r, t) => {
    // A number that is an argument or an option's value (split parts, axis, depth, index) made huge or odd.
    const args = t.map((x, i) => (/^\d/.test(x) && /[,=(]\s*$/.test(t.slice(Math.max(0, i - 2), i).join('')) ? i : -1)).filter((i) => i >= 0);
    if (!args.length) return t;
    const u = [...t];
    u[r.pick(args)] = r.pick(['1e38', '1e9', '2147483648', '0', '1.5', '1e999', '-1', '99', '1e-320']);
    return u;
  },
  long: (r, t) => {
    const i = r.int(0, t.length);
    const w = r.pick(['x'.repeat(100_000), `# ${'c'.repeat(200_000)}\n`, `"${'s'.repeat(50_000)}"`, ' '.repeat(100_000), '\n'.repeat(20_000), 'let a = 1\n'.repeat(3000)]);
    return [...t.slice(0, i), w, ...t.slice(i)];
  },
  truncate: (r, t) => t.slice(0, r.int(0, t.length - 1)),
  unicode: (r, t) => {
    const u = [...t];
    const i = r.int(0, t.length - 1);
    u[i] = r.chance(0.5) ? r.pick(ODD) : u[i]!.split('').map((c) => (r.chance(0.3) ? r.pick(ODD) : c)).join('');
    return u;
  },
};

const WEIGHTS: Record<string, number> = { delete: 4, duplicate: 3, swap: 3, insert: 3, number: 2, staticArg: 1, nest: 1, chain: 0.7, long: 0.4, truncate: 1.5, unicode: 2 };

/** The garbled program of one seed. */
export function generateGarbled(seed: number): string {
  const r = new Rng(seed);
  let base: string;
  if (r.chance(0.75)) base = programText(generateWell(seed ^ 0x9e3779b9));
  else base = r.pick((stdlibCache ??= stdlibTexts()));
  let t = tokens(base);
  for (let k = r.int(1, 4); k > 0 && t.length; k--) t = MUTATIONS[r.weighted(WEIGHTS)]!(r, t);
  return t.join('');
}

/** The outcome of one stage: fine, or the failure it shows. */
function judge(stage: string, e: unknown, located: boolean): Verdict | undefined {
  if (e instanceof LosscErrors) {
    const bad = e.errors.find((x) => !x.span);
    if (located && bad) return { kind: 'fail', check: 'unlocated', detail: `${stage}: ${bad.message}` };
    return undefined;
  }
  if (e instanceof LosscError) {
    if (located && !e.span) return { kind: 'fail', check: 'unlocated', detail: `${stage}: ${e.message}` };
    return undefined;
  }
  const err = e as Error;
  return { kind: 'fail', check: 'crash', detail: `${stage}: ${err?.stack ?? String(e)}` };
}

let tmpDir: string | undefined;

/** Run a garbled program through every stage; failures are crashes or unlocated errors. */
export async function checkGarbled(text: string, cli = true): Promise<Verdict> {
  try {
    parseProgram(text, '<garbled>');
  } catch (e) {
    return judge('parse', e, true) ?? (await viaCli(text, cli));
  }
  let lib: Library;
  try {
    lib = compile(text).library; // the public entry: parse, imports, the library
  } catch (e) {
    return judge('library', e, true) ?? (await viaCli(text, cli));
  }
  for (const def of lib.own) {
    try {
      lowerDefinition(lib, def.name);
      if (def.kind === 'loss' && def.params.length) derivative(def.name, def.params[def.params.length - 1]!.name, { library: lib }).toString();
    } catch (e) {
      const v = judge(`lower/derivative of ${def.name}`, e, true);
      if (v) return v;
      continue;
    }
    if (def.kind === 'loss' && def.params.length === 2) {
      const v = callLoss(lib, def.name);
      if (v) return v;
    }
  }
  return viaCli(text, cli);
}

/** Compile a loss that lowered and call it (value and gradient) on small tensors: typed errors only, no leaks. */
function callLoss(lib: Library, name: string): Verdict | undefined {
  const before = tf.memory().numTensors;
  const yt = tf.tensor([[0, 1, 0], [1, 0, 0]]);
  const yp = tf.tensor([[0.2, 0.7, 0.1], [0.5, 0.3, 0.2]]);
  try {
    const fn = makeLoss(lib, lib.get(name)!.def, {});
    const g = tf.grad((p: tf.Tensor) => fn(yt, p))(yp);
    g.dispose();
  } catch (e) {
    const v = judge(`call of ${name}`, e, false);
    if (v) return v;
  } finally {
    tf.dispose([yt, yp]);
  }
  const leaked = tf.memory().numTensors - before;
  return leaked ? { kind: 'fail', check: 'leak', detail: `call of ${name}: ${leaked} tensor(s) left` } : undefined;
}

/** `lossc check FILE` in process: exit 0 or 1, and never an internal error. */
async function viaCli(text: string, cli: boolean): Promise<Verdict> {
  if (!cli) return { kind: 'ok', fused: false, skippedChecks: 0 };
  tmpDir ??= mkdtempSync(join(tmpdir(), 'lossc-fuzz-'));
  const file = join(tmpDir, 'garbled.loss');
  writeFileSync(file, text);
  const errs: string[] = [];
  const code = await cliMain(['check', file], () => {}, (s) => errs.push(s));
  const msg = errs.join('\n');
  if ((code !== 0 && code !== 1) || /internal error/.test(msg)) {
    return { kind: 'fail', check: 'crash', detail: `lossc check: exit ${code}: ${msg.slice(0, 2000)}` };
  }
  return { kind: 'ok', fused: false, skippedChecks: 0 };
}

export function cleanupGarbled(): void {
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = undefined;
}
