// dist/ as `npm run build` makes it from the current sources, for the tests that run the built
// package (test/package.test.ts, test/faststart.test.ts): rebuilt when a source is newer, by one
// test file at a time (a lock directory under .tmp/, which vitest's two workers share).

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs a command, its output returned; a failure carries both streams. */
export async function sh(cmd: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(cmd, args, { cwd, maxBuffer: 64 << 20, env: { ...process.env, NODE_OPTIONS: '' } });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${x.message}\n${x.stdout ?? ''}\n${x.stderr ?? ''}`);
  }
}

/** Newest modification time under `dir` (files only). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds dist/ unless it is newer than every source (a fresh clone's `npm ci` built it). */
export async function freshDist(): Promise<void> {
  const lock = join(ROOT, '.tmp', 'build.lock');
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than ten minutes is a crashed run's.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true });
      await sleep(200);
    }
  }
  try {
    const marker = join(ROOT, 'dist/node/index.node.js');
    const built = existsSync(marker) ? statSync(marker).mtimeMs : 0;
    const sources = Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'grammar')), newest(join(ROOT, 'stdlib')), statSync(join(ROOT, 'package.json')).mtimeMs);
    if (built < sources) await sh('npm', ['run', 'build', '--silent'], ROOT);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
