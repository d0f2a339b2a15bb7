// Float64 reference of every recurrent cell and option webgpu-rnn supports: the oracle of the GPU tests.
//
// Written from the ONNX operator definitions (LSTM-22, GRU-22, RNN-22) as ONNX Runtime's CPU kernels
// read them (../shared/reference/rnn-semantics.md §1-5, §12: where the ONNX text is ambiguous ORT decides, e.g. clip bounds
// every gate pre-activation but not the input of h(Ct), activation_alpha/beta are consumed in order by the activations
// that take them, a zero sequence length gives zero Y and zero final state; the LSTM projection is PyTorch's proj_size,
// h = W_hr·(o ⊙ h(c))), straight-line and unoptimised on purpose.
// The Clockwork RNN (Koutník et al. 2014, "A Clockwork RNN", arXiv:1402.3511) is written from the
// definition in issue 9: the RNN with hidden modules that update only every periods[i] steps, each
// reading the modules of equal or longer period. The Depth-Gated LSTM (Yao et al. 2015, "Depth-Gated
// LSTM", arXiv:1508.03790) likewise, from issue 9's definition: layer k >= 1 adds
// d_t ⊙ c_t^(k-1) to its cell, d_t = f(clip(Wd x_t + Bd + Pd[0] ⊙ c_{t-1} + Pd[1] ⊙ c_t^(k-1))).
// It shares no code with src/: it resolves activations, alpha/beta and layouts on its own.
//
// Shapes (same as the library's public API):
//   x: [T, B, I] time-major or [B, T, I] batch-major
//   Y: [T, D, B, Hout] or [B, T, D, Hout] (last layer); Y_h: [L*D, B, Hout] or [B, L*D, Hout]; Y_c likewise with H.

export type Cell = 'lstm' | 'gru' | 'rnn' | 'clockwork';

export interface RefSpec {
  cell: Cell;
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  direction?: 'forward' | 'reverse' | 'bidirectional';
  activations?: string[];
  activationAlpha?: number[];
  activationBeta?: number[];
  clip?: number;
  inputForget?: boolean;
  linearBeforeReset?: boolean;
  layout?: 'time-major' | 'batch-major';
  projSize?: number;
  /** Clockwork RNN: the period of each module (hiddenSize / periods.length units each). */
  periods?: number[];
  /** Depth-Gated LSTM: layer k >= 1 adds d_t ⊙ c_t of layer k - 1 to its cell (Wd, Bd, Pd). */
  depthGated?: boolean;
}

export interface RefLayerWeights {
  W: ArrayLike<number>;
  R: ArrayLike<number>;
  B?: ArrayLike<number>;
  P?: ArrayLike<number>;
  Wr?: ArrayLike<number>;
  /** Depth gate (layers >= 1 of a depth-gated LSTM): Wd [D, H, I_k], Bd [D, H], Pd [D, 2, H]. */
  Wd?: ArrayLike<number>;
  Bd?: ArrayLike<number>;
  Pd?: ArrayLike<number>;
}

export interface RefRunOptions {
  seqLen: number;
  batch: number;
  sequenceLens?: ArrayLike<number>;
  /** TF.js masking: [T, B] (or [B, T] batch-major), 0 = masked step. */
  mask?: ArrayLike<number>;
  initialH?: ArrayLike<number>;
  initialC?: ArrayLike<number>;
}

export interface RefResult {
  Y: Float64Array;
  Y_h: Float64Array;
  Y_c?: Float64Array;
}

type Act = (x: number) => number;

const GATES: Record<Cell, number> = { lstm: 4, gru: 3, rnn: 1, clockwork: 1 };
const DEFAULT_ACTS: Record<Cell, string[]> = {
  lstm: ['Sigmoid', 'Tanh', 'Tanh'],
  gru: ['Sigmoid', 'Tanh'],
  rnn: ['Tanh'],
  clockwork: ['Tanh'],
};

/**
 * ONNX activation by name (case-insensitive), with ORT's fallbacks when alpha/beta run out (rnn-semantics.md §4: ORT uses
 * 0 for Affine, ThresholdedRelu and ScaledTanh, not the standalone ops' defaults, and 0.01, 0.2/0.5, 1 for LeakyRelu,
 * HardSigmoid, Elu).
 */
