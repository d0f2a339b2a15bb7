// PyTorch import: .safetensors state_dicts written by test/fixtures/make_torch_import.py are read
// with readSafetensors, mapped with fromTorch, run on the GPU and compared with torch's own float32
// outputs. F16/BF16 files hold rounded weights and torch ran on the same rounded weights.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRnn, FormatError, SpecError, UnsupportedError, WeightError } from '../../src/index.js';
import { fromTorch, type TorchConfig, type TorchTensor } from '../../src/importers/torch.js';
import { readSafetensors } from '../../src/importers/safetensors.js';
import { resolveSpec, validateWeights } from '../../src/model/spec.js';
import { expectClose } from '../support/close.js';
import { getTestDevice } from '../support/device.js';
import { fromTorchFixture, type TorchFixture } from '../support/torch.js';

interface ImportFixture {
  name: string;
  file: string;
  dtype: 'F32' | 'F16' | 'BF16';
  config: TorchConfig;
  expect: {
    mode: string;
    inputSize: number;
    hiddenSize: number;
    numLayers: number;
    bidirectional: boolean;
    projSize: number;
    batchFirst: boolean;
    nonlinearity: string;
    bias: boolean;
  };
  seq_len: number;
  batch: number;
  x: number[];
  h0: number[] | null;
  c0: number[] | null;
  output: number[];
  h_n: number[];
  c_n: number[] | null;
}

const DIR = join(import.meta.dirname, '..', 'fixtures', 'torch-import');
const FIXTURES = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as ImportFixture);
const fileOf = (f: ImportFixture) => new Uint8Array(readFileSync(join(DIR, f.file)));

/** [A, B, W] -> [B, A, W]: PyTorch states are [L·D, B, ·] even with batch_first; ours are then [B, L·D, ·]. */
function swap01(v: ArrayLike<number>, A: number, B: number, W: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let a = 0; a < A; a++) for (let b = 0; b < B; b++) for (let w = 0; w < W; w++) out[(b * A + a) * W + w] = v[(a * B + b) * W + w];
  return out;
}

/** PyTorch output [T, B, D·Hout] -> ours [T, D, B, Hout] (batch_first [B, T, D·Hout] is already ours). */
function torchOutputToOurs(v: number[], T: number, B: number, D: number, Hout: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < B; b++)
      for (let d = 0; d < D; d++)
        for (let j = 0; j < Hout; j++) {
          out[((t * D + d) * B + b) * Hout + j] = v[((t * B + b) * D + d) * Hout + j];
        }
  return out;
}

let worst = 0;
afterAll(() => console.log(`[torch-import] ${FIXTURES.length} PyTorch fixtures, largest |ours - torch| = ${worst.toExponential(2)}`));

describe('PyTorch import (safetensors + fromTorch) on the GPU vs torch', () => {
  it('fixtures cover bidirectional 2-layer LSTM, proj_size, batch_first, bias=False, GRU, relu RNN, prefixes, F16 and BF16', () => {
    const e = FIXTURES.map((f) => ({ ...f.expect, dtype: f.dtype, prefix: f.config.prefix }));
    expect(e.some((x) => x.mode === 'LSTM' && x.bidirectional && x.numLayers === 2)).toBe(true);
    expect(e.some((x) => x.projSize > 0 && x.batchFirst)).toBe(true);
    expect(e.some((x) => x.mode === 'LSTM' && !x.bias)).toBe(true);
    expect(e.some((x) => x.mode === 'GRU' && x.bidirectional)).toBe(true);
    expect(e.some((x) => x.mode === 'RNN' && x.nonlinearity === 'relu')).toBe(true);
    expect(e.some((x) => x.prefix)).toBe(true);
    expect(e.some((x) => x.dtype === 'F16')).toBe(true);
    expect(e.some((x) => x.dtype === 'BF16')).toBe(true);
  });

  for (const f of FIXTURES) {
    it(`${f.name} (${f.dtype}): GPU matches torch`, async () => {
      const sd = readSafetensors(fileOf(f));
      for (const t of Object.values(sd)) expect(t.dtype).toBe(f.dtype);
      const { spec, weights } = fromTorch(sd, f.config);
      const e = f.expect;
      const D = e.bidirectional ? 2 : 1,
        L = e.numLayers,
        H = e.hiddenSize,
        Hout = e.projSize || H;
      const T = f.seq_len,
        B = f.batch;
      // What fromTorch inferred must be what the module was built with.
      expect(spec).toMatchObject({
        inputSize: e.inputSize,
        hiddenSize: H,
        numLayers: L,
        direction: e.bidirectional ? 'bidirectional' : 'forward',
      });
      expect(spec.projSize ?? 0).toBe(e.projSize);
      expect(weights.every((w) => (w.B !== undefined) === e.bias)).toBe(true);

      const states = (v: number[] | null, width: number) =>
        v ? (e.batchFirst ? swap01(v, L * D, B, width) : Float32Array.from(v)) : undefined;
      const rnn = await createRnn(await getTestDevice(), spec, weights);
      const got = await rnn.run(Float32Array.from(f.x), { seqLen: T, batch: B, initialH: states(f.h0, Hout), initialC: states(f.c0, H) });
      rnn.destroy();
      const Y = e.batchFirst ? f.output : torchOutputToOurs(f.output, T, B, D, Hout);
      worst = Math.max(worst, expectClose(got.Y, Y, `${f.name} Y`));
      worst = Math.max(worst, expectClose(got.Y_h, states(f.h_n, Hout)!, `${f.name} Y_h`));
      if (f.c_n) worst = Math.max(worst, expectClose(got.Y_c!, states(f.c_n, H)!, `${f.name} Y_c`));
    });
  }
});

