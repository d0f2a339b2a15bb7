// precision 'f16': the weight buffers really halve, every kernel variant runs, and the outputs equal
// the float64 reference computed on the f16-rounded weights (what the GPU holds) up to f32 arithmetic.
// (The documented tolerance against the unrounded weights, 2e-3 + 1e-2·|ref|, is the bench's
// webgpu-rnn-f16 check, test/gpu/bench-node.test.ts.)
import { afterAll, describe, expect, it } from 'vitest';
import { createRnn, SpecError, type RnnSpec } from '../../src/index.js';
import { floatToHalf, halfToFloat } from '../../src/core/numbers.js';
import { checkCase, describeCase, roundToHalf, type CaseOptions } from '../support/cases.js';
import { countingDevice } from '../support/counting.js';
import { getTestDevice } from '../support/device.js';
import { randomWeights, rng } from '../../common/random.js';

/**
 * |gpu - ref| <= 5e-7 + 5e-6·|ref| against the float64 reference on the f16-rounded weights
 * (cases.ts f16Weights). Observed on lavapipe (Mesa 25.0.7, llvmpipe) over every case and variant
 * below: max |diff| 1.85e-7 (1.15e-7 where |ref| < 0.1) and max |diff|/|ref| 1.65e-6 where
 * |ref| >= 0.1, the same as precision 'f32' given the same rounded weights; so about 3× headroom.
 * Against the unrounded weights the same runs differ by up to 1.77e-4 (the weights' rounding).
 */
const F16_TOL = { atol: 5e-7, rtol: 5e-6 };

describe('binary16 conversion', () => {
  it('rounds to nearest even and keeps subnormals, infinities and NaN', () => {
    for (const v of [0, -0, 1, -2.5, 65504, 6.103515625e-5, 2 ** -24, 3.0517578125e-5, 0.1, 1 / 3, 1e-3]) {
      const back = halfToFloat(floatToHalf(v));
      expect(Math.abs(back - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25);
    }
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // a tie rounds to even (down)
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // a tie rounds to even (up)
    expect(halfToFloat(floatToHalf(1e6))).toBe(Infinity);
    expect(halfToFloat(floatToHalf(-1e-9))).toBe(-0);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
  });
  it("the tests' own rounder (cases.ts roundToHalf) agrees with the library's conversion", () => {
    const r = rng(16);
    const values = [0, -0, 1, 65504, 65519, 65520, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -14, 1 + 2 ** -11, 1 + 3 * 2 ** -11];
    for (let i = 0; i < 20_000; i++) values.push(Math.fround((r() * 2 - 1) * 2 ** Math.floor(r() * 44 - 28)));
    for (const v of values) expect(roundToHalf(v), `${v}`).toBe(halfToFloat(floatToHalf(v)));
  });
});

let worst = 0;
afterAll(() => console.log(`[precision] f16: max |gpu - float64 reference on f16-rounded weights| = ${worst.toExponential(2)}`));

describe("precision 'f16'", () => {
  const cases: [RnnSpec, CaseOptions][] = [
    [
      { cell: 'lstm', inputSize: 5, hiddenSize: 37, numLayers: 2, direction: 'bidirectional' },
      { seqLen: 5, batch: 3, lengths: true, initialStates: true, peepholes: true },
    ],
    [
      { cell: 'lstm', inputSize: 5, hiddenSize: 20, projSize: 7, direction: 'reverse', layout: 'batch-major' },
      { seqLen: 4, batch: 2, initialStates: true },
    ],
    [
      { cell: 'gru', inputSize: 3, hiddenSize: 130, numLayers: 2 },
      { seqLen: 3, batch: 1, initialStates: true },
    ],
    [
      { cell: 'gru', inputSize: 3, hiddenSize: 33, linearBeforeReset: true, direction: 'bidirectional' },
      { seqLen: 6, batch: 5, mask: true },
    ],
    [
      { cell: 'rnn', inputSize: 9, hiddenSize: 21, numLayers: 2 },
      { seqLen: 4, batch: 4, lengths: true },
    ],
  ];
  for (const [spec, o] of cases) {
    for (const stepKernels of ['auto', 'tiled', 'direct', 'persistent', 'rows', 'subgroup', 'stack'] as const) {
      if (spec.projSize && (stepKernels === 'persistent' || stepKernels === 'rows')) continue;
      if (stepKernels === 'stack' && (spec.projSize || spec.direction === 'bidirectional')) continue;
      const run: CaseOptions = { ...o, stepKernels, tol: F16_TOL, precision: 'f16' };
      it(describeCase(spec, run), async () => {
        worst = Math.max(worst, await checkCase(await getTestDevice(), spec, run));
      });
    }
  }

  it('the weight buffers really halve', async () => {
    const spec: RnnSpec = { cell: 'lstm', inputSize: 64, hiddenSize: 64 };
    const weights = randomWeights(spec, 1);
    const bytes = async (precision: 'f32' | 'f16') => {
      const { device, counts } = countingDevice(await getTestDevice());
      const rnn = await createRnn(device, spec, weights, { precision, warmUp: false });
      const live = counts.liveBytes;
      rnn.destroy();
      return live;
    };
    const [full, half] = [await bytes('f32'), await bytes('f16')];
    // W and R are 2 · 256 · 64 floats, held twice (per layer, and packed for the stack kernel); the
    // biases and peepholes (f32 in both) add 256 + 192, and the stack kernel's aux 8 · 64.
    const matrices = 2 * 2 * 256 * 64 * 4;
    expect(full - half).toBe(matrices / 2);
  });

  it('without shader-f16 on the device, a SpecError names the feature', async () => {
    const device = await getTestDevice();
    const noF16 = new Proxy(device, { get: (t, k) => (k === 'features' ? new Set() : Reflect.get(t, k, t)) }) as GPUDevice;
    const spec: RnnSpec = { cell: 'rnn', inputSize: 2, hiddenSize: 3 };
    await expect(createRnn(noF16, spec, randomWeights(spec, 1), { precision: 'f16' })).rejects.toThrow(SpecError);
    await expect(createRnn(noF16, spec, randomWeights(spec, 1), { precision: 'f16' })).rejects.toThrow(/'shader-f16'/);
  });
});
