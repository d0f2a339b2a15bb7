// Which kernels a run uses: a tune() trial, the tuning table, forced options, else the defaults per
// adapter kind. Pure: no GPU calls.
import type { AdapterKind, DeviceCaps } from '../gpu/adapter.js';
import type { ResolvedSpec } from '../model/types.js';
import { recurrenceMicros } from './cost.js';
import { planFits, planLayer } from './layer.js';
import { forcedGridError } from './limits.js';
import { describeChoices, lookupTuning, type TuningTable } from './tuning.js';
import { persistentUnsupported, variantUnsupported, type LayerChoice, type ProjectionVariant, type StepVariant } from './variants.js';

/** What the defaults need of a device. */
export type DefaultCaps = Pick<DeviceCaps, 'kind' | 'emulator' | 'threads' | 'maxInvocations' | 'subgroups'>;

/**
 * The default kernels of a layer when nothing is forced or tuned (createRnn's `tune` measures
 * instead). The rules come from these measurements (README "Benchmark" and "Defaults by sequence
 * length"):
 * - emulated adapters: the 'gemv' projection, and the step by the cost model (plan/cost.ts), which
 *   weighs the dispatches a plan needs against the serial work of the sequence kernels: 'direct'
 *   (one barrier-free dispatch per step), 'persistent' or 'rows' (one per 1024 steps) where they
 *   apply. On lavapipe the rows kernel wins the tiniest layers (GRU 16: 3.7 vs 5.4 µs per step).
 *   lavapipe's dispatches cost several times SwiftShader's relative to its arithmetic, so there the
 *   persistent kernel wins all but large layers over few steps (LSTM 128 over 2 steps: direct 3.0
 *   vs persistent 6.0 ms), while on SwiftShader it wins only small ones (GRU 16: 22 vs 78 µs per
 *   step; LSTM 64 at B = 2 loses, 281 vs 144). Earlier measurements the model reproduces, Node +
 *   SwiftShader (2026-11-30), median ms of direct+gemv vs the next best variant: Silero-like LSTM
 *   128 ×8 calls 4.1 (subgroup 5.5), RNNoise GRU 96 T=100 23 (subgroup 34, persistent 48), NSNet2
 *   GRU 2×400 T=10 65 (subgroup 84), BiLSTM 256 T=100 214 (subgroup 313, persistent 326), LSTM 20
 *   T=20 B=128 19.6 (persistent 31); per kernel (timestamp queries) the tiled GEMM took 117 ms
 *   where gemv took 6 (LSTM 20, 2560 rows): a barrier costs more there than the reuse it buys.
 * - real GPUs (not measured from here yet): the persistent kernel for h <= 128 over more than one
 *   step (it saves T − 1 dispatches of 24–71 µs each: measured WebGPU overhead per dispatch,
 *   24–36 µs on Vulkan and 32–71 µs on Metal, anchors.md §2.4), else 'direct', which keeps one
 *   invocation per (row, unit) busy; the tiled GEMM for more than 16 rows.
 */
export function defaultChoice(s: ResolvedSpec, seqLen: number, batch: number, caps: DefaultCaps): LayerChoice {
  const applies = persistentUnsupported(s) === undefined;
  if (caps.kind === 'emulated') {
    const direct = planLayer(s, { layer: 0, seqLen, batch, masked: false, choice: { step: 'direct', projection: 'gemv' } }, caps);
    let best: [StepVariant, number] = ['direct', recurrenceMicros(s, 'direct', seqLen, batch, direct.step.length, caps)];
    for (const step of ['persistent', 'rows'] as const) {
      if (variantUnsupported(s, step) !== undefined) continue;
      const micros = recurrenceMicros(s, step, seqLen, batch, 1, caps);
      if (micros < best[1]) best = [step, micros];
    }
    return { step: best[0], projection: 'gemv' };
  }
  const persistent = seqLen > 1 && s.outputSize <= 128 && applies;
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
export function forcedChoice(s: ResolvedSpec, variant: StepVariant, seqLen: number, batch: number, caps: DefaultCaps): LayerChoice {
  return { step: variant, projection: defaultChoice(s, seqLen, batch, caps).projection };
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
    const c = o.forced ? forcedChoice(s, o.forced, seqLen, batch, caps) : defaultChoice(s, seqLen, batch, caps);
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
