// Run by test/heap-bounded.test.ts in its own `node --expose-gc` process: compiles many distinct
// programs through the public API (library, derivative, a call under tf.grad), collects garbage
// and prints, as JSON, how many IR nodes the intern table and how many sources the saved-model
// registry hold after each round. Nothing of a finished program is kept, so both stay bounded.

import * as tf from '@tensorflow/tfjs';
import { compile } from '../../src/index.js';
import { Node } from '../../src/ir/node.js';
import { rememberedSourceCount } from '../../src/api/serial.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

/** Program i: its own constants, so no two programs share their nodes. */
function program(i: number): string {
  return `loss f(y_true, y_pred; k = ${i + 0.5}) =
  mean((y_pred - y_true * ${i + 0.25})^2 + log(1 + exp(k * y_pred)) + max(y_pred * ${i + 2}, axis = -1, keepdims = true), axis = -1)`;
}

function runOne(i: number): void {
  const m = compile(program(i));
  m.derivative('f', 'y_pred').toString();
  const loss = m.losses.f!();
  const yt = tf.tensor([[0, 1, 0], [1, 0, 0]]);
  const yp = tf.tensor([[0.2, 0.7, 0.1], [0.5, 0.3, 0.2]]);
  tf.tidy(() => tf.grad((p: tf.Tensor) => loss(yt, p))(yp));
  tf.dispose([yt, yp]);
}

/** Collect, let the finalization callbacks run, collect again. */
async function settle(): Promise<void> {
  for (let k = 0; k < 3; k++) {
    gc!();
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const rounds = Number(process.argv[2] ?? 4);
  const perRound = Number(process.argv[3] ?? 150);
  const out: Array<{ programs: number; interned: number; sources: number; heapUsed: number }> = [];
  let i = 0;
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < perRound; j++) runOne(i++);
    await settle();
    out.push({ programs: i, interned: Node.internedCount(), sources: rememberedSourceCount(), heapUsed: process.memoryUsage().heapUsed });
  }
  console.log(JSON.stringify(out));
}

await main();
