// The model benchmark of the page (?models=silero-v5[,silero-v4,silero-v6,silero-v5-file]): a real
// model file, not a synthetic shape, checked against onnxruntime-node's probabilities on every frame.
// scripts/bench.ts serves the model bytes, the audio and the reference under /__bench-data/
// (common/bench-data.ts, Playwright routes: nothing is committed).
// silero-v4/v5/v6: each engine runs Silero VAD over the same speech frame by frame, the way
// @ricky0123/vad-web calls it (one call per 32 ms frame, the state passed on), timed per frame:
//   webgpu-rnn:  loadOnnx + stream({ carry }): the state stays on the GPU, one submit per frame;
//   ort-webgpu:  ONNX Runtime Web's WebGPU EP, session.run with the state fed back;
//   ort-wasm:    the same on the WASM EP, one thread (what vad-web runs today).
// silero-v5-file: a whole recording (60 s unless ?seconds= says less), timed end to end:
//   webgpu-rnn:         ONE session.scan over audioWindows(audio, 512, 64) after an untimed warm-up
//                       scan of the same windows; the median of SCAN_RUNS scans;
//   webgpu-rnn-stream, ort-wasm, ort-webgpu: frame by frame as above, every frame of the recording.
// Any engine may be timed on the recording's first seconds only (?cap=engine:seconds,…; ORT's WebGPU
// EP by default, RECORDING_CAPS) and its time scaled to the whole recording, marked as scaled.
import { audioWindows, loadOnnx, type OnnxSession, type OnnxStream } from '../../src/index.js';
import { sessionDispatches } from '../../src/onnx/session.js';
import { SILERO, sileroFrames, type SileroVersion } from '../../common/silero-frames.js';
import { ortWeb } from './engines/ort-web.js';
import {
  MODEL_ENGINES,
  MODEL_TOLERANCE,
  parseModelId,
  RECORDING_CAPS,
  RECORDING_ENGINES,
  type ModelEngineResult,
  type ModelResult,
} from './model-report.js';

export { formatModelTable } from './model-report.js';

const WARMUP = 10;
/** Timed scans of the whole recording (after one untimed). */
const SCAN_RUNS = 3;
const RATE = 16_000;

type EngineId = ModelEngineResult['engine'];

export interface ModelBenchOptions {
  /** The engines to run (default: all of the model's). */
  engines?: readonly string[];
  /** A whole recording: cut to its first `seconds`. */
  seconds?: number;
  /** A whole recording: engine -> seconds timed, over RECORDING_CAPS. */
  caps?: Record<string, number>;
  log: (msg: string) => void;
  /** After each engine, the model's results so far. */
  onResult?: (partial: ModelResult) => void;
}

export interface FrameEngine {
  step(x: Float32Array): Promise<number>;
  reset(): void;
  dispose(): Promise<void> | void;
  dispatches?: number;
}

async function fetchBytes(name: string): Promise<ArrayBuffer> {
  const r = await fetch(`/__bench-data/${name}`);
  if (!r.ok) throw new Error(`/__bench-data/${name}: HTTP ${r.status} (scripts/bench.ts serves the model benchmark's data)`);
  return r.arrayBuffer();
}

const SR = { data: new Int32Array([RATE]), dims: [] };

async function webgpuRnnFrames(device: GPUDevice, v: SileroVersion, bytes: Uint8Array): Promise<FrameEngine> {
  const session: OnnxSession = await loadOnnx(device, bytes);
  let stream: OnnxStream = session.stream({ carry: SILERO[v].carry });
  return {
    async step(x) {
      const out = await stream.step({ input: { data: x, dims: [1, x.length] }, sr: SR });
      return out.output.data[0];
    },
    reset() {
      stream.destroy();
      stream = session.stream({ carry: SILERO[v].carry });
    },
    dispose: () => session.destroy(),
    get dispatches() {
      return sessionDispatches(session)[0];
    },
  };
}

/** Silero `v` on ONNX Runtime Web frame by frame, the state fed back as vad-web feeds it (the demo app's VAD page compares with it too). */
export async function ortFrames(kind: 'webgpu' | 'wasm', v: SileroVersion, bytes: Uint8Array): Promise<FrameEngine> {
  const ort = await ortWeb(kind);
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [kind] });
  const shape = SILERO[v];
  const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(RATE)]), []);
  const zeros = () =>
    Object.fromEntries(
      Object.entries(shape.states).map(([name, dims]) => [
        name,
        new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b)), dims),
      ]),
    );
  let state: Record<string, InstanceType<typeof ort.Tensor>> = zeros();
  return {
    async step(x) {
      const out = await session.run({ input: new ort.Tensor('float32', x, [1, x.length]), sr, ...state });
      state = Object.fromEntries(Object.entries(shape.carry).map(([o, i]) => [i, out[o]]));
      return (out.output.data as Float32Array)[0];
    },
    reset() {
      state = zeros();
    },
    dispose: () => session.release(),
  };
}

