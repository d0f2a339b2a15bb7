// What one layer dispatches for a run of (seqLen, batch), without touching the GPU: its kernels,
// their override constants and grids. run/ records this plan; test/unit/plan.test.ts checks it.
import type { DeviceCaps } from '../gpu/adapter.js';
import { cellKernel, type ArrayLengths, type KernelName } from '../kernels/sources.js';
import { CELLS } from '../model/cells.js';
import { layerInputSize } from '../model/spec.js';
import type { Constants, ResolvedSpec } from '../model/types.js';
import { BATCH_TILE_MAX, GEMM_TILE } from '../kernels/constants.js';
import { arrayLengths, projectionGates } from './layout.js';
import { sequenceChunks } from './segments.js';
import { persistentUnsupported, variantUnsupported, type LayerChoice, type ProjectionVariant } from './variants.js';

export interface KernelCall {
  kernel: KernelName;
  constants: Constants;
  /** Scalars in the storage arrays the kernel sizes by a generated const (kernels/sources.ts). */
  lengths: ArrayLengths;
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

/** Batch rows per tiled step workgroup (the BT override): each recurrent weight read then serves BT rows. */
export function batchTile(batch: number): number {
  return batch >= 3 ? BATCH_TILE_MAX : batch;
}

/**
 * Invocations per tiled step workgroup (the WG override), for `units` outputs per (direction, row):
 * 32 for tiny layers so few invocations idle, 64 otherwise, 128 for large layers where more
 * invocations share each staged vector tile.
 */
export function stepWorkgroupSize(units: number, maxInvocations: number): number {
  const wg = units <= 32 ? 32 : units < 1024 ? 64 : 128;
  return Math.min(wg, maxInvocations);
}

/** Invocations per workgroup of the barrier-free kernels (direct steps, gemv), which flatten rows and units. */
export const DIRECT_WORKGROUP = 64;

/**
 * The workgroup size of a barrier-free step kernel over `invocations` (per direction): as many
 * workgroups as DIRECT_WORKGROUP-sized ones would need, but of equal sizes (a multiple of 4, so
 * quads stay whole), so that no workgroup is a short remainder. A CPU emulator runs each workgroup
 * on one thread, and a remainder leaves a thread idle: 96 units were 64 + 32, now 48 + 48.
 */
export function directWorkgroupSize(invocations: number, maxInvocations: number): number {
  const groups = Math.ceil(invocations / DIRECT_WORKGROUP);
  return Math.min(4 * Math.ceil(invocations / (4 * groups)), maxInvocations);
}

/** Constants every step kernel takes (step_common.wgsl). */
export function commonStepConstants(s: ResolvedSpec, wg: number, bt: number, masked: boolean): Constants {
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

/**
 * Whether the 'gemv' projection runs as input_gemv_quad, which shares the reads of x within quads:
 * on a device with subgroups, when the column quads of w_t are a multiple of four (a quad of lanes
 * then never straddles two row blocks). CPU emulators pay each read of x as a gather plus a bounds
 * clamp through arrayLength (x is sized by T·B); this does a quarter of them. Node + SwiftShader,
 * 2026-12-01, GPU time of the projection (timestamps), plain vs quad: char-RNN (two layers, one
 * row) 3.9 vs 3.2 ms, RNNoise (100 rows) 4.9 vs 3.7 ms, LSTM 20 (2560 rows) 8.3 vs 7.7 ms.
 */
export function gemvQuadApplies(s: ResolvedSpec, layer: number, subgroups: boolean): boolean {
  const N = s.directions * projectionGates(s, layer) * s.hiddenSize;
  return subgroups && Math.ceil(N / 4) % 4 === 0;
}

function projectionCall(
  s: ResolvedSpec,
  layer: number,
  M: number,
  variant: ProjectionVariant,
  lengths: ArrayLengths,
  subgroups: boolean,
): KernelCall {
  const N = s.directions * projectionGates(s, layer) * s.hiddenSize;
  const K = layerInputSize(s, layer);
  if (variant === 'gemv') {
    const TM = M === 1 ? 1 : 4;
    const invocations = Math.ceil(N / 4) * Math.ceil(M / TM);
    const grid: KernelCall['grid'] = [Math.ceil(invocations / DIRECT_WORKGROUP), 1, 1];
    const kernel = gemvQuadApplies(s, layer, subgroups) ? 'input_gemv_quad' : 'input_gemv';
    return { kernel, constants: { K, N, TM, WG: DIRECT_WORKGROUP }, lengths, grid };
  }
  // 4 output rows per invocation (64-row tiles), or 1 (16-row tiles) when there are few rows.
  const TM = M <= 16 ? 1 : 4;
  return { kernel: 'input_proj', constants: { K, N, TM }, lengths, grid: [Math.ceil(N / GEMM_TILE), Math.ceil(M / (16 * TM)), 1] };
}

/** The cell-specific constants of the kernels built on cell_step.wgsl (the registry's). */
export function cellConstants(s: ResolvedSpec, twoPhase: boolean): Constants {
  return CELLS[s.cell].constants(s, twoPhase);
}

/** (row, unit) pairs per workgroup of the subgroup kernel (its UNITS override). */
export const SUBGROUP_UNITS = 8;

/** Invocations per workgroup of the rows kernel: few, so that even a small batch spreads over several workgroups. */
export const ROWS_WORKGROUP = 8;

/**
 * Whether the 'direct' step runs as main_direct_quad (cell_subgroup.wgsl), which shares the
 * recurrent vector's reads within quads: one row per invocation, whole quads per row and four
 * columns per pass, on a device with subgroups. It does a quarter of the vector's reads, which a CPU
 * emulator pays as one gather each. Node + SwiftShader, 2026-12-01, two runs each, quad vs plain
 * direct: BiLSTM 256 T = 100 186-189 vs 219-227 ms, char-RNN 2×512 8 steps 62-71 vs 77-84 ms;
 * in Chromium (README table) BiLSTM 256 91 vs 108 ms, NSNet2 27.8 vs 38.9 ms, char-RNN 38.9 vs 49.7 ms;
 * lavapipe about even. A GPU broadcasts those reads from cache either way. Four rows per invocation
 * (BT = 4) with shared reads was tried on the TF.js LSTM 20 × batch 128 and measured no faster
 * (Node + SwiftShader, three runs each: 10.6-11.1 vs 9.9-14.6 ms of step kernels), so BT = 4 reads
 * plainly: there the cell's own reads and writes outweigh the mat-vec's vector reads.
 */
export function directQuadApplies(s: ResolvedSpec, bt: number, subgroups: boolean): boolean {
  return subgroups && bt === 1 && s.hiddenSize % 4 === 0 && s.outputSize % 4 === 0;
}

/** What planLayer plans: one layer of a run of (seqLen, batch), with or without a step mask, with its kernel choice. */
export interface LayerRun {
  layer: number;
  seqLen: number;
  batch: number;
  masked: boolean;
  choice: LayerChoice;
}

/** What the plan needs of a device (DeviceCaps): the workgroup size limit and whether it has subgroups. */
export type PlanCaps = Pick<DeviceCaps, 'maxInvocations' | 'subgroups'>;

/** Layer `run.layer`'s calls for a run: its input projection, then its step kernels or its sequence kernel. */
export function planLayer(s: ResolvedSpec, run: LayerRun, caps: PlanCaps): LayerPlan {
  const { layer, seqLen, batch, masked, choice } = run;
  const { maxInvocations, subgroups } = caps;
  const { hiddenSize: H, outputSize: Hout, directions: D } = s;
  const lengths = arrayLengths(s, layer, batch);
  const inputProj = projectionCall(s, layer, seqLen * batch, choice.projection, lengths, subgroups);
  const cell = CELLS[s.cell];
  const twoPhase = cell.twoPhase(s);
  if (choice.step === 'persistent') {
    const why = persistentUnsupported(s);
    if (why) throw new Error(`internal: the persistent kernel was planned for a layer it cannot run (${why})`);
    const wg = stepWorkgroupSize(H, maxInvocations);
    const bt = batchTile(batch);
    // A GRU without linear_before_reset runs gru_reset's work as the persistent kernel's first phase.
    const constants = { ...commonStepConstants(s, wg, bt, masked), ...cellConstants(s, twoPhase) };
    return {
      inputProj,
      step: [],
      sequence: { kernel: cellKernel(s.cell, 'seq'), constants, lengths, grid: [1, D, Math.ceil(batch / bt)] },
    };
  }
  if (choice.step === 'rows') {
    const why = variantUnsupported(s, 'rows');
    if (why) throw new Error(`internal: the rows kernel was planned for a layer it cannot run (${why})`);
    const wg = Math.min(ROWS_WORKGROUP, maxInvocations);
    const constants = { ...commonStepConstants(s, wg, 1, masked), ...cellConstants(s, twoPhase) };
    return {
      inputProj,
      step: [],
      sequence: { kernel: cellKernel(s.cell, 'rows'), constants, lengths, grid: [Math.ceil(batch / wg), D, 1] },
    };
  }
  if (choice.step === 'subgroup') {
    // The cell's mat-vec split over subgroups; the GRU's first half and the LSTM projection, which
    // are small next to it, run barrier-free as under 'direct'.
    const wg = Math.min(DIRECT_WORKGROUP, maxInvocations);
    const constants = { ...commonStepConstants(s, wg, 1, masked), ...cellConstants(s, false), UNITS: SUBGROUP_UNITS };
    const step: KernelCall[] = [
      { kernel: cellKernel(s.cell, 'subgroup'), constants, lengths, grid: [Math.ceil((batch * H) / SUBGROUP_UNITS), D, 1] },
    ];
    const direct = (kernel: KernelName, units: number, extra: Constants): KernelCall => ({
      kernel,
      constants: { ...commonStepConstants(s, wg, 1, masked), ...extra },
      lengths,
      grid: [Math.ceil((batch * units) / wg), D, 1],
    });
    if (twoPhase) step.unshift(direct(cell.firstPhase!.direct, H, cellConstants(s, false)));
    if (s.projected) step.push(direct('lstm_projection_direct', Hout, {}));
    return { inputProj, step };
  }
  if (choice.step === 'direct') {
    // Four rows per invocation once there are several: each weight read then serves four rows.
    const bt = batch === 1 ? 1 : BATCH_TILE_MAX;
    const direct = (kernel: KernelName, units: number, constants: Constants): KernelCall => {
      const invocations = Math.ceil(batch / bt) * units;
      const wg = directWorkgroupSize(invocations, maxInvocations);
      return {
        kernel,
        constants: { ...commonStepConstants(s, wg, bt, masked), ...constants },
        lengths,
        grid: [Math.ceil(invocations / wg), D, 1],
      };
    };
    const quad = directQuadApplies(s, bt, subgroups);
    const step = [direct(cellKernel(s.cell, quad ? 'direct_quad' : 'direct'), H, cellConstants(s, false))];
    if (twoPhase) step.unshift(direct(quad ? cell.firstPhase!.directQuad : cell.firstPhase!.direct, H, cellConstants(s, false)));
    if (s.projected) step.push(direct('lstm_projection_direct', Hout, {}));
    return { inputProj, step };
  }
  const bt = batchTile(batch);
  const rowBlocks = Math.ceil(batch / bt);
  const tiled = (kernel: KernelName, units: number, extra: Constants): KernelCall => {
    const wg = stepWorkgroupSize(units, maxInvocations);
    return {
      kernel,
      constants: { ...commonStepConstants(s, wg, bt, masked), ...extra },
      lengths,
      grid: [Math.ceil(units / wg), D, rowBlocks],
    };
  };
  const step = [tiled(cellKernel(s.cell, 'step'), H, cellConstants(s, false))];
  if (twoPhase) step.unshift(tiled(cell.firstPhase!.tiled, H, {}));
  if (s.projected) step.push(tiled('lstm_projection', Hout, {}));
  return { inputProj, step };
}

/** Whether a planned layer fits the device's grid limit (maxComputeWorkgroupsPerDimension). */
export function planFits(plan: LayerPlan, maxWorkgroups: number): boolean {
  return [plan.inputProj, ...plan.step, ...(plan.sequence ? [plan.sequence] : [])].every((c) => c.grid.every((g) => g <= maxWorkgroups));
}

/**
 * Dispatches a run (one segment of one) issues with these per-layer choices: per layer one input
 * projection plus the step kernels of every timestep, or the sequence kernel's chunks.
 */
export function dispatchCount(s: ResolvedSpec, seqLen: number, batch: number, choices: LayerChoice[], caps: PlanCaps): number {
  let n = 0;
  for (let l = 0; l < s.numLayers; l++) {
    const p = planLayer(s, { layer: l, seqLen, batch, masked: false, choice: choices[l] }, caps);
    n += 1 + (p.sequence ? sequenceChunks(seqLen) : seqLen * p.step.length);
  }
  return n;
}

/** A layer's calls in recording order: the projection, then the sequence or step kernels. */
export function layerCalls(plan: LayerPlan): KernelCall[] {
  return [plan.inputProj, ...(plan.sequence ? [plan.sequence] : plan.step)];
}

/**
 * Where a layer's final h is: per-step kernels leave it in h[T & 1]; a sequence kernel's chunk k
 * reads h[k & 1] and writes the other, so its n chunks leave it in h[n & 1].
 */
export function finalState(plan: LayerPlan, T: number): 0 | 1 {
  return ((plan.sequence ? sequenceChunks(T) : T) & 1) as 0 | 1;
}
