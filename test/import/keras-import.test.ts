// loadLayersModel against two oracles:
//  1. TF.js itself (@tensorflow/tfjs 4.22, CPU backend): random tf.layers models, saved by TF.js
//     (tf.io.withSaveHandler, i.e. "models saved by TF.js, loaded by webgpu-rnn"), loaded on the GPU,
//     compared with model.predict(), masking included; plus the committed fixture under test/fixtures/tfjs.
//  2. What TF.js cannot build (GRU reset_after = true, Keras 3's hard_sigmoid): model.json and weights
//     written here as Keras 2 / Keras 3 save them, compared with a float64 oracle of the Keras equations
//     written below from the Keras docs (Keras layouts and gate orders, no ONNX conversion), and where
//     the same weights mean the same thing to TF.js, with TF.js loading that file too.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError, UnsupportedError, WeightError } from '../../src/index.js';
import { loadLayersModel, type LayersModel, type PredictOutput } from '../../src/importers/keras/model.js';
import { expectClose } from '../support/close.js';
import { getTestDevice } from '../support/device.js';
import { rng, uniform } from '../../common/random.js';

const FIXTURES = new URL('../fixtures/tfjs/', import.meta.url);
let device: GPUDevice;
let worst = 0;
const counts = { tfjs: 0, float64: 0, fixture: 0 };

beforeAll(async () => {
  device = await getTestDevice();
  await tf.setBackend('cpu');
});

interface Artifacts {
  modelJson: string;
  weightData: ArrayBuffer;
}

