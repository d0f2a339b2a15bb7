// What to dispatch, without touching the GPU: kernels, their override constants and grids, the
// strides of each layer's input and output, and the sizes of the buffers a run needs.
// rnn.ts executes this plan; test/plan.test.ts checks it without a GPU.
import type { Constants, KernelName } from './kernels.js';
import { layerInputSize, type ResolvedSpec } from './spec.js';

export interface KernelCall {
  kernel: KernelName;
  constants: Constants;
  /** Workgroups in x, y, z. */
  grid: [number, number, number];
}

export interface LayerPlan {
  inputProj: KernelCall;
  /** The dispatches of one timestep, in order (one, or two when a cell needs a whole vector first); empty with `sequence`. */
  step: KernelCall[];
  /** The persistent kernel that runs every timestep in one dispatch, when the layer uses it. */
  sequence?: KernelCall;
}

/**
 * How a layer's timesteps are dispatched: 'per-step' (one fused dispatch per step, any size),
 * 'persistent' (one dispatch for the whole sequence: one workgroup per direction and block of batch
 * rows loops over the steps with h in workgroup memory), or 'auto' (persistent where it applies).
 */
export type StepKernels = 'auto' | 'per-step' | 'persistent';

/** The resident h of the persistent kernel holds K_TILE (cell_step.wgsl) floats per row. */
export const PERSISTENT_MAX_OUT = 256;
/**
 * The largest h 'auto' runs persistently. Measured on CPU-emulated adapters only (lavapipe, Node):
 * persistent was faster for a GRU 96 over 100 steps (11.7 vs 18.6 ms) and slower for a
 * bidirectional LSTM 256 (153 vs 135 ms) and for an LSTM 20 at batch 128 (13.4 vs 12.3 ms), where
 * per-step dispatches spread the work over more workgroups. Real GPUs pay more per dispatch
 * relative to compute, so their crossover is likely higher; re-measure with the benchmark page.
 */
export const PERSISTENT_AUTO_MAX_OUT = 128;

/** Why the persistent kernel cannot run this spec, or undefined when it can. */
export function persistentUnsupported(s: ResolvedSpec): string | undefined {
  if (s.projected) return 'LSTM projection is not implemented in the persistent kernel yet';
  if (s.outputSize > PERSISTENT_MAX_OUT) return `hidden size ${s.outputSize} exceeds ${PERSISTENT_MAX_OUT}, the h a workgroup keeps resident`;
  return undefined;
}

/**
 * 'auto' picks the persistent kernel where it applies, h <= PERSISTENT_AUTO_MAX_OUT and the
 * sequence has more than one step. It saves T - 1 dispatches per layer (tens of µs each), but one
 * workgroup per recurrence does the whole mat-vec, so for a single step (streaming) the per-step
 * kernel, which spreads the units over several workgroups, is never slower.
 */
export function usesPersistent(s: ResolvedSpec, mode: StepKernels, seqLen: number): boolean {
  if (mode === 'per-step' || persistentUnsupported(s) !== undefined) return false;
  return mode === 'persistent' || (seqLen > 1 && s.outputSize <= PERSISTENT_AUTO_MAX_OUT);
}

/** Batch rows per step workgroup (the BT override): each recurrent weight read then serves BT rows. */
export function batchTile(batch: number): number {
  return batch >= 3 ? 4 : batch;
}

/**
 * Invocations per step workgroup (the WG override), for `units` outputs per (direction, row).
 * Not yet tuned on real GPUs: 32 for tiny layers so few invocations idle, 64 otherwise, 128 for
 * large layers where more invocations share each staged vector tile.
 */
export function stepWorkgroupSize(units: number, maxInvocations: number): number {
  const wg = units <= 32 ? 32 : units < 1024 ? 64 : 128;
  return Math.min(wg, maxInvocations);
}

/** Constants every step kernel takes (step_common.wgsl). */
function commonStepConstants(s: ResolvedSpec, wg: number, bt: number, masked: boolean): Constants {
  const c: Constants = {
    HIDDEN: s.hiddenSize,
    OUT: s.outputSize,
    DIRS: s.directions,
    REVERSE: s.direction === 'reverse',
    WG: wg,
    BT: bt,
    MASKED: masked,
    HAS_CLIP: s.clip !== undefined,
    CLIP: s.clip ?? 0,
  };
  // Slot d*3 + k holds activation k of direction d; a single direction's triple is repeated in
  // slots 3..5 and a GRU's or RNN's unused slots get Relu, so every required override is set.
  const perDir = s.activations.length / s.directions;
  for (let slot = 0; slot < 6; slot++) {
    const d = Math.floor(slot / 3) % s.directions;
    const k = slot % 3;
    const a = k < perDir ? s.activations[d * perDir + k] : undefined;
    c[`ACT_${slot}`] = a ? a.code : 0;
    c[`ALPHA_${slot}`] = a ? a.alpha : 0;
    c[`BETA_${slot}`] = a ? a.beta : 0;
  }
  return c;
}

export const GEMM_TILE = 64;

