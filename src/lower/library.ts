// A library is the set of definitions a program can see: the stdlib (always), the files it
// imports (transitively), and its own. Later definitions shadow earlier ones of the same name,
// so a user's own `relu` wins over the prelude's.

import type { Definition, Program, Span } from '../../grammar/ast.js';
import { parseProgram } from '../../grammar/load.js';
import { unpacker } from '../../grammar/packed.js';
import { LosscError, LosscErrors, didYouMean, registerSource } from '../errors.js';
import { folderOf, needFileSystem, resolveImport, resolverHost, stdlibImport, type ImportHost, type ImportResolver } from './loader.js';
import { STDLIB_SOURCES } from './stdlib-sources.js';
import { STDLIB_PARSED } from './stdlib-parsed.generated.js';

export interface LibraryEntry {
  /** The definition (a stdlib one is restored from its packed tree when first read). */
  readonly def: Definition;
  /** Its kind: `def.kind`, readable without restoring the definition. */
  kind: Definition['kind'];
  /** Which file it came from; 'stdlib' files are marked by `fromStdlib`. */
  file: string;
  fromStdlib: boolean;
}

/** Where a program's imports come from (none of these: it may import only the stdlib). */
export interface ImportOptions {
  /** A folder on disk that imports resolve in (lossc's Node entry only). */
  root?: string;
  /** A resolver for imports: a function (path, from) => text, or a { path: text } record. */
  resolve?: ImportResolver | Readonly<Record<string, string>>;
  /** An import host (what `root` and `resolve` become). */
  host?: ImportHost;
  /** The folder of the given text under the root (`''`: the root itself). */
  dir?: string;
}

const MAX_IMPORT_DEPTH = 32;

/** The stdlib files, prelude first, in a fixed order (each must be in stdlib/ and embedded). */
export const STDLIB_FILES = ['prelude.loss', 'regression.loss', 'probabilistic.loss', 'hinge.loss', 'segmentation.loss', 'similarity.loss', 'sequence.loss', 'custom.loss', 'regularizers.loss'];

export function hostOf(opts: ImportOptions): ImportHost | undefined {
  if (opts.host) return opts.host;
  if (opts.resolve) return resolverHost(opts.resolve);
  if (opts.root !== undefined) return needFileSystem('an import `root`').folder(opts.root);
  return undefined;
}

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
    if (!e || (kinds && !kinds.includes(e.kind))) {
      const pool = [...this.entries].filter(([, x]) => !kinds || kinds.includes(x.kind)).map(([n]) => n);
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
      this.entries.set(def.name, { def, kind: def.kind, file: program.file, fromStdlib });
      if (own) this.own.push(def);
    }
    if (errors.length) throw errors.length === 1 ? errors[0]! : new LosscErrors(errors);
  }

  /**
   * The stdlib alone, once per process: its syntax trees were made at build time
   * (stdlib-parsed.generated.ts), so no parser loads, and each definition's spans are restored
   * when it is first read (most programs read a few); its text is kept for error messages.
   */
  static stdlib(): Library {
    if (!stdlibCache) {
      const lib = new Library();
      for (const f of STDLIB_FILES) {
        const text = STDLIB_SOURCES[f]!;
        registerSource(`stdlib/${f}`, text);
        const packed = JSON.parse(STDLIB_PARSED[f]!) as Program; // its spans still packed
        const restore = unpacker(packed.file, text);
        for (const d of packed.definitions) {
          let def: Definition | undefined;
          lib.entries.set(d.name, { get def() { return (def ??= restore(d)); }, kind: d.kind, file: packed.file, fromStdlib: true });
        }
      }
      stdlibCache = lib;
    }
    return stdlibCache;
  }

  /**
   * The stdlib plus a program given as text. Its imports resolve through `opts` (a root folder,
   * a resolver or a host); with none of them it may import only the stdlib.
   */
  static fromSource(text: string, file = '<input>', opts: ImportOptions = {}): Library {
    const lib = new Library();
    for (const [k, v] of Library.stdlib().entries) lib.entries.set(k, v);
    const program = parseProgram(text, file);
    const dir = opts.dir ?? '';
    // A named file can be imported back (a cycle); text without a file name cannot.
    const self = file.startsWith('<') ? [] : [(dir ? `${dir}/` : '') + (file.split('/').pop() ?? file)];
    lib.loadImports(program, hostOf(opts), dir, self, 0);
    lib.add(program, false, true);
    return lib;
  }

  /** A file the caller names (lossc's Node entry only); its imports resolve in its folder, or in `root`. */
  static fromFile(path: string, opts: { root?: string } = {}): Library {
    const top = needFileSystem('Library.fromFile').top(path, opts.root);
    return Library.fromSource(top.text, path, { host: top.host, dir: folderOf(top.path) });
  }

  private loadImports(program: Program, host: ImportHost | undefined, dir: string, chain: string[], depth: number): void {
    for (const imp of program.imports) {
      if (depth >= MAX_IMPORT_DEPTH) throw new LosscError('import', `imports nest more than ${MAX_IMPORT_DEPTH} deep`, imp.span);
      if (stdlibImport(imp.path, STDLIB_FILES)) continue; // always in scope
      if (!host) {
        throw new LosscError(
          'import',
          `cannot import \`${imp.path}\`: source given as text may import only the stdlib (\`stdlib/NAME.loss\`) unless an import root or resolver is given`,
          imp.span,
        );
      }
      const path = resolveImport(imp.path, dir, imp.span);
      if (chain.includes(path)) {
        throw new LosscError('import', `import cycle: ${[...chain, path].map((p) => p.split('/').pop()).join(' → ')}`, imp.span);
      }
      const from = chain[chain.length - 1] ?? '';
      const text = readImport(host, path, from, imp.span);
      if (text === undefined) throw new LosscError('import', `cannot find \`${imp.path}\` (looked for ${host.display(path)})`, imp.span);
      const sub = parseProgram(text, host.display(path));
      this.loadImports(sub, host, folderOf(path), [...chain, path], depth + 1);
      this.add(sub, false, false);
    }
  }
}

/** The host's text for `path`; its errors are placed at the import. */
function readImport(host: ImportHost, path: string, from: string, span: Span): string | undefined {
  try {
    return host.read(path, from);
  } catch (e) {
    if (e instanceof LosscError && !e.span) throw new LosscError(e.kind, e.detail, span);
    throw e;
  }
}

let stdlibCache: Library | undefined;