/** model.json text + weights exactly as TF.js's save() writes them (one shard). */
async function saveTfjs(model: tf.LayersModel): Promise<Artifacts> {
  let out: Artifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const weightData = a.weightData as ArrayBuffer;
      out = {
        modelJson: JSON.stringify({
          modelTopology: a.modelTopology,
          format: a.format,
          generatedBy: a.generatedBy,
          convertedBy: a.convertedBy,
          weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
        }),
        weightData,
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return out!;
}

/** Replaces TF.js's random initial weights with seeded ones, large enough to leave the linear regime. */
function seedWeights(model: tf.LayersModel, seed: number, scale = 0.6): void {
  const r = rng(seed);
  model.setWeights(model.getWeights().map((w) => tf.tensor(uniform(r, w.size, scale), w.shape)));
}

function tfPredict(model: tf.LayersModel, x: Float32Array | Int32Array, shape: number[]): PredictOutput[] {
  const input = tf.tensor(x, shape, x instanceof Int32Array ? 'int32' : 'float32');
  const y = model.predict(input);
  const list = Array.isArray(y) ? y : [y];
  const out = list.map((t) => ({ data: t.dataSync() as Float32Array, shape: t.shape as number[] }));
  tf.dispose([input, ...list]);
  return out;
}

function compareOutputs(got: PredictOutput | PredictOutput[], want: PredictOutput[], label: string): void {
  const list = Array.isArray(got) ? got : [got];
  expect(list.length, `${label}: number of outputs`).toBe(want.length);
  list.forEach((g, i) => {
    expect(g.shape, `${label}: output ${i} shape`).toEqual(want[i].shape);
    worst = Math.max(worst, expectClose(g.data, want[i].data, `${label} output ${i}`));
  });
}

/** Saves with TF.js, loads on the GPU, runs both, compares every output. */
async function checkAgainstTfjs(
  model: tf.LayersModel,
  x: Float32Array | Int32Array,
  shape: number[],
  label: string,
  expectStacks?: string[][],
): Promise<LayersModel> {
  const { modelJson, weightData } = await saveTfjs(model);
  const ours = await loadLayersModel(device, modelJson, weightData);
  try {
    if (expectStacks)
      expect(
        ours.recurrentStacks.map((s) => s.length),
        `${label}: stacking`,
      ).toEqual(expectStacks.map((s) => s.length));
    compareOutputs(await ours.predict(x, shape), tfPredict(model, x, shape), label);
    counts.tfjs++;
  } finally {
    ours.destroy();
  }
  return ours;
}

const T = 6;
const B = 5;

/**
 * Inputs whose masked steps (every feature = maskValue) cover: row 0 none, row 1 trailing, row 2
 * interior, row 3 leading and interior, row 4 every step.
 */
function maskedInput(seed: number, F: number, maskValue: number): Float32Array {
  const x = uniform(rng(seed), B * T * F, 1.5);
  const masked: number[][] = [[], [4, 5], [1, 3], [0, 2, 3], [0, 1, 2, 3, 4, 5]];
  masked.forEach((steps, b) => steps.forEach((t) => x.fill(maskValue, (b * T + t) * F, (b * T + t + 1) * F)));
  return x;
}

/** Token ids in [1, vocab) with 0 (mask_zero padding) at the same places as maskedInput. */
function maskedTokens(seed: number, vocab: number): Int32Array {
  const r = rng(seed);
  const x = Int32Array.from({ length: B * T }, () => 1 + Math.floor(r() * (vocab - 1)));
  const masked: number[][] = [[], [4, 5], [1, 3], [0, 2, 3], [0, 1, 2, 3, 4, 5]];
  masked.forEach((steps, b) =>
    steps.forEach((t) => {
      x[b * T + t] = 0;
    }),
  );
  return x;
}

type Cell = 'lstm' | 'gru' | 'simpleRNN';
const rnnLayer = (cell: Cell, args: Record<string, unknown>): tf.layers.RNN => (tf.layers[cell] as (a: object) => tf.layers.RNN)(args);

describe('TF.js models saved by TF.js, loaded by webgpu-rnn (oracle: TF.js predict)', () => {
  const cells: Cell[] = ['lstm', 'gru', 'simpleRNN'];

  for (const cell of cells) {
    for (const [returnSequences, goBackwards, useBias] of [
      [false, false, true],
      [true, false, true],
      [true, true, true],
      [false, true, false],
    ] as const) {
      it(`${cell} returnSequences=${returnSequences} goBackwards=${goBackwards} useBias=${useBias}`, async () => {
        const m = tf.sequential();
        m.add(rnnLayer(cell, { units: 5, inputShape: [T, 3], returnSequences, goBackwards, useBias }));
        seedWeights(m, 11);
        await checkAgainstTfjs(m, uniform(rng(3), B * T * 3, 1.5), [B, T, 3], `${cell} seq=${returnSequences} back=${goBackwards}`);
      });
    }
  }

  const activations = ['tanh', 'sigmoid', 'hardSigmoid', 'relu', 'linear', 'softsign', 'softplus', 'elu'];
  for (const activation of activations) {
    it(`simpleRNN activation ${activation}`, async () => {
      const m = tf.sequential();
      m.add(tf.layers.simpleRNN({ units: 4, inputShape: [T, 3], activation: activation as 'tanh', returnSequences: true }));
      seedWeights(m, 21);
      await checkAgainstTfjs(m, uniform(rng(4), B * T * 3, 1.5), [B, T, 3], `simpleRNN ${activation}`);
    });
  }

  for (const [cell, activation, recurrentActivation] of [
    ['lstm', 'softsign', 'sigmoid'],
    ['lstm', 'relu', 'hardSigmoid'],
    ['gru', 'elu', 'sigmoid'],
    ['gru', 'softplus', 'hardSigmoid'],
    ['lstm', 'linear', 'softsign'],
  ] as const) {
    it(`${cell} activation=${activation} recurrentActivation=${recurrentActivation}`, async () => {
      const m = tf.sequential();
      m.add(rnnLayer(cell, { units: 4, inputShape: [T, 3], activation, recurrentActivation, returnSequences: true }));
      seedWeights(m, 31);
      await checkAgainstTfjs(m, uniform(rng(5), B * T * 3, 1.5), [B, T, 3], `${cell} ${activation}/${recurrentActivation}`);
    });
  }

  for (const cell of cells) {
    for (const mergeMode of ['concat', 'sum', 'mul', 'ave', null] as const) {
      for (const returnSequences of [true, false]) {
        it(`bidirectional ${cell} mergeMode=${mergeMode} returnSequences=${returnSequences} (Masking)`, async () => {
          const input = tf.input({ shape: [T, 3] });
          const masked = tf.layers.masking({ maskValue: 0 }).apply(input) as tf.SymbolicTensor;
          const bi = tf.layers.bidirectional({ layer: rnnLayer(cell, { units: 4, returnSequences }), mergeMode: mergeMode as 'concat' });
          const y = bi.apply(masked) as tf.SymbolicTensor | tf.SymbolicTensor[];
          const m = tf.model({ inputs: input, outputs: y });
          seedWeights(m, 41);
          await checkAgainstTfjs(m, maskedInput(6, 3, 0), [B, T, 3], `bi ${cell} ${mergeMode} seq=${returnSequences}`);
        });
      }
    }
  }

  for (const cell of cells) {
    it(`${cell} returnState (functional, several outputs, Masking with mask_value -1)`, async () => {
      const input = tf.input({ shape: [T, 3] });
      const masked = tf.layers.masking({ maskValue: -1 }).apply(input) as tf.SymbolicTensor;
      const outs = rnnLayer(cell, { units: 4, returnSequences: true, returnState: true }).apply(masked) as tf.SymbolicTensor[];
      const dense = tf.layers.dense({ units: 2, activation: 'tanh' }).apply(outs[0]) as tf.SymbolicTensor;
      const m = tf.model({ inputs: input, outputs: [dense, ...outs] });
      seedWeights(m, 51);
      await checkAgainstTfjs(m, maskedInput(7, 3, -1), [B, T, 3], `${cell} returnState`);
    });

    it(`bidirectional ${cell} returnState useBias=false`, async () => {
      const input = tf.input({ shape: [T, 3] });
      const bi = tf.layers.bidirectional({ layer: rnnLayer(cell, { units: 3, returnState: true, useBias: false }), mergeMode: 'concat' });
      const outs = bi.apply(input) as tf.SymbolicTensor[];
      const m = tf.model({ inputs: input, outputs: outs });
      seedWeights(m, 61);
      await checkAgainstTfjs(m, uniform(rng(8), B * T * 3, 1.5), [B, T, 3], `bi ${cell} returnState`);
    });
  }

  it('3 stacked LSTMs run as one engine model (Masking, interior and trailing masked steps)', async () => {
    const m = tf.sequential();
    m.add(tf.layers.masking({ maskValue: 0, inputShape: [T, 4] }));
    m.add(tf.layers.lstm({ units: 6, returnSequences: true, recurrentActivation: 'sigmoid' }));
    m.add(tf.layers.lstm({ units: 6, returnSequences: true, recurrentActivation: 'sigmoid' }));
    m.add(tf.layers.lstm({ units: 6, recurrentActivation: 'sigmoid' }));
    seedWeights(m, 71);
    await checkAgainstTfjs(m, maskedInput(9, 4, 0), [B, T, 4], 'stacked lstm', [['a', 'b', 'c']]);
  });

  it('Embedding mask_zero → 2 stacked bidirectional GRUs (one engine model) → Dense softmax', async () => {
    const m = tf.sequential();
    m.add(tf.layers.embedding({ inputDim: 11, outputDim: 4, maskZero: true, inputLength: T }));
    m.add(tf.layers.bidirectional({ layer: tf.layers.gru({ units: 5, returnSequences: true }) as tf.layers.RNN }));
    m.add(tf.layers.bidirectional({ layer: tf.layers.gru({ units: 5, returnSequences: true }) as tf.layers.RNN }));
    m.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
    seedWeights(m, 81);
    await checkAgainstTfjs(m, maskedTokens(10, 11), [B, T], 'embedding bigru', [['a', 'b']]);
  });

  it('layers that cannot stack run one after another: LSTM → GRU → go_backwards SimpleRNN, Dropout, Dense in between', async () => {
    const m = tf.sequential();
    m.add(tf.layers.embedding({ inputDim: 9, outputDim: 3, maskZero: true, inputLength: T }));
    m.add(tf.layers.lstm({ units: 4, returnSequences: true }));
    m.add(tf.layers.dropout({ rate: 0.5 }));
    m.add(tf.layers.gru({ units: 4, returnSequences: true, goBackwards: true }));
    m.add(tf.layers.dense({ units: 5, activation: 'relu' }));
    m.add(tf.layers.simpleRNN({ units: 3, goBackwards: true, returnSequences: true }));
    m.add(tf.layers.simpleRNN({ units: 3 }));
    seedWeights(m, 91);
    await checkAgainstTfjs(m, maskedTokens(11, 9), [B, T], 'mixed stack', [['a'], ['b'], ['c'], ['d']]);
  });

  it('Masking → Dense (mask passes through) → bidirectional LSTM sum, mask propagated through return_sequences', async () => {
    const m = tf.sequential();
    m.add(tf.layers.masking({ maskValue: 0.5, inputShape: [T, 2] }));
    m.add(tf.layers.dense({ units: 3, activation: 'sigmoid' }));
    m.add(tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 4, returnSequences: true }) as tf.layers.RNN, mergeMode: 'sum' }));
    m.add(tf.layers.lstm({ units: 2, returnSequences: true }));
    seedWeights(m, 101);
    await checkAgainstTfjs(m, maskedInput(12, 2, 0.5), [B, T, 2], 'masking dense bilstm');
  });

  it('Dense activations on the CPU (selu, softplus, hard_sigmoid, log_softmax, relu6, swish)', async () => {
    const input = tf.input({ shape: [T, 3] });
    const h = tf.layers.gru({ units: 4 }).apply(input) as tf.SymbolicTensor;
    const outs = ['selu', 'softplus', 'hardSigmoid', 'logSoftmax', 'relu6', 'swish', 'softsign', 'elu', 'linear'].map(
      (a) => tf.layers.dense({ units: 3, activation: a as 'selu' }).apply(h) as tf.SymbolicTensor,
    );
    const m = tf.model({ inputs: input, outputs: outs });
    seedWeights(m, 111, 2);
    await checkAgainstTfjs(m, uniform(rng(13), B * T * 3, 1.5), [B, T, 3], 'dense activations');
  });

  it('saturating inputs and weights (|pre-activation| up to ~100)', async () => {
    const m = tf.sequential();
    m.add(tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 8, returnSequences: true }) as tf.layers.RNN, inputShape: [T, 5] }));
    m.add(tf.layers.gru({ units: 7 }));
    seedWeights(m, 121, 3);
    await checkAgainstTfjs(m, uniform(rng(14), B * T * 5, 10), [B, T, 5], 'saturating');
  });

  it('the fixture under test/fixtures/tfjs, loaded from disk, matches the outputs TF.js recorded and TF.js loading it now', async () => {
    const modelJson = readFileSync(new URL('model.json', FIXTURES), 'utf8');
    const weights = readFileSync(new URL('weights.bin', FIXTURES));
    const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURES), 'utf8')) as {
      x: number[];
      shape: number[];
      outputs: { data: number[]; shape: number[] }[];
    };
    const ours = await loadLayersModel(device, modelJson, weights); // a Node Buffer, read in place
    const x = Float32Array.from(expected.x);
    const got = await ours.predict(x, expected.shape);
    ours.destroy();
    compareOutputs(
      got,
      expected.outputs.map((o) => ({ data: Float32Array.from(o.data), shape: o.shape })),
      'fixture (recorded)',
    );
    const parsed = JSON.parse(modelJson);
    const theirs = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: parsed.modelTopology,
        weightSpecs: parsed.weightsManifest[0].weights,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      }),
    );
    compareOutputs(got, tfPredict(theirs, x, expected.shape), 'fixture (TF.js now)');
    counts.fixture++;
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-written Keras 2 / Keras 3 files and the float64 Keras oracle.

