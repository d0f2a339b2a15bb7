// The demo app's voice activity detection page (vad.html): Silero VAD v5, the file @ricky0123/vad-web
// ships (served from node_modules by Vite, never copied into the repository), on webgpu-rnn.
//   Microphone: an AudioWorklet (vad-capture.js) resamples to 16 kHz and posts 512-sample frames;
//     this page prepends the previous frame's last 64 samples and runs each [1, 576] window as one
//     stream.step(), the LSTM state staying on the GPU; a scrolling plot, a speech/silence indicator,
//     ms per frame against the 32 ms each frame lasts, and the segments so far.
//   A recording: decoded and resampled to 16 kHz mono by WebAudio, cut by audioWindows and run as
//     one session.scan(); waveform with the segments, JSON and WebVTT downloads, the time against
//     real time, and optionally ONNX Runtime Web (WASM) frame by frame on the same windows.
// The segment rules (speechSegments) are inputs; changing them recomputes every list from the
// probabilities. test/browser/vad-page.test.ts drives the page through globalThis.__vad.
import {
  audioWindows,
  loadOnnx,
  requestDevice,
  segmentsToWebVtt,
  speechSegments,
  type OnnxSession,
  type OnnxStream,
  type SegmentOptions,
  type SpeechSegment,
} from '../../src/index.js';
import { SILERO } from '../../common/silero-frames.js';
import { ortFrames } from '../bench/models.js';
import { enableOffline } from './offline.js';
import { drawLive, drawRecording } from './vad-plot.js';
import modelUrl from '@ricky0123/vad-web/dist/silero_vad_v5.onnx?url';
import captureUrl from './vad-capture.js?url';

const RATE = 16000;
// vad-web's framing of v5: 512 new samples, the previous frame's last 64 before them; the state carried.
const { frame: FRAME, context: CONTEXT, carry: CARRY } = SILERO.v5;
const FRAME_MS = (1000 * FRAME) / RATE; // 32 ms of audio per frame
const SR = { data: BigInt64Array.of(BigInt(RATE)), dims: [] };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** What the browser test reads. */
export interface VadState {
  ready: boolean;
  error?: string;
  /** ms from navigation start to the model being loaded and warmed up. */
  loadMs?: number;
  offlineFiles?: number;
  live: {
    running: boolean;
    /** Frames posted by the worklet and not yet run. */
    pending: number;
    probs: number[];
    segments: SpeechSegment[];
    /** Median ms per stream.step() over the last 64 frames. */
    msPerFrame?: number;
    /** performance.now() before getUserMedia, and when the worklet saw its first samples. */
    requestedAt?: number;
    startedAt?: number;
    /** The AudioContext's rate, which the worklet resamples from. */
    contextRate?: number;
  };
  /** Completed file runs; `file` is the latest. */
  fileRuns: number;
  file?: { name: string; audioSeconds: number; frames: number; ms: number; probs: number[]; segments: SpeechSegment[] };
  ort?: { ms: number; msPerFrame: number; probs: number[]; segments: SpeechSegment[]; maxDiff: number };
}
const vad: VadState = { ready: false, fileRuns: 0, live: { running: false, pending: 0, probs: [], segments: [] } };
(globalThis as unknown as { __vad: VadState }).__vad = vad;

