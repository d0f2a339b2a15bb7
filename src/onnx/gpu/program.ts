// A specialised ONNX graph on the GPU: what graph.ts makes of a model for one combination of feed
// shapes and integer feed values. Every float tensor is a slot (one GPUBuffer) or a view into one
// (an element offset: Reshape, Squeeze, Gather of one row alias their input); the steps are graph
// kernel dispatches (shaders/kernels/graph_*.wgsl, parameters written once), buffer copies, and
// recurrent layers recorded by the engine's Rnn.encode. run() is one command buffer, one submit and
// one readback of the outputs.
import { DeviceLimitError, InputError } from '../../core/errors.js';
import { MAP_MODE_READ, Usage, withErrorScopes } from '../../gpu/helpers.js';
import { numel } from '../tensor.js';
import { bindGroupLayout, pipeline } from '../../kernels/pipelines.js';
import { kernelInfo, type GraphKernelName } from '../../kernels/sources.js';
import type { Constants } from '../../model/types.js';
import type { Rnn } from '../../run/api.js';

/** A float tensor on the GPU: `dims`, row-major and contiguous from element `offset` of slot `slot`. */
export interface GpuValue {
  slot: number;
  offset: number;
  dims: number[];
  /** An integer tensor held as exact floats (a Cast of float data): read back as an Int32Array. */
  int?: boolean;
}

export interface Slot {
  elements: number;
  /** 'feed': written from a graph input each run; 'const': written once; 'temp': computed. */
  kind: 'feed' | 'const' | 'temp';
  data?: Float32Array;
}

export interface KernelStep {
  kind: 'kernel';
  label: string;
  kernel: GraphKernelName;
  constants: Constants;
  params: Uint32Array;
  /** Binding name -> slot (params excluded). */
  bindings: Record<string, number>;
  count: number;
}
// (gpu/fuse.ts rewrites kernel steps in place: their constants, params, bindings and count.)

interface CopyStep {
  kind: 'copy';
  from: GpuValue;
  to: GpuValue;
  elements: number;
}

export interface EncodeStep {
  kind: 'encode';
  label: string;
  rnn: Rnn;
  seqLen: number;
  batch: number;
  sequenceLens?: Int32Array;
  x: number;
  initialH?: number;
  initialC?: number;
  Y: number;
  Y_h?: number;
  Y_c?: number;
}

type Step = KernelStep | CopyStep | EncodeStep;

/** The graph kernels that take an activation (the ACT override of graph_common.wgsl). */
const FUSIBLE: ReadonlySet<GraphKernelName> = new Set(['graph_elementwise', 'graph_conv', 'graph_matmul']);

const WORKGROUP = 64;
const MAX_GROUPS_X = 65535;

/** The 2-D grid of graph_common.wgsl for `count` items. */
export function graphGrid(count: number): [number, number] {
  const groups = Math.ceil(count / WORKGROUP);
  if (groups <= MAX_GROUPS_X) return [Math.max(groups, 1), 1];
  return [MAX_GROUPS_X, Math.ceil(groups / MAX_GROUPS_X)];
}

/** Collects slots and steps while graph.ts walks the model; `build` turns them into a Program. */
export class ProgramBuilder {
  readonly slots: Slot[] = [];
  readonly steps: Step[] = [];
  private readonly uploaded = new Map<Float32Array, GpuValue>();
  /** The last kernel step that wrote each slot. */
  private readonly producer = new Map<number, KernelStep>();

  private slot(elements: number, kind: Slot['kind'], data?: Float32Array): number {
    this.slots.push({ elements, kind, data });
    return this.slots.length - 1;
  }

  temp(dims: number[]): GpuValue {
    return { slot: this.slot(numel(dims, 'a tensor computed on the GPU'), 'temp'), offset: 0, dims };
  }

  feed(dims: number[]): GpuValue {
    return { slot: this.slot(count(dims), 'feed'), offset: 0, dims };
  }

  /** A float tensor known on the CPU (a weight, a folded constant), uploaded once per program. */
  constant(data: Float32Array, dims: number[]): GpuValue {
    const seen = this.uploaded.get(data);
    if (seen) return { ...seen, dims };
    const v = { slot: this.slot(data.length, 'const', data), offset: 0, dims };
    this.uploaded.set(data, v);
    return v;
  }

  kernel(
    label: string,
    kernel: GraphKernelName,
    count: number,
    params: number[],
    bindings: Record<string, number>,
    constants: Constants = {},
  ): void {
    if (count === 0) return;
    const words = new Uint32Array(params.length);
    params.forEach((p, i) => {
      words[i] = p >>> 0;
    });
    const step: KernelStep = { kind: 'kernel', label, kernel, constants, params: words, bindings, count };
    this.steps.push(step);
    this.producer.set(bindings.out, step);
  }

  copy(from: GpuValue, to: GpuValue, elements: number): void {
    if (elements > 0) this.steps.push({ kind: 'copy', from, to, elements });
  }

