// webgpu-rnn itself: createRnn with the ONNX-layout weights as given; a second engine forces the
// per-step kernels, to measure where the persistent kernel pays off on the adapter at hand.
import { createRnn, type LayerWeights, type RunResult, type StepKernels } from '../../../src/index.js';
import { dispatchCount, usesPersistent } from '../../../src/plan.js';
import { resolveSpec } from '../../../src/spec.js';
import { dirs, specOf, type BenchShape } from '../shapes.js';
import type { Engine, Outputs, Prepared } from '../types.js';

/** The dispatches one timed run should make under the default kernels (the library's own plan). */
export function expectedDispatches(s: BenchShape, mode: StepKernels = 'auto'): number {
  return (s.stream ?? 1) * dispatchCount(resolveSpec(specOf(s)), s.seqLen, s.batch, mode);
}

export function webgpuRnnEngine(device: GPUDevice, stepKernels: StepKernels = 'auto'): Engine {
  const perStep = stepKernels === 'per-step';
  return {
    id: perStep ? 'webgpu-rnn-per-step' : 'webgpu-rnn',
    label: perStep ? 'webgpu-rnn, per-step kernels' : 'webgpu-rnn',
    gpu: true,
    unsupported: (s) => (perStep && !usesPersistent(resolveSpec(specOf(s)), 'auto', s.seqLen)
      ? 'the default already runs this shape with per-step kernels' : null),
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
      return { run, dispose: () => rnn.destroy(), device, placement: 'webgpu' };
    },
  };
}
