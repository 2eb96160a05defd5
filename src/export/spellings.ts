// The per-target spellings of every IR op, for exporting a loss as Python: one table, typed as a
// total Record over the op names (a new primitive without a spelling here is a compile error), in
// the style of the printers (src/print/text.ts). A spelling is a template:
//
//   {m}            the target's array module (np, torch, jnp, ops)
//   {0} {1} {2}    an argument, at the lowest precedence (inside a call's parentheses);
//                  {0:atom} {1:add} ... at that precedence (PREC in src/print/text.ts)
//   {args}         every argument, comma-separated (concat)
//   {axes}         `, axis=-1` / `, axis=(-2, -1)`, or nothing when every axis is reduced
//                  (torch: `, dim=...`); {axesAll} always the axes, as a tuple
//   {keepdims}     `, keepdims=True` when the reduction keeps its axes (torch: `, keepdim=True`)
//   {axis}         the op's single axis, counted from the end (-1 is the last)
//   {sizeAxes}     the axes of `size`, as a tuple counted from the end, or None for all
//   {value} {name} {tensor} {dtype} {perm} {parts} {index} {depth}   the op's attributes
//
// Axes are written from the end, so one emitted formula serves every rank that lowers to the same
// text (src/export/variants.ts keeps one function per distinct text).

import type { OpName } from '../ir/ops.js';

export const TARGETS = ['pytorch', 'numpy', 'jax', 'keras'] as const;
export type Target = (typeof TARGETS)[number];

/** Facts about a target that are not per op. */
export interface TargetInfo {
  /** Shown in docstrings. */
  title: string;
  /** The array module's alias in emitted code. */
  m: string;
  /** Reductions' axis keyword and keep-dims keyword. */
  axisKw: string;
  keepKw: string;
  /** IR dtypes as the target names them. */
  dtype: Record<'float32' | 'int32' | 'bool', string>;
  /** The size of `{x}` along axis `{a}`, and its rank. */
  dimOf: string;
  ndimOf: string;
}

export const TARGET_INFO: Record<Target, TargetInfo> = {
  numpy: {
    title: 'NumPy',
    m: 'np',
    axisKw: 'axis',
    keepKw: 'keepdims',
    dtype: { float32: 'np.float32', int32: 'np.int64', bool: 'bool' },
    dimOf: 'np.shape({x})[{a}]',
    ndimOf: 'np.ndim({x})',
  },
  pytorch: {
    title: 'PyTorch',
    m: 'torch',
    axisKw: 'dim',
    keepKw: 'keepdim',
    dtype: { float32: 'torch.float32', int32: 'torch.int64', bool: 'torch.bool' },
    dimOf: '{x}.shape[{a}]',
    ndimOf: '{x}.dim()',
  },
  jax: {
    title: 'JAX',
    m: 'jnp',
    axisKw: 'axis',
    keepKw: 'keepdims',
    dtype: { float32: 'jnp.float32', int32: 'jnp.int32', bool: 'jnp.bool_' },
    dimOf: 'jnp.shape({x})[{a}]',
    ndimOf: 'jnp.ndim({x})',
  },
  keras: {
    title: 'Keras 3 (keras.ops)',
    m: 'ops',
    axisKw: 'axis',
    keepKw: 'keepdims',
    dtype: { float32: '"float32"', int32: '"int32"', bool: '"bool"' },
    dimOf: 'ops.shape({x})[{a}]',
    ndimOf: 'ops.ndim({x})',
  },
};

/** How an op is written: the same template for every target, or one per target. */
export type Spelling = { prec?: Prec; all: string } | ({ prec?: Prec } & Record<Target, string>);

/** Precedence names (PREC in src/print/text.ts); a call is an atom. */
export type Prec = 'compare' | 'add' | 'mul' | 'neg' | 'pow' | 'atom';

const same = (all: string, prec?: Prec): Spelling => (prec ? { prec, all } : { all });
const fn = (name: string): Spelling => same(`{m}.${name}({0})`);

