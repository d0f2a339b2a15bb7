// A run too long for one workspace on its device (plan/segments.ts segmentSteps): its segments run
// one after the other, each a run of its own from a state kept on the GPU (the stream's, or one
// made for this run, initialised from run()'s initial states), each copying its Y into the run's
// output buffer. The model's calls queue (they share the workspace), so the segments reuse one
// workspace of a segment's size; the run still ends in one readback (or the caller's buffers).
import { MAP_MODE_READ, paddedSize, storageBuffer, Usage, writeArray } from '../gpu/helpers.js';
import { hasCellState } from '../model/cells.js';
import type { ResolvedSpec } from '../model/types.js';
import { packedStateLayout } from '../plan/layout.js';
import { planSegments, type Segment } from '../plan/segments.js';
import type { CompiledCall, CompiledLayer } from './compile.js';
import type { Outputs } from './outputs.js';
import type { Recorder } from './record.js';
import { isGpuBuffer, packedState, stateOut, throwIfAborted, type RunRequest } from './run-io.js';
import type { ResidentState } from './stream.js';
import type { Workspace } from './workspace.js';

/** What a segmented run needs of its model (run/model.ts). */
export interface SegmentHost {
  device: GPUDevice;
  spec: ResolvedSpec;
  recorder: Recorder;
  /** The compiled kernels of a run of (batch, masked, seqLen). */
  compile(batch: number, masked: boolean, seqLen: number): Promise<{ layers: CompiledLayer[]; stack?: CompiledCall }>;
  workspace(seqLen: number, batch: number): Workspace;
  /** Records a run, submitting its full command buffers as it goes; resolves to the encoder of the rest. */
  record(req: RunRequest, layers: CompiledLayer[], ws: Workspace, stack?: CompiledCall): Promise<GPUCommandEncoder>;
  /** Throws DestroyedError once the model is destroyed. */
  checkAlive(): void;
}

/**
 * Segment `seg` of `req` as a run of its own from the state in `resident`: its slice of x (a copy
 * only for batch-major arrays; a GPUBuffer x is copied on the GPU by runSegments), its lengths
 * clipped to the segment (a row whose length ends before it only pads: y = 0, state kept), its
 * rows of the mask, and `step0` the steps processed before it (the Clockwork cell's clocks).
 */
export function segmentRequest(s: ResolvedSpec, req: RunRequest, seg: Segment, resident: ResidentState, step0: number): RunRequest {
  const { batch: B, seqLen: T } = req;
  const I = s.inputSize;
  let x = req.x;
  if (!isGpuBuffer(x)) {
    if (!s.batchMajor) {
      x = x.subarray(seg.t0 * B * I, (seg.t0 + seg.steps) * B * I);
    } else {
      const rows = new Float32Array(B * seg.steps * I);
      for (let b = 0; b < B; b++) rows.set(x.subarray((b * T + seg.t0) * I, (b * T + seg.t0 + seg.steps) * I), b * seg.steps * I);
      x = rows;
    }
  }
  return {
    x,
    output: 'cpu',
    resident,
    step0,
    seqLen: seg.steps,
    batch: B,
    lens: req.lens.map((len) => Math.min(Math.max(len - seg.t0, 0), seg.steps)),
    mask: req.mask?.subarray(seg.t0 * B, (seg.t0 + seg.steps) * B),
    signal: req.signal,
  };
}

/**
 * Where a segment's rows of Y go in the run's Y ([T, B, Hout], or [B, T, Hout] batch-major; one
 * direction): byte ranges [from, to, bytes] from the workspace's y to the run's Y.
 */
export function segmentYCopies(s: ResolvedSpec, T: number, B: number, seg: Segment): [number, number, number][] {
  const row = s.outputSize * 4;
  if (!s.batchMajor) return [[0, seg.t0 * B * row, seg.steps * B * row]];
  return Array.from({ length: B }, (_, b) => [b * seg.steps * row, (b * T + seg.t0) * row, seg.steps * row]);
}

