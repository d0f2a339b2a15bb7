// session.scan: a whole sequence of calls of a stateful model (every frame of a recording through
// Silero VAD) with the semantics of the ONNX Scan operator: inputs with a leading frame axis are cut
// into frames, the carried outputs feed the next frame's inputs, the other outputs are stacked.
// Today every model takes the loop path: the frames of a chunk are recorded one after another into
// one command buffer (their inputs copied on the GPU from one upload, the state never leaving the
// GPU), one submit and one readback per chunk. The batched split (the stateless ops over all frames
// at once, the recurrence as one sequence) is not built yet; scanPlan says which path a model takes.
import { AbortError, InputError } from '../core/errors.js';
import { Usage } from '../gpu/helpers.js';
import type { FeedTensor, Tensor } from './tensor.js';

export interface ScanOptions {
  /** Output name -> input name, as for stream(): Silero v5 `{ stateN: 'state' }`. */
  carry: Record<string, string>;
  /** Called after each chunk with the frames done so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Cancels between chunks with an AbortError. */
  signal?: AbortSignal;
  /** Frames per submit (default 256, fewer where the inputs of a chunk would pass 64 MiB). */
  chunkFrames?: number;
}

export interface ScanPlan {
  /** 'loop': frame after frame on the GPU, chunkFrames per submit. */
  path: 'loop';
  chunkFrames: number;
  /** Why the model takes this path. */
  reason: string;
}

/** What scan needs of a stream (session.ts's Stream): several steps in one submit, and the state. */
export interface FrameStream {
  steps(feeds: Record<string, FeedTensor>, frames: { count: number; inputs: Map<string, GPUBuffer> }): Promise<Record<string, Tensor>[]>;
  state(): Promise<Record<string, Tensor>>;
  destroy(): void;
}

const DEFAULT_CHUNK = 256;
const CHUNK_BYTES = 64 * 1024 * 1024;

interface Scanned {
  name: string;
  data: Float32Array;
  frames: number;
  frameDims: number[];
  frameElements: number;
}

/** The scanned inputs checked (float, one leading frame axis of the same length for all) and that length. */
function checkScanned(
  scanned: Record<string, FeedTensor>,
  carriedInputs: Set<string>,
  fixed: Record<string, FeedTensor>,
): { inputs: Scanned[]; frames: number } {
  if (typeof scanned !== 'object' || scanned === null || Object.keys(scanned).length === 0)
    throw new InputError(
      'scan(scanned, fixed, options): scanned must map at least one input to a tensor [frames, ...], e.g. { input: { data, dims: [F, 1, 576] } }',
    );
  const out: Scanned[] = [];
  for (const [name, t] of Object.entries(scanned)) {
    if (carriedInputs.has(name)) throw new InputError(`scan: input '${name}' is carried; give its first value in fixed, not in scanned`);
    if (name in fixed) throw new InputError(`scan: input '${name}' is both scanned and fixed`);
    if (typeof t !== 'object' || t === null || !(t.data instanceof Float32Array) || !Array.isArray(t.dims) || t.dims.length < 1)
      throw new InputError(
        `scan: scanned input '${name}' must be float32 { data: Float32Array, dims: [frames, ...] } (integer inputs choose the program, so they go in fixed)`,
      );
    const dims = t.dims.map(Number);
    const frameDims = dims.slice(1);
    const frameElements = frameDims.reduce((a, b) => a * b, 1);
    if (!dims.every((d) => Number.isInteger(d) && d >= 0) || t.data.length !== dims[0] * frameElements)
      throw new InputError(`scan: scanned input '${name}' has ${t.data.length} elements but dims [${dims.join(', ')}]`);
    out.push({ name, data: t.data, frames: dims[0], frameDims, frameElements });
  }
  const F = out[0].frames;
  for (const s of out)
    if (s.frames !== F)
      throw new InputError(`scan: scanned inputs disagree on the number of frames ('${out[0].name}' ${F}, '${s.name}' ${s.frames})`);
  return { inputs: out, frames: F };
}

