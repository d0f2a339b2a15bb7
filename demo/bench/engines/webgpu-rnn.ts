// webgpu-rnn itself: createRnn with the ONNX-layout weights as given. Further engines force one kernel
// variant each through createRnn's stepKernels option, or ask for { tune: true }, to measure where each
// variant pays off on the adapter at hand. Variants this build of the library lacks are reported n/a
// with createRnn's own error message, so the list can name variants before they exist.
import { createRnn, type CreateRnnOptions, type LayerWeights, type RunResult, type StepKernels } from '../../../src/index.js';
import { dispatchCount, usesPersistent } from '../../../src/plan.js';
import { resolveSpec } from '../../../src/spec.js';
import { dirs, specOf, type BenchShape } from '../shapes.js';
import type { Engine, Outputs, Prepared } from '../types.js';

/** stepKernels values to try, including ones still being written: createRnn rejects what it does not know. */
export const STEP_KERNEL_VARIANTS = ['auto', 'per-step', 'persistent', 'direct', 'subgroup'] as const;
/** A stepKernels value, or 'tune' for createRnn(…, { tune: true }). */
export type Variant = (typeof STEP_KERNEL_VARIANTS)[number] | 'tune';
/** Modes whose dispatches src/plan.ts's dispatchCount() predicted when this was written. */
const PLANNED_MODES: readonly string[] = ['auto', 'per-step', 'persistent'];

/** The dispatches one timed run should make under `mode` (the library's own plan). */
function expectedDispatches(s: BenchShape, mode: StepKernels = 'auto'): number {
  return (s.stream ?? 1) * dispatchCount(resolveSpec(specOf(s)), s.seqLen, s.batch, mode);
}

const tuneProbes = new WeakMap<GPUDevice, Promise<string | undefined>>();

/**
 * Why this build's createRnn has no `tune` option, or undefined when it has one. createRnn ignores
 * option keys it does not know, so { tune: true } alone cannot tell; a build that knows the option
 * rejects a value of the wrong type for it with a message that names it.
 */
function tuneUnsupported(device: GPUDevice): Promise<string | undefined> {
  let probe = tuneProbes.get(device);
  if (!probe) {
    const options = { tune: 'not-a-boolean' } as unknown as CreateRnnOptions;
    probe = createRnn(device, { cell: 'rnn', inputSize: 1, hiddenSize: 1 }, [{ W: new Float32Array(1), R: new Float32Array(1) }], options).then(
      (rnn) => {
        rnn.destroy();
        return "no tune option in this build (createRnn ignored options.tune = 'not-a-boolean')";
      },
      (e: Error) => (/\btune\b/.test(e.message) ? undefined : `the tune probe failed: ${e.message}`),
    );
    tuneProbes.set(device, probe);
  }
  return probe;
}

export function webgpuRnnEngine(device: GPUDevice, variant: Variant = 'auto'): Engine {
  const tune = variant === 'tune';
  const stepKernels = (tune ? 'auto' : variant) as StepKernels;
  return {
    id: variant === 'auto' ? 'webgpu-rnn' : `webgpu-rnn-${variant}`,
    label: variant === 'auto' ? 'webgpu-rnn' : tune ? 'webgpu-rnn, tune: true' : `webgpu-rnn, ${variant} kernels`,
    gpu: true,
    unsupported: (s) => (variant === 'per-step' && !usesPersistent(resolveSpec(specOf(s)), 'auto', s.seqLen)
      ? 'the default already runs this shape with per-step kernels' : null),
    expectedDispatches: (s) => (!tune && PLANNED_MODES.includes(stepKernels) ? expectedDispatches(s, stepKernels) : undefined),
    async prepare(s: BenchShape, weights: LayerWeights[], x: Float32Array): Promise<Prepared> {
      const why = tune ? await tuneUnsupported(device) : undefined;
      if (why) throw new Error(why);
      const options = (tune ? { batch: s.batch, tune: true } : { batch: s.batch, stepKernels }) as CreateRnnOptions;
      const rnn = await createRnn(device, specOf(s), weights, options);
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
