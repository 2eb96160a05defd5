// In-place buffers of the fused target: a large buffer whose last reader is the nest that writes
// another buffer of its size and kind, at the very element it reads, is reused for it (batch-hard:
// the sparse adjoint of the distances takes the Gram matrix's place, one [N, N] buffer for both).
// Readers of the old buffer that come later but need nothing of the writing nest run before it.
// Checked on the rendered code of each nest: every access of the old buffer in the writing nest is
// a read at the one index expression the new buffer is stored at, placed before the first store.

import type { Nest } from './nests.js';
import type { ScratchKind } from './pool.js';
import { LARGE } from './graph.js';
import { szKey } from './graph.js';
import { szTypical, type Sz } from './size.js';

export interface Block {
  nest: Nest;
  lines: string[];
}
export interface Temp {
  name: string;
  kind: ScratchKind;
  size: Sz;
}

interface Access {
  reads: Map<string, Set<string>>;
  writes: Map<string, Set<string>>;
  firstWrite: Map<string, number>;
  lastRead: Map<string, number>;
  opaque: boolean;
}

const ACCESS = /\b(b\d+)\[([^\]]*)\](\s*=(?!=))?/g;

function accesses(lines: readonly string[]): Access {
  const a: Access = { reads: new Map(), writes: new Map(), firstWrite: new Map(), lastRead: new Map(), opaque: false };
  lines.forEach((l, i) => {
    for (const m of l.matchAll(ACCESS)) {
      const [, name, index, store] = m as unknown as [string, string, string, string | undefined];
      if (index.includes('[')) a.opaque = true;
      const set = store ? a.writes : a.reads;
      if (!set.has(name)) set.set(name, new Set());
      set.get(name)!.add(index.trim());
      if (store && !a.firstWrite.has(name)) a.firstWrite.set(name, i);
      if (!store) a.lastRead.set(name, i);
    }
  });
  return a;
}

/** Reorders blocks and renames buffers so large ones are reused in place; returns the temps kept. */
export function shareBuffers(blocks: Block[], temps: readonly Temp[]): { blocks: Block[]; temps: Temp[] } {
  let order = [...blocks];
  const acc = new Map(order.map((b) => [b, accesses(b.lines)]));
  const rename = new Map<string, string>();
  const absorbed = new Set<string>();
  for (const t of temps) {
    if (szTypical(t.size) < LARGE) continue;
    const writers = order.filter((b) => acc.get(b)!.writes.has(t.name));
    if (writers.length !== 1) continue;
    const p = writers[0]!;
    const ap = acc.get(p)!;
    const at = ap.writes.get(t.name)!;
    if (ap.opaque || at.size !== 1 || ap.reads.has(t.name)) continue;
    const index = [...at][0]!;
    for (const b of temps) {
      if (b === t || b.kind !== t.kind || szKey(b.size) !== szKey(t.size) || absorbed.has(b.name) || rename.has(b.name) || rename.has(t.name)) continue;
      const pi = order.indexOf(p);
      if (order.some((x, i) => i > pi && acc.get(x)!.writes.has(b.name))) continue;
      if (!order.some((x, i) => i < pi && acc.get(x)!.writes.has(b.name))) continue;
      const reads = ap.reads.get(b.name);
      if (!reads || reads.size !== 1 || [...reads][0] !== index || ap.lastRead.get(b.name)! >= ap.firstWrite.get(t.name)!) continue;
      if (ap.writes.has(b.name)) continue;
      // Later readers of b must be able to run before p: everything they need is before p.
      const later = order.filter((x, i) => i > pi && (acc.get(x)!.reads.has(b.name) || acc.get(x)!.opaque));
      if (later.some((x) => acc.get(x)!.opaque || [...x.nest.deps].some((d) => order.findIndex((y) => y.nest === d) >= pi))) continue;
      order = [...order.slice(0, pi).concat(later), ...order.slice(pi).filter((x) => !later.includes(x))];
      rename.set(t.name, b.name);
      absorbed.add(b.name);
      break;
    }
  }
  if (rename.size === 0) return { blocks, temps: [...temps] };
  const re = new RegExp(`\\b(${[...rename.keys()].join('|')})\\b`, 'g');
  return {
    blocks: order.map((b) => ({ nest: b.nest, lines: b.lines.map((l) => l.replace(re, (n) => rename.get(n)!)) })),
    temps: temps.filter((t) => !rename.has(t.name)),
  };
}
