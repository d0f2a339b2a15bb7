// Seeded data for tests, the demo and the benchmark: mulberry32, and weights drawn like PyTorch's init, U(-1/sqrt(H), 1/sqrt(H)).
import type { LayerWeights, RnnSpec } from '../src/index.js';

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uniform(r: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

const GATES = { lstm: 4, gru: 3, rnn: 1, clockwork: 1 } as const;

/** Random ONNX-layout weights for every layer of `spec` (with biases, peepholes, projection as asked). */
export function randomWeights(
  spec: RnnSpec,
  seed: number,
  opts: { bias?: boolean; peepholes?: boolean; scale?: number } = {},
): LayerWeights[] {
  const r = rng(seed);
  const D = spec.direction === 'bidirectional' ? 2 : 1;
  const G = GATES[spec.cell];
  const H = spec.hiddenSize;
  const Hout = spec.projSize ?? H;
  const scale = opts.scale ?? 1 / Math.sqrt(H);
  return Array.from({ length: spec.numLayers ?? 1 }, (_, l) => {
    const I = l === 0 ? spec.inputSize : D * Hout;
    const w: LayerWeights = { W: uniform(r, D * G * H * I, scale), R: uniform(r, D * G * H * Hout, scale) };
    if (opts.bias !== false) w.B = uniform(r, D * 2 * G * H, scale);
    if (opts.peepholes && spec.cell === 'lstm') w.P = uniform(r, D * 3 * H, scale);
    if (spec.projSize) w.Wr = uniform(r, D * Hout * H, 1 / Math.sqrt(Hout));
    // Depth-Gated LSTM: the depth gate of every layer above the first (its bias and peepholes with
    // the other optional tensors).
    if (spec.depthGated && l > 0) {
      w.Wd = uniform(r, D * H * I, scale);
      if (opts.bias !== false) w.Bd = uniform(r, D * H, scale);
      if (opts.peepholes) w.Pd = uniform(r, D * 2 * H, scale);
    }
    return w;
  });
}

export interface CaseInputOptions {
  seqLen: number;
  batch: number;
  seed?: number;
  /** Random lengths in [0, T] (first row full; last row 0 when B > 2), or explicit ones. */
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
}

/** Seeded weights, input and run options of one test case (shared by the Node and the browser sweeps). */
export function caseInputs(spec: RnnSpec, o: CaseInputOptions) {
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
  return { weights, x, run: { seqLen: T, batch: B, sequenceLens, mask, initialH, initialC } };
}