function status(text: string, error = false) {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

function fail(e: unknown) {
  vad.error = e instanceof Error ? e.message : String(e);
  status(`error: ${vad.error}`, true);
  console.error(e);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};
const fmt = (s: number) => `${s.toFixed(2)} s`;

// ---- segment rules ----

/** The rules from the inputs; throws (speechSegments' InputError) when they make no sense. */
function readRules(): Required<SegmentOptions> {
  const r: Required<SegmentOptions> = {
    frameSeconds: FRAME / RATE,
    positiveThreshold: Number($<HTMLInputElement>('positive').value),
    negativeThreshold: Number($<HTMLInputElement>('negative').value),
    redemptionFrames: Number($<HTMLInputElement>('redemption').value),
    minSpeechFrames: Number($<HTMLInputElement>('min-speech').value),
  };
  speechSegments([], r); // validates
  return r;
}

// The inputs start at vad-web's defaults (vad.html).
let rules = readRules();

function listSegments(el: HTMLElement, segments: readonly SpeechSegment[]) {
  el.replaceChildren(
    ...segments.map((s) => {
      const li = document.createElement('li');
      li.textContent = `${fmt(s.start)} – ${fmt(s.end)}  (${(s.end - s.start).toFixed(2)} s)`;
      return li;
    }),
  );
}

// ---- the microphone ----

let liveSession: OnnxSession;
let stream: OnnxStream | undefined;
let mic: { ctx: AudioContext; media: MediaStream } | undefined;
const queue: Float32Array[] = [];
let context = new Float32Array(CONTEXT);
const stepMs: number[] = [];
let pumping = false;
let drawScheduled = false;

function scheduleLiveDraw() {
  if (drawScheduled) return;
  drawScheduled = true;
  requestAnimationFrame(() => {
    drawScheduled = false;
    renderLive();
  });
}

function renderLive() {
  const l = vad.live;
  drawLive($('live-plot'), l.probs, l.segments, { positive: rules.positiveThreshold, negative: rules.negativeThreshold });
  const last = l.segments[l.segments.length - 1];
  // A segment is still open while fewer than redemptionFrames frames have passed since its last voiced one.
  const speaking = !!last && l.probs.length - last.endFrame < rules.redemptionFrames;
  const ind = $('indicator');
  ind.textContent = speaking ? 'speech' : 'silence';
  ind.classList.toggle('speech', speaking);
  if (l.msPerFrame !== undefined)
    $('live-stats').textContent =
      `${l.probs.length} frames (${((l.probs.length * FRAME_MS) / 1000).toFixed(1)} s) · p = ${l.probs[l.probs.length - 1].toFixed(2)} · ` +
      `${l.msPerFrame.toFixed(2)} ms per 32 ms frame: ${(FRAME_MS / l.msPerFrame).toFixed(1)}× faster than real time` +
      (l.pending > 1 ? ` · ${l.pending} frames queued` : '');
  listSegments($('live-segments'), l.segments);
}

/** Runs the queued frames one stream.step() at a time, in order. */
async function pump() {
  if (pumping || !stream) return;
  pumping = true;
  try {
    while (queue.length) {
      const samples = queue.shift()!;
      vad.live.pending = queue.length;
      const input = new Float32Array(CONTEXT + FRAME);
      input.set(context);
      input.set(samples, CONTEXT);
      context = input.slice(FRAME);
      const t0 = performance.now();
      const { output } = await stream.step({ input: { data: input, dims: [1, CONTEXT + FRAME] }, sr: SR });
      stepMs.push(performance.now() - t0);
      if (stepMs.length > 64) stepMs.shift();
      vad.live.probs.push(output.data[0]);
      vad.live.msPerFrame = median(stepMs);
      // Recomputed over every probability so far: linear in the frames, microseconds even after minutes.
      vad.live.segments = speechSegments(vad.live.probs, rules);
      scheduleLiveDraw();
    }
  } finally {
    pumping = false;
  }
}

async function startMic() {
  $<HTMLButtonElement>('mic-start').disabled = true;
  stream?.destroy();
  stream = liveSession.stream({ carry: CARRY });
  Object.assign(vad.live, { running: true, pending: 0, probs: [], segments: [], msPerFrame: undefined, startedAt: undefined });
  context = new Float32Array(CONTEXT);
  queue.length = 0;
  stepMs.length = 0;
  // The worklet is ready before the microphone opens, so that no captured samples are lost.
  const ctx = new AudioContext();
  await ctx.audioWorklet.addModule(captureUrl);
  const node = new AudioWorkletNode(ctx, 'vad-capture');
  node.port.onmessage = (e: MessageEvent) => {
    if (e.data.type === 'start') {
      vad.live.startedAt = performance.now();
      vad.live.contextRate = e.data.sampleRate;
    } else if (e.data.type === 'frame' && vad.live.running) {
      queue.push(e.data.samples as Float32Array);
      vad.live.pending = queue.length;
      void pump().catch(fail);
    }
  };
  // Muted to the speakers: the node is pulled only while it reaches the destination.
  const mute = new GainNode(ctx, { gain: 0 });
  node.connect(mute).connect(ctx.destination);
  vad.live.requestedAt = performance.now();
  const media = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
  });
  ctx.createMediaStreamSource(media).connect(node);
  await ctx.resume();
  mic = { ctx, media };
  $<HTMLButtonElement>('mic-stop').disabled = false;
}

