// A lossc `regularizer` as a tfjs-layers regularizer, usable as kernelRegularizer or
// biasRegularizer (and in layers.activityRegularization). Its penalty and gradient are lossc's.
// Its class is registered with tfjs's serialization when lossc is imported, so a saved model
// that uses one loads (for a user's own definition, from the source saved in its config).

import * as tf from '@tensorflow/tfjs';
import type { Definition } from '../../grammar/ast.js';
import { CompiledDefinition } from '../compile/compiled.js';
import { LosscError } from '../errors.js';
import type { Static } from '../lower/builtins.js';
import { Library } from '../lower/library.js';
import { snake } from './losses.js';
import { addNamed, namedRegistry } from './registry.js';
import type { StdlibRegularizers } from './typed.js';
import { decodeOptions, definitionFor, encodeOptions, fromHex, importsOf, libraryFor, sourceOf, toHex } from './serial.js';

// tfjs-layers accepts only instances of its own (unexported) Regularizer class; reach it
// through one of its built-in regularizers.
const RegularizerBase = Object.getPrototypeOf(tf.regularizers.l1().constructor) as new () => tf.serialization.Serializable;

export interface LosscRegularizer extends tf.serialization.Serializable {
  apply(x: tf.Tensor): tf.Scalar;
}

export type RegularizerFactory = (opts?: Record<string, unknown>) => LosscRegularizer;

class CompiledRegularizer extends RegularizerBase {
  static className = 'LosscRegularizer';
  constructor(
    private readonly compiled: CompiledDefinition,
    private readonly config: Record<string, Static>,
  ) {
    super();
  }

  apply(x: tf.Tensor): tf.Scalar {
    if (x.dtype !== 'float32') {
      throw new LosscError('type', `regularizer \`${this.compiled.name}\` needs a float weight, got a ${x.dtype} tensor of shape [${x.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const v = this.compiled.apply([x]).value;
      if (v.rank !== 0) throw new LosscError('shape', `regularizer \`${this.compiled.name}\` must give a scalar, gave shape [${v.shape.join(', ')}]`);
      return v as tf.Scalar;
    });
  }

  override getClassName(): string {
    return CompiledRegularizer.className;
  }

  /** `{ name, options, source?, imports? }`: a user's source (and the files it imports, as JSON) in hex, see serial.ts. */
  override getConfig(): tf.serialization.ConfigDict {
    const source = sourceOf(this.compiled.lib);
    const out: tf.serialization.ConfigDict = { name: this.compiled.name, options: encodeOptions(this.config) as tf.serialization.ConfigDict };
    if (source !== undefined) out.source = toHex(source.text);
    if (source && Object.keys(source.imports).length) out.imports = toHex(JSON.stringify(source.imports));
    return out;
  }

  /** Rebuilds the regularizer from its config alone (the `customObjects` tfjs adds are not needed). */
  static fromConfig<T extends tf.serialization.Serializable>(_cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const name = config.name;
    if (typeof name !== 'string') throw new LosscError('value', 'a saved lossc regularizer has no definition name');
    const what = `regularizer \`${name}\``;
    const text = config.source === undefined || config.source === null ? undefined : fromHex(config.source, what);
    const imports = config.imports === undefined || config.imports === null ? {} : importsOf(parseJson(fromHex(config.imports, what), what), what);
    const lib = libraryFor(text === undefined ? undefined : { text, imports }, what);
    const def = definitionFor(lib, name, 'regularizer', what);
    return makeRegularizer(lib, def, decodeOptions(config.options, def, what)) as unknown as T;
  }
}

tf.serialization.registerClass(CompiledRegularizer as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new LosscError('value', `${what}: the saved imports are not JSON`);
  }
}

export function makeRegularizer(lib: Library, def: Definition, opts: Record<string, unknown> = {}): LosscRegularizer {
  if (def.params.length !== 1) {
    throw new LosscError('arity', `regularizer \`${def.name}\` must take exactly one tensor (the weight), it takes ${def.params.length}`, def.nameSpan);
  }
  const options: Record<string, Static> = {};
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) options[snake(k)] = v as Static;
  return new CompiledRegularizer(new CompiledDefinition(lib, def, options), options) as unknown as LosscRegularizer;
}

/** Every stdlib regularizer: `regularizers.l2({ l2: 0.001 })` (parsed on first use). */
export const regularizers: StdlibRegularizers = namedRegistry<RegularizerFactory>('regularizer', () => {
  const lib = Library.stdlib();
  const out: Record<string, RegularizerFactory> = {};
  for (const name of lib.names()) {
    const entry = lib.get(name)!;
    if (entry.kind === 'regularizer') addNamed(out, name, (opts?: Record<string, unknown>) => makeRegularizer(lib, entry.def, opts));
  }
  return out;
}) as unknown as StdlibRegularizers;
