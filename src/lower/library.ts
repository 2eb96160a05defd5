// A library is the set of definitions a program can see: the stdlib (always), the files it
// imports (transitively), and its own. Later definitions shadow earlier ones of the same name,
// so a user's own `relu` wins over the prelude's.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Definition, Program } from '../../grammar/ast.js';
import { parseProgram } from '../../grammar/index.js';
import { LosscError, LosscErrors, didYouMean } from '../errors.js';

export interface LibraryEntry {
  def: Definition;
  /** Which file it came from; 'stdlib' files are marked by `fromStdlib`. */
  file: string;
  fromStdlib: boolean;
}

/** Files larger than this are refused before parsing (the parser also enforces it). */
const MAX_IMPORT_DEPTH = 32;

let stdlibDirCache: string | undefined;

/** The stdlib folder, found from this module's location (works from src/ and from dist/src/). */
export function stdlibDir(): string {
  if (stdlibDirCache) return stdlibDirCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const cand = join(dir, 'stdlib');
    if (existsSync(join(cand, 'prelude.loss'))) return (stdlibDirCache = cand);
    dir = dirname(dir);
  }
  throw new Error('lossc: cannot find the stdlib folder (stdlib/prelude.loss)');
}

/** The stdlib files, prelude first, in a fixed order. */
export const STDLIB_FILES = ['prelude.loss', 'regression.loss', 'probabilistic.loss', 'hinge.loss', 'segmentation.loss', 'similarity.loss', 'sequence.loss', 'custom.loss', 'regularizers.loss'];

export class Library {
  readonly entries = new Map<string, LibraryEntry>();
  /** Definitions of the program this library was built for (not the stdlib or imports). */
  readonly own: Definition[] = [];

  get(name: string): LibraryEntry | undefined {
    return this.entries.get(name);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  require(name: string, kinds?: Array<Definition['kind']>): LibraryEntry {
    const e = this.entries.get(name);
    if (!e || (kinds && !kinds.includes(e.def.kind))) {
      const pool = [...this.entries.values()].filter((x) => !kinds || kinds.includes(x.def.kind)).map((x) => x.def.name);
      const what = kinds ? kinds.join(' or ') : 'definition';
      throw new LosscError('name', `unknown ${what} \`${name}\`${didYouMean(name, pool)}`);
    }
    return e;
  }

  private add(program: Program, fromStdlib: boolean, own: boolean): void {
    const seen = new Map<string, Definition>();
    const errors: LosscError[] = [];
    for (const def of program.definitions) {
      const prev = seen.get(def.name);
      if (prev) {
        errors.push(
          new LosscError('name', `\`${def.name}\` is defined twice in this file (first at line ${prev.span.line})`, def.nameSpan),
        );
        continue;
      }
      seen.set(def.name, def);
      this.entries.set(def.name, { def, file: program.file, fromStdlib });
      if (own) this.own.push(def);
    }
    if (errors.length) throw errors.length === 1 ? errors[0]! : new LosscErrors(errors);
  }

  /** The stdlib alone (parsed once per process). */
  static stdlib(): Library {
    if (!stdlibCache) {
      const lib = new Library();
      const dir = stdlibDir();
      for (const f of STDLIB_FILES) {
        const path = join(dir, f);
        if (!existsSync(path)) continue;
        lib.add(parseProgram(readFileSync(path, 'utf8'), `stdlib/${f}`), true, false);
      }
      stdlibCache = lib;
    }
    return stdlibCache;
  }

  /** The stdlib plus a program given as text (its imports are read relative to `file`). */
  static fromSource(text: string, file = '<input>'): Library {
    const lib = new Library();
    for (const [k, v] of Library.stdlib().entries) lib.entries.set(k, v);
    const program = parseProgram(text, file);
    const base = file.startsWith('<') ? process.cwd() : dirname(resolve(file));
    lib.loadImports(program, base, [resolve(base, file)], 0);
    lib.add(program, false, true);
    return lib;
  }

  static fromFile(path: string): Library {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new LosscError('import', `cannot read file \`${path}\``);
    }
    return Library.fromSource(text, path);
  }

  private loadImports(program: Program, base: string, chain: string[], depth: number): void {
    for (const imp of program.imports) {
      if (depth >= MAX_IMPORT_DEPTH) throw new LosscError('import', `imports nest more than ${MAX_IMPORT_DEPTH} deep`, imp.span);
      const path = resolve(base, imp.path);
      if (chain.includes(path)) {
        throw new LosscError('import', `import cycle: ${[...chain, path].map((p) => p.split('/').pop()).join(' → ')}`, imp.span);
      }
      if (!existsSync(path) || !statSync(path).isFile()) {
        throw new LosscError('import', `cannot find \`${imp.path}\` (looked for ${path})`, imp.span);
      }
      const sub = parseProgram(readFileSync(path, 'utf8'), path);
      this.loadImports(sub, dirname(path), [...chain, path], depth + 1);
      this.add(sub, false, false);
    }
  }
}

let stdlibCache: Library | undefined;
