// The Python helpers an exported module starts with, per target: Keras's semantics around the
// per-sample values (rank alignment, masks, sample weights, the five reductions; the same steps
// as src/keras/wrapper.ts) and the few ops a target has no one-call spelling for. A helper is
// included only when the module uses it. `{m}` is the target's array module (spellings.ts).

import type { Target } from './spellings.js';

export interface Helper {
  name: string;
  /** Targets it is written for ('array': numpy, jax and keras alike, through `{m}`). */
  text: string;
}

type Family = 'array' | 'pytorch';

const familyOf = (t: Target): Family => (t === 'pytorch' ? 'pytorch' : 'array');

/** How the array family spells the few things numpy, jax.numpy and keras.ops name differently. */
const ARRAY_WORDS: Record<Exclude<Target, 'pytorch'>, Record<string, string>> = {
  numpy: { ndim: 'np.ndim', shape: 'np.shape', size: 'np.size', asarray: 'np.asarray', isfloat: 'np.issubdtype({x}.dtype, np.floating)', tofloat: '{x}.astype(np.float32)', tobool: 'np.asarray({x}, dtype=bool)', totype: '{x}.astype({y}.dtype)' },
  jax: { ndim: 'jnp.ndim', shape: 'jnp.shape', size: 'jnp.size', asarray: 'jnp.asarray', isfloat: 'jnp.issubdtype({x}.dtype, jnp.floating)', tofloat: '{x}.astype(jnp.float32)', tobool: 'jnp.asarray({x}, dtype=bool)', totype: '{x}.astype({y}.dtype)' },
  keras: { ndim: 'ops.ndim', shape: 'ops.shape', size: 'ops.size', asarray: 'ops.convert_to_tensor', isfloat: '"float" in str({x}.dtype)', tofloat: 'ops.cast({x}, "float32")', tobool: 'ops.cast({x}, "bool")', totype: 'ops.cast({x}, {y}.dtype)' },
};

const ARRAY_CORE = `
def _as_float(x):
    """x as a tensor of a float dtype (ints and bools become float32, as Keras casts inputs)."""
    x = {asarray}(x)
    return x if {isfloat:x} else {tofloat:x}


def _align(a, b):
    """Keras's squeeze_or_expand_to_same_rank: fix a rank difference of one trailing size-1 axis."""
    ra, rb = {ndim}(a), {ndim}(b)
    if ra == rb + 1 and {shape}(a)[-1] == 1:
        return (a, {m}.expand_dims(b, -1)) if rb == 1 else ({m}.squeeze(a, -1), b)
    if rb == ra + 1 and {shape}(b)[-1] == 1:
        return ({m}.expand_dims(a, -1), b) if ra == 1 else (a, {m}.squeeze(b, -1))
    return a, b


def _div_no_nan(x, y):
    """x / y, and 0 where y is 0."""
    return {m}.where(y == 0, 0.0 * x, x / {m}.where(y == 0, 1.0, y))


def _reduce(values, out_mask, mask, sample_weight, reduction):
    """Keras's Loss.__call__ after the per-sample values: masks, sample weights, the reduction."""
    reduction = "none" if reduction is None else reduction
    if reduction not in REDUCTIONS:
        raise ValueError(f"Invalid value for argument \`reduction\`: {reduction!r} (expected one of {', '.join(REDUCTIONS)} or None)")
    if mask is not None:
        mask = {tobool:mask}
        mask = mask if out_mask is None else {m}.logical_and(mask, out_mask)
    else:
        mask = out_mask
    sw = None if sample_weight is None else _as_float(sample_weight)
    if mask is not None:
        m = {totype:mask:values}
        if reduction in ("sum_over_batch_size", "mean"):
            m = m * _div_no_nan({m}.sum({m}.ones_like(m)), {m}.sum(m))
        if sw is not None:
            m, sw = _align(m, sw)
            sw = m * sw
        else:
            sw = m
    if sw is not None:
        values, sw = _align(values, sw)
        values = values * sw
    if reduction == "none" or {ndim}(values) == 0 or ({ndim}(values) == 1 and {shape}(values)[0] == 0):
        return values
    total = {m}.sum(values)
    if reduction == "sum":
        return total
    count = {m}.sum({m}.ones_like(values))
    if reduction == "mean_with_sample_weight":
        return _div_no_nan(total, {m}.sum(sw) if sw is not None else count)
    return _div_no_nan(total, count)
`;

