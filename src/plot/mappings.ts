// How one number on a plot's x-axis becomes a loss's two inputs. Each choice is named and
// documented, and `lossc plot --over NAME=a:b` picks one by name: lossc never guesses how a
// scalar maps to y_true and y_pred. A loss's first parameter is the target, its second the
// prediction; every mapping varies the prediction along a fixed direction (`tangent`), so the
// derivative drawn is d loss / d x = <d loss / d y_pred, tangent>.

import type { Definition } from '../../grammar/ast.js';
import { LosscError, didYouMean } from '../errors.js';
import type { Static } from '../lower/builtins.js';

export interface Mapping {
  /** One line: what the x-axis is, and the rows given to the loss. */
  doc: string;
  /** Axis label. */
  label: string;
  /** The default range when `--over NAME` gives none. */
  range: [number, number];
  /** The target row (the same at every x). */
  target: number[];
  /** The prediction row at x. */
  prediction: (x: number) => number[];
  /** d prediction / d x. */
  tangent: number[];
  /** Options the mapping needs the loss to have, and the value it sets (a logit needs from_logits). */
  sets?: Record<string, Static>;
  /** Options the loss must leave at their default when present (a probability needs from_logits false). */
  requires?: Record<string, Static>;
}

const PROBABILITY = { requires: { from_logits: false } };
const LOGITS = { sets: { from_logits: true } };

export const MAPPINGS: Record<string, Mapping> = {
  p_t: {
    doc: 'binary target 1 and a predicted probability p_t of it: y_true = [1], y_pred = [p_t]',
    label: 'p_t, probability of the true class',
    range: [0, 1],
    target: [1],
    prediction: (x) => [x],
    tangent: [1],
    ...PROBABILITY,
  },
  p_t_onehot: {
    doc: 'one-hot row [1, 0] and probabilities [p_t, 1 - p_t]: y_true = [1, 0], y_pred = [p_t, 1 - p_t]',
    label: 'p_t, probability of the true class',
    range: [0, 1],
    target: [1, 0],
    prediction: (x) => [x, 1 - x],
    tangent: [1, -1],
    ...PROBABILITY,
  },
  logit: {
    doc: 'binary target 1 and a logit z (from_logits = true): y_true = [1], y_pred = [z]',
    label: 'z, logit of the true class',
    range: [-6, 6],
    target: [1],
    prediction: (x) => [x],
    tangent: [1],
    ...LOGITS,
  },
  logit_onehot: {
    doc: 'one-hot row [1, 0] and logits [z, 0] (from_logits = true): z is the true class\'s logit minus the other\'s',
    label: 'z, logit of the true class minus the other\'s',
    range: [-6, 6],
    target: [1, 0],
    prediction: (x) => [x, 0],
    tangent: [1, 0],
    ...LOGITS,
  },
  residual: {
    doc: 'a residual r = y_pred - y_true: y_true = [0], y_pred = [r]',
    label: 'residual y_pred - y_true',
    range: [-3, 3],
    target: [0],
    prediction: (x) => [x],
    tangent: [1],
  },
  margin: {
    doc: 'a margin m = y * f for hinge losses, label +1: y_true = [1], y_pred = [m]',
    label: 'margin y_true * y_pred',
    range: [-2, 3],
    target: [1],
    prediction: (x) => [x],
    tangent: [1],
  },
};

/** The table as text, one line per choice (for errors and `--help`). */
export function mappingList(): string {
  return Object.entries(MAPPINGS)
    .map(([name, m]) => `  ${name.padEnd(13)} ${m.doc}`)
    .join('\n');
}

export function mappingNamed(name: string): Mapping {
  const m = MAPPINGS[name];
  if (!m) {
    throw new LosscError(
      'usage',
      `unknown plot input \`${name}\`${didYouMean(name, Object.keys(MAPPINGS))}; the choices:\n${mappingList()}`,
    );
  }
  return m;
}

/** The options a mapping adds to (and checks against) a loss's own: a mismatch is an error, not a guess. */
export function mappingOptions(over: string, m: Mapping, def: Definition, given: Record<string, Static>): Record<string, Static> {
  const declared = new Set(def.options.map((o) => o.name));
  const out = { ...given };
  for (const [k, v] of Object.entries(m.sets ?? {})) {
    if (!declared.has(k)) {
      throw new LosscError('usage', `\`${over}\` gives \`${def.name}\` ${k === 'from_logits' ? 'logits' : `${k} = ${String(v)}`}, but it has no option \`${k}\`; the choices:\n${mappingList()}`);
    }
    if (k in given && given[k] !== v) throw new LosscError('usage', `\`${over}\` needs ${k} = ${String(v)}, but ${k} = ${String(given[k])} was given`);
    out[k] = v;
  }
  for (const [k, v] of Object.entries(m.requires ?? {})) {
    if (declared.has(k) && k in given && given[k] !== v) {
      throw new LosscError('usage', `\`${over}\` gives \`${def.name}\` probabilities, but ${k} = ${String(given[k])} was given; for logits use \`logit\` or \`logit_onehot\``);
    }
  }
  if (def.params.length !== 2) {
    throw new LosscError('usage', `\`${def.name}\` takes ${def.params.length} inputs; lossc plot maps one number to a target and a prediction, so it plots losses of two inputs`);
  }
  return out;
}
