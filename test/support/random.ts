// Seeded data for the tests: mulberry32, and weights drawn like PyTorch's init, U(-1/sqrt(H), 1/sqrt(H)).
import type { LayerWeights, RnnSpec } from '../../src/index.js';

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

const GATES = { lstm: 4, gru: 3, rnn: 1 } as const;

/** Random ONNX-layout weights for every layer of `spec` (with biases, peepholes, projection as asked). */
export function randomWeights(spec: RnnSpec, seed: number, opts: { bias?: boolean; peepholes?: boolean; scale?: number } = {}): LayerWeights[] {
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
    return w;
  });
}
