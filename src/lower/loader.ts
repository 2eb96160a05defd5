// Where `import "x.loss"` finds its text. The library never reads a file by itself: imports go
// through an ImportHost the caller gives (lossc's Node entry makes one for a folder on disk,
// src/node/files.ts; in a browser the user passes a resolver). The rules, the same everywhere:
//   - an import names a `.loss` file by a relative path with `/` separators, resolved against
//     the importing file's folder; it may not climb above the root (the host's top folder);
//   - `import "stdlib/NAME.loss"` names a stdlib file (always in scope, so it adds nothing);
//   - text with no host may import only the stdlib.
// Pure string work, no Node: this module runs in a browser.

import type { Span } from '../../grammar/ast.js';
import { LosscError } from '../errors.js';

/** The files an import can reach: paths are normalised and relative to the host's root. */
export interface ImportHost {
  /** The text of the file at `path` (e.g. `lib/base.loss`, imported from `from`), or undefined when there is none. */
  read(path: string, from: string): string | undefined;
  /** How `path` is named in spans and error messages (an absolute path, a URL, ...). */
  display(path: string): string;
}

/**
 * A user's resolver for a browser (or any place without files): given the import's path,
 * normalised and relative to the root (`lib/base.loss`), and the importing file's path (`''` for
 * the text given), it returns the file's text, or undefined/null when there is no such file.
 */
export type ImportResolver = (path: string, from: string) => string | undefined | null;

/** An ImportHost over a resolver function or a `{ path: text }` record. */
export function resolverHost(resolver: ImportResolver | Readonly<Record<string, string>>): ImportHost {
  const read: ImportResolver =
    typeof resolver === 'function' ? resolver : (path) => (Object.prototype.hasOwnProperty.call(resolver, path) ? resolver[path] : undefined);
  return {
    read(path, from) {
      const text = read(path, from);
      if (text === undefined || text === null) return undefined;
      if (typeof text !== 'string') throw new LosscError('usage', `the import resolver gave a ${typeof text} for \`${path}\`, not a string of lossc text`);
      return text;
    },
    display: (path) => path,
  };
}

/** `stdlib/NAME.loss` → `NAME.loss` when that is a stdlib file. */
export function stdlibImport(spec: string, stdlibFiles: readonly string[]): string | undefined {
  const m = /^stdlib\/([A-Za-z0-9_-]+\.loss)$/.exec(spec);
  return m && stdlibFiles.includes(m[1]!) ? m[1] : undefined;
}

/**
 * The import `spec` written in the file at folder `dir` (both relative to the root), as a
 * normalised root-relative path; a LosscError at `span` when it is not a path lossc may follow.
 */
export function resolveImport(spec: string, dir: string, span: Span): string {
  const refuse = (why: string) => new LosscError('import', `cannot import \`${spec}\`: ${why}`, span);
  if (!spec.endsWith('.loss')) throw refuse('imports name `.loss` files only');
  // Control characters and backslashes have no place in a portable path.
  if (/[\u0000-\u001f\u007f\\]/.test(spec)) throw refuse('an import path uses `/` and printable characters only');
  if (spec.startsWith('/') || /^[A-Za-z]:/.test(spec) || /^[a-z][a-z0-9+.-]*:/i.test(spec)) {
    throw refuse('an import path is relative to the importing file, not absolute');
  }
  const parts = dir ? dir.split('/') : [];
  for (const part of spec.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw refuse('it is outside the import root');
      parts.pop();
    } else parts.push(part);
  }
  return parts.join('/');
}

/** The folder part of a root-relative path (`a/b.loss` → `a`, `b.loss` → ``). */
export function folderOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** Node's file system hook, set by lossc's Node entry (src/node/files.ts); absent in a browser. */
export interface FileSystemHooks {
  /** A host for the folder `root` on disk. */
  folder(root: string): ImportHost & { root: string };
  /** Read a file the caller named (Library.fromFile): its text, folder and name relative to `root`. */
  top(path: string, root?: string): { text: string; host: ImportHost; path: string };
}

let fileSystem: FileSystemHooks | undefined;

export function setFileSystem(hooks: FileSystemHooks): void {
  fileSystem = hooks;
}

/** The file system hooks, or a usage error saying they exist only in lossc's Node entry. */
export function needFileSystem(what: string): FileSystemHooks {
  if (!fileSystem) {
    throw new LosscError(
      'usage',
      `${what} needs files, which only lossc's Node entry reads; in a browser, pass \`resolve\` (a function or a { path: text } record) for imports`,
    );
  }
  return fileSystem;
}
