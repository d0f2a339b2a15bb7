// Plain JavaScript on the CPU: a compact float32-storage implementation (Float32Array weights and states,
// double-precision accumulation as JS numbers), one thread. A baseline of "no library at all", written
// for speed within reason (flat arrays, no allocation per step); ONNX semantics, default options only.
import type { LayerWeights } from '../../../src/index.js';
import { dirs, GATES, type BenchShape } from '../shapes.js';
import type { Engine, Outputs, Prepared } from '../types.js';

type Act = (x: number) => number;
const ACT: Record<string, Act> = {
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  relu: (x) => (x > 0 ? x : 0),
  hardsigmoid: (x) => Math.min(1, Math.max(0, 0.2 * x + 0.5)),
};

/** One layer, all directions and rows, over T steps; h and c ([D, B, H]) are read and updated in place. */
function layer(
  s: BenchShape,
  w: LayerWeights,
  Il: number,
  xs: Float32Array,
  T: number,
  h: Float32Array,
  c: Float32Array,
  out: Float32Array,
): void {
  const D = dirs(s);
  const G = GATES[s.cell];
  const H = s.hiddenSize;
  const B = s.batch;
  const names = (
    s.activations ?? (s.cell === 'lstm' ? ['Sigmoid', 'Tanh', 'Tanh'] : s.cell === 'gru' ? ['Sigmoid', 'Tanh'] : ['Tanh'])
  ).map((n) => ACT[n.toLowerCase()]);
  const [f, g, hAct] = names;
  const pre = new Float64Array(G * H);
  const rh = new Float64Array(H);
  const tmp = new Float32Array(H);
  for (let d = 0; d < D; d++) {
    const reverse = s.direction === 'reverse' || d === 1;
    const wBase = d * G * H * Il;
    const rBase = d * G * H * H;
    const bBase = d * 2 * G * H;
    for (let b = 0; b < B; b++) {
      const hOff = (d * B + b) * H;
      for (let step = 0; step < T; step++) {
        const t = reverse ? T - 1 - step : step;
        const xOff = (t * B + b) * Il;
        // Gate pre-activations: W x + Wb + Rb, plus R h except for the GRU candidate block.
        const recurrentRows = s.cell === 'gru' ? 2 * H : G * H;
        for (let r = 0; r < G * H; r++) {
          let acc = w.B ? w.B[bBase + r] + (s.cell === 'gru' && r >= 2 * H ? 0 : w.B[bBase + G * H + r]) : 0;
          const wr = wBase + r * Il;
          for (let i = 0; i < Il; i++) acc += w.W[wr + i] * xs[xOff + i];
          if (r < recurrentRows) {
            const rr = rBase + r * H;
            for (let i = 0; i < H; i++) acc += w.R[rr + i] * h[hOff + i];
          }
          pre[r] = acc;
        }
        if (s.cell === 'rnn') {
          for (let j = 0; j < H; j++) h[hOff + j] = f(pre[j]);
        } else if (s.cell === 'lstm') {
          for (let j = 0; j < H; j++) {
            const ig = f(pre[j]);
            const og = f(pre[H + j]);
            const fg = f(pre[2 * H + j]);
            const cn = fg * c[hOff + j] + ig * g(pre[3 * H + j]);
            c[hOff + j] = cn;
            h[hOff + j] = og * hAct(cn);
          }
        } else {
          const rbh = w.B ? bBase + G * H + 2 * H : -1;
          for (let j = 0; j < H; j++) tmp[j] = s.linearBeforeReset ? h[hOff + j] : f(pre[H + j]) * h[hOff + j];
          for (let j = 0; j < H; j++) {
            let acc = 0;
            const rr = rBase + (2 * H + j) * H;
            for (let i = 0; i < H; i++) acc += w.R[rr + i] * tmp[i];
            rh[j] = acc + (rbh >= 0 ? w.B![rbh + j] : 0);
          }
          for (let j = 0; j < H; j++) {
            const z = f(pre[j]);
            const cand = s.linearBeforeReset ? g(pre[2 * H + j] + f(pre[H + j]) * rh[j]) : g(pre[2 * H + j] + rh[j]);
            h[hOff + j] = (1 - z) * cand + z * h[hOff + j];
          }
        }
        out.set(h.subarray(hOff, hOff + H), (t * B + b) * D * H + d * H);
      }
    }
  }
}

export function jsEngine(): Engine {
  return {
    id: 'js-f32',
    label: 'plain JS (f32, CPU)',
    gpu: false,
    unsupported(s) {
      const bad = (s.activations ?? []).find((n) => !ACT[n.toLowerCase()]);
      return bad ? `activation ${bad} not implemented in the plain-JS engine` : null;
    },
    async prepare(s, weights, x): Promise<Prepared> {
      const D = dirs(s);
      const H = s.hiddenSize;
      const B = s.batch;
      const L = s.numLayers;
      const calls = s.stream ?? 1;
      const T = s.stream ? 1 : s.seqLen;
      const run = async (): Promise<Outputs> => {
        const h = Array.from({ length: L }, () => new Float32Array(D * B * H));
        const c = Array.from({ length: L }, () => new Float32Array(D * B * H));
        const Y = new Float32Array(calls * T * D * B * H);
        for (let k = 0; k < calls; k++) {
          let xs = x.subarray(k * T * B * s.inputSize, (k + 1) * T * B * s.inputSize);
          for (let l = 0; l < L; l++) {
            const out = new Float32Array(T * B * D * H);
            layer(s, weights[l], l === 0 ? s.inputSize : D * H, xs, T, h[l], c[l], out);
            xs = out;
          }
          // [T, B, D, H] → ONNX Y [T, D, B, H]
          for (let t = 0; t < T; t++)
            for (let b = 0; b < B; b++)
              for (let d = 0; d < D; d++) {
                Y.set(xs.subarray(((t * B + b) * D + d) * H, ((t * B + b) * D + d + 1) * H), (((k * T + t) * D + d) * B + b) * H);
              }
        }
        const Y_h = new Float32Array(L * D * B * H);
        h.forEach((v, l) => Y_h.set(v, l * D * B * H));
        let Y_c: Float32Array | undefined;
        if (s.cell === 'lstm') {
          Y_c = new Float32Array(L * D * B * H);
          c.forEach((v, l) => Y_c!.set(v, l * D * B * H));
        }
        return { Y, Y_h, Y_c };
      };
      return { run, dispose: () => undefined, placement: 'cpu (main thread)' };
    },
  };
}