  encode(step: Omit<EncodeStep, 'kind'>): void {
    this.steps.push({ kind: 'encode', ...step });
  }

  /**
   * Makes the kernel that computed `v` (the whole of its output) apply `act` before storing, where
   * that kernel has the ACT override and applies none yet; false where it cannot.
   */
  fuseActivation(v: GpuValue, act: { code: number; alpha?: number; beta?: number }): boolean {
    if (act.code < 0 || v.offset !== 0 || this.slots[v.slot].elements !== count(v.dims)) return false;
    const step = this.producer.get(v.slot);
    if (!step || !FUSIBLE.has(step.kernel) || (step.constants.ACT ?? 0) !== 0 || step.constants.MAGNITUDE) return false;
    step.constants = { ...step.constants, ACT: act.code, ACT_ALPHA: act.alpha ?? 0, ACT_BETA: act.beta ?? 0 };
    return true;
  }

  /** `v` alone in a slot of its own size (what Rnn.encode takes): itself, or a copy. */
  whole(v: GpuValue): number {
    if (v.offset === 0 && this.slots[v.slot].elements === count(v.dims)) return v.slot;
    const t = this.temp(v.dims);
    this.copy(v, t, count(v.dims));
    return t.slot;
  }

  /** The dispatches of a run: one per kernel step, and the recurrent layers' own. */
  get dispatches(): number {
    return this.steps.reduce(
      (n, s) => n + (s.kind === 'kernel' ? 1 : s.kind === 'encode' ? s.rnn.kernels(s.seqLen, s.batch).dispatches : 0),
      0,
    );
  }
}

