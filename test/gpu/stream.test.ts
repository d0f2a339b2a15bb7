// Streams: steps of a stream equal one run() over their concatenation and the float64 reference of
// the whole sequence, for every cell, stacked layers, projection, both layouts, forward and reverse;
// streams are independent; the state stays on the GPU between steps (a step reads back only its Y).
import { describe, expect, it } from 'vitest';
import { createRnn, InputError, SpecError, type RnnSpec } from '../../src/index.js';
import { referenceRnn } from '../../common/reference.js';
import { expectClose } from '../support/close.js';
import { countingDevice } from '../support/counting.js';
import { getTestDevice } from '../support/device.js';
import { randomWeights, rng, uniform } from '../../common/random.js';

const CHUNKS = [1, 3, 1, 2];
const T = CHUNKS.reduce((a, b) => a + b, 0);

/** Steps t0 .. t0 + n - 1 of a time-major [T, B, w] tensor, in the model's layout. */
function steps(v: Float32Array, B: number, t0: number, n: number, w: number, batchMajor: boolean): Float32Array {
  const out = new Float32Array(n * B * w);
  for (let t = 0; t < n; t++) {
    for (let b = 0; b < B; b++) {
      const src = ((t0 + t) * B + b) * w;
      out.set(v.subarray(src, src + w), (batchMajor ? b * n + t : t * B + b) * w);
    }
  }
  return out;
}

/** Steps t0 .. t0 + n - 1 of a Y of `total` steps ([total, 1, B, w] or [B, total, 1, w]), time-major [n, B, w]. */
function ySteps(Y: Float32Array, B: number, t0: number, n: number, w: number, batchMajor: boolean, total: number): Float32Array {
  const out = new Float32Array(n * B * w);
  for (let t = 0; t < n; t++) {
    for (let b = 0; b < B; b++) {
      const src = (batchMajor ? b * total + t0 + t : (t0 + t) * B + b) * w;
      out.set(Y.subarray(src, src + w), (t * B + b) * w);
    }
  }
  return out;
}

interface StreamCase {
  spec: RnnSpec;
  /** Stream rows (default 2). */
  batch?: number;
  peepholes?: boolean;
  /** Force the per-layer (direct) kernels; otherwise the stack kernel, where it applies. */
  perLayer?: boolean;
}

const cases: StreamCase[] = [];
for (const direction of ['forward', 'reverse'] as const) {
  for (const layout of ['time-major', 'batch-major'] as const) {
    cases.push({ spec: { cell: 'lstm', inputSize: 3, hiddenSize: 9, numLayers: 2, direction, layout } });
    cases.push({ spec: { cell: 'gru', inputSize: 3, hiddenSize: 7, direction, layout } });
    cases.push({ spec: { cell: 'gru', inputSize: 3, hiddenSize: 7, numLayers: 2, linearBeforeReset: true, direction, layout } });
    cases.push({ spec: { cell: 'rnn', inputSize: 3, hiddenSize: 5, direction, layout } });
  }
}
// The same through the per-layer kernels (the default on emulated adapters, and the path of models
// the stack kernel cannot run).
for (const c of cases.slice(0, 4)) cases.push({ ...c, perLayer: true });
cases.push({ spec: { cell: 'lstm', inputSize: 3, hiddenSize: 9, numLayers: 2, projSize: 4 } });
cases.push({ spec: { cell: 'lstm', inputSize: 3, hiddenSize: 9, projSize: 4, direction: 'reverse', layout: 'batch-major' } });
// The stack kernel's other corners: peepholes with input_forget and clip, a deeper GRU without
// linear_before_reset and other activations, a 4-layer RNN, and more rows than one workgroup holds.
cases.push({ spec: { cell: 'lstm', inputSize: 5, hiddenSize: 33, numLayers: 2, inputForget: true, clip: 0.8 }, peepholes: true, batch: 9 });
cases.push({
  spec: {
    cell: 'gru',
    inputSize: 4,
    hiddenSize: 6,
    numLayers: 3,
    activations: ['HardSigmoid', 'Softsign'],
    activationAlpha: [0.3],
    activationBeta: [0.4],
  },
  batch: 6,
});
cases.push({
  spec: { cell: 'rnn', inputSize: 2, hiddenSize: 40, numLayers: 4, activations: ['Relu'], clip: 2, direction: 'reverse' },
  batch: 5,
});
// The Clockwork RNN's module clocks run on across calls (periods 2 and 3 straddle the chunk boundaries).
cases.push({ spec: { cell: 'clockwork', inputSize: 3, hiddenSize: 6, periods: [1, 2, 3], numLayers: 2 } });
cases.push({ spec: { cell: 'clockwork', inputSize: 3, hiddenSize: 4, periods: [3, 2], direction: 'reverse', layout: 'batch-major' } });
// The Depth-Gated LSTM's c sequences live within a call; only the states carry over.
cases.push({ spec: { cell: 'lstm', depthGated: true, inputSize: 3, hiddenSize: 5, numLayers: 3 }, peepholes: true });

