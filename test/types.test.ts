// The typed API: src/api/stdlib-types.ts is generated from the stdlib (and kept so), and the
// type-level checks in test/types/ pass under a strict tsc (each `@ts-expect-error` there must
// meet an error, so a type that accepts too much fails this test).

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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

  it('the README example and the type-level checks compile under strict tsc', () => {
    let out = '';
    try {
      execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}test/types/tsconfig.json`], { encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(out).toBe('');
  }, 120_000);
});
