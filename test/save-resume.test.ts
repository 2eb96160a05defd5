// examples/save-resume.ts as a user runs it: its own Node process saves the model to a folder,
// a second fresh process loads and resumes it, and the first checks the weights. The example is
// bundled (esbuild, packages left external) into .scratch/ so the processes run the current
// source, not a stale dist/.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = `${root}.scratch/save-resume-test`;

describe('examples/save-resume.ts', () => {
  it('saves, loads in a fresh process, resumes, and the weights match training without the break', async () => {
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { recursive: true });
    const script = `${scratch}/save-resume.mjs`;
    await build({ entryPoints: [`${root}examples/save-resume.ts`], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: script, logLevel: 'silent' });
    const dir = `${scratch}/model`;
    const out = execFileSync(process.execPath, [script, '--dir', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(existsSync(`${dir}/model.json`) && existsSync(`${dir}/weights.bin`)).toBe(true);
    expect(out).toMatch(/a fresh process loaded it with loadModel and trained 4 more/);
    const m = /weights match: max \|difference\| = ([\d.e+-]+)/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(1e-5);
    console.log(out);
    rmSync(scratch, { recursive: true, force: true });
  }, 60_000);
});
