// Long sequences: a run whose per-step kernels need more dispatches than one command buffer holds
// (MAX_DISPATCHES_PER_SUBMIT) is submitted in chunks, with the state kept on the GPU and one
// readback, and its outputs equal the float64 reference's; no command buffer exceeds the bound;
// options.signal cancels a long run between chunks with an AbortError and leaves the model usable.
// T = 100,000 with the default kernels was a segmentation fault inside Dawn over lavapipe when the
// whole run was one command buffer (200,001 dispatches).
import { describe, expect, it } from 'vitest';
import { AbortError, createRnn, InputError, type RnnSpec } from '../../src/index.js';
import { MAX_DISPATCHES_PER_SUBMIT } from '../../src/plan/limits.js';
import { referenceRnn } from '../../common/reference.js';
import { randomWeights, rng, uniform } from '../../common/random.js';
import { expectClose } from '../support/close.js';
import { countingDevice } from '../support/counting.js';
import { getTestDevice } from '../support/device.js';

/** The reference's last `rows` time steps of Y [T, D, B, H] and its Y_h, against the GPU's. */
function expectTail(
  got: { Y: Float32Array; Y_h: Float32Array },
  ref: { Y: ArrayLike<number>; Y_h: ArrayLike<number> },
  rowFloats: number,
  rows: number,
  what: string,
) {
  const from = got.Y.length - rows * rowFloats;
  expectClose(
    got.Y.subarray(from),
    Array.from({ length: rows * rowFloats }, (_, i) => ref.Y[from + i]),
    `${what} Y (last ${rows} steps)`,
  );
  expectClose(got.Y_h, ref.Y_h, `${what} Y_h`);
}