type Vec = Float64Array;
const ACT: Record<string, (x: number) => number> = {
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  hard_sigmoid_keras2: (x) => Math.min(1, Math.max(0, 0.2 * x + 0.5)),
  hard_sigmoid_keras3: (x) => Math.min(1, Math.max(0, x / 6 + 0.5)),
  relu: (x) => Math.max(0, x),
};

interface KerasCell {
  kind: 'lstm' | 'gru';
  units: number;
  kernel: Float32Array; // [I, G·H], Keras gate order
  recurrentKernel: Float32Array; // [H, G·H]
  bias: Float32Array; // LSTM [4H]; GRU reset_after [2, 3H]
  resetAfter?: boolean;
  act: (x: number) => number;
  rec: (x: number) => number;
}

/** x·K for one row: x [n], K [n, m] → [m]. */
function rowTimes(x: ArrayLike<number>, K: Float32Array, n: number, m: number, off = 0): Vec {
  const out = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += x[k] * K[k * m + j + off];
    out[j] = s;
  }
  return out;
}

/**
 * Keras's recurrent layer, float64, straight from the Keras equations: LSTM gates i, f, c, o;
 * GRU z, r, h with reset_after; a masked step keeps the states and repeats the previous output;
 * go_backwards walks from T − 1 and returns the outputs in that order.
 */
