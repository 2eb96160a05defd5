// The `lossc` command line (src/cli/main.ts, commands.ts): check, show, list and grad, called as
// `main(argv, out, err)`. Exit status: 0 success, 1 a user error (bad source, unknown name, ...),
// 2 misuse of the command itself (unknown command or flag, missing argument).

import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import { Library } from '../src/lower/library.js';
import '../src/node/files.js';
import { lowerDefinition } from '../src/lower/lower.js';
import { derivative } from '../src/pipeline/derivative.js';
import { evaluate } from '../src/eval/reference.js';
import { fromData } from '../src/eval/ndarray.js';
import { expectAllClose } from './helpers/numeric.js';
import { sig } from './helpers/source.js';

const STDLIB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'stdlib');

interface Run {
  code: number;
  out: string;
  err: string;
}

async function lossc(...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const dir = mkdtempSync(join(tmpdir(), 'lossc-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const USER = file(
  'user.loss',
  `# Squared error scaled by a weight.
loss weighted_se(y_true, y_pred; w = 2.0) = mean(w * (y_pred - y_true)^2, axis = -1)

# Labels are integers: no derivative with respect to them.
loss labelled(y_true: int[N], y_pred: [N, C]) =
  -sum(one_hot(y_true, size(y_pred, axis = -1)) * log_softmax(y_pred), axis = -1)

# Binary cross-entropy of logits, written naively.
loss naive_bce(y_true, y_pred) = -mean(y_true * log(sigmoid(y_pred)) + (1 - y_true) * log(1 - sigmoid(y_pred)), axis = -1)
`,
);

describe('lossc check', () => {
  const files = readdirSync(STDLIB_DIR).filter((f) => f.endsWith('.loss')).sort();

  it('finds the stdlib files', () => {
    expect(files).toEqual(expect.arrayContaining(['prelude.loss', 'regression.loss']));
  });

  for (const f of files) {
    it(`accepts stdlib/${f}`, async () => {
      const r = await lossc('check', join(STDLIB_DIR, f));
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`${f}: ok \\(\\d+ definitions?\\)$`));
    });
  }

  it('accepts several files at once, and a user file', async () => {
    const r = await lossc('check', USER, join(STDLIB_DIR, 'regression.loss'));
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toHaveLength(2);
    expect(r.out).toContain('user.loss: ok (3 definitions)');
  });

  it('reports every error of a file with its place and a caret, exit 1', async () => {
    const bad = file(
      'bad.loss',
      ['loss a(y_true, y_pred) =', '  mean(y_pre, axis = -1)', '', 'loss b(y_true, y_pred) = sum(y_pred, axis = 3)', ''].join('\n'),
    );
    const r = await lossc('check', bad);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain(`${bad}:2:8: name error: unknown name \`y_pre\` (did you mean \`y_pred\`?)`);
    expect(r.err).toContain('2 |   mean(y_pre, axis = -1)');
    expect(r.err).toContain('  |        ^^^^^');
    expect(r.err).toContain(`${bad}:4:26: shape error: axis 3 is out of range`);
    expect(r.err).toContain('bad.loss: 2 errors');
  });

  it('reports syntax errors, recursion, arity and option errors', async () => {
    const cases: Array<[string, string]> = [
      ['loss a(y_true, y_pred) = mean(y_pred,, axis = -1)', 'syntax error'],
      ['def f(x) = f(x)\nloss a(y_true, y_pred) = f(y_pred)', 'recursion error: `f` calls itself'],
      ['loss a(y_true, y_pred) = huber(y_true)', 'arity error'],
      ['loss a(y_true, y_pred) = huber(y_true, y_pred, delta = "big")', 'option error: option `delta` of `huber` takes a number'],
      ['import "no-such-file.loss"\nloss a(y_true, y_pred) = y_pred', 'import error: cannot find `no-such-file.loss`'],
    ];
    for (const [i, [text, want]] of cases.entries()) {
      const r = await lossc('check', file(`case${i}.loss`, text));
      expect(r.code, text).toBe(1);
      expect(r.err, text).toContain(want);
      expect(r.err, text).toMatch(/case\d\.loss:\d+:\d+: /);
    }
  });

  it('checks helpers too, for the errors that do not depend on the shapes a caller gives', async () => {
    const f = file(
      'helpers.loss',
      ['def unused(x) = x + nme', 'def shaped(x) = sum(x, axis = 5)', 'def used(x) = exp(x, x)', 'loss a(y_true, y_pred) = used(y_pred)', ''].join('\n'),
    );
    const r = await lossc('check', f);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${f}:1:21: name error: unknown name \`nme\``);
    expect(r.err).not.toContain('axis 5');
    // An error met through a loss and through its helper is reported once.
    expect(r.err.match(/at most 1 argument/g)).toHaveLength(1);
    expect(r.err).toContain('helpers.loss: 2 errors');
  });

  it('a file that cannot be read is a user error; no file at all is misuse', async () => {
    const missing = await lossc('check', join(dir, 'nope.loss'));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('cannot read file');
    const none = await lossc('check');
    expect(none.code).toBe(2);
    expect(none.err).toContain('check needs at least one FILE');
    expect(none.err).toContain('usage: lossc check');
  });
});

