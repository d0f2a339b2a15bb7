// Runs split over seqLen (plan/segments.ts, run/segments.ts) and sequence kernels in chunks of
// SEQUENCE_CHUNK_STEPS steps, against the float64 reference. A device view with a small
// maxStorageBufferBindingSize makes small models run in segments of a few steps, so that every
// option meets a segment boundary: lengths that end inside, before or after a segment, masks,
// initial states, reverse models (segments from the last), batch-major layouts, stacks, the stack
// kernel, the Clockwork cell's clocks (step0), GPU input and output, streams, and abort.
import { describe, expect, it } from 'vitest';
import { AbortError, createRnn, InputError, type RnnSpec } from '../../src/index.js';
import { resolveSpec } from '../../src/model/spec.js';
import { MAX_DISPATCHES_PER_SUBMIT } from '../../src/plan/limits.js';
import { SEQUENCE_CHUNK_STEPS, segmentSteps } from '../../src/plan/segments.js';
import { deviceCaps } from '../../src/gpu/adapter.js';
import { referenceRnn } from '../../common/reference.js';
import { caseInputs, randomWeights, rng, uniform } from '../../common/random.js';
import { expectClose } from '../support/close.js';
import { checkCase, describeCase, type CaseOptions } from '../support/cases.js';
import { countingDevice } from '../support/counting.js';
import { getTestDevice } from '../support/device.js';
import { withLimits } from '../support/limits.js';

/** The binding limit of the small device: a few steps of these models' projections per segment. */
const BINDING = 2048;
const small = async () => withLimits(await getTestDevice(), { maxStorageBufferBindingSize: BINDING });

/** Segments a run of (T, B) takes on the small device; each case asserts that it is several. */
async function segmentsOf(spec: RnnSpec, T: number, B: number): Promise<number> {
  const steps = segmentSteps(resolveSpec(spec), deviceCaps(await small()), T, B);
  return Math.ceil(T / steps);
}

describe('runs split over seqLen equal the reference', () => {
  const cases: [RnnSpec, CaseOptions][] = [
    [
      { cell: 'lstm', inputSize: 3, hiddenSize: 5, numLayers: 2 },
      { seqLen: 30, batch: 3, lengths: [30, 9, 0], initialStates: true, peepholes: true, stepKernels: 'direct' },
    ],
    [
      { cell: 'gru', inputSize: 3, hiddenSize: 6, direction: 'reverse', linearBeforeReset: true },
      { seqLen: 31, batch: 3, lengths: [31, 17, 3], initialStates: true },
    ],
    [
      { cell: 'gru', inputSize: 2, hiddenSize: 7, direction: 'reverse' },
      { seqLen: 27, batch: 2, mask: true, initialStates: true, stepKernels: 'persistent' },
    ],
    [
      { cell: 'rnn', inputSize: 3, hiddenSize: 8, layout: 'batch-major' },
      { seqLen: 101, batch: 2, lengths: [40, 101], initialStates: true, stepKernels: 'rows' },
    ],
    [
      { cell: 'lstm', inputSize: 3, hiddenSize: 6, numLayers: 2, layout: 'batch-major' },
      { seqLen: 26, batch: 3, mask: true, initialStates: true, stepKernels: 'stack' },
    ],
    [
      { cell: 'clockwork', inputSize: 2, hiddenSize: 3, periods: [1, 2, 4] },
      { seqLen: 700, batch: 1, initialStates: true, stepKernels: 'direct' },
    ],
  ];
  for (const [spec, o] of cases) {
    it(describeCase(spec, o), async () => {
      expect(await segmentsOf(spec, o.seqLen, o.batch)).toBeGreaterThan(2);
      await checkCase(await small(), spec, o);
    });
  }
});

