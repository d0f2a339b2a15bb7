// Huge pre-activations: the kernels' tanh and sigmoid saturate to exactly ±1 and 0/1, and no
// activation returns NaN or ±Infinity where the math is finite (a naive exp-based tanh overflows).
import { describe, expect, it } from 'vitest';
import { createRnn } from '../../src/index.js';
import { getTestDevice } from '../support/device.js';

// An RNN whose pre-activation is the input itself: W = identity, R = 0, no bias.
async function activate(name: string, x: number[], alpha?: number, beta?: number): Promise<Float32Array> {
  const n = x.length;
  const W = new Float32Array(n * n);
  for (let i = 0; i < n; i++) W[i * n + i] = 1;
  const rnn = await createRnn(
    await getTestDevice(),
    {
      cell: 'rnn',
      inputSize: n,
      hiddenSize: n,
      activations: [name],
      ...(alpha !== undefined ? { activationAlpha: [alpha] } : {}),
      ...(beta !== undefined ? { activationBeta: [beta] } : {}),
    },
    [{ W, R: new Float32Array(n * n) }],
  );
  const { Y } = await rnn.run(Float32Array.from(x), { seqLen: 1, batch: 1 });
  rnn.destroy();
  return Y;
}

const HUGE = [1e4, -1e4, 3e38, -3e38, 80, -80, 0];

describe('saturation at |x| = 1e4 and beyond', () => {
  it('Tanh gives exactly ±1 (and 0 at 0)', async () => {
    expect(Array.from(await activate('Tanh', HUGE))).toEqual([1, -1, 1, -1, 1, -1, 0]);
  });
  it('Sigmoid gives exactly 1 and 0', async () => {
    const y = await activate('Sigmoid', HUGE);
    expect(Array.from(y.subarray(0, 5))).toEqual([1, 0, 1, 0, 1]);
    expect(Math.abs(y[5] / Math.exp(-80) - 1)).toBeLessThan(1e-5); // tiny but not flushed: e^-80 is a normal f32
    expect(y[6]).toBe(0.5);
  });
  it('every activation stays finite where its value is finite', async () => {
    const cases: [string, number?, number?][] = [
      ['Relu'],
      ['Affine', 0.5, 0.1],
      ['LeakyRelu', 0.1],
      ['ThresholdedRelu', 1],
      ['ScaledTanh', 2, 0.5],
      ['HardSigmoid', 0.2, 0.5],
      ['Elu', 1],
      ['Softsign'],
      ['Softplus'],
    ];
    for (const [name, a, b] of cases) {
      const y = await activate(name, [1e4, -1e4, 50, -50], a, b);
      for (const v of y) expect(Number.isFinite(v), `${name}: ${Array.from(y)}`).toBe(true);
    }
    expect(Array.from(await activate('Softplus', [1e4, -1e4]))).toEqual([1e4, 0]);
    expect(Array.from(await activate('Elu', [-1e4], 0.7))).toEqual([expect.closeTo(-0.7, 6)]);
    expect(Array.from(await activate('ScaledTanh', [1e4, -1e4], 2, 0.5))).toEqual([2, -2]);
  });
});
