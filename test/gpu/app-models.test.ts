// The demo app's trained models (demo/app/models, trained by scripts/train_*.py) through the app's
// own loading code (demo/app/models.ts) and through the ONNX export, against PyTorch's float32
// outputs for a fixed input (test/fixtures/app, written by the training scripts from the same
// f16-rounded weights): the LSTM's Y, Y_h, Y_c and the head's logits.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { boundaries, Generator, linear, loadCharLm, loadSegmenter, oneHot, segmented } from '../../demo/app/models.js';
import { loadOnnx } from '../../src/onnx/session.js';
import { expectClose } from '../support/close.js';
import { getTestDevice } from '../support/device.js';

const read = (path: string) => new Uint8Array(readFileSync(new URL(`../../${path}`, import.meta.url)));
const json = (path: string) => JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'));

describe("the app's character-level LSTM (2 × 256, trained with PyTorch)", () => {
  const meta = json('demo/app/models/charlm.json');
  const fixture = json('test/fixtures/app/charlm.json');

  it('safetensors → fromTorch → createRnn: run() and a stream equal PyTorch, and so do the logits', async () => {
    const lm = await loadCharLm(await getTestDevice(), read('demo/app/models/charlm.safetensors'), meta.vocab);
    const x = oneHot(meta.vocab, fixture.prompt);
    const T = fixture.prompt.length;
    const got = await lm.rnn.run(x, { seqLen: T, batch: 1 });
    expectClose(got.Y, Float32Array.from(fixture.Y), 'Y');
    expectClose(got.Y_h, Float32Array.from(fixture.Y_h), 'Y_h');
    expectClose(got.Y_c!, Float32Array.from(fixture.Y_c), 'Y_c');
    // The page's path: a stream fed the prompt in two calls, then the head.
    const gen = new Generator(lm);
    await gen.feed(fixture.prompt.slice(0, 4));
    const logits = await gen.feed(fixture.prompt.slice(4));
    const V = meta.vocab.length;
    expectClose(logits, Float32Array.from(fixture.logits.slice((T - 1) * V)), 'logits after the prompt');
    expectClose(linear(lm.head, got.Y, 0), Float32Array.from(fixture.logits.slice(0, V)), 'logits after the first character');
    gen.destroy();
    lm.rnn.destroy();
  });

  it('the ONNX export (one step per call, state passed back) equals PyTorch through loadOnnx', async () => {
    const session = await loadOnnx(await getTestDevice(), read('demo/app/models/charlm.onnx'));
    const V = meta.vocab.length;
    const H = meta.hiddenSize;
    const L = meta.numLayers;
    let h = new Float32Array(L * H);
    let c = new Float32Array(L * H);
    const x = oneHot(meta.vocab, fixture.prompt);
    for (let t = 0; t < fixture.prompt.length; t++) {
      const out = await session.run({
        x: { data: x.slice(t * V, (t + 1) * V), dims: [1, 1, V] },
        h0: { data: h, dims: [L, 1, H] },
        c0: { data: c, dims: [L, 1, H] },
      });
      expectClose(out.logits.data as Float32Array, Float32Array.from(fixture.logits.slice(t * V, (t + 1) * V)), `ONNX logits, step ${t}`);
      h = Float32Array.from(out.hn.data as Float32Array);
      c = Float32Array.from(out.cn.data as Float32Array);
    }
    expectClose(h, Float32Array.from(fixture.Y_h), 'ONNX h_n');
    session.destroy();
  });
});

describe("the app's BiLSTM word segmenter (trained with PyTorch)", () => {
  const meta = json('demo/app/models/segmenter.json');
  const fixture = json('test/fixtures/app/segmenter.json');

  it('safetensors → fromTorch → createRnn equals PyTorch; the boundaries restore the held-out sentence', async () => {
    const seg = await loadSegmenter(await getTestDevice(), read('demo/app/models/segmenter.safetensors'), meta.letters);
    const T = fixture.letters.length;
    const got = await seg.rnn.run(oneHot(meta.letters, fixture.letters), { seqLen: T, batch: 1 });
    expectClose(got.Y, Float32Array.from(fixture.Y), 'Y');
    expectClose(got.Y_h, Float32Array.from(fixture.Y_h), 'Y_h');
    const { letters, p } = await boundaries(seg, fixture.letters);
    expect(letters).toBe(fixture.letters);
    // Probabilities, not logits recovered from them: a confident boundary (logit 14, p = 1 - 7e-7)
    // keeps too few bits of its logit in an f32 probability.
    const pytorch = Float32Array.from(fixture.logits as number[], (v) => 1 / (1 + Math.exp(-v)));
    expectClose(p, pytorch, 'boundary probabilities', { atol: 1e-4, rtol: 1e-3 });
    // The segmentation the app shows is PyTorch's (a space where its logit is positive).
    expect(segmented(letters, p)).toBe(segmented(letters, pytorch));
    seg.rnn.destroy();
  });
});