export function planLayer(s: ResolvedSpec, layer: number, seqLen: number, batch: number, maxInvocations: number, masked = false,
  mode: StepKernels = 'per-step'): LayerPlan {
  const { hiddenSize: H, outputSize: Hout, directions: D, gates: G } = s;
  const bt = batchTile(batch);
  const rowBlocks = Math.ceil(batch / bt);
  const N = D * G * H;
  const M = seqLen * batch;
  // 4 output rows per invocation (64-row tiles), or 1 (16-row tiles) when there are few rows.
  const TM = M <= 16 ? 1 : 4;
  const inputProj: KernelCall = {
    kernel: 'input_proj',
    constants: { K: layerInputSize(s, layer), N, TM },
    grid: [Math.ceil(N / GEMM_TILE), Math.ceil(M / (16 * TM)), 1],
  };
  const hiddenCall = (kernel: KernelName, extra: Constants): KernelCall => {
    const wg = stepWorkgroupSize(H, maxInvocations);
    return { kernel, constants: { ...commonStepConstants(s, wg, bt, masked), ...extra }, grid: [Math.ceil(H / wg), D, rowBlocks] };
  };
  if (usesPersistent(s, mode, seqLen)) {
    const wg = stepWorkgroupSize(H, maxInvocations);
    const kernel: KernelName = s.cell === 'rnn' ? 'rnn_seq' : s.cell === 'gru' ? 'gru_seq' : 'lstm_seq';
    // A GRU without linear_before_reset runs gru_reset's work as the persistent kernel's first phase.
    const extra: Constants = s.cell === 'gru' ? { LINEAR_BEFORE_RESET: s.linearBeforeReset, TWO_PHASE: !s.linearBeforeReset }
      : s.cell === 'lstm' ? { INPUT_FORGET: s.inputForget, PROJECTED: false } : {};
    return { inputProj, step: [], sequence: { kernel, constants: { ...commonStepConstants(s, wg, bt, masked), ...extra }, grid: [1, D, rowBlocks] } };
  }
  let step: KernelCall[];
  if (s.cell === 'rnn') {
    step = [hiddenCall('rnn_step', {})];
  } else if (s.cell === 'gru') {
    step = s.linearBeforeReset
      ? [hiddenCall('gru_step', { LINEAR_BEFORE_RESET: true })]
      : [hiddenCall('gru_reset', {}), hiddenCall('gru_step', { LINEAR_BEFORE_RESET: false })];
  } else {
    step = [hiddenCall('lstm_step', { INPUT_FORGET: s.inputForget, PROJECTED: s.projected })];
    if (s.projected) {
      const wg = stepWorkgroupSize(Hout, maxInvocations);
      step.push({ kernel: 'lstm_projection', constants: commonStepConstants(s, wg, bt, masked), grid: [Math.ceil(Hout / wg), D, rowBlocks] });
    }
  }
  return { inputProj, step };
}

/** Element strides (t, b, d) of a layer's sequence output; the last layer writes the public Y layout. */
export function outputStrides(s: ResolvedSpec, layer: number, seqLen: number, batch: number): { t: number; b: number; d: number } {
  const { outputSize: Hout, directions: D } = s;
  if (layer < s.numLayers - 1) return { t: batch * D * Hout, b: D * Hout, d: Hout };    // [T, B, D, Hout]: next layer's input
  if (s.batchMajor) return { t: D * Hout, b: seqLen * D * Hout, d: Hout };                // [B, T, D, Hout]
  return { t: D * batch * Hout, b: Hout, d: batch * Hout };                               // [T, D, B, Hout] (ONNX)
}

/** Element strides (t, b) of a layer's input rows. */
export function inputStrides(s: ResolvedSpec, layer: number, seqLen: number, batch: number): { t: number; b: number } {
  const width = layerInputSize(s, layer);
  if (layer > 0) return { t: batch * width, b: width };
  return s.batchMajor ? { t: width, b: seqLen * width } : { t: batch * width, b: width };
}

/** Float counts of the buffers a run of (seqLen, batch) needs. */
export function runSizes(s: ResolvedSpec, seqLen: number, batch: number) {
  const { hiddenSize: H, outputSize: Hout, directions: D, gates: G } = s;
  return {
    x: seqLen * batch * s.inputSize,
    xproj: seqLen * batch * D * G * H,
    /** One layer's sequence output ([T, B, D·Hout] or the final Y). */
    sequence: seqLen * batch * D * Hout,
    h: D * batch * Hout,
    c: D * batch * H,
    /** GRU gate_tmp [D, B, 2, H] or the LSTM projection's m [D, B, H]. */
    scratch: D * batch * 2 * H,
  };
}

/** Dispatches a run issues: per layer one input projection plus the step kernels of every timestep. */
export function dispatchCount(s: ResolvedSpec, seqLen: number, batch: number, mode: StepKernels = 'per-step'): number {
  let n = 0;
  for (let l = 0; l < s.numLayers; l++) {
    const p = planLayer(s, l, seqLen, batch, 256, false, mode);
    n += 1 + (p.sequence ? 1 : seqLen * p.step.length);
  }
  return n;
}