describe('fromTorch agrees with the test-only mapping of the float64 PyTorch fixtures', () => {
  const dir = join(import.meta.dirname, '..', 'fixtures', 'torch');
  for (const file of readdirSync(dir)
    .filter((x) => x.endsWith('.json'))
    .sort()) {
    it(file, () => {
      const f = JSON.parse(readFileSync(join(dir, file), 'utf8')) as TorchFixture;
      const c = f.config;
      const { spec, weights } = fromTorch(f.state_dict, { mode: c.mode, nonlinearity: c.nonlinearity, batchFirst: c.batch_first });
      const ref = fromTorchFixture(f);
      expect(resolveSpec(spec)).toEqual(resolveSpec(ref.spec));
      ref.weights.forEach((w, l) => {
        for (const k of ['W', 'R', 'B', 'Wr'] as const) {
          if (w[k] === undefined) expect(weights[l][k]).toBeUndefined();
          else expect(Array.from(weights[l][k]!)).toEqual(Array.from(Float32Array.from(w[k] as number[])));
        }
      });
    });
  }
});

// --- readSafetensors unit tests -------------------------------------------------------------------

/** Builds a safetensors file from raw little-endian tensor bytes (tests only). */
function safetensors(
  entries: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }>,
  meta?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = meta ? { __metadata__: meta } : {};
  let off = 0;
  for (const [k, v] of Object.entries(entries)) {
    header[k] = { dtype: v.dtype, shape: v.shape, data_offsets: [off, off + v.bytes.length] };
    off += v.bytes.length;
  }
  return rawFile(
    JSON.stringify(header),
    Object.values(entries).map((e) => e.bytes),
  );
}

function rawFile(headerText: string, blobs: Uint8Array[], lengthOverride?: bigint): Uint8Array {
  const text = new TextEncoder().encode(headerText);
  const size = blobs.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(8 + text.length + size);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(text.length), true);
  out.set(text, 8);
  let off = 8 + text.length;
  for (const b of blobs) {
    out.set(b, off);
    off += b.length;
  }
  return out;
}

const u16 = (...v: number[]) => new Uint8Array(new Uint16Array(v).buffer);
const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

