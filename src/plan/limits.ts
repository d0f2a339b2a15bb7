// The device limits a model and a run must fit, checked before any GPU work, each failure a
// DeviceLimitError that names the limit and says what to change.
import { DeviceLimitError } from '../core/errors.js';
import type { DeviceCaps } from '../gpu/adapter.js';
import { kernelInfo, type KernelName } from '../kernels/sources.js';
import { layerInputSize } from '../model/spec.js';
import type { ResolvedSpec } from '../model/types.js';
import { planLayer } from './layer.js';
import { segmentable, segmentSteps, workspaceOverflow } from './segments.js';
import { STEP_VARIANTS, variantUnsupported } from './variants.js';

/**
 * The most dispatches one command buffer holds: a longer run is submitted in chunks of at most
 * this many (its state stays on the GPU between them, and it still reads back once). One command
 * buffer of 200,001 dispatches (a GRU over 100k steps, per-step kernels) crashed Dawn over lavapipe
 * with a segmentation fault; drivers with a watchdog (Windows TDR, 2 s by default) also bound the
 * work of one submission. 4096 dispatches cost lavapipe about one submit per 2,000 steps.
 */
export const MAX_DISPATCHES_PER_SUBMIT = 4096;

type LimitName =
  | 'maxStorageBuffersPerShaderStage'
  | 'maxInvocations'
  | 'maxComputeWorkgroupStorageSize'
  | 'maxStorageBufferBindingSize'
  | 'maxBufferSize'
  | 'maxWorkgroups';

/** The WebGPU names of the caps' limits, for messages. */
const LIMIT_NAMES: Record<LimitName, string> = {
  maxStorageBuffersPerShaderStage: 'maxStorageBuffersPerShaderStage',
  maxInvocations: 'maxComputeInvocationsPerWorkgroup',
  maxComputeWorkgroupStorageSize: 'maxComputeWorkgroupStorageSize',
  maxStorageBufferBindingSize: 'maxStorageBufferBindingSize',
  maxBufferSize: 'maxBufferSize',
  maxWorkgroups: 'maxComputeWorkgroupsPerDimension',
};

function need(caps: DeviceCaps, what: string, value: number, limit: LimitName, hint: string): void {
  const have = caps[limit];
  if (value > have) throw new DeviceLimitError(`${what} needs ${value} but the device's ${LIMIT_NAMES[limit]} is ${have}; ${hint}`);
}

/** Rejects a model whose kernels or weights exceed the device's limits. */
export function checkModelLimits(s: ResolvedSpec, caps: DeviceCaps): void {
  const kernels = new Set<KernelName>(['input_proj', 'input_gemv']);
  for (const step of STEP_VARIANTS) {
    if (variantUnsupported(s, step, caps)) continue;
    const plan = planLayer(s, { layer: 0, seqLen: 1, batch: 1, masked: false, choice: { step, projection: 'gemm' } }, caps);
    for (const c of [...plan.step, ...(plan.sequence ? [plan.sequence] : [])]) kernels.add(c.kernel);
  }
  for (const k of kernels) {
    const storage = kernelInfo(k).bindings.filter((b) => b.kind !== 'uniform').length;
    need(
      caps,
      `kernel ${k}`,
      storage,
      'maxStorageBuffersPerShaderStage',
      'every WebGPU device offers 8; request the default limits or more',
    );
  }
  need(caps, 'the input projection GEMM (16×16 workgroup)', 256, 'maxInvocations', 'a core-feature WebGPU device offers 256');
  need(caps, 'the input projection GEMM', 8192, 'maxComputeWorkgroupStorageSize', 'every core WebGPU device offers 16384');
  const { directions: D, gates: G, hiddenSize: H, outputSize: Hout } = s;
  for (let l = 0; l < s.numLayers; l++) {
    const maxWeight = 4 * Math.max(D * G * H * layerInputSize(s, l), D * G * H * Hout);
    const hint = "use a smaller model, or request a device with larger limits (requestDevice() asks for the adapter's maximum)";
    need(caps, `layer ${l}'s largest weight tensor (bytes)`, maxWeight, 'maxStorageBufferBindingSize', hint);
    need(caps, `layer ${l}'s largest weight tensor (bytes)`, maxWeight, 'maxBufferSize', hint);
  }
  need(caps, 'the input projection grid (x workgroups)', Math.ceil((D * G * H) / 64), 'maxWorkgroups', 'use a smaller hidden size');
}

/**
 * Rejects a run of (T, B) whose buffers or grids exceed the device's limits. A unidirectional run
 * (`splittable`: run() and stream steps, not encode(), which records into the caller's one encoder)
 * that does not fit one workspace runs in segments (plan/segments.ts): then a segment must fit,
 * and Y (with the final states, staged beside it for the one readback) one buffer.
 */
export function checkRunLimits(s: ResolvedSpec, caps: DeviceCaps, T: number, B: number, splittable = true): void {
  const steps = splittable ? segmentSteps(s, caps, T, B) : T;
  const overflow = workspaceOverflow(s, caps, Math.max(steps, 1), B);
  if (steps === 0 || overflow) {
    const split = steps === 0 ? ' (not even one step fits)' : !segmentable(s) ? ' (a bidirectional run cannot be split over seqLen)' : '';
    throw new DeviceLimitError(
      `a run of seqLen ${T} and batch ${B} needs ${overflow}${split}; run shorter sequences or smaller batches, ` +
        'or request a device with larger limits',
    );
  }
  if (steps === T) return;
  const { outputSize: Hout, hiddenSize: H, numLayers: L } = s;
  const bytes = 4 * (T * B * Hout + L * B * (Hout + H));
  if (bytes > caps.maxBufferSize) {
    throw new DeviceLimitError(
      `a run of seqLen ${T} and batch ${B} returns ${bytes} bytes of Y and final states, over the device's maxBufferSize ` +
        `(${caps.maxBufferSize}); run it in shorter calls (rnn.stream() keeps the state on the GPU between them)`,
    );
  }
}

/** A run whose forced kernels' grid exceeds maxComputeWorkgroupsPerDimension (choose.ts found no fallback that fits). */
export function forcedGridError(seqLen: number, batch: number, kernels: string, caps: DeviceCaps): DeviceLimitError {
  return new DeviceLimitError(
    `a run of seqLen ${seqLen} and batch ${batch} with the forced kernels (${kernels}) needs more ` +
      `workgroups than maxComputeWorkgroupsPerDimension (${caps.maxWorkgroups}); split the run, or leave stepKernels/projection on 'auto'`,
  );
}
