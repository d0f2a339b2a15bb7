// The model object: owns the weight buffers and a grow-only workspace, encodes a whole run
// (every layer, every timestep, both directions) into one command buffer, submits once and reads
// back once.
import { DestroyedError, DeviceLimitError, InputError, SpecError } from './errors.js';
import { MAP_MODE_READ, paddedSize, storageBuffer, Usage, withErrorScopes, writeArray } from './gpu.js';
import { bindGroupLayout, kernelInfo, pipeline, type KernelName } from './kernels.js';
import { packLayer, recurrentBlocks, type PackedLayer } from './pack.js';
import { inputStrides, outputStrides, persistentUnsupported, planLayer, runSizes, usesPersistent, type KernelCall, type LayerPlan, type StepKernels } from './plan.js';
import { checkBindings } from './reflect.js';
import { resolveSpec, validateWeights, type ResolvedSpec, type RnnSpec, type RnnWeights } from './spec.js';

export interface RunOptions {
  seqLen: number;
  batch: number;
  /** [B] valid length of each batch row, 0 <= len <= seqLen (ONNX sequence_lens). */
  sequenceLens?: Int32Array;
  /**
   * TF.js / Keras masking instead of lengths: [T, B] time-major or [B, T] batch-major, nonzero = a
   * valid step. Every row runs all T steps (the reverse direction from T − 1); a masked step keeps
   * the state and repeats the previous output. Not combinable with sequenceLens.
   */
  mask?: Uint8Array;
  /** [L·D, B, Hout] time-major or [B, L·D, Hout] batch-major; absent = zeros. */
  initialH?: Float32Array;
  /** [L·D, B, H] time-major or [B, L·D, H] batch-major (LSTM only); absent = zeros. */
  initialC?: Float32Array;
}

export interface RunResult {
  /** [T, D, B, Hout] time-major or [B, T, D, Hout] batch-major; zero past each row's length. */
  Y: Float32Array;
  /** [L·D, B, Hout] or [B, L·D, Hout], indexed layer·D + direction. */
  Y_h: Float32Array;
  /** [L·D, B, H] or [B, L·D, H] (LSTM only). */
  Y_c?: Float32Array;
}

export interface Rnn {
  run(x: Float32Array, options: RunOptions): Promise<RunResult>;
  /** Frees every GPU buffer the model created. Idempotent; pipelines stay cached per device. */
  destroy(): void;
  /** The spec with every default applied. */
  readonly spec: ResolvedSpec;
}

/** Uniform slots are 256 bytes apart: minUniformBufferOffsetAlignment is at most 256 everywhere. */
const UNIFORM_SLOT = 256;
/** Bytes bound at each uniform slot (the structs are 32 bytes or less). */
const UNIFORM_BINDING = 32;

interface LayerBuffers {
  w: GPUBuffer;
  bias: GPUBuffer;
  rStep: GPUBuffer;
  peephole?: GPUBuffer;
  rbh?: GPUBuffer;
  wrT?: GPUBuffer;
}

interface Workspace {
  seqLen: number;
  batch: number;
  buffers: GPUBuffer[];
  x: GPUBuffer;
  xproj: GPUBuffer;
  /** Sequence outputs: [0], [1] alternate between inner layers; `y` is the last layer's. */
  sequences: GPUBuffer[];
  y: GPUBuffer;
  /** Per layer: the two ping-pong h buffers, and c (LSTM). */
  h: [GPUBuffer, GPUBuffer][];
  c: GPUBuffer[];
  scratch: GPUBuffer;
  seqLens: GPUBuffer;
  steps: GPUBuffer;
  dims: GPUBuffer;
  staging: GPUBuffer;
  /** bindGroups[layer].inputProj; .step[call][parity]; .sequence for the persistent kernel. */
  bindGroups: { inputProj: GPUBindGroup; step: [GPUBindGroup, GPUBindGroup][]; sequence?: GPUBindGroup }[];
}

