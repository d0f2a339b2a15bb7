// A run's inputs (src/run/run-io.ts) without a GPU: every refusal of validateRun / validateEncode
// (class and a message that names what to fix), and the state transposes element by element against
// coordinates written into the values themselves.
import { describe, expect, it } from 'vitest';
import { DeviceLimitError, InputError } from '../../src/core/errors.js';
import type { DeviceCaps } from '../../src/gpu/adapter.js';
import { Usage } from '../../src/gpu/helpers.js';
import { resolveSpec } from '../../src/model/spec.js';
import type { RnnSpec } from '../../src/model/types.js';
import type { EncodeIO, RunOptions } from '../../src/run/api.js';
import { initialState, isGpuBuffer, packedState, stateOut, validateEncode, validateRun } from '../../src/run/run-io.js';
import { segmentSteps } from '../../src/plan/segments.js';
import { CAPS } from '../support/caps.js';
import { coordinates, flatIndex } from '../support/seeded.js';

/** Something isGpuBuffer takes for a GPUBuffer: a mapAsync function and a numeric usage. */
function fakeBuffer(bytes: number, usage: number): GPUBuffer {
  return { size: bytes, usage, mapAsync: () => Promise.resolve(), destroy: () => {} } as unknown as GPUBuffer;
}

// LSTM, I = 3, H = 4, Hout = 2, bidirectional, 2 layers: the h and c widths differ.
const LSTM: RnnSpec = { cell: 'lstm', inputSize: 3, hiddenSize: 4, projSize: 2, numLayers: 2, direction: 'bidirectional' };
const lstm = resolveSpec(LSTM);
const lstmBatchMajor = resolveSpec({ ...LSTM, layout: 'batch-major' });
const gru = resolveSpec({ cell: 'gru', inputSize: 3, hiddenSize: 4 });

/** x for a run of (T, B) of `s`. */
const xFor = (T: number, B: number, I = 3) => new Float32Array(T * B * I);

describe('isGpuBuffer', () => {
  it('recognises an object with mapAsync and a numeric usage, nothing else', () => {
    expect(isGpuBuffer(fakeBuffer(16, Usage.STORAGE))).toBe(true);
    expect(isGpuBuffer(new Float32Array(4))).toBe(false);
    expect(isGpuBuffer({ mapAsync: () => {}, usage: '128' })).toBe(false);
    expect(isGpuBuffer({ usage: 128 })).toBe(false);
    expect(isGpuBuffer(null)).toBe(false);
  });
});

