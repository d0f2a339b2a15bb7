// Host-side repacking of ONNX-layout weights into the layouts the kernels read, done once per model.
import { CELLS, cellTakes } from './cells.js';
import { concatFloat32 } from '../core/numbers.js';
import { layerInputSize } from './spec.js';
import type { LayerWeights, ResolvedSpec } from './types.js';

/**
 * R [D, G·H, K] with the gates of each unit side by side: [D, K, H, lanes],
 * out[d, k, j, g] = m[d, g·H + j, k] for g < G, zeros in lanes g >= G. With lanes = 4 (LSTM; GRU
 * with one zero lane) a step kernel reads every gate weight of its unit at column k with one vec4
 * load, and neighbouring invocations read neighbouring 16-byte words (coalesced); lanes = 1 is
 * the plain transpose (RNN).
 */
export function interleaveGates(m: Float32Array, D: number, G: number, H: number, K: number, lanes: number): Float32Array {
  const out = new Float32Array(D * K * H * lanes);
  for (let d = 0; d < D; d++) {
    for (let g = 0; g < G; g++) {
      for (let j = 0; j < H; j++) {
        const src = ((d * G + g) * H + j) * K;
        for (let k = 0; k < K; k++) out[((d * K + k) * H + j) * lanes + g] = m[src + k];
      }
    }
  }
  return out;
}

/** Floats per (column, unit) in r_t: 4 (the gates in one vec4) for LSTM and GRU, 1 for RNN (cells.ts). */
export function recurrentLanes(s: ResolvedSpec): number {
  return CELLS[s.cell].recurrentLanes;
}

/**
 * The biases folded into the input projection, [D·G·H], and the recurrent bias that cannot be
 * folded, [D·H]: a hoisted projection may add Wb + Rb for every gate of LSTM, RNN and GRU without
 * linear_before_reset, but with it only for z and r (and Wbh for h), since Rbh sits inside
 * r ⊙ (…) (rnn-semantics.md §9).
 */
