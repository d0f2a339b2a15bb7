// TF1 BasicLSTMCell / MultiRNNCell import: checkpoints in TF.js weights-manifest form (as Magenta.js
// MusicRNN and ml5 CharRNN load them) are built here with every naming the importer accepts, loaded
// with loadTf1Lstm, run on our GPU and compared with TF.js itself: tf.io.decodeWeights reads the
// same bytes independently (quantization included) and tf.multiRNNCell of tf.basicLSTMCell steps
// the sequence with the runtime forget_bias, on the CPU backend.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRnn, FormatError, UnsupportedError, WeightError } from '../../src/index.js';
import { loadTf1Lstm, readWeightsManifest, type WeightsManifestEntry, type WeightsManifestGroup } from '../../src/importers/tf1.js';
import { expectClose } from '../support/close.js';
import { getTestDevice } from '../support/device.js';
import { rng, uniform } from '../../common/random.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Naming = 'kernel' | 'weights' | 'lstm_cell' | 'tf0' | 'single';
type Quant = 'none' | 'float16' | 'uint8' | 'uint16';

/** The variable names of cell k in each TF version's naming. */
function cellNames(scope: string, naming: Naming, k: number): [string, string] {
  switch (naming) {
    case 'kernel':
      return [`${scope}multi_rnn_cell/cell_${k}/basic_lstm_cell/kernel`, `${scope}multi_rnn_cell/cell_${k}/basic_lstm_cell/bias`];
    case 'weights':
      return [`${scope}multi_rnn_cell/cell_${k}/basic_lstm_cell/weights`, `${scope}multi_rnn_cell/cell_${k}/basic_lstm_cell/biases`];
    case 'lstm_cell':
      return [`${scope}multi_rnn_cell/cell_${k}/lstm_cell/kernel`, `${scope}multi_rnn_cell/cell_${k}/lstm_cell/bias`];
    case 'tf0':
      return [`${scope}MultiRNNCell/Cell${k}/BasicLSTMCell/Linear/Matrix`, `${scope}MultiRNNCell/Cell${k}/BasicLSTMCell/Linear/Bias`];
    case 'single':
      return [`${scope}basic_lstm_cell/kernel`, `${scope}basic_lstm_cell/bias`];
  }
}

interface Variable {
  name: string;
  shape: number[];
  dtype: string;
  quant?: Quant;
}

/** Random bytes for one variable in TF.js's encoding (little-endian; strings length-prefixed). */
function encode(v: Variable, r: () => number): { entry: WeightsManifestEntry; bytes: Uint8Array } {
  const n = v.shape.reduce((a, b) => a * b, 1);
  const entry: WeightsManifestEntry = { name: v.name, shape: v.shape, dtype: v.dtype };
  if (v.dtype === 'string') {
    const parts = Array.from({ length: n }, (_, i) => new TextEncoder().encode(`s${i}-${Math.floor(r() * 1000)}`));
    const out = new Uint8Array(parts.reduce((a, p) => a + 4 + p.length, 0));
    const view = new DataView(out.buffer);
    let off = 0;
    for (const p of parts) {
      view.setUint32(off, p.length, true);
      out.set(p, off + 4);
      off += 4 + p.length;
    }
    return { entry, bytes: out };
  }
  if (v.dtype === 'int32') return { entry, bytes: new Uint8Array(Int32Array.from({ length: n }, () => Math.floor(r() * 1e6)).buffer) };
  switch (v.quant ?? 'none') {
    case 'none':
      return { entry, bytes: new Uint8Array(uniform(r, n, 0.5).buffer) };
    case 'float16': {
      // Halves of magnitude 2^-6 .. 2^-1 with random mantissas and signs.
      const bits = Uint16Array.from(
        { length: n },
        () => (r() < 0.5 ? 0x8000 : 0) | ((9 + Math.floor(r() * 5)) << 10) | Math.floor(r() * 1024),
      );
      entry.quantization = { dtype: 'float16' };
      return { entry, bytes: new Uint8Array(bits.buffer) };
    }
    case 'uint8':
      entry.quantization = { dtype: 'uint8', scale: 1 / 255, min: -0.5, original_dtype: 'float32' };
      return { entry, bytes: Uint8Array.from({ length: n }, () => Math.floor(r() * 256)) };
    case 'uint16':
      entry.quantization = { dtype: 'uint16', scale: 1 / 65535, min: -0.5, original_dtype: 'float32' };
      return { entry, bytes: new Uint8Array(Uint16Array.from({ length: n }, () => Math.floor(r() * 65536)).buffer) };
  }
}