describe('readSafetensors', () => {
  it('decodes F32, F16 (normals, subnormals, ±0, ±inf, NaN), BF16 and F64, any alignment', () => {
    const file = safetensors(
      {
        h: { dtype: 'F16', shape: [8], bytes: u16(0x3c00, 0xc000, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x7bff) },
        // 16 bytes above: the F32 tensor starts 2 bytes later in the odd-length header case too
        b: { dtype: 'BF16', shape: [3], bytes: u16(0x3f80, 0xc049, 0x0000) },
        f: { dtype: 'F32', shape: [2, 1], bytes: f32(1.5, -2.25) },
        d: { dtype: 'F64', shape: [], bytes: new Uint8Array(new Float64Array([0.1]).buffer) },
        e: { dtype: 'F32', shape: [0, 3], bytes: new Uint8Array(0) },
      },
      { format: 'pt' },
    );
    const t = readSafetensors(file);
    expect(Array.from(t.h.data)).toEqual([1, -2, 2 ** -24, -0, Infinity, -Infinity, NaN, 65504]);
    expect(Array.from(t.b.data)).toEqual([1, Math.fround(-3.140625), 0]);
    expect(t.f).toMatchObject({ dtype: 'F32', shape: [2, 1] });
    expect(Array.from(t.f.data)).toEqual([1.5, -2.25]);
    expect(t.d.data[0]).toBe(Math.fround(0.1));
    expect(t.e.data.length).toBe(0);
    // An F32 tensor at an offset that is not a multiple of 4 still decodes.
    const odd = safetensors({
      a: { dtype: 'U8', shape: [1], bytes: new Uint8Array([7]) },
      f: { dtype: 'F32', shape: [2], bytes: f32(3, 4) },
    });
    expect(Array.from(readSafetensors(odd, { skipUnsupported: true }).f.data)).toEqual([3, 4]);
  });

  it('keeps a tensor named "__proto__" as data, not as the prototype', () => {
    const t = readSafetensors(rawFile('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', [f32(5)]));
    expect(Object.keys(t)).toEqual(['__proto__']);
    expect(Array.from(t.__proto__.data)).toEqual([5]);
    expect(Object.getPrototypeOf(t)).toBe(Object.prototype);
  });

  const bad: [string, () => Uint8Array, new (...a: never[]) => Error, RegExp][] = [
    ['empty file', () => new Uint8Array(0), FormatError, /too short/],
    ['header length past the end', () => rawFile('{}', [], 100n), FormatError, /exceeds/],
    ['header length 2^64-1', () => rawFile('{}', [], 2n ** 64n - 1n), FormatError, /18446744073709551615/],
    ['header not JSON', () => rawFile('{"a":', []), FormatError, /not valid JSON/],
    [
      'header not UTF-8',
      () => {
        const f = rawFile('{"x":1}', []);
        f[10] = 0xff;
        return f;
      },
      FormatError,
      /UTF-8/,
    ],
    ['header an array', () => rawFile('[]', []), FormatError, /JSON object/],
    [
      'unknown dtype',
      () => rawFile('{"w":{"dtype":"F48","shape":[1],"data_offsets":[0,6]}}', [new Uint8Array(6)]),
      UnsupportedError,
      /unknown dtype "F48"/,
    ],
    [
      'integer dtype',
      () => rawFile('{"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}', [new Uint8Array(8)]),
      UnsupportedError,
      /skipUnsupported/,
    ],
    [
      'offsets past the data',
      () => rawFile('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', [new Uint8Array(4)]),
      FormatError,
      /outside/,
    ],
    [
      'offsets reversed',
      () => rawFile('{"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}', [new Uint8Array(4)]),
      FormatError,
      /outside/,
    ],
    [
      'size disagrees with shape',
      () => rawFile('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', [new Uint8Array(16)]),
      FormatError,
      /shape \[3\] of F32 needs 12 bytes, but data_offsets span 8/,
    ],
    [
      'absurd shape',
      () => rawFile('{"w":{"dtype":"F32","shape":[1e15,1e15,1e15],"data_offsets":[0,8]}}', [new Uint8Array(8)]),
      FormatError,
      /needs more than 8 bytes/,
    ],
    ['negative dim', () => rawFile('{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}', []), FormatError, /shape/],
    [
      'fractional offset',
      () => rawFile('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}}', [new Uint8Array(5)]),
      FormatError,
      /data_offsets/,
    ],
    ['entry not an object', () => rawFile('{"w":3}', []), FormatError, /entry must be an object/],
    ['bad __metadata__', () => rawFile('{"__metadata__":{"a":1}}', []), FormatError, /__metadata__/],
  ];
  for (const [what, make, Err, msg] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => readSafetensors(make())).toThrow(Err);
      expect(() => readSafetensors(make())).toThrow(msg);
    });
  }
});

// --- fromTorch errors -----------------------------------------------------------------------------

