// A lost device (here device.destroy(), as a driver reset or a GPU-process crash would) and a
// missing device are library errors that say what to do, and a model on a new device works.
import { describe, expect, it } from 'vitest';
import { createRnn, DeviceLostError, GpuError, InputError, requestDevice, type RnnSpec } from '../../src/index.js';
import { referenceRnn } from '../../common/reference.js';
import { expectClose } from '../support/close.js';
import { randomWeights, rng, uniform } from '../../common/random.js';

const spec: RnnSpec = { cell: 'lstm', inputSize: 3, hiddenSize: 8, numLayers: 2 };
const weights = randomWeights(spec, 5);
const x = uniform(rng(6), 4 * 2 * 3);
const run = { seqLen: 4, batch: 2 };

describe('device loss and bad devices', () => {
  it('no device, or something that is not a GPUDevice, is an InputError that says where a device comes from', async () => {
    for (const bad of [null, undefined, {}, 'gpu', { queue: {} }]) {
      const err = await createRnn(bad as unknown as GPUDevice, spec, weights).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, String(bad)).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(/device must be a GPUDevice \(from requestDevice\(\)/);
    }
  });

  it('a run in flight and every later run reject with DeviceLostError; a model on a new device works', async () => {
    const device = await requestDevice();
    const rnn = await createRnn(device, spec, weights);
    await rnn.run(x, run);
    const stream = rnn.stream({ batch: 2 });
    await stream.step(x.subarray(0, 6));
    const pending = rnn.run(x, run);
    device.destroy();
    const err = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeviceLostError);
    expect(err).toBeInstanceOf(GpuError);
    expect((err as DeviceLostError).reason).toBe('destroyed');
    expect((err as Error).message).toMatch(/lost \(reason 'destroyed'.*create it again with createRnn on a new device/);
    await expect(rnn.run(x, run)).rejects.toBeInstanceOf(DeviceLostError);
    // A long-lived stream does not hang: its steps and state reads reject the same way.
    await expect(stream.step(x.subarray(0, 6))).rejects.toBeInstanceOf(DeviceLostError);
    await expect(stream.state()).rejects.toBeInstanceOf(DeviceLostError);
    rnn.destroy();
    // createRnn on the lost device says so too.
    await expect(createRnn(device, spec, weights)).rejects.toBeInstanceOf(DeviceLostError);

    const fresh = await requestDevice();
    const again = await createRnn(fresh, spec, weights);
    const got = await again.run(x, run);
    expectClose(got.Y, referenceRnn(spec, weights, x, run).Y, 'Y on the new device');
    again.destroy();
    fresh.destroy();
  });
});
