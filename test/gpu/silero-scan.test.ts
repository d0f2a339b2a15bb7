// session.scan over whole recordings: Silero v4, v5 and v6 (the files @ricky0123/vad-web ships) over the
// espeak-ng speech of silero.test.ts, cut by audioWindows, against onnxruntime-node run frame by frame
// (|Δp| ≤ 1e-4, final state ≤ 1e-3) and against the same session's run() with the state fed back
// (≤ 1e-5); chunks are one submit and one readback each; progress, cancelling and bad input.
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { AbortError, InputError, audioWindows, loadOnnx, speechSegments, type OnnxSession } from '../../src/index.js';
import { SILERO, sileroBytes, sileroFrames, sileroReference, type SileroReference } from '../../common/silero.js';
import { DEFAULT_SPEECH, SPEECH_RATE, speech } from '../../common/speech.js';
import { countingDevice } from '../support/counting.js';
import { getTestDevice } from '../support/device.js';

const audio = speech();
const SR = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
const report: string[] = [];
afterAll(() => console.log(`[silero scan] ${report.join('; ')}`));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

it('audioWindows cuts a recording as vad-web frames it (the framing of common/silero-frames.ts)', () => {
  for (const v of ['v4', 'v5'] as const) {
    const { frame, context } = SILERO[v];
    const w = audioWindows(audio, frame, context);
    const frames = sileroFrames(v, audio);
    expect(w.dims).toEqual([frames.length, 1, frame + context]);
    frames.forEach((f, k) => expect(Array.from(w.data.subarray(k * f.length, (k + 1) * f.length))).toEqual(Array.from(f)));
  }
  expect(() => audioWindows(audio, 0)).toThrow(InputError);
});

