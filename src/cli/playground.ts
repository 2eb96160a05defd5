// `lossc playground`: serve the playground page (a static folder built by `npm run site`) on
// 127.0.0.1. The page runs lossc itself; this server only hands out files.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LosscError } from '../errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
};

/** The repository (or package) folder this module lives in. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !existsSync(join(dir, 'package.json')); i++) dir = dirname(dir);
  return dir;
}

/** The built site: DIR if given, else site/dist, built now when it is missing and the build script is there. */
export async function siteFolder(dir?: string): Promise<string> {
  if (dir) {
    if (!existsSync(join(dir, 'index.html'))) throw new LosscError('usage', `\`${dir}\` has no index.html (build the page with npm run site)`);
    return resolve(dir);
  }
  const root = packageRoot();
  const out = join(root, 'site', 'dist');
  if (existsSync(join(out, 'index.html'))) return out;
  const script = join(root, 'scripts', 'site.mjs');
  if (!existsSync(script)) throw new LosscError('usage', 'the playground page is not built; run `npm run site` in a clone of lossc');
  const { buildSite } = (await import(pathToFileURL(script).href)) as { buildSite: (out: string) => Promise<string> };
  return buildSite(out);
}

/** Serve `folder` on 127.0.0.1:port (0: any free port). Resolves once listening. */
export function serveStatic(folder: string, port: number): Promise<{ server: Server; url: string }> {
  const base = resolve(folder);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    if ((file !== base && !file.startsWith(base + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  return new Promise((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(new LosscError('usage', e.code === 'EADDRINUSE' ? `port ${port} is in use (choose another with --port)` : `cannot serve: ${e.message}`)),
    );
    server.listen(port, '127.0.0.1', () => {
      const addr = server.address();
      const p = typeof addr === 'object' && addr ? addr.port : port;
      ok({ server, url: `http://127.0.0.1:${p}/` });
    });
  });
}