const TORCH_CORE = `
def _as_float(x):
    """x as a tensor of a float dtype (ints and bools become the default float dtype)."""
    x = torch.as_tensor(x)
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())


def _align(a, b):
    """Keras's squeeze_or_expand_to_same_rank: fix a rank difference of one trailing size-1 axis."""
    ra, rb = a.dim(), b.dim()
    if ra == rb + 1 and a.shape[-1] == 1:
        return (a, b.unsqueeze(-1)) if rb == 1 else (a.squeeze(-1), b)
    if rb == ra + 1 and b.shape[-1] == 1:
        return (a.unsqueeze(-1), b) if ra == 1 else (a, b.squeeze(-1))
    return a, b


def _div_no_nan(x, y):
    """x / y, and 0 where y is 0."""
    y = torch.as_tensor(y, dtype=x.dtype, device=x.device)
    return torch.where(y == 0, torch.zeros_like(x), x / torch.where(y == 0, torch.ones_like(y), y))


def _reduce(values, out_mask, mask, sample_weight, reduction):
    """Keras's Loss.__call__ after the per-sample values: masks, sample weights, the reduction."""
    reduction = "none" if reduction is None else reduction
    if reduction not in REDUCTIONS:
        raise ValueError(f"Invalid value for argument \`reduction\`: {reduction!r} (expected one of {', '.join(REDUCTIONS)} or None)")
    if mask is not None:
        mask = torch.as_tensor(mask, device=values.device).bool()
        mask = mask if out_mask is None else torch.logical_and(mask, out_mask)
    else:
        mask = out_mask
    sw = None if sample_weight is None else _as_float(sample_weight).to(values.device)
    if mask is not None:
        m = mask.to(values.dtype)
        if reduction in ("sum_over_batch_size", "mean"):
            m = m * _div_no_nan(torch.tensor(float(m.numel()), dtype=m.dtype, device=m.device), m.sum())
        if sw is not None:
            m, sw = _align(m, sw)
            sw = m * sw
        else:
            sw = m
    if sw is not None:
        values, sw = _align(values, sw)
        values = values * sw
    if reduction == "none" or values.dim() == 0 or (values.dim() == 1 and values.shape[0] == 0):
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight":
        return _div_no_nan(total, sw.sum() if sw is not None else float(values.numel()))
    return total / values.numel() if values.numel() else torch.zeros_like(total)
`;

