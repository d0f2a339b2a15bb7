// Streaming: a sequence fed in chunks (T = 1 steps, or uneven chunks), carrying Y_h / Y_c into the
// next run's initial states, gives the same outputs as one run over the whole sequence. Under the
// default 'auto' this alternates between the persistent kernel (T > 1) and the per-step kernel
// (T = 1) on one model, sharing its workspace.
import { describe, expect, it } from 'vitest';
import { createRnn, type RnnSpec } from '../src/index.js';
import { expectClose } from './support/close.js';
import { getTestDevice } from './support/device.js';
import { randomWeights, rng, uniform } from './support/random.js';

const SPECS: RnnSpec[] = [
  { cell: 'lstm', inputSize: 5, hiddenSize: 24, numLayers: 2 },
  { cell: 'gru', inputSize: 5, hiddenSize: 24, linearBeforeReset: true },
  { cell: 'gru', inputSize: 5, hiddenSize: 24 },
  { cell: 'rnn', inputSize: 5, hiddenSize: 24, numLayers: 2 },
  { cell: 'lstm', inputSize: 5, hiddenSize: 24, projSize: 7 },
];

describe('streaming equals one long run', () => {
  for (const spec of SPECS) {
    it(JSON.stringify(spec), async () => {
      const T = 7, B = 2, I = spec.inputSize;
      const rnn = await createRnn(await getTestDevice(), spec, randomWeights(spec, 11), { batch: B });
      const x = uniform(rng(4), T * B * I);
      const whole = await rnn.run(x, { seqLen: T, batch: B });
      const Hout = spec.projSize ?? spec.hiddenSize;
      const Y = new Float32Array(whole.Y.length);
      let state: { initialH?: Float32Array; initialC?: Float32Array } = {};
      let t = 0;
      for (const chunk of [1, 3, 1, 2]) {
        const part = await rnn.run(x.subarray(t * B * I, (t + chunk) * B * I), { seqLen: chunk, batch: B, ...state });
        Y.set(part.Y, t * B * Hout);   // one direction: Y [T, 1, B, Hout]
        state = { initialH: part.Y_h, ...(part.Y_c ? { initialC: part.Y_c } : {}) };
        t += chunk;
      }
      expect(t).toBe(T);
      expectClose(Y, whole.Y, 'Y');
      expectClose(state.initialH!, whole.Y_h, 'Y_h');
      if (whole.Y_c) expectClose(state.initialC!, whole.Y_c, 'Y_c');
      rnn.destroy();
    });
  }
});