describe('long sequences', () => {
  it(`a run of more than ${MAX_DISPATCHES_PER_SUBMIT} dispatches is several command buffers of at most that many, and equals the reference`, async () => {
    const { device, counts, reset } = countingDevice(await getTestDevice());
    // One dispatch per step (the direct step): T = 2.5 bounds' worth of steps over two layers.
    const spec: RnnSpec = { cell: 'rnn', inputSize: 3, hiddenSize: 8, numLayers: 2 };
    const T = Math.ceil(1.25 * MAX_DISPATCHES_PER_SUBMIT);
    const weights = randomWeights(spec, 11);
    const rnn = await createRnn(device, spec, weights, { stepKernels: 'direct', warmUp: false });
    const x = uniform(rng(5), T * spec.inputSize);
    reset();
    const got = await rnn.run(x, { seqLen: T, batch: 1 });
    const planned = rnn.kernels(T, 1).dispatches;
    expect(planned).toBe(2 * (1 + T));
    expect(counts.dispatches).toBe(planned);
    expect(counts.maxDispatchesPerSubmit).toBeLessThanOrEqual(MAX_DISPATCHES_PER_SUBMIT);
    // Every chunk but the last is full (a step's dispatches stay together); the last holds the copies too.
    expect(counts.submits).toBe(Math.ceil(planned / MAX_DISPATCHES_PER_SUBMIT));
    expect(counts.maps).toBe(1);
    const ref = referenceRnn(spec, weights, x, { seqLen: T, batch: 1 });
    expectClose(got.Y, ref.Y, 'Y');
    expectClose(got.Y_h, ref.Y_h, 'Y_h');
    rnn.destroy();
  });

  for (const stepKernels of ['auto', 'direct'] as const) {
    it(`GRU 16 over T = 100,000 steps (${stepKernels} kernels) equals the reference (Y_h and the last 100 steps of Y)`, async () => {
      const { device, counts, reset } = countingDevice(await getTestDevice());
      const spec: RnnSpec = { cell: 'gru', inputSize: 4, hiddenSize: 16 };
      const T = 100_000;
      const weights = randomWeights(spec, 21);
      const rnn = await createRnn(device, spec, weights, { stepKernels });
      const x = uniform(rng(8), T * spec.inputSize);
      reset();
      const started = performance.now();
      const got = await rnn.run(x, { seqLen: T, batch: 1 });
      const ms = performance.now() - started;
      const ref = referenceRnn(spec, weights, x, { seqLen: T, batch: 1 });
      expectTail(got, ref, spec.hiddenSize, 100, `GRU 16, T = 100k, ${stepKernels}`);
      expect(counts.dispatches).toBe(rnn.kernels(T, 1).dispatches);
      expect(counts.maxDispatchesPerSubmit).toBeLessThanOrEqual(MAX_DISPATCHES_PER_SUBMIT);
      expect(counts.maps).toBe(1);
      const plan = rnn
        .kernels(T, 1)
        .layers.map((c) => `${c.step}+${c.projection}`)
        .join(', ');
      console.log(
        `[long-sequences] GRU 16, T = 100,000, ${stepKernels} (${plan}): ${counts.dispatches} dispatches in ${counts.submits} submits, ${(ms / 1000).toFixed(1)} s`,
      );
      rnn.destroy();
    }, 600_000);
  }

  // The scale runs of issue 18. The GRU over a million steps and the LSTM at B = 2 need more than
  // lavapipe's 128 MiB maxStorageBufferBindingSize in one workspace (xproj: 192 MB and 205 MB), so
  // they also run in segments (plan/segments.ts), with the state carried on the GPU between them.
  const scale: [string, RnnSpec, number, number][] = [
    ['GRU 16, T = 1,000,000', { cell: 'gru', inputSize: 4, hiddenSize: 16 }, 1_000_000, 1],
    ['LSTM 64, B = 2, T = 100,000', { cell: 'lstm', inputSize: 16, hiddenSize: 64 }, 100_000, 2],
    ['BiLSTM 128, T = 20,000', { cell: 'lstm', inputSize: 32, hiddenSize: 128, direction: 'bidirectional' }, 20_000, 1],
  ];
  for (const [name, spec, T, B] of scale) {
    it(`${name} with the default kernels equals the reference (Y_h${spec.cell === 'lstm' ? ', Y_c' : ''} and the last 20 steps of Y)`, async () => {
      const { device, counts, reset } = countingDevice(await getTestDevice());
      const weights = randomWeights(spec, 31);
      const rnn = await createRnn(device, spec, weights, { batch: B });
      const x = uniform(rng(9), T * B * spec.inputSize);
      reset();
      const started = performance.now();
      const got = await rnn.run(x, { seqLen: T, batch: B });
      const ms = performance.now() - started;
      const plan = rnn.kernels(T, B);
      expect(counts.dispatches).toBe(plan.dispatches);
      expect(counts.maxDispatchesPerSubmit).toBeLessThanOrEqual(MAX_DISPATCHES_PER_SUBMIT);
      expect(counts.maps).toBe(1);
      rnn.destroy();
      const ref = referenceRnn(spec, weights, x, { seqLen: T, batch: B });
      const D = spec.direction === 'bidirectional' ? 2 : 1;
      expectTail(got, ref, D * B * spec.hiddenSize, 20, name);
      if (spec.cell === 'lstm') expectClose(got.Y_c!, ref.Y_c!, `${name} Y_c`);
      const kernels = plan.layers.map((c) => `${c.step}+${c.projection}`).join(', ');
      console.log(
        `[long-sequences] ${name}, default (${kernels}${plan.segments ? `, ${plan.segments} segments` : ''}): ` +
          `${counts.dispatches} dispatches in ${counts.submits} submits, ${(ms / 1000).toFixed(1)} s`,
      );
    }, 600_000);
  }

  it('options.signal aborts a long run between its command buffers with an AbortError; the model stays usable', async () => {
    const spec: RnnSpec = { cell: 'rnn', inputSize: 2, hiddenSize: 4 };
    const weights = randomWeights(spec, 3);
    const controller = new AbortController();
    // Abort when the run's second command buffer is submitted: it must stop before its third.
    let armed = false;
    const { device, counts, reset } = countingDevice(await getTestDevice(), (n) => {
      if (armed && n === 2) controller.abort(new Error('user cancelled'));
    });
    const rnn = await createRnn(device, spec, weights, { stepKernels: 'direct', warmUp: false });
    const T = 5 * MAX_DISPATCHES_PER_SUBMIT;
    reset();
    armed = true;
    const run = rnn.run(uniform(rng(2), T * spec.inputSize), { seqLen: T, batch: 1, signal: controller.signal });
    await expect(run).rejects.toThrow(AbortError);
    await expect(run).rejects.toThrow(/aborted through options.signal: user cancelled/);
    expect(counts.submits).toBe(2);
    expect(counts.maps).toBe(0);
    armed = false;
    // An already-aborted signal is refused before any GPU work; anything but an AbortSignal is an InputError.
    reset();
    await expect(rnn.run(new Float32Array(2), { seqLen: 1, batch: 1, signal: controller.signal })).rejects.toThrow(AbortError);
    expect(counts.submits).toBe(0);
    await expect(rnn.run(new Float32Array(2), { seqLen: 1, batch: 1, signal: {} as AbortSignal })).rejects.toThrow(InputError);
    // The model still runs, and right.
    const x = uniform(rng(4), 6 * spec.inputSize);
    const got = await rnn.run(x, { seqLen: 6, batch: 1 });
    const ref = referenceRnn(spec, weights, x, { seqLen: 6, batch: 1 });
    expectClose(got.Y, ref.Y, 'Y after an abort');
    rnn.destroy();
  });
});
