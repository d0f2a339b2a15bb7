// Host-side repacking of ONNX-layout weights into the layouts the kernels read, done once per model.
import type { LayerWeights, ResolvedSpec } from './spec.js';

/**
 * Selected gate blocks of a [D, G·H, K] matrix, transposed to [D, K, blocks.length, H]:
 * out[d, k, i, j] = m[d, blocks[i]·H + j, k]. In a step kernel, invocation j then reads
 * neighbouring words of its neighbours for every k (coalesced), one word per gate.
 */
export function transposeBlocks(m: Float32Array, D: number, G: number, H: number, K: number, blocks: readonly number[]): Float32Array {
  const nb = blocks.length;
  const out = new Float32Array(D * K * nb * H);
  for (let d = 0; d < D; d++) {
    for (let i = 0; i < nb; i++) {
      for (let j = 0; j < H; j++) {
        const src = ((d * G + blocks[i]) * H + j) * K;
        for (let k = 0; k < K; k++) out[((d * K + k) * nb + i) * H + j] = m[src + k];
      }
    }
  }
  return out;
}

/** The gate blocks r_t holds (ONNX block indices): every block, in ONNX order, for every cell. */
export function recurrentBlocks(s: ResolvedSpec): number[] {
  return Array.from({ length: s.gates }, (_, g) => g);
}

/**
 * The biases folded into the input projection, [D·G·H], and the recurrent bias that cannot be
 * folded (GRU with linear_before_reset: Rbh sits inside r ⊙ (…)), [D·H] (rnn-semantics.md §9).
 */
export function foldBiases(s: ResolvedSpec, B: Float32Array | undefined): { folded: Float32Array; rbh: Float32Array } {
  const { directions: D, gates: G, hiddenSize: H } = s;
  const folded = new Float32Array(D * G * H);
  const rbh = new Float32Array(D * H);
  if (!B) return { folded, rbh };
  const keepRbh = s.cell === 'gru' && s.linearBeforeReset;
  for (let d = 0; d < D; d++) {
    for (let n = 0; n < G * H; n++) {
      const wb = B[d * 2 * G * H + n];
      const rb = B[d * 2 * G * H + G * H + n];
      const isRbh = keepRbh && n >= 2 * H;
      folded[d * G * H + n] = isRbh ? wb : wb + rb;
      if (isRbh) rbh[d * H + (n - 2 * H)] = rb;
    }
  }
  return { folded, rbh };
}

/** Everything one layer uploads, in kernel layouts. */
export interface PackedLayer {
  w: Float32Array;
  bias: Float32Array;
  rStep: Float32Array;
  peephole?: Float32Array;
  rbh?: Float32Array;
  wrT?: Float32Array;
}

export function packLayer(s: ResolvedSpec, w: LayerWeights): PackedLayer {
  const { directions: D, gates: G, hiddenSize: H, outputSize: Hout } = s;
  const blocks = recurrentBlocks(s);
  const { folded, rbh } = foldBiases(s, w.B);
  return {
    w: w.W,
    bias: folded,
    rStep: transposeBlocks(w.R, D, G, H, Hout, blocks),
    peephole: s.cell === 'lstm' ? (w.P ?? new Float32Array(D * 3 * H)) : undefined,
    rbh: s.cell === 'gru' ? rbh : undefined,
    // Wr [D, Hout, H] -> [D, H, Hout]: one block of Hout rows, K = H.
    wrT: s.projected ? transposeBlocks(w.Wr!, D, 1, Hout, H, [0]) : undefined,
  };
}