function count(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

const F32 = 4;

/** What a run feeds: slot index -> data (feeds) and what it reads back (outputs). */
export interface ProgramIO {
  feeds: Map<number, Float32Array>;
  outputs: GpuValue[];
  /**
   * Copies done first, into feed slots (a stream's carried state, already on the GPU; a scan's frame,
   * `fromOffset` bytes into a chunk of frames).
   */
  before?: { from: GPUBuffer; fromOffset?: number; slot: number; elements: number }[];
  /** Copies done last, out of output values (a stream keeping its state on the GPU; a scan's frame outputs, `toOffset` bytes in). */
  after?: { value: GpuValue; to: GPUBuffer; toOffset?: number }[];
}

/** A built program: its buffers, pipelines and bind groups, ready to record. */
export class Program {
  private readonly buffers: GPUBuffer[];
  private readonly paramBuffers: GPUBuffer[] = [];
  private readonly recorded: (
    | { kind: 'kernel'; pipeline: GPUComputePipeline; group: GPUBindGroup; grid: [number, number] }
    | CopyStep
    | EncodeStep
  )[] = [];

  private constructor(
    private readonly device: GPUDevice,
    private readonly builder: ProgramBuilder,
  ) {
    this.buffers = builder.slots.map((s, i) => {
      const b = device.createBuffer({
        label: `onnx slot ${i} (${s.kind})`,
        size: Math.max(16, Math.ceil((s.elements * F32) / 16) * 16),
        usage: Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST,
      });
      if (s.data) device.queue.writeBuffer(b, 0, s.data.buffer, s.data.byteOffset, s.data.byteLength);
      return b;
    });
  }

  static async build(device: GPUDevice, builder: ProgramBuilder): Promise<Program> {
    const limit = device.limits.maxStorageBufferBindingSize;
    const largest = Math.max(0, ...builder.slots.map((s) => s.elements));
    if (largest * F32 > limit)
      throw new DeviceLimitError(
        `the model needs a tensor of ${largest} floats (${largest * F32} bytes) on the GPU, over this device's maxStorageBufferBindingSize (${limit} bytes); use smaller inputs`,
      );
    let p: Program | undefined;
    try {
      // Validation or memory errors while creating buffers, pipelines and bind groups are thrown, not left uncaptured.
      return await withErrorScopes(device, 'building the ONNX program', async () => {
        p = new Program(device, builder);
        await p.prepare();
        return p;
      });
    } catch (e) {
      p?.destroy();
      throw e;
    }
  }

  private async prepare(): Promise<void> {
    const pipelines = await Promise.all(
      this.builder.steps.map((s) => (s.kind === 'kernel' ? pipeline(this.device, s.kernel, s.constants, this.lengths(s)) : undefined)),
    );
    await Promise.all(this.builder.steps.map((s) => (s.kind === 'encode' ? s.rnn.prepare(s.seqLen, s.batch) : undefined)));
    this.builder.steps.forEach((s, i) => {
      if (s.kind !== 'kernel') {
        this.recorded.push(s);
        return;
      }
      const params = this.device.createBuffer({
        label: `${s.label} params`,
        size: Math.max(16, Math.ceil((s.params.length * 4) / 16) * 16),
        usage: Usage.STORAGE | Usage.COPY_DST,
      });
      this.device.queue.writeBuffer(params, 0, s.params.buffer, s.params.byteOffset, s.params.byteLength);
      this.paramBuffers.push(params);
      const info = kernelInfo(s.kernel);
      const group = this.device.createBindGroup({
        label: s.label,
        layout: bindGroupLayout(this.device, s.kernel),
        entries: info.bindings.map((b) => ({
          binding: b.binding,
          resource: { buffer: b.name === 'params' ? params : this.buffers[s.bindings[b.name]] },
        })),
      });
      this.recorded.push({ kind: 'kernel', pipeline: pipelines[i]!, group, grid: graphGrid(s.count) });
    });
  }

  get dispatches(): number {
    return this.builder.dispatches;
  }

  /** The element counts the kernel's fixed-size arrays take: its parameter words, its slots' sizes. */
  private lengths(s: KernelStep): Record<string, number> {
    return Object.fromEntries(
      kernelInfo(s.kernel).lengthSized.map((name) => [
        name,
        name === 'params' ? s.params.length : Math.max(1, this.builder.slots[s.bindings[name]].elements),
      ]),
    );
  }

  /** Records the whole graph into `encoder`, between the IO's copies in and out. */
  record(encoder: GPUCommandEncoder, io: ProgramIO): void {
    for (const b of io.before ?? []) encoder.copyBufferToBuffer(b.from, b.fromOffset ?? 0, this.buffers[b.slot], 0, b.elements * F32);
    let pass: GPUComputePassEncoder | undefined;
    const endPass = () => {
      pass?.end();
      pass = undefined;
    };
    for (const s of this.recorded) {
      if (s.kind === 'kernel') {
        pass ??= encoder.beginComputePass();
        pass.setPipeline(s.pipeline);
        pass.setBindGroup(0, s.group);
        pass.dispatchWorkgroups(s.grid[0], s.grid[1]);
        continue;
      }
      endPass();
      if (s.kind === 'copy') {
        encoder.copyBufferToBuffer(
          this.buffers[s.from.slot],
          s.from.offset * F32,
          this.buffers[s.to.slot],
          s.to.offset * F32,
          s.elements * F32,
        );
      } else {
        const buf = (slot: number | undefined) => (slot === undefined ? undefined : this.buffers[slot]);
        s.rnn.encode(encoder, {
          x: this.buffers[s.x],
          seqLen: s.seqLen,
          batch: s.batch,
          sequenceLens: s.sequenceLens,
          initialH: buf(s.initialH),
          initialC: buf(s.initialC),
          Y: this.buffers[s.Y],
          Y_h: buf(s.Y_h),
          Y_c: buf(s.Y_c),
        });
      }
    }
    endPass();
    for (const a of io.after ?? [])
      encoder.copyBufferToBuffer(this.buffers[a.value.slot], a.value.offset * F32, a.to, a.toOffset ?? 0, count(a.value.dims) * F32);
  }

  /** One run: writes the feeds, records, submits once and reads the outputs back in one mapping. */
  async run(io: ProgramIO): Promise<Float32Array[]> {
    return (await this.runFrames([io]))[0];
  }

  /**
   * Several runs recorded one after another into one command buffer (a scan's chunk of frames), one
   * submit and one mapping. `feeds` are written once, from the first: queue writes land before the
   * submit, so what differs per frame must come through each one's `before` copies.
   */
  async runFrames(ios: ProgramIO[]): Promise<Float32Array[][]> {
    for (const [slot, data] of ios[0].feeds) {
      if (data.length !== this.builder.slots[slot].elements)
        throw new InputError(`a feed has ${data.length} elements, the plan expects ${this.builder.slots[slot].elements}`);
      this.device.queue.writeBuffer(this.buffers[slot], 0, data.buffer, data.byteOffset, data.byteLength);
    }
    const sizes = ios[0].outputs.map((v) => count(v.dims));
    const offsets: number[] = [];
    let perFrame = 0;
    for (const n of sizes) {
      offsets.push(perFrame);
      perFrame += Math.ceil(n / 4) * 4; // 16-byte aligned copies
    }
    const staging = this.device.createBuffer({
      label: 'onnx outputs',
      size: Math.max(16, perFrame * ios.length * F32),
      usage: Usage.MAP_READ | Usage.COPY_DST,
    });
    try {
      const encoder = this.device.createCommandEncoder({ label: 'onnx run' });
      ios.forEach((io, f) => {
        this.record(encoder, io);
        io.outputs.forEach((v, k) => {
          if (sizes[k] > 0)
            encoder.copyBufferToBuffer(this.buffers[v.slot], v.offset * F32, staging, (f * perFrame + offsets[k]) * F32, sizes[k] * F32);
        });
      });
      this.device.queue.submit([encoder.finish()]);
      await staging.mapAsync(MAP_MODE_READ);
      const all = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      return ios.map((_, f) => sizes.map((n, k) => all.slice(f * perFrame + offsets[k], f * perFrame + offsets[k] + n)));
    } finally {
      staging.destroy();
    }
  }

  destroy(): void {
    for (const b of [...this.buffers, ...this.paramBuffers]) b.destroy();
  }
}
