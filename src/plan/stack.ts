// The fused stack kernel (shaders/kernels/stack_step.wgsl): whether it can run a model, and its
// one call. Pure: no GPU calls.
import type { DeviceCaps } from '../gpu/adapter.js';
import { STACK_MAX_HIDDEN, STACK_RESIDENT_FLOATS } from '../kernels/constants.js';
import { CELLS } from '../model/cells.js';
import type { Constants, ResolvedSpec } from '../model/types.js';
import { batchTile, cellConstants, commonStepConstants, type KernelCall } from './layer.js';

/** Invocations per stack workgroup: one per hidden unit, rounded up to 32. */
function stackWorkgroup(H: number): number {
  return Math.max(32, Math.ceil(H / 32) * 32);
}

/** Why the fused stack kernel (stack_step.wgsl) cannot run this model, or undefined when it can. */
export function stackUnsupported(s: ResolvedSpec, caps: Pick<DeviceCaps, 'maxInvocations'>): string | undefined {
  const cell = CELLS[s.cell];
  if (cell.stackCode === undefined) return `the ${s.cell} cell is not implemented in the stack kernel yet`;
  const why = cell.stackUnsupported?.(s);
  if (why) return why;
  if (s.directions !== 1) return 'it runs unidirectional models only';
  if (s.projected) return 'LSTM projection is not implemented in the stack kernel';
  if (s.hiddenSize > STACK_MAX_HIDDEN) return `hidden size ${s.hiddenSize} exceeds ${STACK_MAX_HIDDEN}, one invocation per unit`;
  if (stackWorkgroup(s.hiddenSize) > caps.maxInvocations)
    return `a workgroup of ${stackWorkgroup(s.hiddenSize)} invocations exceeds the device's maxComputeInvocationsPerWorkgroup (${caps.maxInvocations})`;
  if (s.numLayers * s.hiddenSize > STACK_RESIDENT_FLOATS) {
    return `${s.numLayers} layers of ${s.hiddenSize} units exceed the ${STACK_RESIDENT_FLOATS} floats of h a workgroup keeps resident`;
  }
  return undefined;
}

/**
 * The fused stack kernel for `batch` rows: one dispatch runs every layer (input projection, mat-vec,
 * cell) of every step of the call. One workgroup per block of BT batch rows, one invocation per unit.
 */
export function planStack(s: ResolvedSpec, run: { batch: number; masked: boolean }, caps: Pick<DeviceCaps, 'maxInvocations'>): KernelCall {
  const { batch, masked } = run;
  const why = stackUnsupported(s, caps);
  if (why) throw new Error(`internal: the stack kernel was planned for a model it cannot run (${why})`);
  const { hiddenSize: H, numLayers: L } = s;
  const bt = Math.min(batchTile(batch), Math.floor(STACK_RESIDENT_FLOATS / (L * H)));
  // The cell's constants without the per-layer kernels' own (PROJECTED, TWO_PHASE, DEPTH_GATED).
  const { PROJECTED: _p, TWO_PHASE: _t, DEPTH_GATED: _d, ...cellOptions } = cellConstants(s, false);
  const constants: Constants = {
    ...commonStepConstants(s, stackWorkgroup(H), bt, masked),
    CELL: CELLS[s.cell].stackCode!,
    LAYERS: L,
    INPUT: s.inputSize,
    BATCH_MAJOR: s.batchMajor,
    ...cellOptions,
  };
  // stack_step.wgsl sizes no array by a generated length.
  return { kernel: 'stack_step', constants, lengths: {}, grid: [Math.ceil(batch / bt), 1, 1] };
}