/** Frames per submit for these inputs. */
function chunkFor(scanned: Scanned[], wanted: number | undefined): number {
  if (wanted !== undefined && (!Number.isInteger(wanted) || wanted < 1))
    throw new InputError(`scan: chunkFrames must be a positive integer, got ${wanted}`);
  const perFrame = scanned.reduce((n, s) => n + s.frameElements * 4, 0);
  return Math.max(1, Math.min(wanted ?? DEFAULT_CHUNK, Math.floor(CHUNK_BYTES / Math.max(1, perFrame))));
}

export function planScan(scanned: Record<string, FeedTensor>, chunkFrames?: number): ScanPlan {
  const s = checkScanned(scanned, new Set(), {}).inputs;
  return {
    path: 'loop',
    chunkFrames: chunkFor(s, chunkFrames),
    reason:
      'the batched split (the ops before and after the recurrent nodes over all frames at once, the recurrence as one sequence) is not implemented yet, so every model runs its frames as a GPU loop with the state kept on the GPU',
  };
}

function abortIfAsked(signal: AbortSignal | undefined, done: number, total: number): void {
  if (!signal?.aborted) return;
  const why = signal.reason === undefined ? '' : `: ${signal.reason instanceof Error ? signal.reason.message : String(signal.reason)}`;
  throw new AbortError(`scan() was aborted through options.signal after ${done} of ${total} frames${why}`);
}

/**
 * Runs the scan over `stream` (made by the session with `fixed`'s carried values as its initial
 * state) and destroys it. The result: every non-carried output stacked [F, ...], every carried
 * output after the last frame.
 */
export async function runScan(
  device: GPUDevice,
  stream: FrameStream,
  scanned: Record<string, FeedTensor>,
  fixed: Record<string, FeedTensor>,
  carriedInputs: Set<string>,
  options: ScanOptions,
): Promise<Record<string, Tensor>> {
  const buffers: GPUBuffer[] = [];
  try {
    const { inputs: s, frames: F } = checkScanned(scanned, carriedInputs, fixed);
    if (F === 0) throw new InputError('scan: the scanned inputs have no frames');
    const chunk = chunkFor(s, options.chunkFrames);
    const feeds: Record<string, FeedTensor> = { ...fixed };
    for (const x of s) feeds[x.name] = { data: x.data.subarray(0, x.frameElements), dims: x.frameDims };
    const inputs = new Map<string, GPUBuffer>();
    for (const x of s) {
      const b = device.createBuffer({
        label: `onnx scan '${x.name}'`,
        size: Math.max(16, Math.ceil((Math.min(chunk, F) * x.frameElements * 4) / 16) * 16),
        usage: Usage.COPY_SRC | Usage.COPY_DST,
      });
      buffers.push(b);
      inputs.set(x.name, b);
    }
    const stacked = new Map<string, { dims: number[]; parts: (Float32Array | Int32Array)[] }>();
    for (let at = 0; at < F; at += chunk) {
      abortIfAsked(options.signal, at, F);
      const n = Math.min(chunk, F - at);
      for (const x of s) {
        const part = x.data.subarray(at * x.frameElements, (at + n) * x.frameElements);
        device.queue.writeBuffer(inputs.get(x.name)!, 0, part.buffer, part.byteOffset, part.byteLength);
      }
      const outs = await stream.steps(feeds, { count: n, inputs });
      for (const out of outs)
        for (const [name, t] of Object.entries(out)) {
          const e = stacked.get(name) ?? { dims: t.dims, parts: [] };
          e.parts.push(t.data as Float32Array | Int32Array);
          stacked.set(name, e);
        }
      options.onProgress?.(at + n, F);
    }
    const result: Record<string, Tensor> = {};
    for (const [name, { dims, parts }] of stacked) {
      const per = parts[0].length;
      const data = parts[0] instanceof Int32Array ? new Int32Array(per * F) : new Float32Array(per * F);
      parts.forEach((p, f) => data.set(p, f * per));
      result[name] = { dims: [F, ...dims], data };
    }
    return { ...result, ...(await stream.state()) };
  } finally {
    for (const b of buffers) b.destroy();
    stream.destroy();
  }
}