/** The op helpers, by name, per family (only the used ones are written out). */
const OP_HELPERS: Record<Family, Record<string, string>> = {
  array: {
    _sigmoid: `
def _sigmoid(x):
    """The logistic function, without overflow for large |x|."""
    return np.exp(-np.logaddexp(0.0, -x))
`,
    _logsumexp: `
def _logsumexp(x, axis, keepdims=False):
    """log(sum(exp(x))) over axis, shifted by the maximum (stable)."""
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)
`,
    _size: `
def _size(x, axes):
    """The number of entries of x along axes (None: all), as a float."""
    shape = {shape}(x)
    n = 1
    for a in range(len(shape)) if axes is None else axes:
        n = n * shape[a]
    return float(n)
`,
    _one_hot: `
def _one_hot(labels, depth):
    """One-hot rows of int labels (all zeros for a label outside 0..depth-1, as tf.one_hot)."""
    return (np.expand_dims(labels, -1) == np.arange(depth)).astype(np.float32)
`,
    _ctc: `
def _ctc(labels, logits):
    """Per row, -log p(labels | logits) of CTC: labels [B, L] (0 the blank and the padding; a row's
    label sequence is its first count-of-nonzero entries), logits [B, T, C] unnormalised. log 0 is
    -1e5, as Keras's JAX and NumPy backends compute it."""
    log_zero = -1e5
    logp = logits - {m}.max(logits, axis=-1, keepdims=True)
    logp = logp - {m}.log({m}.sum({m}.exp(logp), axis=-1, keepdims=True))
    rows = []
    for b, row in enumerate(np.asarray(labels).tolist()):
        n = sum(1 for v in row if int(v) != 0)
        ext = [0]
        for v in row[:n]:
            ext += [int(v), 0]
        skip = {asarray}([s % 2 == 1 and s >= 2 and ext[s] != ext[s - 2] for s in range(len(ext))])
        alpha = {asarray}([0.0] + [log_zero] * (len(ext) - 1))
        pad = {asarray}([log_zero, log_zero])
        for t in range(logits.shape[1]):
            a1 = {m}.concatenate([pad[:1], alpha[:-1]])
            a2 = {m}.where(skip, {m}.concatenate([pad, alpha[:-2]])[: len(ext)], log_zero)
            alpha = {m}.logaddexp({m}.logaddexp(alpha, a1), a2) + {take:logp[b, t]:ext}
        rows.append(-(alpha[-1] if len(ext) == 1 else {m}.logaddexp(alpha[-1], alpha[-2])))
    return {m}.stack(rows)
`,
    _ctc_grad: `
def _ctc_grad(labels, logits):
    """d _ctc(labels, logits) / d logits, row by row, by JAX's autodiff."""
    return jax.grad(lambda z: jnp.sum(_ctc(labels, z)))(logits)
`,
  },
  pytorch: {
    _tensor: `
def _tensor(values):
    """A literal tensor of the default float dtype."""
    return torch.tensor(values, dtype=torch.get_default_dtype())
`,
    _maximum: `
def _maximum(a, b):
    """Elementwise maximum; a tie sends the whole gradient to a (as lossc and TensorFlow do)."""
    a, b = _tensors(a, b)
    return torch.where(a >= b, a, b)
`,
    _minimum: `
def _minimum(a, b):
    """Elementwise minimum; a tie sends the whole gradient to a (as lossc and TensorFlow do)."""
    a, b = _tensors(a, b)
    return torch.where(a <= b, a, b)
`,
    _where: `
def _where(c, a, b):
    """a where c holds, else b (Python numbers allowed)."""
    a, b = _tensors(a, b)
    return torch.where(torch.as_tensor(c, device=a.device), a, b)
`,
    _clip: `
def _clip(x, lo, hi):
    """min(max(x, lo), hi), as lossc's clip (Python numbers allowed)."""
    return _minimum(_maximum(x, lo), hi)
`,
    _tensors: `
def _tensors(a, b):
    """Both arguments as tensors, a Python number taking the other's dtype and device."""
    if not torch.is_tensor(a) and not torch.is_tensor(b):
        a = torch.as_tensor(a, dtype=torch.get_default_dtype())
    if not torch.is_tensor(a):
        a = torch.as_tensor(a, dtype=b.dtype if b.is_floating_point() else torch.get_default_dtype(), device=b.device)
    if not torch.is_tensor(b):
        b = torch.as_tensor(b, dtype=a.dtype if a.is_floating_point() else torch.get_default_dtype(), device=a.device)
    return a, b
`,
    _broadcast_like: `
def _broadcast_like(x, like):
    """x broadcast to the shape of like."""
    if not torch.is_tensor(x):
        x = torch.as_tensor(x, dtype=like.dtype if like.is_floating_point() else torch.get_default_dtype(), device=like.device)
    return torch.broadcast_to(x, like.shape)
`,
    _size: `
def _size(x, axes):
    """The number of entries of x along axes (None: all), as a float."""
    n = 1
    for a in range(x.dim()) if axes is None else axes:
        n = n * x.shape[a]
    return float(n)
`,
    _indices: `
def _indices(x, axis):
    """0, 1, ..., n - 1 for the size n of x along axis."""
    return torch.arange(x.shape[axis], device=x.device)
`,
    _one_hot: `
def _one_hot(labels, depth):
    """One-hot rows of int labels (all zeros for a label outside 0..depth-1, as tf.one_hot)."""
    return (labels.unsqueeze(-1) == torch.arange(depth, device=labels.device)).to(torch.get_default_dtype())
`,
    _ctc: `
def _ctc(labels, logits):
    """Per row, -log p(labels | logits) of CTC: labels [B, L] (0 the blank and the padding; a row's
    label sequence is its first count-of-nonzero entries), logits [B, T, C] unnormalised. log 0 is
    -1e5, as Keras's JAX and NumPy backends compute it."""
    log_zero = -1e5
    logp = torch.log_softmax(logits, dim=-1)
    rows = []
    for b, row in enumerate(labels.tolist()):
        n = sum(1 for v in row if int(v) != 0)
        ext = [0]
        for v in row[:n]:
            ext += [int(v), 0]
        skip = torch.tensor([s % 2 == 1 and s >= 2 and ext[s] != ext[s - 2] for s in range(len(ext))], device=logits.device)
        alpha = torch.tensor([0.0] + [log_zero] * (len(ext) - 1), dtype=logits.dtype, device=logits.device)
        pad = torch.full((2,), log_zero, dtype=logits.dtype, device=logits.device)
        index = torch.tensor(ext, device=logits.device)
        for t in range(logits.shape[1]):
            a1 = torch.cat([pad[:1], alpha[:-1]])
            a2 = torch.where(skip, torch.cat([pad, alpha[:-2]])[: len(ext)], pad[0])
            alpha = torch.logaddexp(torch.logaddexp(alpha, a1), a2) + logp[b, t][index]
        rows.append(-(alpha[-1] if len(ext) == 1 else torch.logaddexp(alpha[-1], alpha[-2])))
    return torch.stack(rows)
`,
    _ctc_grad: `
def _ctc_grad(labels, logits):
    """d _ctc(labels, logits) / d logits, row by row, by torch.autograd."""
    with torch.enable_grad():
        z = logits.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(_ctc(labels, z).sum(), z)
    return g
`,
  },
};

