// The model object: owns the weight buffers and a grow-only workspace, encodes a whole run
// (every layer, every timestep, both directions) into one command buffer, submits once and reads
// back once.
import { DestroyedError, DeviceLimitError, DeviceLostError, GpuError, InputError, SpecError, WebGpuRnnError } from './errors.js';
import { MAP_MODE_READ, paddedSize, storageBuffer, Usage, withErrorScopes, writeArray } from './gpu.js';
import { bindGroupLayout, kernelInfo, pipeline, readyPipeline, type KernelName, type Precision } from './kernels.js';
import { toHalfBits } from './importers/numbers.js';
import { packLayer, packStack, paddedColumns, recurrentLanes, type PackedLayer } from './pack.js';
import { adapterDescription, adapterKind } from './adapter.js';
import { CELLS } from './cells.js';
import { Stream, type ResidentState, type RnnStream, type StreamHost, type StreamOptions } from './stream.js';
import {
  candidates,
  describeChoices,
  lookupTuning,
  modelKey,
  searchChoices,
  validateTuning,
  type TuneReport,
  type TuneShape,
  type TuningEntry,
  type TuningTable,
} from './tuning.js';
import {
  projectionGates,
  defaultChoice,
  defaultStack,
  dispatchCount,
  forcedChoice,
  inputStrides,
  outputStrides,
  planFits,
  planLayer,
  planStack,
  PROJECTION_VARIANTS,
  runSizes,
  stackUnsupported,
  STEP_VARIANTS,
  variantUnsupported,
  type AdapterKind,
  type KernelCall,
  type LayerChoice,
  type LayerPlan,
  type ProjectionVariant,
  type StepKernels,
  type StepVariant,
} from './plan.js';
import { checkBindings } from './reflect.js';
import { layerInputSize, positiveInt, resolveSpec, validateWeights, type ResolvedSpec, type RnnSpec, type RnnWeights } from './spec.js';

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
  /**
   * 'cpu' (default): resolve to Float32Arrays. 'gpu': resolve to new GPUBuffers in the same layouts
   * (usage STORAGE | COPY_SRC | COPY_DST), owned by the caller, with nothing read back.
   */
  output?: 'cpu' | 'gpu';
}

/** Rnn.encode's buffers: f32, run()'s layouts; x needs STORAGE usage, the outputs COPY_DST. */
export interface EncodeIO {
  x: GPUBuffer;
  seqLen: number;
  batch: number;
  /** [B] lengths (ONNX sequence_lens); absent = every row runs seqLen steps. */
  sequenceLens?: Int32Array;
  /** Initial states; absent = zeros. */
  initialH?: GPUBuffer;
  initialC?: GPUBuffer;
  Y: GPUBuffer;
  Y_h?: GPUBuffer;
  Y_c?: GPUBuffer;
}

/** run()'s outputs left on the GPU (options.output 'gpu'): buffers the caller owns and destroys. */
export interface GpuRunResult {
  Y: GPUBuffer;
  Y_h: GPUBuffer;
  Y_c?: GPUBuffer;
}

export interface RunResult {
  /** [T, D, B, Hout] time-major or [B, T, D, Hout] batch-major; zero past each row's length. */
  Y: Float32Array;
  /** [L·D, B, Hout] or [B, L·D, Hout], indexed layer·D + direction. */
  Y_h: Float32Array;
  /** [L·D, B, H] or [B, L·D, H] (LSTM only). */
  Y_c?: Float32Array;
}

/**
 * The kernels of a run or of a stream's step: per layer the step and projection variants, and the
 * dispatches it issues. `stack`: the whole stack runs fused in the stack kernel (one dispatch per
 * call; `layers` is then empty).
 */
export interface KernelPlan {
  layers: LayerChoice[];
  dispatches: number;
  stack?: boolean;
}

export interface Rnn {
  /**
   * Runs the model over x: a Float32Array, or a GPUBuffer of f32 in the same layout (usage must
   * include STORAGE) that is read where it is, without a copy through the CPU.
   */
  run(x: Float32Array | GPUBuffer, options: RunOptions & { output: 'gpu' }): Promise<GpuRunResult>;
  run(x: Float32Array | GPUBuffer, options: RunOptions): Promise<RunResult>;
  /**
   * Which kernels a run of (seqLen, batch) uses on this device, and how many dispatches it issues;
   * a stream's step() of seqLen steps over `batch` rows uses the same.
   */
  kernels(seqLen: number, batch: number): KernelPlan;
  /**
   * Records a run into the caller's command encoder, with caller-given buffers and no submit or
   * readback, so that it composes with other WebGPU work in one submit. The kernels of
   * (seqLen, batch) must be compiled (createRnn's options.batch and seqLen, or an earlier run of
   * that shape); no run() or step() of this model may be in flight, and the caller submits before
   * the model's next call (they share its workspace).
   */
  encode(encoder: GPUCommandEncoder, io: EncodeIO): void;
  /**
   * Times the kernel variants that apply on this device for runs of these shapes (batch default 1)
   * and keeps the fastest per layer; later runs of those shapes (and of the nearest sequence
   * length with the same batch, see ARCHITECTURE.md) use them. Runs made meanwhile may use any
   * of the candidates (they all compute the same outputs).
   */
  tune(shapes: TuneShape | TuneShape[]): Promise<TuneReport>;
  /** The tuning table so far (serialisable): store it and pass it to createRnn as options.tuning to skip tune(). */
  readonly tuning: TuningTable;
  /**
   * A stream: step() continues the recurrence from where the previous call left it, with the state
   * kept on the GPU (no state upload or readback per call). Unidirectional models only. Streams of
   * one model are independent; their steps run one after another with the model's runs.
   */
  stream(options?: StreamOptions): RnnStream;
  /** Frees every GPU buffer the model created. Idempotent; pipelines stay cached per device. */
  destroy(): void;
  /** The spec with every default applied. */
  readonly spec: ResolvedSpec;
}

/** The LSTM step kernels that, with a projection, write the unprojected m (bound at h_next) for the projection kernel. */
const PROJECTED_CELL_KERNELS: ReadonlySet<KernelName> = new Set(['lstm_step', 'lstm_direct', 'lstm_subgroup']);

/** Uniform slots are 256 bytes apart: minUniformBufferOffsetAlignment is at most 256 everywhere. */
const UNIFORM_SLOT = 256;
/** Bytes bound at each uniform slot (the structs are 32 bytes or less). */
const UNIFORM_BINDING = 48;
/** Dims.c_seq_read / c_seq_write when a layer reads or writes no c sequence (lstm_step.wgsl's NONE). */
const NO_C_SEQUENCE = 0xffffffff;

interface LayerBuffers {
  wT: GPUBuffer;
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
  /** Per layer: the two ping-pong h buffers. */
  h: [GPUBuffer, GPUBuffer][];
  /** LSTM: every layer's c state, then (Depth-Gated LSTM) two c sequences, where cLayout says; one buffer, bound whole as `c`. */
  cAll?: GPUBuffer;
  scratch: GPUBuffer;
  seqLens: GPUBuffer;
  steps: GPUBuffer;
  dims: GPUBuffer;
  staging: GPUBuffer;
  /** Bind groups by `layer|kernel|parity`, made when a plan first needs them. */
  bindGroups: Map<string, GPUBindGroup>;
  /** The stack kernel's packed state for run() (h [L, B, Hout], then c [L, B, H]), where the model has the stack kernel. */
  stackState?: GPUBuffer;
  /** The stack kernel's bind group per state buffer (ws.stackState, or a stream's, bound in place). */
  stackGroups: WeakMap<GPUBuffer, GPUBindGroup>;
}

interface RunRequest {
  x: Float32Array | GPUBuffer;
  output: 'cpu' | 'gpu';
  /** A stream's state on the GPU: read as the initial state and left there as the final one (only Y is read back). */
  resident?: ResidentState;
  /** Steps the stream processed in earlier calls (0 for run()). */
  step0?: number;
  /** encode(): initial states in GPU buffers (run()'s layouts; absent = zeros). */
  gpuInitial?: { h?: GPUBuffer; c?: GPUBuffer };
  seqLen: number;
  batch: number;
  lens: Uint32Array;
  /** [T, B] step mask (MASKED kernels), or undefined for lengths. */
  mask?: Uint32Array;
  initialH?: Float32Array;
  initialC?: Float32Array;
}

type Resource = { buffer: GPUBuffer; offset?: number; size?: number; words?: number };

/** Where one layer's [D, B, width] state lies: a buffer and a byte offset. */
type StateSlice = { buffer: GPUBuffer; offset: number };