describe('lossc show', () => {
  it('huber: documentation, signature, options and a readable formula', async () => {
    const r = await lossc('show', 'huber');
    expect(r.code).toBe(0);
    expect(r.out).toContain('huber: loss from stdlib/regression.loss');
    expect(r.out).toContain('Huber loss');
    expect(r.out).toContain('loss huber(y_true, y_pred; delta = 1.0)');
    expect(r.out).toContain('y_pred: [N, D]');
    expect(r.out).toContain('delta = 1.0');
    expect(r.out).toContain('formula (value shape [N]):');
    expect(r.out).toContain('  let e = y_pred - y_true');
    expect(r.out).toMatch(/mean\(where\(\w+ <= delta, 0\.5 \* e\^2, delta \* \w+ - 0\.5 \* delta\^2\), axis = -1\)/);
  });

  it('with an option fixed, and as LaTeX', async () => {
    const r = await lossc('show', 'huber', '--option', 'delta=2.5');
    expect(r.code).toBe(0);
    expect(r.out).toContain('delta = 2.5');
    expect(r.out).toContain('<= 2.5');
    const t = await lossc('show', 'mean_squared_error', '--latex');
    expect(t.code).toBe(0);
    expect(t.out).toContain('\\');
  });

  it('a definition from a file, a helper, and a regularizer', async () => {
    const r = await lossc('show', 'weighted_se', '--file', USER);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Squared error scaled by a weight.');
    expect(r.out).toContain('mean(w * (y_pred - y_true)^2, axis = -1)');
    expect((await lossc('show', 'softmax')).out).toContain('exp(x - logsumexp(x, axis = -1, keepdims = true))');
    if (Library.stdlib().get('l2')) expect((await lossc('show', 'l2')).out).toContain('regularizer');
  });

  it('an unknown name suggests the nearest one, exit 1; no name is misuse', async () => {
    const r = await lossc('show', 'hubber');
    expect(r.code).toBe(1);
    expect(r.err).toContain('unknown definition `hubber` (did you mean `huber`?)');
    expect((await lossc('show')).code).toBe(2);
    const badOpt = await lossc('show', 'huber', '--option', 'delta');
    expect(badOpt.code).toBe(2);
    expect(badOpt.err).toContain('--option takes name=value');
  });
});

describe('lossc show and grad on every stdlib definition', () => {
  const lib = Library.stdlib();
  it('show works for every name', async () => {
    for (const name of lib.names()) {
      const r = await lossc('show', name);
      expect(r.code, `${name}: ${r.err}`).toBe(0);
      expect(r.out).toContain(`${name}: ${lib.get(name)!.def.kind} from stdlib/`);
      expect(r.out).toContain('formula (value shape');
    }
  });

  it('grad works for every loss with respect to y_pred (or its last input), in every format', async () => {
    for (const name of lib.names().filter((n) => lib.get(n)!.def.kind !== 'def')) {
      const params = lib.get(name)!.def.params;
      const wrt = params.find((p) => p.name === 'y_pred')?.name ?? params[params.length - 1]!.name;
      for (const format of ['text', 'latex', 'dot']) {
        const r = await lossc('grad', name, '--wrt', wrt, '--format', format);
        expect(r.code, `${name} (${format}): ${r.err}`).toBe(0);
        expect(r.out.length).toBeGreaterThan(0);
      }
    }
  });
});

describe('lossc list', () => {
  it('lists losses, regularizers and helpers with their first line of documentation', async () => {
    const r = await lossc('list');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^losses:\n/);
    expect(r.out).toContain('\nregularizers:\n');
    expect(r.out).toContain('\nhelpers (def):\n');
    expect(r.out).toMatch(/\n {2}huber +Huber loss/);
    expect(r.out).toMatch(/\n {2}softmax +Softmax along/);
  });

  it('with --file, the file\'s own definitions too', async () => {
    const r = await lossc('list', '--file', USER);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\n {2}weighted_se +Squared error scaled by a weight\./);
  });

  it('--builtins lists the primitives', async () => {
    const r = await lossc('list', '--builtins');
    expect(r.code).toBe(0);
    expect(r.out).toContain('logsumexp(x, axis = none, keepdims = false)');
    expect(r.out).toContain('one_hot(labels, depth)');
    expect(r.out).toContain('masked(values, mask)');
    expect(r.out).toContain('require(condition, message, value)');
  });
});

