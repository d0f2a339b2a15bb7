// Fuzzing the Layers-model loader: 10,000 seeded mutations of valid model.json texts and weight
// bytes (character flips, truncations, deleted and repeated spans, values replaced by huge, negative,
// fractional or wrongly typed ones, unknown dtypes, keys removed, bytes flipped, shards cut or padded).
// The loader may only (a) throw one of the library's own errors (WebGpuRnnError: FormatError,
// UnsupportedError, WeightError, …) or (b) load. Every mutation goes through the GPU-free part
// (planLayersModel, which does all the parsing and checking) in the parse-only test, which needs no
// GPU; in a second test the first mutants that load go on to the GPU: loadLayersModel + predict,
// whose results must be well formed and, where TF.js loads the same mutant, equal to TF.js's.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebGpuRnnError } from '../../src/index.js';
import { loadLayersModel, planLayersModel, type PredictOutput } from '../../src/importers/keras/model.js';
import { compare } from '../support/close.js';
import { getTestDevice } from '../support/device.js';
import { rng, uniform } from '../../common/random.js';

const MUTANTS_PER_BASE = 5000;
/** Per base model: the first mutants that pass the CPU-side checks also run on the GPU. */
const GPU_MUTANTS_PER_BASE = 15;
/**
 * Of those, how many TF.js must also load and be compared with: with these seeds 24 of the 30 that run
 * are; the floor leaves room for the library accepting or refusing a few mutants differently.
 */
const MIN_TFJS_COMPARED = 18;

interface Base {
  name: string;
  json: string;
  weights: ArrayBuffer;
  x: Float32Array | Int32Array;
  shape: number[];
}

const bases: Base[] = [];

// CPU only (TF.js's cpu backend builds the second base): the parse-only test must not need a GPU.
beforeAll(async () => {
  await tf.setBackend('cpu');
  // 1. The committed fixture (Masking → Bidirectional LSTM → GRU → Dense softmax).
  const dir = new URL('../fixtures/tfjs/', import.meta.url);
  const w = readFileSync(new URL('weights.bin', dir));
  const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as { x: number[]; shape: number[] };
  bases.push({
    name: 'fixture',
    json: readFileSync(new URL('model.json', dir), 'utf8'),
    weights: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength),
    x: Float32Array.from(expected.x),
    shape: expected.shape,
  });
  // 2. A functional TF.js model: Embedding mask_zero → go_backwards SimpleRNN with return_state → Dense.
  const input = tf.input({ shape: [4], dtype: 'int32' });
  const emb = tf.layers.embedding({ inputDim: 6, outputDim: 3, maskZero: true }).apply(input) as tf.SymbolicTensor;
  const [seq, h] = tf.layers
    .simpleRNN({ units: 3, returnSequences: true, returnState: true, goBackwards: true })
    .apply(emb) as tf.SymbolicTensor[];
  const out = tf.layers.dense({ units: 2, activation: 'sigmoid' }).apply(seq) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: [out, h] });
  const r = rng(5);
  m.setWeights(m.getWeights().map((t) => tf.tensor(uniform(r, t.size, 0.7), t.shape)));
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      bases.push({
        name: 'functional',
        json: JSON.stringify({
          modelTopology: a.modelTopology,
          format: a.format,
          weightsManifest: [{ paths: ['w.bin'], weights: a.weightSpecs }],
        }),
        weights: a.weightData as ArrayBuffer,
        x: Int32Array.from([1, 2, 0, 5, 0, 0, 3, 4]),
        shape: [2, 4],
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
});

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

/** Values that have broken parsers before: huge, negative, fractional, non-finite stand-ins, wrong types. */
const NASTY: unknown[] = [
  2 ** 31,
  2 ** 53,
  1e308,
  1e9,
  -1,
  0,
  0.5,
  -0.0,
  null,
  '',
  'float16',
  'int32',
  'string',
  'bool',
  'uint8',
  [],
  {},
  [1e9, 1e9],
  [2 ** 30, 2 ** 30, 2 ** 30],
  true,
  false,
  'Bidirectional',
  'LSTM',
  'Sequential',
  { class_name: 'LSTM' },
  [null, null, null],
];