describe('streams equal one run over the concatenated steps', () => {
  for (const { spec, batch: B = 2, peepholes, perLayer } of cases) {
    const bm = spec.layout === 'batch-major';
    const reverse = spec.direction === 'reverse';
    const name =
      `${spec.cell} L=${spec.numLayers ?? 1} ${spec.direction ?? 'forward'} ${spec.layout ?? 'time-major'}${spec.projSize ? ' proj' : ''}` +
      `${spec.linearBeforeReset ? ' lbr' : ''}${peepholes ? ' peepholes' : ''} B=${B}${perLayer ? ' (per-layer kernels)' : ''}`;
    it(name, async () => {
      const device = await getTestDevice();
      const weights = randomWeights(spec, 7, { peepholes });
      const L = spec.numLayers ?? 1;
      const Hout = spec.projSize ?? spec.hiddenSize;
      const xTM = uniform(rng(8), T * B * spec.inputSize);
      const initialH = uniform(rng(9), L * B * Hout);
      const initialC = spec.cell === 'lstm' ? uniform(rng(10), L * B * spec.hiddenSize) : undefined;
      const fused = !perLayer && !spec.projSize && spec.cell !== 'clockwork' && !spec.depthGated;
      const rnn = await createRnn(device, spec, weights, {
        batch: B,
        warmUp: false,
        stepKernels: perLayer ? 'direct' : fused ? 'stack' : 'auto',
      });
      expect(rnn.kernels(1, B).stack ?? false).toBe(fused);
      const whole = await rnn.run(steps(xTM, B, 0, T, spec.inputSize, bm), { seqLen: T, batch: B, initialH, initialC });
      // The oracle itself against the float64 reference.
      const ref = referenceRnn(spec, weights, steps(xTM, B, 0, T, spec.inputSize, bm), { seqLen: T, batch: B, initialH, initialC });
      expectClose(whole.Y, ref.Y, 'run() Y vs reference');
      expectClose(whole.Y_h, ref.Y_h, 'run() Y_h vs reference');
      const refY = Float32Array.from(ref.Y);

      const stream = rnn.stream({ batch: B, initialH, initialC });
      // A reverse model processes each chunk from its end: feeding the chunks last first is one reverse run.
      const starts = CHUNKS.map((_, i) => CHUNKS.slice(0, i).reduce((a, b) => a + b, 0));
      const order = reverse ? [...CHUNKS.keys()].reverse() : [...CHUNKS.keys()];
      for (const i of order) {
        const { Y } = await stream.step(steps(xTM, B, starts[i], CHUNKS[i], spec.inputSize, bm), { seqLen: CHUNKS[i] });
        const got = ySteps(Y, B, 0, CHUNKS[i], Hout, bm, CHUNKS[i]);
        expectClose(got, ySteps(whole.Y, B, starts[i], CHUNKS[i], Hout, bm, T), `chunk ${i} Y`);
        expectClose(got, ySteps(refY, B, starts[i], CHUNKS[i], Hout, bm, T), `chunk ${i} Y vs reference`);
      }
      const st = await stream.state();
      expectClose(st.Y_h, whole.Y_h, 'Y_h');
      expectClose(st.Y_h, ref.Y_h, 'Y_h vs reference');
      if (spec.cell === 'lstm') {
        expectClose(st.Y_c!, whole.Y_c!, 'Y_c');
        expectClose(st.Y_c!, ref.Y_c!, 'Y_c vs reference');
      } else expect(st.Y_c).toBeUndefined();
      stream.destroy();
      rnn.destroy();
    });
  }
});

