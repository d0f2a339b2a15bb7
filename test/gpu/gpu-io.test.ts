// GPU-resident input and output: x as a GPUBuffer, { output: 'gpu' } for run() and stream steps,
// each checked against the array path of the same model (itself checked against the reference).
import { describe, expect, it } from 'vitest';
import { createRnn, InputError, type RnnSpec } from '../../src/index.js';
import { referenceRnn } from '../../common/reference.js';
import { expectClose } from '../support/close.js';
import { getTestDevice } from '../support/device.js';
import { randomWeights, rng, uniform } from '../../common/random.js';

const STORAGE = 0x80;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const MAP_READ = 0x1;

function upload(device: GPUDevice, data: Float32Array, usage = STORAGE | COPY_DST): GPUBuffer {
  const b = device.createBuffer({ size: data.byteLength, usage });
  device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  return b;
}

async function download(device: GPUDevice, b: GPUBuffer, floats: number): Promise<Float32Array> {
  expect(b.usage & STORAGE).toBeTruthy();
  expect(b.usage & COPY_SRC).toBeTruthy();
  const staging = device.createBuffer({ size: floats * 4, usage: MAP_READ | COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(b, 0, staging, 0, floats * 4);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(MAP_READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return out;
}

const T = 5;
const B = 3;

describe('GPU-resident input and output', () => {
  for (const layout of ['time-major', 'batch-major'] as const) {
    const spec: RnnSpec = { cell: 'lstm', inputSize: 4, hiddenSize: 6, numLayers: 2, direction: 'bidirectional', layout };
    it(`run(): GPUBuffer x and output 'gpu' equal the array path (${layout})`, async () => {
      const device = await getTestDevice();
      const weights = randomWeights(spec, 2);
      const x = uniform(rng(3), T * B * 4);
      const initialH = uniform(rng(4), 4 * B * 6);
      const rnn = await createRnn(device, spec, weights, { batch: B, warmUp: false });
      const opts = { seqLen: T, batch: B, initialH, sequenceLens: Int32Array.from([5, 2, 4]) };
      const arrays = await rnn.run(x, opts);
      expectClose(arrays.Y, referenceRnn(spec, weights, x, opts).Y, 'array path vs reference');
      const xb = upload(device, x);
      const fromGpu = await rnn.run(xb, opts);
      expectClose(fromGpu.Y, arrays.Y, 'GPUBuffer x: Y', { atol: 0, rtol: 0 });
      expectClose(fromGpu.Y_h, arrays.Y_h, 'GPUBuffer x: Y_h', { atol: 0, rtol: 0 });
      const onGpu = await rnn.run(xb, { ...opts, output: 'gpu' });
      expectClose(await download(device, onGpu.Y, arrays.Y.length), arrays.Y, "output 'gpu': Y", { atol: 0, rtol: 0 });
      expectClose(await download(device, onGpu.Y_h, arrays.Y_h.length), arrays.Y_h, "output 'gpu': Y_h", { atol: 0, rtol: 0 });
      expectClose(await download(device, onGpu.Y_c!, arrays.Y_c!.length), arrays.Y_c!, "output 'gpu': Y_c", { atol: 0, rtol: 0 });
      // The caller owns the outputs: destroying the model leaves them readable.
      rnn.destroy();
      expect((await download(device, onGpu.Y, 4)).length).toBe(4);
      for (const b of [xb, onGpu.Y, onGpu.Y_h, onGpu.Y_c!]) b.destroy();
    });
  }

  for (const layout of ['time-major', 'batch-major'] as const) {
    it(`encode() records a run into the caller's encoder with GPU initial states and outputs (${layout})`, async () => {
      const device = await getTestDevice();
      const spec: RnnSpec = { cell: 'lstm', inputSize: 4, hiddenSize: 6, numLayers: 2, direction: 'bidirectional', layout };
      const weights = randomWeights(spec, 12);
      const x = uniform(rng(13), T * B * 4);
      const initialH = uniform(rng(14), 4 * B * 6);
      const initialC = uniform(rng(15), 4 * B * 6);
      const rnn = await createRnn(device, spec, weights, { batch: B, seqLen: T });
      const arrays = await rnn.run(x, { seqLen: T, batch: B, initialH, initialC, sequenceLens: Int32Array.from([5, 0, 3]) });
      const out = {
        Y: device.createBuffer({ size: arrays.Y.byteLength, usage: STORAGE | COPY_SRC | COPY_DST }),
        Y_h: device.createBuffer({ size: arrays.Y_h.byteLength, usage: STORAGE | COPY_SRC | COPY_DST }),
        Y_c: device.createBuffer({ size: arrays.Y_c!.byteLength, usage: STORAGE | COPY_SRC | COPY_DST }),
      };
      const io = {
        x: upload(device, x),
        seqLen: T,
        batch: B,
        sequenceLens: Int32Array.from([5, 0, 3]),
        initialH: upload(device, initialH, STORAGE | COPY_SRC | COPY_DST),
        initialC: upload(device, initialC, STORAGE | COPY_SRC | COPY_DST),
        ...out,
      };
      const encoder = device.createCommandEncoder();
      rnn.encode(encoder, io);
      device.queue.submit([encoder.finish()]); // one submit, the caller's
      expectClose(await download(device, out.Y, arrays.Y.length), arrays.Y, 'encode Y', { atol: 0, rtol: 0 });
      expectClose(await download(device, out.Y_h, arrays.Y_h.length), arrays.Y_h, 'encode Y_h', { atol: 0, rtol: 0 });
      expectClose(await download(device, out.Y_c, arrays.Y_c!.length), arrays.Y_c!, 'encode Y_c', { atol: 0, rtol: 0 });
      // Kernels of a shape never compiled, and a run in flight, are refused with what to do.
      expect(() => rnn.encode(device.createCommandEncoder(), { ...io, seqLen: 1, batch: 1, sequenceLens: undefined })).toThrow(
        /not compiled yet: pass \{ seqLen: 1, batch: 1 \}/,
      );
      const inFlight = rnn.run(x, { seqLen: T, batch: B });
      expect(() => rnn.encode(device.createCommandEncoder(), io)).toThrow(/in flight/);
      await inFlight;
      rnn.destroy();
      for (const b of [io.x, io.initialH, io.initialC, out.Y, out.Y_h, out.Y_c]) b.destroy();
    });
  }

  it('stream steps take GPUBuffer x and give GPU Y', async () => {
    const device = await getTestDevice();
    const spec: RnnSpec = { cell: 'gru', inputSize: 4, hiddenSize: 6, numLayers: 2 };
    const rnn = await createRnn(device, spec, randomWeights(spec, 5), { warmUp: false });
    const x = uniform(rng(6), 3 * 4);
    const arrays = rnn.stream();
    const gpu = rnn.stream();
    for (let t = 0; t < 3; t++) {
      const step = x.subarray(t * 4, (t + 1) * 4);
      const a = await arrays.step(step);
      const xb = upload(device, step);
      const g = await gpu.step(xb, { output: 'gpu' });
      expectClose(await download(device, g.Y, 6), a.Y, `step ${t}`, { atol: 0, rtol: 0 });
      xb.destroy();
      g.Y.destroy();
    }
    expectClose((await gpu.state()).Y_h, (await arrays.state()).Y_h, 'state', { atol: 0, rtol: 0 });
    rnn.destroy();
  });

  it('a GPUBuffer x without STORAGE usage, or too small, is an InputError', async () => {
    const device = await getTestDevice();
    const spec: RnnSpec = { cell: 'rnn', inputSize: 4, hiddenSize: 3 };
    const rnn = await createRnn(device, spec, randomWeights(spec, 1), { warmUp: false });
    const noStorage = device.createBuffer({ size: 64, usage: COPY_DST | COPY_SRC });
    await expect(rnn.run(noStorage, { seqLen: 2, batch: 2 })).rejects.toThrow(/without STORAGE usage/);
    const small = device.createBuffer({ size: 16, usage: STORAGE });
    await expect(rnn.run(small, { seqLen: 2, batch: 2 })).rejects.toThrow(InputError);
    await expect(rnn.run(small, { seqLen: 2, batch: 2 })).rejects.toThrow(/16 bytes, expected at least seqLen·batch·inputSize·4 = 64/);
    await expect(rnn.run(new Float32Array(16), { seqLen: 2, batch: 2, output: 'disk' as 'gpu' })).rejects.toThrow(
      /output must be 'cpu' or 'gpu'/,
    );
    noStorage.destroy();
    small.destroy();
    rnn.destroy();
  });
});
