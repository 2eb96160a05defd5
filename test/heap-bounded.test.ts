// A long-running process (the fuzzer, a server compiling its users' losses) must not keep every
// program it ever compiled: the IR's intern table and the saved-model source registry hold their
// entries weakly (src/ir/node.ts, src/api/serial.ts). The fuzzer once ran out of memory after
// about 90 000 programs. test/helpers/heap-child.ts compiles distinct programs in its own
// `node --expose-gc` process and reports the table sizes after each round and a gc().

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { registerSource, sourceText } from '../src/errors.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = `${root}.scratch/heap-bounded-test`;

interface Round {
  programs: number;
  interned: number;
  sources: number;
  heapUsed: number;
}

describe('memory of a long-running process', () => {
  it('the intern table and the source registry stay bounded over many distinct programs', async () => {
    mkdirSync(scratch, { recursive: true });
    const script = `${scratch}/heap-child.mjs`;
    await build({ entryPoints: [`${root}test/helpers/heap-child.ts`], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: script, logLevel: 'silent' });
    const out = execFileSync(process.execPath, ['--expose-gc', script, '5', '150'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const rounds = JSON.parse(out.trim().split('\n').pop()!) as Round[];
    expect(rounds).toHaveLength(5);
    // The first 300 programs fill the bounded caches (rewrite results, fused kernels); after
    // that, 450 more programs must leave the tables as they were. Kept forever, each round of
    // 150 programs added about 4 400 nodes and 150 sources.
    const [, warm, , , last] = rounds as [Round, Round, Round, Round, Round];
    const all = JSON.stringify(rounds);
    expect(last.interned, all).toBeLessThan(warm.interned * 1.1);
    expect(last.sources, all).toBeLessThanOrEqual(warm.sources + 5);
    expect(last.heapUsed, all).toBeLessThan(warm.heapUsed * 1.25);
  }, 120_000);

  it("the fuzzer's worker loop keeps nothing of the programs it finished", () => {
    const child = `${root}test/helpers/fuzz-loop-child.mjs`;
    expect(existsSync(`${root}dist/fuzz/seeds.js`), 'dist/fuzz is missing: npm run build').toBe(true);
    const out = execFileSync(process.execPath, ['--expose-gc', child, '80700000', '100', '700'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const interned = JSON.parse(out.trim().split('\n').pop()!) as { warm: number; last: number };
    // A loop that never went back to the event loop kept every WeakRef target it touched (every
    // AST, Library and IR node of these garbled programs): 3015 more nodes over these 600
    // programs, against 1062-1479 (the bounded caches filling, finalizers not all run yet).
    expect(interned.last - interned.warm, JSON.stringify(interned)).toBeLessThan(2300);
  }, 120_000);

  it('errors keep the text of the most recent sources only', () => {
    for (let i = 0; i < 1000; i++) registerSource(`<heap test ${i}>`, `loss f${i}(y_true, y_pred) = y_pred`);
    expect(sourceText('<heap test 0>')).toBeUndefined();
    expect(sourceText('<heap test 999>')).toBe('loss f999(y_true, y_pred) = y_pred');
  });
});
