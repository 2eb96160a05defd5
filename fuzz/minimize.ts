// Shrinking a failing program to a small one that fails the same way: first by swapping nodes
// of the typed tree for same-typed children (well-formed programs stay well-formed), then by
// delta debugging over lines and then tokens of the text (any text that still fails the same
// check, with the same message, will do).

import { tokens } from './garbled.js';
import type { G } from './well/expr.js';
import { programText, type WellProgram } from './well/program.js';

export type Pred = (text: string) => Promise<boolean>;

export interface Budget {
  checks: number;
  deadline: number;
}

const spent = (b: Budget) => b.checks <= 0 || Date.now() > b.deadline;

async function tryIt(pred: Pred, text: string, b: Budget): Promise<boolean> {
  b.checks--;
  return pred(text);
}

/** Every node of the program's trees, parents before children. */
function allNodes(p: WellProgram): G[] {
  const out: G[] = [];
  const seen = new Set<G>();
  const queue: G[] = [p.result, ...(p.mask ? [p.mask] : []), ...p.lets.map((l) => l.value), ...p.defs.map((d) => d.body)];
  while (queue.length) {
    const g = queue.shift()!;
    if (seen.has(g)) continue;
    seen.add(g);
    out.push(g);
    queue.push(...g.kids);
  }
  return out;
}

/** Tree-level shrinking: replace nodes by same-typed children while the failure persists. */
export async function shrinkTree(p: WellProgram, pred: Pred, b: Budget): Promise<string> {
  const sub = new Map<G, G>();
  let prog = p;
  if (p.mask && (await tryIt(pred, programText({ ...p, mask: undefined }), b))) prog = { ...p, mask: undefined };
  let progress = true;
  while (progress && !spent(b)) {
    progress = false;
    for (const n of allNodes(prog)) {
      if (sub.has(n) || spent(b)) continue;
      for (const k of n.kids) {
        if (k.dtype !== n.dtype || k.shape.length !== n.shape.length || k.shape.some((d, i) => d !== n.shape[i])) continue;
        sub.set(n, k);
        if (await tryIt(pred, programText(prog, sub), b)) {
          progress = true;
          break;
        }
        sub.delete(n);
      }
    }
  }
  return programText(prog, sub);
}

/** Delta debugging over units (lines or tokens): drop chunks while the failure persists. */
async function ddmin(units: string[], join: string, pred: Pred, b: Budget): Promise<string[]> {
  let n = 2;
  while (units.length >= 2 && !spent(b)) {
    const chunk = Math.ceil(units.length / n);
    let removed = false;
    for (let i = 0; i * chunk < units.length && !spent(b); i++) {
      const cand = [...units.slice(0, i * chunk), ...units.slice((i + 1) * chunk)];
      if (await tryIt(pred, cand.join(join), b)) {
        units = cand;
        n = Math.max(n - 1, 2);
        removed = true;
        break;
      }
    }
    if (!removed) {
      if (n >= units.length) break;
      n = Math.min(units.length, n * 2);
    }
  }
  return units;
}

/** Shrink a text: lines first, then tokens; comments and blank lines go first. */
export async function shrinkText(text: string, pred: Pred, b: Budget): Promise<string> {
  let t = text;
  const stripped = t.replace(/#[^\n]*\n/g, '');
  if (stripped !== t && (await tryIt(pred, stripped, b))) t = stripped;
  if (t.length > 20_000) {
    // Huge inputs: halve by characters before anything finer.
    t = (await ddmin(t.match(/[\s\S]{1,2000}/g) ?? [t], '', pred, b)).join('');
  }
  t = (await ddmin(t.split('\n'), '\n', pred, b)).join('\n');
  t = (await ddmin(words(t), '', pred, b)).join('');
  return dropOptions(t, pred, b);
}

/** Try removing each `name = value` option declaration of the definitions' headers. */
async function dropOptions(text: string, pred: Pred, b: Budget): Promise<string> {
  let t = text;
  const decl = /([;,]\s*)([A-Za-z_]\w*\s*=\s*[^,;()=]+?)(?=\s*[,)])/g;
  for (const m of [...text.matchAll(decl)].reverse()) {
    if (spent(b)) break;
    const at = t.indexOf(m[0]);
    if (at < 0) continue;
    const cand = t.slice(0, at) + (m[1]!.startsWith(';') ? ';' : '') + t.slice(at + m[0].length);
    const tidy = cand.replace(/;\s*\)/, ')').replace(/;\s*,\s*/, '; ');
    if (await tryIt(pred, tidy, b)) t = tidy;
  }
  return t;
}

/** Tokens with the whitespace after each kept on it (so shrinking keeps the text readable). */
function words(text: string): string[] {
  const out: string[] = [];
  for (const t of tokens(text)) {
    if (/^\s+$/.test(t) && out.length) out[out.length - 1] += t;
    else out.push(t);
  }
  return out;
}
