// The shapes a definition's tensor parameters take. Annotations such as `y_pred: [..., C]` give
// them; for printing and checking, `...` becomes one batch dimension `N` and an unannotated
// parameter is `[N, D]`. When real tensors are bound, their shapes are checked against the
// annotations (rank, fixed sizes, a symbol meaning the same size everywhere).

import type { Definition, Param, TypeAnnotation } from '../../grammar/ast.js';
import { LosscError } from '../errors.js';
import { showShape, type DType, type Dim, type Shape } from '../ir/shape.js';

export interface TensorType {
  shape: Shape;
  dtype: DType;
}

export function paramDtype(t?: TypeAnnotation): DType {
  return t?.dtype === 'int' ? 'int32' : t?.dtype === 'bool' ? 'bool' : 'float32';
}

/** Shapes for printing and checking a definition when no tensors are given. */
export function displaySignature(def: Definition): Record<string, TensorType> {
  const out: Record<string, TensorType> = {};
  for (const p of def.params) {
    const dims = p.type?.shape;
    const shape: Dim[] = dims
      ? dims.map((d) => (d.kind === 'ellipsis' ? 'N' : d.kind === 'fixed' ? d.size : d.name))
      : ['N', 'D'];
    out[p.name] = { shape, dtype: paramDtype(p.type) };
  }
  return out;
}

/** Check real shapes against a definition's annotations; returns the bound signature. */
export function bindSignature(
  def: Definition,
  actual: Record<string, { shape: readonly number[] }>,
): Record<string, TensorType> {
  const out: Record<string, TensorType> = {};
  const symbols = new Map<string, { size: number; param: string }>();
  let ellipsis: { dims: number[]; param: string } | undefined;
  for (const p of def.params) {
    const got = actual[p.name];
    if (!got) throw new LosscError('arity', `\`${def.name}\` needs a tensor for \`${p.name}\``);
    const shape = [...got.shape];
    const dims = p.type?.shape;
    if (dims) {
      const e = dims.findIndex((d) => d.kind === 'ellipsis');
      const fixedCount = dims.length - (e >= 0 ? 1 : 0);
      const rankOk = e >= 0 ? shape.length >= fixedCount : shape.length === dims.length;
      if (!rankOk) throw mismatch(def, p, shape, `rank ${shape.length} where ${e >= 0 ? `at least ${fixedCount}` : dims.length} is expected`);
      const lead = e >= 0 ? shape.length - fixedCount : 0;
      const matched: Array<[(typeof dims)[number], number]> = [];
      let k = 0;
      for (const d of dims) {
        if (d.kind === 'ellipsis') {
          const block = shape.slice(k, k + lead);
          if (ellipsis && showShape(ellipsis.dims) !== showShape(block)) {
            throw mismatch(def, p, shape, `its leading dimensions ${showShape(block)} differ from ${showShape(ellipsis.dims)} of \`${ellipsis.param}\``);
          }
          ellipsis ??= { dims: block, param: p.name };
          k += lead;
        } else {
          matched.push([d, shape[k]!]);
          k++;
        }
      }
      for (const [d, size] of matched) {
        if (d.kind === 'fixed' && d.size !== size) throw mismatch(def, p, shape, `a dimension of size ${size} where ${d.size} is expected`);
        if (d.kind === 'symbol') {
          const seen = symbols.get(d.name);
          if (seen && seen.size !== size) {
            throw mismatch(def, p, shape, `${d.name} = ${size} here but ${seen.size} in \`${seen.param}\``);
          }
          if (!seen) symbols.set(d.name, { size, param: p.name });
        }
      }
    }
    out[p.name] = { shape, dtype: paramDtype(p.type) };
  }
  return out;
}

function mismatch(def: Definition, p: Param, shape: number[], why: string): LosscError {
  const want = p.type?.shape
    ?.map((d) => (d.kind === 'ellipsis' ? '...' : d.kind === 'fixed' ? String(d.size) : d.name))
    .join(', ');
  return new LosscError('shape', `\`${def.name}\`: \`${p.name}\` has shape ${showShape(shape)}, expected [${want}]: ${why}`);
}