/** Every (container, key) in a JSON tree, so a mutation can land anywhere, shapes and dtypes included. */
function slots(root: unknown): [Record<string | number, unknown>, string | number][] {
  const out: [Record<string | number, unknown>, string | number][] = [];
  const stack = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    for (const k of Object.keys(v)) {
      const key = Array.isArray(v) ? Number(k) : k;
      out.push([v as Record<string | number, unknown>, key]);
      stack.push((v as Record<string, unknown>)[k]);
    }
  }
  return out;
}

function mutateJsonTree(json: string, r: Rand): string {
  const tree = JSON.parse(json);
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const all = slots(tree);
    const [obj, key] = pick(r, all);
    const how = r();
    if (how < 0.6) obj[key] = pick(r, NASTY);
    else if (how < 0.75 && !Array.isArray(obj)) delete obj[key];
    else if (how < 0.9 && typeof obj[key] === 'number') obj[key] = (obj[key] as number) * pick(r, [2, 1000, -1, 0.5]) + pick(r, [0, 1, -1]);
    else obj[key] = JSON.parse(JSON.stringify(pick(r, all)[0])); // a subtree moved where it does not belong
  }
  return JSON.stringify(tree);
}

function mutateJsonText(json: string, r: Rand): string {
  const at = Math.floor(r() * json.length);
  const how = r();
  if (how < 0.3) return json.slice(0, at);
  if (how < 0.6) return json.slice(0, at) + String.fromCharCode(32 + Math.floor(r() * 95)) + json.slice(at + 1);
  if (how < 0.8) return json.slice(0, at) + json.slice(at + 1 + Math.floor(r() * 40));
  return json.slice(0, at) + json.slice(Math.max(0, at - 30), at) + json.slice(at);
}

function mutateWeights(w: ArrayBuffer, r: Rand): ArrayBuffer | ArrayBuffer[] {
  const bytes = new Uint8Array(w.slice(0));
  const how = r();
  if (how < 0.25) return bytes.buffer.slice(0, Math.floor(r() * bytes.length));
  if (how < 0.35) return [bytes.buffer.slice(0, 8), bytes.buffer.slice(8), new ArrayBuffer(4)];
  if (how < 0.4) return new ArrayBuffer(0);
  const flips = 1 + Math.floor(r() * 8);
  for (let i = 0; i < flips; i++) bytes[Math.floor(r() * bytes.length)] ^= 1 << Math.floor(r() * 8);
  return bytes.buffer;
}

interface Mutant {
  base: Base;
  what: string;
  json: string;
  weights: ArrayBuffer | ArrayBuffer[];
}

function* mutants(base: Base, seed: number): Generator<Mutant> {
  const r = rng(seed);
  for (let i = 0; i < MUTANTS_PER_BASE; i++) {
    const kind = r();
    if (kind < 0.45) yield { base, what: `tree #${i}`, json: mutateJsonTree(base.json, r), weights: base.weights };
    else if (kind < 0.75) yield { base, what: `text #${i}`, json: mutateJsonText(base.json, r), weights: base.weights };
    else yield { base, what: `weights #${i}`, json: base.json, weights: mutateWeights(base.weights, r) };
  }
}

function ownError(e: unknown, m: Mutant): void {
  if (e instanceof WebGpuRnnError) return;
  throw new Error(
    `${m.base.name} ${m.what}: threw a foreign error ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`,
  );
}

/** TF.js on the same mutant, or undefined where TF.js refuses it or produces non-finite values. */
async function tfjsOn(m: Mutant): Promise<PredictOutput[] | undefined> {
  try {
    const parsed = JSON.parse(m.json);
    const weights = Array.isArray(m.weights) ? m.weights : [m.weights];
    const merged = new Uint8Array(weights.reduce((n, b) => n + b.byteLength, 0));
    let off = 0;
    for (const b of weights) {
      merged.set(new Uint8Array(b), off);
      off += b.byteLength;
    }
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: parsed.modelTopology, weightSpecs: parsed.weightsManifest[0].weights, weightData: merged.buffer }),
    );
    const x = tf.tensor(m.base.x, m.base.shape, m.base.x instanceof Int32Array ? 'int32' : 'float32');
    const y = model.predict(x);
    const out = (Array.isArray(y) ? y : [y]).map((t) => ({ data: t.dataSync() as Float32Array, shape: t.shape as number[] }));
    return out.every((o) => o.data.every((v) => Number.isFinite(v) && Math.abs(v) < 1e6)) ? out : undefined;
  } catch {
    return undefined;
  }
}

