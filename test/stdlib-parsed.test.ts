// The stdlib and the rewrite rules ship parsed (issue 13 item 2): what scripts/gen-stdlib.mjs
// generates is committed, so it must be what the script makes of stdlib/ and the rule tables now,
// and what the library loads must be what the parser makes of them.

import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs build script, no types
import { generate } from '../scripts/gen-stdlib.mjs';
import { parseProgram } from '../grammar/index.js';
import { pack, unpack } from '../grammar/packed.js';
import { STDLIB_SOURCES } from '../src/lower/stdlib-sources.js';
import { STDLIB_PARSED } from '../src/lower/stdlib-parsed.generated.js';
import { RULE_PATTERNS } from '../src/rewrite/rule-patterns.generated.js';
import { Library, STDLIB_FILES } from '../src/lower/library.js';
import { RULE_SPECS } from '../src/rewrite/rules.js';
import { ruleSides } from '../src/rewrite/engine.js';
import { compilePattern, parsePattern } from '../src/rewrite/pattern.js';
import { sourceText } from '../src/errors.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('the generated files are what scripts/gen-stdlib.mjs makes now (run `npm run gen:stdlib`)', async () => {
  const files = (await generate()) as Record<string, string>;
  it.each(Object.keys(files))('%s', (path) => {
    expect(readFileSync(join(ROOT, path), 'utf8')).toBe(files[path]);
  });
});

describe('the embedded stdlib', () => {
  it('holds every stdlib file, byte for byte, and STDLIB_FILES lists each once', () => {
    const onDisk = readdirSync(join(ROOT, 'stdlib')).filter((f) => f.endsWith('.loss')).sort();
    expect(Object.keys(STDLIB_SOURCES).sort()).toEqual(onDisk);
    expect(Object.keys(STDLIB_PARSED).sort()).toEqual(onDisk);
    expect([...STDLIB_FILES].sort()).toEqual(onDisk);
    for (const f of onDisk) expect(STDLIB_SOURCES[f], f).toBe(readFileSync(join(ROOT, 'stdlib', f), 'utf8'));
  });

  it.each(STDLIB_FILES)('stdlib/%s loads as the parser reads it (every field, spans and docs included)', (f) => {
    const parsed = parseProgram(readFileSync(join(ROOT, 'stdlib', f), 'utf8'), `stdlib/${f}`);
    expect(unpack(JSON.parse(STDLIB_PARSED[f]!), STDLIB_SOURCES[f]!)).toStrictEqual(parsed);
    // The library restores each definition when first read; it holds each name once per file.
    expect(new Set(parsed.definitions.map((d) => d.name)).size).toBe(parsed.definitions.length);
    for (const def of parsed.definitions) {
      const entry = Library.stdlib().get(def.name)!;
      if (entry.file !== `stdlib/${f}`) continue;
      expect(entry.kind).toBe(def.kind);
      expect(entry.def).toStrictEqual(def);
      expect(entry.def).toBe(entry.def);
    }
  });

  it('packs the stdlib to under half, and unpacks each file to what the parser made', () => {
    let [before, after] = [0, 0];
    for (const f of STDLIB_FILES) {
      const text = STDLIB_SOURCES[f]!;
      const parsed = parseProgram(text, `stdlib/${f}`);
      const packed = pack(parsed, text);
      before += JSON.stringify(parsed).length;
      after += JSON.stringify(packed).length;
      expect(unpack(JSON.parse(JSON.stringify(packed)), text), f).toStrictEqual(parsed);
    }
    expect(after).toBeLessThan(before / 2);
  });

  it('registers each file\'s text, which errors in the stdlib quote', () => {
    Library.stdlib();
    for (const f of STDLIB_FILES) expect(sourceText(`stdlib/${f}`)).toBe(STDLIB_SOURCES[f]);
  });
});

describe('the rewrite rules\' patterns', () => {
  const sides = RULE_SPECS.filter((s) => s.rule).flatMap((s) => ruleSides(s));
  const stored = new Map(JSON.parse(RULE_PATTERNS) as Array<[string, unknown]>);

  it('are stored for every side of every rule, and no other', () => {
    expect([...stored.keys()].sort()).toEqual([...new Set(sides)].sort());
  });

  it('are what the parser makes of each side', () => {
    for (const side of sides) {
      expect(stored.get(side), side).toStrictEqual(parsePattern(side));
      expect(compilePattern(side), side).toStrictEqual(parsePattern(side));
    }
  });

  it('a pattern not stored is parsed', () => {
    expect(compilePattern('exp(a) * 2')).toStrictEqual(parsePattern('exp(a) * 2'));
    expect(stored.has('exp(a) * 2')).toBe(false);
  });
});
