// How a run's timesteps are split so that no sequence length is too long for the device:
// - segments: a unidirectional run whose buffers would exceed the device's limits (or
//   MAX_SEGMENT_STEPS) runs as several runs of at most segmentSteps() steps, one after the other,
//   its state carried on the GPU between them (run/segments.ts records them);
// - chunks: a sequence kernel (main_seq, main_rows, stack_step) runs at most SEQUENCE_CHUNK_STEPS
//   steps per dispatch (step_common.wgsl dispatch_steps).
// Pure: no GPU calls.
import type { DeviceCaps } from '../gpu/adapter.js';
import type { ResolvedSpec } from '../model/types.js';
import { runSizes, UNIFORM_SLOT } from './layout.js';

/**
 * The most steps one dispatch of a sequence kernel runs. A driver watchdog resets a GPU whose one
 * dispatch runs too long (Windows TDR: 2 s by default), and one dispatch cannot be aborted; a chunk
 * of 1024 steps costs a few milliseconds on a GPU (24–71 µs per dispatch of overhead, anchors.md
 * §2.4, next to about 3–10 µs per persistent step) and 6 ms for a GRU 16 on lavapipe, where the
 * extra dispatch (about 33 µs) is 0.5% of it.
 */
export const SEQUENCE_CHUNK_STEPS = 1024;

/**
 * The most steps one segment of a run holds, whatever the device's limits: the workspace (x, the
 * projections, the sequences, one 256-byte uniform slot per step) then stays bounded however long
 * the run is: 16 MiB of step uniforms, 12 MiB of projections for a GRU 16.
 */
export const MAX_SEGMENT_STEPS = 65_536;

/** Dispatches of a sequence kernel over T steps. */
export function sequenceChunks(T: number): number {
  return Math.ceil(T / SEQUENCE_CHUNK_STEPS);
}

/**
 * Whether a run of this model can be split over seqLen: unidirectional models only, since the
 * backward direction of a bidirectional layer starts from the end of the sequence while the
 * forward one starts from its beginning, in the same dispatches.
 */
export function segmentable(s: ResolvedSpec): boolean {
  return s.directions === 1;
}

/** Why a run of (T, B) does not fit one workspace on the device, or undefined when it does. */
export function workspaceOverflow(s: ResolvedSpec, caps: DeviceCaps, T: number, B: number): string | undefined {
  const maxBytes = Math.min(caps.maxStorageBufferBindingSize, caps.maxBufferSize);
  const limit = caps.maxStorageBufferBindingSize <= caps.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  for (const [name, floats] of Object.entries(runSizes(s, T, B))) {
    if (floats * 4 > maxBytes) return `a ${name} buffer of ${floats * 4} bytes, over the device's ${limit} (${maxBytes})`;
  }
  if (T * UNIFORM_SLOT > caps.maxBufferSize)
    return `${T * UNIFORM_SLOT} bytes of step uniforms, over the device's maxBufferSize (${caps.maxBufferSize})`;
  const rows = Math.ceil((T * B) / 64);
  if (rows > caps.maxWorkgroups)
    return `${rows} workgroups of the input projection, over the device's maxComputeWorkgroupsPerDimension (${caps.maxWorkgroups})`;
  return undefined;
}

/**
 * The steps of each segment of a run of (T, B): T where the run fits one workspace and
 * MAX_SEGMENT_STEPS; else, for a unidirectional model, the most steps (up to MAX_SEGMENT_STEPS)
 * whose workspace fits, or 0 when not even one step fits. A bidirectional model is never split
 * (its T is returned; checkRunLimits then names the limit it exceeds).
 */
export function segmentSteps(s: ResolvedSpec, caps: DeviceCaps, T: number, B: number): number {
  if (!segmentable(s)) return T;
  const cap = Math.min(T, MAX_SEGMENT_STEPS);
  if (!workspaceOverflow(s, caps, cap, B)) return cap;
  // The sizes grow with the steps: the largest that fits, by bisection.
  let lo = 0;
  let hi = cap;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (workspaceOverflow(s, caps, mid, B)) hi = mid;
    else lo = mid;
  }
  return lo;
}

/** One segment of a run: `steps` steps from time index t0. */
export interface Segment {
  t0: number;
  steps: number;
}

/**
 * The segments of a run of T steps, `steps` each (the last one shorter), in the order they run:
 * from t = 0 forward; for a 'reverse' model from the end, since its state flows from the last time
 * index to the first (each segment itself runs backwards, as a reverse stream's calls do).
 */
export function planSegments(T: number, steps: number, reverse: boolean): Segment[] {
  const segments: Segment[] = [];
  for (let t0 = 0; t0 < T; t0 += steps) segments.push({ t0, steps: Math.min(steps, T - t0) });
  return reverse ? segments.reverse() : segments;
}
