// Streaming through run(): a sequence fed in chunks (T = 1 steps, or uneven chunks), carrying Y_h /
// Y_c into the next run's initial states, gives the same outputs as one run over the whole
// sequence and as the float64 reference of the whole sequence. A tuning table makes one model alternate between a sequence kernel (or the tiled one,
// with a projection) for T > 1 and the direct kernel for T = 1, sharing its workspace, on any
// adapter. (rnn.stream(), which keeps the state on the GPU, is test/stream.test.ts.)
import { describe, expect, it } from 'vitest';
import { adapterDescription } from '../../src/gpu/adapter.js';
import { createRnn, type RnnSpec, type TuningTable } from '../../src/index.js';
import { resolveSpec } from '../../src/model/spec.js';
import { modelKey } from '../../src/plan/tuning.js';
import { referenceRnn } from '../../common/reference.js';
import { expectClose } from '../support/close.js';
import { getTestDevice } from '../support/device.js';
import { randomWeights, rng, uniform } from '../../common/random.js';

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
      const T = 7,
        B = 2,
        I = spec.inputSize;
      const device = await getTestDevice();
      const L = spec.numLayers ?? 1;
      const sequence = spec.projSize ? 'tiled' : spec.cell === 'rnn' ? 'rows' : 'persistent';
      const tuning: TuningTable = {
        version: 1,
        adapter: adapterDescription(device),
        model: modelKey(resolveSpec(spec)),
        entries: [
          { seqLen: 2, batch: B, layers: Array(L).fill({ step: sequence, projection: 'gemm' }), medianMs: 1 },
          { seqLen: 1, batch: B, layers: Array(L).fill({ step: 'direct', projection: 'gemv' }), medianMs: 1 },
        ],
      };
      const weights = randomWeights(spec, 11);
      const rnn = await createRnn(device, spec, weights, { batch: B, tuning });
      expect(rnn.kernels(3, B).layers[0].step).toBe(sequence);
      expect(rnn.kernels(1, B).layers[0].step).toBe('direct');
      const x = uniform(rng(4), T * B * I);
      const whole = await rnn.run(x, { seqLen: T, batch: B });
      const Hout = spec.projSize ?? spec.hiddenSize;
      const Y = new Float32Array(whole.Y.length);
      let state: { initialH?: Float32Array; initialC?: Float32Array } = {};
      let t = 0;
      for (const chunk of [1, 3, 1, 2]) {
        const part = await rnn.run(x.subarray(t * B * I, (t + chunk) * B * I), { seqLen: chunk, batch: B, ...state });
        Y.set(part.Y, t * B * Hout); // one direction: Y [T, 1, B, Hout]
        state = { initialH: part.Y_h, ...(part.Y_c ? { initialC: part.Y_c } : {}) };
        t += chunk;
      }
      expect(t).toBe(T);
      expectClose(Y, whole.Y, 'Y');
      expectClose(state.initialH!, whole.Y_h, 'Y_h');
      if (whole.Y_c) expectClose(state.initialC!, whole.Y_c, 'Y_c');
      const ref = referenceRnn(spec, weights, x, { seqLen: T, batch: B });
      expectClose(Y, ref.Y, 'chunked Y vs reference');
      expectClose(state.initialH!, ref.Y_h, 'chunked Y_h vs reference');
      if (spec.cell === 'lstm') expectClose(state.initialC!, ref.Y_c!, 'chunked Y_c vs reference');
      rnn.destroy();
    });
  }
});