describe('validateRun: refusals', () => {
  type Case = [string, ReturnType<typeof resolveSpec>, unknown, unknown, RegExp];
  const T = 2;
  const B = 3;
  const ok = { seqLen: T, batch: B };
  const cases: Case[] = [
    ['no options', lstm, xFor(T, B), undefined, /options \{ seqLen, batch \} are required/],
    ['null options', lstm, xFor(T, B), null, /options \{ seqLen, batch \} are required/],
    ['seqLen 0', lstm, xFor(T, B), { seqLen: 0, batch: B }, /options\.seqLen must be a positive integer, got 0/],
    ['seqLen 1.5', lstm, xFor(T, B), { seqLen: 1.5, batch: B }, /options\.seqLen must be a positive integer, got 1\.5/],
    ['seqLen as a string', lstm, xFor(T, B), { seqLen: '2', batch: B }, /options\.seqLen must be a positive integer/],
    ['seqLen missing', lstm, xFor(T, B), { batch: B }, /options\.seqLen must be a positive integer, got undefined/],
    ['batch -1', lstm, xFor(T, B), { seqLen: T, batch: -1 }, /options\.batch must be a positive integer, got -1/],
    ['batch NaN', lstm, xFor(T, B), { seqLen: T, batch: Number.NaN }, /options\.batch must be a positive integer, got NaN/],
    ['x too short', lstm, new Float32Array(17), ok, /x has 17 floats, expected seqLen·batch·inputSize = 2·3·3 = 18 \(\[T, B, I\]\)/],
    ['x too long, batch-major', lstmBatchMajor, new Float32Array(19), ok, /x has 19 floats, expected .* = 18 \(\[B, T, I\]\)/],
    [
      'x a Float64Array',
      lstm,
      new Float64Array(18),
      ok,
      /x must be a Float32Array \[T, B, I\] or a GPUBuffer, got \[object Float64Array\]/,
    ],
    ['x a plain array', lstm, new Array(18).fill(0), ok, /x must be a Float32Array .* got \[object Array\]/],
    [
      'output neither cpu nor gpu',
      lstm,
      xFor(T, B),
      { ...ok, output: 'gpu-buffer' },
      /options\.output must be 'cpu' or 'gpu', got "gpu-buffer"/,
    ],
    [
      'sequenceLens a plain array',
      lstm,
      xFor(T, B),
      { ...ok, sequenceLens: [1, 1, 1] },
      /sequenceLens must be an Int32Array of length batch/,
    ],
    ['sequenceLens a Uint32Array', lstm, xFor(T, B), { ...ok, sequenceLens: new Uint32Array(3) }, /sequenceLens must be an Int32Array/],
    [
      'sequenceLens too short',
      lstm,
      xFor(T, B),
      { ...ok, sequenceLens: new Int32Array(2) },
      /sequenceLens has 2 entries, expected batch = 3/,
    ],
    [
      'sequenceLens too long',
      lstm,
      xFor(T, B),
      { ...ok, sequenceLens: new Int32Array(4) },
      /sequenceLens has 4 entries, expected batch = 3/,
    ],
    [
      'sequenceLens above seqLen',
      lstm,
      xFor(T, B),
      { ...ok, sequenceLens: Int32Array.from([2, 3, 0]) },
      /sequenceLens\[1\] = 3 is outside \[0, seqLen = 2\]/,
    ],
    ['sequenceLens negative', lstm, xFor(T, B), { ...ok, sequenceLens: Int32Array.from([2, 1, -1]) }, /sequenceLens\[2\] = -1 is outside/],
    [
      'mask with sequenceLens',
      lstm,
      xFor(T, B),
      { ...ok, sequenceLens: new Int32Array(3), mask: new Uint8Array(6) },
      /options\.mask and options\.sequenceLens exclude each other/,
    ],
    ['mask of the wrong type', lstm, xFor(T, B), { ...ok, mask: new Int8Array(6) }, /options\.mask must be a Uint8Array \[T, B\]/],
    [
      'mask of the wrong type, batch-major',
      lstmBatchMajor,
      xFor(T, B),
      { ...ok, mask: [1, 1, 1, 1, 1, 1] },
      /must be a Uint8Array \[B, T\]/,
    ],
    ['mask too short', lstm, xFor(T, B), { ...ok, mask: new Uint8Array(5) }, /options\.mask has 5 entries, expected seqLen·batch = 6/],
    [
      'initialH not a Float32Array',
      lstm,
      xFor(T, B),
      { ...ok, initialH: new Float64Array(24) },
      /options\.initialH must be a Float32Array/,
    ],
    // [L·D, B, Hout] = 2·2·3·2 = 24; [L·D, B, H] = 48.
    [
      'initialH of the c length',
      lstm,
      xFor(T, B),
      { ...ok, initialH: new Float32Array(48) },
      /initialH has 48 floats, expected \[L·D, B, 2\] = 24/,
    ],
    [
      'initialC of the h length',
      lstm,
      xFor(T, B),
      { ...ok, initialC: new Float32Array(24) },
      /initialC has 24 floats, expected \[L·D, B, 4\] = 48/,
    ],
    [
      'initialH too short, batch-major',
      lstmBatchMajor,
      xFor(T, B),
      { ...ok, initialH: new Float32Array(23) },
      /initialH has 23 floats, expected \[B, L·D, 2\] = 24/,
    ],
    [
      'initialC on a GRU',
      gru,
      xFor(T, B),
      { ...ok, initialC: new Float32Array(12) },
      /options\.initialC applies to LSTM only; remove it for a GRU/,
    ],
    [
      'x a GPUBuffer without STORAGE',
      lstm,
      fakeBuffer(1024, Usage.COPY_DST | Usage.COPY_SRC),
      ok,
      /x is a GPUBuffer without STORAGE usage: create it with GPUBufferUsage\.STORAGE/,
    ],
    [
      'x a GPUBuffer too small',
      lstm,
      fakeBuffer(68, Usage.STORAGE),
      ok,
      /x is a GPUBuffer of 68 bytes, expected at least seqLen·batch·inputSize·4 = 72 \(f32 \[T, B, I\]\)/,
    ],
  ];
  it.each(cases)('%s', (_, s, x, o, message) => {
    const run = () => validateRun(s, CAPS, x as Float32Array, o as RunOptions);
    expect(run).toThrow(InputError);
    expect(run).toThrow(message);
  });
});