/** Where a recorded run leaves each layer's final h and c. */
interface FinalStates {
  h: (l: number) => StateSlice;
  c: (l: number) => StateSlice;
}

/** What a run resolves to inside the model: a stream's step reads back (or hands over) Y alone. */
type Outputs = RunResult | GpuRunResult | { Y: Float32Array | GPUBuffer; Y_h?: undefined; Y_c?: undefined };

/** A layer's pipelines in the order encodeAndRead uses them: the GEMM, then the sequence or step kernels. */
function layerCalls(plan: LayerPlan): KernelCall[] {
  return [plan.inputProj, ...(plan.sequence ? [plan.sequence] : plan.step)];
}

/** Where a layer's final h is: per-step kernels leave it in h[T & 1], the sequence kernels write h[1]. */
function finalState(plan: LayerPlan, T: number): 0 | 1 {
  return plan.sequence ? 1 : ((T & 1) as 0 | 1);
}

function isGpuBuffer(x: unknown): x is GPUBuffer {
  return (
    typeof x === 'object' && x !== null && typeof (x as GPUBuffer).mapAsync === 'function' && typeof (x as GPUBuffer).usage === 'number'
  );
}

/** A positive integer option or argument, else an InputError (spec fields are checked in spec.ts, as SpecErrors). */
function positiveArg(name: string, v: unknown): number {
  return positiveInt(name, v, InputError);
}

export interface CreateRnnOptions {
  /**
   * The batch size to compile kernels for while the model is built (default 1). Kernels are
   * specialised by batch tile (1, 2, or 4 rows for batch >= 3); another batch size compiles its
   * variant on its first run, which then takes longer.
   */
  batch?: number;
  /**
   * Forces one step variant on every layer (default 'auto': the measured defaults for the adapter,
   * see plan.ts defaultChoice): 'tiled' (one dispatch per step, the recurrent vector staged through
   * workgroup memory; 'per-step' is its older name), 'direct' (one dispatch per step, no workgroup
   * memory or barrier), 'persistent' (one dispatch per layer for the whole sequence: RNN, GRU,
   * LSTM without projection, hidden size <= 256), 'rows' (one dispatch per layer for the whole
   * sequence, one invocation per row and direction; no projection) or 'subgroup' (one dispatch
   * per step, each dot product split over a subgroup; needs the 'subgroups' feature).
   */
  stepKernels?: StepKernels;
  /** Forces the input projection kernel on every layer: 'gemm' (tiled) or 'gemv' (barrier-free); default 'auto'. */
  projection?: 'auto' | ProjectionVariant;
  /**
   * The sequence length the app will run (default: none; single steps and short sequences are
   * always prepared). createRnn compiles and warms up the kernels of runs of (seqLen, batch), so
   * that the first run costs about what later ones do.
   */
  seqLen?: number;
  /**
   * Measure the kernel variants on this device before returning (rnn.tune()): true tunes a single
   * step and, with options.seqLen, that sequence length, at options.batch; or give the shapes
   * (their batch defaults to options.batch).
   * Excludes stepKernels and projection, which force a choice instead.
   */
  tune?: boolean | TuneShape | TuneShape[];
  /** A table from rnn.tuning (e.g. stored by the app on an earlier visit): its choices are used and nothing is measured. */
  tuning?: TuningTable;
  /**
   * 'f32' (default) or 'f16': the weight matrices stored as f16 (half the bytes; products and sums
   * still in f32). Needs the 'shader-f16' feature, which requestDevice() asks for where the adapter
   * has it. Outputs then agree with the float64 reference to about 2e-3 + 1e-2·|ref|.
   */
  precision?: Precision;
  /**
   * Run the prepared kernels once on zeros before returning (default true), so that drivers that
   * compile on first use (lavapipe, SwiftShader) do it now and not in the first real run.
   */
  warmUp?: boolean;
}

/** Rejects anything that is not a GPUDevice with a message that says where one comes from. */
function checkDevice(device: unknown): asserts device is GPUDevice {
  const d = device as Partial<GPUDevice> | null | undefined;
  if (
    typeof d !== 'object' ||
    d === null ||
    typeof d.createBuffer !== 'function' ||
    typeof d.createComputePipelineAsync !== 'function' ||
    typeof d.queue !== 'object' ||
    typeof d.limits !== 'object'
  ) {
    const got = d === null ? 'null' : typeof d === 'object' ? Object.prototype.toString.call(d) : typeof d;
    throw new InputError(
      `createRnn(device, spec, weights): device must be a GPUDevice (from requestDevice(), or navigator.gpu's adapter.requestDevice()), got ${got}`,
    );
  }
}

/**
 * The library's error for a GPU failure when the device turns out to be lost: WebGPU rejects
 * pending work with a bare AbortError/OperationError, and device.lost may settle a moment later.
 */
async function lostDeviceError(device: GPUDevice, known?: GPUDeviceLostInfo): Promise<DeviceLostError | undefined> {
  const info = known ?? (await Promise.race([device.lost, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]));
  if (!info) return undefined;
  return new DeviceLostError(
    `the GPU device was lost (reason '${info.reason}'${info.message ? `: ${info.message}` : ''}); ` +
      'this model cannot run on it again: create it again with createRnn on a new device (requestDevice())',
    info.reason,
  );
}

export async function createRnn(device: GPUDevice, spec: RnnSpec, weights: RnnWeights, options: CreateRnnOptions = {}): Promise<Rnn> {
  checkDevice(device);
  const s = resolveSpec(spec);
  validateWeights(s, weights);
  const batch = options.batch === undefined ? 1 : positiveArg('options.batch', options.batch);
  const mode = options.stepKernels ?? 'auto';
  const modes = ['auto', ...STEP_VARIANTS, 'stack', 'per-step'];
  if (!modes.includes(mode))
    throw new SpecError(`options.stepKernels must be one of ${modes.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(mode)}`);
  const forcedStack = mode === 'stack';
  const forced: StepVariant | undefined = mode === 'auto' || mode === 'stack' ? undefined : mode === 'per-step' ? 'tiled' : mode;
  const why = forcedStack
    ? stackUnsupported(s, device.limits.maxComputeInvocationsPerWorkgroup)
    : forced && variantUnsupported(s, forced, device.features as ReadonlySet<string>);
  if (why) throw new SpecError(`options.stepKernels '${mode}' does not apply: ${why}; use 'auto', 'direct' or 'tiled'`);
  const projection = options.projection ?? 'auto';
  if (!['auto', ...PROJECTION_VARIANTS].includes(projection)) {
    throw new SpecError(
      `options.projection must be 'auto', ${PROJECTION_VARIANTS.map((m) => `'${m}'`).join(' or ')}, got ${JSON.stringify(projection)}`,
    );
  }
  if (forcedStack && projection !== 'auto') {
    throw new SpecError(
      `options.projection '${projection}' does not apply with stepKernels 'stack', whose kernel computes the input projection itself; leave projection on 'auto'`,
    );
  }
  const seqLen = options.seqLen === undefined ? undefined : positiveArg('options.seqLen', options.seqLen);
  const tuning =
    options.tuning === undefined
      ? undefined
      : validateTuning(options.tuning, s, device.features as ReadonlySet<string>, device.limits.maxComputeInvocationsPerWorkgroup);
  const tune =
    options.tune === true
      ? [{ seqLen: 1, batch }, ...(seqLen && seqLen > 1 ? [{ seqLen, batch }] : [])]
      : !options.tune
        ? []
        : (Array.isArray(options.tune) ? options.tune : [options.tune]).map((t) => ({ ...t, batch: t?.batch ?? batch }));
  if (tune.length && (forced || forcedStack || projection !== 'auto')) {
    throw new SpecError(
      'options.tune measures the kernel variants, options.stepKernels and options.projection force one: give one or the other',
    );
  }
  const precision = options.precision ?? 'f32';
  if (precision !== 'f32' && precision !== 'f16')
    throw new SpecError(`options.precision must be 'f32' or 'f16', got ${JSON.stringify(precision)}`);
  if (precision === 'f16' && !device.features.has('shader-f16')) {
    throw new SpecError(
      "options.precision 'f16' needs the device feature 'shader-f16': requestDevice() asks for it where the adapter has it " +
        "(pass requiredFeatures: ['shader-f16'] to your own requestDevice), or use precision 'f32'",
    );
  }
  checkModelLimits(device, s);
  try {
    return await buildModel(device, s, weights, {
      forced,
      forcedStack,
      projection,
      tuning,
      tune,
      batch,
      seqLen,
      warmUp: options.warmUp ?? true,
      precision,
    });
  } catch (e) {
    throw e instanceof WebGpuRnnError && !(e instanceof GpuError) ? e : ((await lostDeviceError(device)) ?? e);
  }
}