function frameEngine(engine: EngineId, device: GPUDevice | undefined, v: SileroVersion, bytes: Uint8Array): Promise<FrameEngine> {
  if (engine === 'ort-webgpu' || engine === 'ort-wasm') return ortFrames(engine === 'ort-webgpu' ? 'webgpu' : 'wasm', v, bytes);
  if (!device) throw new Error('no WebGPU device');
  return webgpuRnnFrames(device, v, bytes);
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

function maxAbsDiff(got: ArrayLike<number>, ref: readonly number[]): number {
  let m = 0;
  for (let k = 0; k < got.length; k++) m = Math.max(m, Math.abs(got[k] - ref[k]));
  return got.length === ref.length ? m : Number.NaN;
}

/** WARMUP frames (then the state starts over), then every frame timed and checked; `totalMs` is the whole loop's wall time. */
async function timeFrames(fe: FrameEngine, frames: Float32Array[], ref: readonly number[]) {
  for (const x of frames.slice(0, WARMUP)) await fe.step(x);
  fe.reset();
  const times: number[] = [];
  const probs: number[] = [];
  const start = performance.now();
  for (const x of frames) {
    const t0 = performance.now();
    probs.push(await fe.step(x));
    times.push(performance.now() - t0);
  }
  const totalMs = performance.now() - start;
  times.sort((a, b) => a - b);
  return { medianMs: quantile(times, 0.5), p90Ms: quantile(times, 0.9), totalMs, maxDiff: maxAbsDiff(probs, ref) };
}

/** One untimed scan over the windows (it builds the programs), then SCAN_RUNS timed, each checked. */
async function timeScan(device: GPUDevice, bytes: Uint8Array, windows: ReturnType<typeof audioWindows>, ref: readonly number[]) {
  const session = await loadOnnx(device, bytes);
  try {
    const carry = SILERO.v5.carry;
    const { path } = await session.scanPlan({ input: windows }, { sr: SR }, { carry });
    const scan = async () => maxAbsDiff((await session.scan({ input: windows }, { sr: SR }, { carry })).output.data as Float32Array, ref);
    let maxDiff = await scan();
    const runsMs: number[] = [];
    for (let k = 0; k < SCAN_RUNS; k++) {
      const t0 = performance.now();
      const d = await scan();
      runsMs.push(performance.now() - t0);
      maxDiff = Math.max(maxDiff, d);
    }
    return { path, runsMs, medianMs: [...runsMs].sort((a, b) => a - b)[SCAN_RUNS >> 1], maxDiff };
  } finally {
    session.destroy();
  }
}

/** 'ok' within MODEL_TOLERANCE; otherwise an error of ours, or a peer's wrong answer. */
function judge(r: ModelEngineResult): ModelEngineResult {
  if (!(r.maxDiff! <= MODEL_TOLERANCE))
    Object.assign(r, {
      status: r.engine.startsWith('webgpu-rnn') ? 'error' : 'wrong',
      reason: `max |Δp| ${r.maxDiff!.toExponential(2)} exceeds ${MODEL_TOLERANCE}`,
    });
  return r;
}

/** Runs `run` for each engine of `order` that `only` names, an exception becoming that engine's error. */
async function eachEngine(
  result: ModelResult,
  order: readonly EngineId[],
  options: ModelBenchOptions,
  run: (engine: EngineId) => Promise<ModelEngineResult>,
): Promise<ModelResult> {
  for (const engine of order.filter((e) => !options.engines || options.engines.includes(e))) {
    options.log(`${result.id} · ${engine}: building…`);
    try {
      result.results.push(judge(await run(engine)));
    } catch (e) {
      result.results.push({ engine, status: 'error', reason: String((e as Error).message ?? e) });
      options.log(`${result.id} · ${engine}: error ${(e as Error).message}`);
    }
    options.onResult?.(result);
  }
  return result;
}

/** The speech frame by frame on every engine (silero-v4/v5/v6). */
function benchFrames(
  id: string,
  v: SileroVersion,
  device: GPUDevice | undefined,
  bytes: Uint8Array,
  audio: Float32Array,
  ref: number[],
  options: ModelBenchOptions,
) {
  const frames = sileroFrames(v, audio);
  if (ref.length !== frames.length) throw new Error(`the reference has ${ref.length} frames, the audio ${frames.length}`);
  const result: ModelResult = {
    id,
    label: `Silero VAD ${v} (${frames.length} frames of ${SILERO[v].frame} samples, 16 kHz speech)`,
    frames: frames.length,
    warmup: WARMUP,
    results: [],
  };
  return eachEngine(result, MODEL_ENGINES, options, async (engine) => {
    const fe = await frameEngine(engine, device, v, bytes);
    try {
      const t = await timeFrames(fe, frames, ref);
      options.log(
        `${id} · ${engine}: median ${t.medianMs.toFixed(3)} ms per frame, p90 ${t.p90Ms.toFixed(3)}, max |Δp| ${t.maxDiff.toExponential(2)}`,
      );
      return {
        engine,
        status: 'ok',
        frames: frames.length,
        medianMs: t.medianMs,
        p90Ms: t.p90Ms,
        maxDiff: t.maxDiff,
        dispatches: fe.dispatches,
      };
    } finally {
      await fe.dispose();
    }
  });
}

/** A whole recording (silero-v5-file): one scan against the frame-by-frame engines, each timed end to end. */
function benchRecording(
  id: string,
  device: GPUDevice | undefined,
  bytes: Uint8Array,
  recording: Float32Array,
  ref: number[],
  options: ModelBenchOptions,
) {
  const { frame, context } = SILERO.v5;
  const audio = options.seconds === undefined ? recording : recording.subarray(0, Math.round(options.seconds * RATE));
  const frames = sileroFrames('v5', audio);
  if (ref.length < frames.length) throw new Error(`the reference has ${ref.length} frames, the recording ${frames.length}`);
  const seconds = (frames.length * frame) / RATE;
  const caps = { ...RECORDING_CAPS, ...options.caps };
  const result: ModelResult = {
    id,
    label: `Silero VAD v5 over a ${seconds.toFixed(1)} s recording (${frames.length} frames of ${frame} samples, 16 kHz speech), whole`,
    frames: frames.length,
    warmup: WARMUP,
    seconds,
    caps,
    results: [],
  };
  return eachEngine(result, RECORDING_ENGINES, options, async (engine) => {
    const n = Math.max(1, Math.min(frames.length, Math.floor(((caps[engine] ?? Infinity) * RATE) / frame)));
    const head = ref.slice(0, n);
    let timedMs: number;
    let r: ModelEngineResult;
    if (engine === 'webgpu-rnn') {
      if (!device) throw new Error('no WebGPU device');
      const t = await timeScan(device, bytes, audioWindows(audio.subarray(0, n * frame), frame, context), head);
      timedMs = t.medianMs;
      r = { engine, status: 'ok', frames: n, maxDiff: t.maxDiff, path: t.path, runsMs: t.runsMs };
    } else {
      const fe = await frameEngine(engine, device, 'v5', bytes);
      try {
        const t = await timeFrames(fe, frames.slice(0, n), head);
        timedMs = t.totalMs;
        r = { engine, status: 'ok', frames: n, medianMs: t.medianMs, p90Ms: t.p90Ms, maxDiff: t.maxDiff, dispatches: fe.dispatches };
      } finally {
        await fe.dispose();
      }
    }
    r.recordingMs = (timedMs * frames.length) / n;
    r.frameMs = timedMs / n;
    r.realTimeFactor = r.recordingMs / (seconds * 1000);
    r.scaled = n < frames.length;
    options.log(
      `${id} · ${engine}: ${r.recordingMs.toFixed(1)} ms per ${seconds.toFixed(1)} s recording${r.scaled ? ` (timed on ${n} frames, scaled)` : ''}, ${r.frameMs.toFixed(3)} ms per frame, max |Δp| ${r.maxDiff!.toExponential(2)}${r.path ? `, ${r.path} path` : ''}`,
    );
    return r;
  });
}

/** One model over its audio on every engine; `device` is webgpu-rnn's (absent: it reports an error). */
export async function benchModel(id: string, device: GPUDevice | undefined, options: ModelBenchOptions): Promise<ModelResult> {
  const model = parseModelId(id);
  if (!model) throw new Error(`unknown model "${id}"; the models are silero-v4, silero-v5, silero-v6, silero-v5-file`);
  const v = model.version;
  const [bytes, audio, ref] = await Promise.all([
    fetchBytes(`silero-${v}.onnx`).then((b) => new Uint8Array(b)),
    fetchBytes(model.recording ? 'recording.f32' : 'speech.f32').then((b) => new Float32Array(b)),
    fetchBytes(`${id}-reference.json`).then((b) => JSON.parse(new TextDecoder().decode(b)) as number[]),
  ]);
  return model.recording ? benchRecording(id, device, bytes, audio, ref, options) : benchFrames(id, v, device, bytes, audio, ref, options);
}