describe('validateRun: device limits', () => {
  // LSTM I = 2, H = 8: xproj holds 4·8 = 32 floats (128 bytes) per (t, b) row, the largest buffer.
  const s = resolveSpec({ cell: 'lstm', inputSize: 2, hiddenSize: 8 });
  const bi = resolveSpec({ cell: 'lstm', inputSize: 2, hiddenSize: 8, direction: 'bidirectional' });
  const run =
    (caps: DeviceCaps, T: number, spec = s) =>
    () =>
      validateRun(spec, caps, new Float32Array(T * 2), { seqLen: T, batch: 1 });

  it('a unidirectional run over maxStorageBufferBindingSize is accepted: it runs in segments that fit', () => {
    const caps = { ...CAPS, maxStorageBufferBindingSize: 4096, maxBufferSize: 1 << 20 };
    expect(run(caps, 32)).not.toThrow(); // 32 rows · 128 B = 4096 B, at the limit
    expect(run(caps, 33)).not.toThrow();
    expect(segmentSteps(s, caps, 33, 1)).toBe(32);
    expect(segmentSteps(s, caps, 1000, 1)).toBe(32);
  });

  it('a bidirectional run cannot be split: DeviceLimitError naming the buffer, its size and the limit', () => {
    const caps = { ...CAPS, maxStorageBufferBindingSize: 8192, maxBufferSize: 1 << 20 };
    expect(run(caps, 32, bi)).not.toThrow(); // 32 rows · 2 directions · 128 B = 8192 B, at the limit
    expect(run(caps, 33, bi)).toThrow(DeviceLimitError);
    expect(run(caps, 33, bi)).toThrow(
      /seqLen 33 and batch 1 needs a xproj buffer of 8448 bytes, over the device's maxStorageBufferBindingSize \(8192\) \(a bidirectional run cannot be split over seqLen\)/,
    );
  });

  it('maxBufferSize below the binding limit: named instead', () => {
    const caps = { ...CAPS, maxStorageBufferBindingSize: 1 << 20, maxBufferSize: 8192 };
    expect(run(caps, 33, bi)).toThrow(/xproj buffer of 8448 bytes, over the device's maxBufferSize \(8192\)/);
  });

  it('not even one step fits: DeviceLimitError', () => {
    const caps = { ...CAPS, maxStorageBufferBindingSize: 100, maxBufferSize: 1 << 20 };
    expect(run(caps, 5)).toThrow(
      /needs a xproj buffer of 128 bytes, over the device's maxStorageBufferBindingSize \(100\) \(not even one step fits\)/,
    );
  });

  it("a segmented run's Y over maxBufferSize: DeviceLimitError that points to streams", () => {
    // Segments of 32 steps fit; Y of 4096 steps (32 B each) plus the final states (64 B) does not fit 128 KiB.
    const caps = { ...CAPS, maxStorageBufferBindingSize: 4096, maxBufferSize: 128 * 1024 };
    expect(run(caps, 4000)).not.toThrow();
    expect(run(caps, 4096)).toThrow(
      /returns 131136 bytes of Y and final states, over the device's maxBufferSize \(131072\); run it in shorter calls/,
    );
  });

  it('more than maxComputeWorkgroupsPerDimension workgroups of 64 rows: split, or DeviceLimitError when bidirectional', () => {
    const caps = { ...CAPS, maxWorkgroups: 2 };
    expect(run(caps, 129)).not.toThrow();
    expect(segmentSteps(s, caps, 129, 1)).toBe(128);
    expect(run(caps, 128, bi)).not.toThrow();
    expect(run(caps, 129, bi)).toThrow(DeviceLimitError);
    expect(run(caps, 129, bi)).toThrow(/3 workgroups of the input projection, over the device's maxComputeWorkgroupsPerDimension \(2\)/);
  });
});

describe('validateRun: accepted runs', () => {
  it('defaults: every row runs seqLen steps, output cpu, no mask', () => {
    const x = xFor(4, 3);
    const req = validateRun(lstm, CAPS, x, { seqLen: 4, batch: 3 });
    expect(req.x).toBe(x);
    expect(req.output).toBe('cpu');
    expect([req.seqLen, req.batch]).toEqual([4, 3]);
    expect([...req.lens]).toEqual([4, 4, 4]);
    expect(req.mask).toBeUndefined();
  });

  it('sequenceLens 0..seqLen are taken as given', () => {
    const req = validateRun(lstm, CAPS, xFor(4, 3), { seqLen: 4, batch: 3, sequenceLens: Int32Array.from([0, 4, 2]), output: 'gpu' });
    expect([...req.lens]).toEqual([0, 4, 2]);
    expect(req.output).toBe('gpu');
  });

  it('initial states of the right lengths, and a GPUBuffer x with STORAGE', () => {
    const h = new Float32Array(2 * 2 * 3 * 2);
    const c = new Float32Array(2 * 2 * 3 * 4);
    const req = validateRun(lstm, CAPS, xFor(2, 3), { seqLen: 2, batch: 3, initialH: h, initialC: c });
    expect(req.initialH).toBe(h);
    expect(req.initialC).toBe(c);
    const x = fakeBuffer(72, Usage.STORAGE);
    expect(validateRun(lstm, CAPS, x, { seqLen: 2, batch: 3 }).x).toBe(x);
  });

  it.each([false, true])('the mask becomes [T, B] 0/1 words (batch-major %s)', (batchMajor) => {
    const s = batchMajor ? lstmBatchMajor : lstm;
    const T = 3;
    const B = 2;
    // Valid steps: row 0 all, row 1 only t = 1; nonzero values other than 1 count as valid.
    const valid = (t: number, b: number) => b === 0 || t === 1;
    const mask = new Uint8Array(T * B);
    for (const [t, b] of coordinates([T, B])) {
      mask[batchMajor ? flatIndex([B, T], [b, t]) : flatIndex([T, B], [t, b])] = valid(t, b) ? 7 : 0;
    }
    const req = validateRun(s, CAPS, xFor(T, B), { seqLen: T, batch: B, mask });
    expect(req.mask).toBeInstanceOf(Uint32Array);
    for (const [t, b] of coordinates([T, B])) expect(req.mask![t * B + b], `t=${t} b=${b}`).toBe(valid(t, b) ? 1 : 0);
    expect([...req.lens]).toEqual([T, T]);
  });
});

describe('validateEncode', () => {
  const T = 2;
  const B = 3;
  // lstm: L·D·B = 12 state rows; Y [T, D, B, Hout] = 24 floats; h 12·2 = 24 floats; c 12·4 = 48 floats.
  const io = (extra: Partial<EncodeIO> = {}): EncodeIO => ({
    x: fakeBuffer(72, Usage.STORAGE),
    seqLen: T,
    batch: B,
    Y: fakeBuffer(96, Usage.COPY_DST),
    ...extra,
  });
  const refusals: [string, ReturnType<typeof resolveSpec>, unknown, RegExp][] = [
    ['no io', lstm, undefined, /encode\(encoder, io\): io \{ x, seqLen, batch, Y, … \} is required/],
    [
      'x a Float32Array',
      lstm,
      io({ x: new Float32Array(18) as unknown as GPUBuffer }),
      /encode\(\): io\.x must be a GPUBuffer \(STORAGE usage\)/,
    ],
    ['x without STORAGE', lstm, io({ x: fakeBuffer(72, Usage.COPY_DST) }), /x is a GPUBuffer without STORAGE usage/],
    ['bad seqLen', lstm, io({ seqLen: 0 }), /options\.seqLen must be a positive integer/],
    ['bad sequenceLens', lstm, io({ sequenceLens: Int32Array.from([1, 2, 3]) }), /sequenceLens\[2\] = 3 is outside \[0, seqLen = 2\]/],
    ['Y missing', lstm, io({ Y: undefined }), /io\.Y \(a GPUBuffer for the output sequence\) is required/],
    ['Y a Float32Array', lstm, io({ Y: new Float32Array(24) as unknown as GPUBuffer }), /encode\(\): io\.Y must be a GPUBuffer/],
    ['Y without COPY_DST', lstm, io({ Y: fakeBuffer(96, Usage.STORAGE | Usage.COPY_SRC) }), /io\.Y needs COPY_DST usage/],
    ['Y too small', lstm, io({ Y: fakeBuffer(92, Usage.COPY_DST) }), /io\.Y has 92 bytes, needs 96/],
    ['Y_h too small', lstm, io({ Y_h: fakeBuffer(92, Usage.COPY_DST) }), /io\.Y_h has 92 bytes, needs 96/],
    ['Y_h without COPY_DST', lstm, io({ Y_h: fakeBuffer(96, Usage.COPY_SRC) }), /io\.Y_h needs COPY_DST usage/],
    [
      'initialH without COPY_SRC',
      lstm,
      io({ initialH: fakeBuffer(96, Usage.COPY_DST | Usage.STORAGE) }),
      /io\.initialH needs COPY_SRC usage/,
    ],
    ['initialH too small', lstm, io({ initialH: fakeBuffer(80, Usage.COPY_SRC) }), /io\.initialH has 80 bytes, needs 96/],
    ['Y_c of the h size', lstm, io({ Y_c: fakeBuffer(96, Usage.COPY_DST) }), /io\.Y_c has 96 bytes, needs 192/],
    ['initialC without COPY_SRC', lstm, io({ initialC: fakeBuffer(192, Usage.COPY_DST) }), /io\.initialC needs COPY_SRC usage/],
    [
      'Y_c on a GRU',
      gru,
      io({ Y: fakeBuffer(96, Usage.COPY_DST), Y_c: fakeBuffer(1024, Usage.COPY_DST) }),
      /io\.Y_c or io\.initialC applies to LSTM only/,
    ],
    [
      'initialC on a GRU',
      gru,
      io({ initialC: fakeBuffer(1024, Usage.COPY_SRC) }),
      /io\.Y_c or io\.initialC applies to LSTM only; remove it for a GRU/,
    ],
  ];
  it.each(refusals)('refuses %s', (_, s, arg, message) => {
    const call = () => validateEncode(s, CAPS, arg as EncodeIO);
    expect(call).toThrow(InputError);
    expect(call).toThrow(message);
  });

  it('accepts buffers of exactly the needed sizes and hands the initial states on', () => {
    const initialH = fakeBuffer(96, Usage.COPY_SRC);
    const initialC = fakeBuffer(192, Usage.COPY_SRC);
    const req = validateEncode(
      lstm,
      CAPS,
      io({
        Y_h: fakeBuffer(96, Usage.COPY_DST),
        Y_c: fakeBuffer(192, Usage.COPY_DST),
        initialH,
        initialC,
        sequenceLens: Int32Array.from([2, 0, 1]),
      }),
    );
    expect(req.gpuInitial).toEqual({ h: initialH, c: initialC });
    expect([...req.lens]).toEqual([2, 0, 1]);
    expect(req.seqLen).toBe(T);
  });

  it('a run over the device limits is refused with DeviceLimitError', () => {
    expect(() => validateEncode(lstm, { ...CAPS, maxWorkgroups: 0 }, io())).toThrow(DeviceLimitError);
  });
});

/** A value that names its coordinates: layer l, direction d, row b, element i (all < 10). */
const code = (l: number, d: number, b: number, i: number) => 1 + 1000 * l + 100 * d + 10 * b + i;

/** run()'s state layout filled with code(): [L·D, B, w], or [B, L·D, w] batch-major. */
function runState(L: number, D: number, B: number, w: number, batchMajor: boolean): Float32Array {
  const v = new Float32Array(L * D * B * w);
  for (const [l, d, b, i] of coordinates([L, D, B, w])) {
    v[batchMajor ? flatIndex([B, L * D, w], [b, l * D + d, i]) : flatIndex([L * D, B, w], [l * D + d, b, i])] = code(l, d, b, i);
  }
  return v;
}

describe('initialState', () => {
  it.each([false, true])("layer l of run()'s layout as [D, B, w] (batch-major %s), rows of length 0 zeroed", (batchMajor) => {
    const s = batchMajor ? lstmBatchMajor : lstm;
    const B = 3;
    const lens = Uint32Array.from([2, 0, 5]);
    for (const width of [s.outputSize, s.hiddenSize]) {
      const v = runState(2, 2, B, width, batchMajor);
      for (const l of [0, 1]) {
        const out = initialState(s, { batch: B, lens }, v, l, width);
        expect(out.length).toBe(2 * B * width);
        for (const [d, b, i] of coordinates([2, B, width])) {
          expect(out[flatIndex([2, B, width], [d, b, i])], `l=${l} d=${d} b=${b} i=${i}`).toBe(lens[b] === 0 ? 0 : code(l, d, b, i));
        }
      }
    }
  });

  it('absent: zeros', () => {
    expect([...initialState(lstm, { batch: 2, lens: Uint32Array.from([1, 1]) }, undefined, 1, 2)]).toEqual(new Array(2 * 2 * 2).fill(0));
  });
});

describe('stateOut', () => {
  it('batch-major: [L·D, B, w] -> [B, L·D, w]', () => {
    const B = 3;
    const w = 2;
    const v = runState(2, 2, B, w, false); // the kernels' order
    const out = stateOut(lstmBatchMajor, v, B, w);
    expect(out.length).toBe(v.length);
    for (const [l, d, b, i] of coordinates([2, 2, B, w])) expect(out[flatIndex([B, 4, w], [b, l * 2 + d, i])]).toBe(code(l, d, b, i));
  });

  it('time-major: a copy of the same values', () => {
    const v = runState(2, 2, 3, 2, false);
    const out = stateOut(lstm, v, 3, 2);
    expect(out).not.toBe(v);
    expect([...out]).toEqual([...v]);
  });

  it('is the inverse of initialState over every layer (batch-major)', () => {
    const B = 2;
    const w = lstmBatchMajor.outputSize;
    const given = runState(2, 2, B, w, true);
    const lens = Uint32Array.from([1, 1]);
    const kernels = new Float32Array(given.length);
    for (const l of [0, 1]) kernels.set(initialState(lstmBatchMajor, { batch: B, lens }, given, l, w), l * 2 * B * w);
    expect([...stateOut(lstmBatchMajor, kernels, B, w)]).toEqual([...given]);
  });
});

describe('packedState', () => {
  it.each([false, true])('LSTM (batch-major %s): h [L, B, Hout], then c [L, B, H], rows of length 0 zeroed', (batchMajor) => {
    const s = resolveSpec({
      cell: 'lstm',
      inputSize: 2,
      hiddenSize: 3,
      projSize: 2,
      numLayers: 2,
      layout: batchMajor ? 'batch-major' : 'time-major',
    });
    const [L, B, Hout, H] = [2, 3, 2, 3];
    const lens = Uint32Array.from([1, 0, 4]);
    const h = runState(L, 1, B, Hout, batchMajor);
    const c = runState(L, 1, B, H, batchMajor).map((x) => -x);
    const packed = packedState(s, { batch: B, lens }, h, c);
    expect(packed.length).toBe(L * B * (Hout + H));
    for (const [l, b, i] of coordinates([L, B, Hout])) {
      expect(packed[flatIndex([L, B, Hout], [l, b, i])], `h l=${l} b=${b} i=${i}`).toBe(lens[b] ? code(l, 0, b, i) : 0);
    }
    for (const [l, b, i] of coordinates([L, B, H])) {
      expect(packed[L * B * Hout + flatIndex([L, B, H], [l, b, i])], `c l=${l} b=${b} i=${i}`).toBe(lens[b] ? -code(l, 0, b, i) : 0);
    }
  });

  it('GRU: h only; absent states are zeros', () => {
    const s = resolveSpec({ cell: 'gru', inputSize: 2, hiddenSize: 3, numLayers: 3 });
    const lens = Uint32Array.from([2, 2]);
    expect([...packedState(s, { batch: 2, lens })]).toEqual(new Array(3 * 2 * 3).fill(0));
    const h = runState(3, 1, 2, 3, false);
    const packed = packedState(s, { batch: 2, lens }, h);
    expect(packed.length).toBe(3 * 2 * 3);
    for (const [l, b, i] of coordinates([3, 2, 3])) expect(packed[flatIndex([3, 2, 3], [l, b, i])]).toBe(code(l, 0, b, i));
  });
});