export function foldBiases(s: ResolvedSpec, B: Float32Array | undefined): { folded: Float32Array; rbh: Float32Array } {
  const { directions: D, gates: G, hiddenSize: H } = s;
  const folded = new Float32Array(D * G * H);
  const rbh = new Float32Array(D * H);
  if (!B) return { folded, rbh };
  const keepRbh = CELLS[s.cell].recurrentBiasBuffer && s.linearBeforeReset;
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

/** N rounded up to a multiple of 4: the columns of w_t, so that input_gemv reads 4 columns as one vec4. */
export function paddedColumns(N: number): number {
  return Math.ceil(N / 4) * 4;
}

/**
 * ONNX W [D, G·H, K] read as [N, K] (N = D·G·H), transposed to w_t [K, paddedColumns(N)] with zero
 * columns past N: the projection kernels read a row of w_t across neighbouring invocations
 * (neighbouring output columns), and input_gemv reads 4 columns as one vec4.
 */
export function transposeInput(W: Float32Array, N: number, K: number): Float32Array {
  const NP = paddedColumns(N);
  const out = new Float32Array(K * NP);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[k * NP + n] = W[n * K + k];
  return out;
}

/** Everything one layer uploads, in kernel layouts. */
export interface PackedLayer {
  wT: Float32Array;
  bias: Float32Array;
  rStep: Float32Array;
  peephole?: Float32Array;
  rbh?: Float32Array;
  wrT?: Float32Array;
}

export function packLayer(s: ResolvedSpec, w: LayerWeights, layer: number): PackedLayer {
  const { directions: D, gates: G, hiddenSize: H, outputSize: Hout } = s;
  const { folded, rbh } = foldBiases(s, w.B);
  const depth = s.depthGated && layer > 0;
  const gatesIn = depth ? G + 1 : G;
  return {
    // A depth-gated layer's projection computes a fifth gate block per direction: Wd x + Bd.
    wT: transposeInput(
      depth ? appendGateBlock(w.W, w.Wd!, D, G * H * layerInputSize(s, layer), H * layerInputSize(s, layer)) : w.W,
      D * gatesIn * H,
      layerInputSize(s, layer),
    ),
    bias: depth ? appendGateBlock(folded, w.Bd ?? new Float32Array(D * H), D, G * H, H) : folded,
    rStep: interleaveGates(CELLS[s.cell].maskRecurrent?.(s, w.R) ?? w.R, D, G, H, Hout, recurrentLanes(s)),
    peephole: cellTakes(s.cell, 'P') ? peepholes(s, w, layer) : undefined,
    rbh: CELLS[s.cell].recurrentBiasBuffer ? rbh : undefined,
    // Wr [D, Hout, H] -> [D, H, Hout]: one block of Hout rows, K = H.
    wrT: s.projected ? interleaveGates(w.Wr!, D, 1, Hout, H, 1) : undefined,
  };
}

/** Per direction d, the rows of `a` ([D, rowsA]) followed by those of `b` ([D, rowsB]): [D, rowsA + rowsB]. */
function appendGateBlock(a: Float32Array, b: Float32Array, D: number, rowsA: number, rowsB: number): Float32Array {
  const out = new Float32Array(D * (rowsA + rowsB));
  for (let d = 0; d < D; d++) {
    out.set(a.subarray(d * rowsA, (d + 1) * rowsA), d * (rowsA + rowsB));
    out.set(b.subarray(d * rowsB, (d + 1) * rowsB), d * (rowsA + rowsB) + rowsA);
  }
  return out;
}

/** The LSTM's peephole buffer: [D, 3, H] (i, o, f), or for a Depth-Gated LSTM [D, 5, H] with its Pd rows (zeros on layer 0). */
function peepholes(s: ResolvedSpec, w: LayerWeights, layer: number): Float32Array {
  const { directions: D, hiddenSize: H } = s;
  const P = w.P ?? new Float32Array(D * 3 * H);
  if (!s.depthGated) return P;
  const Pd = layer > 0 && w.Pd ? w.Pd : new Float32Array(D * 2 * H);
  return appendGateBlock(P, Pd, D, 3 * H, 2 * H);
}

/** The fused stack kernel's weights (stack_step.wgsl): one buffer for every layer of a unidirectional stack. */
export interface PackedStack {
  /** Per layer the block [IN_l + Hout, H, lanes]: W's columns, then R's, each unit's gate weights side by side. */
  weights: Float32Array;
  /** [L, 8, H]: folded biases per gate lane (rows 0-3), LSTM peepholes i, o, f (4-6), the GRU's Rb_h (7). */
  aux: Float32Array;
}

/** Floats per layer in PackedStack.aux. */
export const STACK_AUX_ROWS = 8;

/**
 * Packs a unidirectional stack (D = 1, no projection) for stack_step.wgsl: layer l's columns
 * k < IN_l come from W, the next H from R, both through interleaveGates, so column k of unit j
 * holds its gate weights at ((base_l + k·H + j)·lanes + g); the total is padded to whole vec4 words.
 */
export function packStack(s: ResolvedSpec, layers: LayerWeights[], inputSizes: number[]): PackedStack {
  const { gates: G, hiddenSize: H } = s;
  const lanes = recurrentLanes(s);
  const parts = layers.flatMap((w, l) => [interleaveGates(w.W, 1, G, H, inputSizes[l], lanes), interleaveGates(w.R, 1, G, H, H, lanes)]);
  const floats = parts.reduce((n, p) => n + p.length, 0);
  const weights = concatFloat32([...parts, new Float32Array(Math.ceil(floats / 4) * 4 - floats)]);
  const aux = new Float32Array(layers.length * STACK_AUX_ROWS * H);
  layers.forEach((w, l) => {
    const base = l * STACK_AUX_ROWS * H;
    const { folded, rbh } = foldBiases(s, w.B);
    aux.set(folded, base); // [G, H]: gate g of unit j at g·H + j
    if (cellTakes(s.cell, 'P') && w.P) aux.set(w.P.subarray(0, 3 * H), base + 4 * H);
    if (CELLS[s.cell].recurrentBiasBuffer) aux.set(rbh, base + 7 * H);
  });
  return { weights, aux };
}
