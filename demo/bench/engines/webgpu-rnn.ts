// webgpu-rnn itself: createRnn with the ONNX-layout weights as given, under its defaults ('auto'),
// and engines that force one step variant each, to measure the variants on the adapter at hand.
import { createRnn, type LayerWeights, type RunResult, type StepKernels } from '../../../src/index.js';
import { dirs, specOf, type BenchShape } from '../shapes.js';
import type { Engine, Outputs, Prepared } from '../types.js';

export function webgpuRnnEngine(device: GPUDevice, stepKernels: StepKernels = 'auto'): Engine {
  const forced = stepKernels !== 'auto';
  return {
    id: forced ? `webgpu-rnn-${stepKernels}` : 'webgpu-rnn',
    label: forced ? `webgpu-rnn, ${stepKernels} kernels` : 'webgpu-rnn',
    gpu: true,
    unsupported: () => null,
    async prepare(s: BenchShape, weights: LayerWeights[], x: Float32Array): Promise<Prepared> {
      const rnn = await createRnn(device, specOf(s), weights, { batch: s.batch, stepKernels });
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
      const plan = rnn.kernels(s.seqLen, B);
      return {
        run, dispose: () => rnn.destroy(), device, placement: 'webgpu',
        expectedDispatches: (s.stream ?? 1) * plan.dispatches,
        notes: [`kernels: ${plan.layers.map((c) => `${c.step}+${c.projection}`).join(', ')}`],
      };
    },
  };
}