async function stopMic() {
  vad.live.running = false;
  $<HTMLButtonElement>('mic-stop').disabled = true;
  if (mic) {
    for (const t of mic.media.getTracks()) t.stop();
    await mic.ctx.close();
    mic = undefined;
  }
  // Frames already captured are still run (pump), so the list covers all that was heard.
  $<HTMLButtonElement>('mic-start').disabled = false;
}

// ---- a recording ----

let fileSession: OnnxSession;
let modelBytes: Uint8Array;
let lastAudio: Float32Array | undefined;
const blobUrls: string[] = [];

/** Decodes any format the browser knows; an OfflineAudioContext at 16 kHz resamples while decoding. */
async function decode(file: Blob): Promise<Float32Array> {
  const buffer = await new OfflineAudioContext(1, 1, RATE).decodeAudioData(await file.arrayBuffer());
  const out = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const ch = buffer.getChannelData(c);
    for (let i = 0; i < out.length; i++) out[i] += ch[i] / buffer.numberOfChannels;
  }
  return out;
}

function renderFile() {
  const f = vad.file;
  if (!f || !lastAudio) return;
  drawRecording($('file-plot'), lastAudio, RATE, f.segments);
  listSegments($('file-segments'), f.segments);
  $('file-stats').textContent =
    `${f.name}: ${f.audioSeconds.toFixed(1)} s of audio in ${(f.ms / 1000).toFixed(2)} s: ${(f.audioSeconds / (f.ms / 1000)).toFixed(0)}× real time ` +
    `(webgpu-rnn, one session.scan over ${f.frames} frames) · ${f.segments.length} speech segments`;
  if (vad.ort)
    $('ort-stats').textContent =
      `ONNX Runtime Web (WASM, one thread), frame by frame: ${(vad.ort.ms / 1000).toFixed(2)} s, ${vad.ort.msPerFrame.toFixed(2)} ms per frame: ` +
      `${(f.audioSeconds / (vad.ort.ms / 1000)).toFixed(0)}× real time · ${vad.ort.segments.length} segments · max |Δp| vs webgpu-rnn ${vad.ort.maxDiff.toExponential(1)}`;
  for (const u of blobUrls.splice(0)) URL.revokeObjectURL(u);
  const link = (id: string, text: string, type: string) => {
    const url = URL.createObjectURL(new Blob([text], { type }));
    blobUrls.push(url);
    const a = $<HTMLAnchorElement>(id);
    a.href = url;
    a.hidden = false;
  };
  const { frameSeconds: _, ...shownRules } = rules;
  const json = {
    file: f.name,
    model: 'silero_vad_v5.onnx',
    sampleRate: RATE,
    frameSeconds: FRAME / RATE,
    audioSeconds: f.audioSeconds,
    rules: shownRules,
    segments: f.segments.map((s) => ({ start: s.start, end: s.end })),
  };
  link('download-json', `${JSON.stringify(json, null, 2)}\n`, 'application/json');
  link('download-vtt', segmentsToWebVtt(f.segments), 'text/vtt');
}

/** The same windows on ONNX Runtime Web's WASM EP, one session.run per frame with the state fed back, as vad-web runs it. */
async function runOrt(windows: { data: Float32Array; dims: number[] }, ours: number[]): Promise<NonNullable<VadState['ort']>> {
  const fe = await ortFrames('wasm', 'v5', modelBytes);
  try {
    const width = CONTEXT + FRAME;
    const F = windows.dims[0];
    const probs: number[] = [];
    const t0 = performance.now();
    for (let f = 0; f < F; f++) probs.push(await fe.step(windows.data.slice(f * width, (f + 1) * width)));
    const ms = performance.now() - t0;
    let maxDiff = 0;
    for (let f = 0; f < F; f++) maxDiff = Math.max(maxDiff, Math.abs(probs[f] - ours[f]));
    return { ms, msPerFrame: ms / F, probs, segments: speechSegments(probs, rules), maxDiff };
  } finally {
    await fe.dispose();
  }
}