async function buildModel(
  device: GPUDevice,
  s: ResolvedSpec,
  weights: RnnWeights,
  o: {
    forced?: StepVariant;
    forcedStack: boolean;
    projection: 'auto' | ProjectionVariant;
    tuning?: TuningTable;
    tune: TuneShape[];
    batch: number;
    seqLen?: number;
    warmUp: boolean;
    precision: Precision;
  },
): Promise<Rnn> {
  const { forced, forcedStack, projection, tuning, tune, batch, seqLen } = o;
  const model = await withErrorScopes(device, 'createRnn', async () => {
    const m = new RnnModel(device, s, weights, {
      forced,
      forcedStack,
      projection: projection === 'auto' ? undefined : projection,
      kind: adapterKind(device),
      tuning,
      precision: o.precision,
    });
    try {
      // Single steps (streaming), short sequences and the app's own length alike, compiled in parallel.
      const lengths = [...new Set([1, 2, seqLen ?? 2])];
      await Promise.all(lengths.map((T) => m.compile(batch, false, T)));
    } catch (e) {
      m.destroy();
      throw e;
    }
    return m;
  });
  try {
    if (tune.length) await model.tune(tune);
    if (o.warmUp) await model.warmUp(batch, seqLen);
  } catch (e) {
    model.destroy();
    throw e;
  }
  return model;
}

/** Rejects, before any GPU work, a model whose kernels or weights exceed the device's limits. */
function checkModelLimits(device: GPUDevice, s: ResolvedSpec): void {
  const lim = device.limits;
  const need = (what: string, value: number, limit: keyof GPUSupportedLimits, hint: string) => {
    const have = lim[limit] as number;
    if (value > have) throw new DeviceLimitError(`${what} needs ${value} but the device's ${String(limit)} is ${have}; ${hint}`);
  };
  const kernels = new Set<KernelName>(['input_proj', 'input_gemv']);
  for (const step of STEP_VARIANTS) {
    if (variantUnsupported(s, step, device.features as ReadonlySet<string>)) continue;
    const plan = planLayer(s, 0, 1, 1, lim.maxComputeInvocationsPerWorkgroup, false, { step, projection: 'gemm' });
    for (const c of [...plan.step, ...(plan.sequence ? [plan.sequence] : [])]) kernels.add(c.kernel);
  }
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
    const hint = "use a smaller model, or request a device with larger limits (requestDevice() asks for the adapter's maximum)";
    need(`layer ${l}'s largest weight tensor (bytes)`, maxWeight, 'maxStorageBufferBindingSize', hint);
    need(`layer ${l}'s largest weight tensor (bytes)`, maxWeight, 'maxBufferSize', hint);
  }
  need(
    'the input projection grid (x workgroups)',
    Math.ceil((D * G * H) / 64),
    'maxComputeWorkgroupsPerDimension',
    'use a smaller hidden size',
  );
}

class RnnModel implements Rnn, StreamHost {
  readonly spec: ResolvedSpec;
  private readonly device: GPUDevice;
  private readonly layers: LayerBuffers[];
  /** Read-only data the cell's WGSL binds by name (cells.ts `buffers`: the Clockwork RNN's unit periods). */
  private readonly cellBuffers: Record<string, GPUBuffer>;
  /** The fused stack kernel's weights, where the model can run it (see runsStack). */
  private readonly stack?: { weights: GPUBuffer; aux: GPUBuffer };
  private readonly forced?: StepVariant;
  /** createRnn's stepKernels 'stack': every run and step runs the stack kernel. */
  private readonly forcedStack: boolean;
  private readonly forcedProjection?: ProjectionVariant;
  private readonly kind: AdapterKind;
  /** The weight matrices' storage type. Set before the weights are uploaded. */
  private readonly precision: Precision;
  private readonly adapter: string;
  private table: TuningTable;
  /** The choices tune() is measuring, which every run uses meanwhile. */
  private trial?: { layers: LayerChoice[]; stack: boolean };
  /** Set once the device is lost: every later run() rejects with DeviceLostError at once. */
  private lostInfo?: GPUDeviceLostInfo;
  private readonly streams = new Set<Stream>();
  /** Runs, steps and state reads queued or in flight (encode() refuses to share the workspace with them). */
  private pending = 0;
  private readonly owned: GPUBuffer[] = [];
  private workspace: Workspace | undefined;
  private destroyed = false;
  /** Runs share the workspace, so they execute one after another. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    device: GPUDevice,
    s: ResolvedSpec,
    weights: RnnWeights,
    o: {
      forced?: StepVariant;
      forcedStack: boolean;
      projection?: ProjectionVariant;
      kind: AdapterKind;
      tuning?: TuningTable;
      precision: Precision;
    },
  ) {
    this.device = device;
    this.spec = s;
    this.precision = o.precision;
    this.forced = o.forced;
    this.forcedStack = o.forcedStack;
    this.forcedProjection = o.projection;
    this.kind = o.kind;
    this.adapter = adapterDescription(device);
    void device.lost?.then((info) => {
      this.lostInfo = info;
    });
    // A table measured on another adapter says nothing about this one: start afresh.
    const reuse = o.tuning && o.tuning.adapter === this.adapter;
    this.table = { version: 1, adapter: this.adapter, model: modelKey(s), entries: reuse ? o.tuning!.entries.map((e) => ({ ...e })) : [] };
    this.layers = weights.map((w, l) => this.upload(l, packLayer(s, w, l)));
    this.cellBuffers = Object.fromEntries(
      Object.entries(CELLS[s.cell].buffers?.(s) ?? {}).map(([name, data]) => [name, this.ownedBuffer(name, data)]),
    );
    // The stack kernel's own packing of the weights, unless createRnn forced per-layer kernels.
    if (!this.forced && !this.forcedProjection && !stackUnsupported(s, device.limits.maxComputeInvocationsPerWorkgroup)) {
      const p = packStack(
        s,
        weights,
        weights.map((_, l) => layerInputSize(s, l)),
      );
      this.stack = { weights: this.ownedBuffer('stack|stack_w', this.weight(p.weights)), aux: this.ownedBuffer('stack|stack_aux', p.aux) };
    }
  }

  /** A storage buffer holding `data` that the model owns (destroy() frees it). */
  private ownedBuffer(label: string, data: Float32Array | Uint16Array | Uint32Array): GPUBuffer {
    const b = storageBuffer(this.device, `${this.spec.cell}|${label}`, data);
    this.owned.push(b);
    return b;
  }

  /** A weight matrix in the precision's storage type (the kernels convert on load). */
  private weight(v: Float32Array): Float32Array | Uint16Array {
    return this.precision === 'f16' ? toHalfBits(v) : v;
  }

  private upload(l: number, p: PackedLayer): LayerBuffers {
    const make = (name: string, data: Float32Array | Uint16Array) => this.ownedBuffer(`L${l}|${name}`, data);
    const weight = (v: Float32Array) => this.weight(v);
    return {
      wT: make('w_t', weight(p.wT)),
      bias: make('bias', p.bias),
      rStep: make('r_t', weight(p.rStep)),
      peephole: p.peephole && make('peephole', p.peephole),
      rbh: p.rbh && make('rbh', p.rbh),
      wrT: p.wrT && make('wr_t', weight(p.wrT)),
    };
  }

  /** 4-byte words of a weight matrix of `floats` elements in this model's precision. */
  private weightWords(floats: number): number {
    return this.precision === 'f16' ? Math.ceil(floats / 2) : floats;
  }

  /**
   * The kernels each layer runs for (seqLen, batch): a tune() trial, the tuning table, createRnn's
   * forced options, else the defaults for the adapter. A choice whose grid exceeds the device's
   * workgroup-count limit falls back to one that fits (the tiled kernels' grids are the smallest).
   */
  choices(seqLen: number, batch: number): LayerChoice[] {
    if (this.trial) return this.trial.layers;
    const s = this.spec;
    const maxInv = this.device.limits.maxComputeInvocationsPerWorkgroup;
    const maxGroups = this.device.limits.maxComputeWorkgroupsPerDimension;
    // A tuned entry of the nearest length may not fit a much longer run's grid: then the defaults.
    const tuned = lookupTuning(this.table, seqLen, batch);
    if (tuned?.layers.every((c, l) => planFits(planLayer(s, l, seqLen, batch, maxInv, false, c), maxGroups))) return tuned.layers;
    return this.layers.map((_, l) => {
      const c = this.forced ? forcedChoice(s, this.forced, seqLen, batch, this.kind) : defaultChoice(s, seqLen, batch, this.kind);
      const choice = { ...c, projection: this.forcedProjection ?? c.projection };
      if (planFits(planLayer(s, l, seqLen, batch, maxInv, false, choice), maxGroups)) return choice;
      const fallback: LayerChoice = { step: this.forced ?? 'tiled', projection: this.forcedProjection ?? 'gemm' };
      if (!planFits(planLayer(s, l, seqLen, batch, maxInv, false, fallback), maxGroups)) {
        throw new DeviceLimitError(
          `a run of seqLen ${seqLen} and batch ${batch} with the forced kernels (${describeChoices([fallback])}) needs more ` +
            `workgroups than maxComputeWorkgroupsPerDimension (${maxGroups}); split the run, or leave stepKernels/projection on 'auto'`,
        );
      }
      return fallback;
    });
  }

