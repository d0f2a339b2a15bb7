// The model benchmark of the page (?models=silero-v5[,silero-v4,silero-v6]): a real model file, not a
// synthetic shape. Each engine runs Silero VAD over the same speech frame by frame, the way
// @ricky0123/vad-web calls it (one call per 32 ms frame, the state passed on), and is timed per
// frame and checked against onnxruntime-node's probabilities. scripts/bench.ts serves the model
// bytes, the audio and the reference under /__bench-data/ (Playwright routes: nothing is committed).
//   webgpu-rnn:  loadOnnx + stream({ carry }): the state stays on the GPU, one submit per frame;
//   ort-webgpu:  ONNX Runtime Web's WebGPU EP, session.run with the state fed back;
//   ort-wasm:    the same on the WASM EP, one thread (what vad-web runs today).
import { loadOnnx, type OnnxSession, type OnnxStream } from '../../src/index.js';
import { sessionDispatches } from '../../src/onnx/session.js';
import { SILERO, sileroFrames, type SileroVersion } from '../../common/silero-frames.js';
import { ortWeb } from './engines/ort-web.js';
import { MODEL_ENGINES, MODEL_TOLERANCE, type ModelEngineResult, type ModelResult } from './model-report.js';

export { formatModelTable, MODEL_ENGINES } from './model-report.js';

const WARMUP = 10;

interface FrameEngine {
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

async function webgpuRnnFrames(device: GPUDevice, v: SileroVersion, bytes: Uint8Array): Promise<FrameEngine> {
  const session: OnnxSession = await loadOnnx(device, bytes);
  const sr = { data: new Int32Array([16000]), dims: [] };
  let stream: OnnxStream = session.stream({ carry: SILERO[v].carry });
  return {
    async step(x) {
      const out = await stream.step({ input: { data: x, dims: [1, x.length] }, sr });
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

async function ortFrames(kind: 'webgpu' | 'wasm', v: SileroVersion, bytes: Uint8Array): Promise<FrameEngine> {
  const ort = await ortWeb(kind);
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [kind] });
  const shape = SILERO[v];
  const sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
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

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** One model over the audio on every engine; `device` is webgpu-rnn's (absent: it reports an error). */
export async function benchModel(
  id: string,
  device: GPUDevice | undefined,
  engines: readonly string[],
  log: (msg: string) => void,
): Promise<ModelResult> {
  const m = /^silero-(v[456])$/.exec(id);
  if (!m) throw new Error(`unknown model "${id}"; the models are silero-v4, silero-v5, silero-v6`);
  const v = m[1] as SileroVersion;
  const [bytes, audio, ref] = await Promise.all([
    fetchBytes(`silero-${v}.onnx`).then((b) => new Uint8Array(b)),
    fetchBytes('speech.f32').then((b) => new Float32Array(b)),
    fetchBytes(`silero-${v}-reference.json`).then((b) => JSON.parse(new TextDecoder().decode(b)) as number[]),
  ]);
  const frames = sileroFrames(v, audio);
  if (ref.length !== frames.length) throw new Error(`the reference has ${ref.length} frames, the audio ${frames.length}`);
  const result: ModelResult = {
    id,
    label: `Silero VAD ${v} (${frames.length} frames of ${SILERO[v].frame} samples, 16 kHz speech)`,
    frames: frames.length,
    warmup: WARMUP,
    results: [],
  };
  for (const engine of MODEL_ENGINES.filter((e) => engines.includes(e))) {
    log(`${id} · ${engine}: building…`);
    let fe: FrameEngine | undefined;
    try {
      if (engine === 'webgpu-rnn') {
        if (!device) throw new Error('no WebGPU device');
        fe = await webgpuRnnFrames(device, v, bytes);
      } else fe = await ortFrames(engine === 'ort-webgpu' ? 'webgpu' : 'wasm', v, bytes);
      for (const x of frames.slice(0, WARMUP)) await fe.step(x);
      fe.reset();
      const times: number[] = [];
      let maxDiff = 0;
      for (let k = 0; k < frames.length; k++) {
        const t0 = performance.now();
        const p = await fe.step(frames[k]);
        times.push(performance.now() - t0);
        maxDiff = Math.max(maxDiff, Math.abs(p - ref[k]));
      }
      times.sort((a, b) => a - b);
      const r: ModelEngineResult = {
        engine,
        status: 'ok',
        frames: frames.length,
        medianMs: quantile(times, 0.5),
        p90Ms: quantile(times, 0.9),
        maxDiff,
        dispatches: fe.dispatches,
      };
      if (!(maxDiff <= MODEL_TOLERANCE))
        Object.assign(r, {
          status: engine === 'webgpu-rnn' ? 'error' : 'wrong',
          reason: `max |Δp| ${maxDiff.toExponential(2)} exceeds ${MODEL_TOLERANCE}`,
        });
      result.results.push(r);
      log(
        `${id} · ${engine}: median ${r.medianMs!.toFixed(3)} ms per frame, p90 ${r.p90Ms!.toFixed(3)}, max |Δp| ${maxDiff.toExponential(2)}`,
      );
    } catch (e) {
      result.results.push({ engine, status: 'error', reason: String((e as Error).message ?? e) });
      log(`${id} · ${engine}: error ${(e as Error).message}`);
    } finally {
      await fe?.dispose();
    }
  }
  return result;
}
