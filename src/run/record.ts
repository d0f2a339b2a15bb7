// Recording a run into a command encoder: the queue writes of its inputs (x, lengths or mask, dims,
// initial states), the compute passes (every layer's projection and step calls, each with its own
// pipeline and its workspace bind group for (layer, kernel, h parity); or the stack kernel's one
// dispatch), the copies of a stream's state in and out, and the copies of the outputs. No submit
// and no readback: run/model.ts does those (run, stream step) or leaves them to the caller (encode).
import { writeArray } from '../gpu/helpers.js';
import { fillUniform } from '../gpu/reflect.js';
import { kernelInfo } from '../kernels/sources.js';
import { NO_C_SEQUENCE } from '../kernels/constants.js';
import { hasCellState } from '../model/cells.js';
import { finalState, type LayerPlan } from '../plan/layer.js';
import { cLayout, inputStrides, outputStrides, packedStateLayout, UNIFORM_SLOT } from '../plan/layout.js';
import { SEQUENCE_CHUNK_STEPS, sequenceChunks } from '../plan/segments.js';
import type { CompiledCall, CompiledLayer } from './compile.js';
import { initialState, isGpuBuffer, packedState, type RunRequest } from './run-io.js';
import type { ModelBuffers, Workspace, Workspaces } from './workspace.js';

/** Where one layer's [D, B, width] state lies: a buffer and a byte offset. */
export type StateSlice = { buffer: GPUBuffer; offset: number };

/** Where a recorded run leaves each layer's final h and c. */
export interface FinalStates {
  h: (l: number) => StateSlice;
  c: (l: number) => StateSlice;
}

export class Recorder {
  constructor(
    private readonly m: ModelBuffers,
    private readonly workspaces: Workspaces,
  ) {}