interface Checkpoint {
  manifest: WeightsManifestGroup[];
  shards: Uint8Array[];
  all: Uint8Array;
  kernels: string[];
  biases: string[];
}

/**
 * A TF.js checkpoint of `cells` stacked cells (input I, hidden H), with extra non-RNN variables
 * between them, spread over `groups` groups whose data is cut into shards at random places.
 */
function checkpoint(
  seed: number,
  o: { I: number; H: number; cells: number; naming: Naming; scope?: string; groups?: number; quant?: Quant; extras?: Variable[] },
): Checkpoint {
  const r = rng(seed);
  const scope = o.scope ?? 'rnn/';
  const vars: Variable[] = [...(o.extras ?? [])];
  const kernels: string[] = [],
    biases: string[] = [];
  for (let k = 0; k < o.cells; k++) {
    const [kn, bn] = cellNames(scope, o.naming, k);
    kernels.push(kn);
    biases.push(bn);
    vars.splice(
      Math.floor(r() * (vars.length + 1)),
      0,
      { name: kn, shape: [(k === 0 ? o.I : o.H) + o.H, 4 * o.H], dtype: 'float32', quant: o.quant },
      { name: bn, shape: [4 * o.H], dtype: 'float32', quant: o.quant === 'float16' ? 'none' : o.quant },
    );
  }
  const encoded = vars.map((v) => encode(v, r));
  const groups = o.groups ?? 1;
  const manifest: WeightsManifestGroup[] = [];
  const shards: Uint8Array[] = [];
  const per = Math.ceil(encoded.length / groups);
  for (let g = 0; g < groups; g++) {
    const members = encoded.slice(g * per, (g + 1) * per);
    if (members.length === 0) continue;
    const bytes = concat(members.map((m) => m.bytes));
    // Shards split a group's bytes anywhere, even inside a float (as the TF.js converter may).
    const cuts = [
      0,
      ...Array.from({ length: Math.floor(r() * 3) }, () => Math.floor(r() * bytes.length)).sort((a, b) => a - b),
      bytes.length,
    ];
    const paths: string[] = [];
    for (let s = 0; s + 1 < cuts.length; s++) {
      paths.push(`group${g + 1}-shard${s + 1}of${cuts.length - 1}`);
      shards.push(bytes.slice(cuts[s], cuts[s + 1]));
    }
    manifest.push({ paths, weights: members.map((m) => m.entry) });
  }
  return { manifest, shards, all: concat(shards), kernels, biases };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** TF.js: decode the checkpoint itself, then step tf.multiRNNCell over x [T, B, I]. */
function tfjsOracle(
  manifest: WeightsManifestGroup[],
  data: Uint8Array,
  kernels: string[],
  biases: string[],
  forgetBias: number,
  x: Float32Array,
  T: number,
  B: number,
  I: number,
  H: number,
  h0?: Float32Array,
  c0?: Float32Array,
) {
  return tf.tidy(() => {
    const specs = manifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[];
    const vars = tf.io.decodeWeights(data.slice().buffer, specs);
    const cells = kernels.map(
      (k, i) => (d: tf.Tensor2D, c: tf.Tensor2D, h: tf.Tensor2D) =>
        tf.basicLSTMCell(forgetBias, vars[k] as tf.Tensor2D, vars[biases[i]] as tf.Tensor1D, d, c, h),
    );
    const L = kernels.length;
    const state = (s: Float32Array | undefined, l: number) =>
      s ? tf.tensor2d(s.subarray(l * B * H, (l + 1) * B * H), [B, H]) : (tf.zeros([B, H]) as tf.Tensor2D);
    let c = Array.from({ length: L }, (_, l) => state(c0, l));
    let h = Array.from({ length: L }, (_, l) => state(h0, l));
    const Y: number[] = [];
    for (let t = 0; t < T; t++) {
      [c, h] = tf.multiRNNCell(cells, tf.tensor2d(x.subarray(t * B * I, (t + 1) * B * I), [B, I]), c, h);
      Y.push(...h[L - 1].dataSync());
    }
    return {
      Y: Float32Array.from(Y),
      Y_h: Float32Array.from(h.flatMap((t) => [...t.dataSync()])),
      Y_c: Float32Array.from(c.flatMap((t) => [...t.dataSync()])),
    };
  });
}

let worst = 0;
let cases = 0;
afterAll(() => console.log(`[tf1-import] ${cases} TF.js comparisons, largest |ours - tfjs| = ${worst.toExponential(2)}`));

async function compareWithTfjs(
  label: string,
  manifest: WeightsManifestGroup[],
  weightData: Uint8Array | Uint8Array[],
  oracleData: Uint8Array,
  kernels: string[],
  biases: string[],
  opts: { forgetBias?: number; prefix?: string; T: number; B: number; seed: number; initialState?: boolean },
) {
  const { spec, weights } = loadTf1Lstm(manifest, weightData, { forgetBias: opts.forgetBias, prefix: opts.prefix });
  const { inputSize: I, hiddenSize: H, numLayers: L = 1 } = spec;
  expect(L).toBe(kernels.length);
  const r = rng(opts.seed);
  const x = uniform(r, opts.T * opts.B * I, 1);
  const h0 = opts.initialState ? uniform(r, L * opts.B * H, 1) : undefined;
  const c0 = opts.initialState ? uniform(r, L * opts.B * H, 1) : undefined;
  const want = tfjsOracle(manifest, oracleData, kernels, biases, opts.forgetBias ?? 1.0, x, opts.T, opts.B, I, H, h0, c0);
  const rnn = await createRnn(await getTestDevice(), spec, weights);
  const got = await rnn.run(x, { seqLen: opts.T, batch: opts.B, initialH: h0, initialC: c0 });
  rnn.destroy();
  // Y [T, 1, B, H] is the last cell's h at every step; Y_h / Y_c [L, B, H] are every cell's final state.
  worst = Math.max(worst, expectClose(got.Y, want.Y, `${label} Y (last cell's h per step)`));
  worst = Math.max(worst, expectClose(got.Y_h, want.Y_h, `${label} final h per cell`));
  worst = Math.max(worst, expectClose(got.Y_c!, want.Y_c, `${label} final c per cell`));
  cases++;
}

const EXTRAS: Variable[] = [
  { name: 'fully_connected/weights', shape: [3, 5], dtype: 'float32' },
  { name: 'fully_connected/biases', shape: [5], dtype: 'float32' },
];

describe('loadTf1Lstm on the GPU vs TF.js multiRNNCell(basicLSTMCell)', () => {
  it('the committed Magenta-shaped example (test/fixtures/tf1)', async () => {
    const dir = join(import.meta.dirname, '..', 'fixtures', 'tf1');
    const manifest = JSON.parse(readFileSync(join(dir, 'weights_manifest.json'), 'utf8')) as WeightsManifestGroup[];
    const bin = new Uint8Array(readFileSync(join(dir, 'group1-shard1of1')));
    const names = [0, 1].map((k) => cellNames('rnn/', 'kernel', k));
    await compareWithTfjs(
      'example',
      manifest,
      [bin],
      bin,
      names.map((n) => n[0]),
      names.map((n) => n[1]),
      { T: 7, B: 2, seed: 1 },
    );
  });

  const fixed: [
    string,
    Parameters<typeof checkpoint>[1],
    { forgetBias?: number; prefix?: string; T: number; B: number; initialState?: boolean },
  ][] = [
    ['Magenta MusicRNN naming, 2 cells', { I: 5, H: 6, cells: 2, naming: 'kernel', extras: EXTRAS }, { T: 6, B: 2 }],
    [
      'TF 1.0 weights/biases naming (ml5 CharRNN), 3 cells, 3 groups',
      {
        I: 4,
        H: 5,
        cells: 3,
        naming: 'weights',
        groups: 3,
        extras: [
          { name: 'softmax_w', shape: [5, 9], dtype: 'float32' },
          { name: 'softmax_b', shape: [9], dtype: 'float32' },
          { name: 'embedding', shape: [9, 4], dtype: 'float32' },
        ],
      },
      { T: 5, B: 3 },
    ],
    ['a single cell without MultiRNNCell, forget_bias 0', { I: 3, H: 4, cells: 1, naming: 'single' }, { T: 4, B: 1, forgetBias: 0 }],
    [
      'LSTMCell naming, float16 kernels, int32 and string variables, forget_bias 0.5, initial state',
      {
        I: 3,
        H: 7,
        cells: 2,
        naming: 'lstm_cell',
        quant: 'float16',
        groups: 2,
        extras: [{ name: 'global_step', shape: [], dtype: 'int32' }, { name: 'vocab', shape: [3], dtype: 'string' }, ...EXTRAS],
      },
      { T: 5, B: 2, forgetBias: 0.5, initialState: true },
    ],
    [
      'TF 0.x MultiRNNCell/Cell0/BasicLSTMCell/Linear naming, uint8 quantization',
      { I: 2, H: 3, cells: 2, naming: 'tf0', scope: 'RNN/', quant: 'uint8' },
      { T: 4, B: 2 },
    ],
    ['uint16 quantization, wide cells', { I: 30, H: 40, cells: 2, naming: 'kernel', quant: 'uint16' }, { T: 5, B: 2, initialState: true }],
  ];
  fixed.forEach(([label, o, run], i) => {
    it(label, async () => {
      const ck = checkpoint(100 + i, o);
      await compareWithTfjs(label, ck.manifest, ck.shards, ck.all, ck.kernels, ck.biases, { ...run, seed: 200 + i });
    });
  });

  it('two stacks in one checkpoint (encoder/decoder): prefix picks one; without it, an error lists both', async () => {
    const enc = checkpoint(7, { I: 3, H: 4, cells: 2, naming: 'kernel', scope: 'encoder/rnn/' });
    const dec = checkpoint(8, { I: 4, H: 4, cells: 1, naming: 'kernel', scope: 'decoder/rnn/' });
    const manifest = [...enc.manifest, ...dec.manifest];
    const data = [...enc.shards, ...dec.shards];
    expect(() => loadTf1Lstm(manifest, data)).toThrow(
      /several LSTM stacks \("encoder\/rnn\/", "decoder\/rnn\/"\); choose one with options.prefix/,
    );
    await compareWithTfjs('decoder', manifest, data, concat(data), dec.kernels, dec.biases, { prefix: 'decoder/', T: 3, B: 2, seed: 9 });
  });

  it('an ml5-style deeplearn.js checkpoint manifest ({ name: { filename, shape } }, one file per variable)', async () => {
    const ck = checkpoint(11, { I: 4, H: 5, cells: 2, naming: 'kernel', extras: EXTRAS });
    const tensors = readWeightsManifest(ck.manifest, ck.shards);
    const manifest: Record<string, { filename: string; shape: number[] }> = {};
    const files: Record<string, Uint8Array> = {};
    for (const [name, t] of tensors) {
      const filename = name.replace(/\//g, '_');
      manifest[name] = { filename, shape: t.shape };
      files[filename] = new Uint8Array(t.data!.buffer);
    }
    const a = loadTf1Lstm(manifest, files);
    const b = loadTf1Lstm(ck.manifest, ck.all);
    expect(a).toEqual(b);
    await compareWithTfjs('ml5 checkpoint (via the same weights)', ck.manifest, ck.all, ck.all, ck.kernels, ck.biases, {
      T: 4,
      B: 2,
      seed: 12,
    });
  });

  // A seeded sweep over sizes, namings, quantizations, groups and forget biases.
  for (let i = 0; i < 12; i++) {
    const r = rng(1000 + i);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
    const o = {
      I: 1 + Math.floor(r() * 9),
      H: 1 + Math.floor(r() * 12),
      cells: 1 + Math.floor(r() * 3),
      naming: pick(['kernel', 'weights', 'lstm_cell', 'tf0'] as const),
      quant: pick(['none', 'none', 'float16', 'uint8'] as const),
      groups: 1 + Math.floor(r() * 3),
      extras: r() < 0.5 ? EXTRAS : [],
    };
    const run = {
      T: 1 + Math.floor(r() * 6),
      B: 1 + Math.floor(r() * 3),
      forgetBias: pick([0, 1, 1, 0.25, -0.5]),
      initialState: r() < 0.5,
    };
    it(`random ${i}: I=${o.I} H=${o.H} cells=${o.cells} ${o.naming} ${o.quant} T=${run.T} B=${run.B} forget_bias=${run.forgetBias}`, async () => {
      const ck = checkpoint(2000 + i, o);
      await compareWithTfjs(`random ${i}`, ck.manifest, ck.shards, ck.all, ck.kernels, ck.biases, { ...run, seed: 3000 + i });
    });
  }
});

describe('loadTf1Lstm rejects what it cannot import, naming the variable', () => {
  const base = () => checkpoint(5, { I: 3, H: 4, cells: 2, naming: 'kernel', extras: EXTRAS });
  /** Rebuilds a checkpoint with one group per variable after `edit` changed the variable list. */
  function rebuild(edit: (vars: { entry: WeightsManifestEntry; bytes: Uint8Array }[]) => void) {
    const ck = base();
    const specs = ck.manifest.flatMap((g) => g.weights);
    let off = 0;
    const vars = specs.map((entry) => {
      const size = entry.shape.reduce((a, b) => a * b, 1) * 4;
      const v = { entry: { ...entry }, bytes: ck.all.slice(off, off + size) };
      off += size;
      return v;
    });
    edit(vars);
    return { manifest: vars.map((v, i) => ({ paths: [`g${i}`], weights: [v.entry] })), data: vars.map((v) => v.bytes) };
  }

  it('cells of different hidden sizes: UnsupportedError', () => {
    const a = checkpoint(1, { I: 3, H: 4, cells: 1, naming: 'kernel' });
    const b = checkpoint(2, { I: 4, H: 5, cells: 2, naming: 'kernel' });
    // cell_1 of b (input 5 + hidden 5) renamed under a's stack: cell 0 has H=4, cell 1 has H=5.
    const m = [...a.manifest, { paths: ['x'], weights: b.manifest[0].weights.filter((w) => w.name.includes('cell_1')) }];
    const cell1 = readWeightsManifest(b.manifest, b.shards);
    const bytes = b.manifest[0].weights
      .filter((w) => w.name.includes('cell_1'))
      .map((w) => new Uint8Array(cell1.get(w.name)!.data!.buffer));
    expect(() => loadTf1Lstm(m, [...a.shards, ...bytes])).toThrow(UnsupportedError);
    expect(() => loadTf1Lstm(m, [...a.shards, ...bytes])).toThrow(/cell 1 has hidden size 5 but cell 0 has 4/);
  });
  it('a kernel whose rows do not chain: WeightError', () => {
    const { manifest, data } = rebuild((v) => {
      const k = v.find((x) => x.entry.name.endsWith('cell_1/basic_lstm_cell/kernel'))!;
      k.entry.shape = [6, 16]; // 4 + 4 rows expected
      k.bytes = k.bytes.slice(0, 6 * 16 * 4);
    });
    expect(() => loadTf1Lstm(manifest, data)).toThrow(/"rnn\/multi_rnn_cell\/cell_1\/basic_lstm_cell\/kernel" has 6 rows, expected 8/);
  });
  it('a kernel that does not match its bias: WeightError', () => {
    const { manifest, data } = rebuild((v) => {
      const k = v.find((x) => x.entry.name.endsWith('cell_0/basic_lstm_cell/kernel'))!;
      k.entry.shape = [16, 7];
    });
    expect(() => loadTf1Lstm(manifest, data)).toThrow(WeightError);
    expect(() => loadTf1Lstm(manifest, data)).toThrow(/cell_0\/basic_lstm_cell\/kernel" has shape \[16,7\], expected \[input \+ 4, 16\]/);
  });
  it('a missing bias or a missing cell: WeightError', () => {
    const noBias = rebuild((v) =>
      v.splice(
        v.findIndex((x) => x.entry.name.endsWith('cell_1/basic_lstm_cell/bias')),
        1,
      ),
    );
    expect(() => loadTf1Lstm(noBias.manifest, noBias.data)).toThrow(/the bias of cell 1 .* is missing/);
    const gap = rebuild((v) => {
      for (const x of v) x.entry.name = x.entry.name.replace('cell_1', 'cell_2');
    });
    expect(() => loadTf1Lstm(gap.manifest, gap.data)).toThrow(/kernel of cell 1 .* is missing; cells must be numbered 0..1/);
    const none = rebuild((v) => v.splice(0, v.length, ...v.filter((x) => x.entry.name.startsWith('fully'))));
    expect(() => loadTf1Lstm(none.manifest, none.data)).toThrow(/no BasicLSTMCell variables/);
  });
  it('peepholes and attention wrappers: UnsupportedError; optimizer slots are ignored', () => {
    const peep = rebuild((v) =>
      v.push({ entry: { name: 'rnn/multi_rnn_cell/cell_0/lstm_cell/w_f_diag', shape: [4], dtype: 'float32' }, bytes: new Uint8Array(16) }),
    );
    expect(() => loadTf1Lstm(peep.manifest, peep.data)).toThrow(UnsupportedError);
    expect(() => loadTf1Lstm(peep.manifest, peep.data)).toThrow(/w_f_diag/);
    const att = rebuild((v) => {
      for (const x of v) x.entry.name = x.entry.name.replace('rnn/multi', 'rnn/attention_cell_wrapper/multi');
    });
    expect(() => loadTf1Lstm(att.manifest, att.data)).toThrow(/AttentionCellWrapper/);
    const adam = rebuild((v) =>
      v.push({
        entry: { name: 'rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel/Adam', shape: [2], dtype: 'float32' },
        bytes: new Uint8Array(8),
      }),
    );
    expect(loadTf1Lstm(adam.manifest, adam.data)).toEqual(loadTf1Lstm(base().manifest, base().all));
  });
  it('malformed manifests and data: FormatError / UnsupportedError', () => {
    const ck = base();
    expect(() => loadTf1Lstm(ck.manifest, ck.all.subarray(0, ck.all.length - 1))).toThrow(FormatError);
    expect(() => loadTf1Lstm(ck.manifest, concat([ck.all, new Uint8Array(4)]))).toThrow(/describes/);
    expect(() => loadTf1Lstm('nope', ck.all)).toThrow(FormatError);
    expect(() => loadTf1Lstm([{ weights: [{ name: 'a', shape: [1e300], dtype: 'float32' }] }], ck.all)).toThrow(FormatError);
    expect(() => loadTf1Lstm([{ paths: [], weights: [{ name: 'a', shape: [1], dtype: 'float64' }] }], ck.all)).toThrow(UnsupportedError);
    expect(() =>
      loadTf1Lstm([{ paths: [], weights: [{ name: 'a', shape: [1], dtype: 'float32', quantization: { dtype: 'int4' } }] }], ck.all),
    ).toThrow(UnsupportedError);
    const dup = [...ck.manifest, ...ck.manifest];
    expect(() => loadTf1Lstm(dup, [ck.all, ck.all])).toThrow(/appears twice/);
    expect(() => loadTf1Lstm(ck.manifest, ck.all, { forgetBias: NaN })).toThrow(FormatError);
    const int = rebuild((v) => {
      v.find((x) => x.entry.name.endsWith('cell_0/basic_lstm_cell/bias'))!.entry.dtype = 'int32';
    });
    expect(() => loadTf1Lstm(int.manifest, int.data)).toThrow(/has dtype int32; expected float32/);
  });
});