/** Runs `req` in segments of `steps` steps (plan/segments.ts) and resolves to its outputs, as one run would. */
export async function runSegments(h: SegmentHost, req: RunRequest, steps: number, closeScopes: () => void): Promise<Outputs> {
  const { device, spec: s } = h;
  const q = device.queue;
  const { seqLen: T, batch: B } = req;
  const layout = packedStateLayout(s, B);
  const yFloats = T * B * s.outputSize;
  const gpu = req.output === 'gpu';
  // A stream's state is used in place; a run's starts from its initial states (rows of length 0 at zero).
  const own = req.resident ? undefined : storageBuffer(device, `${s.cell}|segments|state`, layout.floats);
  if (own) writeArray(q, own, packedState(s, req, req.initialH, req.initialC));
  const resident: ResidentState = req.resident ?? { state: own!, steps: 0 };
  // Y (then the packed final state, for run()'s readback) gathered segment by segment.
  const stagedFloats = yFloats + (req.resident ? 0 : layout.floats);
  const target = device.createBuffer({
    label: `${s.cell}|segments|${gpu ? 'Y' : 'staging'}`,
    size: paddedSize((gpu ? yFloats : stagedFloats) * 4),
    usage: gpu ? Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST : Usage.MAP_READ | Usage.COPY_DST,
  });
  const created: GPUBuffer[] = [target];
  let handedOver = false;
  try {
    const segments = planSegments(T, steps, s.direction === 'reverse');
    let processed = 0;
    let previous: Promise<undefined> | undefined;
    let encoder: GPUCommandEncoder | undefined;
    for (const seg of segments) {
      if (encoder) {
        q.submit([encoder.finish()]);
        // At most two segments ahead of the GPU, so that an abort takes effect soon.
        const submitted = q.onSubmittedWorkDone().catch(() => undefined);
        if (previous) await previous;
        previous = submitted;
      }
      throwIfAborted(req.signal);
      const sub = segmentRequest(s, req, seg, resident, (req.step0 ?? 0) + processed);
      processed += seg.steps;
      const { layers, stack } = await h.compile(B, req.mask !== undefined, seg.steps);
      h.checkAlive();
      const ws = h.workspace(seg.steps, B);
      if (isGpuBuffer(req.x)) {
        // The segment's slice of the caller's x, into the workspace's x (validateRun asked for COPY_SRC).
        const copy = device.createCommandEncoder({ label: 'webgpu-rnn segment x' });
        const rowBytes = s.inputSize * 4;
        for (const [from, to, bytes] of segmentXCopies(s, T, B, seg, rowBytes)) copy.copyBufferToBuffer(req.x, from, ws.x, to, bytes);
        q.submit([copy.finish()]);
        sub.x = ws.x;
      }
      encoder = await h.record(sub, layers, ws, stack);
      for (const [from, to, bytes] of segmentYCopies(s, T, B, seg)) encoder.copyBufferToBuffer(ws.y, from, target, to, bytes);
    }
    const last = encoder!;
    if (gpu) {
      const outputs: Outputs = { Y: target };
      if (!req.resident) {
        const make = (label: string, floats: number) => {
          const b = device.createBuffer({ label: `${s.cell}|${label}`, size: paddedSize(floats * 4), usage: target.usage });
          created.push(b);
          return b;
        };
        const Y_h = make('Y_h', s.numLayers * B * s.outputSize);
        h.recorder.copyStates(last, B, s.outputSize, Y_h, (l) => ({ buffer: resident.state, offset: layout.h(l) * 4 }), 'out');
        Object.assign(outputs, { Y_h });
        if (hasCellState(s)) {
          const Y_c = make('Y_c', s.numLayers * B * s.hiddenSize);
          h.recorder.copyStates(last, B, s.hiddenSize, Y_c, (l) => ({ buffer: resident.state, offset: layout.c(l) * 4 }), 'out');
          Object.assign(outputs, { Y_c });
        }
      }
      q.submit([last.finish()]);
      closeScopes();
      handedOver = true;
      return outputs;
    }
    if (!req.resident) last.copyBufferToBuffer(resident.state, 0, target, yFloats * 4, layout.floats * 4);
    q.submit([last.finish()]);
    closeScopes();
    await target.mapAsync(MAP_MODE_READ, 0, paddedSize(stagedFloats * 4));
    const out = new Float32Array(target.getMappedRange(0, paddedSize(stagedFloats * 4)).slice(0, stagedFloats * 4));
    target.unmap();
    const Y = out.slice(0, yFloats);
    if (req.resident) return { Y };
    const packed = out.subarray(yFloats);
    const Y_h = stateOut(s, packed.subarray(0, layout.c(0)), B, s.outputSize);
    return hasCellState(s) ? { Y, Y_h, Y_c: stateOut(s, packed.subarray(layout.c(0)), B, s.hiddenSize) } : { Y, Y_h };
  } finally {
    own?.destroy();
    if (!handedOver) for (const b of created) b.destroy();
  }
}

/** Byte ranges [from, to, bytes] of a segment's rows of x ([T, B, I] or [B, T, I]) into the workspace's x. */
function segmentXCopies(s: ResolvedSpec, T: number, B: number, seg: Segment, rowBytes: number): [number, number, number][] {
  if (!s.batchMajor) return [[seg.t0 * B * rowBytes, 0, seg.steps * B * rowBytes]];
  return Array.from({ length: B }, (_, b) => [(b * T + seg.t0) * rowBytes, b * seg.steps * rowBytes, seg.steps * rowBytes]);
}
