// TF.js 4.22 Layers (LSTM, GRU, SimpleRNN, Bidirectional) on the webgpu backend, with the ONNX weights
// converted to Keras layouts (rnn-semantics.md §7-9): kernel [I, G·H] and recurrent kernel [H, G·H],
// LSTM blocks i, f, c, o (ONNX i, o, f, c), GRU z, r, h (same as ONNX), one bias = Wb + Rb.
// TF.js's GRU is reset_after = false only, i.e. ONNX linear_before_reset = 0.
import type * as TfTypes from '@tensorflow/tfjs';
import type { LayerWeights } from '../../../src/index.js';
import { dirs, GATES, type BenchShape } from '../shapes.js';
import { NotApplicable, type Engine, type Outputs, type Prepared } from '../types.js';

type Tf = typeof TfTypes;
type Tensor = TfTypes.Tensor;
type SymbolicTensor = TfTypes.SymbolicTensor;

/** Keras block k comes from ONNX block PERM[k]. */
const PERM = { lstm: [0, 2, 3, 1], gru: [0, 1, 2], rnn: [0] } as const;
const ACTIVATIONS: Record<string, string> = { sigmoid: 'sigmoid', tanh: 'tanh', relu: 'relu', hardsigmoid: 'hardSigmoid' };

let tfReady: Promise<Tf> | undefined;

export function loadTf(): Promise<Tf> {
  return (tfReady ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
    await tf.ready();
    return tf;
  })());
}

/** Keras [kernel, recurrent kernel, bias] of one direction from ONNX W, R, B. */
export function toKeras(
  s: BenchShape,
  w: LayerWeights,
  d: number,
  I: number,
): { kernel: Float32Array; recurrent: Float32Array; bias: Float32Array } {
  const G = GATES[s.cell];
  const H = s.hiddenSize;
  const perm = PERM[s.cell];
  const kernel = new Float32Array(I * G * H);
  const recurrent = new Float32Array(H * G * H);
  const bias = new Float32Array(G * H);
  for (let k = 0; k < G; k++) {
    const src = perm[k];
    for (let j = 0; j < H; j++) {
      const row = src * H + j;
      for (let i = 0; i < I; i++) kernel[i * G * H + k * H + j] = w.W[(d * G * H + row) * I + i];
      for (let i = 0; i < H; i++) recurrent[i * G * H + k * H + j] = w.R[(d * G * H + row) * H + i];
      if (w.B) bias[k * H + j] = w.B[d * 2 * G * H + row] + w.B[d * 2 * G * H + G * H + row];
    }
  }
  return { kernel, recurrent, bias };
}

function activations(s: BenchShape): { recurrentActivation?: string; activation: string } | string {
  const names = (
    s.activations ?? (s.cell === 'lstm' ? ['Sigmoid', 'Tanh', 'Tanh'] : s.cell === 'gru' ? ['Sigmoid', 'Tanh'] : ['Tanh'])
  ).map((n) => n.toLowerCase());
  const map = (n: string) => ACTIVATIONS[n];
  if (names.some((n) => !map(n))) return `TF.js has no equivalent of the ONNX activations ${names.join('/')}`;
  if (s.cell === 'rnn') return { activation: map(names[0]) };
  if (s.cell === 'lstm' && names[1] !== names[2]) return 'Keras LSTM uses one activation for both g and h';
  return { recurrentActivation: map(names[0]), activation: map(names[1]) };
}