/** Write a helper's text for a target: `{m}`, the array family's words, `{take:x:i}`. */
function specialise(text: string, target: Target): string {
  if (target === 'pytorch') return text;
  const words = ARRAY_WORDS[target];
  const m = target === 'numpy' ? 'np' : target === 'jax' ? 'jnp' : 'ops';
  let out = text.replace(/\{take:([^:}]+):([^}]+)\}/g, (_, x: string, i: string) => (target === 'keras' ? `ops.take(${x}, ${i})` : `${x}[${i}]`));
  out = out.replace(/\{(\w+):(\w+)(?::(\w+))?\}/g, (_, w: string, x: string, y?: string) => words[w]!.replace('{x}', x).replace('{y}', y ?? ''));
  out = out.replace(/\{(ndim|shape|size|asarray)\}/g, (_, w: string) => words[w]!);
  out = out.replace(/\{m\}/g, m);
  if (target !== 'numpy') out = out.replace(/\bnp\.asarray\(labels\)\.tolist\(\)/g, target === 'keras' ? 'ops.convert_to_numpy(labels).tolist()' : 'labels.tolist()');
  if (target === 'jax') out = out.replace(/\bnp\./g, 'jnp.').replace(/jnp\.exp\(-jnp\.logaddexp/g, 'jnp.exp(-jnp.logaddexp');
  if (target === 'keras') out = out.replace(/\bnp\./g, 'ops.');
  return out;
}

/** Keras's semantics helpers, always written. */
export function coreHelpers(target: Target): string {
  return specialise(familyOf(target) === 'pytorch' ? TORCH_CORE : ARRAY_CORE, target).trim();
}

/** The op helpers `code` calls, in a fixed order (and the helpers they call themselves). */
export function opHelpers(target: Target, code: string): string[] {
  const table = OP_HELPERS[familyOf(target)];
  const used = new Set<string>();
  const visit = (text: string) => {
    for (const name of Object.keys(table)) {
      if (!used.has(name) && new RegExp(`\\b${name}\\(`).test(text)) {
        used.add(name);
        visit(table[name]!);
      }
    }
  };
  visit(code);
  // numpy's sigmoid and logsumexp have one-call spellings in the other array targets.
  return Object.keys(table)
    .filter((n) => used.has(n))
    .filter((n) => !(n === '_ctc_grad' && target !== 'jax' && target !== 'pytorch'))
    .map((n) => specialise(table[n]!, target).trim());
}
