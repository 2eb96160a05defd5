// `lossc eval`: JSON Lines in, one JSON line out per request, in order; a bad request gets an
// error answer and the stream goes on. The requests run through the same API a JS user calls.

import * as tf from '@tensorflow/tfjs';
import { createInterface } from 'node:readline';
import { LosscError, LosscErrors, registerSource } from '../errors.js';
import { Library } from '../lower/library.js';
import { makeLoss, type LossOptions } from '../api/losses.js';
import { checkReduction } from '../keras/wrapper.js';

export interface EvalRequest {
  id?: unknown;
  loss?: unknown;
  source?: unknown;
  options?: unknown;
  reduction?: unknown;
  call?: unknown;
  y_true?: unknown;
  y_pred?: unknown;
  sample_weight?: unknown;
  mask?: unknown;
  grad?: unknown;
}

export type EvalAnswer =
  | { id: unknown; value: unknown; grad?: unknown }
  | { id: unknown; error: { kind: string; message: string } };

const libraries = new Map<string, Library>();

function libraryFor(source: unknown): Library {
  if (source === undefined || source === null) return Library.stdlib();
  if (typeof source !== 'string') throw new LosscError('value', '`source` must be a string of lossc text');
  let lib = libraries.get(source);
  // Errors found later in a cached library quote '<source>': make it this text again.
  if (lib) registerSource('<source>', source);
  if (!lib) {
    lib = Library.fromSource(source, '<source>');
    if (libraries.size > 16) libraries.delete(libraries.keys().next().value!);
    libraries.set(source, lib);
  }
  return lib;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** Deepest JSON array a request may hold (TensorFlow's own limit on ranks is 254). */
export const MAX_JSON_RANK = 32;

/** Nested JSON numbers (or booleans) → a tensor, with a clear error for anything else. */
export function tensorFromJson(v: unknown, what: string, dtype: 'float32' | 'bool' = 'float32'): tf.Tensor {
  const shape: number[] = [];
  let level = v;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (shape.length > MAX_JSON_RANK) {
      throw new LosscError('limit', `${what} is nested more than ${MAX_JSON_RANK} arrays deep; lossc takes tensors of rank at most ${MAX_JSON_RANK}`);
    }
    level = level[0];
  }
  const flat: number[] = [];
  const walk = (x: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (dtype === 'bool') {
        if (typeof x !== 'boolean' && x !== 0 && x !== 1) throw new LosscError('value', `${what}${path} must be true or false, got ${JSON.stringify(x)}`);
        flat.push(x ? 1 : 0);
        return;
      }
      if (typeof x === 'boolean') {
        flat.push(x ? 1 : 0);
        return;
      }
      if (typeof x !== 'number') throw new LosscError('value', `${what}${path} must be a number, got ${JSON.stringify(x) ?? String(x)}`);
      if (!Number.isFinite(x)) throw new LosscError('value', `${what}${path} is not finite (${x})`);
      // Tensors are float32: a larger number would silently become Infinity.
      if (Math.abs(x) > FLOAT32_MAX) throw new LosscError('value', `${what}${path} is ${x}, beyond the float32 range (±${FLOAT32_MAX.toPrecision(8)})`);
      flat.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) {
      throw new LosscError('value', `${what} is not a rectangular array: ${what}${path} should have ${shape[depth]} entries`);
    }
    x.forEach((y, i) => walk(y, depth + 1, `${path}[${i}]`));
  };
  walk(v, 0, '');
  return dtype === 'bool' ? tf.tensor(flat.map((v) => v !== 0), shape, 'bool') : tf.tensor(flat, shape, 'float32');
}

function jsonValue(t: tf.Tensor): unknown {
  const fix = (x: unknown): unknown =>
    Array.isArray(x) ? x.map(fix) : typeof x === 'number' && !Number.isFinite(x) ? String(x) : x;
  return fix(t.arraySync());
}

/** Answer one request (never throws). */
export function answer(req: EvalRequest): EvalAnswer {
  const id = req?.id ?? null;
  const before = tf.memory().numTensors;
  const owned: tf.Tensor[] = [];
  try {
    if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new LosscError('value', 'a request must be a JSON object');
    if (typeof req.loss !== 'string') throw new LosscError('value', '`loss` must name a loss (a stdlib name or alias, or one defined in `source`)');
    const lib = libraryFor(req.source);
    const entry = lib.require(req.loss, ['loss']);
    const opts: LossOptions = {};
    if (req.options !== undefined && req.options !== null) {
      if (typeof req.options !== 'object' || Array.isArray(req.options)) throw new LosscError('value', '`options` must be an object');
      Object.assign(opts, req.options);
    }
    opts.reduction = checkReduction(req.reduction === undefined ? 'sum_over_batch_size' : req.reduction);
    if (req.call !== undefined && req.call !== 'function' && req.call !== 'class') throw new LosscError('value', '`call` must be "function" or "class"');
    if (req.call === 'function') opts.call = 'function';
    const fn = makeLoss(lib, entry.def, opts);
    const yTrue = tensorFromJson(req.y_true, 'y_true');
    owned.push(yTrue);
    const yPred = tensorFromJson(req.y_pred, 'y_pred');
    owned.push(yPred);
    let sw: tf.Tensor | undefined;
    if (req.sample_weight !== undefined && req.sample_weight !== null) {
      sw = tensorFromJson(req.sample_weight, 'sample_weight');
      owned.push(sw);
    }
    let mask: tf.Tensor | undefined;
    if (req.mask !== undefined && req.mask !== null) {
      mask = tensorFromJson(req.mask, 'mask', 'bool');
      owned.push(mask);
    }
    const value = fn(yTrue, yPred, sw, { mask });
    owned.push(value);
    const out: EvalAnswer = { id, value: jsonValue(value) };
    if (req.grad === true) {
      const g = tf.grad((yp: tf.Tensor) => tf.sum(fn(yTrue, yp, sw, { mask })))(yPred);
      owned.push(g);
      (out as { grad?: unknown }).grad = jsonValue(g);
    }
    return out;
  } catch (e) {
    return { id, error: describe(e) };
  } finally {
    for (const t of owned) t.dispose();
    const leaked = tf.memory().numTensors - before;
    if (leaked > 0) process.emitWarning(`lossc eval: ${leaked} tensor(s) leaked by request ${JSON.stringify(id)}`);
  }
}

export function describe(e: unknown): { kind: string; message: string } {
  if (e instanceof LosscErrors) return { kind: e.kind, message: e.errors.map((x) => x.message).join('\n') };
  if (e instanceof LosscError) return { kind: e.kind, message: e.message };
  const message = e instanceof Error ? e.message : String(e);
  // tfjs reports shape problems as plain Errors; name them for what they are.
  const kind = /shape|broadcast|rank|dimension/i.test(message) ? 'shape' : 'internal';
  return { kind, message };
}

/** Read JSON Lines from `input`, write answers to `write`. */
export async function runEval(input: NodeJS.ReadableStream, write: (line: string) => void): Promise<void> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of rl) {
    lineNo++;
    if (line.trim() === '') continue;
    let req: EvalRequest;
    try {
      req = JSON.parse(line) as EvalRequest;
    } catch (e) {
      // The message names the line; its text is not kept (a long stream of bad lines would pile up).
      write(JSON.stringify({ id: null, error: { kind: 'value', message: `line ${lineNo} is not valid JSON: ${(e as Error).message}` } }));
      continue;
    }
    write(JSON.stringify(answer(req)));
  }
}