function kerasRnn(c: KerasCell, x: Float32Array, Bn: number, Tn: number, I: number, mask: Uint8Array | null, goBackwards: boolean) {
  const H = c.units;
  const G = c.kind === 'lstm' ? 4 : 3;
  const seq = new Float64Array(Bn * Tn * H);
  const hOut = new Float64Array(Bn * H);
  const cOut = new Float64Array(Bn * H);
  for (let b = 0; b < Bn; b++) {
    let h = new Float64Array(H);
    let cs = new Float64Array(H);
    for (let s = 0; s < Tn; s++) {
      const t = goBackwards ? Tn - 1 - s : s;
      const xt = x.subarray((b * Tn + t) * I, (b * Tn + t + 1) * I);
      if (!mask || mask[b * Tn + t]) {
        const xk = rowTimes(xt, c.kernel, I, G * H);
        if (c.kind === 'lstm') {
          const hk = rowTimes(h, c.recurrentKernel, H, G * H);
          const g = (k: number, j: number) => xk[k * H + j] + hk[k * H + j] + c.bias[k * H + j];
          const nh = new Float64Array(H);
          const nc = new Float64Array(H);
          for (let j = 0; j < H; j++) {
            const i = c.rec(g(0, j)),
              f = c.rec(g(1, j)),
              cc = c.act(g(2, j)),
              o = c.rec(g(3, j));
            nc[j] = f * cs[j] + i * cc;
            nh[j] = o * c.act(nc[j]);
          }
          h = nh;
          cs = nc;
        } else {
          if (!c.resetAfter) throw new Error('the oracle covers reset_after GRUs (TF.js covers reset_after = false)');
          const inB = c.bias.subarray(0, 3 * H);
          const recB = c.bias.subarray(3 * H);
          const hk = rowTimes(h, c.recurrentKernel, H, 3 * H);
          const nh = new Float64Array(H);
          for (let j = 0; j < H; j++) {
            const z = c.rec(xk[j] + inB[j] + hk[j] + recB[j]);
            const r = c.rec(xk[H + j] + inB[H + j] + hk[H + j] + recB[H + j]);
            const hh = c.act(xk[2 * H + j] + inB[2 * H + j] + r * (hk[2 * H + j] + recB[2 * H + j]));
            nh[j] = z * h[j] + (1 - z) * hh;
          }
          h = nh;
        }
      }
      seq.set(h, (b * Tn + s) * H);
    }
    hOut.set(h, b * H);
    cOut.set(cs, b * H);
  }
  return { seq, h: hOut, c: cOut };
}

