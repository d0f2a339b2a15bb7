// Dispatch budget: a run of L layers over T steps issues at most L·(1 + T) compute dispatches,
// whatever the direction, for RNN, LSTM and GRU with linearBeforeReset; at most L·(1 + 2T) for GRU
// without it and LSTM with projection. And a run of at most 4096 dispatches is one submit (longer ones:
// test/gpu/long-sequences.test.ts).
import { describe, expect, it } from 'vitest';
import { createRnn, type RnnSpec } from '../../src/index.js';
import { countingDevice } from '../support/counting.js';
import { expectSubgroups, getTestDevice } from '../support/device.js';
import { randomWeights, uniform, rng } from '../../common/random.js';

const T = 7;
const B = 3;
const cases: [RnnSpec, (L: number) => number][] = [];
for (const direction of ['forward', 'reverse', 'bidirectional'] as const) {
  for (const numLayers of [1, 3]) {
    const one = (L: number) => L * (1 + T);
    const two = (L: number) => L * (1 + 2 * T);
    cases.push([{ cell: 'rnn', inputSize: 4, hiddenSize: 8, direction, numLayers }, one]);
    cases.push([{ cell: 'lstm', inputSize: 4, hiddenSize: 8, direction, numLayers }, one]);
    cases.push([{ cell: 'gru', inputSize: 4, hiddenSize: 8, direction, numLayers, linearBeforeReset: true }, one]);
    cases.push([{ cell: 'gru', inputSize: 4, hiddenSize: 8, direction, numLayers }, two]);
    cases.push([{ cell: 'lstm', inputSize: 4, hiddenSize: 8, direction, numLayers, projSize: 3 }, two]);
  }
}

for (const stepKernels of ['tiled', 'direct', 'subgroup'] as const) {
  describe(`dispatches per run (${stepKernels} per-step kernels)`, () => {
    for (const [spec, budget] of cases) {
      const L = spec.numLayers!;
      it(`${spec.cell}${spec.projSize ? ' proj' : ''}${spec.linearBeforeReset ? ' lbr' : ''} ${spec.direction} L=${L}: <= ${budget(L)} dispatches, 1 submit, as planned`, async () => {
        if (stepKernels === 'subgroup') expectSubgroups(await getTestDevice());
        const { device, counts, reset } = countingDevice(await getTestDevice());
        const rnn = await createRnn(device, spec, randomWeights(spec, 3), { stepKernels, warmUp: false });
        reset();
        await rnn.run(uniform(rng(1), T * B * spec.inputSize), { seqLen: T, batch: B, sequenceLens: Int32Array.from([7, 2, 0]) });
        expect(counts.dispatches).toBeGreaterThan(0);
        expect(counts.dispatches).toBeLessThanOrEqual(budget(L));
        expect(counts.dispatches).toBe(rnn.kernels(T, B).dispatches);
        expect(rnn.kernels(T, B).layers.every((c) => c.step === stepKernels)).toBe(true);
        expect(counts.submits).toBe(1);
        rnn.destroy();
      });
    }
  });
}

describe('dispatches per run (sequence kernels)', () => {
  for (const [spec] of cases) {
    const L = spec.numLayers!;
    const applies = !spec.projSize;
    if (!applies) continue;
    const stepKernels = spec.numLayers === 1 ? 'persistent' : 'rows';
    it(`${stepKernels}: ${spec.cell}${spec.linearBeforeReset ? ' lbr' : ''} ${spec.direction} L=${L}: exactly ${2 * L} dispatches (projection + whole sequence per layer)`, async () => {
      const { device, counts, reset } = countingDevice(await getTestDevice());
      const rnn = await createRnn(device, spec, randomWeights(spec, 3), { stepKernels, warmUp: false });
      reset();
      await rnn.run(uniform(rng(1), T * B * spec.inputSize), { seqLen: T, batch: B, sequenceLens: Int32Array.from([7, 2, 0]) });
      expect(counts.dispatches).toBe(2 * L);
      expect(counts.submits).toBe(1);
      rnn.destroy();
    });
  }
});

// A stream's step runs a whole unidirectional stack (every layer H <= 256) in one dispatch of the
// fused stack kernel (the default on GPUs; forced here, on CI's emulated adapter): 1 dispatch,
// 1 submit and 1 mapAsync per step, no readback with output 'gpu'; a whole run() is 1 dispatch too.
describe('dispatches per streaming step (fused stack kernel)', () => {
  const shapes: [string, RnnSpec][] = [
    ['2-layer GRU 96 (RNNoise-like)', { cell: 'gru', inputSize: 42, hiddenSize: 96, numLayers: 2 }],
    ['2-layer LSTM 128', { cell: 'lstm', inputSize: 64, hiddenSize: 128, numLayers: 2 }],
    ['LSTM 256', { cell: 'lstm', inputSize: 64, hiddenSize: 256 }],
    ['3-layer GRU 64 reverse, ONNX gates', { cell: 'gru', inputSize: 8, hiddenSize: 64, numLayers: 3, direction: 'reverse' }],
  ];
  for (const [name, spec] of shapes) {
    it(`${name}: 1 dispatch, 1 submit, 1 mapAsync per step; none read back with output 'gpu'`, async () => {
      const { device, counts, reset } = countingDevice(await getTestDevice());
      const rnn = await createRnn(device, spec, randomWeights(spec, 3), { warmUp: false, stepKernels: 'stack' });
      expect(rnn.kernels(1, 1)).toEqual({ layers: [], dispatches: 1, stack: true });
      const stream = rnn.stream();
      const x = uniform(rng(1), spec.inputSize);
      await stream.step(x); // compiles the pipeline
      reset();
      await stream.step(x);
      expect(counts).toMatchObject({ dispatches: 1, submits: 1, maps: 1 });
      reset();
      const { Y } = await stream.step(x, { output: 'gpu' });
      expect(counts).toMatchObject({ dispatches: 1, submits: 1, maps: 0 });
      Y.destroy();
      reset();
      await rnn.run(uniform(rng(2), 5 * 2 * spec.inputSize), { seqLen: 5, batch: 2, sequenceLens: Int32Array.from([5, 3]) });
      expect(counts).toMatchObject({ dispatches: rnn.kernels(5, 2).dispatches, submits: 1, maps: 1 });
      expect(rnn.kernels(5, 2).dispatches).toBe(1);
      rnn.destroy();
    });
  }
});