export function tfjsEngine(): Engine {
  return {
    id: 'tfjs-webgpu',
    label: 'TF.js 4.22 webgpu',
    gpu: true,
    unsupported(s) {
      if (s.cell === 'gru' && s.linearBeforeReset) return 'TF.js GRU supports reset_after = false only (ONNX linear_before_reset = 0)';
      if (s.direction === 'reverse') return 'reverse-only direction not mapped (TF.js goBackwards returns the sequence reversed)';
      if (s.stream && s.direction === 'bidirectional') return 'streaming bidirectional layers are not meaningful';
      const a = activations(s);
      return typeof a === 'string' ? a : null;
    },
    async prepare(s, weights, x): Promise<Prepared> {
      // Without a working TF.js WebGPU backend here the engine does not apply; errors after that are failures.
      const tf = await loadTf().catch((e: unknown) => {
        throw new NotApplicable(`TF.js's webgpu backend is not available: ${(e as Error)?.message ?? String(e)}`);
      });
      const acts = activations(s) as { recurrentActivation?: string; activation: string };
      const D = dirs(s);
      const H = s.hiddenSize;
      const B = s.batch;
      const I = s.inputSize;
      const L = s.numLayers;
      const T = s.stream ? 1 : s.seqLen;
      const steps = s.stream ?? s.seqLen;
      const hasC = s.cell === 'lstm';
      const xIn = tf.input({ batchShape: [B, T, I] });
      const stateIn: SymbolicTensor[] = [];
      const stateOut: SymbolicTensor[] = [];
      const layers: TfTypes.layers.Layer[] = [];
      let h: SymbolicTensor = xIn;
      for (let l = 0; l < L; l++) {
        // Zeros initializers: the default Orthogonal initializer takes minutes on large kernels (anchors.md §7).
        const opts = {
          units: H,
          returnSequences: true,
          returnState: !!s.stream,
          useBias: true,
          kernelInitializer: 'zeros',
          recurrentInitializer: 'zeros',
          biasInitializer: 'zeros',
          activation: acts.activation,
          ...(acts.recurrentActivation ? { recurrentActivation: acts.recurrentActivation } : {}),
        } as Parameters<typeof tf.layers.lstm>[0];
        let layer: TfTypes.layers.Layer =
          s.cell === 'lstm' ? tf.layers.lstm(opts) : s.cell === 'gru' ? tf.layers.gru(opts) : tf.layers.simpleRNN(opts);
        if (D === 2) layer = tf.layers.bidirectional({ layer: layer as TfTypes.layers.RNN, mergeMode: 'concat' });
        layers.push(layer);
        if (s.stream) {
          const init = [tf.input({ batchShape: [B, H] })];
          if (hasC) init.push(tf.input({ batchShape: [B, H] }));
          stateIn.push(...init);
          const out = layer.apply(h, { initialState: init }) as SymbolicTensor[];
          h = out[0];
          stateOut.push(...out.slice(1));
        } else {
          h = layer.apply(h) as SymbolicTensor;
        }
      }
      const model = tf.model({ inputs: [xIn, ...stateIn], outputs: [h, ...stateOut] });
      layers.forEach((layer, l) => {
        const Il = l === 0 ? I : D * H;
        const ws: Tensor[] = [];
        for (let d = 0; d < D; d++) {
          const k = toKeras(s, weights[l], d, Il);
          ws.push(
            tf.tensor2d(k.kernel, [Il, k.kernel.length / Il]),
            tf.tensor2d(k.recurrent, [H, k.recurrent.length / H]),
            tf.tensor1d(k.bias),
          );
        }
        layer.setWeights(ws);
        tf.dispose(ws);
      });
      // Keras is batch-major: x [B, steps, I] and Y [B, steps, D·H] (concat, forward first).
      const xb = new Float32Array(x.length);
      for (let t = 0; t < steps; t++)
        for (let b = 0; b < B; b++) xb.set(x.subarray((t * B + b) * I, (t * B + b + 1) * I), (b * steps + t) * I);
      const toOnnxY = (yb: Float32Array, Tn: number, Y: Float32Array, t0: number) => {
        for (let b = 0; b < B; b++)
          for (let t = 0; t < Tn; t++)
            for (let d = 0; d < D; d++) {
              Y.set(yb.subarray((b * Tn + t) * D * H + d * H, (b * Tn + t) * D * H + (d + 1) * H), (((t0 + t) * D + d) * B + b) * H);
            }
      };
      const run = async (): Promise<Outputs> => {
        const Y = new Float32Array(steps * D * B * H);
        if (!s.stream) {
          const xt = tf.tensor3d(xb, [B, T, I]);
          const y = model.predict(xt) as Tensor;
          toOnnxY((await y.data()) as Float32Array, T, Y, 0);
          tf.dispose([xt, y]);
          return { Y };
        }
        // Streaming: the state stays on the GPU as tensors; each call's output is read back (the app needs it).
        let states: Tensor[] = [];
        for (let l = 0; l < L; l++) for (let k = 0; k < (hasC ? 2 : 1); k++) states.push(tf.zeros([B, H]));
        for (let k = 0; k < steps; k++) {
          const xk = new Float32Array(B * I);
          for (let b = 0; b < B; b++) xk.set(xb.subarray((b * steps + k) * I, (b * steps + k + 1) * I), b * I);
          const xt = tf.tensor3d(xk, [B, 1, I]);
          const out = model.predict([xt, ...states]) as Tensor[];
          toOnnxY((await out[0].data()) as Float32Array, 1, Y, k);
          tf.dispose([xt, out[0], ...states]);
          states = out.slice(1);
        }
        const data = await Promise.all(states.map((t) => t.data() as Promise<Float32Array>));
        tf.dispose(states);
        const per = hasC ? 2 : 1;
        const Y_h = new Float32Array(L * B * H);
        const Y_c = hasC ? new Float32Array(L * B * H) : undefined;
        for (let l = 0; l < L; l++) {
          Y_h.set(data[l * per], l * B * H);
          if (Y_c) Y_c.set(data[l * per + 1], l * B * H);
        }
        return { Y, Y_h, Y_c };
      };
      const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
      return { run, dispose: () => void model.dispose(), device, placement: 'webgpu', notes: [`backend ${tf.getBackend()}`] };
    },
  };
}
