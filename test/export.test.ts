// The export stage without Python: the spelling table covers every op for every target, the
// module text has what the issue asks (Keras-style signature, wrappers, docstring with the doc
// and formula, the stabilised math, the source's let names), bad requests are typed errors,
// and `lossc export` writes the file. (The numbers: export-python.test.ts, export-standin.test.ts.)
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { LosscError } from '../src/errors.js';
import { exportLoss, TARGETS } from '../src/export/index.js';
import { SPELLINGS, spellingOf } from '../src/export/spellings.js';
import { OPS, type OpName } from '../src/ir/ops.js';
import { USER_SOURCE } from './helpers/export-cases.js';

function errorOf(f: () => unknown): LosscError {
  try {
    f();
  } catch (e) {
    if (e instanceof LosscError) return e;
    throw e;
  }
  throw new Error('no error');
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const PLACEHOLDERS = new Set(['m', 'args', 'axes', 'axesAll', 'keepdims', 'axis', 'sizeAxes', 'value', 'name', 'tensor', 'dtype', 'perm', 'parts', 'index', 'depth']);

describe('the spelling table', () => {
  it('spells every op of the IR for every target, with known placeholders and existing arguments', () => {
    expect(Object.keys(SPELLINGS).sort()).toEqual(Object.keys(OPS).sort());
    for (const op of Object.keys(OPS) as OpName[]) {
      for (const t of TARGETS) {
        const { template } = spellingOf(op, t);
        for (const [, key] of template.matchAll(/\{(\w+)(?::\w+)?\}/g)) {
          if (/^\d$/.test(key!)) expect(OPS[op].arity < 0 || Number(key) < OPS[op].arity, `${op} ${t} {${key}}`).toBe(true);
          else expect(PLACEHOLDERS.has(key!), `${op} ${t} {${key}}`).toBe(true);
        }
      }
    }
  });

  it('the export stage imports nothing from Node (the library stays browser-safe)', () => {
    const dir = fileURLToPath(new URL('../src/export/', import.meta.url));
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f), 'utf8'), f).not.toMatch(/from ['"]node:/);
  });
});

