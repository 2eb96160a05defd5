// Run by test/heap-bounded.test.ts in its own `node --expose-gc` process: the fuzzer's worker loop
// as `npm run fuzz` runs it (dist/fuzz/seeds.js, built by `npm ci`'s prepare), over garbled
// programs, printing as JSON the IR nodes the (weak) intern table holds after a gc() when
// programs `from + warm` and `from + count - 1` start. The loop must not keep what finished
// programs made. (A bundle of the TypeScript sources did not show the leak this guards against;
// the built modules did.)

import * as tf from '@tensorflow/tfjs';
import { runSeeds } from '../../dist/fuzz/seeds.js';
import { Node } from '../../dist/src/ir/node.js';

const gc = globalThis.gc;
if (!gc) throw new Error('run with node --expose-gc');

const [from, warm, count] = process.argv.slice(2, 5).map(Number);
await tf.setBackend('cpu');
tf.env().set('PROD', true);
const interned = {};
await runSeeds({ kind: 'garbled', from, to: from + count, minimize: false, seen: [] }, (m) => {
  if (m.type !== 'start' || (m.seed !== from + warm && m.seed !== from + count - 1)) return;
  gc();
  interned[m.seed === from + warm ? 'warm' : 'last'] = Node.internedCount();
});
console.log(JSON.stringify(interned));
