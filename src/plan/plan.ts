// What to dispatch, without touching the GPU: kernels, their override constants and grids, the
// strides of each layer's input and output, and the sizes of the buffers a run needs.
// rnn.ts executes this plan; test/plan.test.ts checks it without a GPU.
import { CELLS } from '../model/cells.js';
import { type ArrayLengths, cellKernel, type Constants, type KernelName } from '../kernels/kernels.js';
import { paddedColumns } from '../model/pack.js';
import { layerInputSize, type ResolvedSpec } from '../model/spec.js';

export interface KernelCall {
  kernel: KernelName;
  constants: Constants;
  /** Scalars in the storage arrays the kernel sizes by a generated const (kernels.ts). */
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

/** The resident h of the persistent kernel holds K_TILE (cell_step.wgsl) floats per row. */
export const PERSISTENT_MAX_OUT = 256;

/** Why the persistent kernel cannot run this spec, or undefined when it can. */
export function persistentUnsupported(s: ResolvedSpec): string | undefined {
  if (s.projected) return 'LSTM projection is not implemented in the persistent kernel yet';
  if (s.outputSize > PERSISTENT_MAX_OUT)
    return `hidden size ${s.outputSize} exceeds ${PERSISTENT_MAX_OUT}, the h a workgroup keeps resident`;
  return undefined;
}

/** Why `variant` cannot run this spec (on a device with `features`), or undefined when it can. */
export function variantUnsupported(s: ResolvedSpec, variant: StepVariant, features?: ReadonlySet<string>): string | undefined {
  if (variant === 'persistent') return persistentUnsupported(s);
  if (variant === 'subgroup' && features && !features.has('subgroups')) {
    return "the device lacks the 'subgroups' feature (requestDevice() asks for it where the adapter has it; pass requiredFeatures: ['subgroups'] to your own requestDevice)";
  }
  if (variant === 'rows' && s.projected) return 'LSTM projection is not implemented in the rows kernel yet';
  return undefined;
}

/**
 * What the adapter is, for the defaults: 'emulated' (a CPU implementation of WebGPU: SwiftShader,
 * lavapipe/llvmpipe, WARP), where every workgroup barrier is a switch between invocations and a
 * dispatch costs little next to compute; 'gpu' otherwise.
 */
export type AdapterKind = 'emulated' | 'gpu';

/**
 * The default kernels of a layer when nothing is forced or tuned (createRnn's `tune` measures
 * instead). The rules come from these measurements (2026-11-30, 2 vCPUs; README "Benchmark"):
 * - emulated adapters: the barrier-free 'direct' step and 'gemv' projection everywhere, since a
 *   barrier costs more there than the reuse it buys. Node + SwiftShader, realistic shapes, median
 *   ms of direct+gemv vs the next best variant: Silero-like LSTM 128 ×8 calls 4.1 (subgroup 5.5),
 *   RNNoise GRU 96 T=100 23 (subgroup 34, persistent 48), NSNet2 GRU 2×400 T=10 65 (subgroup 84),
 *   BiLSTM 256 T=100 214 (subgroup 313, persistent 326), LSTM 20 T=20 B=128 19.6 (persistent 31),
 *   char-RNN LSTM 2×512 ×8 calls 74 (subgroup 116). Per kernel (timestamp queries) the tiled GEMM
 *   took 117 ms where gemv took 6 (LSTM 20, 2560 rows). On lavapipe the persistent kernel wins
 *   RNNoise (5.8 vs 10.3 ms) and the tiled step the char-RNN (19.5 vs 23 ms): tuning finds those.
 * - real GPUs (not measured from here yet): the persistent kernel for h <= 128 over more than one
 *   step (it saves T − 1 dispatches of 24–71 µs each: measured WebGPU overhead per dispatch, 24–36 µs on Vulkan and
 *   32–71 µs on Metal, anchors.md §2.4), else 'direct', which keeps
 *   one invocation per (row, unit) busy; the tiled GEMM for more than 16 rows.
 */
export function defaultChoice(s: ResolvedSpec, seqLen: number, batch: number, kind: AdapterKind): LayerChoice {
  if (kind === 'emulated') return { step: 'direct', projection: 'gemv' };
  const persistent = seqLen > 1 && s.outputSize <= 128 && persistentUnsupported(s) === undefined;
  return { step: persistent ? 'persistent' : 'direct', projection: seqLen * batch <= 16 ? 'gemv' : 'gemm' };
}

/**
 * Whether runs and stream steps run the whole stack in the fused stack kernel by default (where
 * it applies: stackUnsupported). On GPUs yes: it replaces L·(1 + T) dispatches of 24–71 µs each
 * (the measured WebGPU overhead per dispatch on Vulkan and Metal, anchors.md §2.4) by one, and
 * one workgroup per block of rows is what the persistent kernel
 * already does for h <= 128 (not measured on a GPU from here yet). On emulated adapters no: one
 * workgroup runs on one CPU thread and pays for every barrier. Stream steps, B = 1, median ms
 * per step, stack vs per-layer direct (2026-12-01, 2 vCPUs): Node + SwiftShader 1.4 vs 0.55
 * (LSTM 128), 1.6 vs 0.74 (GRU 96 ×2), 1.9 vs 0.87 (LSTM 128 ×2), 3.0 vs 1.0 (LSTM 256); on
 * lavapipe the stack wins the 2-layer stacks (0.29 vs 0.47, 0.36 vs 0.43) and loses the single
 * layers (0.33 vs 0.27, 0.44 vs 0.37): tuning finds those.
 */
export function defaultStack(kind: AdapterKind): boolean {
  return kind === 'gpu';
}

/** The choice for a forced step variant: the projection follows the default for the adapter. */
export function forcedChoice(s: ResolvedSpec, variant: StepVariant, seqLen: number, batch: number, kind: AdapterKind): LayerChoice {
  return { step: variant, projection: defaultChoice(s, seqLen, batch, kind).projection };
}

/** Batch rows per tiled step workgroup (the BT override): each recurrent weight read then serves BT rows. */
export function batchTile(batch: number): number {
  return batch >= 3 ? 4 : batch;
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

/** Gate blocks of layer `layer`'s input projection: the cell's gates, plus the depth gate above the first layer of a Depth-Gated LSTM. */
export function projectionGates(s: ResolvedSpec, layer: number): number {
  return CELLS[s.cell].projectionGates?.(s, layer) ?? s.gates;
}

/**
 * Scalars (weights, or f32s) in layer `layer`'s storage arrays that the kernels size by a generated
 * const (kernels.ts `ArrayLengths`): the weights and the recurrent vectors (h_prev; the GRU's
 * r ⊙ h in gate_tmp; the LSTM projection's m), read once per multiply-add. The workspace binds
 * buffers of exactly these sizes (workspace.ts resources).
 */
export function arrayLengths(s: ResolvedSpec, layer: number, batch: number): ArrayLengths {
  const { directions: D, hiddenSize: H, outputSize: Hout } = s;
  const rows = lengthRows(batch);
  return {
    w_t: layerInputSize(s, layer) * paddedColumns(D * projectionGates(s, layer) * H),
    r_t: D * Hout * H * CELLS[s.cell].recurrentLanes,
    wr_t: D * H * Hout,
    h_prev: D * rows * Hout,
    gate_tmp: D * rows * 2 * H,
    m: D * rows * H,
  };
}

/**
 * The batch rows the length-sized state arrays are declared for: the batch rounded up to a power of
 * two, so that runs of batch sizes in one such class share their pipelines (a batch size is not an
 * override, and each new length compiles the step kernels anew). The workspace allocates its state
 * buffers for as many rows.
 */
export function lengthRows(batch: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, batch)));
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
function cellConstants(s: ResolvedSpec, twoPhase: boolean): Constants {
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

export function planLayer(
  s: ResolvedSpec,
  layer: number,
  seqLen: number,
  batch: number,
  maxInvocations: number,
  masked: boolean,
  choice: LayerChoice,
  subgroups = false,
): LayerPlan {
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
    const bt = batch === 1 ? 1 : 4;
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

/** The fused stack kernel keeps LAYERS · BT · H floats of h per workgroup (HS_MAX in stack_step.wgsl). */
export const STACK_RESIDENT_FLOATS = 2048;
/** The largest hidden size of the stack kernel: one invocation per unit, and BT · H <= 1024 (rh in stack_step.wgsl). */
export const STACK_MAX_HIDDEN = 256;

/** Invocations per stack workgroup: one per hidden unit, rounded up to 32. */
function stackWorkgroup(H: number): number {
  return Math.max(32, Math.ceil(H / 32) * 32);
}

/** Why the fused stack kernel (stack_step.wgsl) cannot run this model, or undefined when it can. */
export function stackUnsupported(s: ResolvedSpec, maxInvocations: number): string | undefined {
  const cell = CELLS[s.cell].stack(s);
  if ('unsupported' in cell) return cell.unsupported;
  if (s.directions !== 1) return 'it runs unidirectional models only';
  if (s.projected) return 'LSTM projection is not implemented in the stack kernel';
  if (s.hiddenSize > STACK_MAX_HIDDEN) return `hidden size ${s.hiddenSize} exceeds ${STACK_MAX_HIDDEN}, one invocation per unit`;
  if (stackWorkgroup(s.hiddenSize) > maxInvocations)
    return `a workgroup of ${stackWorkgroup(s.hiddenSize)} invocations exceeds the device's maxComputeInvocationsPerWorkgroup (${maxInvocations})`;
  if (s.numLayers * s.hiddenSize > STACK_RESIDENT_FLOATS) {
    return `${s.numLayers} layers of ${s.hiddenSize} units exceed the ${STACK_RESIDENT_FLOATS} floats of h a workgroup keeps resident`;
  }
  return undefined;
}

/**
 * The fused stack kernel for `batch` rows: one dispatch runs every layer (input projection, mat-vec,
 * cell) of every step of the call. One workgroup per block of BT batch rows, one invocation per unit.
 */
export function planStack(s: ResolvedSpec, batch: number, maxInvocations: number, masked: boolean): KernelCall {
  const why = stackUnsupported(s, maxInvocations);
  if (why) throw new Error(`internal: the stack kernel was planned for a model it cannot run (${why})`);
  const { hiddenSize: H, numLayers: L } = s;
  const bt = Math.min(batchTile(batch), Math.floor(STACK_RESIDENT_FLOATS / (L * H)));
  const stack = CELLS[s.cell].stack(s);
  // The cell's constants without the per-layer kernels' own (PROJECTED, TWO_PHASE, DEPTH_GATED).
  const { PROJECTED: _p, TWO_PHASE: _t, DEPTH_GATED: _d, ...cellOptions } = cellConstants(s, false);
  const constants: Constants = {
    ...commonStepConstants(s, stackWorkgroup(H), bt, masked),
    CELL: 'code' in stack ? stack.code : -1,
    LAYERS: L,
    INPUT: s.inputSize,
    BATCH_MAJOR: s.batchMajor,
    ...cellOptions,
  };
  // stack_step.wgsl sizes no array by a generated length.
  return { kernel: 'stack_step', constants, lengths: {}, grid: [Math.ceil(batch / bt), 1, 1] };
}

/** Whether a planned layer fits the device's grid limit (maxComputeWorkgroupsPerDimension). */
export function planFits(plan: LayerPlan, maxWorkgroups: number): boolean {
  return [plan.inputProj, ...plan.step, ...(plan.sequence ? [plan.sequence] : [])].every((c) => c.grid.every((g) => g <= maxWorkgroups));
}

/** Element strides (t, b, d) of a layer's sequence output; the last layer writes the public Y layout. */
export function outputStrides(s: ResolvedSpec, layer: number, seqLen: number, batch: number): { t: number; b: number; d: number } {
  const { outputSize: Hout, directions: D } = s;
  if (layer < s.numLayers - 1) return { t: batch * D * Hout, b: D * Hout, d: Hout }; // [T, B, D, Hout]: next layer's input
  if (s.batchMajor) return { t: D * Hout, b: seqLen * D * Hout, d: Hout }; // [B, T, D, Hout]
  return { t: D * batch * Hout, b: Hout, d: batch * Hout }; // [T, D, B, Hout] (ONNX)
}

/** Element strides (t, b) of a layer's input rows. */
export function inputStrides(s: ResolvedSpec, layer: number, seqLen: number, batch: number): { t: number; b: number } {
  const width = layerInputSize(s, layer);
  if (layer > 0) return { t: batch * width, b: width };
  return s.batchMajor ? { t: width, b: seqLen * width } : { t: batch * width, b: width };
}

/** Float counts of the buffers a run of (seqLen, batch) needs. */
export function runSizes(s: ResolvedSpec, seqLen: number, batch: number) {
  const { hiddenSize: H, outputSize: Hout, directions: D, numLayers: L } = s;
  const G = Math.max(...Array.from({ length: L }, (_, l) => projectionGates(s, l)));
  return {
    x: seqLen * batch * s.inputSize,
    xproj: seqLen * batch * D * G * H,
    /** One layer's sequence output ([T, B, D·Hout] or the final Y). */
    sequence: seqLen * batch * D * Hout,
    h: D * batch * Hout,
    c: D * batch * H,
    /** Every layer's c state [L, D, B, H], then (Depth-Gated LSTM) two c sequences [T, B, D, H] for the layer above. */
    cAll: L * D * batch * H + (s.depthGated ? 2 * seqLen * batch * D * H : 0),
    /** GRU gate_tmp [D, B, 2, H] or the LSTM projection's m [D, B, H]. */
    scratch: D * batch * 2 * H,
  };
}

/** Dispatches a run issues with these per-layer choices: per layer one input projection plus the step kernels of every timestep. */
export function dispatchCount(s: ResolvedSpec, seqLen: number, batch: number, choices: LayerChoice[]): number {
  let n = 0;
  for (let l = 0; l < s.numLayers; l++) {
    const p = planLayer(s, l, seqLen, batch, 256, false, choices[l]);
    n += 1 + (p.sequence ? 1 : seqLen * p.step.length);
  }
  return n;
}

/** A layer's calls in recording order: the projection, then the sequence or step kernels. */
export function layerCalls(plan: LayerPlan): KernelCall[] {
  return [plan.inputProj, ...(plan.sequence ? [plan.sequence] : plan.step)];
}

/** Where a layer's final h is: per-step kernels leave it in h[T & 1], the sequence kernels write h[1]. */
export function finalState(plan: LayerPlan, T: number): 0 | 1 {
  return plan.sequence ? 1 : ((T & 1) as 0 | 1);
}
