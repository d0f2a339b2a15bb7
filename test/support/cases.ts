// Runs one configuration on the GPU and through the float64 reference, and compares every output.
import { createRnn, type RnnSpec } from '../../src/index.js';
import { referenceRnn } from '../reference.js';
import { expectClose } from './close.js';
import { randomWeights, rng, uniform } from './random.js';

export interface CaseOptions {
  seqLen: number;
  batch: number;
  seed?: number;
  /** Random lengths in [0, T] (at least one full and, for B > 2, one zero), or explicit ones. */
  lengths?: boolean | number[];
  /** TF.js-style random step mask (holes anywhere) instead of lengths. */
  mask?: boolean;
  initialStates?: boolean;
  peepholes?: boolean;
  bias?: boolean;
  /** Scale of the inputs (default 1). */
  xScale?: number;
  /** Scale of the weights (default PyTorch's 1/sqrt(H)). */
  weightScale?: number;
  tol?: { atol?: number; rtol?: number };
  /** createRnn's options.stepKernels (default 'auto'). */
  stepKernels?: 'auto' | 'per-step' | 'persistent';
}

export function describeCase(spec: RnnSpec, o: CaseOptions): string {
  const opts = Object.entries(spec).filter(([k]) => !['cell', 'inputSize', 'hiddenSize'].includes(k)).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const run = [o.stepKernels ?? '', `T=${o.seqLen}`, `B=${o.batch}`, o.lengths ? 'lengths' : '', o.mask ? 'mask' : '', o.initialStates ? 'h0' : '', o.peepholes ? 'peepholes' : ''].filter(Boolean);
  return `${spec.cell} I=${spec.inputSize} H=${spec.hiddenSize} ${[...opts, ...run].join(' ')}`;
}

/** Returns the largest absolute difference seen over Y, Y_h and Y_c. */
export async function checkCase(device: GPUDevice, spec: RnnSpec, o: CaseOptions): Promise<number> {
  const seed = o.seed ?? 1;
  const r = rng(seed * 7919 + 17);
  const { seqLen: T, batch: B } = o;
  const D = spec.direction === 'bidirectional' ? 2 : 1;
  const L = spec.numLayers ?? 1;
  const Hout = spec.projSize ?? spec.hiddenSize;
  const weights = randomWeights(spec, seed, { bias: o.bias, peepholes: o.peepholes, scale: o.weightScale });
  const x = uniform(r, T * B * spec.inputSize, o.xScale ?? 1);
  let sequenceLens: Int32Array | undefined;
  if (Array.isArray(o.lengths)) sequenceLens = Int32Array.from(o.lengths);
  else if (o.lengths) {
    sequenceLens = Int32Array.from({ length: B }, () => Math.floor(r() * (T + 1)));
    sequenceLens[0] = T;
    if (B > 2) sequenceLens[B - 1] = 0;
  }
  const mask = o.mask ? Uint8Array.from({ length: T * B }, () => (r() < 0.7 ? 1 : 0)) : undefined;
  const initialH = o.initialStates ? uniform(r, L * D * B * Hout) : undefined;
  const initialC = o.initialStates && spec.cell === 'lstm' ? uniform(r, L * D * B * spec.hiddenSize) : undefined;
  const runOpts = { seqLen: T, batch: B, sequenceLens, mask, initialH, initialC };

  const expected = referenceRnn(spec, weights, x, runOpts);
  const rnn = await createRnn(device, spec, weights, { batch: B, stepKernels: o.stepKernels });
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
