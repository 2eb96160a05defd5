// The typed API: src/api/stdlib-types.ts is generated from the stdlib (and kept so), and the
// type-level checks in test/types/ pass under a strict tsc (each `@ts-expect-error` there must
// meet an error, so a type that accepts too much fails this test).

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Library } from '../src/lower/library.js';
import { stdlibTypesSource } from '../src/api/typegen.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const generated = `${root}src/api/stdlib-types.ts`;

describe('typed API', () => {
  it('stdlib-types.ts is what the stdlib definitions give', () => {
    const text = stdlibTypesSource(Library.stdlib());
    if (process.env.LOSSC_WRITE_TYPES) writeFileSync(generated, text);
    expect(readFileSync(generated, 'utf8')).toBe(text);
  });

  it("README's From JavaScript example and the type-level checks compile under strict tsc", () => {
    // README's example, as is, with the names it leaves to the reader declared.
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const block = /## From JavaScript\n+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'README has a ```ts block under "From JavaScript"').toBeTruthy();
    mkdirSync(`${root}.scratch/types`, { recursive: true });
    const declared = 'declare const model: tf.LayersModel;\ndeclare const handler: tf.io.IOHandler;\ndeclare const x: tf.Tensor;\ndeclare const y: tf.Tensor;\n';
    writeFileSync(`${root}.scratch/types/readme.ts`, declared + block!.replace("from 'lossc'", "from '../../src/index.js'"));
    let out = '';
    try {
      execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}test/types/tsconfig.json`], { encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(out).toBe('');
  }, 120_000);
});
