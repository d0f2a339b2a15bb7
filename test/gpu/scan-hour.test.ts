// One hour of audio through session.scan (the size goal): 112,500 Silero v5 frames of
// common/bench-data.ts's speech recording (DEFAULT_SPEECH end to end) in chunks of 2048 frames, each a
// program whose buffers stay under 128 MiB. Checked: every frame has a probability, the first 2,500
// frames (across the first chunk boundary) match onnxruntime-node frame by frame, progress comes once
// per chunk, the GPU memory the session holds stays bounded while the hour runs (counted buffers), and
// destroy() returns it all.
import * as ort from 'onnxruntime-node';
import { expect, it } from 'vitest';
import { audioWindows, loadOnnx } from '../../src/index.js';
import { speechRecording } from '../../common/bench-data.js';
import { SILERO, sileroBytes, sileroFrames, sileroReference } from '../../common/silero.js';
import { countingDevice } from '../support/counting.js';
import { getTestDevice } from '../support/device.js';

const SR = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
const HOUR_FRAMES = 112_500;
const CHUNK = 2048;
/** What the session may hold on the GPU at once: two split programs (a full chunk's and the last,
 * shorter one's), each under 128 MiB, and the model's constants. */
const GPU_BOUND = 2 * 128 * 2 ** 20 + 16 * 2 ** 20;

it('runs a one-hour recording (112,500 frames) in bounded GPU memory, matching onnxruntime-node where checked', async () => {
  const audio = speechRecording(3600);
  const windows = audioWindows(audio, SILERO.v5.frame, SILERO.v5.context);
  expect(windows.dims[0]).toBe(HOUR_FRAMES);
  const checked = 2500;
  const ref = await sileroReference('v5', sileroFrames('v5', audio.subarray(0, checked * SILERO.v5.frame)));

  const counted = countingDevice(await getTestDevice());
  const before = counted.counts.liveBytes;
  const session = await loadOnnx(counted.device, sileroBytes('v5'));
  const plan = await session.scanPlan({ input: windows }, { sr: SR }, { carry: SILERO.v5.carry });
  expect(plan).toMatchObject({ path: 'split', chunkFrames: CHUNK });
  const progress: number[] = [];
  let peak = 0;
  const t0 = performance.now();
  const out = await session.scan(
    { input: windows },
    { sr: SR },
    {
      carry: SILERO.v5.carry,
      onProgress: (done) => {
        progress.push(done);
        peak = Math.max(peak, counted.counts.liveBytes - before);
      },
    },
  );
  const seconds = (performance.now() - t0) / 1000;

  expect(out.output.dims).toEqual([HOUR_FRAMES, 1, 1]);
  const probs = out.output.data as Float32Array;
  let outside = 0;
  for (const p of probs) if (!(p >= 0 && p <= 1)) outside++;
  expect(outside).toBe(0);
  let dp = 0;
  for (let k = 0; k < checked; k++) dp = Math.max(dp, Math.abs(probs[k] - ref.probs[k]));
  expect(dp).toBeLessThanOrEqual(1e-4);
  const chunks = Math.ceil(HOUR_FRAMES / CHUNK);
  expect(progress).toEqual(Array.from({ length: chunks }, (_, k) => Math.min(HOUR_FRAMES, (k + 1) * CHUNK)));
  expect(peak).toBeGreaterThan(0);
  expect(peak).toBeLessThanOrEqual(GPU_BOUND);
  session.destroy();
  expect(counted.counts.liveBytes).toBe(before);
  console.log(
    `[scan hour] ${HOUR_FRAMES} frames (1 h) in ${seconds.toFixed(1)} s (${((1000 * seconds) / HOUR_FRAMES).toFixed(3)} ms per frame), ` +
      `${chunks} chunks, peak GPU memory held ${(peak / 2 ** 20).toFixed(0)} MiB, max |Δp| vs ORT over the first ${checked} frames ${dp.toExponential(2)}`,
  );
}, 600_000);