  kernels(seqLen: number, batch: number): KernelPlan {
    positiveArg('seqLen', seqLen);
    positiveArg('batch', batch);
    if (this.runsStack(seqLen, batch)) return { layers: [], dispatches: 1, stack: true };
    const layers = this.choices(seqLen, batch);
    return { layers, dispatches: dispatchCount(this.spec, seqLen, batch, layers) };
  }

  /**
   * Whether runs and stream steps of (seqLen, batch) run the whole stack in the fused stack kernel:
   * never where it cannot (stackUnsupported) or createRnn forced per-layer kernels; else a tune()
   * trial, stepKernels 'stack', the tuning table, or the default for the adapter (defaultStack).
   */
  private runsStack(seqLen: number, batch: number): boolean {
    if (!this.stack) return false;
    if (this.trial) return this.trial.stack;
    if (this.forcedStack) return true;
    const tuned = lookupTuning(this.table, seqLen, batch);
    if (tuned) return tuned.stack === true;
    return defaultStack(this.kind);
  }

  /** The stack kernel's call for (seqLen, batch), or undefined where the per-layer kernels run. */
  private stackCall(seqLen: number, batch: number, masked: boolean): KernelCall | undefined {
    if (!this.runsStack(seqLen, batch)) return undefined;
    return planStack(this.spec, batch, this.device.limits.maxComputeInvocationsPerWorkgroup, masked);
  }

  get tuning(): TuningTable {
    return JSON.parse(JSON.stringify(this.table)) as TuningTable;
  }

  async tune(shapes: TuneShape | TuneShape[]): Promise<TuneReport> {
    if (this.destroyed) throw new DestroyedError('tune() was called after destroy(); create a new model with createRnn()');
    const list = (Array.isArray(shapes) ? shapes : [shapes]).map((sh, i) => {
      if (typeof sh !== 'object' || sh === null) throw new InputError(`tune(): shape ${i} must be { seqLen, batch? }`);
      return {
        seqLen: positiveArg(`tune(): shapes[${i}].seqLen`, sh.seqLen),
        batch: sh.batch === undefined ? 1 : positiveArg(`tune(): shapes[${i}].batch`, sh.batch),
      };
    });
    if (this.forced || this.forcedStack || this.forcedProjection)
      throw new SpecError('tune() measures the kernel variants, but this model was created with stepKernels or projection forced');
    const started = performance.now();
    const report: TuneReport = { entries: [], trials: [], tookMs: 0 };
    const s = this.spec;
    const maxInv = this.device.limits.maxComputeInvocationsPerWorkgroup;
    const maxGroups = this.device.limits.maxComputeWorkgroupsPerDimension;
    for (const shape of list) {
      const { seqLen: T, batch: B } = shape;
      const fits = (c: LayerChoice) => this.layers.every((_, l) => planFits(planLayer(s, l, T, B, maxInv, false, c), maxGroups));
      const options = candidates(s, B, this.device.features as ReadonlySet<string>).filter(fits);
      // Every candidate's pipelines compile in parallel before anything is timed.
      const stack = this.stack && planStack(s, B, maxInv, false);
      await Promise.all([
        ...options
          .map((c) =>
            this.layers.map((_, l) =>
              layerCalls(planLayer(s, l, T, B, maxInv, false, c)).map((call) =>
                pipeline(this.device, call.kernel, call.constants, this.precision),
              ),
            ),
          )
          .flat(2),
        ...(stack ? [pipeline(this.device, stack.kernel, stack.constants, this.precision)] : []),
      ]);
      const x = new Float32Array(T * B * s.inputSize).map((_, i) => Math.sin(i));
      const once = async () => {
        const t0 = performance.now();
        await this.run(x, { seqLen: T, batch: B });
        return performance.now() - t0;
      };
      const measure = async (layers: LayerChoice[], bestMs: number, useStack = false) => {
        this.trial = { layers, stack: useStack };
        try {
          await once(); // drivers that compile on first use (lavapipe, SwiftShader) do it here
          const first = await once();
          if (first > 1.5 * bestMs) return first; // clearly behind: one run says enough
          const runs = [first, await once(), await once()].sort((a, b) => a - b);
          return runs[1];
        } finally {
          this.trial = undefined;
        }
      };
      const start = this.choices(T, B);
      const best = await searchChoices(start, options, measure, (layers, ms) =>
        report.trials.push({ shape, layers: describeChoices(layers), medianMs: ms }),
      );
      const entry: TuningEntry = { seqLen: T, batch: B, layers: best.layers, medianMs: best.medianMs };
      // Then the whole stack fused, against the best per-layer choice.
      if (stack) {
        const ms = await measure(best.layers, best.medianMs, true);
        report.trials.push({ shape, layers: 'stack', medianMs: ms });
        if (ms < best.medianMs) Object.assign(entry, { stack: true, medianMs: ms });
      }
      this.table.entries = this.table.entries.filter((e) => e.seqLen !== T || e.batch !== B);
      this.table.entries.push(entry);
      report.entries.push(entry);
    }
    report.tookMs = performance.now() - started;
    return report;
  }

  /**
   * One run on zeros of each distinct set of kernels that runs of (1, batch), (2, batch) and
   * (seqLen, batch) use (stream steps use the same): drivers that compile a pipeline on its first
   * dispatch (lavapipe, SwiftShader) do so here rather than in the app's first run, and the
   * workspace is allocated.
   */
  async warmUp(batch: number, seqLen?: number): Promise<void> {
    const seen = new Set<string>();
    for (const T of [...new Set([1, 2, seqLen ?? 2])]) {
      const stack = this.stackCall(T, batch, false);
      const calls = stack ? [stack] : this.plans(T, batch, false).flatMap((p) => layerCalls(p));
      const key = calls.map((c) => `${c.kernel}${JSON.stringify(c.constants)}`).join();
      if (seen.has(key)) continue;
      seen.add(key);
      await this.run(new Float32Array(T * batch * this.spec.inputSize), { seqLen: T, batch });
    }
  }

  private plans(seqLen: number, batch: number, masked: boolean): LayerPlan[] {
    const maxInv = this.device.limits.maxComputeInvocationsPerWorkgroup;
    const choices = this.choices(seqLen, batch);
    return this.layers.map((_, l) => planLayer(this.spec, l, seqLen, batch, maxInv, masked, choices[l]));
  }

  /**
   * Compiles (or finds cached) every pipeline a run of this batch size, masking and length needs:
   * the per-layer kernels (encode() records those), and the stack kernel where runs use it.
   * Resolves to the per-layer pipelines.
   */
  async compile(batch: number, masked = false, seqLen = 2): Promise<GPUComputePipeline[][]> {
    const stack = this.stackCall(seqLen, batch, masked);
    const [layers] = await Promise.all([
      Promise.all(
        this.plans(seqLen, batch, masked).map((plan) =>
          Promise.all(layerCalls(plan).map((c) => pipeline(this.device, c.kernel, c.constants, this.precision))),
        ),
      ),
      stack && pipeline(this.device, stack.kernel, stack.constants, this.precision),
    ]);
    return layers;
  }