interface RunRequest {
  x: Float32Array;
  seqLen: number;
  batch: number;
  lens: Uint32Array;
  /** [T, B] step mask (MASKED kernels), or undefined for lengths. */
  mask?: Uint32Array;
  initialH?: Float32Array;
  initialC?: Float32Array;
}

type Resource = { buffer: GPUBuffer; offset?: number; size?: number; elements?: number };

/** A layer's pipelines in the order encodeAndRead uses them: the GEMM, then the sequence or step kernels. */
function layerCalls(plan: LayerPlan): KernelCall[] {
  return [plan.inputProj, ...(plan.sequence ? [plan.sequence] : plan.step)];
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new InputError(`${name} must be a positive integer, got ${String(v)}`);
  return v;
}

export interface CreateRnnOptions {
  /**
   * The batch size to compile kernels for while the model is built (default 1). Kernels are
   * specialised by batch tile (1, 2, or 4 rows for batch >= 3); another batch size compiles its
   * variant on its first run, which then takes longer.
   */
  batch?: number;
  /**
   * How timesteps are dispatched (default 'auto'): 'per-step', one fused dispatch per step;
   * 'persistent', one dispatch per layer for the whole sequence (RNN, GRU, LSTM without
   * projection, hidden size <= 256); 'auto', persistent where it applies and T > 1.
   */
  stepKernels?: StepKernels;
}

export async function createRnn(device: GPUDevice, spec: RnnSpec, weights: RnnWeights, options: CreateRnnOptions = {}): Promise<Rnn> {
  const s = resolveSpec(spec);
  validateWeights(s, weights);
  const batch = options.batch === undefined ? 1 : positiveInt('options.batch', options.batch);
  const mode = options.stepKernels ?? 'auto';
  if (!['auto', 'per-step', 'persistent'].includes(mode)) throw new SpecError(`options.stepKernels must be 'auto', 'per-step' or 'persistent', got ${JSON.stringify(mode)}`);
  const why = persistentUnsupported(s);
  if (mode === 'persistent' && why) throw new SpecError(`options.stepKernels 'persistent' does not apply: ${why}; use 'auto' or 'per-step'`);
  checkModelLimits(device, s);
  return withErrorScopes(device, 'createRnn', async () => {
    const model = new RnnModel(device, s, weights, mode);
    try {
      // Sequences (the persistent kernel where it applies) and single steps (streaming) alike.
      await Promise.all([model.compile(batch, false, 2), model.compile(batch, false, 1)]);
    } catch (e) {
      model.destroy();
      throw e;
    }
    return model;
  });
}

/** Rejects, before any GPU work, a model whose kernels or weights exceed the device's limits. */
function checkModelLimits(device: GPUDevice, s: ResolvedSpec): void {
  const lim = device.limits;
  const need = (what: string, value: number, limit: keyof GPUSupportedLimits, hint: string) => {
    const have = lim[limit] as number;
    if (value > have) throw new DeviceLimitError(`${what} needs ${value} but the device's ${String(limit)} is ${have}; ${hint}`);
  };
  const kernels: KernelName[] = ['input_proj', ...planLayer(s, 0, 1, 1, lim.maxComputeInvocationsPerWorkgroup).step.map((c) => c.kernel)];
  for (const k of kernels) {
    const storage = kernelInfo(k).bindings.filter((b) => b.kind !== 'uniform').length;
    need(`kernel ${k}`, storage, 'maxStorageBuffersPerShaderStage', 'every WebGPU device offers 8; request the default limits or more');
  }
  need('the input projection GEMM (16×16 workgroup)', 256, 'maxComputeInvocationsPerWorkgroup', 'a core-feature WebGPU device offers 256');
  need('the input projection GEMM', 8192, 'maxComputeWorkgroupStorageSize', 'every core WebGPU device offers 16384');
  const { directions: D, gates: G, hiddenSize: H, outputSize: Hout } = s;
  for (let l = 0; l < s.numLayers; l++) {
    const I = l === 0 ? s.inputSize : D * Hout;
    const maxWeight = 4 * Math.max(D * G * H * I, D * G * H * Hout);
    const hint = 'use a smaller model, or request a device with larger limits (requestDevice() asks for the adapter\'s maximum)';
    need(`layer ${l}'s largest weight tensor (bytes)`, maxWeight, 'maxStorageBufferBindingSize', hint);
    need(`layer ${l}'s largest weight tensor (bytes)`, maxWeight, 'maxBufferSize', hint);
  }
  need('the input projection grid (x workgroups)', Math.ceil((D * G * H) / 64), 'maxComputeWorkgroupsPerDimension', 'use a smaller hidden size');
}