interface WeightSpec {
  name: string;
  shape: number[];
  data: Float32Array;
}

function packWeights(ws: WeightSpec[]): { manifest: object[]; data: ArrayBuffer } {
  const data = new Float32Array(ws.reduce((n, w) => n + w.data.length, 0));
  let off = 0;
  for (const w of ws) {
    data.set(w.data, off);
    off += w.data.length;
  }
  return {
    manifest: [{ paths: ['group1-shard1of1.bin'], weights: ws.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
    data: data.buffer,
  };
}

/** A Keras 2 model.json as the Python converter writes it (model_config nested, batch_input_shape, list inbound nodes). */
function keras2Sequential(version: string, inputShape: number[], layers: object[], manifest: object[]): string {
  return JSON.stringify({
    format: 'layers-model',
    generatedBy: `keras v${version}`,
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: {
      keras_version: version,
      backend: 'tensorflow',
      model_config: {
        class_name: 'Sequential',
        config: {
          name: 'sequential',
          layers: [
            {
              class_name: 'InputLayer',
              config: { batch_input_shape: [null, ...inputShape], dtype: 'float32', sparse: false, ragged: false, name: 'input_1' },
            },
            ...layers,
          ],
        },
      },
    },
    weightsManifest: manifest,
  });
}

/** A Keras 3 Functional model.json (module / registered_name entries, batch_shape, __keras_tensor__ arguments). */
function keras3Functional(
  version: string,
  inputShape: number[],
  layer: { class_name: string; config: object },
  manifest: object[],
  outputs = 1,
): string {
  const name = (layer.config as { name: string }).name;
  const tensor = (from: string) => ({
    class_name: '__keras_tensor__',
    config: { shape: [null, ...inputShape], dtype: 'float32', keras_history: [from, 0, 0] },
  });
  return JSON.stringify({
    format: 'layers-model',
    generatedBy: `keras v${version}`,
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: {
      keras_version: version,
      backend: 'tensorflow',
      model_config: {
        class_name: 'Functional',
        config: {
          name: 'functional',
          trainable: true,
          layers: [
            {
              module: 'keras.layers',
              class_name: 'InputLayer',
              config: { batch_shape: [null, ...inputShape], dtype: 'float32', sparse: false, name: 'input_layer' },
              registered_name: null,
              name: 'input_layer',
              inbound_nodes: [],
            },
            {
              module: 'keras.layers',
              class_name: layer.class_name,
              config: layer.config,
              registered_name: null,
              build_config: { input_shape: [null, ...inputShape] },
              name,
              inbound_nodes: [{ args: [tensor('input_layer')], kwargs: { training: false, mask: null } }],
            },
          ],
          input_layers: ['input_layer', 0, 0],
          // Keras 3 writes a single tensor flat, several as a list.
          output_layers: outputs === 1 ? [name, 0, 0] : Array.from({ length: outputs }, (_, i) => [name, 0, i]),
        },
      },
    },
    weightsManifest: manifest,
  });
}

const HAND_T = 7;
const HAND_B = 4;
/** Rows: full, trailing masked, interior masked, leading masked (mask from Masking, mask_value 0). */
function handInput(I: number, seed: number): { x: Float32Array; mask: Uint8Array } {
  const x = uniform(rng(seed), HAND_B * HAND_T * I, 1.5);
  const mask = new Uint8Array(HAND_B * HAND_T).fill(1);
  [[], [5, 6], [2, 4], [0, 1]].forEach((steps, b) =>
    steps.forEach((t) => {
      mask[b * HAND_T + t] = 0;
      x.fill(0, (b * HAND_T + t) * I, (b * HAND_T + t + 1) * I);
    }),
  );
  return { x, mask };
}

function toF32(v: Float64Array): Float32Array {
  return Float32Array.from(v);
}

describe('hand-written Keras 2 / Keras 3 files (oracle: float64 Keras equations, and TF.js where it can load them)', () => {
  const I = 3;
  const H = 5;

  for (const version of ['2.15.0', '3.4.1']) {
    for (const goBackwards of [false, true]) {
      it(`GRU reset_after=True, bias (2, 3H), Keras ${version}, go_backwards=${goBackwards}, Masking`, async () => {
        const r = rng(201);
        const cell: KerasCell = {
          kind: 'gru',
          units: H,
          resetAfter: true,
          act: ACT.tanh,
          rec: ACT.sigmoid,
          kernel: uniform(r, I * 3 * H, 0.7),
          recurrentKernel: uniform(r, H * 3 * H, 0.7),
          bias: uniform(r, 2 * 3 * H, 0.5),
        };
        const gruConfig = {
          name: 'gru',
          trainable: true,
          units: H,
          activation: 'tanh',
          recurrent_activation: 'sigmoid',
          use_bias: true,
          reset_after: true,
          return_sequences: true,
          return_state: false,
          go_backwards: goBackwards,
          stateful: false,
          unroll: false,
          dropout: 0,
          recurrent_dropout: 0,
        };
        const { manifest, data } = packWeights([
          { name: 'gru/gru_cell/kernel', shape: [I, 3 * H], data: cell.kernel },
          { name: 'gru/gru_cell/recurrent_kernel', shape: [H, 3 * H], data: cell.recurrentKernel },
          { name: 'gru/gru_cell/bias', shape: [2, 3 * H], data: cell.bias },
        ]);
        const masking = { class_name: 'Masking', config: { name: 'masking', mask_value: 0 } };
        const json = version.startsWith('2')
          ? keras2Sequential(version, [HAND_T, I], [masking, { class_name: 'GRU', config: gruConfig }], manifest)
          : keras2Sequential(
              version,
              [HAND_T, I],
              [
                { ...masking, module: 'keras.layers' },
                { module: 'keras.layers', class_name: 'GRU', config: gruConfig },
              ],
              manifest,
            );
        const { x, mask } = handInput(I, 202);
        const ours = await loadLayersModel(device, json, data);
        const got = (await ours.predict(x, [HAND_B, HAND_T, I])) as PredictOutput;
        ours.destroy();
        const want = kerasRnn(cell, x, HAND_B, HAND_T, I, mask, goBackwards);
        expect(got.shape).toEqual([HAND_B, HAND_T, H]);
        worst = Math.max(worst, expectClose(got.data, toF32(want.seq), `GRU reset_after Keras ${version}`));
        counts.float64++;
      });
    }
  }

  for (const [version, hs] of [
    ['2.15.0', ACT.hard_sigmoid_keras2],
    ['3.4.1', ACT.hard_sigmoid_keras3],
  ] as const) {
    it(`LSTM recurrent_activation hard_sigmoid follows the Keras ${version[0]} definition (Keras 3 Functional format for 3.x)`, async () => {
      const r = rng(301);
      // Weights of 2 make pre-activations land in all three pieces of both hard_sigmoid definitions.
      const cell: KerasCell = {
        kind: 'lstm',
        units: H,
        act: ACT.tanh,
        rec: hs,
        kernel: uniform(r, I * 4 * H, 2),
        recurrentKernel: uniform(r, H * 4 * H, 1),
        bias: uniform(r, 4 * H, 1),
      };
      const lstmConfig = {
        name: 'lstm',
        trainable: true,
        units: H,
        activation: 'tanh',
        recurrent_activation: 'hard_sigmoid',
        use_bias: true,
        unit_forget_bias: true,
        return_sequences: false,
        return_state: true,
        go_backwards: false,
        stateful: false,
        unroll: false,
        dropout: 0,
        recurrent_dropout: 0,
      };
      const { manifest, data } = packWeights([
        { name: 'lstm/lstm_cell/kernel', shape: [I, 4 * H], data: cell.kernel },
        { name: 'lstm/lstm_cell/recurrent_kernel', shape: [H, 4 * H], data: cell.recurrentKernel },
        { name: 'lstm/lstm_cell/bias', shape: [4 * H], data: cell.bias },
      ]);
      // Keras 2: a Sequential (one output, the last h); Keras 3: a Functional returning [output, h, c].
      const json = version.startsWith('2')
        ? keras2Sequential(version, [HAND_T, I], [{ class_name: 'LSTM', config: { ...lstmConfig, return_state: false } }], manifest)
        : keras3Functional(version, [HAND_T, I], { class_name: 'LSTM', config: lstmConfig }, manifest, 3);
      const x = uniform(rng(302), HAND_B * HAND_T * I, 1.5);
      const ours = await loadLayersModel(device, json, data);
      const result = await ours.predict(x, [HAND_B, HAND_T, I]);
      ours.destroy();
      const got = Array.isArray(result) ? result : [result];
      const want = kerasRnn(cell, x, HAND_B, HAND_T, I, null, false);
      const wanted = version.startsWith('2') ? [want.h] : [want.h, want.h, want.c];
      expect(got.map((g) => g.shape)).toEqual(wanted.map(() => [HAND_B, H]));
      wanted.forEach((w, i) => {
        worst = Math.max(worst, expectClose(got[i].data, toF32(w), `LSTM hard_sigmoid Keras ${version} output ${i}`));
      });
      counts.float64++;
      if (version.startsWith('2')) {
        // Keras 2's hard_sigmoid is TF.js's: TF.js loads the same file and must agree.
        const parsed = JSON.parse(json);
        const theirs = await tf.loadLayersModel(
          tf.io.fromMemory({ modelTopology: parsed.modelTopology, weightSpecs: parsed.weightsManifest[0].weights, weightData: data }),
        );
        compareOutputs(got, tfPredict(theirs, x, [HAND_B, HAND_T, I]), 'Keras 2 file, TF.js');
        counts.tfjs++;
      } else {
        // The same weights read with the Keras 2 definition must differ: the branch on keras_version matters.
        const other = kerasRnn({ ...cell, rec: ACT.hard_sigmoid_keras2 }, x, HAND_B, HAND_T, I, null, false);
        expect(Math.max(...toF32(other.h).map((v, i) => Math.abs(v - got[0].data[i])))).toBeGreaterThan(1e-3);
      }
    });
  }

  it('a Keras 3 Functional file with sigmoid activations loads like TF.js loads the same weights', async () => {
    const r = rng(401);
    const cell: KerasCell = {
      kind: 'lstm',
      units: H,
      act: ACT.tanh,
      rec: ACT.sigmoid,
      kernel: uniform(r, I * 4 * H, 0.8),
      recurrentKernel: uniform(r, H * 4 * H, 0.8),
      bias: uniform(r, 4 * H, 0.5),
    };
    const lstmConfig = {
      name: 'lstm_7',
      units: H,
      activation: 'tanh',
      recurrent_activation: 'sigmoid',
      use_bias: true,
      return_sequences: true,
    };
    const { manifest, data } = packWeights([
      { name: 'lstm_7/lstm_cell/kernel', shape: [I, 4 * H], data: cell.kernel },
      { name: 'lstm_7/lstm_cell/recurrent_kernel', shape: [H, 4 * H], data: cell.recurrentKernel },
      { name: 'lstm_7/lstm_cell/bias', shape: [4 * H], data: cell.bias },
    ]);
    const x = uniform(rng(402), HAND_B * HAND_T * I, 1.5);
    const ours = await loadLayersModel(
      device,
      keras3Functional('3.4.1', [HAND_T, I], { class_name: 'LSTM', config: lstmConfig }, manifest),
      data,
    );
    const got = (await ours.predict(x, [HAND_B, HAND_T, I])) as PredictOutput;
    ours.destroy();
    worst = Math.max(
      worst,
      expectClose(got.data, toF32(kerasRnn(cell, x, HAND_B, HAND_T, I, null, false).seq), 'Keras 3 sigmoid LSTM, float64'),
    );
    counts.float64++;
    // TF.js reads the Keras 2 layout of the same layer and weights.
    const m = tf.sequential();
    m.add(tf.layers.lstm({ units: H, inputShape: [HAND_T, I], recurrentActivation: 'sigmoid', returnSequences: true }));
    m.setWeights([tf.tensor(cell.kernel, [I, 4 * H]), tf.tensor(cell.recurrentKernel, [H, 4 * H]), tf.tensor(cell.bias, [4 * H])]);
    compareOutputs(got, tfPredict(m, x, [HAND_B, HAND_T, I]), 'Keras 3 sigmoid LSTM, TF.js');
    counts.tfjs++;
  });
});

describe('errors name what is wrong', () => {
  async function tinyArtifacts(): Promise<Artifacts> {
    const m = tf.sequential();
    m.add(tf.layers.lstm({ units: 2, inputShape: [3, 2] }));
    return saveTfjs(m);
  }

  it('an activation with no ONNX equivalent is UnsupportedError naming the layer and the activation', async () => {
    const m = tf.sequential();
    m.add(tf.layers.simpleRNN({ units: 2, inputShape: [3, 2], activation: 'selu', name: 'my_rnn' }));
    const a = await saveTfjs(m);
    await expect(loadLayersModel(device, a.modelJson, a.weightData)).rejects.toThrow(UnsupportedError);
    await expect(loadLayersModel(device, a.modelJson, a.weightData)).rejects.toThrow(/my_rnn.*selu/);
  });

  it('an unsupported layer class is UnsupportedError', async () => {
    const m = tf.sequential();
    m.add(tf.layers.conv1d({ filters: 2, kernelSize: 2, inputShape: [4, 2] }));
    const a = await saveTfjs(m);
    await expect(loadLayersModel(device, a.modelJson, a.weightData)).rejects.toThrow(/Conv1D is not supported/);
  });

  it('truncated weight data is FormatError; a mis-shaped kernel is WeightError; bad JSON is FormatError', async () => {
    const a = await tinyArtifacts();
    await expect(loadLayersModel(device, a.modelJson, a.weightData.slice(0, 12))).rejects.toThrow(FormatError);
    const json = JSON.parse(a.modelJson);
    json.weightsManifest[0].weights[0].shape = [4, 4]; // the kernel keeps its 16 floats but not its [2, 8] shape
    await expect(loadLayersModel(device, json, a.weightData)).rejects.toThrow(WeightError);
    await expect(loadLayersModel(device, a.modelJson.slice(0, 40), a.weightData)).rejects.toThrow(FormatError);
  });

  it('predict checks the input shape and refuses to run after destroy()', async () => {
    const a = await tinyArtifacts();
    const ours = await loadLayersModel(device, a.modelJson, a.weightData);
    await expect(ours.predict(new Float32Array(12), [2, 3, 3])).rejects.toThrow(/does not match/);
    ours.destroy();
    await expect(ours.predict(new Float32Array(12), [2, 3, 2])).rejects.toThrow(/destroy/);
  });
});

describe('summary', () => {
  it('reports the case counts and the largest error', () => {
    console.log(
      `[keras-import] cases: TF.js oracle ${counts.tfjs}, float64 Keras oracle ${counts.float64}, fixture ${counts.fixture}; largest |ours − oracle| ${worst.toExponential(2)}`,
    );
    expect(counts.tfjs + counts.float64 + counts.fixture).toBeGreaterThan(0);
  });
});