describe('loadLayersModel under mutation', () => {
  it(`parse-only: ${MUTANTS_PER_BASE} mutants of each base model only ever throw WebGpuRnnError from planLayersModel`, () => {
    const stats = { planned: 0, refused: 0 };
    const refusedBy = new Map<string, number>();
    const start = Date.now();
    for (const [i, base] of bases.entries()) {
      // The unmutated base must load (otherwise the fuzz only exercises the first check).
      planLayersModel(base.json, base.weights);
      for (const m of mutants(base, 1000 + i)) {
        try {
          planLayersModel(m.json, m.weights);
          stats.planned++;
        } catch (e) {
          ownError(e, m);
          stats.refused++;
          refusedBy.set((e as Error).name, (refusedBy.get((e as Error).name) ?? 0) + 1);
        }
      }
    }
    const total = bases.length * MUTANTS_PER_BASE;
    console.log(
      `[keras-fuzz] parse-only: ${total} mutants in ${Date.now() - start} ms: ${stats.refused} refused ` +
        `(${[...refusedBy].map(([k, v]) => `${k} ${v}`).join(', ')}), ${stats.planned} loaded on the CPU side`,
    );
    // Neither side may be empty: the mutations must reach past the first check, and the checks must bite.
    expect(stats.refused).toBeGreaterThan(total / 4);
    expect(stats.planned).toBeGreaterThan(total / 10);
  });

  it(`the first ${GPU_MUTANTS_PER_BASE} mutants of each base that plan also load and run on the GPU correctly, or throw WebGpuRnnError`, async () => {
    const device = await getTestDevice();
    const stats = { gpuLoaded: 0, gpuRefused: 0, comparedWithTfjs: 0 };
    for (const [i, base] of bases.entries()) {
      let onGpu = 0;
      // The same mutants as the parse-only test, up to the GPU_MUTANTS_PER_BASE-th that plans.
      for (const m of mutants(base, 1000 + i)) {
        if (onGpu >= GPU_MUTANTS_PER_BASE) break;
        try {
          planLayersModel(m.json, m.weights);
        } catch (e) {
          ownError(e, m);
          continue;
        }
        onGpu++;
        let outputs: PredictOutput[];
        try {
          const model = await loadLayersModel(device, m.json, m.weights);
          try {
            const y = await model.predict(m.base.x, m.base.shape);
            outputs = Array.isArray(y) ? y : [y];
          } finally {
            model.destroy();
          }
          stats.gpuLoaded++;
        } catch (e) {
          ownError(e, m);
          stats.gpuRefused++;
          continue;
        }
        for (const o of outputs) {
          expect(o.data.length, `${m.base.name} ${m.what}: output length vs shape`).toBe(o.shape.reduce((a, b) => a * b, 1));
          expect(o.shape[0], `${m.base.name} ${m.what}: batch`).toBe(m.base.shape[0]);
        }
        const theirs = await tfjsOn(m);
        if (theirs && theirs.length === outputs.length && theirs.every((t, k) => t.data.length === outputs[k].data.length)) {
          theirs.forEach((t, k) => {
            const c = compare(outputs[k].data, t.data, 1e-5, 1e-4);
            expect(c.failures, `${m.base.name} ${m.what}: output ${k} differs from TF.js on the same mutant (max |diff| ${c.maxAbs})`).toBe(
              0,
            );
          });
          stats.comparedWithTfjs++;
        }
      }
    }
    console.log(
      `[keras-fuzz] on the GPU: ${stats.gpuLoaded} ran, ${stats.gpuRefused} refused, ${stats.comparedWithTfjs} compared with TF.js`,
    );
    expect(stats.gpuLoaded).toBeGreaterThan(0);
    // The oracle must really have been consulted: TF.js loaded the same mutants and their outputs were compared.
    expect(stats.comparedWithTfjs).toBeGreaterThanOrEqual(MIN_TFJS_COMPARED);
  });
});