describe('fromTorch rejects inconsistent state_dicts, naming the tensor', () => {
  const lstm = FIXTURES.find((f) => f.name === 'lstm_bidir_2layer')!;
  const sd = () => readSafetensors(fileOf(lstm)) as Record<string, TorchTensor>;
  const cfg: TorchConfig = { mode: 'LSTM', prefix: 'rnn.' };

  it('a missing tensor', () => {
    const d = sd();
    delete d['rnn.bias_hh_l1_reverse'];
    expect(() => fromTorch(d, cfg)).toThrow(WeightError);
    expect(() => fromTorch(d, cfg)).toThrow(/"rnn\.bias_hh_l1_reverse" \[20\] is missing/);
  });
  it('a wrong shape', () => {
    const d = sd();
    d['rnn.weight_hh_l1'] = { shape: [20, 4], data: new Float32Array(80) };
    expect(() => fromTorch(d, cfg)).toThrow(/"rnn\.weight_hh_l1" has shape \[20,4\], expected \[20,5\]/);
  });
  it('an extra RNN tensor (a third layer, or _reverse for a unidirectional config)', () => {
    const d = sd();
    d['rnn.weight_ih_l2'] = { shape: [20, 10], data: new Float32Array(200) };
    expect(() => fromTorch(d, { ...cfg, numLayers: 2 })).toThrow(/unexpected tensor "rnn\.weight_ih_l2"/);
    expect(() => fromTorch(sd(), { ...cfg, bidirectional: false, numLayers: 1 })).toThrow(/unexpected tensor "rnn\.\w+_l[01](_reverse)?"/);
    expect(() => fromTorch(sd(), { ...cfg, bias: false })).toThrow(/unexpected tensor "rnn\.bias_ih_l0"/);
  });
  it('an unknown tensor under the prefix', () => {
    const d = sd();
    d['rnn.dropout_mask'] = { shape: [1], data: new Float32Array(1) };
    expect(() => fromTorch(d, cfg)).toThrow(/unexpected tensor "rnn\.dropout_mask"/);
  });
  it('a config that disagrees with the shapes', () => {
    expect(() => fromTorch(sd(), { ...cfg, hiddenSize: 4 })).toThrow(/"rnn\.weight_ih_l0" has shape \[20,3\], expected \[16,3\]/);
    expect(() => fromTorch(sd(), { ...cfg, inputSize: 7 })).toThrow(/expected \[20,7\]/);
    expect(() => fromTorch(sd(), { ...cfg, numLayers: 3 })).toThrow(/"rnn\.weight_ih_l2" \[20,10\] is missing/);
    expect(() => fromTorch(sd(), { ...cfg, mode: 'gru' })).toThrow(
      /"rnn\.weight_ih_l0" has shape \[20,3\], expected \[3·hidden_size, input_size\] for nn\.GRU/,
    );
  });
  it('a missing prefix is pointed out', () => {
    expect(() => fromTorch(sd(), { mode: 'LSTM' })).toThrow(/found it under prefix "rnn\.": pass config.prefix/);
  });
  it('bad configs and values', () => {
    expect(() => fromTorch(sd(), { ...cfg, mode: 'Transformer' })).toThrow(SpecError);
    expect(() => fromTorch(sd(), { ...cfg, nonlinearity: 'relu' })).toThrow(SpecError);
    expect(() => fromTorch(sd(), { ...cfg, hiddenSize: 0 })).toThrow(SpecError);
    const d = sd();
    d['rnn.weight_ih_l0'] = { shape: [20, 3], data: new Float32Array(59) };
    expect(() => fromTorch(d, cfg)).toThrow(FormatError);
    expect(() => fromTorch(d, cfg)).toThrow(/has 60 elements but data has 59/);
  });
  it("accepts number arrays, PyTorch mode names, and never aliases the caller's arrays", () => {
    const d = Object.fromEntries(Object.entries(sd()).map(([k, v]) => [k, { shape: v.shape, data: Array.from(v.data) }]));
    const a = fromTorch(d, { mode: 'lstm', prefix: 'rnn.' });
    const b = fromTorch(sd(), cfg);
    expect(a).toEqual(b);
    validateWeights(resolveSpec(a.spec), a.weights);
    const rnn = readSafetensors(fileOf(FIXTURES.find((f) => f.name === 'rnn_relu_bidir')!));
    expect(fromTorch(rnn, { mode: 'RNN_RELU' }).spec.activations).toEqual(['Relu', 'Relu']);
  });
});
