// PyTorch fixtures (float64 runs of nn.LSTM / nn.GRU / nn.RNN, made by test/fixtures/make_torch.py):
// the GPU must match them to the usual f32 tolerance (test/unit/reference-vs-torch.test.ts holds the
// float64 reference to 1e-9 against the same fixtures).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRnn } from '../../src/index.js';
import { expectClose } from '../support/close.js';
import { getTestDevice } from '../support/device.js';
import { fromTorchFixture, type TorchFixture } from '../support/torch.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'torch');
const FIXTURES = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as TorchFixture);

describe('PyTorch fixtures', () => {
  it('covers a bidirectional 2-layer LSTM, proj_size, GRU, relu RNN and variable lengths', () => {
    const c = FIXTURES.map((f) => f.config);
    expect(c.some((x) => x.mode === 'LSTM' && x.bidirectional && x.num_layers === 2)).toBe(true);
    expect(c.some((x) => x.proj_size > 0)).toBe(true);
    expect(c.some((x) => x.mode === 'GRU')).toBe(true);
    expect(c.some((x) => x.mode === 'RNN' && x.nonlinearity === 'relu')).toBe(true);
    expect(FIXTURES.some((f) => f.lengths)).toBe(true);
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
