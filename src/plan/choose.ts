// Which kernels a run uses: a tune() trial, the tuning table, forced options, else the defaults per
// adapter kind. Pure: no GPU calls.
import type { AdapterKind, DeviceCaps, Emulator } from '../gpu/adapter.js';
import type { ResolvedSpec } from '../model/types.js';
import { planFits, planLayer } from './layer.js';
import { forcedGridError } from './limits.js';
import { describeChoices, lookupTuning, type TuningTable } from './tuning.js';
import { persistentUnsupported, type LayerChoice, type ProjectionVariant, type StepVariant } from './variants.js';

/** The shortest run for which lavapipe's default is the persistent kernel (see defaultChoice). */
export const LAVAPIPE_PERSISTENT_MIN_STEPS = 8;

/**
 * The default kernels of a layer when nothing is forced or tuned (createRnn's `tune` measures
 * instead). The rules come from these measurements (2026-11-30, 2 vCPUs; README "Benchmark"):
 * - emulated adapters: the barrier-free 'direct' step and 'gemv' projection (lavapipe: below), since a
 *   barrier costs more there than the reuse it buys. Node + SwiftShader, realistic shapes, median
 *   ms of direct+gemv vs the next best variant: Silero-like LSTM 128 ×8 calls 4.1 (subgroup 5.5),
 *   RNNoise GRU 96 T=100 23 (subgroup 34, persistent 48), NSNet2 GRU 2×400 T=10 65 (subgroup 84),
 *   BiLSTM 256 T=100 214 (subgroup 313, persistent 326), LSTM 20 T=20 B=128 19.6 (persistent 31),
 *   char-RNN LSTM 2×512 ×8 calls 74 (subgroup 116). Per kernel (timestamp queries) the tiled GEMM
 *   took 117 ms where gemv took 6 (LSTM 20, 2560 rows).
 * - lavapipe, except for short runs: the persistent kernel wherever it applies (h <= 256, no
 *   projection), since a dispatch costs about 33 µs there (GRU 16 direct: 20,001 dispatches in
 *   659 ms), more than the persistent kernel's serial steps. Node + lavapipe (2026-12-07, 2 vCPUs),
 *   median ms, persistent vs direct (and the best other): GRU 16 B=1 T=100 1.7 vs 11.2, T=1k 6.1 vs
 *   98, T=10k 56 vs 659; LSTM 64 B=2 T=100 5.1 vs 17.7 (tiled 7.9), T=1k 41 vs 83, T=10k 405 vs 887;
 *   BiLSTM 128 T=100 22.3 vs 55.2 (tiled 22.1), T=1k 205 vs 273, T=10k 1674 vs 1845; BiLSTM 256
 *   T=100 162 vs 206; LSTM 20 B=128 T=20 23 vs 34; GRU 96 T=100 36 vs 40. Below
 *   LAVAPIPE_PERSISTENT_MIN_STEPS the direct step's parallel units win (LSTM 128 T=2: 3.0 vs 6.0).
 *   On Node + SwiftShader the same shapes keep 'direct' fastest or within 1.35× of the fastest at
 *   every T measured (GRU 16 T=1k: direct 40.5, persistent 31.6; LSTM 64 T=10k: 1695 vs 2609): its
 *   dispatches cost about half of lavapipe's and its barriers more. The tiled step wins lavapipe's
 *   char-RNN (19.5 vs 23 ms, h = 512): tuning finds that.
 * - real GPUs (not measured from here yet): the persistent kernel for h <= 128 over more than one
 *   step (it saves T − 1 dispatches of 24–71 µs each: measured WebGPU overhead per dispatch, 24–36 µs on Vulkan and
 *   32–71 µs on Metal, anchors.md §2.4), else 'direct', which keeps
 *   one invocation per (row, unit) busy; the tiled GEMM for more than 16 rows.
 */
export function defaultChoice(s: ResolvedSpec, seqLen: number, batch: number, kind: AdapterKind, emulator?: Emulator): LayerChoice {
  if (kind === 'emulated') {
    // lavapipe: a dispatch per step costs more than the persistent kernel's serial steps (below).
    const persistent = emulator === 'lavapipe' && seqLen >= LAVAPIPE_PERSISTENT_MIN_STEPS && persistentUnsupported(s) === undefined;
    return { step: persistent ? 'persistent' : 'direct', projection: 'gemv' };
  }
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

/** Where a model's kernel choices come from, in order of precedence (RnnModel's state). */
export interface ChoiceSources {
  /** The choices tune() is measuring, which every run uses meanwhile. */
  trial?: { layers: LayerChoice[]; stack: boolean };
  /** The tuning table (measured, or passed to createRnn). */
  table?: TuningTable;
  /** createRnn's stepKernels, forced on every layer. */
  forced?: StepVariant;
  /** createRnn's stepKernels 'stack'. */
  forcedStack: boolean;
  /** createRnn's projection, forced on every layer. */
  forcedProjection?: ProjectionVariant;
  /** Whether the model has the stack kernel's weights (it can run it and nothing forced per-layer kernels). */
  hasStack: boolean;
}

/**
 * The kernels each layer runs for (seqLen, batch): a tune() trial, the tuning table, the forced
 * options, else the defaults for the adapter. A choice whose grid exceeds the device's
 * workgroup-count limit falls back to one that fits (the tiled kernels' grids are the smallest).
 */
export function chooseLayers(s: ResolvedSpec, seqLen: number, batch: number, o: ChoiceSources, caps: DeviceCaps): LayerChoice[] {
  if (o.trial) return o.trial.layers;
  const fits = (l: number, choice: LayerChoice) =>
    planFits(planLayer(s, { layer: l, seqLen, batch, masked: false, choice }, caps), caps.maxWorkgroups);
  // A tuned entry of the nearest length may not fit a much longer run's grid: then the defaults.
  const tuned = lookupTuning(o.table, seqLen, batch);
  if (tuned?.layers.every((c, l) => fits(l, c))) return tuned.layers;
  return Array.from({ length: s.numLayers }, (_, l) => {
    const c = o.forced ? forcedChoice(s, o.forced, seqLen, batch, caps.kind) : defaultChoice(s, seqLen, batch, caps.kind, caps.emulator);
    const choice = { ...c, projection: o.forcedProjection ?? c.projection };
    if (fits(l, choice)) return choice;
    const fallback: LayerChoice = { step: o.forced ?? 'tiled', projection: o.forcedProjection ?? 'gemm' };
    if (!fits(l, fallback)) throw forcedGridError(seqLen, batch, describeChoices([fallback]), caps);
    return fallback;
  });
}

/**
 * Whether runs and stream steps of (seqLen, batch) run the whole stack in the fused stack kernel:
 * never where the model has no stack weights; else a tune() trial, stepKernels 'stack', the tuning
 * table, or the default for the adapter (defaultStack).
 */
export function chooseStack(seqLen: number, batch: number, o: ChoiceSources, caps: Pick<DeviceCaps, 'kind'>): boolean {
  if (!o.hasStack) return false;
  if (o.trial) return o.trial.stack;
  if (o.forcedStack) return true;
  const tuned = lookupTuning(o.table, seqLen, batch);
  if (tuned) return tuned.stack === true;
  return defaultStack(caps.kind);
}
