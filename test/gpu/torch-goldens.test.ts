// PyTorch fixtures (float64 runs of nn.LSTM / nn.GRU / nn.RNN, made by test/fixtures/make_torch.py):
// the GPU must match them to the usual f32 tolerance (test/unit/reference-vs-torch.test.ts holds the
// float64 reference to 1e-9 against the same fixtures).
import { describe, expect, it } from 'vitest';
import { createRnn } from '../../src/index.js';
import { expectClose } from '../support/close.js';
import { getTestDevice } from '../support/device.js';
import { expectTorchCoverage, fromTorchFixture, torchFixtures } from '../support/torch.js';

const FIXTURES = torchFixtures();

describe('PyTorch fixtures', () => {
  it('covers a bidirectional 2-layer LSTM, proj_size, GRU, relu RNN and variable lengths', () => {
    expectTorchCoverage(FIXTURES, (v, what) => expect(v, what).toBe(true));
  });

  for (const f of FIXTURES) {
    const t = fromTorchFixture(f);
    it(`${f.name}: GPU matches PyTorch`, async () => {
      const f32 = (v: number[] | undefined) => (v ? Float32Array.from(v) : undefined);
      const weights = t.weights.map((w) => ({
        W: f32(w.W as number[])!,
        R: f32(w.R as number[])!,
        B: f32(w.B as number[]),
        ...(w.Wr ? { Wr: f32(w.Wr as number[]) } : {}),
      }));
      const rnn = await createRnn(await getTestDevice(), t.spec, weights);
      const got = await rnn.run(Float32Array.from(t.x), {
        ...t.run,
        sequenceLens: t.run.sequenceLens && Int32Array.from(t.run.sequenceLens),
        initialH: f32(t.run.initialH),
        initialC: f32(t.run.initialC),
      });
      rnn.destroy();
      expectClose(got.Y, t.expected.Y, `${f.name} Y`);
      expectClose(got.Y_h, t.expected.Y_h, `${f.name} Y_h`);
      if (t.expected.Y_c) expectClose(got.Y_c!, t.expected.Y_c, `${f.name} Y_c`);
    });
  }
});
