// A run's outputs: copied into the workspace's staging buffer and read back with one mapAsync
// (run(), a stream's step), or copied into new buffers the caller owns (output 'gpu'); and a
// stream's packed state read back (state()). Every layout comes from plan/layout.ts.
import { MAP_MODE_READ, paddedSize, Usage } from '../gpu/helpers.js';
import { hasCellState } from '../model/cells.js';
import type { ResolvedSpec } from '../model/types.js';
import { packedStateLayout } from '../plan/layout.js';
import type { GpuRunResult, RunResult } from './api.js';
import type { FinalStates, Recorder } from './record.js';
import { stateOut, type RunRequest } from './run-io.js';
import type { Workspace } from './workspace.js';

/** What a run resolves to inside the model: a stream's step reads back (or hands over) Y alone. */
export type Outputs = RunResult | GpuRunResult | { Y: Float32Array | GPUBuffer; Y_h?: undefined; Y_c?: undefined };

/** Float counts of a run's outputs: Y, and (unless a stream's step) every layer's final h and c. */
function outputFloats(s: ResolvedSpec, req: RunRequest) {
  const { seqLen: T, batch: B } = req;
  const { directions: D, numLayers: L } = s;
  const y = T * D * B * s.outputSize;
  const h = D * B * s.outputSize;
  const c = D * B * s.hiddenSize;
  const total = req.resident ? y : y + L * h + (hasCellState(s) ? L * c : 0);
  return { y, h, c, total };
}

/**
 * Records the copies of Y and the final states into ws.staging (Y, then h [L·D, B, Hout], then
 * c [L·D, B, H]); after the submit, readStaged reads them.
 */
export function stageOutputs(encoder: GPUCommandEncoder, s: ResolvedSpec, ws: Workspace, final: FinalStates, req: RunRequest): void {
  const f = outputFloats(s, req);
  const L = s.numLayers;
  encoder.copyBufferToBuffer(ws.y, 0, ws.staging, 0, f.y * 4);
  for (let l = 0; !req.resident && l < L; l++) {
    const h = final.h(l);
    encoder.copyBufferToBuffer(h.buffer, h.offset, ws.staging, (f.y + l * f.h) * 4, f.h * 4);
    if (!hasCellState(s)) continue;
    const c = final.c(l);
    encoder.copyBufferToBuffer(c.buffer, c.offset, ws.staging, (f.y + L * f.h + l * f.c) * 4, f.c * 4);
  }
}

/** Maps ws.staging once and unpacks what stageOutputs copied there, in run()'s layouts. */
export async function readStaged(s: ResolvedSpec, ws: Workspace, req: RunRequest): Promise<Outputs> {
  const f = outputFloats(s, req);
  const L = s.numLayers;
  await ws.staging.mapAsync(MAP_MODE_READ, 0, paddedSize(f.total * 4));
  const out = new Float32Array(ws.staging.getMappedRange(0, paddedSize(f.total * 4)).slice(0, f.total * 4));
  ws.staging.unmap();
  const Y = out.slice(0, f.y);
  if (req.resident) return { Y };
  const Y_h = stateOut(s, out.subarray(f.y, f.y + L * f.h), req.batch, s.outputSize);
  const Y_c = hasCellState(s) ? stateOut(s, out.subarray(f.y + L * f.h, f.total), req.batch, s.hiddenSize) : undefined;
  return Y_c ? { Y, Y_h, Y_c } : { Y, Y_h };
}

/**
 * options.output 'gpu': new caller-owned buffers holding Y, and (unless the run is a stream's step)
 * Y_h and Y_c in run()'s layouts, filled by copies recorded on `encoder`.
 */
export function gpuOutputs(
  device: GPUDevice,
  recorder: Recorder,
  encoder: GPUCommandEncoder,
  s: ResolvedSpec,
  ws: Workspace,
  final: FinalStates,
  req: RunRequest,
): Outputs {
  const f = outputFloats(s, req);
  const LD = s.numLayers * s.directions;
  const make = (label: string, floats: number) =>
    device.createBuffer({
      label: `${s.cell}|${label}`,
      size: paddedSize(floats * 4),
      usage: Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST,
    });
  const Y = make('Y', f.y);
  if (req.resident) {
    recorder.outputs(encoder, ws, final, req, { Y });
    return { Y };
  }
  const Y_h = make('Y_h', LD * req.batch * s.outputSize);
  const Y_c = hasCellState(s) ? make('Y_c', LD * req.batch * s.hiddenSize) : undefined;
  recorder.outputs(encoder, ws, final, req, { Y, Y_h, Y_c });
  return Y_c ? { Y, Y_h, Y_c } : { Y, Y_h };
}

/** Reads a stream's packed state back (one copy, one mapAsync) as Y_h (and Y_c) in run()'s layouts. */
export async function readPackedState(
  device: GPUDevice,
  s: ResolvedSpec,
  state: GPUBuffer,
  batch: number,
): Promise<{ Y_h: Float32Array; Y_c?: Float32Array }> {
  const layout = packedStateLayout(s, batch);
  const bytes = layout.floats * 4;
  const staging = device.createBuffer({ label: `${s.cell}|stream state`, size: paddedSize(bytes), usage: Usage.MAP_READ | Usage.COPY_DST });
  try {
    const encoder = device.createCommandEncoder({ label: 'webgpu-rnn stream state' });
    encoder.copyBufferToBuffer(state, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(MAP_MODE_READ);
    const out = new Float32Array(staging.getMappedRange().slice(0, bytes));
    const Y_h = stateOut(s, out.subarray(0, layout.c(0)), batch, s.outputSize);
    return hasCellState(s) ? { Y_h, Y_c: stateOut(s, out.subarray(layout.c(0)), batch, s.hiddenSize) } : { Y_h };
  } finally {
    staging.destroy();
  }
}
