// Running exported Python in tests: Debian's /usr/bin/python3 (which sees python3-numpy and
// python3-torch; another python3 may come first on PATH), one process per batch of cases.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flatten, shapeOf } from './arrays.js';

export const PYTHON = '/usr/bin/python3';
export const FIXTURES = fileURLToPath(new URL('../fixtures/export/', import.meta.url));

// Finds each module (dotted names package by package) without importing it: importing torch
// costs a second of CPU, and the tests that need it import it anyway (a broken install fails there).
const FIND = `import importlib.util, os, sys
def found(name):
    first, *rest = name.split('.')
    spec = importlib.util.find_spec(first)
    where = spec and spec.submodule_search_locations
    if spec is None: return False
    for part in rest:
        hits = [os.path.join(d, part) for d in where or [] if os.path.isdir(os.path.join(d, part)) or os.path.isfile(os.path.join(d, part + '.py'))]
        if not hits: return False
        where = [h for h in hits if os.path.isdir(h)]
    return True
sys.exit(0 if all(found(m) for m in sys.argv[1:]) else 1)`;

/** Whether /usr/bin/python3 has every module named (found on its path, not imported). */
export function pythonHas(modules: string[]): boolean {
  const r = spawnSync(PYTHON, ['-c', FIND, ...modules], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0;
}

export const SKIP_NOTE = `skipped: ${PYTHON} cannot import numpy and torch (CI installs python3-numpy and python3-torch, see .ci/run)`;

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `lossc-${tag}-`));
}

export interface PyCase {
  id: string;
  module: string;
  loss: string;
  options?: Record<string, unknown>;
  reduction?: string;
  call?: string;
  y_true: unknown;
  y_pred: unknown;
  sample_weight?: unknown;
  mask?: unknown;
  grad?: boolean;
  grad_module?: string;
  class?: boolean;
  vjp?: boolean;
}

/** Flattened values and their shape, as run_cases.py answers. */
export type Flat = [Array<number | string>, number[]];

export interface PyAnswer {
  id: string;
  value?: Flat;
  grad?: Flat;
  value_lossc?: Flat;
  grad_lossc?: Flat;
  class_value?: Flat;
  vjp_grads?: Flat[];
  error?: string;
  trace?: string;
}

/** Run cases on modules in `dir` (one python process), by fixtures/export/run_cases.py. */
export function runCases(dir: string, target: string, cases: PyCase[], standin = false): Map<string, PyAnswer> {
  const job = join(dir, `job-${target}.json`);
  writeFileSync(job, JSON.stringify({ modules: dir, target, standin, cases }));
  const r = spawnSync(PYTHON, [join(FIXTURES, 'run_cases.py'), job], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 300_000 });
  if (r.status !== 0) throw new Error(`run_cases.py failed (${r.status}): ${r.stderr.slice(-3000)}`);
  const answers = JSON.parse(r.stdout) as PyAnswer[];
  return new Map(answers.map((a) => [a.id, a]));
}

/** Largest error of `got` against `want` relative to max(|want|, floor) (rtol 1e-5 with floor 0.1 is atol 1e-6), or a shape problem. */
export function relError(got: Flat | undefined, want: unknown, floor = 0.1): number | string {
  if (!got) return 'no value';
  const shape = shapeOf(want);
  if (JSON.stringify(shape) !== JSON.stringify(got[1])) return `shape ${JSON.stringify(got[1])} != ${JSON.stringify(shape)}`;
  const w = flatten(want);
  const g = got[0].map(Number);
  let worst = 0;
  for (let i = 0; i < w.length; i++) {
    if (w[i] === g[i] || (Number.isNaN(w[i]) && Number.isNaN(g[i]))) continue;
    const e = Math.abs(g[i]! - w[i]!) / Math.max(Math.abs(w[i]!), floor);
    worst = Math.max(worst, Number.isNaN(e) ? Infinity : e);
  }
  return worst;
}