function makeActivations(names: string[], alphas: number[], betas: number[]): Act[] {
  let ai = 0;
  let bi = 0;
  const alpha = (fallback: number) => (ai < alphas.length ? alphas[ai++] : fallback);
  const beta = (fallback: number) => (bi < betas.length ? betas[bi++] : fallback);
  return names.map((name): Act => {
    switch (name.toLowerCase()) {
      case 'relu':
        return (x) => Math.max(0, x);
      case 'tanh':
        return Math.tanh;
      case 'sigmoid':
        return (x) => 1 / (1 + Math.exp(-x));
      case 'affine': {
        const a = alpha(0),
          b = beta(0);
        return (x) => a * x + b;
      }
      case 'leakyrelu': {
        const a = alpha(0.01);
        return (x) => (x >= 0 ? x : a * x);
      }
      case 'thresholdedrelu': {
        const a = alpha(0);
        return (x) => (x >= a ? x : 0);
      }
      case 'scaledtanh': {
        const a = alpha(0),
          b = beta(0);
        return (x) => a * Math.tanh(b * x);
      }
      case 'hardsigmoid': {
        const a = alpha(0.2),
          b = beta(0.5);
        return (x) => Math.min(Math.max(a * x + b, 0), 1);
      }
      case 'elu': {
        const a = alpha(1);
        return (x) => (x >= 0 ? x : a * (Math.exp(x) - 1));
      }
      case 'softsign':
        return (x) => x / (1 + Math.abs(x));
      case 'softplus':
        return (x) => Math.log1p(Math.exp(x));
      default:
        throw new Error(`reference: unknown activation ${name}`);
    }
  });
}

/** y[r] = sum_k M[base + r*cols + k] * v[k] for r in [0, rows). */
function matvec(M: ArrayLike<number>, base: number, rows: number, cols: number, v: ArrayLike<number>): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < cols; k++) s += M[base + r * cols + k] * v[k];
    y[r] = s;
  }
  return y;
}

