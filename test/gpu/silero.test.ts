// Silero VAD v4, v5 and v6, the files @ricky0123/vad-web ships, loaded unmodified with loadOnnx and
// run on real speech (espeak-ng + sox: three sentences with silences and noise, 16 kHz), framed as
// vad-web frames them, against onnxruntime-node (CPU) run frame by frame with the same framing:
// |Δp| ≤ 1e-4 on every frame and the final state within 1e-3, both through run() with the state
// passed back and through stream() with the state kept on the GPU. A run and a stream step are one
// submit and one readback; the feeds are onnxruntime Tensors as they are (int64 sr, BigInt64Array).
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, loadOnnx, type OnnxSession } from '../../src/index.js';
import { sessionDispatches } from '../../src/onnx/session.js';
import { SILERO, SILERO_VERSIONS, sileroBytes, sileroFrames, sileroReference, type SileroReference } from '../../common/silero.js';
import { speech } from '../../common/speech.js';
import { countingDevice } from '../support/counting.js';
import { getTestDevice } from '../support/device.js';

const audio = speech();
const SR = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
const report: string[] = [];
afterAll(() => console.log(`[silero] ${report.join('; ')}`));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.each(SILERO_VERSIONS)('Silero VAD %s', (v) => {
  const frames = sileroFrames(v, audio);
  const shape = SILERO[v];
  let ref: SileroReference;
  let session: OnnxSession;

  it('onnxruntime-node gives the reference (and the audio has speech and silence in it)', async () => {
    ref = await sileroReference(v, frames);
    expect(Math.max(...ref.probs)).toBeGreaterThan(0.8);
    expect(Math.min(...ref.probs)).toBeLessThan(0.2);
    session = await loadOnnx(await getTestDevice(), sileroBytes(v));
    expect(session.inputNames.sort()).toEqual(['input', 'sr', ...Object.keys(shape.states)].sort());
  }, 120_000);

  it('run() with the state passed back matches onnxruntime on every frame', async () => {
    let state: Record<string, ort.Tensor> = Object.fromEntries(
      Object.entries(shape.states).map(([name, dims]) => [
        name,
        new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b)), dims),
      ]),
    );
    const probs: number[] = [];
    let out: Record<string, { data: Float32Array | Int32Array; dims: number[] }> = {};
    for (const x of frames) {
      out = await session.run({ input: new ort.Tensor('float32', x, [1, x.length]), sr: SR, ...state });
      expect(out.output.dims).toEqual([1, 1]);
      probs.push(out.output.data[0]);
      state = Object.fromEntries(
        Object.entries(shape.carry).map(([o, i]) => [i, new ort.Tensor('float32', out[o].data as Float32Array, out[o].dims)]),
      );
    }
    const dp = maxDiff(probs, ref.probs);
    const ds = Math.max(...Object.keys(shape.carry).map((o) => maxDiff(out[o].data, ref.finalState[o])));
    report.push(
      `${v} run(): ${frames.length} frames, max |Δp| ${dp.toExponential(2)}, final state ${ds.toExponential(2)}, ${sessionDispatches(session)[0]} dispatches per frame`,
    );
    expect(dp).toBeLessThanOrEqual(1e-4);
    expect(ds).toBeLessThanOrEqual(1e-3);
  }, 300_000);

  it('stream() keeps the state on the GPU and matches onnxruntime on every frame', async () => {
    const s = session.stream({ carry: shape.carry });
    const probs: number[] = [];
    for (const x of frames) {
      const out = await s.step({ input: new ort.Tensor('float32', x, [1, x.length]), sr: SR });
      expect(Object.keys(out)).toEqual(['output']);
      probs.push(out.output.data[0]);
    }
    const state = await s.state();
    const dp = maxDiff(probs, ref.probs);
    const ds = Math.max(...Object.keys(shape.carry).map((o) => maxDiff(state[o].data, ref.finalState[o])));
    report.push(`${v} stream(): max |Δp| ${dp.toExponential(2)}, final state ${ds.toExponential(2)}`);
    expect(dp).toBeLessThanOrEqual(1e-4);
    expect(ds).toBeLessThanOrEqual(1e-3);
    // reset() starts over: the first frame's probability again.
    s.reset();
    const again = await s.step({
      input: { data: frames[0], dims: [1, frames[0].length] },
      sr: { data: new Int32Array([16000]), dims: [] },
    });
    expect(Math.abs(again.output.data[0] - ref.probs[0])).toBeLessThanOrEqual(1e-4);
    s.destroy();
  }, 300_000);

  it('two streams of one session, stepped in turns, are independent', async () => {
    const a = session.stream({ carry: shape.carry });
    const b = session.stream({ carry: shape.carry });
    const n = Math.min(60, frames.length);
    for (let k = 0; k < n; k++) {
      // b runs the frames in reverse order: a's results must not see b's state.
      const [pa] = await Promise.all([
        a.step({ input: { data: frames[k], dims: [1, frames[k].length] }, sr: SR }),
        b.step({ input: { data: frames[n - 1 - k], dims: [1, frames[0].length] }, sr: SR }),
      ]);
      expect(Math.abs(pa.output.data[0] - ref.probs[k]), `frame ${k}`).toBeLessThanOrEqual(1e-4);
    }
    a.destroy();
    b.destroy();
    session.destroy();
  }, 300_000);
});

