// Where `import` may read (issue 10, item 9): only `.loss` files, relative to the importing file,
// inside the root the caller names (a file's own folder by default); text given as a string may
// import only the stdlib unless the caller passes a root or a resolver; an error never quotes a
// file that is not lossc source. Plus the resolver a browser passes (src/lower/loader.ts).

import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answer } from '../src/cli/eval.js';
import { main } from '../src/cli/main.js';
import { compile, Library } from '../src/index.node.js';
import { lowerDefinition } from '../src/lower/lower.js';
import { errorOf, expectError } from './helpers/source.js';

const dir = mkdtempSync(join(tmpdir(), 'lossc-imports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = 'TOP-SECRET-LINE do not print me';
const outside = join(dir, 'outside');
const root = join(dir, 'root');
mkdirSync(outside);
mkdirSync(join(root, 'lib'), { recursive: true });
writeFileSync(join(outside, 'secret.txt'), `${SECRET}\nmore\n`);
writeFileSync(join(outside, 'secret.loss'), `${SECRET}\n`);
writeFileSync(join(root, 'secret.txt'), `${SECRET}\n`);
writeFileSync(join(root, 'lib', 'base.loss'), 'import "../shared.loss"\ndef twice(x) = 2 * x\n');
writeFileSync(join(root, 'shared.loss'), 'def thrice(x) = 3 * x\n');
writeFileSync(join(root, 'binary.loss'), new Uint8Array([0x6c, 0x6f, 0x73, 0x73, 0, 0xff, 0xfe, 0x0a]));
symlinkSync(join(outside, 'secret.loss'), join(root, 'link-out.loss'));
symlinkSync(join(root, 'secret.txt'), join(root, 'link-txt.loss'));
const main_ = (text: string) => {
  writeFileSync(join(root, 'main.loss'), text);
  return join(root, 'main.loss');
};

const LOSS = 'loss t(y_true, y_pred) = mean(y_pred, axis = -1)';

/** The error never shows the secret, whichever way it is reached. */
function refused(f: () => unknown, ...parts: string[]): void {
  const e = expectError(f, 'import', ...parts);
  expect(e.message).not.toContain('TOP-SECRET');
  expect(e.message).not.toContain('root:x:0:0');
  expect(e.span, 'located at the import').toBeDefined();
  expect(e.span!.line).toBe(1);
}

describe('text given as a string imports only the stdlib', () => {
  for (const spec of ['/etc/passwd', '../../../../../../etc/passwd', 'x.loss', '/etc/x.loss', join(outside, 'secret.loss')]) {
    it(`compile: import "${spec}"`, () => refused(() => compile(`import "${spec}"\n${LOSS}`), `cannot import \`${spec}\``));
  }

  it('the reason names the way out (a root or a resolver)', () => {
    const e = errorOf(() => compile(`import "base.loss"\n${LOSS}`));
    expect(e.detail).toContain('source given as text may import only the stdlib');
    expect(e.detail).toContain('root or resolver');
  });

  it('eval requests: `source` with an import of /etc/passwd', () => {
    const a = answer({ id: 1, loss: 't', source: `import "/etc/passwd"\n${LOSS}`, y_true: [[1]], y_pred: [[1]] }) as { error: { kind: string; message: string } };
    expect(a.error.kind).toBe('import');
    expect(a.error.message).not.toContain('root:');
    const b = answer({ id: 2, loss: 't', source: `import "${join(outside, 'secret.loss')}"\n${LOSS}`, y_true: [[1]], y_pred: [[1]] }) as { error: { message: string } };
    expect(b.error.message).not.toContain('TOP-SECRET');
  });

  it('`import "stdlib/NAME.loss"` is allowed (and adds nothing: the stdlib is in scope)', () => {
    const m = compile(`import "stdlib/regression.loss"\nloss t(y_true, y_pred) = huber(y_true, y_pred)`);
    expect(m.library.own.map((d) => d.name)).toEqual(['t']);
    refused(() => compile(`import "stdlib/nope.loss"\n${LOSS}`), 'may import only the stdlib');
  });
});

describe('with a root: relative .loss files inside it, nothing else', () => {
  it('compile(text, { root }) resolves relative to the root, and transitively relative to each file', () => {
    const m = compile(`import "lib/base.loss"\nloss t(y_true, y_pred) = twice(thrice(y_pred))`, { root });
    expect(m.library.get('thrice')?.file).toBe(join(root, 'shared.loss'));
  });

  const cases: Array<[string, string]> = [
    ['/etc/passwd', 'imports name `.loss` files only'],
    ['../outside/secret.txt', 'imports name `.loss` files only'],
    ['secret.txt', 'imports name `.loss` files only'],
    ['../outside/secret.loss', 'outside the import root'],
    ['../../../../../../../etc/x.loss', 'outside the import root'],
    [join(outside, 'secret.loss'), 'not absolute'],
    ['link-out.loss', 'leads outside the import root'],
    ['link-txt.loss', 'not a `.loss` file'],
    ['binary.loss', 'is not lossc source'],
    ['lib\\..\\secret.loss', 'uses `/`'],
    ['file:///etc/x.loss', 'not absolute'],
  ];
  for (const [spec, why] of cases) {
    it(`import "${spec}" is refused: ${why}`, () => {
      refused(() => compile(`import "${spec.replace(/\\/g, '\\\\')}"\n${LOSS}`, { root }), why);
      refused(() => Library.fromFile(main_(`import "${spec.replace(/\\/g, '\\\\')}"\n${LOSS}`)), why);
    });
  }

  it('Library.fromFile: the default root is the file\'s folder; a named root lets it climb', () => {
    writeFileSync(join(root, 'lib', 'up.loss'), `import "../shared.loss"\nloss u(y_true, y_pred) = thrice(y_pred)\n`);
    refused(() => Library.fromFile(join(root, 'lib', 'up.loss')), 'outside the import root');
    expect(Library.fromFile(join(root, 'lib', 'up.loss'), { root }).get('thrice')).toBeDefined();
  });

  it('the command line: a file imports beside itself, not /etc/passwd', async () => {
    const err: string[] = [];
    const code = await main(['check', main_(`import "/etc/passwd"\n${LOSS}`)], () => {}, (s) => err.push(s));
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('imports name `.loss` files only');
    expect(err.join('\n')).not.toContain('root:x');
    expect(await main(['check', main_(`import "lib/base.loss"\n${LOSS}`)], () => {}, () => {})).toBe(0);
  });

  it('the command line: --root lets a file import above its folder, and nowhere else', async () => {
    const up = join(root, 'lib', 'up.loss');
    writeFileSync(up, `import "../shared.loss"\nloss u(y_true, y_pred) = thrice(y_pred)\n`);
    const err: string[] = [];
    expect(await main(['check', up], () => {}, (s) => err.push(s))).toBe(1);
    expect(err.join('\n')).toContain('outside the import root');
    expect(await main(['check', up, '--root', root], () => {}, () => {})).toBe(0);
    const out: string[] = [];
    expect(await main(['grad', 'u', '--wrt', 'y_pred', '--file', up, '--root', root], (s) => out.push(s), () => {})).toBe(0);
    expect(out.join('\n')).toContain('3');
    expect(await main(['check', up, '--root', join(root, 'lib', 'x')], () => {}, () => {})).toBe(2);
  });

  it('a syntax error in a real .loss import is shown (it is lossc source)', () => {
    writeFileSync(join(root, 'broken.loss'), 'def f(x) = x +\n');
    const e = errorOf(() => compile(`import "broken.loss"\n${LOSS}`, { root }));
    expect(e.kind).toBe('syntax');
    expect(e.message).toContain(join(root, 'broken.loss'));
  });

  it('bad options are usage errors', () => {
    expectError(() => compile(LOSS, { rot: root } as never), 'usage', 'unknown option `rot` (did you mean `root`?)');
    expectError(() => compile(LOSS, { root: 3 } as never), 'usage', 'root must be');
  });
});

describe('a resolver (what a browser passes)', () => {
  const files: Record<string, string> = {
    'lib/base.loss': 'import "../shared.loss"\ndef twice(x) = 2 * x\n',
    'shared.loss': 'def thrice(x) = 3 * x\n',
    'loop.loss': 'import "lib/../loop.loss"\n',
  };

  it('a { path: text } record: paths normalised relative to the importing file', () => {
    const m = compile(`import "./lib/base.loss"\nloss t(y_true, y_pred) = twice(thrice(y_pred))`, { resolve: files });
    const v = lowerDefinition(m.library, 't').value;
    expect(v.op).toBeDefined();
    expect(m.library.get('thrice')?.file).toBe('shared.loss');
  });

  it('a function gets the path and the importing file', () => {
    const calls: Array<[string, string]> = [];
    compile(`import "lib/base.loss"\n${LOSS}`, { resolve: (p: string, from: string) => (calls.push([p, from]), files[p]) });
    expect(calls).toEqual([
      ['lib/base.loss', ''],
      ['shared.loss', 'lib/base.loss'],
    ]);
  });

  it('not found, a cycle, climbing out, a non-string answer', () => {
    refused(() => compile(`import "nope.loss"\n${LOSS}`, { resolve: files }), 'cannot find `nope.loss`');
    refused(() => compile(`import "loop.loss"\n${LOSS}`, { resolve: files }), 'import cycle: loop.loss → loop.loss');
    refused(() => compile(`import "../x.loss"\n${LOSS}`, { resolve: files }), 'outside the import root');
    expectError(() => compile(`import "a.loss"\n${LOSS}`, { resolve: () => 42 as never }), 'usage', 'gave a number');
  });
});