describe('exported modules', () => {
  it('numpy: a Keras-style function, the per-sample function, the stabilised math, the doc and formula', () => {
    const py = exportLoss('binary_crossentropy', 'numpy');
    expect(py).toContain('def binary_crossentropy(y_true, y_pred, sample_weight=None, *, reduction="sum_over_batch_size", mask=None, from_logits=False, label_smoothing=0.0, axis=-1):');
    expect(py).toContain('def binary_crossentropy_per_sample(y_true, y_pred, *, from_logits=False, label_smoothing=0.0, axis=-1):');
    // from_logits: softplus(x) - x y, never log(sigmoid(x)); probabilities: clipped logs.
    expect(py).toContain('np.logaddexp(0.0, y_pred) - y_pred * y_true');
    expect(py).toContain('np.clip(y_pred, EPSILON, ONE_MINUS_EPSILON)');
    expect(py).not.toMatch(/np\.log\(_sigmoid/);
    expect(py).toContain('Binary cross-entropy');
    expect(py).toContain("Formula (lossc's checked, stabilised form");
    expect(py).toContain('key = (bool(from_logits)');
    expect(py).toContain('_fixed("binary_crossentropy", "axis", axis, -1)');
    expect(py).toContain('def _reduce(values, out_mask, mask, sample_weight, reduction):');
  });

  it("keeps the source's let names as locals", () => {
    expect(exportLoss('focal_loss', 'pytorch')).toMatch(/\n {4}p_t = y_true \* p \+ /);
    expect(exportLoss(USER_SOURCE, 'numpy')).toMatch(/\n {4}d = y_pred - y_true\n/);
  });

  it('pytorch: a torch.nn.Module with options in __init__; --with-gradient: a torch.autograd.Function', () => {
    const py = exportLoss('huber', 'pytorch', { options: { delta: 2 } });
    expect(py).toContain('class Huber(torch.nn.Module):');
    expect(py).toContain('def __init__(self, reduction="sum_over_batch_size", delta=2.0):');
    expect(py).toContain('def forward(self, y_true, y_pred, sample_weight=None, mask=None):');
    const g = exportLoss('huber', 'pytorch', { withGradient: true });
    expect(g).toContain('class _LosscGradient(torch.autograd.Function):');
    expect(g).toMatch(/def _huber_1_grad\(y_true, y_pred, delta, dy\):/);
    expect(exportLoss('huber', 'jax', { withGradient: true })).toContain('@jax.custom_vjp');
  });

  it('keras: a keras.losses.Loss subclass with get_config, in keras.ops only', () => {
    const py = exportLoss('categorical_focal_crossentropy', 'keras');
    expect(py).toContain('class CategoricalFocalCrossentropy(keras.losses.Loss):');
    expect(py).toContain('config.update({"alpha": self.alpha, "gamma": self.gamma, "from_logits": self.from_logits, "label_smoothing": self.label_smoothing, "axis": self.axis})');
    expect(py).not.toMatch(/\b(np|torch|jnp|tf)\./);
    const masked = exportLoss('sparse_categorical_crossentropy', 'keras', { options: { ignore_class: 255 } });
    expect(masked).toContain('def __call__(self, y_true, y_pred, sample_weight=None):');
    // ignore_class = 255 is compared with the labels as a tensor: a keyword argument like the others.
    expect(masked).toContain('from_logits=False, ignore_class=255, axis=-1, reduction="sum_over_batch_size"');
    expect(exportLoss('sparse_categorical_crossentropy', 'keras')).toContain('_fixed("sparse_categorical_crossentropy", "ignore_class", ignore_class, None)');
  });

  it('a source text exports every loss it defines, in one module; the text is deterministic', () => {
    const py = exportLoss(USER_SOURCE, 'jax');
    expect(py).toContain('def asymmetric_squared(y_true, y_pred, sample_weight=None, *, reduction="sum_over_batch_size", mask=None, under=3.0):');
    expect(py).toContain('weights=[1.0, 2.0, 0.5]');
    expect(exportLoss(USER_SOURCE, 'jax')).toBe(py);
  });

  it('bad requests are typed errors that name the problem', () => {
    expect(errorOf(() => exportLoss('huber', 'tensorflow')).message).toMatch(/unknown export target "tensorflow".*pytorch, numpy, jax, keras/);
    expect(errorOf(() => exportLoss('huber', 'pytorh')).message).toMatch(/did you mean `pytorch`/);
    expect(errorOf(() => exportLoss('huber', 'numpy', { withGradient: true })).kind).toBe('usage');
    expect(errorOf(() => exportLoss('huber', 'keras', { options: { delt: 2 } })).message).toMatch(/no option `delt`.*did you mean `delta`/);
    expect(errorOf(() => exportLoss('hubber', 'numpy')).message).toMatch(/unknown loss `hubber`.*did you mean `huber`/);
    expect(errorOf(() => exportLoss('l2', 'numpy')).kind).toBe('name');
    expect(errorOf(() => exportLoss('def f(x) = x', 'numpy')).message).toMatch(/defines no loss/);
    expect(errorOf(() => exportLoss('loss f(y_true, y_pred) = mean((y_true - y_pred^2, axis = -1)', 'numpy')).kind).toBe('syntax');
    expect(errorOf(() => exportLoss('huber', 'numpy', { options: { delta: Infinity } })).kind).toBe('option');
  });
});

describe('lossc export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lossc-export-cli-'));

  it('writes the module to --out', async () => {
    const out = join(dir, 'huber.py');
    const r = await cli(['export', 'huber', '--to', 'numpy', '--out', out, '-o', 'delta=2']);
    expect(r.code).toBe(0);
    const py = readFileSync(out, 'utf8');
    expect(py).toContain('delta=2.0');
    expect(py).toContain('lossc export huber --to numpy -o delta=2');
  });

  it('--file without a name exports every loss of the file; with a name, that one', async () => {
    const file = join(dir, 'mine.loss');
    (await import('node:fs')).writeFileSync(file, USER_SOURCE);
    const all = await cli(['export', '--file', file, '--to', 'pytorch']);
    expect(all.code).toBe(0);
    expect(all.out).toContain('class AsymmetricSquared(torch.nn.Module):');
    expect(all.out).toContain('class WeightedSoftmaxCe(torch.nn.Module):');
    const one = await cli(['export', 'weighted_softmax_ce', '--file', file, '--to', 'keras']);
    expect(one.out).not.toContain('asymmetric_squared(');
  });

  it('misuse exits 2, a bad name exits 1', async () => {
    expect((await cli(['export', 'huber'])).code).toBe(2);
    expect((await cli(['export', '--to', 'numpy'])).code).toBe(2);
    expect((await cli(['export', 'huber', '--to', 'matlab'])).code).toBe(2);
    expect((await cli(['export', 'huber', '--to', 'keras', '--with-gradient'])).code).toBe(2);
    const bad = await cli(['export', 'hubber', '--to', 'numpy']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/did you mean `huber`/);
  });
});
