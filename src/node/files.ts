// Files on disk for lossc's Node entry: an ImportHost for a root folder, and reading the file a
// caller names (Library.fromFile). Importing this module installs these hooks (src/lower/loader.ts);
// the browser entry never imports it, so a bundle for the web has no `node:fs`.
//
// What an import may read: a regular `.loss` file whose real path (symbolic links followed) is
// inside the root's real path, at most the parser's size limit, and text (no NUL bytes). Anything
// else is "not found" or an import error that names the path but never quotes the file.

import { closeSync, fstatSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { MAX_SOURCE_BYTES } from '../../grammar/limits.js';
import { LosscError } from '../errors.js';
import { setFileSystem, type FileSystemHooks, type ImportHost } from '../lower/loader.js';

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The text of a `.loss` file, at most MAX_SOURCE_BYTES, refused (unquoted) when it is not text. */
function readSource(real: string, shown: string): string {
  const fd = openSync(real, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_SOURCE_BYTES) {
      throw new LosscError('limit', `\`${shown}\` is ${(size / (1024 * 1024)).toFixed(1)} MB; lossc reads at most ${MAX_SOURCE_BYTES / (1024 * 1024)} MB`);
    }
    const buf = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, got));
    } catch {
      text = '\u0000';
    }
    if (text.includes('\u0000')) throw new LosscError('import', `\`${shown}\` is not lossc source (it is not UTF-8 text)`);
    return text;
  } finally {
    closeSync(fd);
  }
}

/** Imports resolved in the folder `root` on disk. */
export function folderHost(root: string): ImportHost & { root: string } {
  const top = resolve(root);
  const realTop = realOrUndefined(top) ?? top;
  return {
    root: top,
    display: (path) => join(top, ...path.split('/')),
    read(path) {
      const shown = join(top, ...path.split('/'));
      const real = realOrUndefined(shown);
      if (real === undefined) return undefined;
      if (!inside(realTop, real)) throw new LosscError('import', `cannot import \`${path}\`: it leads outside the import root (${top})`);
      if (!real.endsWith('.loss')) throw new LosscError('import', `cannot import \`${path}\`: it leads to a file that is not a \`.loss\` file`);
      if (!statSync(real).isFile()) return undefined;
      return readSource(real, shown);
    },
  };
}

/** The file a caller names, and the host its imports resolve in (its folder, or `root`). */
function topFile(path: string, root?: string): { text: string; host: ImportHost; path: string } {
  const abs = resolve(path);
  const host = folderHost(root ?? dirname(abs));
  if (!inside(host.root, abs)) throw new LosscError('usage', `\`${path}\` is not inside the import root ${host.root}`);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch {
    throw new LosscError('import', `cannot read file \`${path}\``);
  }
  return { text, host, path: relative(host.root, abs).split(sep).join('/') };
}

export const NODE_FILES: FileSystemHooks = { folder: folderHost, top: topFile };

setFileSystem(NODE_FILES);
