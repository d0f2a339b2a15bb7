// Bad input is rejected before any GPU work, with a named error class and a message that says what
// to fix; destroy() frees everything and is idempotent; repeated runs do not grow GPU memory.
import { describe, expect, it } from 'vitest';
import {
  createRnn,
  DestroyedError,
  DeviceLimitError,
  InputError,
  SpecError,
  WeightError,
  WebGpuRnnError,
  type RnnSpec,
} from '../../src/index.js';
import { countingDevice } from '../support/counting.js';
import { getTestDevice } from '../support/device.js';
import { withLimits } from '../support/limits.js';
import { randomWeights, rng, uniform } from '../../common/random.js';

const lstm: RnnSpec = { cell: 'lstm', inputSize: 3, hiddenSize: 5, direction: 'bidirectional', numLayers: 2 };

/** Expects `p` to reject with `cls` and a message matching every pattern, having created no GPU buffer. */
async function rejects(make: (device: GPUDevice) => Promise<unknown>, cls: new (...a: never[]) => Error, ...patterns: RegExp[]) {
  const { device, counts } = countingDevice(await getTestDevice());
  const err = await make(device).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(cls);
  expect(err).toBeInstanceOf(WebGpuRnnError);
  for (const p of patterns) expect((err as Error).message).toMatch(p);
  expect(counts.buffersCreated).toBe(0);
}

