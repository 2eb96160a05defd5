// The whole Python module: header, helpers, then per loss its formulas, dispatch, the Keras-style
// function `NAME(y_true, y_pred, sample_weight=None, *, reduction=..., OPTION=DEFAULT)`, the bare
// per-sample function, and the target's wrapper class.

import { hasAttribute } from '../../grammar/ast.js';
import { LosscError } from '../errors.js';
import { coreHelpers, opHelpers } from './prelude.js';
import { camelClass, dispatch, docText, formulaTable, formulas, indent, pyLiteral } from './module.js';
import { TARGET_INFO, type Target } from './spellings.js';
import type { ExportOption, LossVariants } from './variants.js';

const IMPORTS: Record<Target, string> = {
  numpy: 'import math\n\nimport numpy as np',
  pytorch: 'import math\n\nimport torch',
  jax: 'import math\n\nimport jax\nimport jax.numpy as jnp',
  keras: 'import math\n\nimport keras\nfrom keras import ops',
};

const FIXED_HELPER = `
def _fixed(loss, option, value, exported):
    """Options whose value changes the formula were fixed when this module was exported."""
    if value != exported:
        raise ValueError(
            f"{loss}: option \`{option}\` was fixed at {exported!r} when this module was exported (its value "
            f"changes the formula); export again with \`lossc export {loss} -o {option}=...\`")
`.trim();

const GRADIENT_HELPER: Partial<Record<Target, string>> = {
  pytorch: `
class _LosscGradient(torch.autograd.Function):
    """A formula's per-sample values, with lossc's simplified derivative as the backward pass."""

    @staticmethod
    def forward(ctx, formula, options, *inputs):
        ctx.formula, ctx.options = formula, options
        ctx.save_for_backward(*inputs)
        values, mask = formula(*inputs, *options)
        if mask is None:
            return values
        ctx.mark_non_differentiable(mask)
        return values, mask

    @staticmethod
    def backward(ctx, dy, *_):
        grads = ctx.formula.gradient(*ctx.saved_tensors, *ctx.options, dy)
        return (None, None, *grads)


def _with_lossc_gradient(formula, options, inputs):
    out = _LosscGradient.apply(formula, options, *inputs)
    return out if isinstance(out, tuple) else (out, None)
`,
  jax: `
def _with_lossc_gradient(formula, options, inputs):
    """formula's per-sample values with lossc's simplified derivative as their VJP (jax.custom_vjp)."""

    @jax.custom_vjp
    def values(*xs):
        return formula(*xs, *options)[0]

    def forward(*xs):
        return values(*xs), xs

    def backward(xs, dy):
        grads = formula.gradient(*xs, *options, dy)
        return tuple(jnp.zeros_like(x) if g is None else g for x, g in zip(xs, grads))

    values.defvjp(forward, backward)
    return values(*inputs), formula(*inputs, *options)[1]
`,
};

export interface ModuleSpec {
  target: Target;
  losses: LossVariants[];
  withGradient: boolean;
  /** How to make this module again (shown in its docstring). */
  command: string;
  /** Where the definitions came from. */
  source: string;
}

function optionDoc(o: ExportOption, lit: string): string {
  if (o.role === 'runtime') return `${o.name}: option (default ${lit}).`;
  if (o.role === 'branch') return `${o.name}: option (default ${lit}); chooses the formula.`;
  return `${o.name}: fixed at ${lit} when exported (its value changes the formula; export again with -o ${o.name}=...).`;
}

const isIntLike = (lv: LossVariants, name: string): boolean => {
  const d = lv.def.options.find((o) => o.name === name)!.default;
  return d.kind === 'none' || (d.kind === 'number' && !/[.e]/i.test(d.text)) || (d.kind === 'unary' && d.operand.kind === 'number' && !/[.e]/i.test(d.operand.text));
};

function docstring(lv: LossVariants, target: Target, lits: Map<string, string>): string[] {
  const doc = lv.def.doc.trim();
  const lines = [`"""${docText(doc.split('\n')[0] || `The lossc loss \`${lv.def.name}\`.`)}`];
  const rest = doc.split('\n').slice(1);
  if (rest.length) lines.push(...rest.map(docText));
  lines.push('', `Formula (lossc's checked, stabilised form, which this ${TARGET_INFO[target].title} code computes):`, '');
  lines.push(...indent(docText(lv.formula).split('\n')));
  lines.push('', 'Args:', '    y_true, y_pred: tensors, with Keras\'s rank alignment (a trailing size-1 axis).');
  lines.push('    sample_weight: per-sample weights broadcast against the per-sample values, or None.');
  lines.push('    reduction: "sum_over_batch_size" (default), "sum", "mean", "mean_with_sample_weight" or "none" (None).');
  lines.push('    mask: Keras\'s mask of y_pred (True: counted), or None.');
  for (const o of lv.options) lines.push(`    ${optionDoc(o, lits.get(o.name)!)}`);
  lines.push('"""');
  return lines;
}

