// A web page that trains a small model with a lossc loss: `npm run dev`, or `npm run build`.
// Nothing here is configured for lossc: it is an ordinary package import.
import * as tf from '@tensorflow/tfjs';
import { compile, losses } from 'lossc';

const { focal } = compile`
  # Binary focal loss, written as in the paper.
  loss focal(y_true, y_pred; gamma = 2.0) =
    let p = clip(y_pred, epsilon, 1 - epsilon)
    let p_t = y_true * p + (1 - y_true) * (1 - p)
    mean(-(1 - p_t)^gamma * log(p_t), axis = -1)`;

async function main() {
  await tf.ready();
  const x = tf.tensor2d([[0, 0], [0, 1], [1, 0], [1, 1]]);
  const y = tf.tensor2d([[0], [1], [1], [0]]);
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [2], units: 8, activation: 'tanh' }), tf.layers.dense({ units: 1, activation: 'sigmoid' })],
  });
  model.compile({ optimizer: tf.train.adam(0.05), loss: focal({ gamma: 2 }) });
  const history = await model.fit(x, y, { epochs: 50, verbose: 0 });
  const bce = losses.binary_crossentropy()(y, model.predict(x));
  const lossCurve = history.history.loss;
  document.getElementById('out').textContent =
    `backend ${tf.getBackend()}\nfocal loss ${lossCurve[0].toFixed(4)} → ${lossCurve[lossCurve.length - 1].toFixed(4)}\n` +
    `binary cross-entropy after training ${bce.dataSync()[0].toFixed(4)}`;
}

main();
