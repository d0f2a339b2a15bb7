// Runs every engine on every shape with identical weights and inputs: warm-up (excluded), one counted
// run (dispatches), one run with timestamp queries (GPU time), then >= 5 timed runs, each from
// Float32Array inputs to Float32Array outputs read back inside the timed region. Each engine's last
// output is compared with the float64 reference (common/reference.ts). An engine that does not apply
// to a shape (Engine.unsupported, or prepare() throwing NotApplicable) is n/a with its reason; any
// other exception while building or running is a failure: status 'error' with the message.
import type { LayerWeights } from '../../src/index.js';
import { referenceRnn } from '../../common/reference.js';
import { randomWeights, rng, uniform } from '../../common/random.js';
import { gflops, multiplyAdds } from './flops.js';
import { countDuring, gpuTimeDuring } from './instrument.js';
import { describeShape, MIN_TIMED_RUNS, specOf, stepsPerRun, type BenchConfig, type BenchShape } from './shapes.js';
import { NotApplicable, type Engine, type Outputs, type Prepared } from './types.js';

/**
 * Agreement with the float64 reference: |engine − ref| <= ATOL + RTOL·|ref| for every element. The
 * library's own f32 tolerance (test/support/close.ts, the sweep and conformance tests), which every
 * f32 engine meets on the benchmark shapes; engines that compute in a lower precision state their
 * own (Engine.tolerance: webgpu-rnn with f16 weights).
 */
export const TOLERANCE = { atol: 1e-5, rtol: 1e-4 };

export interface EngineResult {
  engine: string;
  label: string;
  /** 'ok': timed; 'n/a': the engine does not apply (reason says why); 'error': it threw (reason has the message). */
  status: 'ok' | 'n/a' | 'error';
  reason?: string;
  prepareMs?: number;
  firstRunMs?: number;
  runsMs?: number[];
  medianMs?: number;
  minMs?: number;
  maxMs?: number;
  q1Ms?: number;
  q3Ms?: number;
  perStepMs?: number;
  /** Achieved GFLOP/s at the median time: 2 · ShapeResult.multiplyAdds / median. */
  gflops?: number;
  dispatches?: number;
  submits?: number;
  computePasses?: number;
  /** For webgpu-rnn: the count its plan predicts per run (Prepared.expectedDispatches, from rnn.kernels()). */
  expectedDispatches?: number;
  /** Sum of the compute-pass durations of one run from timestamp queries, or why there is none. */
  gpuMs?: number | string;
  maxAbsDiff?: number;
  /** Elements outside the tolerance. */
  mismatches?: number;
  agrees?: boolean;
  placement?: string;
  notes?: string[];
}

export interface ShapeResult {
  shape: BenchShape;
  description: string;
  stepsPerRun: number;
  /** Multiply-adds of one timed run (flops.ts): the napkin math behind EngineResult.gflops. */
  multiplyAdds: number;
  referenceMs: number;
  results: EngineResult[];
}

export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function compareOutputs(
  got: Outputs,
  ref: { Y: Float64Array; Y_h: Float64Array; Y_c?: Float64Array },
  tol = TOLERANCE,
): { maxAbs: number; mismatches: number; compared: string[] } {
  let maxAbs = 0;
  let mismatches = 0;
  const compared: string[] = [];
  const cmp = (name: string, a: Float32Array | undefined, e: Float64Array | undefined) => {
    if (!a || !e) return;
    if (a.length !== e.length) throw new Error(`${name}: ${a.length} values, the reference has ${e.length}`);
    compared.push(name);
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - e[i]);
      if (!(d <= tol.atol + tol.rtol * Math.abs(e[i]))) mismatches++;
      if (!(d <= maxAbs)) maxAbs = d;
    }
  };
  cmp('Y', got.Y, ref.Y);
  cmp('Y_h', got.Y_h, ref.Y_h);
  cmp('Y_c', got.Y_c, ref.Y_c);
  return { maxAbs, mismatches, compared };
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

export interface RunHooks {
  log(msg: string): void;
  onResult?(shape: ShapeResult): void;
}