describe('lossc grad', () => {
  it('prints the simplified derivative', async () => {
    const r = await lossc('grad', 'mean_squared_error', '--wrt', 'y_pred');
    expect(r).toEqual({ code: 0, out: '2 * (y_pred - y_true) / size(y_pred, axis = -1)', err: '' });
    const h = await lossc('grad', 'huber', '--wrt', 'y_pred');
    expect(h.out).toBe('let e = y_pred - y_true\nwhere(abs(e) <= delta, e, delta * sign(e)) / size(y_pred, axis = -1)');
  });

  it('with options fixed, several inputs, a file', async () => {
    expect((await lossc('grad', 'huber', '--wrt', 'y_pred', '--option', 'delta=2')).out).toContain('abs(e) <= 2, e, 2 * sign(e)');
    const two = await lossc('grad', 'mean_squared_error', '--wrt', 'y_pred', '--wrt', 'y_true');
    expect(two.code).toBe(0);
    expect(two.out).toMatch(/^\[.*, .*\]$/);
    const f = await lossc('grad', 'weighted_se', '--wrt', 'y_pred', '--file', USER);
    expect(f.code).toBe(0);
    expect(f.out).toBe('2 * w * (y_pred - y_true) / size(y_pred, axis = -1)');
  });

  it('stabilises a naive loss before differentiating', async () => {
    const r = await lossc('grad', 'naive_bce', '--wrt', 'y_pred', '--file', USER);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('log');
  });

  it('--format latex and --format dot', async () => {
    const l = await lossc('grad', 'huber', '--wrt', 'y_pred', '--format', 'latex');
    expect(l.code).toBe(0);
    expect(l.out).toContain('\\begin{aligned}');
    expect(l.out).toContain('\\delta');
    expect(l.out).toContain('\\operatorname{sign}');
    const d = await lossc('grad', 'huber', '--wrt', 'y_pred', '--format', 'dot');
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/^digraph lossc \{/);
    expect(d.out).toContain('input y_pred');
    expect(d.out.trim().endsWith('}')).toBe(true);
  });

  it('--raw skips simplification, --explain lists the rules that fired', async () => {
    const raw = await lossc('grad', 'huber', '--wrt', 'y_pred', '--raw');
    const simple = await lossc('grad', 'huber', '--wrt', 'y_pred');
    expect(raw.code).toBe(0);
    expect(raw.out).not.toBe(simple.out);
    expect(raw.out.length).toBeGreaterThan(simple.out.length);
    const ex = await lossc('grad', 'huber', '--wrt', 'y_pred', '--explain');
    expect(ex.code).toBe(0);
    expect(ex.out).toBe(simple.out);
    expect(ex.err).toMatch(/^rules fired:\n/);
    expect(ex.err).toMatch(/product-normal-form ×\d+/);
    const none = await lossc('grad', 'huber', '--wrt', 'y_pred', '--explain', '--raw');
    expect(none.err).toContain('no rewrite rule fired');
  });

  it('an unknown input suggests the nearest one, exit 1', async () => {
    const r = await lossc('grad', 'huber', '--wrt', 'y_prd');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('`huber` has no input `y_prd` (did you mean `y_pred`?) (its inputs: y_true, y_pred)');
  });

  it('an integer input cannot be differentiated, exit 1 with a clear message', async () => {
    const r = await lossc('grad', 'labelled', '--wrt', 'y_true', '--file', USER);
    expect(r.code).toBe(1);
    expect(r.err).toContain('cannot differentiate with respect to `y_true`: it is an integer tensor (labels), which has no derivative');
    const ok = await lossc('grad', 'labelled', '--wrt', 'y_pred', '--file', USER);
    expect(ok.code).toBe(0);
  });

  it('an unknown loss, or a bad option value, is a user error', async () => {
    const r = await lossc('grad', 'hubr', '--wrt', 'y_pred');
    expect(r.code).toBe(1);
    expect(r.err).toContain('did you mean `huber`?');
    const o = await lossc('grad', 'huber', '--wrt', 'y_pred', '--option', 'delta=true');
    expect(o.code).toBe(1);
    expect(o.err).toContain('takes a number');
    const u = await lossc('grad', 'huber', '--wrt', 'y_pred', '--option', 'deltaa=1');
    expect(u.code).toBe(1);
    expect(u.err).toContain('did you mean `delta`?');
  });

  it('misuse: no --wrt, a bad --format, an unknown flag, no name', async () => {
    const cases: Array<[string[], string]> = [
      [['grad', 'huber'], 'grad needs --wrt INPUT'],
      [['grad', 'huber', '--wrt', 'y_pred', '--format', 'svg'], '--format must be text, latex or dot'],
      [['grad', 'huber', '--wrt', 'y_pred', '--bogus'], "Unknown option '--bogus'"],
      [['grad', '--wrt', 'y_pred'], 'grad takes one NAME'],
    ];
    for (const [argv, want] of cases) {
      const r = await lossc(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toContain(want);
      expect(r.err).toContain('usage: lossc grad');
    }
  });

  it('the printed derivative is valid lossc: pasted into a definition it evaluates to the gradient', async () => {
    const shapes = sig({ y_true: [2, 3], y_pred: [2, 3] });
    const inputs = {
      y_true: fromData([2, 3], [0.1, 0.9, 0.4, 0, 1, 0.5]),
      y_pred: fromData([2, 3], [0.3, -2, 1.5, 0.7, 0.2, -0.4]),
    };
    const cases: Array<[string, string[], string]> = [
      ['mean_squared_error', [], ''],
      ['huber', [], 'delta = 1.0'],
      ['huber', ['--option', 'delta=0.5'], ''],
      ['log_cosh', [], ''],
      ['weighted_se', ['--file', USER], 'w = 2.0'],
      ['naive_bce', ['--file', USER], ''],
      ['binary_crossentropy', ['--option', 'from_logits=true'], ''],
    ];
    for (const [name, flags, options] of cases) {
      const lib = flags[0] === '--file' ? Library.fromFile(USER) : Library.stdlib();
      if (!lib.get(name)) continue;
      const r = await lossc('grad', name, '--wrt', 'y_pred', ...flags);
      expect(r.code, r.err).toBe(0);
      const body = r.out.split('\n').map((l) => `  ${l}`).join('\n');
      const text = `loss pasted(y_true, y_pred${options ? `; ${options}` : ''}) =\n${body}\n`;
      const pasted = lowerDefinition(Library.fromSource(text, 'pasted.loss'), 'pasted', { signature: shapes });
      const fixed = flags[0] === '--option' ? { [flags[1]!.split('=')[0]!]: JSON.parse(flags[1]!.split('=')[1]!) } : {};
      const d = derivative(name, 'y_pred', { library: lib, signature: shapes, options: fixed });
      const [want, got] = evaluate([d.grads[0]!, pasted.value], inputs);
      // Coefficients folded from concrete sizes are float32 numbers (2 / 3 rounded): agree to that.
      expectAllClose(got!.data, want!.data, 1e-6, `${name} ${flags.join(' ')}\n${text}`);
    }
  });

  it('several inputs print as a list that destructures in lossc', async () => {
    const r = await lossc('grad', 'mean_squared_error', '--wrt', 'y_pred', '--wrt', 'y_true');
    const text = `loss pasted(y_true, y_pred) =\n  let [dp, dt] = ${r.out}\n  dp + dt\n`;
    const v = lowerDefinition(Library.fromSource(text, 'pasted2.loss'), 'pasted').value;
    const inputs = { y_true: fromData([1, 2], [1, 2]), y_pred: fromData([1, 2], [3, 5]) };
    expect([...evaluate([v], { ...inputs })[0]!.data]).toEqual([0, 0]);
  });
});

describe('the command itself', () => {
  it('no command prints the usage, exit 2; --help exit 0; --version', async () => {
    const none = await lossc();
    expect(none.code).toBe(2);
    expect(none.out).toContain('usage: lossc <command>');
    expect((await lossc('--help')).code).toBe(0);
    expect((await lossc('--version')).out).toMatch(/^lossc \d+\.\d+\.\d+$/);
  });

  it('an unknown command suggests the nearest one, exit 2', async () => {
    const r = await lossc('chek', 'x.loss');
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown command `chek` (did you mean `check`?)');
  });

  it('each command has --help, exit 0', async () => {
    for (const cmd of ['check', 'show', 'list', 'grad']) {
      const r = await lossc(cmd, '--help');
      expect(r.code, cmd).toBe(0);
      expect(r.out).toContain(`usage: lossc ${cmd}`);
    }
  });
});