describe('stream behaviour', () => {
  const spec: RnnSpec = { cell: 'gru', inputSize: 4, hiddenSize: 6, numLayers: 2 };
  const weights = randomWeights(spec, 3);

  it('streams of one model are independent; reset() restarts; one step is one submit and no state readback', async () => {
    const { device, counts, reset } = countingDevice(await getTestDevice());
    const rnn = await createRnn(device, spec, weights, { warmUp: false });
    const xa = uniform(rng(1), 5 * 4);
    const xb = uniform(rng(2), 5 * 4);
    const whole = async (x: Float32Array) => (await rnn.run(x, { seqLen: 5, batch: 1 })).Y_h;
    const [ha, hb] = [await whole(xa), await whole(xb)];
    const ref = (x: Float32Array) => referenceRnn(spec, weights, x, { seqLen: 5, batch: 1 });
    const [ra, rb] = [ref(xa), ref(xb)];
    const a = rnn.stream();
    const b = rnn.stream();
    for (let t = 0; t < 5; t++) {
      reset();
      const { Y } = await a.step(xa.subarray(t * 4, (t + 1) * 4));
      // One submit, and one readback: the step's Y (the state stays on the GPU).
      expect(counts.submits).toBe(1);
      expect(counts.maps).toBe(1);
      expectClose(Y, ra.Y.subarray(t * 6, (t + 1) * 6), `stream a step ${t} Y vs reference`);
      reset();
      await b.step(xb.subarray(t * 4, (t + 1) * 4));
      expect(counts.maps).toBe(1);
    }
    // Only state() reads the state back.
    reset();
    const sa = await a.state();
    expect(counts.maps).toBe(1);
    expectClose(sa.Y_h, ha, 'stream a');
    expectClose(sa.Y_h, ra.Y_h, 'stream a vs reference');
    expectClose((await b.state()).Y_h, hb, 'stream b');
    expectClose((await b.state()).Y_h, rb.Y_h, 'stream b vs reference');
    a.reset();
    await a.step(xb, { seqLen: 5 });
    expectClose((await a.state()).Y_h, hb, 'stream a after reset');
    a.destroy();
    await expect(a.step(xa.subarray(0, 4))).rejects.toThrow(/stream was destroyed/);
    // destroy() of the model destroys its streams too.
    rnn.destroy();
    await expect(b.state()).rejects.toThrow(/destroyed/);
  });

  it('a bidirectional model refuses, saying why; bad arguments are InputErrors', async () => {
    const device = await getTestDevice();
    const bi: RnnSpec = { ...spec, direction: 'bidirectional' };
    const rnn = await createRnn(device, bi, randomWeights(bi, 1), { warmUp: false });
    expect(() => rnn.stream()).toThrow(SpecError);
    expect(() => rnn.stream()).toThrow(/unidirectional model: the backward direction/);
    rnn.destroy();
    const uni = await createRnn(device, spec, weights, { warmUp: false });
    expect(() => uni.stream({ initialH: new Float32Array(3) })).toThrow(InputError);
    expect(() => uni.stream({ batch: 0 })).toThrow(/batch must be a positive integer/);
    const s = uni.stream();
    await expect(s.step(new Float32Array(3))).rejects.toThrow(/x has 3 floats/);
    await expect(s.step(new Float32Array(8), { seqLen: 0 })).rejects.toThrow(/seqLen must be a positive integer/);
    uni.destroy();
  });
});
