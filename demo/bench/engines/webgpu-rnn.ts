// webgpu-rnn itself: createRnn with the ONNX-layout weights as given, under its defaults ('auto').
// Further engines force one kernel variant each through createRnn's stepKernels option, or ask for
// { tune: true } (the variants measured on this adapter while the model is built), to see where
// each variant pays off on the adapter at hand. A variant that does not apply to a shape is n/a
// with createRnn's own message (a SpecError saying "does not apply"); any other error is a failure.
import {
  createRnn,
  DeviceLimitError,
  SpecError,
  type CreateRnnOptions,
  type LayerWeights,
  type ProjectionVariant,
  type StepVariant,
} from '../../../src/index.js';
import { dirs, specOf, type BenchShape } from '../shapes.js';
import { NotApplicable, type Engine, type Outputs, type Prepared } from '../types.js';

/** The forced variants the benchmarks offer besides the default and tuning ('stack': the fused whole-stack kernel). */
export const STEP_KERNEL_VARIANTS: readonly (StepVariant | 'stack')[] = ['direct', 'tiled', 'persistent', 'rows', 'subgroup', 'stack'];
/** The forced input projections (createRnn's `projection`), each with the default steps. */
export const PROJECTION_KERNEL_VARIANTS: readonly ProjectionVariant[] = ['gemm', 'gemv'];
/**
 * 'auto' (the defaults), a forced step variant, a forced projection, 'tune' for createRnn(…, { tune: true }),
 * or 'f16' for the defaults with f16 weights.
 */
export type Variant = 'auto' | StepVariant | 'stack' | ProjectionVariant | 'tune' | 'f16';

export function webgpuRnnEngine(device: GPUDevice, variant: Variant = 'auto'): Engine {
  const tune = variant === 'tune';
  return {
    id: variant === 'auto' ? 'webgpu-rnn' : `webgpu-rnn-${variant}`,
    label:
      variant === 'auto'
        ? 'webgpu-rnn'
        : tune
          ? 'webgpu-rnn, tune: true'
          : variant === 'f16'
            ? 'webgpu-rnn, f16 weights'
            : variant === 'gemm' || variant === 'gemv'
              ? `webgpu-rnn, ${variant} projection`
              : `webgpu-rnn, ${variant} kernels`,
    gpu: true,
    // f16 weights: the tolerance createRnn documents for precision 'f16'.
    ...(variant === 'f16' ? { tolerance: { atol: 2e-3, rtol: 1e-2 } } : {}),
    // f16 weights need the device feature (createRnn would say so with a SpecError); every other
    // variant is tried, and createRnn decides whether it applies.
    unsupported: () =>
      variant === 'f16' && !device.features.has('shader-f16') ? "the device lacks 'shader-f16', which precision 'f16' needs" : null,
    async prepare(s: BenchShape, weights: LayerWeights[], x: Float32Array): Promise<Prepared> {
      const options: CreateRnnOptions = { batch: s.batch, seqLen: s.seqLen };
      if (tune) options.tune = true;
      else if (variant === 'f16') options.precision = 'f16';
      else if (variant === 'gemm' || variant === 'gemv') options.projection = variant;
      else if (variant !== 'auto') options.stepKernels = variant;
      const rnn = await createRnn(device, specOf(s), weights, options).catch((e: unknown) => {
        // createRnn's refusal of a forced variant for this model: n/a. Anything else is the bench's error.
        // So is a run the device cannot hold (createRnn warms up for seqLen): DeviceLimitError.
        const refused = (e instanceof SpecError && /does not apply/.test(e.message)) || e instanceof DeviceLimitError;
        throw refused ? new NotApplicable((e as Error).message) : e;
      });
      const B = s.batch;
      const I = s.inputSize;
      // Streaming shapes: one rnn.stream() call per step with the state kept on the GPU (as an app
      // would, and as TF.js keeps it), the state read back once at the end of the timed run.
      const stream = s.stream ? rnn.stream({ batch: B }) : undefined;
      const run = async (): Promise<Outputs> => {
        if (!stream) return rnn.run(x, { seqLen: s.seqLen, batch: B });
        const D = dirs(s);
        const H = s.hiddenSize;
        const Y = new Float32Array(s.stream! * D * B * H);
        stream.reset();
        for (let k = 0; k < s.stream!; k++) Y.set((await stream.step(x.subarray(k * B * I, (k + 1) * B * I))).Y, k * D * B * H);
        return { Y, ...(await stream.state()) };
      };
      // A run the device cannot hold (a DeviceLimitError naming the limit) does not apply here.
      let plan: ReturnType<typeof rnn.kernels>;
      try {
        plan = rnn.kernels(s.seqLen, B);
      } catch (e) {
        rnn.destroy();
        throw e instanceof DeviceLimitError ? new NotApplicable(e.message) : e;
      }
      return {
        run,
        dispose: () => rnn.destroy(),
        device,
        placement: 'webgpu',
        // The library's own plan, checked against the dispatches counted (stream state reads dispatch nothing).
        expectedDispatches: (s.stream ?? 1) * plan.dispatches,
        notes: [
          `kernels: ${plan.stack ? 'stack (every layer fused)' : plan.layers.map((c) => `${c.step}+${c.projection}`).join(', ')}`,
          ...(variant === 'f16' ? ['f16 weights: agreement tolerance 2e-3 + 1e-2·|ref|'] : []),
        ],
      };
    },
  };
}