  /**
   * Everything of a run but its outputs: the queue writes of its inputs (x unless a GPUBuffer,
   * lengths or mask, dims, initial states unless they come from a stream or GPU buffers), then on
   * `encoder` the copies of GPU-held initial states, the compute pass of every layer and step, and
   * a stream's final state back to it. The final h is left in ws.h[l][final], c in ws.cAll at
   * cLayout's state(l); with the stack kernel both stay in its packed state (finalStates says where).
   *
   * A generator: every `maxDispatches` dispatches it ends the compute pass and yields the encoder
   * so far, for the caller to submit, and continues in the encoder it is given back (the state
   * stays on the GPU between them); it returns the encoder that holds the rest, where the outputs'
   * copies go. With the default (no bound) it never yields: recordAll runs it in one encoder.
   */
  *run(
    encoder: GPUCommandEncoder,
    req: RunRequest,
    layers: CompiledLayer[],
    ws: Workspace,
    stack?: CompiledCall,
    maxDispatches = Number.POSITIVE_INFINITY,
  ): Generator<GPUCommandEncoder, GPUCommandEncoder, GPUCommandEncoder> {
    const s = this.m.spec;
    const { seqLen: T, batch: B } = req;
    const { directions: D, numLayers: L, hiddenSize: H, outputSize: Hout } = s;
    const q = this.m.device.queue;
    // A GPUBuffer x is bound where it is (a bind group of its own); an array is uploaded.
    const externalX = isGpuBuffer(req.x) ? req.x : undefined;
    if (!isGpuBuffer(req.x)) writeArray(q, ws.x, req.x);
    writeArray(q, ws.seqLens, req.mask ?? req.lens);
    const dims = new Uint32Array((L * 2 * UNIFORM_SLOT) / 4);
    const c = cLayout(s, T, B);
    for (let l = 0; l < L; l++) {
      const xs = inputStrides(s, l, T, B);
      const ys = outputStrides(s, l, T, B);
      const plan = layers[l];
      fillUniform(kernelInfo(plan.inputProj.kernel), 'dims', dims, l * 2 * UNIFORM_SLOT, {
        rows: T * B,
        batch: B,
        x_stride_t: xs.t,
        x_stride_b: xs.b,
      });
      const cSeq = (layer: number) => (s.depthGated && layer >= 0 && layer < L - 1 ? c.sequence(layer) : NO_C_SEQUENCE);
      // The step kernels' dims (step_common.wgsl); the stack kernel reads the last layer's.
      const stepKernel = stack?.kernel ?? (plan.sequence ?? plan.step[0]).kernel;
      fillUniform(kernelInfo(stepKernel), 'dims', dims, (l * 2 + 1) * UNIFORM_SLOT, {
        batch: B,
        seq_len: T,
        y_stride_t: ys.t,
        y_stride_b: ys.b,
        y_stride_d: ys.d,
        step0: req.step0 ?? 0,
        c_base: c.state(l),
        c_seq_read: cSeq(l - 1),
        c_seq_write: cSeq(l),
        seq_chunk: SEQUENCE_CHUNK_STEPS,
      });
      // Initial states: a stream's and encode()'s arrive by copies, the stack kernel's in its packed state.
      if (req.resident || req.gpuInitial || stack) continue;
      writeArray(q, ws.h[l][0], initialState(this.m.spec, req, req.initialH, l, Hout));
      if (hasCellState(s)) writeArray(q, ws.cAll!, initialState(this.m.spec, req, req.initialC, l, H), c.state(l) * 4);
    }
    writeArray(q, ws.dims, dims);
    if (stack) {
      // A stream's state is bound where it is; a run's initial state goes to the packed workspace state.
      const state = req.resident?.state ?? ws.stackState!;
      if (!req.resident) writeArray(q, state, packedState(this.m.spec, req, req.initialH, req.initialC));
      this.stack(encoder, req, state, stack, ws);
      return encoder;
    }

    const hFloats = D * B * Hout;
    const cFloats = D * B * H;
    const cState = (l: number): StateSlice => ({ buffer: ws.cAll!, offset: c.state(l) * 4 });
    // A stream's state enters and leaves by GPU copies: nothing uploaded, nothing read back.
    // (A unidirectional model's [D, B, width] layer state is its [B, width] block of the stream's state.)
    const packed = packedStateLayout(s, B);
    for (let l = 0; req.resident && l < L; l++) {
      encoder.copyBufferToBuffer(req.resident.state, packed.h(l) * 4, ws.h[l][0], 0, hFloats * 4);
      if (hasCellState(s)) encoder.copyBufferToBuffer(req.resident.state, packed.c(l) * 4, ws.cAll!, cState(l).offset, cFloats * 4);
    }
    if (req.gpuInitial) {
      const zero = (b: GPUBuffer, offset: number, bytes: number) => encoder.clearBuffer(b, offset, bytes);
      this.copyStates(encoder, B, Hout, req.gpuInitial.h, (l) => ({ buffer: ws.h[l][0], offset: 0 }), 'in', zero);
      if (hasCellState(s)) this.copyStates(encoder, B, H, req.gpuInitial.c, cState, 'in', zero);
      // Rows of length 0 start (and so end) at zero, as on the array path (ORT: Y_h = Y_c = 0 there).
      for (let l = 0; l < L; l++) {
        for (let d = 0; d < D; d++) {
          for (let b = 0; b < B; b++) {
            if (req.lens[b] !== 0) continue;
            encoder.clearBuffer(ws.h[l][0], (d * B + b) * Hout * 4, Hout * 4);
            if (hasCellState(s)) encoder.clearBuffer(ws.cAll!, cState(l).offset + (d * B + b) * H * 4, H * 4);
          }
        }
      }
    }
    let pass = encoder.beginComputePass({ label: 'webgpu-rnn layers' });
    let recorded = 0;
    // Each call carries its pipeline; its bind group is the workspace's for (layer, kernel, h parity).
    const record = (call: CompiledCall, group: GPUBindGroup, offsets?: number[]) => {
      pass.setPipeline(call.pipeline);
      // Without dynamic offsets the argument is left out, not passed as undefined: Chromium 156 then
      // threw "The provided value cannot be converted to a sequence" in timed bench runs.
      if (offsets) pass.setBindGroup(0, group, offsets);
      else pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(call.grid[0], call.grid[1], call.grid[2]);
      recorded++;
    };
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l];
      const group = (call: CompiledCall, parity: number) => this.workspaces.bindGroup(ws, l, parity, call.kernel);
      const x = l === 0 && externalX ? { x: { buffer: externalX, words: T * B * s.inputSize } } : undefined;
      record(layer.inputProj, x ? this.workspaces.makeBindGroup(ws, 0, 0, layer.inputProj.kernel, x) : group(layer.inputProj, 0));
      // A sequence kernel runs in chunks of SEQUENCE_CHUNK_STEPS steps from slot k·chunk: chunk k
      // reads h[k & 1] (h[0], the initial state, first) and writes the other (finalState).
      const chunks = layer.sequence ? sequenceChunks(T) : T;
      for (let k = 0; k < chunks; k++) {
        // A step's dispatches stay in one command buffer; a full one is handed over first.
        if (recorded + (layer.sequence ? 1 : layer.step.length) > maxDispatches) {
          pass.end();
          encoder = yield encoder;
          pass = encoder.beginComputePass({ label: 'webgpu-rnn layers' });
          recorded = 0;
        }
        if (layer.sequence) record(layer.sequence, group(layer.sequence, k & 1), [k * SEQUENCE_CHUNK_STEPS * UNIFORM_SLOT]);
        else for (const call of layer.step) record(call, group(call, k & 1), [k * UNIFORM_SLOT]);
      }
    }
    pass.end();
    for (let l = 0; req.resident && l < L; l++) {
      encoder.copyBufferToBuffer(ws.h[l][finalState(layers[l], T)], 0, req.resident.state, packed.h(l) * 4, hFloats * 4);
      if (hasCellState(s)) encoder.copyBufferToBuffer(ws.cAll!, cState(l).offset, req.resident.state, packed.c(l) * 4, cFloats * 4);
    }
    return encoder;
  }

  /**
   * A run or a stream's step in one dispatch of the stack kernel, which reads and writes the packed
   * `state` in place and writes the last layer's Y into ws.y (the last layer's dims slot holds its
   * strides).
   */
  private stack(encoder: GPUCommandEncoder, req: RunRequest, state: GPUBuffer, call: CompiledCall, ws: Workspace): void {
    const s = this.m.spec;
    const stack = this.m.stack!;
    const bind = (x: GPUBuffer) =>
      this.workspaces.makeBindGroup(ws, s.numLayers - 1, 0, 'stack_step', {
        x: { buffer: x, words: req.seqLen * req.batch * s.inputSize },
        stack_w: { buffer: stack.weights, words: stack.weights.size / 4 },
        stack_aux: { buffer: stack.aux, words: stack.aux.size / 4 },
        state: { buffer: state, words: packedStateLayout(this.m.spec, req.batch).floats },
      });
    let group: GPUBindGroup;
    if (isGpuBuffer(req.x)) {
      group = bind(req.x);
    } else {
      group = ws.stackGroups.get(state) ?? bind(ws.x);
      ws.stackGroups.set(state, group);
    }
    // In chunks of SEQUENCE_CHUNK_STEPS steps, each continuing from the state in place.
    const pass = encoder.beginComputePass({ label: 'webgpu-rnn stack' });
    pass.setPipeline(call.pipeline);
    for (let k = 0; k < sequenceChunks(req.seqLen); k++) {
      pass.setBindGroup(0, group, [k * SEQUENCE_CHUNK_STEPS * UNIFORM_SLOT]);
      pass.dispatchWorkgroups(call.grid[0], call.grid[1], call.grid[2]);
    }
    pass.end();
  }

  /**
   * Copies states between a buffer in run()'s layout ([L·D, B, width], or [B, L·D, width]
   * batch-major) and each layer's [D, B, width] state (`layer(l)`, in the workspace): 'out' into
   * `outer`, 'in' from it (or, when `outer` is absent, clears the layer states with `zero`).
   */
  copyStates(
    encoder: GPUCommandEncoder,
    B: number,
    width: number,
    outer: GPUBuffer | undefined,
    layer: (l: number) => StateSlice,
    direction: 'in' | 'out',
    zero?: (b: GPUBuffer, offset: number, bytes: number) => void,
  ): void {
    const { numLayers: L, directions: D, batchMajor } = this.m.spec;
    const block = D * B * width * 4;
    for (let l = 0; l < L; l++) {
      const at = layer(l);
      if (!outer) {
        zero?.(at.buffer, at.offset, block);
        continue;
      }
      const copy = (outerOffset: number, layerOffset: number, bytes: number) =>
        direction === 'out'
          ? encoder.copyBufferToBuffer(at.buffer, at.offset + layerOffset, outer, outerOffset, bytes)
          : encoder.copyBufferToBuffer(outer, outerOffset, at.buffer, at.offset + layerOffset, bytes);
      if (!batchMajor) {
        copy(l * block, 0, block);
        continue;
      }
      for (let d = 0; d < D; d++) {
        for (let b = 0; b < B; b++) copy((b * L * D + l * D + d) * width * 4, (d * B + b) * width * 4, width * 4);
      }
    }
  }

  /** Copies a recorded run's Y (and the final states, where targets are given) into `targets`. */
  outputs(
    encoder: GPUCommandEncoder,
    ws: Workspace,
    final: FinalStates,
    req: RunRequest,
    targets: { Y: GPUBuffer; Y_h?: GPUBuffer; Y_c?: GPUBuffer },
  ): void {
    const s = this.m.spec;
    const { seqLen: T, batch: B } = req;
    encoder.copyBufferToBuffer(ws.y, 0, targets.Y, 0, T * s.directions * B * s.outputSize * 4);
    if (targets.Y_h) this.copyStates(encoder, B, s.outputSize, targets.Y_h, final.h, 'out');
    if (targets.Y_c) this.copyStates(encoder, B, s.hiddenSize, targets.Y_c, final.c, 'out');
  }

  /**
   * Where a run recorded with these layers leaves each layer's final state (h in one of
   * its ping-pong buffers, c in ws.c), or with `layers` undefined, the stack kernel (its packed
   * state buffer, h [L, B, Hout] then c [L, B, H]).
   */
  finalStates(ws: Workspace, layers: LayerPlan[] | undefined, T: number, B: number): FinalStates {
    if (!layers) {
      const buffer = ws.stackState!;
      const packed = packedStateLayout(this.m.spec, B);
      return { h: (l) => ({ buffer, offset: packed.h(l) * 4 }), c: (l) => ({ buffer, offset: packed.c(l) * 4 }) };
    }
    return {
      h: (l) => ({ buffer: ws.h[l][finalState(layers[l], T)], offset: 0 }),
      c: (l) => ({ buffer: ws.cAll!, offset: cLayout(this.m.spec, T, B).state(l) * 4 }),
    };
  }
}

/** Runs a recording that was given no dispatch bound (it never yields) and returns its encoder. */
export function recordAll(recording: Generator<GPUCommandEncoder, GPUCommandEncoder, GPUCommandEncoder>): GPUCommandEncoder {
  const r = recording.next();
  if (!r.done) throw new Error('internal: an unbounded recording yielded an encoder');
  return r.value;
}