export const SPELLINGS: Record<OpName, Spelling> = {
  input: same('{name}'),
  param: same('{name}'),
  const: same('{value}'),
  tensor: { numpy: 'np.asarray({tensor})', pytorch: '_tensor({tensor})', jax: 'jnp.asarray({tensor})', keras: 'ops.convert_to_tensor({tensor})' },
  size: same('_size({0}, {sizeAxes})'),
  indices: { numpy: 'np.arange(np.shape({0})[{axis}])', pytorch: '_indices({0}, {axis})', jax: 'jnp.arange(jnp.shape({0})[{axis}])', keras: 'ops.arange(ops.shape({0})[{axis}])' },

  neg: { prec: 'neg', all: '-{0:pow}' },
  exp: fn('exp'),
  log: fn('log'),
  log1p: fn('log1p'),
  expm1: fn('expm1'),
  sqrt: fn('sqrt'),
  abs: fn('abs'),
  sign: fn('sign'),
  sigmoid: { numpy: '_sigmoid({0})', pytorch: 'torch.sigmoid({0})', jax: 'jax.nn.sigmoid({0})', keras: 'ops.sigmoid({0})' },
  softplus: { numpy: 'np.logaddexp(0.0, {0})', pytorch: 'torch.nn.functional.softplus({0})', jax: 'jax.nn.softplus({0})', keras: 'ops.softplus({0})' },
  tanh: fn('tanh'),
  cosh: fn('cosh'),
  sinh: fn('sinh'),
  cos: fn('cos'),
  sin: fn('sin'),
  floor: fn('floor'),
  not: fn('logical_not'),
  cast: { numpy: '{0:atom}.astype({dtype})', pytorch: '{0:atom}.to({dtype})', jax: '{0:atom}.astype({dtype})', keras: 'ops.cast({0}, {dtype})' },
  stop_gradient: { numpy: '{0}', pytorch: '{0:atom}.detach()', jax: 'jax.lax.stop_gradient({0})', keras: 'ops.stop_gradient({0})' },

  add: same('{0:add} + {1:mul}', 'add'),
  sub: same('{0:add} - {1:mul}', 'add'),
  mul: same('{0:mul} * {1:neg}', 'mul'),
  div: same('{0:mul} / {1:neg}', 'mul'),
  pow: same('{0:atom} ** {1:neg}', 'pow'),
  maximum: { numpy: 'np.maximum({0}, {1})', pytorch: '_maximum({0}, {1})', jax: 'jnp.maximum({0}, {1})', keras: 'ops.maximum({0}, {1})' },
  minimum: { numpy: 'np.minimum({0}, {1})', pytorch: '_minimum({0}, {1})', jax: 'jnp.minimum({0}, {1})', keras: 'ops.minimum({0}, {1})' },
  lt: same('{0:add} < {1:add}', 'compare'),
  le: same('{0:add} <= {1:add}', 'compare'),
  gt: same('{0:add} > {1:add}', 'compare'),
  ge: same('{0:add} >= {1:add}', 'compare'),
  eq: same('{0:add} == {1:add}', 'compare'),
  ne: same('{0:add} != {1:add}', 'compare'),
  and: same('{m}.logical_and({0}, {1})'),
  or: same('{m}.logical_or({0}, {1})'),

  where: { numpy: 'np.where({0}, {1}, {2})', pytorch: '_where({0}, {1}, {2})', jax: 'jnp.where({0}, {1}, {2})', keras: 'ops.where({0}, {1}, {2})' },
  clip: { numpy: 'np.clip({0}, {1}, {2})', pytorch: '_clip({0}, {1}, {2})', jax: 'jnp.clip({0}, {1}, {2})', keras: 'ops.clip({0}, {1}, {2})' },

  sum: same('{m}.sum({0}{axes}{keepdims})'),
  mean: same('{m}.mean({0}{axes}{keepdims})'),
  max: { numpy: 'np.max({0}{axes}{keepdims})', pytorch: 'torch.amax({0}{axes}{keepdims})', jax: 'jnp.max({0}{axes}{keepdims})', keras: 'ops.max({0}{axes}{keepdims})' },
  min: { numpy: 'np.min({0}{axes}{keepdims})', pytorch: 'torch.amin({0}{axes}{keepdims})', jax: 'jnp.min({0}{axes}{keepdims})', keras: 'ops.min({0}{axes}{keepdims})' },
  logsumexp: {
    numpy: '_logsumexp({0}, {axesAll}{keepdims})',
    pytorch: 'torch.logsumexp({0}, {axesAll}{keepdims})',
    jax: 'jax.nn.logsumexp({0}, {axesAll}{keepdims})',
    keras: 'ops.logsumexp({0}, {axesAll}{keepdims})',
  },

  broadcast_like: { numpy: 'np.broadcast_to({0}, np.shape({1}))', pytorch: '_broadcast_like({0}, {1})', jax: 'jnp.broadcast_to({0}, jnp.shape({1}))', keras: 'ops.broadcast_to({0}, ops.shape({1}))' },
  expand_dims: { numpy: 'np.expand_dims({0}, {axis})', pytorch: 'torch.unsqueeze({0}, {axis})', jax: 'jnp.expand_dims({0}, {axis})', keras: 'ops.expand_dims({0}, {axis})' },
  squeeze: { numpy: 'np.squeeze({0}, {axis})', pytorch: 'torch.squeeze({0}, {axis})', jax: 'jnp.squeeze({0}, {axis})', keras: 'ops.squeeze({0}, {axis})' },
  // A destructuring `let` writes the template without its trailing `[{index}]`.
  part: {
    numpy: 'np.split({0}, {parts}, axis={axis})[{index}]',
    pytorch: 'torch.chunk({0}, {parts}, dim={axis})[{index}]',
    jax: 'jnp.split({0}, {parts}, axis={axis})[{index}]',
    keras: 'ops.split({0}, {parts}, axis={axis})[{index}]',
  },
  concat: { numpy: 'np.concatenate([{args}], axis={axis})', pytorch: 'torch.cat([{args}], dim={axis})', jax: 'jnp.concatenate([{args}], axis={axis})', keras: 'ops.concatenate([{args}], axis={axis})' },
  transpose: { numpy: 'np.transpose({0}, {perm})', pytorch: 'torch.permute({0}, {perm})', jax: 'jnp.transpose({0}, {perm})', keras: 'ops.transpose({0}, {perm})' },
  matmul: same('{m}.matmul({0}, {1})'),
  one_hot: { numpy: '_one_hot({0}, {depth})', pytorch: '_one_hot({0}, {depth})', jax: 'jax.nn.one_hot({0}, {depth})', keras: 'ops.one_hot({0}, {depth})' },

  ctc: same('_ctc({0}, {1})'),
  ctc_grad: same('_ctc_grad({0}, {1})'),
};

/** The spelling of `op` for `target`. */
export function spellingOf(op: OpName, target: Target): { prec: Prec; template: string } {
  const s = SPELLINGS[op];
  const template = 'all' in s ? s.all : s[target];
  return { prec: s.prec ?? 'atom', template };
}