describe.each(['v4', 'v5', 'v6'] as const)('scan, Silero %s', (v) => {
  const shape = SILERO[v];
  const windows = audioWindows(audio, shape.frame, shape.context);
  const F = windows.dims[0];
  let ref: SileroReference;
  let session: OnnxSession;

  it.each([
    'auto',
    'loop',
  ] as const)('equals onnxruntime-node frame by frame, and run() with the state fed back (path %s)', async (path) => {
    ref = await sileroReference(v, sileroFrames(v, audio));
    const counted = countingDevice(await getTestDevice());
    session?.destroy();
    session = await loadOnnx(counted.device, sileroBytes(v));
    const plan = await session.scanPlan({ input: windows }, { sr: SR }, { carry: shape.carry });
    expect(plan.path).toBe('split');
    expect((await session.scanPlan({ input: windows }, { sr: SR }, { carry: shape.carry, path: 'loop' })).path).toBe('loop');
    const chunkFrames = 64;
    const width = windows.dims[2];
    // A first short scan builds the program.
    // A first short scan builds the programs (the split's for the last chunk's one frame too).
    await session.scan({ input: { data: windows.data.subarray(0, width), dims: [1, 1, width] } }, { sr: SR }, { carry: shape.carry, path });
    await session.scan(
      { input: { data: windows.data.subarray(0, chunkFrames * width), dims: [chunkFrames, 1, width] } },
      { sr: SR },
      { carry: shape.carry, path },
    );
    counted.reset();
    const progress: number[] = [];
    const out = await session.scan(
      { input: windows },
      { sr: SR },
      { carry: shape.carry, chunkFrames, path, onProgress: (d) => progress.push(d) },
    );
    const chunks = Math.ceil(F / chunkFrames);
    // Each chunk is one submit and one readback; the final state one more per carried output.
    const carried = Object.keys(shape.carry).length;
    expect(counted.counts.submits).toBe(chunks + carried);
    expect(counted.counts.maps).toBe(chunks + carried);
    expect(progress).toEqual(Array.from({ length: chunks }, (_, k) => Math.min(F, (k + 1) * chunkFrames)));
    expect(out.output.dims).toEqual([F, 1, 1]);
    const dp = maxDiff(out.output.data, ref.probs);
    expect(dp).toBeLessThanOrEqual(1e-4);
    let dState = 0;
    for (const o of Object.keys(shape.carry)) dState = Math.max(dState, maxDiff(out[o].data, ref.finalState[o]));
    expect(dState).toBeLessThanOrEqual(1e-3);

    // The same session's run(), the state passed back by hand, over the first 100 frames.
    const n = 100;
    let state: Record<string, { data: Float32Array; dims: number[] }> = Object.fromEntries(
      Object.entries(shape.states).map(([name, dims]) => [name, { data: new Float32Array(dims.reduce((a, b) => a * b)), dims }]),
    );
    let dRun = 0;
    for (let f = 0; f < n; f++) {
      const r = await session.run({
        input: { data: windows.data.subarray(f * width, (f + 1) * width), dims: [1, width] },
        sr: SR,
        ...state,
      });
      dRun = Math.max(dRun, Math.abs((r.output.data as Float32Array)[0] - (out.output.data as Float32Array)[f]));
      state = Object.fromEntries(Object.entries(shape.carry).map(([o, i]) => [i, r[o] as { data: Float32Array; dims: number[] }]));
    }
    expect(dRun).toBeLessThanOrEqual(1e-5);
    // The three sentences, each after DEFAULT_SPEECH.gap seconds of noise: three segments, the first
    // opening about one gap in.
    const segments = speechSegments(out.output.data, { frameSeconds: shape.frame / SPEECH_RATE });
    expect(segments.length).toBe(DEFAULT_SPEECH.sentences.length);
    expect(Math.abs(segments[0].start - DEFAULT_SPEECH.gap)).toBeLessThanOrEqual(0.3);
    report.push(
      `${v} ${path}: ${F} frames in ${chunks} chunks, max |Δp| ${dp.toExponential(2)} vs ORT, final state ${dState.toExponential(2)}, vs run() ${dRun.toExponential(2)}`,
    );
  }, 300_000);

  it('gives the same with another chunk size, and starts from fixed initial state', async () => {
    const first = 40;
    const head = { data: windows.data.subarray(0, first * windows.dims[2]), dims: [first, 1, windows.dims[2]] };
    const tail = { data: windows.data.subarray(first * windows.dims[2]), dims: [F - first, 1, windows.dims[2]] };
    const a = await session.scan({ input: head }, { sr: SR }, { carry: shape.carry, chunkFrames: 7 });

    // The second half starts from the first half's final state, given in fixed.
    const initial = Object.fromEntries(Object.entries(shape.carry).map(([o, i]) => [i, a[o]]));
    // (by the loop path: a split scan's state continues in a loop one)
    const b = await session.scan({ input: tail }, { sr: SR, ...initial }, { carry: shape.carry, path: 'loop' });
    const joined = [...(a.output.data as Float32Array), ...(b.output.data as Float32Array)];
    expect(maxDiff(joined, ref.probs)).toBeLessThanOrEqual(1e-4);
  }, 300_000);

  it('is cancelled between chunks by its signal, and refuses bad scanned inputs by name', async () => {
    const ac = new AbortController();
    await expect(
      session.scan(
        { input: windows },
        { sr: SR },
        { carry: shape.carry, chunkFrames: 16, signal: ac.signal, onProgress: () => ac.abort() },
      ),
    ).rejects.toThrow(AbortError);
    await expect(session.scan({ input: { data: new Int32Array(4), dims: [4, 1] } }, { sr: SR }, { carry: shape.carry })).rejects.toThrow(
      /scanned input 'input' must be float32/,
    );
    const carried = Object.values(shape.carry)[0];
    await expect(session.scan({ input: windows, [carried]: windows }, { sr: SR }, { carry: shape.carry })).rejects.toThrow(
      new RegExp(`'${carried}' is carried`),
    );
    await expect(session.scan({ input: { data: new Float32Array(10), dims: [2, 5] } }, { sr: SR }, { carry: shape.carry })).rejects.toThrow(
      InputError,
    );
    // The session still runs after the failures.
    const ok = await session.scan(
      { input: { data: windows.data.subarray(0, 3 * windows.dims[2]), dims: [3, 1, windows.dims[2]] } },
      { sr: SR },
      { carry: shape.carry },
    );
    expect(maxDiff(ok.output.data, ref.probs.slice(0, 3))).toBeLessThanOrEqual(1e-4);
    session.destroy();
  }, 300_000);
});