export function referenceRnn(spec: RefSpec, weights: RefLayerWeights[], x: ArrayLike<number>, opts: RefRunOptions): RefResult {
  const { cell, inputSize: I, hiddenSize: H } = spec;
  const L = spec.numLayers ?? 1;
  const direction = spec.direction ?? 'forward';
  const D = direction === 'bidirectional' ? 2 : 1;
  const G = GATES[cell];
  const Hout = spec.projSize ?? H;
  const T = opts.seqLen;
  const Bn = opts.batch;
  const batchMajor = spec.layout === 'batch-major';
  const lens = Array.from({ length: Bn }, (_, b) => (opts.sequenceLens ? opts.sequenceLens[b] : T));
  const perDir = DEFAULT_ACTS[cell].length;
  let names = spec.activations ?? [];
  if (names.length === 0) names = Array.from({ length: D }, () => DEFAULT_ACTS[cell]).flat();
  if (names.length === perDir && D === 2) names = [...names, ...names];
  const acts = makeActivations(names, spec.activationAlpha ?? [], spec.activationBeta ?? []);
  const clip = (v: number) => (spec.clip === undefined ? v : Math.min(spec.clip, Math.max(-spec.clip, v)));

  // State tensors: index (layer*D + d, b) -> offset, in the chosen layout.
  const stateOffset = (ld: number, b: number, width: number) => (batchMajor ? (b * L * D + ld) * width : (ld * Bn + b) * width);
  const Y_h = new Float64Array(L * D * Bn * Hout);
  const Y_c = cell === 'lstm' ? new Float64Array(L * D * Bn * H) : undefined;

  // Layer input as seq[t][b] vectors.
  let seq: Float64Array[][] = [];
  for (let t = 0; t < T; t++) {
    seq.push([]);
    for (let b = 0; b < Bn; b++) {
      const off = batchMajor ? (b * T + t) * I : (t * Bn + b) * I;
      seq[t].push(Float64Array.from({ length: I }, (_, i) => x[off + i]));
    }
  }

  // Depth-Gated LSTM: each layer's c at every (t, b, direction), for the layer above.
  let lowerC: Float64Array[][] | undefined;
  for (let l = 0; l < L; l++) {
    const w = weights[l];
    const Ik = l === 0 ? I : D * Hout;
    const out: Float64Array[][] = seq.map(() => Array.from({ length: Bn }, () => new Float64Array(D * Hout)));
    const layerC: Float64Array[][] = seq.map(() => Array.from({ length: Bn }, () => new Float64Array(D * H)));
    const depth = spec.depthGated === true && l > 0;
    for (let d = 0; d < D; d++) {
      const reverse = direction === 'reverse' || d === 1;
      const [f, g, h] = acts.slice(d * perDir, (d + 1) * perDir);
      const bias = (k: number) => (w.B ? w.B[d * 2 * G * H + k] : 0);
      for (let b = 0; b < Bn; b++) {
        const len = lens[b];
        const ld = l * D + d;
        let hs: Float64Array = new Float64Array(Hout);
        let cs: Float64Array = new Float64Array(H);
        if (len > 0 && opts.initialH) hs = Float64Array.from({ length: Hout }, (_, j) => opts.initialH![stateOffset(ld, b, Hout) + j]);
        if (len > 0 && opts.initialC) cs = Float64Array.from({ length: H }, (_, j) => opts.initialC![stateOffset(ld, b, H) + j]);
        // TF.js masking: all T steps, reversed over the whole padded sequence (go_backwards).
        const steps = opts.mask ? T : len;
        for (let s = 0; s < steps; s++) {
          const t = reverse ? steps - 1 - s : s;
          if (opts.mask && !opts.mask[batchMajor ? b * T + t : t * Bn + b]) {
            out[t][b].set(hs, d * Hout); // TF.js: output = previous output (= h), state carried
            continue;
          }
          const xw = matvec(w.W, d * G * H * Ik, G * H, Ik, seq[t][b]);
          const rh = matvec(w.R, d * G * H * Hout, G * H, Hout, hs);
          if (cell === 'rnn') {
            hs = Float64Array.from({ length: H }, (_, j) => f(clip(xw[j] + rh[j] + bias(j) + bias(H + j))));
          } else if (cell === 'clockwork') {
            // Unit u of module i = floor(u / (H/g)) updates iff s mod periods[i] = 0, from the units
            // v of the modules with periods[j] >= periods[i]; the others keep their h.
            const periods = spec.periods!;
            const moduleOf = (u: number) => Math.floor(u / (H / periods.length));
            const prev = hs;
            hs = Float64Array.from({ length: H }, (_, u) => {
              const period = periods[moduleOf(u)];
              if (s % period !== 0) return prev[u];
              let acc = xw[u] + bias(u) + bias(H + u);
              for (let v = 0; v < H; v++) if (periods[moduleOf(v)] >= period) acc += w.R[d * H * Hout + u * Hout + v] * prev[v];
              return f(clip(acc));
            });
          } else if (cell === 'gru') {
            // blocks z, r, h
            const pre = (blk: number, j: number) => xw[blk * H + j] + bias(blk * H + j);
            const z = Float64Array.from({ length: H }, (_, j) => f(clip(pre(0, j) + rh[j] + bias(3 * H + j))));
            const r = Float64Array.from({ length: H }, (_, j) => f(clip(pre(1, j) + rh[H + j] + bias(4 * H + j))));
            let hh: Float64Array;
            if (spec.linearBeforeReset) {
              hh = Float64Array.from({ length: H }, (_, j) => g(clip(pre(2, j) + r[j] * (rh[2 * H + j] + bias(5 * H + j)))));
            } else {
              const rhs = Float64Array.from({ length: H }, (_, j) => r[j] * hs[j]);
              const rr = matvec(w.R, d * G * H * Hout + 2 * H * Hout, H, Hout, rhs);
              hh = Float64Array.from({ length: H }, (_, j) => g(clip(pre(2, j) + rr[j] + bias(5 * H + j))));
            }
            const prev = hs;
            hs = Float64Array.from({ length: H }, (_, j) => (1 - z[j]) * hh[j] + z[j] * prev[j]);
          } else {
            // blocks i, o, f, c; peepholes i, o, f
            const P = (blk: number, j: number) => (w.P ? w.P[d * 3 * H + blk * H + j] : 0);
            const pre = (blk: number, j: number) => xw[blk * H + j] + rh[blk * H + j] + bias(blk * H + j) + bias((4 + blk) * H + j);
            const cNew = new Float64Array(H);
            const m = new Float64Array(H);
            const xd = depth ? matvec(w.Wd!, d * H * Ik, H, Ik, seq[t][b]) : undefined;
            for (let j = 0; j < H; j++) {
              const ig = f(clip(pre(0, j) + P(0, j) * cs[j]));
              const fg = spec.inputForget ? 1 - ig : f(clip(pre(2, j) + P(2, j) * cs[j]));
              let fromBelow = 0;
              if (xd) {
                const cl = lowerC![t][b][d * H + j];
                const Bd = w.Bd ? w.Bd[d * H + j] : 0;
                const Pd = (row: number) => (w.Pd ? w.Pd[(d * 2 + row) * H + j] : 0);
                fromBelow = f(clip(xd[j] + Bd + Pd(0) * cs[j] + Pd(1) * cl)) * cl;
              }
              cNew[j] = fromBelow + fg * cs[j] + ig * g(clip(pre(3, j)));
              const og = f(clip(pre(1, j) + P(1, j) * cNew[j]));
              m[j] = og * h(cNew[j]);
            }
            cs = cNew;
            hs = spec.projSize ? matvec(w.Wr!, d * Hout * H, Hout, H, m) : m;
          }
          out[t][b].set(hs, d * Hout);
          layerC[t][b].set(cs, d * H);
        }
        Y_h.set(hs, stateOffset(ld, b, Hout));
        if (Y_c) Y_c.set(cs, stateOffset(ld, b, H));
      }
    }
    seq = out;
    lowerC = layerC;
  }

  const Y = new Float64Array(T * D * Bn * Hout);
  for (let t = 0; t < T; t++) {
    for (let d = 0; d < D; d++) {
      for (let b = 0; b < Bn; b++) {
        const off = batchMajor ? ((b * T + t) * D + d) * Hout : ((t * D + d) * Bn + b) * Hout;
        Y.set(seq[t][b].subarray(d * Hout, (d + 1) * Hout), off);
      }
    }
  }
  return { Y, Y_h, Y_c };
}
