// The float64 reference (common/reference.ts) against PyTorch's own float64 runs of nn.LSTM / nn.GRU /
// nn.RNN (test/fixtures/torch, made by test/fixtures/make_torch.py) to 1e-9: the oracle of every GPU
// test is itself checked against a framework. No GPU.
import { describe, expect, it } from 'vitest';
import { referenceRnn } from '../../common/reference.js';
import { expectClose } from '../support/close.js';
import { expectTorchCoverage, fromTorchFixture, torchFixtures } from '../support/torch.js';

const FIXTURES = torchFixtures();

describe('float64 reference vs PyTorch fixtures', () => {
  it('covers a bidirectional 2-layer LSTM, proj_size, GRU, relu RNN and variable lengths', () => {
    expectTorchCoverage(FIXTURES, (v, what) => expect(v, what).toBe(true));
  });

  for (const f of FIXTURES) {
    const t = fromTorchFixture(f);
    it(`${f.name}: float64 reference matches PyTorch to 1e-9`, () => {
      const ref = referenceRnn(t.spec, t.weights, t.x, t.run);
      expectClose(ref.Y, t.expected.Y, `${f.name} Y`, { atol: 1e-9, rtol: 0 });
      expectClose(ref.Y_h, t.expected.Y_h, `${f.name} Y_h`, { atol: 1e-9, rtol: 0 });
      if (t.expected.Y_c) expectClose(ref.Y_c!, t.expected.Y_c, `${f.name} Y_c`, { atol: 1e-9, rtol: 0 });
    });
  }
});
