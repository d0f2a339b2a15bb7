// Loads the BUILT package (dist/index.js, what npm publishes) and exposes globalThis.__dist for
// test/browser.test.ts: a correctness sweep and the ONNX conformance cases on the browser's WebGPU,
// each against the float64 reference (common/reference.ts).
import type { LayerWeights } from '../../src/index.js';
import { referenceRnn } from '../../common/reference.js';
import { caseInputs } from '../../common/random.js';
import { ATOL, RTOL, type CaseResult, type Comparison, type ConformanceCase, type DistApi, type SweepCase } from './protocol.js';

// The built package, typed by its source, so that `npm run typecheck` passes on a fresh clone before
// dist/ exists (Vite bundles the page after the build, when it does).
// biome-ignore lint/suspicious/noTsIgnore: dist/ exists after a build and not before, so neither directive form fits @ts-expect-error
// @ts-ignore: dist/ is absent until `npm run build`
import * as built from '../../dist/index.js';
const { createRnn, requestDevice } = built as typeof import('../../src/index.js');

declare global {
  // eslint-disable-next-line no-var
  var __dist: DistApi | undefined;
}

function compare(label: string, got: ArrayLike<number> | undefined, want: ArrayLike<number> | undefined): Comparison {
  if (!got || !want) return { label: `${label}: missing (${got ? 'expected' : 'output'})`, maxAbs: Infinity, failures: 1, count: 0 };
  if (got.length !== want.length)
    return { label: `${label}: length ${got.length} != ${want.length}`, maxAbs: Infinity, failures: 1, count: 0 };
  let maxAbs = 0;
  let failures = 0;
  let worst: [number, number, number] | undefined;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= ATOL + RTOL * Math.abs(want[i]))) failures++;
    if (!(d <= maxAbs)) {
      maxAbs = d;
      worst = [i, got[i], want[i]];
    }
  }
  return { label, maxAbs, failures, count: got.length, worst };
}

let device: Promise<GPUDevice> | undefined;
const getDevice = () => (device ??= requestDevice());

async function sweepOne(c: SweepCase): Promise<CaseResult> {
  const { spec } = c;
  const { weights, x, run: opts } = caseInputs(spec, c);
  const ref = referenceRnn(spec, weights, x, opts);
  const rnn = await createRnn(await getDevice(), spec, weights, { batch: c.batch });
  try {
    const got = await rnn.run(x, opts);
    const comparisons = [compare('Y', got.Y, ref.Y), compare('Y_h', got.Y_h, ref.Y_h)];
    if (spec.cell === 'lstm') comparisons.push(compare('Y_c', got.Y_c, ref.Y_c));
    return { name: c.name, comparisons };
  } finally {
    rnn.destroy();
  }
}

async function conformanceOne(c: ConformanceCase): Promise<CaseResult> {
  const f32 = (v?: number[]) => (v ? Float32Array.from(v) : undefined);
  const weights: LayerWeights = { W: f32(c.weights.W)!, R: f32(c.weights.R)! };
  if (c.weights.B) weights.B = f32(c.weights.B);
  if (c.weights.P) weights.P = f32(c.weights.P);
  const x = f32(c.x)!;
  const run = {
    seqLen: c.run.seqLen,
    batch: c.run.batch,
    sequenceLens: c.run.sequenceLens ? Int32Array.from(c.run.sequenceLens) : undefined,
    initialH: f32(c.run.initialH),
    initialC: f32(c.run.initialC),
  };
  const rnn = await createRnn(await getDevice(), c.spec, [weights]);
  try {
    const got = await rnn.run(x, run);
    const ref = referenceRnn(c.spec, [weights], x, run);
    const comparisons: Comparison[] = [];
    for (const e of c.expected) {
      comparisons.push(compare(`${e.name} (gpu vs onnx expected)`, got[e.name], e.data));
      comparisons.push(compare(`${e.name} (gpu vs float64 reference)`, got[e.name], ref[e.name]));
    }
    return { name: c.name, comparisons };
  } finally {
    rnn.destroy();
  }
}

async function each<T extends { name: string }>(cases: T[], fn: (c: T) => Promise<CaseResult>): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const c of cases) {
    try {
      out.push(await fn(c));
    } catch (e) {
      out.push({ name: c.name, error: `${(e as Error).name}: ${(e as Error).message}`, comparisons: [] });
    }
  }
  return out;
}

globalThis.__dist = {
  async adapter() {
    try {
      if (!navigator.gpu) return { found: false, error: 'navigator.gpu is undefined' };
      const a = await navigator.gpu.requestAdapter();
      if (!a) return { found: false, error: 'requestAdapter() returned null' };
      const i = a.info;
      return {
        found: true,
        info: {
          vendor: i.vendor,
          architecture: i.architecture,
          device: i.device,
          description: i.description,
          isFallbackAdapter: (i as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? null,
          features: [...a.features].map(String),
        },
      };
    } catch (e) {
      return { found: false, error: String(e) };
    }
  },
  sweep: (cases) => each(cases, sweepOne),
  conformance: (cases) => each(cases, conformanceOne),
};
document.getElementById('out')!.textContent = 'ready';
