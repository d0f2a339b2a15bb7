// session.scan: a whole sequence of calls of a stateful model (every frame of a recording through
// Silero VAD) with the semantics of the ONNX Scan operator: inputs with a leading frame axis are cut
// into frames, the carried outputs feed the next frame's inputs, the other outputs are stacked.
// Two paths, one submit and one readback per chunk of frames either way; scanPlan says which:
//  - the batched split (split.ts), where the state passes only between recurrent nodes (Silero):
//    one program over a chunk of frames (2048 by default, fewer where its buffers would pass
//    128 MiB) runs every other op once for all of them, with the frames as the model's batch, and
//    the recurrent nodes over the chunk as one sequence;
//  - the loop otherwise: the frames of a chunk recorded one after another into one command buffer,
//    their inputs copied on the GPU from one upload, the state never leaving the GPU.
import { AbortError, InputError } from '../core/errors.js';
import { Usage } from '../gpu/helpers.js';
import { SplitRefused, SplitTooLarge, type SplitCarry, type SplitSetup } from './split.js';
import type { FeedTensor, Tensor } from './tensor.js';

export interface ScanOptions {
  /** Output name -> input name, as for stream(): Silero v5 `{ stateN: 'state' }`. */
  carry: Record<string, string>;
  /** Called after each chunk with the frames done so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Cancels between chunks with an AbortError. */
  signal?: AbortSignal;
  /** Frames per submit (default: 2048 on the split path, 256 on the loop; fewer where memory asks). */
  chunkFrames?: number;
  /** 'loop' runs the loop path even where the split applies (to compare the two); default 'auto'. */
  path?: 'auto' | 'loop';
}

export interface ScanPlan {
  /**
   * 'split': the ops outside the recurrent nodes batched over a chunk of frames, the recurrence as
   * one sequence (split.ts); 'loop': frame after frame on the GPU, the state kept there.
   */
  path: 'split' | 'loop';
  /** Frames per submit. */
  chunkFrames: number;
  /** Why the model takes this path. */
  reason: string;
}

/** What scan needs of a stream (session.ts's Stream): steps and batches in one submit, and the state. */
export interface FrameStream {
  steps(feeds: Record<string, FeedTensor>, frames: { count: number; inputs: Map<string, GPUBuffer> }): Promise<Record<string, Tensor>[]>;
  batch(feeds: Record<string, FeedTensor>, split: SplitSetup): Promise<Record<string, Tensor>>;
  /** Builds (and caches) the batched program without running it. */
  prepareBatch(feeds: Record<string, FeedTensor>, split: SplitSetup): Promise<void>;
  splitCarry(frameFeeds: Record<string, FeedTensor>, scanned: string[]): SplitCarry[] | string;
  state(): Promise<Record<string, Tensor>>;
  destroy(): void;
}

const DEFAULT_CHUNK = 256;
const SPLIT_CHUNK = 2048;
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

/** Frames at..at+n of the scanned inputs, batched for the split ([n, ...] for frames of [1, ...]) or as one frame. */
function framesOf(s: Scanned[], fixed: Record<string, FeedTensor>, at: number, n: number, batched: boolean): Record<string, FeedTensor> {
  const feeds: Record<string, FeedTensor> = { ...fixed };
  for (const x of s)
    feeds[x.name] = {
      data: x.data.subarray(at * x.frameElements, (at + n) * x.frameElements),
      dims: batched ? [n, ...x.frameDims.slice(1)] : x.frameDims,
    };
  return feeds;
}

/**
 * The path for these inputs: the split where the scanned frames have a batch axis of 1 first, the
 * carried inputs one that the model declares symbolic, and the batched program's walk (split.ts)
 * proves that the state only passes from recurrent node to recurrent node; else the loop.
 */
