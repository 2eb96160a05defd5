// Running the WebGL target: when it applies (the webgl backend, WebGL 2, compileAndRun), and one
// program as a registered tfjs kernel, so that tfjs's engine tracks its tensor and tf.profile
// counts it like any other kernel.

import * as tf from '@tensorflow/tfjs';
import type { Node } from '../../ir/node.js';
import { KERNELS } from '../kernels.js';
import type { Group, WebglProgram } from './fuse.js';

/** The parts of tfjs's MathBackendWebGL used here. */
interface WebglBackend {
  compileAndRun(program: WebglProgram, inputs: tf.TensorInfo[], outputDtype?: tf.DataType): tf.TensorInfo;
  shouldExecuteOnCPU(inputs: tf.TensorInfo[]): boolean;
}

/** The kernel's name, as tf.profile lists it. */
export const FUSED_KERNEL = 'LosscFusedWebgl';

let enabled = true;

/** Turn the WebGL target off (every op a tfjs kernel) or back on; for tests and benchmarks. */
export function setWebglFusion(on: boolean): void {
  enabled = on;
}

/** The webgl backend when the WebGL target applies now, else undefined. */
export function webglTarget(): WebglBackend | undefined {
  if (!enabled || tf.getBackend() !== 'webgl') return undefined;
  const backend = tf.backend() as unknown as Partial<WebglBackend>;
  if (typeof backend.compileAndRun !== 'function' || typeof backend.shouldExecuteOnCPU !== 'function') return undefined;
  // The generated GLSL is ES 3.00 (uintBitsToFloat for infinity).
  if (tf.env().getNumber('WEBGL_VERSION') !== 2) return undefined;
  if (!tf.getKernel(FUSED_KERNEL, 'webgl')) {
    tf.registerKernel({
      kernelName: FUSED_KERNEL,
      backendName: 'webgl',
      kernelFunc: ({ inputs, backend: b, attrs }) => {
        const { program, dtype } = attrs as unknown as { program: WebglProgram; dtype: tf.DataType };
        return (b as unknown as WebglBackend).compileAndRun(program, Object.values(inputs) as tf.TensorInfo[], dtype);
      },
    });
  }
  return backend as WebglBackend;
}

/** Groups whose program the GPU's driver refused to compile. */
const refused = new WeakSet<Group>();

/**
 * Run a group on its inputs' tensors: its program, or, when every input is small and on the CPU
 * (where tfjs's own webgl kernels run on the CPU too), its nodes op by op.
 */
export function runGroup(group: Group, args: tf.Tensor[], backend: WebglBackend): tf.Tensor {
  if (!refused.has(group) && !backend.shouldExecuteOnCPU(args)) {
    const inputs: tf.NamedTensorMap = {};
    args.forEach((t, i) => (inputs[`x${i}`] = t));
    const attrs = { program: group.program, dtype: group.root.dtype };
    try {
      return tf.engine().runKernel(FUSED_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    } catch (e) {
      // A driver that will not compile the program: this group runs op by op from now on.
      if (!(e instanceof Error && /compile|link/i.test(e.message))) throw e;
      refused.add(group);
    }
  }
  const values = new Map<Node, tf.Tensor>(group.inputs.map((x, i) => [x, args[i]!]));
  for (const n of group.nodes) values.set(n, KERNELS[n.op](n.args.map((a) => values.get(a)!), n));
  return values.get(group.root)!;
}