export async function benchShape(shape: BenchShape, engines: Engine[], cfg: BenchConfig, hooks: RunHooks): Promise<ShapeResult> {
  const spec = specOf(shape);
  const steps = stepsPerRun(shape);
  const B = shape.batch;
  const weights: LayerWeights[] = randomWeights(spec, 1234);
  const x = uniform(rng(99), steps * B * shape.inputSize);
  hooks.log(`${shape.label}: float64 reference…`);
  await tick();
  let t0 = performance.now();
  const ref = referenceRnn(spec, weights, x, { seqLen: steps, batch: B });
  const referenceMs = performance.now() - t0;
  const out: ShapeResult = {
    shape,
    description: describeShape(shape),
    stepsPerRun: steps,
    multiplyAdds: multiplyAdds(shape),
    referenceMs,
    results: [],
  };
  for (const engine of engines) {
    const r: EngineResult = { engine: engine.id, label: engine.label, status: 'n/a' };
    out.results.push(r);
    const why = engine.unsupported(shape);
    if (why) {
      r.reason = why;
      hooks.log(`${shape.label} · ${engine.id}: n/a (${why})`);
      continue;
    }
    hooks.log(`${shape.label} · ${engine.id}: building…`);
    await tick();
    let prepared: Prepared;
    try {
      t0 = performance.now();
      prepared = await engine.prepare(shape, weights, x);
      r.prepareMs = performance.now() - t0;
    } catch (e) {
      if (e instanceof NotApplicable) r.reason = e.message;
      else Object.assign(r, { status: 'error', reason: `failed to build: ${(e as Error)?.message ?? String(e)}` });
      hooks.log(`${shape.label} · ${engine.id}: ${r.status} (${r.reason})`);
      continue;
    }
    try {
      r.placement = prepared.placement;
      r.notes = prepared.notes;
      t0 = performance.now();
      let last = await prepared.run();
      r.firstRunMs = performance.now() - t0;
      if (cfg.maxFirstRunMs !== undefined && r.firstRunMs > cfg.maxFirstRunMs) {
        const c = compareOutputs(last, ref, engine.tolerance);
        Object.assign(r, { maxAbsDiff: c.maxAbs, mismatches: c.mismatches, agrees: c.mismatches === 0 });
        r.reason =
          `not timed: its first run took ${(r.firstRunMs / 1000).toFixed(1)} s, over this configuration's ` +
          `${cfg.maxFirstRunMs / 1000} s cap (max |diff| of that run ${c.maxAbs.toExponential(1)}); use --full to time it anyway`;
        hooks.log(`${shape.label} · ${engine.id}: n/a (${r.reason})`);
        continue;
      }
      // Slow engines (a run over 2 s) get no further warm-up: the first run already compiled everything.
      for (let i = 1; i < cfg.warmup && r.firstRunMs < 2000; i++) last = await prepared.run();
      if (engine.gpu) {
        // One untimed run both counts dispatches and measures GPU time with timestamp queries; fast engines
        // get two more timestamp runs and report the median.
        const gpu: number[] = [];
        const counted = await countDuring(() => gpuTimeDuring(prepared.device, () => prepared.run()));
        r.dispatches = counted.counts.dispatches;
        r.submits = counted.counts.submits;
        r.computePasses = counted.counts.passes;
        r.expectedDispatches = prepared.expectedDispatches;
        if (r.dispatches === 0) r.notes = [...(r.notes ?? []), 'no GPU dispatch was counted: the work ran on the CPU'];
        let gpuMs = counted.value.gpuMs;
        for (let k = 0; typeof gpuMs === 'number'; k++) {
          gpu.push(gpuMs);
          if (k >= 2 || r.firstRunMs >= 500) break;
          gpuMs = (await gpuTimeDuring(prepared.device, () => prepared.run())).gpuMs;
        }
        r.gpuMs = gpu.length
          ? quantile(
              gpu.sort((a, b) => a - b),
              0.5,
            )
          : gpuMs;
      }
      hooks.log(`${shape.label} · ${engine.id}: timing…`);
      await tick();
      const runs: number[] = [];
      const start = performance.now();
      while (runs.length < cfg.reps && (runs.length < MIN_TIMED_RUNS || performance.now() - start < cfg.budgetMs)) {
        t0 = performance.now();
        last = await prepared.run();
        runs.push(performance.now() - t0);
      }
      const sorted = [...runs].sort((a, b) => a - b);
      Object.assign(r, {
        status: 'ok',
        runsMs: runs,
        medianMs: quantile(sorted, 0.5),
        minMs: sorted[0],
        maxMs: sorted[sorted.length - 1],
        q1Ms: quantile(sorted, 0.25),
        q3Ms: quantile(sorted, 0.75),
        perStepMs: quantile(sorted, 0.5) / steps,
        gflops: gflops(out.multiplyAdds, quantile(sorted, 0.5)),
      });
      const c = compareOutputs(last, ref, engine.tolerance);
      r.maxAbsDiff = c.maxAbs;
      r.mismatches = c.mismatches;
      r.agrees = c.mismatches === 0;
      r.notes = [...(r.notes ?? []), `compared ${c.compared.join(', ')}`];
      hooks.log(
        `${shape.label} · ${engine.id}: median ${r.medianMs!.toFixed(3)} ms, ${r.gflops!.toPrecision(3)} GFLOP/s, max |diff| ${c.maxAbs.toExponential(2)}${r.agrees ? '' : ` (${c.mismatches} outside tolerance)`}`,
      );
    } catch (e) {
      Object.assign(r, { status: 'error', reason: `failed to run: ${(e as Error)?.message ?? String(e)}` });
      hooks.log(`${shape.label} · ${engine.id}: error (${r.reason})`);
    } finally {
      try {
        await prepared.dispose();
      } catch {
        /* ignore */
      }
    }
    hooks.onResult?.(out);
  }
  return out;
}
