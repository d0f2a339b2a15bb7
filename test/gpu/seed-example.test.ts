// The seed's worked example: a tanh RNN cell, state size 2, input size 1. The fully connected
// matrix [[0.1,0.2],[0.3,0.4],[0.5,0.6]] holds the recurrent weights in its first two rows and the
// input weights in its last row; bias [0.1,-0.1]; initial state 0; input 1.0 gives
// tanh([0.6, 0.5]) = [0.537, 0.462], and a dense head [1, 2]·h + 0.1 gives 1.56.
import { describe, expect, it } from 'vitest';
import { createRnn } from '../../src/index.js';
import { referenceRnn } from '../../common/reference.js';
import { getTestDevice } from '../support/device.js';

// ONNX layouts: W [1, H, I], R [1, H, H] with R[j, k] = FC[k][j] (row k of FC multiplies h_k).
const spec = { cell: 'rnn', inputSize: 1, hiddenSize: 2 } as const;
const exact = { W: [0.5, 0.6], R: [0.1, 0.3, 0.2, 0.4], B: [0.1, -0.1, 0, 0] };
const weights = [{ W: new Float32Array(exact.W), R: new Float32Array(exact.R), B: new Float32Array(exact.B) }];
const head = (h: ArrayLike<number>) => 1.0 * h[0] + 2.0 * h[1] + 0.1;

// Hand arithmetic, independent of both the reference and the kernels.
const step1 = [Math.tanh(0.6), Math.tanh(0.5)];
const step2 = [Math.tanh(0.1 * step1[0] + 0.3 * step1[1] + 0.5 * 2 + 0.1), Math.tanh(0.2 * step1[0] + 0.4 * step1[1] + 0.6 * 2 - 0.1)];

describe('seed example: tanh RNN cell, H = 2, I = 1', () => {
  it('hand arithmetic matches the seed text', () => {
    expect(step1[0]).toBeCloseTo(0.537, 3);
    expect(step1[1]).toBeCloseTo(0.462, 3);
    expect(head(step1)).toBeCloseTo(1.56, 2);
  });

  it('the float64 reference reproduces both steps', () => {
    const r = referenceRnn(spec, [exact], [1.0, 2.0], { seqLen: 2, batch: 1 });
    expect(Array.from(r.Y)).toEqual([0, 1, 2, 3].map((i) => expect.closeTo([...step1, ...step2][i], 12)));
    expect(head(r.Y.subarray(0, 2))).toBeCloseTo(1.56, 2);
  });

  it('the GPU runs step 1 (then step 2) to the same numbers', async () => {
    const device = await getTestDevice();
    const rnn = await createRnn(device, spec, weights);
    const one = await rnn.run(new Float32Array([1.0]), { seqLen: 1, batch: 1 });
    expect(one.Y[0]).toBeCloseTo(0.537, 3);
    expect(one.Y[1]).toBeCloseTo(0.462, 3);
    expect(head(one.Y_h)).toBeCloseTo(1.56, 2);
    const two = await rnn.run(new Float32Array([1.0, 2.0]), { seqLen: 2, batch: 1 });
    [...step1, ...step2].forEach((v, i) => expect(two.Y[i]).toBeCloseTo(v, 6));
    expect(Array.from(two.Y_h)).toEqual(step2.map((v) => expect.closeTo(v, 6)));
    // Streaming: the second step alone from the first step's state.
    const streamed = await rnn.run(new Float32Array([2.0]), { seqLen: 1, batch: 1, initialH: one.Y_h });
    expect(Array.from(streamed.Y_h)).toEqual(step2.map((v) => expect.closeTo(v, 6)));
    rnn.destroy();
  });
});