describe('createRnn rejects a bad spec or bad weights', () => {
  it('a weight of the wrong length names the tensor, the layer, expected and got', async () => {
    const w = randomWeights(lstm, 1);
    w[1].R = new Float32Array(w[1].R.length - 1);
    await rejects((d) => createRnn(d, lstm, w), WeightError, /layer 1/, /\bR\b/, /has 199 floats/, /expected 200/);
  });
  it('a missing W', async () => {
    const w = randomWeights(lstm, 1);
    delete (w[0] as { W?: Float32Array }).W;
    await rejects((d) => createRnn(d, lstm, w), WeightError, /layer 0: W .* is missing/);
  });
  it('the wrong number of layers', async () => {
    await rejects((d) => createRnn(d, lstm, randomWeights({ ...lstm, numLayers: 1 }, 1)), WeightError, /expected 2 layer entries/);
  });
  it('a Float64Array where a Float32Array belongs', async () => {
    const w = randomWeights(lstm, 1);
    (w[0] as unknown as { B: Float64Array }).B = new Float64Array(w[0].B!.length);
    await rejects((d) => createRnn(d, lstm, w), WeightError, /B must be a Float32Array/);
  });
  it('an unknown activation', async () => {
    const spec = { ...lstm, activations: ['Sigmoid', 'Tanh', 'Tanh', 'Sigmoid', 'Swish', 'Tanh'] };
    await rejects((d) => createRnn(d, spec, randomWeights(spec, 1)), SpecError, /activations\[4\]/, /Swish/, /HardSigmoid/);
  });
  it('too few activations', async () => {
    const spec = { ...lstm, activations: ['Sigmoid', 'Tanh'] };
    await rejects((d) => createRnn(d, spec, randomWeights(spec, 1)), SpecError, /expected 6 names/, /got 2/);
  });
  it('projSize on a GRU', async () => {
    const spec: RnnSpec = { cell: 'gru', inputSize: 3, hiddenSize: 5, projSize: 2 };
    await rejects(
      (d) => createRnn(d, spec, randomWeights({ ...spec, projSize: undefined }, 1)),
      SpecError,
      /projSize applies to LSTM only/,
    );
  });
  for (const [key, value] of [
    ['hiddenSize', 0],
    ['inputSize', -1],
    ['numLayers', 0],
    ['hiddenSize', 2.5],
    ['projSize', 0],
  ] as const) {
    it(`${key} = ${value}`, async () => {
      const spec = { ...lstm, [key]: value } as RnnSpec;
      await rejects((d) => createRnn(d, spec, []), SpecError, new RegExp(`spec.${key} must be a positive integer`));
    });
  }
  it('an unknown cell and direction', async () => {
    await rejects((d) => createRnn(d, { ...lstm, cell: 'lstmp' as 'lstm' }, []), SpecError, /spec.cell must be one of/);
    await rejects((d) => createRnn(d, { ...lstm, direction: 'both' as 'forward' }, []), SpecError, /spec.direction must be one of/);
  });
  it("stepKernels 'persistent' where it does not apply, and an unknown mode", async () => {
    const proj: RnnSpec = { ...lstm, projSize: 2 };
    await rejects(
      (d) => createRnn(d, proj, randomWeights(proj, 1), { stepKernels: 'persistent' }),
      SpecError,
      /projection is not implemented in the persistent kernel/,
    );
    const big: RnnSpec = { cell: 'rnn', inputSize: 2, hiddenSize: 300 };
    await rejects((d) => createRnn(d, big, randomWeights(big, 1), { stepKernels: 'persistent' }), SpecError, /hidden size 300 exceeds 256/);
    await rejects(
      (d) => createRnn(d, lstm, randomWeights(lstm, 1), { stepKernels: 'fast' as 'auto' }),
      SpecError,
      /stepKernels must be one of 'auto', 'tiled', 'direct', 'persistent', 'rows'/,
    );
    await rejects(
      (d) => createRnn(d, proj, randomWeights(proj, 1), { stepKernels: 'rows' }),
      SpecError,
      /projection is not implemented in the rows kernel/,
    );
    await rejects(
      (d) => createRnn(d, lstm, randomWeights(lstm, 1), { projection: 'fft' as 'gemm' }),
      SpecError,
      /options.projection must be 'auto', 'gemm' or 'gemv'/,
    );
  });
  it("stepKernels 'stack' where it does not apply says why", async () => {
    const bi: RnnSpec = { cell: 'gru', inputSize: 2, hiddenSize: 4, direction: 'bidirectional' };
    await rejects(
      (d) => createRnn(d, bi, randomWeights(bi, 1), { stepKernels: 'stack' }),
      SpecError,
      /'stack' does not apply: it runs unidirectional models only/,
    );
    const big: RnnSpec = { cell: 'rnn', inputSize: 2, hiddenSize: 300 };
    await rejects((d) => createRnn(d, big, randomWeights(big, 1), { stepKernels: 'stack' }), SpecError, /hidden size 300 exceeds 256/);
    const deep: RnnSpec = { cell: 'rnn', inputSize: 2, hiddenSize: 256, numLayers: 9 };
    await rejects(
      (d) => createRnn(d, deep, randomWeights(deep, 1), { stepKernels: 'stack' }),
      SpecError,
      /9 layers of 256 units exceed the 2048 floats/,
    );
    const uni: RnnSpec = { cell: 'rnn', inputSize: 2, hiddenSize: 4 };
    await rejects(
      (d) => createRnn(d, uni, randomWeights(uni, 1), { stepKernels: 'stack', projection: 'gemv' }),
      SpecError,
      /computes the input projection itself/,
    );
  });
  it('an unknown spec field is a SpecError naming it, with a hint for common slips', async () => {
    await rejects(
      (d) => createRnn(d, { ...lstm, depthGate: true } as RnnSpec, randomWeights(lstm, 1)),
      SpecError,
      /spec.depthGate is not a spec field; the fields are cell, inputSize/,
    );
    const uni: RnnSpec = { cell: 'gru', inputSize: 2, hiddenSize: 3 };
    await rejects(
      (d) => createRnn(d, { ...uni, bidirectional: true } as RnnSpec, randomWeights(uni, 1)),
      SpecError,
      /spec.bidirectional is not a spec field \(use direction: 'bidirectional'\)/,
    );
    await rejects(
      (d) => createRnn(d, { ...uni, batch_first: true } as RnnSpec, randomWeights(uni, 1)),
      SpecError,
      /use layout: 'batch-major'/,
    );
  });
  it('an unknown weight tensor is a WeightError naming it', async () => {
    const uni: RnnSpec = { cell: 'gru', inputSize: 2, hiddenSize: 3 };
    const w = randomWeights(uni, 1);
    await rejects(
      (d) => createRnn(d, uni, [{ ...w[0], Wx: new Float32Array(3) } as never]),
      WeightError,
      /layer 0: Wx is not a weight tensor; the tensors are W, R, B, P, Wr, Wd, Bd, Pd/,
    );
  });
  it('a clockwork spec needs periods that fit the hidden size; other cells refuse periods', async () => {
    const cw: RnnSpec = { cell: 'clockwork', inputSize: 2, hiddenSize: 6, periods: [1, 2] };
    await rejects(
      (d) => createRnn(d, { ...cw, periods: undefined }, randomWeights(cw, 1)),
      SpecError,
      /spec.periods is required for a clockwork cell/,
    );
    await rejects(
      (d) => createRnn(d, { ...cw, periods: [1, 0] }, randomWeights(cw, 1)),
      SpecError,
      /spec.periods\[1\] must be a positive integer, got 0/,
    );
    await rejects(
      (d) => createRnn(d, { ...cw, periods: [1, 2, 4, 8] }, randomWeights(cw, 1)),
      SpecError,
      /hiddenSize \(6\) must be divisible by the number of modules \(spec.periods has 4 entries\)/,
    );
    await rejects(
      (d) => createRnn(d, { cell: 'rnn', inputSize: 2, hiddenSize: 6, periods: [1, 2] }, randomWeights(cw, 1)),
      SpecError,
      /spec.periods applies to Clockwork RNN only; remove it for a RNN/,
    );
    await rejects(
      (d) => createRnn(d, cw, randomWeights(cw, 1), { stepKernels: 'stack' }),
      SpecError,
      /clockwork cell is not implemented in the stack kernel/,
    );
  });
  it('a depth-gated spec needs a stack without projection, and its weights only above the first layer', async () => {
    const dg: RnnSpec = { cell: 'lstm', inputSize: 2, hiddenSize: 3, numLayers: 2, depthGated: true };
    const w = randomWeights(dg, 1);
    await rejects(
      (d) => createRnn(d, { ...dg, numLayers: 1 }, w.slice(0, 1)),
      SpecError,
      /depthGated links the cells of consecutive layers: it needs numLayers >= 2/,
    );
    await rejects((d) => createRnn(d, { ...dg, projSize: 2 }, w), SpecError, /depthGated with spec.projSize is not supported/);
    await rejects(
      (d) => createRnn(d, { cell: 'gru', inputSize: 2, hiddenSize: 3, numLayers: 2, depthGated: true }, []),
      SpecError,
      /spec.depthGated applies to LSTM only; remove it for a GRU/,
    );
    await rejects(
      (d) => createRnn(d, dg, [{ ...w[0], Wd: new Float32Array(6) }, w[1]]),
      WeightError,
      /layer 0: Wd was given but the depth gate exists only on layers above the first/,
    );
    await rejects(
      (d) => createRnn(d, dg, [w[0], { ...w[1], Wd: undefined }]),
      WeightError,
      /layer 1: Wd \[D, H, I_k\] is missing \(expected 9 floats\)/,
    );
    await rejects(
      (d) => createRnn(d, dg, [w[0], { ...w[1], Pd: new Float32Array(5) }]),
      WeightError,
      /layer 1: Pd \[D, 2·H\] has 5 floats, expected 6/,
    );
    await rejects(
      (d) => createRnn(d, dg, w, { stepKernels: 'stack' }),
      SpecError,
      /Depth-Gated LSTM is not implemented in the stack kernel/,
    );
  });
  it('clip that is not positive', async () => {
    await rejects((d) => createRnn(d, { ...lstm, clip: 0 }, randomWeights(lstm, 1)), SpecError, /clip must be a positive/);
  });
});

