// A tfjs IOHandler that saves a model to a folder and loads it back, in the layout
// tf.io's own file handler (tfjs-node) writes: model.json (topology, metadata, the weights
// manifest) and weights.bin. Node only; @tensorflow/tfjs alone has no file handler.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

const MODEL = 'model.json';
const WEIGHTS = 'weights.bin';

export function fileHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      mkdirSync(dir, { recursive: true });
      const { weightData, weightSpecs, ...rest } = artifacts;
      const bytes = new Uint8Array(tf.io.concatenateArrayBuffers([weightData ?? new ArrayBuffer(0)].flat()));
      const json: tf.io.ModelJSON = {
        ...(rest as Omit<tf.io.ModelJSON, 'weightsManifest'>),
        modelTopology: rest.modelTopology as tf.io.ModelJSON['modelTopology'],
        weightsManifest: [{ paths: [WEIGHTS], weights: weightSpecs ?? [] }],
      };
      writeFileSync(join(dir, MODEL), JSON.stringify(json));
      writeFileSync(join(dir, WEIGHTS), bytes);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = JSON.parse(readFileSync(join(dir, MODEL), 'utf8')) as tf.io.ModelJSON;
      const { weightsManifest, ...rest } = json;
      const bin = readFileSync(join(dir, WEIGHTS));
      const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
      return { ...(rest as tf.io.ModelArtifacts), weightSpecs: weightsManifest.flatMap((g) => g.weights), weightData };
    },
  };
}
