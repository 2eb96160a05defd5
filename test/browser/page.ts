// The browser test page (bundled by test/browser.test.ts with esbuild for platform browser, no
// shims): lossc's browser entry with tfjs and its wasm backend. `window.losscTest(request)`
// runs every case (test/browser/work.ts) on each backend asked for, and answers numbers for the
// test to compare with what Node computes with the same code.

import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { compile, Library, LosscError } from '../../src/index.js';
import type { Answer, BackendAnswer, Request } from './protocol.js';
import { webglFused } from './webgl-fused.js';
import { work } from './work.js';

setWasmPaths('/wasm/');

async function onBackend(name: string, req: Request): Promise<BackendAnswer> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} did not start`);
  await tf.ready();
  const answer = await work(req);
  // The WebGL target's own checks, once (generated GLSL is not JavaScript: a CSP changes nothing).
  if (name === 'webgl' && !location.pathname.startsWith('/csp/')) answer.webglFused = await webglFused();
  return answer;
}

function errorOf(f: () => unknown): { kind: string; line: number | null; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof LosscError) return { kind: e.kind, line: e.span?.line ?? null, message: e.message };
    return { kind: `not a LosscError: ${String(e)}`, line: null, message: String(e) };
  }
  return { kind: 'nothing thrown', line: null, message: '' };
}

function imports(): Answer['imports'] {
  const files = { 'lib/a.loss': 'import "../b.loss"\ndef twice(x) = 2 * b(x)\n', 'b.loss': 'def b(x) = x + 1\n' };
  const m = compile('import "lib/a.loss"\nloss t(y_true, y_pred) = sum(twice(y_pred), axis = -1)', { resolve: files });
  const resolved = tf.tidy(() => m.losses.t!({ reduction: 'none' })(tf.zeros([1, 2]), tf.tensor2d([[1, 2]])).dataSync()[0]!);
  return {
    resolved,
    unresolved: errorOf(() => compile('import "lib/a.loss"\nloss t(y_true, y_pred) = y_pred')),
    files: errorOf(() => Library.fromFile('x.loss')),
    root: errorOf(() => compile('import "a.loss"\nloss t(y_true, y_pred) = y_pred', { root: '/' })),
  };
}

async function losscTest(req: Request): Promise<Answer> {
  const backends: BackendAnswer[] = [];
  for (const b of req.backends) backends.push(await onBackend(b, req));
  return { backends, imports: imports() };
}

// The run starts from the page itself, not from the test driver: code a driver evaluates is not
// held to the page's content-security policy, and the strict-CSP run must be.
const win = window as unknown as { losscAnswer?: Answer | { error: string } };
fetch('request.json')
  .then((r) => r.json() as Promise<Request>)
  .then(losscTest)
  .then(
    (a) => (win.losscAnswer = a),
    (e: unknown) => (win.losscAnswer = { error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) }),
  );