async function choosePath(
  stream: FrameStream,
  s: Scanned[],
  fixed: Record<string, FeedTensor>,
  frames: number,
  wanted: number | undefined,
  path: ScanOptions['path'],
): Promise<{ plan: ScanPlan; carried?: SplitCarry[] }> {
  const loop = (why: string) => ({
    plan: {
      path: 'loop' as const,
      chunkFrames: chunkFor(s, wanted),
      reason: `${why}, so the frames run as a GPU loop with the state kept on the GPU`,
    },
  });
  if (path !== undefined && path !== 'auto' && path !== 'loop')
    throw new InputError(`scan: options.path must be 'auto' or 'loop', got ${JSON.stringify(path)}`);
  if (path === 'loop') return loop("options.path is 'loop'");
  const flat = s.find((x) => x.frameDims[0] !== 1);
  if (flat)
    return loop(`the frames of '${flat.name}' are [${flat.frameDims.join(', ')}], without a leading batch axis of 1 to batch them on`);
  const carried = stream.splitCarry(
    framesOf(s, fixed, 0, 1, false),
    s.map((x) => x.name),
  );
  if (typeof carried === 'string') return loop(carried);
  let n = Math.min(frames, wanted ?? SPLIT_CHUNK);
  for (;;) {
    try {
      await stream.prepareBatch(framesOf(s, fixed, 0, n, true), { frames: n, carried });
      break;
    } catch (e) {
      if (e instanceof SplitRefused) return loop(`the batched split does not apply: ${e.message}`);
      if (!(e instanceof SplitTooLarge) || e.frames >= n) throw e;
      n = e.frames;
    }
  }
  return {
    plan: {
      path: 'split',
      chunkFrames: n,
      reason:
        'the carried state passes only between recurrent nodes, so the other ops run over a chunk of frames at once and the recurrence runs the chunk as one sequence',
    },
    carried,
  };
}

export async function planScan(
  stream: FrameStream,
  scanned: Record<string, FeedTensor>,
  fixed: Record<string, FeedTensor>,
  carriedInputs: Set<string>,
  options: ScanOptions,
): Promise<ScanPlan> {
  const { inputs, frames } = checkScanned(scanned, carriedInputs, fixed);
  return (await choosePath(stream, inputs, fixed, Math.max(1, frames), options.chunkFrames, options.path)).plan;
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
  const buffers = new Map<string, GPUBuffer>();
  try {
    const { inputs: s, frames: F } = checkScanned(scanned, carriedInputs, fixed);
    if (F === 0) throw new InputError('scan: the scanned inputs have no frames');
    const { plan, carried } = await choosePath(stream, s, fixed, F, options.chunkFrames, options.path);
    const chunk = plan.chunkFrames;
    // Per output: its per-frame dims and the chunks' data, frame-major.
    const stacked = new Map<string, { dims: number[]; parts: (Float32Array | Int32Array)[] }>();
    const keep = (name: string, frameDims: number[], data: Float32Array | Int32Array) => {
      const e = stacked.get(name) ?? { dims: frameDims, parts: [] };
      e.parts.push(data);
      stacked.set(name, e);
    };
    /** Frames at..at+n one after another in one submit, each frame's inputs copied on the GPU from one upload. */
    const loopChunk = async (at: number, n: number) => {
      for (const x of s) {
        let b = buffers.get(x.name);
        if (!b || b.size < n * x.frameElements * 4) {
          b?.destroy();
          b = device.createBuffer({
            label: `onnx scan '${x.name}'`,
            size: Math.max(16, Math.ceil((n * x.frameElements * 4) / 16) * 16),
            usage: Usage.COPY_SRC | Usage.COPY_DST,
          });
          buffers.set(x.name, b);
        }
        const part = x.data.subarray(at * x.frameElements, (at + n) * x.frameElements);
        device.queue.writeBuffer(b, 0, part.buffer, part.byteOffset, part.byteLength);
      }
      const outs = await stream.steps(framesOf(s, fixed, 0, 1, false), { count: n, inputs: buffers });
      for (const out of outs) for (const [name, t] of Object.entries(out)) keep(name, t.dims, t.data as Float32Array | Int32Array);
    };
    for (let at = 0; at < F; at += chunk) {
      abortIfAsked(options.signal, at, F);
      const n = Math.min(chunk, F - at);
      let out: Record<string, Tensor> | undefined;
      if (carried) {
        try {
          out = await stream.batch(framesOf(s, fixed, at, n, true), { frames: n, carried });
        } catch (e) {
          // A shorter last chunk is a program of its own; should its walk refuse, that chunk loops.
          if (!(e instanceof SplitRefused || e instanceof SplitTooLarge)) throw e;
        }
      }
      if (out) for (const [name, t] of Object.entries(out)) keep(name, [1, ...t.dims.slice(1)], t.data as Float32Array | Int32Array);
      else await loopChunk(at, n);
      options.onProgress?.(at + n, F);
    }
    const result: Record<string, Tensor> = {};
    for (const [name, { dims, parts }] of stacked) {
      const total = parts.reduce((k, p) => k + p.length, 0);
      const data = parts[0] instanceof Int32Array ? new Int32Array(total) : new Float32Array(total);
      let at = 0;
      for (const p of parts) {
        data.set(p, at);
        at += p.length;
      }
      result[name] = { dims: [F, ...dims], data };
    }
    return { ...result, ...(await stream.state()) };
  } finally {
    for (const b of buffers.values()) b.destroy();
    stream.destroy();
  }
}