class RnnModel implements Rnn {
  readonly spec: ResolvedSpec;
  private readonly device: GPUDevice;
  private readonly layers: LayerBuffers[];
  private readonly mode: StepKernels;
  private readonly owned: GPUBuffer[] = [];
  private workspace: Workspace | undefined;
  private destroyed = false;
  /** Runs share the workspace, so they execute one after another. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(device: GPUDevice, s: ResolvedSpec, weights: RnnWeights, mode: StepKernels) {
    this.device = device;
    this.spec = s;
    this.mode = mode;
    this.layers = weights.map((w, l) => this.upload(l, packLayer(s, w)));
  }

  private upload(l: number, p: PackedLayer): LayerBuffers {
    const make = (name: string, data: Float32Array) => {
      const b = storageBuffer(this.device, `${this.spec.cell}|L${l}|${name}`, data);
      this.owned.push(b);
      return b;
    };
    return {
      w: make('w', p.w),
      bias: make('bias', p.bias),
      rStep: make('r_t', p.rStep),
      peephole: p.peephole && make('peephole', p.peephole),
      rbh: p.rbh && make('rbh', p.rbh),
      wrT: p.wrT && make('wr_t', p.wrT),
    };
  }

  /** Compiles (or finds cached) every pipeline a run of this batch size, masking and length needs. */
  async compile(batch: number, masked = false, seqLen = 2): Promise<GPUComputePipeline[][]> {
    const maxInv = this.device.limits.maxComputeInvocationsPerWorkgroup;
    return Promise.all(this.layers.map((_, l) => {
      const plan = planLayer(this.spec, l, seqLen, batch, maxInv, masked, this.mode);
      return Promise.all(layerCalls(plan).map((c) => pipeline(this.device, c.kernel, c.constants)));
    }));
  }

  run(x: Float32Array, options: RunOptions): Promise<RunResult> {
    if (this.destroyed) return Promise.reject(new DestroyedError('run() was called after destroy(); create a new model with createRnn()'));
    let req: RunRequest;
    try {
      req = this.validateRun(x, options);
    } catch (e) {
      return Promise.reject(e);
    }
    const job = this.tail.then(() => this.execute(req));
    this.tail = job.catch(() => undefined);
    return job;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
    this.dropWorkspace();
  }

