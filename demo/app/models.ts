// The demo app's two trained models on webgpu-rnn, apart from the page: loading a PyTorch
// safetensors export with readSafetensors + fromTorch, the linear heads the LSTMs feed (a
// 256→96 or 256→1 matrix-vector product, cheap enough on the CPU), next-character sampling and word
// segmentation. The page (app.ts) and the tests (test/gpu/app-models.test.ts) both use this file.
// The models and their training: scripts/train_charlm.py, scripts/train_segmenter.py.
import { createRnn, fromTorch, readSafetensors, type Rnn, type RnnStream } from '../../src/index.js';

/** A dense layer: y = W x + b, W [out, in] row-major. */
export interface Linear {
  W: Float32Array;
  b: Float32Array;
  out: number;
  in: number;
}

export function linear(head: Linear, x: Float32Array, offset = 0, stride = 1): Float32Array {
  const y = new Float32Array(head.out);
  for (let o = 0; o < head.out; o++) {
    let acc = head.b[o];
    const row = o * head.in;
    for (let k = 0; k < head.in; k++) acc += head.W[row + k] * x[offset + k * stride];
    y[o] = acc;
  }
  return y;
}

/**
 * A model file of the training scripts: an nn.LSTM under 'lstm.' (on webgpu-rnn, compiled for one
 * row, and for `seqLen` steps when given) and its linear head under 'head.'.
 */
async function loadLstmWithHead(device: GPUDevice, bytes: Uint8Array, seqLen?: number): Promise<{ rnn: Rnn; head: Linear }> {
  const tensors = readSafetensors(bytes);
  const { spec, weights } = fromTorch(tensors, { mode: 'LSTM', prefix: 'lstm.' });
  const rnn = await createRnn(device, spec, weights, { batch: 1, seqLen });
  const W = tensors['head.weight'];
  const b = tensors['head.bias'];
  if (!W || !b) throw new Error('the model file has no head.weight / head.bias');
  return { rnn, head: { W: W.data, b: b.data, out: W.shape[0], in: W.shape[1] } };
}

/** The character-level generator: a 2-layer LSTM over one-hot characters, and its head. */
export interface CharLm {
  rnn: Rnn;
  head: Linear;
  vocab: string;
}

export async function loadCharLm(device: GPUDevice, bytes: Uint8Array, vocab: string): Promise<CharLm> {
  // One row, one character per call: compile and warm up exactly that.
  return { ...(await loadLstmWithHead(device, bytes, 1)), vocab };
}

/** One-hot rows [T, 1, V] of `text` (characters outside the vocabulary are skipped). */
export function oneHot(vocab: string, text: string): Float32Array {
  const ids = [...text].map((c) => vocab.indexOf(c)).filter((i) => i >= 0);
  const x = new Float32Array(ids.length * vocab.length);
  ids.forEach((id, t) => {
    x[t * vocab.length + id] = 1;
  });
  return x;
}

/** Index drawn from softmax(logits / temperature) with the uniform number `u` in [0, 1); argmax at temperature 0. */
export function sample(logits: Float32Array, temperature: number, u: number): number {
  if (temperature <= 0) return logits.indexOf(Math.max(...logits));
  const max = Math.max(...logits);
  const p = Array.from(logits, (v) => Math.exp((v - max) / temperature));
  let r = u * p.reduce((a, b) => a + b, 0);
  for (let i = 0; i < p.length; i++) {
    r -= p[i];
    if (r <= 0) return i;
  }
  return p.length - 1;
}

/**
 * A generation session on a stream (the state stays on the GPU): prime() feeds a prompt in one call
 * and next() one sampled character per call, each returning the logits of the character after it.
 */
export class Generator {
  private readonly stream: RnnStream;

  constructor(private readonly lm: CharLm) {
    this.stream = lm.rnn.stream();
  }

  /** Feeds `text` (one call of text.length steps) and returns the logits after its last character. */
  async feed(text: string): Promise<Float32Array> {
    const V = this.lm.vocab.length;
    const x = oneHot(this.lm.vocab, text);
    const T = x.length / V;
    if (T === 0) throw new Error('nothing to feed: no character of the text is in the vocabulary');
    const { Y } = await this.stream.step(x, { seqLen: T });
    const H = this.lm.head.in;
    return linear(this.lm.head, Y, (T - 1) * H);
  }

  reset(): void {
    this.stream.reset();
  }

  destroy(): void {
    this.stream.destroy();
  }
}

/** The word segmenter: a BiLSTM over one-hot letters, and a head to one boundary logit per letter. */
export interface Segmenter {
  rnn: Rnn;
  head: Linear;
  letters: string;
}

export async function loadSegmenter(device: GPUDevice, bytes: Uint8Array, letters: string): Promise<Segmenter> {
  return { ...(await loadLstmWithHead(device, bytes)), letters };
}

/** Per letter of `text` (letters a..z only; others are dropped), the probability that a word ends after it. */
export async function boundaries(seg: Segmenter, text: string): Promise<{ letters: string; p: Float32Array }> {
  const letters = [...text.toLowerCase()].filter((c) => seg.letters.includes(c)).join('');
  if (letters.length === 0) return { letters, p: new Float32Array(0) };
  const { Y } = await seg.rnn.run(oneHot(seg.letters, letters), { seqLen: letters.length, batch: 1 });
  // Y [T, 2, 1, H]: forward then backward output of each letter, the head's input [h_fwd; h_bwd].
  const H = seg.head.in / 2;
  const p = new Float32Array(letters.length);
  const both = new Float32Array(2 * H);
  for (let t = 0; t < letters.length; t++) {
    both.set(Y.subarray(t * 2 * H, (t + 1) * 2 * H));
    p[t] = 1 / (1 + Math.exp(-linear(seg.head, both)[0]));
  }
  return { letters, p };
}

/** The letters with a space after every one whose boundary probability is above 0.5 (the last never). */
export function segmented(letters: string, p: Float32Array): string {
  let out = '';
  for (let t = 0; t < letters.length; t++) out += letters[t] + (t < letters.length - 1 && p[t] > 0.5 ? ' ' : '');
  return out;
}