  run(x: Float32Array | GPUBuffer, options: RunOptions & { output: 'gpu' }): Promise<GpuRunResult>;
  run(x: Float32Array | GPUBuffer, options: RunOptions): Promise<RunResult>;
  run(x: Float32Array | GPUBuffer, options: RunOptions): Promise<RunResult | GpuRunResult> {
    if (this.destroyed) return Promise.reject(new DestroyedError('run() was called after destroy(); create a new model with createRnn()'));
    if (this.lostInfo) return lostDeviceError(this.device, this.lostInfo).then((e) => Promise.reject(e));
    let req: RunRequest;
    try {
      req = this.validateRun(x, options);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(() => this.execute(req)) as Promise<RunResult>;
  }

  destroy(): void {
    if (this.destroyed) return;
    for (const st of [...this.streams]) st.destroy();
    this.destroyed = true;
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
    this.dropWorkspace();
  }

  get batchMajor(): boolean {
    return this.spec.batchMajor;
  }

  stream(options: StreamOptions = {}): RnnStream {
    if (this.destroyed) throw new DestroyedError('stream() was called after destroy(); create a new model with createRnn()');
    if (this.spec.directions === 2) {
      throw new SpecError(
        'stream() needs a unidirectional model: the backward direction of a bidirectional layer starts from the end of ' +
          'the sequence, which a stream has not seen yet; run() the whole sequence instead',
      );
    }
    if (typeof options !== 'object' || options === null)
      throw new InputError('stream(options): options must be an object { batch?, initialH?, initialC? }');
    const batch = options.batch === undefined ? 1 : positiveArg('stream(): options.batch', options.batch);
    const state = this.createState(batch);
    try {
      this.writeState(state, batch, options.initialH, options.initialC);
    } catch (e) {
      state.state.destroy();
      throw e;
    }
    const st = new Stream(this, batch, state);
    this.streams.add(st);
    return st;
  }

  createState(batch: number): ResidentState {
    const s = this.spec;
    return { state: storageBuffer(this.device, `${s.cell}|stream|state`, this.stateFloats(batch)), steps: 0 };
  }

  /**
   * Where a run of (T, B) keeps its LSTM c data in ws.cAll (element offsets): layer l's state
   * [D, B, H], and (Depth-Gated LSTM) the c sequence [T, B, D, H] layer l writes for the layer above,
   * alternating between two halves (layer l reads l - 1's while it writes its own).
   */
  private cLayout(T: number, B: number): { state: (l: number) => number; sequence: (l: number) => number } {
    const { directions: D, hiddenSize: H, numLayers: L } = this.spec;
    const states = L * D * B * H;
    return { state: (l) => l * D * B * H, sequence: (l) => states + (l % 2) * T * B * D * H };
  }

  /** Floats of a stream's state buffer: h [L, B, Hout], then c [L, B, H] for an LSTM. */
  private stateFloats(batch: number): number {
    const s = this.spec;
    return s.numLayers * batch * (s.outputSize + (CELLS[s.cell].cellState ? s.hiddenSize : 0));
  }

  writeState(state: ResidentState, batch: number, initialH?: Float32Array, initialC?: Float32Array): void {
    const s = this.spec;
    this.checkInitial('initialH', initialH, s.outputSize, batch);
    if (initialC !== undefined && !CELLS[s.cell].cellState)
      throw new InputError(`options.initialC applies to LSTM only; remove it for a ${CELLS[s.cell].label}`);
    this.checkInitial('initialC', initialC, s.hiddenSize, batch);
    writeArray(this.device.queue, state.state, this.packedState({ batch, lens: new Uint32Array(batch).fill(1) }, initialH, initialC));
    state.steps = 0;
  }

  /**
   * Initial states (run()'s layouts; zeros when absent) packed as the stack kernel and streams keep
   * them: h [L, B, Hout], then c [L, B, H] (unidirectional models; rows of length 0 zeroed).
   */
  private packedState(req: Pick<RunRequest, 'batch' | 'lens'>, initialH?: Float32Array, initialC?: Float32Array): Float32Array {
    const s = this.spec;
    const { batch: B } = req;
    const L = s.numLayers;
    const packed = new Float32Array(this.stateFloats(B));
    for (let l = 0; l < L; l++) {
      packed.set(this.initialState(req, initialH, l, s.outputSize), l * B * s.outputSize);
      if (CELLS[s.cell].cellState) packed.set(this.initialState(req, initialC, l, s.hiddenSize), (L * s.outputSize + l * s.hiddenSize) * B);
    }
    return packed;
  }

  runResident(
    x: Float32Array | GPUBuffer,
    seqLen: number,
    batch: number,
    state: ResidentState,
    output: 'cpu' | 'gpu',
  ): Promise<Float32Array | GPUBuffer> {
    if (this.destroyed) return Promise.reject(new DestroyedError('step() was called after the model was destroyed'));
    if (this.lostInfo) return lostDeviceError(this.device, this.lostInfo).then((e) => Promise.reject(e));
    let req: RunRequest;
    try {
      // Steps the stream processed before this call (the Clockwork RNN's module clocks), taken now: calls queue.
      req = { ...this.validateRun(x, { seqLen, batch, output }), resident: state, step0: state.steps };
      state.steps += seqLen;
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(() => this.execute(req)).then((r) => r.Y);
  }

  readState(state: ResidentState, batch: number): Promise<{ Y_h: Float32Array; Y_c?: Float32Array }> {
    const s = this.spec;
    return this.enqueue(async () => {
      const L = s.numLayers;
      const hFloats = batch * s.outputSize;
      const total = this.stateFloats(batch);
      const staging = this.device.createBuffer({
        label: `${s.cell}|stream state`,
        size: paddedSize(total * 4),
        usage: Usage.MAP_READ | Usage.COPY_DST,
      });
      try {
        const encoder = this.device.createCommandEncoder({ label: 'webgpu-rnn stream state' });
        encoder.copyBufferToBuffer(state.state, 0, staging, 0, total * 4);
        this.device.queue.submit([encoder.finish()]);
        await staging.mapAsync(MAP_MODE_READ);
        const out = new Float32Array(staging.getMappedRange().slice(0, total * 4));
        const Y_h = this.stateOut(out.subarray(0, L * hFloats), batch, s.outputSize);
        return CELLS[s.cell].cellState ? { Y_h, Y_c: this.stateOut(out.subarray(L * hFloats), batch, s.hiddenSize) } : { Y_h };
      } catch (e) {
        throw (await lostDeviceError(this.device, this.lostInfo)) ?? e;
      } finally {
        staging.destroy();
      }
    });
  }

  release(stream: Stream): void {
    this.streams.delete(stream);
  }

  /** Runs `job` after every run, step and state read queued before it (they share the workspace). */
  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    this.pending++;
    const next = this.tail.then(job).finally(() => {
      this.pending--;
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  private validateRun(x: Float32Array | GPUBuffer, o: RunOptions): RunRequest {
    const s = this.spec;
    if (typeof o !== 'object' || o === null) throw new InputError('run(x, options): options { seqLen, batch } are required');
    const T = positiveArg('options.seqLen', o.seqLen);
    const B = positiveArg('options.batch', o.batch);
    const { hiddenSize: H, outputSize: Hout, inputSize: I } = s;
    const layout = s.batchMajor ? '[B, T, I]' : '[T, B, I]';
    if (isGpuBuffer(x)) {
      if (!(x.usage & Usage.STORAGE))
        throw new InputError(
          'x is a GPUBuffer without STORAGE usage: create it with GPUBufferUsage.STORAGE (the kernels read it in place)',
        );
      if (x.size < T * B * I * 4)
        throw new InputError(
          `x is a GPUBuffer of ${x.size} bytes, expected at least seqLen·batch·inputSize·4 = ${T * B * I * 4} (f32 ${layout})`,
        );
    } else {
      if (!(x instanceof Float32Array))
        throw new InputError(`x must be a Float32Array ${layout} or a GPUBuffer, got ${Object.prototype.toString.call(x)}`);
      if (x.length !== T * B * I)
        throw new InputError(`x has ${x.length} floats, expected seqLen·batch·inputSize = ${T}·${B}·${I} = ${T * B * I} (${layout})`);
    }
    const output = o.output ?? 'cpu';
    if (output !== 'cpu' && output !== 'gpu') throw new InputError(`options.output must be 'cpu' or 'gpu', got ${JSON.stringify(output)}`);
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
    const state = (name: string, v: Float32Array | undefined, width: number) => this.checkInitial(name, v, width, B);
    let mask: Uint32Array | undefined;
    if (o.mask !== undefined) {
      if (o.sequenceLens !== undefined)
        throw new InputError('options.mask and options.sequenceLens exclude each other: masks follow TF.js, lengths follow ONNX; give one');
      if (!(o.mask instanceof Uint8Array)) throw new InputError(`options.mask must be a Uint8Array ${s.batchMajor ? '[B, T]' : '[T, B]'}`);
      if (o.mask.length !== T * B) throw new InputError(`options.mask has ${o.mask.length} entries, expected seqLen·batch = ${T * B}`);
      mask = new Uint32Array(T * B);
      for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) mask[t * B + b] = o.mask[s.batchMajor ? b * T + t : t * B + b] ? 1 : 0;
    }
    state('initialH', o.initialH, Hout);
    if (o.initialC !== undefined && !CELLS[s.cell].cellState)
      throw new InputError(`options.initialC applies to LSTM only; remove it for a ${CELLS[s.cell].label}`);
    state('initialC', o.initialC, H);
    this.checkRunLimits(T, B);
    return { x, output, seqLen: T, batch: B, lens, mask, initialH: o.initialH, initialC: o.initialC };
  }

  /** An initial state given as options.NAME: a Float32Array of run()'s state layout for B rows, or absent. */
  private checkInitial(name: string, v: Float32Array | undefined, width: number, B: number): void {
    if (v === undefined) return;
    const { numLayers: L, directions: D, batchMajor } = this.spec;
    if (!(v instanceof Float32Array)) throw new InputError(`options.${name} must be a Float32Array`);
    const shape = batchMajor ? `[B, L·D, ${width}]` : `[L·D, B, ${width}]`;
    if (v.length !== L * D * B * width)
      throw new InputError(`options.${name} has ${v.length} floats, expected ${shape} = ${L * D * B * width}`);
  }

  private checkRunLimits(T: number, B: number): void {
    const lim = this.device.limits;
    const sizes = runSizes(this.spec, T, B);
    const maxBytes = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
    for (const [name, floats] of Object.entries(sizes)) {
      if (floats * 4 > maxBytes) {
        const limit = lim.maxStorageBufferBindingSize <= lim.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
        throw new DeviceLimitError(
          `a run of seqLen ${T} and batch ${B} needs a ${name} buffer of ${floats * 4} bytes, over the device's ` +
            `${limit} (${maxBytes}); run shorter sequences or smaller batches, or request a device with larger limits`,
        );
      }
    }
    if (Math.ceil((T * B) / 64) > lim.maxComputeWorkgroupsPerDimension) {
      throw new DeviceLimitError(
        `seqLen·batch = ${T * B} rows need ${Math.ceil((T * B) / 64)} workgroups, over maxComputeWorkgroupsPerDimension (${lim.maxComputeWorkgroupsPerDimension}); split the run`,
      );
    }
  }

  private async execute(req: RunRequest): Promise<Outputs> {
    try {
      return await withErrorScopes(this.device, 'run', (closeScopes) => this.encodeAndRead(req, closeScopes));
    } catch (e) {
      if (this.destroyed) throw new DestroyedError('the model was destroyed while run() was in flight');
      throw (await lostDeviceError(this.device, this.lostInfo)) ?? e;
    }
  }

  /**
   * Everything of a run but its outputs: the queue writes of its inputs (x unless a GPUBuffer,
   * lengths or mask, dims, initial states unless they come from a stream or GPU buffers), then on
   * `encoder` the copies of GPU-held initial states, the compute pass of every layer and step, and
   * a stream's final state back to it. The final h is left in ws.h[l][final], c in ws.c[l].
   */
  private recordRun(
    encoder: GPUCommandEncoder,
    req: RunRequest,
    plans: LayerPlan[],
    pipelines: GPUComputePipeline[][],
    ws: Workspace,
    stack?: KernelCall,
  ): void {
    const s = this.spec;
    const { seqLen: T, batch: B } = req;
    const { directions: D, numLayers: L, hiddenSize: H, outputSize: Hout } = s;
    const q = this.device.queue;
    // A GPUBuffer x is bound where it is (a bind group of its own); an array is uploaded.
    const externalX = isGpuBuffer(req.x) ? req.x : undefined;
    if (!isGpuBuffer(req.x)) writeArray(q, ws.x, req.x);
    writeArray(q, ws.seqLens, req.mask ?? req.lens);
    const dims = new Uint32Array((L * 2 * UNIFORM_SLOT) / 4);
    for (let l = 0; l < L; l++) {
      const xs = inputStrides(s, l, T, B);
      const ys = outputStrides(s, l, T, B);
      dims.set([T * B, B, xs.t, xs.b], (l * 2 * UNIFORM_SLOT) / 4);
      const c = this.cLayout(T, B);
      const cSeq = (layer: number) => (s.depthGated && layer >= 0 && layer < L - 1 ? c.sequence(layer) : NO_C_SEQUENCE);
      dims.set([B, T, ys.t, ys.b, ys.d, req.step0 ?? 0, c.state(l), cSeq(l - 1), cSeq(l)], ((l * 2 + 1) * UNIFORM_SLOT) / 4);
      if (req.resident || req.gpuInitial) continue;
      writeArray(q, ws.h[l][0], this.initialState(req, req.initialH, l, Hout));
      if (CELLS[s.cell].cellState) writeArray(q, ws.cAll!, this.initialState(req, req.initialC, l, H), c.state(l) * 4);
    }
    writeArray(q, ws.dims, dims);
    if (stack) {
      // A stream's state is bound where it is; a run's initial state goes to the packed workspace state.
      const state = req.resident?.state ?? ws.stackState!;
      if (!req.resident) writeArray(q, state, this.packedState(req, req.initialH, req.initialC));
      this.recordStack(encoder, req, state, stack, pipelines[0][0], ws);
      return;
    }

    const hFloats = D * B * Hout;
    const cFloats = D * B * H;
    const cState = (l: number): StateSlice => ({ buffer: ws.cAll!, offset: this.cLayout(T, B).state(l) * 4 });
    // A stream's state enters and leaves by GPU copies: nothing uploaded, nothing read back.
    // (A unidirectional model's [D, B, width] layer state is its [B, width] block of the stream's state.)
    for (let l = 0; req.resident && l < L; l++) {
      encoder.copyBufferToBuffer(req.resident.state, l * hFloats * 4, ws.h[l][0], 0, hFloats * 4);
      if (CELLS[s.cell].cellState)
        encoder.copyBufferToBuffer(req.resident.state, (L * hFloats + l * cFloats) * 4, ws.cAll!, cState(l).offset, cFloats * 4);
    }
    if (req.gpuInitial) {
      const zero = (b: GPUBuffer, offset: number, bytes: number) => encoder.clearBuffer(b, offset, bytes);
      this.copyStates(encoder, B, Hout, req.gpuInitial.h, (l) => ({ buffer: ws.h[l][0], offset: 0 }), 'in', zero);
      if (CELLS[s.cell].cellState) this.copyStates(encoder, B, H, req.gpuInitial.c, cState, 'in', zero);
      // Rows of length 0 start (and so end) at zero, as on the array path (ORT: Y_h = Y_c = 0 there).
      for (let l = 0; l < L; l++) {
        for (let d = 0; d < D; d++) {
          for (let b = 0; b < B; b++) {
            if (req.lens[b] !== 0) continue;
            encoder.clearBuffer(ws.h[l][0], (d * B + b) * Hout * 4, Hout * 4);
            if (CELLS[s.cell].cellState) encoder.clearBuffer(ws.cAll!, cState(l).offset + (d * B + b) * H * 4, H * 4);
          }
        }
      }
    }
    const pass = encoder.beginComputePass({ label: 'webgpu-rnn layers' });
    for (let l = 0; l < L; l++) {
      const dispatch = (call: KernelCall) => pass.dispatchWorkgroups(call.grid[0], call.grid[1], call.grid[2]);
      pass.setPipeline(pipelines[l][0]);
      pass.setBindGroup(
        0,
        l === 0 && externalX
          ? this.makeBindGroup(ws, 0, 0, plans[0].inputProj.kernel, { x: { buffer: externalX, words: T * B * s.inputSize } })
          : this.bindGroup(ws, l, 0, plans[l].inputProj.kernel),
      );
      dispatch(plans[l].inputProj);
      const sequence = plans[l].sequence;
      if (sequence) {
        // h_prev = h[0] (the initial state), h_next = h[1] (the final state).
        pass.setPipeline(pipelines[l][1]);
        pass.setBindGroup(0, this.bindGroup(ws, l, 0, sequence.kernel), [0]);
        dispatch(sequence);
      }
      const stepGroups = plans[l].step.map((call) => [0, 1].map((parity) => this.bindGroup(ws, l, parity, call.kernel)));
      for (let t = 0; t < T; t++) {
        plans[l].step.forEach((call, i) => {
          pass.setPipeline(pipelines[l][1 + i]);
          pass.setBindGroup(0, stepGroups[i][t & 1], [t * UNIFORM_SLOT]);
          dispatch(call);
        });
      }
    }
    pass.end();
    for (let l = 0; req.resident && l < L; l++) {
      encoder.copyBufferToBuffer(ws.h[l][finalState(plans[l], T)], 0, req.resident.state, l * hFloats * 4, hFloats * 4);
      if (CELLS[s.cell].cellState)
        encoder.copyBufferToBuffer(ws.cAll!, cState(l).offset, req.resident.state, (L * hFloats + l * cFloats) * 4, cFloats * 4);
    }
  }

  /**
   * A run or a stream's step in one dispatch of the stack kernel, which reads and writes the packed
   * `state` in place and writes the last layer's Y into ws.y (the last layer's dims slot holds its
   * strides).
   */
  private recordStack(
    encoder: GPUCommandEncoder,
    req: RunRequest,
    state: GPUBuffer,
    call: KernelCall,
    stackPipeline: GPUComputePipeline,
    ws: Workspace,
  ): void {
    const s = this.spec;
    const stack = this.stack!;
    const bind = (x: GPUBuffer) =>
      this.makeBindGroup(ws, s.numLayers - 1, 0, 'stack_step', {
        x: { buffer: x, words: req.seqLen * req.batch * s.inputSize },
        stack_w: { buffer: stack.weights, words: stack.weights.size / 4 },
        stack_aux: { buffer: stack.aux, words: stack.aux.size / 4 },
        state: { buffer: state, words: this.stateFloats(req.batch) },
      });
    let group: GPUBindGroup;
    if (isGpuBuffer(req.x)) {
      group = bind(req.x);
    } else {
      group = ws.stackGroups.get(state) ?? bind(ws.x);
      ws.stackGroups.set(state, group);
    }
    const pass = encoder.beginComputePass({ label: 'webgpu-rnn stack' });
    pass.setPipeline(stackPipeline);
    pass.setBindGroup(0, group, [0]);
    pass.dispatchWorkgroups(call.grid[0], call.grid[1], call.grid[2]);
    pass.end();
  }

  /**
   * Copies states between a buffer in run()'s layout ([L·D, B, width], or [B, L·D, width]
   * batch-major) and each layer's [D, B, width] state (`layer(l)`, in the workspace): 'out' into
   * `outer`, 'in' from it (or, when `outer` is absent, clears the layer states with `zero`).
   */
  private copyStates(
    encoder: GPUCommandEncoder,
    B: number,
    width: number,
    outer: GPUBuffer | undefined,
    layer: (l: number) => StateSlice,
    direction: 'in' | 'out',
    zero?: (b: GPUBuffer, offset: number, bytes: number) => void,
  ): void {
    const { numLayers: L, directions: D, batchMajor } = this.spec;
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

  private async encodeAndRead(req: RunRequest, closeScopes: () => void): Promise<Outputs> {
    const s = this.spec;
    const { seqLen: T, batch: B } = req;
    const { directions: D, numLayers: L, hiddenSize: H, outputSize: Hout } = s;
    const masked = req.mask !== undefined;
    // The whole stack in one dispatch, or the per-layer plans.
    const stack = this.stackCall(T, B, masked);
    const plans = stack ? [] : this.plans(T, B, masked);
    const pipelines = stack
      ? [[await pipeline(this.device, stack.kernel, stack.constants, this.precision)]]
      : await this.compile(B, masked, T);
    if (this.destroyed) throw new DestroyedError('the model was destroyed while run() was in flight');
    const ws = this.ensureWorkspace(T, B);
    const q = this.device.queue;
    const yFloats = T * D * B * Hout;
    const hFloats = D * B * Hout;
    const cFloats = D * B * H;
    const encoder = this.device.createCommandEncoder({ label: 'webgpu-rnn run' });
    this.recordRun(encoder, req, plans, pipelines, ws, stack);
    const final = this.finalStates(ws, stack ? undefined : plans, T, B);
    if (req.output === 'gpu') {
      const out = this.copyOutputs(encoder, ws, final, req, yFloats);
      q.submit([encoder.finish()]);
      closeScopes();
      return out;
    }
    encoder.copyBufferToBuffer(ws.y, 0, ws.staging, 0, yFloats * 4);
    for (let l = 0; !req.resident && l < L; l++) {
      const h = final.h(l);
      encoder.copyBufferToBuffer(h.buffer, h.offset, ws.staging, (yFloats + l * hFloats) * 4, hFloats * 4);
      if (!CELLS[s.cell].cellState) continue;
      const c = final.c(l);
      encoder.copyBufferToBuffer(c.buffer, c.offset, ws.staging, (yFloats + L * hFloats + l * cFloats) * 4, cFloats * 4);
    }
    q.submit([encoder.finish()]);
    closeScopes();

    const total = req.resident ? yFloats : yFloats + L * hFloats + (CELLS[s.cell].cellState ? L * cFloats : 0);
    await ws.staging.mapAsync(MAP_MODE_READ, 0, paddedSize(total * 4));
    const out = new Float32Array(ws.staging.getMappedRange(0, paddedSize(total * 4)).slice(0, total * 4));
    ws.staging.unmap();
    const Y = out.slice(0, yFloats);
    if (req.resident) return { Y };
    const Y_h = this.stateOut(out.subarray(yFloats, yFloats + L * hFloats), B, Hout);
    const Y_c = CELLS[s.cell].cellState ? this.stateOut(out.subarray(yFloats + L * hFloats, total), B, H) : undefined;
    return Y_c ? { Y, Y_h, Y_c } : { Y, Y_h };
  }

  /**
   * options.output 'gpu': new caller-owned buffers holding Y, and (unless the run is a stream's step)
   * Y_h and Y_c in run()'s layouts, filled by copies recorded on `encoder`. Batch-major states are
   * transposed by one copy per (layer, direction, row).
   */
  private copyOutputs(encoder: GPUCommandEncoder, ws: Workspace, final: FinalStates, req: RunRequest, yFloats: number): Outputs {
    const s = this.spec;
    const { directions: D, numLayers: L } = s;
    const make = (label: string, floats: number) =>
      this.device.createBuffer({
        label: `${s.cell}|${label}`,
        size: paddedSize(floats * 4),
        usage: Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST,
      });
    const Y = make('Y', yFloats);
    if (req.resident) {
      this.recordOutputs(encoder, ws, final, req, { Y });
      return { Y };
    }
    const Y_h = make('Y_h', L * D * req.batch * s.outputSize);
    const Y_c = CELLS[s.cell].cellState ? make('Y_c', L * D * req.batch * s.hiddenSize) : undefined;
    this.recordOutputs(encoder, ws, final, req, { Y, Y_h, Y_c });
    return Y_c ? { Y, Y_h, Y_c } : { Y, Y_h };
  }

  /** Copies a recorded run's Y (and the final states, where targets are given) into `targets`. */
  private recordOutputs(
    encoder: GPUCommandEncoder,
    ws: Workspace,
    final: FinalStates,
    req: RunRequest,
    targets: { Y: GPUBuffer; Y_h?: GPUBuffer; Y_c?: GPUBuffer },
  ): void {
    const s = this.spec;
    const { seqLen: T, batch: B } = req;
    encoder.copyBufferToBuffer(ws.y, 0, targets.Y, 0, T * s.directions * B * s.outputSize * 4);
    if (targets.Y_h) this.copyStates(encoder, B, s.outputSize, targets.Y_h, final.h, 'out');
    if (targets.Y_c) this.copyStates(encoder, B, s.hiddenSize, targets.Y_c, final.c, 'out');
  }

  /**
   * Where a run recorded with these per-layer plans leaves each layer's final state (h in one of
   * its ping-pong buffers, c in ws.c), or with `plans` undefined, the stack kernel (its packed
   * state buffer, h [L, B, Hout] then c [L, B, H]).
   */
  private finalStates(ws: Workspace, plans: LayerPlan[] | undefined, T: number, B: number): FinalStates {
    const { numLayers: L, outputSize: Hout, hiddenSize: H } = this.spec;
    if (!plans) {
      const buffer = ws.stackState!;
      return { h: (l) => ({ buffer, offset: l * B * Hout * 4 }), c: (l) => ({ buffer, offset: (L * Hout + l * H) * B * 4 }) };
    }
    return {
      h: (l) => ({ buffer: ws.h[l][finalState(plans[l], T)], offset: 0 }),
      c: (l) => ({ buffer: ws.cAll!, offset: this.cLayout(T, B).state(l) * 4 }),
    };
  }

  encode(encoder: GPUCommandEncoder, io: EncodeIO): void {
    if (this.destroyed) throw new DestroyedError('encode() was called after destroy(); create a new model with createRnn()');
    if (this.lostInfo)
      throw new DeviceLostError(
        `the GPU device was lost (reason '${this.lostInfo.reason}'); create the model again on a new device`,
        this.lostInfo.reason,
      );
    if (this.pending > 0)
      throw new InputError(
        'encode() while a run(), step() or state() of this model is in flight: await it first (they share the workspace)',
      );
    if (typeof io !== 'object' || io === null) throw new InputError('encode(encoder, io): io { x, seqLen, batch, Y, … } is required');
    const s = this.spec;
    const req = this.validateRun(io.x, { seqLen: io.seqLen, batch: io.batch, sequenceLens: io.sequenceLens });
    if (!isGpuBuffer(io.x)) throw new InputError('encode(): io.x must be a GPUBuffer (STORAGE usage)');
    const { seqLen: T, batch: B } = req;
    const { directions: D, numLayers: L } = s;
    const need = (name: string, b: GPUBuffer | undefined, floats: number, usage: number, usageName: string) => {
      if (b === undefined) return;
      if (!isGpuBuffer(b)) throw new InputError(`encode(): io.${name} must be a GPUBuffer`);
      if (!(b.usage & usage)) throw new InputError(`encode(): io.${name} needs ${usageName} usage`);
      if (b.size < floats * 4) throw new InputError(`encode(): io.${name} has ${b.size} bytes, needs ${floats * 4}`);
    };
    if (io.Y === undefined) throw new InputError('encode(): io.Y (a GPUBuffer for the output sequence) is required');
    need('Y', io.Y, T * D * B * s.outputSize, Usage.COPY_DST, 'COPY_DST');
    need('Y_h', io.Y_h, L * D * B * s.outputSize, Usage.COPY_DST, 'COPY_DST');
    need('initialH', io.initialH, L * D * B * s.outputSize, Usage.COPY_SRC, 'COPY_SRC');
    if (!CELLS[s.cell].cellState && (io.Y_c || io.initialC))
      throw new InputError(`encode(): io.Y_c and io.initialC apply to LSTM only, not to a ${CELLS[s.cell].label}`);
    need('Y_c', io.Y_c, L * D * B * s.hiddenSize, Usage.COPY_DST, 'COPY_DST');
    need('initialC', io.initialC, L * D * B * s.hiddenSize, Usage.COPY_SRC, 'COPY_SRC');
    const plans = this.plans(T, B, false);
    const pipelines = plans.map((p) => layerCalls(p).map((c) => readyPipeline(this.device, c.kernel, c.constants, this.precision)));
    if (pipelines.some((layer) => layer.some((p) => p === undefined))) {
      throw new InputError(
        `encode(): the kernels of seqLen ${T}, batch ${B} are not compiled yet: pass { seqLen: ${T}, batch: ${B} } to createRnn, or await one run() of that shape first`,
      );
    }
    const ws = this.ensureWorkspace(T, B);
    this.recordRun(encoder, { ...req, gpuInitial: { h: io.initialH, c: io.initialC } }, plans, pipelines as GPUComputePipeline[][], ws);
    this.recordOutputs(encoder, ws, this.finalStates(ws, plans, T, B), req, { Y: io.Y, Y_h: io.Y_h, Y_c: io.Y_c });
  }

  /** Layer l's initial state as [D, B, width], with rows of length 0 zeroed (ORT: Y_h = Y_c = 0 there). */
  private initialState(req: Pick<RunRequest, 'batch' | 'lens'>, v: Float32Array | undefined, l: number, width: number): Float32Array {
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
    const stagingFloats = sizes.sequence + L * sizes.h + (CELLS[s.cell].cellState ? L * sizes.c : 0);
    const ws: Workspace = {
      seqLen,
      batch,
      buffers,
      steps,
      x: storage('x', sizes.x),
      xproj: storage('xproj', sizes.xproj),
      sequences: Array.from({ length: Math.min(L - 1, 2) }, (_, i) => storage(`sequence${i}`, sizes.sequence)),
      y: storage('y', sizes.sequence),
      h: Array.from({ length: L }, (_, l) => [storage(`L${l}|h0`, sizes.h), storage(`L${l}|h1`, sizes.h)] as [GPUBuffer, GPUBuffer]),
      cAll: CELLS[s.cell].cellState ? storage('c', sizes.cAll) : undefined,
      scratch: storage('scratch', sizes.scratch),
      seqLens: storage('seq_lens', seqLen * batch), // [B] lengths or a [T, B] mask
      dims: other('dims', L * 2 * UNIFORM_SLOT, Usage.UNIFORM | Usage.COPY_DST),
      staging: other('staging', stagingFloats * 4, Usage.MAP_READ | Usage.COPY_DST),
      bindGroups: new Map(),
      stackState: this.stack && storage('stack_state', this.stateFloats(batch)),
      stackGroups: new WeakMap(),
    };
    this.workspace = ws;
    return ws;
  }

  /**
   * The buffer behind each WGSL binding name of `kernel` in layer l; `parity` selects which h buffer
   * is h_prev. `words` is what the kernel indexes (4-byte words), checked against the buffer's size.
   */
  private resources(ws: Workspace, l: number, parity: number, kernel: KernelName): Record<string, Resource> {
    const s = this.spec;
    const w = this.layers[l];
    const sizes = runSizes(s, ws.seqLen, ws.batch);
    const { directions: D, hiddenSize: H, outputSize: Hout } = s;
    const I = l === 0 ? s.inputSize : D * Hout;
    const res: Record<string, Resource> = {
      step: { buffer: ws.steps, offset: 0, size: UNIFORM_BINDING },
      // Slot 0 of a layer holds the input projection's dims, slot 1 the step kernels'.
      dims: {
        buffer: ws.dims,
        offset: (l * 2 + (kernel === 'input_proj' || kernel === 'input_gemv' ? 0 : 1)) * UNIFORM_SLOT,
        size: UNIFORM_BINDING,
      },
      seq_lens: { buffer: ws.seqLens, words: ws.seqLen * ws.batch },
      x: { buffer: l === 0 ? ws.x : ws.sequences[(l - 1) % 2], words: ws.seqLen * ws.batch * I },
      w_t: { buffer: w.wT, words: this.weightWords(I * paddedColumns(D * projectionGates(s, l) * H)) },
      bias: { buffer: w.bias, words: D * projectionGates(s, l) * H },
      xproj: { buffer: ws.xproj, words: sizes.xproj },
      r_t: { buffer: w.rStep, words: this.weightWords(D * Hout * H * recurrentLanes(s)) },
      h_prev: { buffer: ws.h[l][parity], words: sizes.h },
      h_next: { buffer: ws.h[l][1 - parity], words: sizes.h },
      y: { buffer: l === s.numLayers - 1 ? ws.y : ws.sequences[l % 2], words: sizes.sequence },
      m: { buffer: ws.scratch, words: sizes.c },
      gate_tmp: { buffer: ws.scratch, words: sizes.scratch },
    };
    if (CELLS[s.cell].cellState) {
      res.c = { buffer: ws.cAll!, words: sizes.cAll };
      res.peephole = { buffer: w.peephole!, words: D * (s.depthGated ? 5 : 3) * H };
      // With a projection, the cell's h_next is the unprojected m that the projection kernel reads.
      if (s.projected && PROJECTED_CELL_KERNELS.has(kernel)) res.h_next = { buffer: ws.scratch, words: sizes.c };
    }
    if (w.rbh) res.rbh = { buffer: w.rbh, words: D * H };
    for (const [name, buffer] of Object.entries(this.cellBuffers)) res[name] = { buffer, words: buffer.size / 4 };
    if (w.wrT) res.wr_t = { buffer: w.wrT, words: this.weightWords(D * H * Hout) };
    return res;
  }

  /** Layer l's bind group for `kernel` (h_prev = h[parity]), made once per workspace. */
  private bindGroup(ws: Workspace, l: number, parity: number, kernel: KernelName): GPUBindGroup {
    const key = `${l}|${kernel}|${parity}`;
    let group = ws.bindGroups.get(key);
    if (!group) {
      group = this.makeBindGroup(ws, l, parity, kernel);
      ws.bindGroups.set(key, group);
    }
    return group;
  }

  private makeBindGroup(
    ws: Workspace,
    l: number,
    parity: number,
    kernel: KernelName,
    replace: Record<string, Resource> = {},
  ): GPUBindGroup {
    const info = kernelInfo(kernel, this.precision);
    const res = { ...this.resources(ws, l, parity, kernel), ...replace };
    const bound = Object.fromEntries(info.bindings.map((b) => [b.name, res[b.name]]));
    checkBindings(
      info,
      Object.fromEntries(
        info.bindings
          .filter((b) => bound[b.name])
          .map((b) => {
            const r = bound[b.name];
            return [b.name, { size: r.size ?? r.buffer.size - (r.offset ?? 0), words: r.words }];
          }),
      ),
      `layer ${l}`,
    );
    return this.device.createBindGroup({
      label: `${kernel}|L${l}|p${parity}`,
      layout: bindGroupLayout(this.device, kernel, this.precision),
      entries: info.bindings.map((b) => ({
        binding: b.binding,
        resource: { buffer: bound[b.name].buffer, offset: bound[b.name].offset ?? 0, size: bound[b.name].size },
      })),
    });
  }
}