/** A view of the device whose limits are lowered, to reach limits no test machine has. */
describe('sizes the device cannot hold name the limit', () => {
  it('a weight over maxStorageBufferBindingSize', async () => {
    await rejects(
      (d) => createRnn(withLimits(d, { maxStorageBufferBindingSize: 256 }), lstm, randomWeights(lstm, 1)),
      DeviceLimitError,
      /maxStorageBufferBindingSize is 256/,
      /layer 0/,
    );
  });
  it('a kernel needing more storage buffers than maxStorageBuffersPerShaderStage', async () => {
    await rejects(
      (d) => createRnn(withLimits(d, { maxStorageBuffersPerShaderStage: 4 }), lstm, randomWeights(lstm, 1)),
      DeviceLimitError,
      /maxStorageBuffersPerShaderStage is 4/,
      /lstm_step|input_proj/,
    );
  });
  it('a run whose buffers exceed the limit', async () => {
    // The model is built on the counting view of the limited device, so its submits are the ones counted.
    const { device, counts, reset } = countingDevice(withLimits(await getTestDevice(), { maxStorageBufferBindingSize: 4096 }));
    const rnn = await createRnn(device, lstm, randomWeights(lstm, 1));
    reset(); // createRnn's warm-up runs submit; only what the oversized run does counts
    const err = await rnn.run(new Float32Array(100 * 4 * 3), { seqLen: 100, batch: 4 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeviceLimitError);
    expect((err as Error).message).toMatch(/maxStorageBufferBindingSize \(4096\) \(a bidirectional run cannot be split over seqLen\)/);
    expect(counts.submits).toBe(0);
    // The counter sees this model's work: a run that fits submits.
    await rnn.run(new Float32Array(2 * 3), { seqLen: 2, batch: 1 });
    expect(counts.submits).toBeGreaterThan(0);
    rnn.destroy();
  });
});

describe('run() rejects bad arguments before any GPU work', () => {
  it('each bad argument, with what to fix', async () => {
    const { device, counts, reset } = countingDevice(await getTestDevice());
    const rnn = await createRnn(device, lstm, randomWeights(lstm, 1));
    reset(); // createRnn's own warm-up runs submit; only what the bad calls do counts
    const created = counts.buffersCreated;
    const x = new Float32Array(4 * 2 * 3);
    const bad: [() => Promise<unknown>, RegExp][] = [
      [() => rnn.run(new Float32Array(23), { seqLen: 4, batch: 2 }), /x has 23 floats, expected seqLen·batch·inputSize = 4·2·3 = 24/],
      [() => rnn.run(x, { seqLen: 0, batch: 2 }), /seqLen must be a positive integer/],
      [() => rnn.run(x, { seqLen: 4, batch: -2 }), /batch must be a positive integer/],
      [
        () => rnn.run(x, { seqLen: 4, batch: 2, sequenceLens: Int32Array.from([4, 5]) }),
        /sequenceLens\[1\] = 5 is outside \[0, seqLen = 4\]/,
      ],
      [() => rnn.run(x, { seqLen: 4, batch: 2, sequenceLens: Int32Array.from([-1, 2]) }), /sequenceLens\[0\] = -1/],
      [() => rnn.run(x, { seqLen: 4, batch: 2, sequenceLens: Int32Array.from([4]) }), /sequenceLens has 1 entries, expected batch = 2/],
      [() => rnn.run(x, { seqLen: 4, batch: 2, initialH: new Float32Array(3) }), /initialH has 3 floats, expected \[L·D, B, 5\] = 40/],
      [() => rnn.run(Array.from(x) as unknown as Float32Array, { seqLen: 4, batch: 2 }), /x must be a Float32Array/],
      [
        () => rnn.run(x, { seqLen: 4, batch: 2, mask: new Uint8Array(8), sequenceLens: Int32Array.from([4, 4]) }),
        /mask and options.sequenceLens exclude each other/,
      ],
      [() => rnn.run(x, { seqLen: 4, batch: 2, mask: new Uint8Array(7) }), /mask has 7 entries, expected seqLen·batch = 8/],
    ];
    for (const [call, msg] of bad) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(msg);
    }
    expect(counts.submits).toBe(0);
    expect(counts.buffersCreated).toBe(created);
    rnn.destroy();
  });
  it('initialC on a GRU', async () => {
    const spec: RnnSpec = { cell: 'gru', inputSize: 2, hiddenSize: 3 };
    const rnn = await createRnn(await getTestDevice(), spec, randomWeights(spec, 1));
    await expect(rnn.run(new Float32Array(2), { seqLen: 1, batch: 1, initialC: new Float32Array(3) })).rejects.toThrow(InputError);
    rnn.destroy();
  });
});

