// What lossc writes into a saved model, and reads back: a definition is its name, its options
// and, for a user's own, the lossc source it was compiled from. The source of each library made
// by `compile` is remembered here, so anything compiled from it can be saved.
//
// tfjs-layers rewrites every string inside a layer's config when it saves (camelCase to
// snake_case) and again when it loads (snake_case to camelCase), and camelCases the keys; so
// inside layer configs, source text and string options are written as lowercase hex of their
// UTF-8 bytes (which both rewrites leave alone), and option names are matched back to the
// definition's own.

import type { Definition } from '../../grammar/ast.js';
import { LosscError } from '../errors.js';
import type { Static } from '../lower/builtins.js';
import { Library } from '../lower/library.js';
import { checkDefinitions } from './check.js';
import { camel } from './registry.js';

/** The version of what lossc writes into a model; a reader refuses anything newer. */
export const MODEL_FORMAT = 1;

/** The source of a compiled library: its text and the text of each file it imports (root-relative paths). */
export interface SavedSource {
  text: string;
  imports: Record<string, string>;
}

const sources = new WeakMap<Library, SavedSource>();
/** A library by its source, held weakly: a process that compiles many programs keeps only the live ones. */
const bySource = new Map<string, WeakRef<Library>>();
const reaper = new FinalizationRegistry<{ key: string; ref: WeakRef<Library> }>(({ key, ref }) => {
  if (bySource.get(key) === ref) bySource.delete(key);
});
const keyOf = (s: SavedSource) => JSON.stringify([s.text, Object.entries(s.imports).sort()]);

/** Remember the source a library was compiled from (called by `compile`). */
export function rememberSource(lib: Library, source: SavedSource): void {
  sources.set(lib, source);
  const key = keyOf(source);
  if (bySource.get(key)?.deref()) return;
  const ref = new WeakRef(lib);
  bySource.set(key, ref);
  reaper.register(lib, { key, ref });
}

/** How many sources `libraryFor` can find a library by (live ones, and dead ones not yet reaped). */
export function rememberedSourceCount(): number {
  return bySource.size;
}

/** The source of a library made by `compile`; undefined for the stdlib. */
export function sourceOf(lib: Library): SavedSource | undefined {
  return sources.get(lib);
}

/** The library for a saved definition: the stdlib, or its source compiled again (once per source). */
export function libraryFor(source: SavedSource | undefined, what: string): Library {
  if (source === undefined) return Library.stdlib();
  const hit = bySource.get(keyOf(source))?.deref();
  if (hit) return hit;
  let lib: Library;
  try {
    lib = Library.fromSource(source.text, `<saved ${what}>`, Object.keys(source.imports).length ? { resolve: source.imports } : {});
    checkDefinitions(lib);
  } catch (e) {
    if (e instanceof LosscError) throw new LosscError(e.kind, `${what}: its saved source no longer compiles: ${e.message}`);
    throw e;
  }
  rememberSource(lib, source);
  return lib;
}

/** A saved `{ path: text }` record of imports, checked. */
export function importsOf(v: unknown, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((t) => typeof t !== 'string')) {
    throw new LosscError('value', `${what}: the saved imports are not a { path: text } record`);
  }
  return v as Record<string, string>;
}

/** The saved definition `name` of `kind` in `lib`, or an error naming it. */
export function definitionFor(lib: Library, name: string, kind: Definition['kind'], what: string): Definition {
  try {
    return lib.require(name, [kind]).def;
  } catch (e) {
    if (e instanceof LosscError) throw new LosscError(e.kind, `${what}: ${e.detail}`);
    throw e;
  }
}

export function toHex(text: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(text)) out += byte.toString(16).padStart(2, '0');
  return out;
}

export function fromHex(hex: unknown, what: string): string {
  if (typeof hex !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(hex)) {
    throw new LosscError('value', `${what}: the saved text is not the hex lossc writes`);
  }
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

export type ConfigValue = number | boolean | null | { hex: string } | ConfigValue[];

/** Options as a layer config can carry them (strings as `{ hex }`). */
export function encodeOptions(options: Record<string, Static>): Record<string, ConfigValue> {
  const enc = (v: Static): ConfigValue => (typeof v === 'string' ? { hex: toHex(v) } : Array.isArray(v) ? v.map(enc) : v);
  const out: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(options)) out[k] = enc(v);
  return out;
}

/** Options read back from a layer config, under the definition's own option names. */
export function decodeOptions(raw: unknown, def: Definition, what: string): Record<string, Static> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new LosscError('value', `${what}: saved options are not an object`);
  const dec = (v: unknown): Static => {
    if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
    if (Array.isArray(v)) return v.map(dec) as Static;
    if (typeof v === 'object' && 'hex' in v) return fromHex((v as { hex: unknown }).hex, what);
    throw new LosscError('value', `${what}: a saved option has a value lossc does not write (${JSON.stringify(v)})`);
  };
  const out: Record<string, Static> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const name = def.options.find((o) => o.name === key || camel(o.name) === key)?.name ?? key;
    out[name] = dec(value);
  }
  return out;
}
