// The tune loop (rnn.tune()): for each shape, every candidate's pipelines compiled in parallel, then
// the coordinate-descent search of plan/tuning.ts over timed runs, then the fused stack kernel
// against the best per-layer choice. What it measures is a whole run(): upload, dispatches,
// readback, as the app will see it.
import type { DeviceCaps } from '../gpu/adapter.js';
import { pipeline } from '../kernels/pipelines.js';
import type { Precision, ResolvedSpec } from '../model/types.js';
import { layerCalls, planFits, planLayer } from '../plan/layer.js';
import { planStack } from '../plan/stack.js';
import { candidates, describeChoices, searchChoices, type TuneReport, type TuningEntry } from '../plan/tuning.js';
import type { LayerChoice } from '../plan/variants.js';

/** What tuning needs of the model. */
export interface TuneTarget {
  readonly spec: ResolvedSpec;
  readonly device: GPUDevice;
  readonly caps: DeviceCaps;
  readonly precision: Precision;
  /** Whether the model can run the fused stack kernel. */
  readonly hasStack: boolean;
  /** Makes every run use these choices until called with undefined. */
  setTrial(trial: { layers: LayerChoice[]; stack: boolean } | undefined): void;
  /** The choices runs of (seqLen, batch) would use now: where the search starts. */
  choices(seqLen: number, batch: number): LayerChoice[];
  run(x: Float32Array, options: { seqLen: number; batch: number }): Promise<unknown>;
  /** Keeps a measured entry in the model's tuning table (replacing one of the same shape). */
  keep(entry: TuningEntry): void;
}

/** Tunes each shape in turn (validated: positive seqLen and batch). */
export async function tuneShapes(m: TuneTarget, shapes: { seqLen: number; batch: number }[]): Promise<TuneReport> {
  const started = performance.now();
  const report: TuneReport = { entries: [], trials: [], tookMs: 0 };
  const s = m.spec;
  for (const shape of shapes) {
    const { seqLen: T, batch: B } = shape;
    const layerPlan = (l: number, choice: LayerChoice) => planLayer(s, { layer: l, seqLen: T, batch: B, masked: false, choice }, m.caps);
    const layers = Array.from({ length: s.numLayers }, (_, l) => l);
    const fits = (c: LayerChoice) => layers.every((l) => planFits(layerPlan(l, c), m.caps.maxWorkgroups));
    const options = candidates(s, B, m.caps).filter(fits);
    // Every candidate's pipelines compile in parallel before anything is timed.
    const stack = m.hasStack ? planStack(s, { batch: B, masked: false }, m.caps) : undefined;
    const calls = [...options.flatMap((c) => layers.flatMap((l) => layerCalls(layerPlan(l, c)))), ...(stack ? [stack] : [])];
    await Promise.all(calls.map((call) => pipeline(m.device, call.kernel, call.constants, call.lengths, m.precision)));
    const x = new Float32Array(T * B * s.inputSize).map((_, i) => Math.sin(i));
    const once = async () => {
      const t0 = performance.now();
      await m.run(x, { seqLen: T, batch: B });
      return performance.now() - t0;
    };
    const measure = async (choices: LayerChoice[], bestMs: number, useStack = false) => {
      m.setTrial({ layers: choices, stack: useStack });
      try {
        await once(); // drivers that compile on first use (lavapipe, SwiftShader) do it here
        const first = await once();
        if (first > 1.5 * bestMs) return first; // clearly behind: one run says enough
        const runs = [first, await once(), await once()].sort((a, b) => a - b);
        return runs[1];
      } finally {
        m.setTrial(undefined);
      }
    };
    const best = await searchChoices(m.choices(T, B), options, measure, (choices, ms) =>
      report.trials.push({ shape, layers: describeChoices(choices), medianMs: ms }),
    );
    const entry: TuningEntry = { seqLen: T, batch: B, layers: best.layers, medianMs: best.medianMs };
    // Then the whole stack fused, against the best per-layer choice.
    if (stack) {
      const ms = await measure(best.layers, best.medianMs, true);
      report.trials.push({ shape, layers: 'stack', medianMs: ms });
      if (ms < best.medianMs) Object.assign(entry, { stack: true, medianMs: ms });
    }
    m.keep(entry);
    report.entries.push(entry);
  }
  report.tookMs = performance.now() - started;
  return report;
}