describe('a segmented run', () => {
  const spec: RnnSpec = { cell: 'lstm', inputSize: 3, hiddenSize: 5 };
  const T = 40;
  const B = 2;

  it('reads back once, bounds its command buffers, reports its segments, and frees what it made', async () => {
    const { device, counts, reset } = countingDevice(await small());
    const { weights, x, run } = caseInputs(spec, { seqLen: T, batch: B, lengths: [40, 23], initialStates: true });
    const rnn = await createRnn(device, spec, weights, { stepKernels: 'direct', warmUp: false });
    const plan = rnn.kernels(T, B);
    expect(plan.segments).toBe(await segmentsOf(spec, T, B));
    await rnn.run(x, run); // the workspace grows once
    reset();
    const live = counts.liveBytes;
    const got = await rnn.run(x, run);
    expect(counts.maps).toBe(1);
    expect(counts.dispatches).toBe(plan.dispatches);
    expect(counts.maxDispatchesPerSubmit).toBeLessThanOrEqual(MAX_DISPATCHES_PER_SUBMIT);
    expect(counts.liveBytes).toBe(live); // its state and staging buffers are gone
    const ref = referenceRnn(spec, weights, x, run);
    expectClose(got.Y, ref.Y, 'Y');
    expectClose(got.Y_h, ref.Y_h, 'Y_h');
    expectClose(got.Y_c!, ref.Y_c!, 'Y_c');
    rnn.destroy();
  });

  it("takes x in a GPUBuffer (COPY_SRC) and returns output: 'gpu' buffers equal to the array run's", async () => {
    const device = await small();
    const { weights, x, run } = caseInputs(spec, { seqLen: T, batch: B, lengths: [17, 40], initialStates: true });
    const rnn = await createRnn(device, spec, weights, { warmUp: false });
    const expected = await rnn.run(x, run);
    const xBuffer = device.createBuffer({
      size: x.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(xBuffer, 0, new Float32Array(x));
    const got = await rnn.run(xBuffer, { ...run, output: 'gpu' });
    const read = async (b: GPUBuffer) => {
      const staging = device.createBuffer({ size: b.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const e = device.createCommandEncoder();
      e.copyBufferToBuffer(b, 0, staging, 0, b.size);
      device.queue.submit([e.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const v = new Float32Array(staging.getMappedRange().slice(0));
      staging.destroy();
      b.destroy();
      return v;
    };
    expectClose((await read(got.Y)).subarray(0, expected.Y.length), expected.Y, 'Y');
    expectClose((await read(got.Y_h)).subarray(0, expected.Y_h.length), expected.Y_h, 'Y_h');
    expectClose((await read(got.Y_c!)).subarray(0, expected.Y_c!.length), expected.Y_c!, 'Y_c');
    // Without COPY_SRC its slices cannot be copied: an InputError that says so, before any GPU work.
    const storageOnly = device.createBuffer({ size: x.byteLength, usage: GPUBufferUsage.STORAGE });
    await expect(rnn.run(storageOnly, run)).rejects.toThrow(InputError);
    await expect(rnn.run(storageOnly, run)).rejects.toThrow(/without COPY_SRC usage: a run of seqLen 40 runs in segments of/);
    storageOnly.destroy();
    xBuffer.destroy();
    rnn.destroy();
  });

  it("a stream's long step runs in segments from the stream's state, and equals one run", async () => {
    const device = await small();
    const weights = randomWeights(spec, 4);
    const x = uniform(rng(6), 2 * T * B * spec.inputSize);
    const rnn = await createRnn(device, spec, weights, { warmUp: false });
    const ref = referenceRnn(spec, weights, x, { seqLen: 2 * T, batch: B });
    const stream = rnn.stream({ batch: B });
    const half = T * B * spec.inputSize;
    const first = await stream.step(x.subarray(0, half), { seqLen: T });
    const second = await stream.step(x.subarray(half), { seqLen: T });
    const Y = new Float32Array([...first.Y, ...second.Y]);
    expectClose(Y, ref.Y, 'stream Y');
    const state = await stream.state();
    expectClose(state.Y_h, ref.Y_h, 'stream Y_h');
    expectClose(state.Y_c!, ref.Y_c!, 'stream Y_c');
    rnn.destroy();
  });

  it('options.signal aborts between segments with an AbortError; the model stays usable', async () => {
    const controller = new AbortController();
    let armed = false;
    const { device, counts, reset } = countingDevice(await small(), (n) => {
      if (armed && n === 2) controller.abort(new Error('user cancelled'));
    });
    const weights = randomWeights(spec, 5);
    const rnn = await createRnn(device, spec, weights, { stepKernels: 'persistent', warmUp: false });
    const x = uniform(rng(7), T * B * spec.inputSize);
    expect(rnn.kernels(T, B).segments).toBeGreaterThan(3);
    reset();
    armed = true;
    await expect(rnn.run(x, { seqLen: T, batch: B, signal: controller.signal })).rejects.toThrow(AbortError);
    // A segment is one submit here (a few dispatches): the abort came at the second.
    expect(counts.submits).toBe(2);
    expect(counts.maps).toBe(0);
    armed = false;
    const got = await rnn.run(x, { seqLen: T, batch: B });
    expectClose(got.Y, referenceRnn(spec, weights, x, { seqLen: T, batch: B }).Y, 'Y after an abort');
    rnn.destroy();
  });
});

describe(`sequence kernels run in chunks of ${SEQUENCE_CHUNK_STEPS} steps`, () => {
  // 2.5 chunks: three dispatches per layer, the last one partial; lengths end inside each chunk.
  const T = Math.floor(2.5 * SEQUENCE_CHUNK_STEPS);
  const run = { seqLen: T, batch: 3, lengths: [T, 1500, 700], initialStates: true } satisfies CaseOptions;
  const cases: [RnnSpec, CaseOptions][] = [
    [
      { cell: 'gru', inputSize: 3, hiddenSize: 8, numLayers: 2 },
      { ...run, stepKernels: 'persistent' },
    ],
    [
      { cell: 'lstm', inputSize: 3, hiddenSize: 8, direction: 'bidirectional' },
      { ...run, stepKernels: 'persistent', peepholes: true },
    ],
    [
      { cell: 'rnn', inputSize: 3, hiddenSize: 4, direction: 'reverse' },
      { ...run, stepKernels: 'rows' },
    ],
    [
      { cell: 'lstm', inputSize: 3, hiddenSize: 8, numLayers: 2 },
      { ...run, stepKernels: 'stack' },
    ],
  ];
  for (const [spec, o] of cases) {
    it(describeCase(spec, o), async () => {
      const { device, counts, reset } = countingDevice(await getTestDevice());
      reset();
      await checkCase(device, spec, o);
      const layers = spec.numLayers ?? 1;
      // Per layer one projection and three chunks; the stack kernel: three chunks for every layer.
      expect(counts.dispatches).toBe(o.stepKernels === 'stack' ? 3 : layers * 4);
    });
  }
});