async function runFile(file: File) {
  const progress = $<HTMLProgressElement>('file-progress');
  $('file-stats').textContent = `decoding ${file.name}…`;
  $('ort-stats').textContent = '';
  const audio = await decode(file);
  const windows = audioWindows(audio, FRAME, CONTEXT);
  const F = windows.dims[0];
  if (F === 0) throw new Error(`${file.name}: shorter than one 32 ms frame`);
  progress.hidden = false;
  progress.value = 0;
  const t0 = performance.now();
  const result = await fileSession.scan(
    { input: windows },
    { sr: SR },
    {
      carry: CARRY,
      onProgress: (done: number) => {
        progress.value = done / F;
        $('file-stats').textContent = `${file.name}: ${done} / ${F} frames…`;
      },
    },
  );
  const ms = performance.now() - t0;
  progress.hidden = true;
  const probs = Array.from(result.output.data as Float32Array);
  lastAudio = audio;
  vad.ort = undefined;
  vad.file = { name: file.name, audioSeconds: audio.length / RATE, frames: F, ms, probs, segments: speechSegments(probs, rules) };
  renderFile();
  if ($<HTMLInputElement>('ort-compare').checked) {
    $('ort-stats').textContent = `ONNX Runtime Web (WASM): running ${F} frames…`;
    vad.ort = await runOrt(windows, probs);
    renderFile();
  }
  vad.fileRuns++;
}

// ---- the page ----

function wireInputs() {
  const onRules = () => {
    try {
      rules = readRules();
      $('rules-error').textContent = '';
    } catch (e) {
      $('rules-error').textContent = e instanceof Error ? e.message : String(e);
      return;
    }
    vad.live.segments = speechSegments(vad.live.probs, rules);
    if (vad.file) vad.file.segments = speechSegments(vad.file.probs, rules);
    if (vad.ort) vad.ort.segments = speechSegments(vad.ort.probs, rules);
    renderLive();
    renderFile();
  };
  for (const id of ['positive', 'negative', 'redemption', 'min-speech']) $(id).addEventListener('input', onRules);
  $('mic-start').addEventListener('click', () =>
    startMic().catch((e) => {
      vad.live.running = false;
      $<HTMLButtonElement>('mic-start').disabled = false;
      fail(e);
    }),
  );
  $('mic-stop').addEventListener('click', () => void stopMic().catch(fail));
  const input = $<HTMLInputElement>('file-input');
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    // Cleared, so that picking the same file again (edited rules aside) runs it again.
    input.value = '';
    if (f) void runFile(f).catch(fail);
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f) void runFile(f).catch(fail);
  });
}

async function main() {
  wireInputs();
  const device = await requestDevice();
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const r = await fetch(modelUrl);
  if (!r.ok) throw new Error(`${modelUrl}: HTTP ${r.status}`);
  modelBytes = new Uint8Array(await r.arrayBuffer());
  // Two sessions: the microphone's stream and a recording's scan may run at the same time.
  [liveSession, fileSession] = await Promise.all([loadOnnx(device, modelBytes), loadOnnx(device, modelBytes)]);
  // Warm-up, so that the first frame and the first recording are not timed building pipelines.
  const warm = liveSession.stream({ carry: CARRY });
  await warm.step({ input: { data: new Float32Array(CONTEXT + FRAME), dims: [1, CONTEXT + FRAME] }, sr: SR });
  warm.destroy();
  await fileSession.scan({ input: audioWindows(new Float32Array(8 * FRAME), FRAME, CONTEXT) }, { sr: SR }, { carry: CARRY });
  vad.loadMs = performance.now();
  vad.ready = true;
  const adapter = info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') : 'unknown adapter';
  status(`Silero VAD v5 ready in ${vad.loadMs.toFixed(0)} ms on ${adapter}`);
  // The model file and the worklet module are fetched outside resource timing's view (or later), so they are named.
  enableOffline([modelUrl, captureUrl])
    .then((n) => {
      vad.offlineFiles = n;
      $('offline').textContent = n > 0 ? `works offline: ${n} files stored` : 'no offline reload: the files could not be stored';
    })
    .catch((e) => {
      $('offline').textContent = `no offline reload: ${e instanceof Error ? e.message : e}`;
    });
}

main().catch(fail);
