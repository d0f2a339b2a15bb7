// webgpu-rnn itself: createRnn with the ONNX-layout weights as given.
import { createRnn, type LayerWeights, type RunResult } from '../../../src/index.js';
import { dirs, specOf, type BenchShape } from '../shapes.js';
import type { Engine, Outputs, Prepared } from '../types.js';

/** The dispatches one timed run should make: L·(1 + T), or L·(1 + 2T) for GRU lbr 0 (ARCHITECTURE.md). */
export function expectedDispatches(s: BenchShape): number {
  const perStep = s.cell === 'gru' && !s.linearBeforeReset ? 2 : 1;
  const calls = s.stream ?? 1;
  return calls * s.numLayers * (1 + perStep * s.seqLen);
}

export function webgpuRnnEngine(device: GPUDevice): Engine {
  return {
    id: 'webgpu-rnn',
    label: 'webgpu-rnn',
    gpu: true,
    unsupported: () => null,
    async prepare(s: BenchShape, weights: LayerWeights[], x: Float32Array): Promise<Prepared> {
      const rnn = await createRnn(device, specOf(s), weights, { batch: s.batch });
      const B = s.batch;
      const I = s.inputSize;
      const run = async (): Promise<Outputs> => {
        if (!s.stream) return rnn.run(x, { seqLen: s.seqLen, batch: B });
        const D = dirs(s);
        const H = s.hiddenSize;
        const Y = new Float32Array(s.stream * D * B * H);
        let last: RunResult | undefined;
        for (let k = 0; k < s.stream; k++) {
          last = await rnn.run(x.subarray(k * B * I, (k + 1) * B * I), { seqLen: 1, batch: B, initialH: last?.Y_h, initialC: last?.Y_c });
          Y.set(last.Y, k * D * B * H);
        }
        return { Y, Y_h: last!.Y_h, Y_c: last!.Y_c };
      };
      return { run, dispose: () => rnn.destroy(), device, placement: 'webgpu' };
    },
  };
}
