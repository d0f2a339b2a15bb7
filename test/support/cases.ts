// Runs one configuration on the GPU and through the float64 reference, and compares every output.
import { createRnn, type LayerWeights, type ProjectionVariant, type RnnSpec, type StepKernels } from '../../src/index.js';
import { referenceRnn } from '../../common/reference.js';
import { expectClose } from './close.js';
import { caseInputs, type CaseInputOptions } from '../../common/random.js';

export interface CaseOptions extends CaseInputOptions {
  tol?: { atol?: number; rtol?: number };
  /** createRnn's options.stepKernels (default 'auto'). */
  stepKernels?: StepKernels;
  /** createRnn's options.projection (default 'auto'). */
  projection?: 'auto' | ProjectionVariant;
  /**
   * createRnn's options.precision (default 'f32'). With 'f16' the reference is computed on the weights
   * as the GPU holds them: the matrices rounded to binary16 (f16Weights), so `tol` bounds the kernels'
   * f32 arithmetic on those values, not the rounding of the weights.
   */
  precision?: 'f32' | 'f16';
}

/** `x` rounded to the nearest IEEE binary16 value (ties to even; past 65504 to ±Infinity), independently of the library. */
export function roundToHalf(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  let e = Math.max(Math.floor(Math.log2(a)), -14); // the binade; below 2^-14 the subnormals' spacing 2^-24
  if (e > -14 && 2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  const q = 2 ** (e - 10); // 11 significant bits
  const m = a / q;
  const f = Math.floor(m);
  const r = m - f > 0.5 || (m - f === 0.5 && f % 2 === 1) ? f + 1 : f;
  const v = r * q;
  return Math.sign(x) * (v > 65504 ? Infinity : v);
}

/**
 * The weights as precision 'f16' stores them: W (with a depth gate's Wd, packed beside it), R and the
 * projection Wr rounded to binary16; biases and peepholes stay f32 (createRnn's weight()/upload()).
 */
export function f16Weights(weights: LayerWeights[]): LayerWeights[] {
  const round = (v: Float32Array) => Float32Array.from(v, roundToHalf);
  return weights.map((w) => ({
    ...w,
    W: round(w.W),
    R: round(w.R),
    ...(w.Wr ? { Wr: round(w.Wr) } : {}),
    ...(w.Wd ? { Wd: round(w.Wd) } : {}),
  }));
}

export function describeCase(spec: RnnSpec, o: CaseOptions): string {
  const opts = Object.entries(spec)
    .filter(([k]) => !['cell', 'inputSize', 'hiddenSize'].includes(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const run = [
    [o.stepKernels, o.projection, o.precision].filter(Boolean).join('/'),
    `T=${o.seqLen}`,
    `B=${o.batch}`,
    o.lengths ? 'lengths' : '',
    o.mask ? 'mask' : '',
    o.initialStates ? 'h0' : '',
    o.peepholes ? 'peepholes' : '',
  ].filter(Boolean);
  return `${spec.cell} I=${spec.inputSize} H=${spec.hiddenSize} ${[...opts, ...run].join(' ')}`;
}

/** Returns the largest absolute difference seen over Y, Y_h and Y_c. */
export async function checkCase(device: GPUDevice, spec: RnnSpec, o: CaseOptions): Promise<number> {
  const { weights, x, run: runOpts } = caseInputs(spec, o);
  const expected = referenceRnn(spec, o.precision === 'f16' ? f16Weights(weights) : weights, x, runOpts);
  // No warm-up: the run below compiles what it needs anyway (test/gpu/tuning.test.ts covers warm-up).
  const rnn = await createRnn(device, spec, weights, {
    batch: o.batch,
    stepKernels: o.stepKernels,
    projection: o.projection,
    precision: o.precision,
    warmUp: false,
  });
  try {
    const got = await rnn.run(x, runOpts);
    const name = describeCase(spec, o);
    let worst = expectClose(got.Y, expected.Y, `${name}: Y`, o.tol);
    worst = Math.max(worst, expectClose(got.Y_h, expected.Y_h, `${name}: Y_h`, o.tol));
    if (spec.cell === 'lstm') worst = Math.max(worst, expectClose(got.Y_c!, expected.Y_c!, `${name}: Y_c`, o.tol));
    else if (got.Y_c !== undefined) throw new Error(`${name}: Y_c returned for a ${spec.cell}`);
    return worst;
  } finally {
    rnn.destroy();
  }
}