describe('lifetime', () => {
  it('destroy() frees every buffer, is idempotent, and run() afterwards rejects', async () => {
    const { device, counts } = countingDevice(await getTestDevice());
    const rnn = await createRnn(device, lstm, randomWeights(lstm, 1));
    await rnn.run(new Float32Array(4 * 2 * 3), { seqLen: 4, batch: 2 });
    expect(counts.buffersCreated).toBeGreaterThan(10);
    rnn.destroy();
    expect(counts.buffersDestroyed).toBe(counts.buffersCreated);
    expect(counts.liveBytes).toBe(0);
    rnn.destroy();
    expect(counts.buffersDestroyed).toBe(counts.buffersCreated);
    await expect(rnn.run(new Float32Array(4 * 2 * 3), { seqLen: 4, batch: 2 })).rejects.toThrow(DestroyedError);
  });

  it('a thousand run() calls do not grow GPU memory; a larger run grows the workspace once and frees the old one', async () => {
    const { device, counts } = countingDevice(await getTestDevice());
    const spec: RnnSpec = { cell: 'gru', inputSize: 3, hiddenSize: 4, direction: 'bidirectional' };
    const rnn = await createRnn(device, spec, randomWeights(spec, 2));
    const r = rng(5);
    await rnn.run(uniform(r, 3 * 2 * 3), { seqLen: 3, batch: 2 });
    const created = counts.buffersCreated;
    const bytes = counts.liveBytes;
    const liveBuffers = counts.buffersCreated - counts.buffersDestroyed;
    for (let i = 0; i < 1000; i++) {
      // Shapes at or under the first run's (3, 2), so the workspace is reused every time.
      const [T, B] = [
        [3, 2],
        [1, 1],
        [2, 2],
        [3, 1],
      ][i % 4];
      const out = await rnn.run(uniform(r, T * B * 3), { seqLen: T, batch: B });
      expect(out.Y.length).toBe(T * 2 * B * 4);
    }
    expect(counts.buffersCreated).toBe(created);
    expect(counts.liveBytes).toBe(bytes);
    await rnn.run(uniform(r, 6 * 5 * 3), { seqLen: 6, batch: 5 });
    expect(counts.buffersCreated).toBeGreaterThan(created);
    expect(counts.liveBytes).toBeGreaterThan(bytes);
    expect(counts.buffersCreated - counts.buffersDestroyed).toBe(liveBuffers);
    rnn.destroy();
    expect(counts.liveBytes).toBe(0);
  });
});
