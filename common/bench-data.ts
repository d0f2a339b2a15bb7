// The model benchmark's data (demo/bench/models.ts), served to its page under /__bench-data/ by
// Playwright routes: the Silero model files, the speech, the whole-recording model's recording, and
// onnxruntime-node's reference probabilities, all made at run time (nothing is committed). Shared by
// scripts/bench.ts and the browser test of the whole-recording benchmark.
import type { Page } from 'playwright';
import { parseModelId, RECORDING_SECONDS } from '../demo/bench/model-report.js';
import { sileroBytes, sileroFrames, sileroReference } from './silero.js';
import { DEFAULT_SPEECH, SPEECH_RATE, speech } from './speech.js';

/** The whole-recording benchmark's audio: DEFAULT_SPEECH (≈ 14.4 s) end to end, again and again, cut to `seconds`. */
export function speechRecording(seconds = RECORDING_SECONDS): Float32Array {
  const once = speech(DEFAULT_SPEECH);
  const out = new Float32Array(Math.round(seconds * SPEECH_RATE));
  for (let at = 0; at < out.length; at += once.length) out.set(once.subarray(0, out.length - at), at);
  return out;
}

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * Routes /__bench-data/* of `page` to the data of `models` (ids of demo/bench/model-report.ts's
 * parseModelId): `silero-vN.onnx`, `speech.f32` or `recording.f32` (`seconds` long), and
 * `<id>-reference.json`, onnxruntime-node's probability for every frame.
 */
export async function serveModelData(page: Page, models: string[], options: { seconds?: number } = {}): Promise<void> {
  const files = new Map<string, Buffer>();
  for (const id of models) {
    const model = parseModelId(id);
    if (!model) throw new Error(`unknown model "${id}"`);
    const v = model.version;
    const name = model.recording ? 'recording.f32' : 'speech.f32';
    const audio = model.recording ? speechRecording(options.seconds) : speech();
    const frames = sileroFrames(v, audio);
    console.log(`${id}: onnxruntime-node reference over ${frames.length} frames…`);
    files.set(name, bytesOf(audio));
    files.set(`silero-${v}.onnx`, bytesOf(sileroBytes(v)));
    files.set(`${id}-reference.json`, Buffer.from(JSON.stringify((await sileroReference(v, frames)).probs)));
  }
  await page.route('**/__bench-data/**', (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop()!;
    const body = files.get(name);
    return body
      ? route.fulfill({ status: 200, body, contentType: 'application/octet-stream' })
      : route.fulfill({ status: 404, body: name });
  });
}
