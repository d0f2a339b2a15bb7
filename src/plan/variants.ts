// The kernel variants a layer can run (its step and its input projection), and which of them apply to
// a model on a device. Pure: no GPU calls.
import type { DeviceCaps } from '../gpu/adapter.js';
import { PERSISTENT_MAX_OUT } from '../kernels/constants.js';
import type { ResolvedSpec } from '../model/types.js';

/**
 * How a layer's timesteps run (the step variant), each a set of kernels with the same contract:
 * - 'tiled': one dispatch per step; each workgroup stages the recurrent vector of BT batch rows
 *   through workgroup memory (barriers), so each weight read serves BT rows.
 * - 'direct': one dispatch per step with no workgroup memory and no barrier: one invocation per
 *   (row, unit) computes its whole mat-vec from storage. CPU emulators pay for every barrier.
 * - 'persistent': one dispatch for the whole sequence: one workgroup per direction and block of
 *   batch rows loops over the steps with h in workgroup memory (RNN, GRU, LSTM without projection,
 *   h <= 256).
 * - 'rows': one dispatch for the whole sequence with no barrier: one invocation per (direction,
 *   row) computes every unit of every step, so it suits tiny layers with many rows (RNN, GRU, LSTM
 *   without projection).
 * - 'subgroup': one dispatch per step; each unit's dot products are split over the invocations of
 *   a subgroup and summed with subgroupAdd, for large h on GPUs (needs the 'subgroups' feature).
 * GRU without linear_before_reset and LSTM with projection take a second dispatch per step under
 * 'tiled' and 'direct' (a whole vector is needed first; WebGPU has no grid-wide barrier).
 */
export type StepVariant = 'tiled' | 'direct' | 'persistent' | 'rows' | 'subgroup';

export const STEP_VARIANTS: readonly StepVariant[] = ['tiled', 'direct', 'persistent', 'rows', 'subgroup'];

/**
 * How a layer's input projection runs: 'gemm', the 64×64-tiled GEMM (16-row tiles for few rows)
 * through workgroup memory; 'gemv', one invocation per output column and 1 or 4 rows, no barrier.
 */
export type ProjectionVariant = 'gemm' | 'gemv';

export const PROJECTION_VARIANTS: readonly ProjectionVariant[] = ['gemm', 'gemv'];

/** The kernels one layer runs for a given (seqLen, batch). */
export interface LayerChoice {
  step: StepVariant;
  projection: ProjectionVariant;
}

/**
 * createRnn's `stepKernels`: 'auto' (the defaults below, or a tuning table), a step variant forced
 * on every layer ('per-step' is the older name of 'tiled'), or 'stack': every run and stream step
 * runs the whole stack in the fused stack kernel (stack_step.wgsl; unidirectional, no projection,
 * hidden size <= 256).
 */
export type StepKernels = 'auto' | StepVariant | 'stack' | 'per-step';

/** Why the persistent kernel cannot run this spec, or undefined when it can. */
export function persistentUnsupported(s: ResolvedSpec): string | undefined {
  if (s.projected) return 'LSTM projection is not implemented in the persistent kernel yet';
  if (s.outputSize > PERSISTENT_MAX_OUT)
    return `hidden size ${s.outputSize} exceeds ${PERSISTENT_MAX_OUT}, the h a workgroup keeps resident`;
  return undefined;
}

/** Why `variant` cannot run this spec (on a device with `caps`; absent: on any device), or undefined when it can. */
export function variantUnsupported(s: ResolvedSpec, variant: StepVariant, caps?: Pick<DeviceCaps, 'subgroups'>): string | undefined {
  if (variant === 'persistent') return persistentUnsupported(s);
  if (variant === 'subgroup' && caps && !caps.subgroups) {
    return "the device lacks the 'subgroups' feature (requestDevice() asks for it where the adapter has it; pass requiredFeatures: ['subgroups'] to your own requestDevice)";
  }
  if (variant === 'rows' && s.projected) return 'LSTM projection is not implemented in the rows kernel yet';
  return undefined;
}