describe('Silero VAD: bad feeds', () => {
  it('a feed of the wrong shape or type is an InputError naming the feed', async () => {
    const session = await loadOnnx(await getTestDevice(), sileroBytes('v5'));
    const input = { data: new Float32Array(576), dims: [1, 576] };
    const state = { data: new Float32Array(256), dims: [2, 1, 128] };
    await expect(session.run({ input, sr: SR, state: { data: new Float32Array(256), dims: [4, 1, 64] } })).rejects.toThrow(
      new InputError("feed 'state' dimension 0 is 4, the model declares 2"),
    );
    await expect(session.run({ input, state, sr: new ort.Tensor('float32', new Float32Array([16000]), []) })).rejects.toThrow(
      /feed 'sr' must be an integer tensor/,
    );
    await expect(session.run({ input: { data: new Float32Array(575), dims: [1, 576] }, sr: SR, state })).rejects.toThrow(
      /feed 'input' has 575 elements but dims \[1, 576\] need 576/,
    );
    await expect(session.run({ input, sr: SR })).rejects.toThrow(/missing feed for input 'state'/);
    const s = session.stream({ carry: { stateN: 'state' } });
    await expect(s.step({ input, sr: SR, state })).rejects.toThrow(/feed 'state' is carried by the stream/);
    expect(() => session.stream({ carry: { nope: 'state' } })).toThrow(/'nope' is not an output of the model/);
    s.destroy();
    session.destroy();
  }, 60_000);
});

describe('Silero VAD: one submit and one readback per call', () => {
  it('run() and stream().step() of v5 each submit once and map once', async () => {
    const { device, counts, reset } = countingDevice(await getTestDevice());
    const session = await loadOnnx(device, sileroBytes('v5'));
    const frames = sileroFrames('v5', audio);
    const feeds = (x: Float32Array) => ({ input: { data: x, dims: [1, x.length] }, sr: SR });
    await session.run({ ...feeds(frames[0]), state: { data: new Float32Array(256), dims: [2, 1, 128] } }); // builds the program
    reset();
    await session.run({ ...feeds(frames[1]), state: { data: new Float32Array(256), dims: [2, 1, 128] } });
    expect(counts.submits).toBe(1);
    expect(counts.maps).toBe(1);
    // The fused front end (pad, STFT conv with its magnitude, four Conv+Relu), the LSTM, the decoder
    // (Relu folded into its Conv, Sigmoid fused): about a dozen dispatches or fewer, as counted here.
    expect(counts.dispatches).toBe(sessionDispatches(session)[0]);
    expect(counts.dispatches).toBeLessThanOrEqual(12);
    report.push(`v5: ${counts.dispatches} dispatches per frame`);
    const s = session.stream({ carry: { stateN: 'state' } });
    await s.step(feeds(frames[0]));
    reset();
    await s.step(feeds(frames[1]));
    expect(counts.submits).toBe(1);
    expect(counts.maps).toBe(1);
    s.destroy();
    session.destroy();
  }, 120_000);
});
