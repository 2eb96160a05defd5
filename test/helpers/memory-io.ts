// An in-memory tfjs IOHandler that stores what a file would: the JSON of the model (topology,
// metadata, weight specs) as text, and a copy of the weight bytes. Loading parses the text again,
// so anything that does not survive JSON does not survive here either.

import * as tf from '@tensorflow/tfjs';

export interface MemoryStore extends tf.io.IOHandler {
  json?: string;
  weights?: ArrayBuffer;
}

export function memoryStore(): MemoryStore {
  const store: MemoryStore = {
    async save(a: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const { weightData, ...rest } = a;
      store.json = JSON.stringify(rest);
      store.weights = tf.io.concatenateArrayBuffers([weightData ?? new ArrayBuffer(0)].flat()).slice(0);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      if (!store.json) throw new Error('nothing saved');
      return { ...(JSON.parse(store.json) as tf.io.ModelArtifacts), weightData: store.weights!.slice(0) };
    },
  };
  return store;
}