/** The functions and class of one loss. */
function lossCode(lv: LossVariants, target: Target, withGradient: boolean): string {
  const name = lv.def.name;
  if (lv.def.kind !== 'loss') throw new LosscError('usage', `\`${name}\` is a ${lv.def.kind}; only losses can be exported`);
  if (lv.def.params.length !== 2) throw new LosscError('usage', `\`${name}\` takes ${lv.def.params.length} tensors; an exported loss takes two (y_true, y_pred)`);
  const params = lv.def.params.map((p) => p.name);
  const [yt, yp] = params as [string, string];
  const runtime = lv.options.filter((o) => o.role === 'runtime').map((o) => o.name);
  const lits = new Map(lv.options.map((o) => [o.name, pyLiteral(o.value, isIntLike(lv, o.name))]));
  const names = { loss: name, params, runtime };
  const f = formulas(lv, target, names, withGradient);
  const all = lv.options.map((o) => o.name);
  const kw = lv.options.map((o) => `${o.name}=${lits.get(o.name)}`);
  const pass = all.map((o) => `${o}=${o}`).join(', ');
  const values = [
    `def _${name}_values(${[...params, ...all].join(', ')}):`,
    `    """Per-sample values and the loss's own mask (or None), by the formula for these tensors and options."""`,
    ...lv.options.filter((o) => o.role === 'fixed').map((o) => `    _fixed("${name}", "${o.name}", ${o.name}, ${lits.get(o.name)})`),
    ...indent(dispatch(lv, target, names, f)),
    withGradient
      ? `    return _with_lossc_gradient(formula, (${runtime.join(', ')}${runtime.length === 1 ? ',' : ''}), (${params.join(', ')}))`
      : `    return formula(${[...params, ...runtime].join(', ')})`,
  ];
  const call = `_${name}_values(${params.join(', ')}${all.length ? ', ' : ''}${all.join(', ')})`;
  const align = hasAttribute(lv.def, 'no_align') ? [] : [`    ${yt}, ${yp} = _align(${yt}, ${yp})`];
  const main = [
    `def ${name}(${yt}, ${yp}, sample_weight=None, *, reduction="sum_over_batch_size", mask=None${kw.length ? ', ' : ''}${kw.join(', ')}):`,
    ...indent(docstring(lv, target, lits)),
    `    ${yt}, ${yp} = _as_float(${yt}), _as_float(${yp})`,
    ...align,
    `    values, out_mask = ${call}`,
    `    return _reduce(values, out_mask, mask, sample_weight, reduction)`,
  ];
  const bare = [
    `def ${name}_per_sample(${yt}, ${yp}${kw.length ? ', *, ' : ''}${kw.join(', ')}):`,
    `    """Keras's bare function \`keras.losses.${name}\`: the per-sample values, unreduced."""`,
    `    ${yt}, ${yp} = _as_float(${yt}), _as_float(${yp})`,
    `    return ${call}[0]`,
  ];
  const gradAttrs = withGradient ? f.defs.filter((d) => !d.includes('_grad(')).map((d) => /^def (\w+)\(/.exec(d)![1]!).map((fn) => `${fn}.gradient = ${fn}_grad`) : [];
  const blocks = [`# ${'-'.repeat(94)}\n# ${name}`, ...f.defs];
  if (gradAttrs.length) blocks.push(gradAttrs.join('\n'));
  const table = formulaTable(names, f);
  if (table.length) blocks.push(table.join('\n'));
  blocks.push(values.join('\n'), main.join('\n'), bare.join('\n'));
  const cls = wrapperClass(lv, target, { yt, yp, kw, pass, lits, call, hasMask: lv.variants.some((v) => v.mask) });
  if (cls) blocks.push(cls);
  return blocks.join('\n\n\n');
}

interface ClassParts {
  yt: string;
  yp: string;
  kw: string[];
  pass: string;
  lits: Map<string, string>;
  call: string;
  hasMask: boolean;
}

function wrapperClass(lv: LossVariants, target: Target, c: ClassParts): string | undefined {
  const name = lv.def.name;
  const cls = camelClass(name);
  const all = lv.options.map((o) => o.name);
  const selfOpts = all.map((o) => `${o}=self.${o}`).join(', ');
  const sets = all.map((o) => `        self.${o} = ${o}`);
  if (target === 'pytorch') {
    return [
      `class ${cls}(torch.nn.Module):`,
      `    """\`${name}\` as a torch.nn.Module: options in __init__, forward(y_true, y_pred, sample_weight=None)."""`,
      '',
      `    def __init__(self, reduction="sum_over_batch_size"${c.kw.length ? ', ' : ''}${c.kw.join(', ')}):`,
      '        super().__init__()',
      '        self.reduction = reduction',
      ...sets,
      '',
      `    def forward(self, ${c.yt}, ${c.yp}, sample_weight=None, mask=None):`,
      `        return ${name}(${c.yt}, ${c.yp}, sample_weight, reduction=self.reduction, mask=mask${all.length ? ', ' : ''}${selfOpts})`,
      '',
      '    def extra_repr(self):',
      `        return f"reduction={self.reduction!r}${all.map((o) => `, ${o}={self.${o}!r}`).join('')}"`,
    ].join('\n');
  }
  if (target !== 'keras') return undefined;
  const align = hasAttribute(lv.def, 'no_align') ? [] : [`        ${c.yt}, ${c.yp} = _align(${c.yt}, ${c.yp})`];
  const lines = [
    `class ${cls}(keras.losses.Loss):`,
    `    """\`${name}\` as a keras.losses.Loss (keras.ops only: JAX, TensorFlow and PyTorch backends)."""`,
    '',
    `    def __init__(self${c.kw.length ? ', ' : ''}${c.kw.join(', ')}, reduction="sum_over_batch_size", name="${name}", dtype=None):`,
    '        super().__init__(name=name, reduction=reduction, dtype=dtype)',
    ...sets,
    '',
    `    def call(self, ${c.yt}, ${c.yp}):`,
    `        ${c.yt}, ${c.yp} = _as_float(${c.yt}), _as_float(${c.yp})`,
    ...align,
    `        return _${name}_values(${c.yt}, ${c.yp}${all.length ? ', ' : ''}${all.map((o) => `self.${o}`).join(', ')})[0]`,
  ];
  if (c.hasMask) {
    lines.push(
      '',
      `    def __call__(self, ${c.yt}, ${c.yp}, sample_weight=None):`,
      '        # The loss masks some entries itself (Keras sets that mask on the values in call(), which',
      '        # keras.ops cannot): reduce here, with y_pred\'s own Keras mask if it has one.',
      `        return ${name}(${c.yt}, ${c.yp}, sample_weight, reduction=self.reduction, mask=getattr(${c.yp}, "_keras_mask", None)${all.length ? ', ' : ''}${selfOpts})`,
    );
  }
  lines.push('', '    def get_config(self):', '        config = super().get_config()');
  if (all.length) lines.push(`        config.update({${all.map((o) => `"${o}": self.${o}`).join(', ')}})`);
  lines.push('        return config');
  return lines.join('\n');
}

/** The module text. */
export function pythonModule(spec: ModuleSpec): string {
  const { target } = spec;
  const title = TARGET_INFO[target].title;
  const names = spec.losses.map((l) => l.def.name);
  const code = spec.losses.map((l) => lossCode(l, target, spec.withGradient)).join('\n\n\n');
  const head = [
    `"""${names.map((n) => `\`${n}\``).join(', ')}: ${names.length === 1 ? 'a loss' : 'losses'} from lossc, exported to ${title}.`,
    '',
    `Generated by lossc from ${docText(spec.source)}; regenerate it, do not edit it:`,
    `    ${docText(spec.command)}`,
    '',
    'Each loss is a function NAME(y_true, y_pred, sample_weight=None, *, reduction=..., OPTION=DEFAULT)',
    "with Keras's semantics (rank alignment, masks, sample weights, the five reductions), and",
    'NAME_per_sample, the per-sample values. The formulas are lossc\'s checked, stabilised IR.',
    spec.withGradient ? "The gradient is lossc's own simplified derivative, not the framework's autodiff." : '',
    '"""',
  ].filter((l, i, a) => !(l === '' && a[i + 1] === '"""'));
  const helpers = [coreHelpers(target), ...opHelpers(target, code), FIXED_HELPER];
  if (spec.withGradient) helpers.push(GRADIENT_HELPER[target]!.trim());
  const parts = [
    head.join('\n'),
    IMPORTS[target],
    'EPSILON = 1e-7\nONE_MINUS_EPSILON = 0.9999998807907104  # 1 - EPSILON in float32, lossc\'s and Keras\'s clip bound\nREDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none")',
    helpers.join('\n\n\n'),
    code,
  ];
  return parts.join('\n\n\n') + '\n';
}