  private validateRun(x: Float32Array, o: RunOptions): RunRequest {
    const s = this.spec;
    if (typeof o !== 'object' || o === null) throw new InputError('run(x, options): options { seqLen, batch } are required');
    const T = positiveInt('options.seqLen', o.seqLen);
    const B = positiveInt('options.batch', o.batch);
    const { directions: D, numLayers: L, hiddenSize: H, outputSize: Hout, inputSize: I } = s;
    const layout = s.batchMajor ? '[B, T, I]' : '[T, B, I]';
    if (!(x instanceof Float32Array)) throw new InputError(`x must be a Float32Array ${layout}, got ${Object.prototype.toString.call(x)}`);
    if (x.length !== T * B * I) throw new InputError(`x has ${x.length} floats, expected seqLen·batch·inputSize = ${T}·${B}·${I} = ${T * B * I} (${layout})`);
    const lens = new Uint32Array(B).fill(T);
    if (o.sequenceLens !== undefined) {
      const sl = o.sequenceLens;
      if (!(sl instanceof Int32Array)) throw new InputError('options.sequenceLens must be an Int32Array of length batch');
      if (sl.length !== B) throw new InputError(`options.sequenceLens has ${sl.length} entries, expected batch = ${B}`);
      sl.forEach((len, b) => {
        if (len < 0 || len > T) throw new InputError(`options.sequenceLens[${b}] = ${len} is outside [0, seqLen = ${T}]`);
        lens[b] = len;
      });
    }
    const state = (name: string, v: Float32Array | undefined, width: number) => {
      if (v === undefined) return;
      if (!(v instanceof Float32Array)) throw new InputError(`options.${name} must be a Float32Array`);
      const shape = s.batchMajor ? `[B, L·D, ${width}]` : `[L·D, B, ${width}]`;
      if (v.length !== L * D * B * width) throw new InputError(`options.${name} has ${v.length} floats, expected ${shape} = ${L * D * B * width}`);
    };
    let mask: Uint32Array | undefined;
    if (o.mask !== undefined) {
      if (o.sequenceLens !== undefined) throw new InputError('options.mask and options.sequenceLens exclude each other: masks follow TF.js, lengths follow ONNX; give one');
      if (!(o.mask instanceof Uint8Array)) throw new InputError(`options.mask must be a Uint8Array ${s.batchMajor ? '[B, T]' : '[T, B]'}`);
      if (o.mask.length !== T * B) throw new InputError(`options.mask has ${o.mask.length} entries, expected seqLen·batch = ${T * B}`);
      mask = new Uint32Array(T * B);
      for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) mask[t * B + b] = o.mask[s.batchMajor ? b * T + t : t * B + b] ? 1 : 0;
    }
    state('initialH', o.initialH, Hout);
    if (o.initialC !== undefined && s.cell !== 'lstm') throw new InputError(`options.initialC applies to LSTM only; remove it for a ${s.cell.toUpperCase()}`);
    state('initialC', o.initialC, H);
    this.checkRunLimits(T, B);
    return { x, seqLen: T, batch: B, lens, mask, initialH: o.initialH, initialC: o.initialC };
  }

  private checkRunLimits(T: number, B: number): void {
    const lim = this.device.limits;
    const sizes = runSizes(this.spec, T, B);
    const maxBytes = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
    for (const [name, floats] of Object.entries(sizes)) {
      if (floats * 4 > maxBytes) {
        const limit = lim.maxStorageBufferBindingSize <= lim.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
        throw new DeviceLimitError(`a run of seqLen ${T} and batch ${B} needs a ${name} buffer of ${floats * 4} bytes, over the device's ` +
          `${limit} (${maxBytes}); run shorter sequences or smaller batches, or request a device with larger limits`);
      }
    }
    if (Math.ceil((T * B) / 64) > lim.maxComputeWorkgroupsPerDimension) {
      throw new DeviceLimitError(`seqLen·batch = ${T * B} rows need ${Math.ceil((T * B) / 64)} workgroups, over maxComputeWorkgroupsPerDimension (${lim.maxComputeWorkgroupsPerDimension}); split the run`);
    }
  }

  private async execute(req: RunRequest): Promise<RunResult> {
    try {
      return await withErrorScopes(this.device, 'run', () => this.encodeAndRead(req));
    } catch (e) {
      if (this.destroyed) throw new DestroyedError('the model was destroyed while run() was in flight');
      throw e;
    }
  }

  private async encodeAndRead(req: RunRequest): Promise<RunResult> {
    const s = this.spec;
    const { seqLen: T, batch: B } = req;
    const { directions: D, numLayers: L, hiddenSize: H, outputSize: Hout } = s;
    const maxInv = this.device.limits.maxComputeInvocationsPerWorkgroup;
    const masked = req.mask !== undefined;
    const plans = this.layers.map((_, l) => planLayer(s, l, T, B, maxInv, masked, this.mode));
    const pipelines = await this.compile(B, masked, T);
    if (this.destroyed) throw new DestroyedError('the model was destroyed while run() was in flight');
    const ws = this.ensureWorkspace(T, B);
    const q = this.device.queue;

    writeArray(q, ws.x, req.x);
    writeArray(q, ws.seqLens, req.mask ?? req.lens);
    const dims = new Uint32Array((L * 2 * UNIFORM_SLOT) / 4);
    for (let l = 0; l < L; l++) {
      const xs = inputStrides(s, l, T, B);
      const ys = outputStrides(s, l, T, B);
      dims.set([T * B, B, xs.t, xs.b], (l * 2 * UNIFORM_SLOT) / 4);
      dims.set([B, T, ys.t, ys.b, ys.d], ((l * 2 + 1) * UNIFORM_SLOT) / 4);
      writeArray(q, ws.h[l][0], this.initialState(req, req.initialH, l, Hout));
      if (s.cell === 'lstm') writeArray(q, ws.c[l], this.initialState(req, req.initialC, l, H));
    }
    writeArray(q, ws.dims, dims);

    const encoder = this.device.createCommandEncoder({ label: 'webgpu-rnn run' });
    const pass = encoder.beginComputePass({ label: 'webgpu-rnn layers' });
    for (let l = 0; l < L; l++) {
      const dispatch = (call: KernelCall) => pass.dispatchWorkgroups(call.grid[0], call.grid[1], call.grid[2]);
      pass.setPipeline(pipelines[l][0]);
      pass.setBindGroup(0, ws.bindGroups[l].inputProj);
      dispatch(plans[l].inputProj);
      const sequence = plans[l].sequence;
      if (sequence) {
        pass.setPipeline(pipelines[l][1]);
        pass.setBindGroup(0, ws.bindGroups[l].sequence!, [0]);
        dispatch(sequence);
      }
      for (let t = 0; t < T; t++) {
        plans[l].step.forEach((call, i) => {
          pass.setPipeline(pipelines[l][1 + i]);
          pass.setBindGroup(0, ws.bindGroups[l].step[i][t & 1], [t * UNIFORM_SLOT]);
          dispatch(call);
        });
      }
    }
    pass.end();

    const yFloats = T * D * B * Hout;
    const hFloats = D * B * Hout;
    const cFloats = D * B * H;
    encoder.copyBufferToBuffer(ws.y, 0, ws.staging, 0, yFloats * 4);
    for (let l = 0; l < L; l++) {
      // Per-step kernels leave the final state in h[T & 1]; the persistent kernel writes it to h[1].
      const final = plans[l].sequence ? 1 : T & 1;
      encoder.copyBufferToBuffer(ws.h[l][final], 0, ws.staging, (yFloats + l * hFloats) * 4, hFloats * 4);
      if (s.cell === 'lstm') encoder.copyBufferToBuffer(ws.c[l], 0, ws.staging, (yFloats + L * hFloats + l * cFloats) * 4, cFloats * 4);
    }
    q.submit([encoder.finish()]);

    const total = yFloats + L * hFloats + (s.cell === 'lstm' ? L * cFloats : 0);
    await ws.staging.mapAsync(MAP_MODE_READ, 0, paddedSize(total * 4));
    const out = new Float32Array(ws.staging.getMappedRange(0, paddedSize(total * 4)).slice(0, total * 4));
    ws.staging.unmap();
    const Y = out.slice(0, yFloats);
    const Y_h = this.stateOut(out.subarray(yFloats, yFloats + L * hFloats), B, Hout);
    const Y_c = s.cell === 'lstm' ? this.stateOut(out.subarray(yFloats + L * hFloats, total), B, H) : undefined;
    return Y_c ? { Y, Y_h, Y_c } : { Y, Y_h };
  }

  /** Layer l's initial state as [D, B, width], with rows of length 0 zeroed (ORT: Y_h = Y_c = 0 there). */
  private initialState(req: RunRequest, v: Float32Array | undefined, l: number, width: number): Float32Array {
    const { directions: D, numLayers: L, batchMajor } = this.spec;
    const B = req.batch;
    const out = new Float32Array(D * B * width);
    if (!v) return out;
    for (let d = 0; d < D; d++) {
      for (let b = 0; b < B; b++) {
        if (req.lens[b] === 0) continue;
        const ld = l * D + d;
        const src = batchMajor ? (b * L * D + ld) * width : (ld * B + b) * width;
        out.set(v.subarray(src, src + width), (d * B + b) * width);
      }
    }
    return out;
  }

  /** Final states arrive as [L·D, B, width]; batch-major models return [B, L·D, width]. */
  private stateOut(v: Float32Array, B: number, width: number): Float32Array {
    if (!this.spec.batchMajor) return v.slice();
    const LD = this.spec.numLayers * this.spec.directions;
    const out = new Float32Array(v.length);
    for (let ld = 0; ld < LD; ld++) {
      for (let b = 0; b < B; b++) out.set(v.subarray((ld * B + b) * width, (ld * B + b + 1) * width), (b * LD + ld) * width);
    }
    return out;
  }

  private dropWorkspace(): void {
    if (!this.workspace) return;
    for (const b of this.workspace.buffers) b.destroy();
    this.workspace = undefined;
  }

  /** The workspace for (seqLen, batch): grows to the largest run seen, never shrinks, never leaks. */
  private ensureWorkspace(T: number, B: number): Workspace {
    const cur = this.workspace;
    if (cur && cur.seqLen >= T && cur.batch >= B) return cur;
    const seqLen = Math.max(T, cur?.seqLen ?? 0);
    const batch = Math.max(B, cur?.batch ?? 0);
    this.dropWorkspace();
    const s = this.spec;
    const { numLayers: L } = s;
    const sizes = runSizes(s, seqLen, batch);
    const buffers: GPUBuffer[] = [];
    const storage = (label: string, floats: number) => {
      const b = storageBuffer(this.device, `${s.cell}|${label}`, floats);
      buffers.push(b);
      return b;
    };
    const other = (label: string, bytes: number, usage: number) => {
      const b = this.device.createBuffer({ label: `${s.cell}|${label}`, size: paddedSize(bytes), usage });
      buffers.push(b);
      return b;
    };
    const steps = other('steps', seqLen * UNIFORM_SLOT, Usage.UNIFORM | Usage.COPY_DST);
    const stepData = new Uint32Array((seqLen * UNIFORM_SLOT) / 4);
    for (let t = 0; t < seqLen; t++) stepData[(t * UNIFORM_SLOT) / 4] = t;
    writeArray(this.device.queue, steps, stepData);
    const stagingFloats = sizes.sequence + L * sizes.h + (s.cell === 'lstm' ? L * sizes.c : 0);
    const ws: Workspace = {
      seqLen, batch, buffers, steps,
      x: storage('x', sizes.x),
      xproj: storage('xproj', sizes.xproj),
      sequences: Array.from({ length: Math.min(L - 1, 2) }, (_, i) => storage(`sequence${i}`, sizes.sequence)),
      y: storage('y', sizes.sequence),
      h: Array.from({ length: L }, (_, l) => [storage(`L${l}|h0`, sizes.h), storage(`L${l}|h1`, sizes.h)] as [GPUBuffer, GPUBuffer]),
      c: s.cell === 'lstm' ? Array.from({ length: L }, (_, l) => storage(`L${l}|c`, sizes.c)) : [],
      scratch: storage('scratch', sizes.scratch),
      seqLens: storage('seq_lens', seqLen * batch),   // [B] lengths or a [T, B] mask
      dims: other('dims', L * 2 * UNIFORM_SLOT, Usage.UNIFORM | Usage.COPY_DST),
      staging: other('staging', stagingFloats * 4, Usage.MAP_READ | Usage.COPY_DST),
      bindGroups: [],
    };
    this.workspace = ws;
    ws.bindGroups = this.layers.map((_, l) => this.layerBindGroups(ws, l));
    return ws;
  }

  /**
   * The buffer behind each WGSL binding name of `kernel` in layer l; `parity` selects which h buffer
   * is h_prev. `elements` is what the kernel indexes, checked against the buffer's size.
   */
  private resources(ws: Workspace, l: number, parity: number, kernel: KernelName): Record<string, Resource> {
    const s = this.spec;
    const w = this.layers[l];
    const sizes = runSizes(s, ws.seqLen, ws.batch);
    const { directions: D, gates: G, hiddenSize: H, outputSize: Hout } = s;
    const I = l === 0 ? s.inputSize : D * Hout;
    const res: Record<string, Resource> = {
      step: { buffer: ws.steps, offset: 0, size: UNIFORM_BINDING },
      // Slot 0 of a layer holds the GEMM's dims, slot 1 the step kernels'.
      dims: { buffer: ws.dims, offset: (l * 2 + (kernel === 'input_proj' ? 0 : 1)) * UNIFORM_SLOT, size: UNIFORM_BINDING },
      seq_lens: { buffer: ws.seqLens, elements: ws.seqLen * ws.batch },
      x: { buffer: l === 0 ? ws.x : ws.sequences[(l - 1) % 2], elements: ws.seqLen * ws.batch * I },
      w: { buffer: w.w, elements: D * G * H * I },
      bias: { buffer: w.bias, elements: D * G * H },
      xproj: { buffer: ws.xproj, elements: sizes.xproj },
      r_t: { buffer: w.rStep, elements: D * Hout * recurrentBlocks(s).length * H },
      h_prev: { buffer: ws.h[l][parity], elements: sizes.h },
      h_next: { buffer: ws.h[l][1 - parity], elements: sizes.h },
      y: { buffer: l === s.numLayers - 1 ? ws.y : ws.sequences[l % 2], elements: sizes.sequence },
      m: { buffer: ws.scratch, elements: sizes.c },
      gate_tmp: { buffer: ws.scratch, elements: sizes.scratch },
    };
    if (s.cell === 'lstm') {
      res.c = { buffer: ws.c[l], elements: sizes.c };
      res.peephole = { buffer: w.peephole!, elements: D * 3 * H };
      // With a projection, lstm_step's h_next is the unprojected m that lstm_projection reads.
      if (s.projected && kernel === 'lstm_step') res.h_next = { buffer: ws.scratch, elements: sizes.c };
    }
    if (w.rbh) res.rbh = { buffer: w.rbh, elements: D * H };
    if (w.wrT) res.wr_t = { buffer: w.wrT, elements: D * H * Hout };
    return res;
  }

  private bindGroup(ws: Workspace, l: number, parity: number, kernel: KernelName): GPUBindGroup {
    const info = kernelInfo(kernel);
    const res = this.resources(ws, l, parity, kernel);
    const bound = Object.fromEntries(info.bindings.map((b) => [b.name, res[b.name]]));
    checkBindings(info, Object.fromEntries(info.bindings.filter((b) => bound[b.name]).map((b) => {
      const r = bound[b.name];
      return [b.name, { size: r.size ?? r.buffer.size - (r.offset ?? 0), elements: r.elements }];
    })), `layer ${l}`);
    return this.device.createBindGroup({
      label: `${kernel}|L${l}|p${parity}`,
      layout: bindGroupLayout(this.device, kernel),
      entries: info.bindings.map((b) => ({ binding: b.binding, resource: { buffer: bound[b.name].buffer, offset: bound[b.name].offset ?? 0, size: bound[b.name].size } })),
    });
  }

  private layerBindGroups(ws: Workspace, l: number) {
    // Bind groups for both ways a run may go: per step (any run under 'per-step', single steps
    // under 'auto') and persistent (longer runs where it applies).
    const maxInv = this.device.limits.maxComputeInvocationsPerWorkgroup;
    const perStep = this.mode === 'persistent' ? undefined : planLayer(this.spec, l, 1, ws.batch, maxInv, false, 'per-step');
    const persistent = usesPersistent(this.spec, this.mode, 2) ? planLayer(this.spec, l, 2, ws.batch, maxInv, false, this.mode) : undefined;
    return {
      inputProj: this.bindGroup(ws, l, 0, 'input_proj'),
      step: (perStep?.step ?? []).map((call) => [0, 1].map((parity) => this.bindGroup(ws, l, parity, call.kernel)) as [GPUBindGroup, GPUBindGroup]),
      // h_prev = h[0] (the initial state), h_next = h[1] (the final state).
      sequence: persistent?.sequence && this.bindGroup(ws, l, 0, persistent.sequence.kernel),
    };
  }
}
