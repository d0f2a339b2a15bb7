// The model object: owns the weight buffers and a grow-only workspace, encodes a whole run
// (every layer, every timestep, both directions) into one command buffer, submits once and reads
// back once.
import { DestroyedError, DeviceLimitError, DeviceLostError, GpuError, InputError, SpecError, WebGpuRnnError } from '../core/errors.js';
import { MAP_MODE_READ, paddedSize, storageBuffer, Usage, withErrorScopes, writeArray } from '../gpu/helpers.js';
import { kernelInfo, pipeline, readyPipeline, type KernelName, type Precision } from '../kernels/kernels.js';
import { toHalfBits } from '../core/numbers.js';
import { packLayer, packStack, type PackedLayer } from '../model/pack.js';
import { adapterDescription, adapterKind } from '../gpu/adapter.js';
import { CELLS } from '../model/cells.js';
import { checkInitial, isGpuBuffer, packedState, positiveArg, stateFloats, stateOut, validateRun, type RunRequest } from './run-io.js';
import { Workspaces, type LayerBuffers, type Workspace } from './workspace.js';
import { Recorder, type CompiledCall, type CompiledLayer, type FinalStates } from './record.js';
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
} from '../plan/tuning.js';
import {
  defaultChoice,
  defaultStack,
  dispatchCount,
  forcedChoice,
  planFits,
  planLayer,
  planStack,
  layerCalls,
  PROJECTION_VARIANTS,
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
} from '../plan/plan.js';
import { layerInputSize, resolveSpec, validateWeights, type ResolvedSpec, type RnnSpec, type RnnWeights } from '../model/spec.js';

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

/** What a run resolves to inside the model: a stream's step reads back (or hands over) Y alone. */
type Outputs = RunResult | GpuRunResult | { Y: Float32Array | GPUBuffer; Y_h?: undefined; Y_c?: undefined };

/** A plan's calls with their pipelines. */
async function compileLayer(plan: LayerPlan, withPipeline: (call: KernelCall) => Promise<CompiledCall>): Promise<CompiledLayer> {
  const [inputProj, sequence, ...step] = await Promise.all([
    withPipeline(plan.inputProj),
    plan.sequence ? withPipeline(plan.sequence) : undefined,
    ...plan.step.map(withPipeline),
  ]);
  return { ...plan, inputProj, step: step as CompiledCall[], sequence };
}

export interface CreateRnnOptions {
  /**
   * The batch size to compile kernels for while the model is built (default 1). Kernels are
   * specialised by batch tile (1, 2, or 4 rows for batch >= 3) and by the batch rounded up to a
   * power of two (their state arrays' length); another batch size compiles its variant on its
   * first run, which then takes longer.
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

/** What createRnn decided a model runs with (RnnModel's options). */
interface ModelOptions {
  forced?: StepVariant;
  forcedStack: boolean;
  /** A forced projection kernel; undefined = 'auto'. */
  projection?: ProjectionVariant;
  kind: AdapterKind;
  tuning?: TuningTable;
  precision: Precision;
}

async function buildModel(
  device: GPUDevice,
  s: ResolvedSpec,
  weights: RnnWeights,
  o: Omit<ModelOptions, 'kind' | 'projection'> & {
    projection: 'auto' | ProjectionVariant;
    tune: TuneShape[];
    batch: number;
    seqLen?: number;
    warmUp: boolean;
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
    const plan = planLayer(
      s,
      0,
      1,
      1,
      lim.maxComputeInvocationsPerWorkgroup,
      false,
      { step, projection: 'gemm' },
      device.features.has('subgroups'),
    );
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
  private readonly workspaces: Workspaces;
  private readonly recorder: Recorder;
  private destroyed = false;
  /** Runs share the workspace, so they execute one after another. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(device: GPUDevice, s: ResolvedSpec, weights: RnnWeights, o: ModelOptions) {
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
    const buffers = {
      device,
      spec: s,
      precision: this.precision,
      layers: this.layers,
      cellBuffers: this.cellBuffers,
      stack: this.stack,
    };
    this.workspaces = new Workspaces(buffers);
    this.recorder = new Recorder(buffers, this.workspaces);
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
    const sg = this.subgroups;
    // A tuned entry of the nearest length may not fit a much longer run's grid: then the defaults.
    const tuned = lookupTuning(this.table, seqLen, batch);
    if (tuned?.layers.every((c, l) => planFits(planLayer(s, l, seqLen, batch, maxInv, false, c, sg), maxGroups))) return tuned.layers;
    return this.layers.map((_, l) => {
      const c = this.forced ? forcedChoice(s, this.forced, seqLen, batch, this.kind) : defaultChoice(s, seqLen, batch, this.kind);
      const choice = { ...c, projection: this.forcedProjection ?? c.projection };
      if (planFits(planLayer(s, l, seqLen, batch, maxInv, false, choice, sg), maxGroups)) return choice;
      const fallback: LayerChoice = { step: this.forced ?? 'tiled', projection: this.forcedProjection ?? 'gemm' };
      if (!planFits(planLayer(s, l, seqLen, batch, maxInv, false, fallback, sg), maxGroups)) {
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
    const sg = this.subgroups;
    for (const shape of list) {
      const { seqLen: T, batch: B } = shape;
      const fits = (c: LayerChoice) => this.layers.every((_, l) => planFits(planLayer(s, l, T, B, maxInv, false, c, sg), maxGroups));
      const options = candidates(s, B, this.device.features as ReadonlySet<string>).filter(fits);
      // Every candidate's pipelines compile in parallel before anything is timed.
      const stack = this.stack && planStack(s, B, maxInv, false);
      await Promise.all([
        ...options
          .map((c) =>
            this.layers.map((_, l) =>
              layerCalls(planLayer(s, l, T, B, maxInv, false, c, sg)).map((call) =>
                pipeline(this.device, call.kernel, call.constants, call.lengths, this.precision),
              ),
            ),
          )
          .flat(2),
        ...(stack ? [pipeline(this.device, stack.kernel, stack.constants, stack.lengths, this.precision)] : []),
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

  /** Whether the device has the 'subgroups' feature, which some kernel variants need (plan.ts). */
  private get subgroups(): boolean {
    return this.device.features.has('subgroups');
  }

  private plans(seqLen: number, batch: number, masked: boolean): LayerPlan[] {
    const maxInv = this.device.limits.maxComputeInvocationsPerWorkgroup;
    const choices = this.choices(seqLen, batch);
    return this.layers.map((_, l) => planLayer(this.spec, l, seqLen, batch, maxInv, masked, choices[l], this.subgroups));
  }

  /**
   * Compiles (or finds cached) every pipeline a run of this batch size, masking and length needs:
   * the per-layer kernels (encode() records those), and the stack kernel where runs use it.
   * Resolves to the layers' calls with their pipelines, and the stack kernel's call where runs use it.
   */
  async compile(batch: number, masked = false, seqLen = 2): Promise<{ layers: CompiledLayer[]; stack?: CompiledCall }> {
    const withPipeline = async (call: KernelCall): Promise<CompiledCall> => ({
      ...call,
      pipeline: await pipeline(this.device, call.kernel, call.constants, call.lengths, this.precision),
    });
    const stackCall = this.stackCall(seqLen, batch, masked);
    const [layers, stack] = await Promise.all([
      Promise.all(this.plans(seqLen, batch, masked).map((plan) => compileLayer(plan, withPipeline))),
      stackCall && withPipeline(stackCall),
    ]);
    return { layers, stack };
  }

  run(x: Float32Array | GPUBuffer, options: RunOptions & { output: 'gpu' }): Promise<GpuRunResult>;
  run(x: Float32Array | GPUBuffer, options: RunOptions): Promise<RunResult>;
  run(x: Float32Array | GPUBuffer, options: RunOptions): Promise<RunResult | GpuRunResult> {
    if (this.destroyed) return Promise.reject(new DestroyedError('run() was called after destroy(); create a new model with createRnn()'));
    if (this.lostInfo) return lostDeviceError(this.device, this.lostInfo).then((e) => Promise.reject(e));
    let req: RunRequest;
    try {
      req = validateRun(this.spec, this.device.limits, x, options);
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
    this.workspaces.drop();
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
    return { state: storageBuffer(this.device, `${s.cell}|stream|state`, stateFloats(this.spec, batch)), steps: 0 };
  }

  writeState(state: ResidentState, batch: number, initialH?: Float32Array, initialC?: Float32Array): void {
    const s = this.spec;
    checkInitial(this.spec, 'initialH', initialH, s.outputSize, batch);
    if (initialC !== undefined && !CELLS[s.cell].cellState)
      throw new InputError(`options.initialC applies to LSTM only; remove it for a ${CELLS[s.cell].label}`);
    checkInitial(this.spec, 'initialC', initialC, s.hiddenSize, batch);
    writeArray(this.device.queue, state.state, packedState(this.spec, { batch, lens: new Uint32Array(batch).fill(1) }, initialH, initialC));
    state.steps = 0;
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
      req = { ...validateRun(this.spec, this.device.limits, x, { seqLen, batch, output }), resident: state, step0: state.steps };
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
      const total = stateFloats(this.spec, batch);
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
        const Y_h = stateOut(this.spec, out.subarray(0, L * hFloats), batch, s.outputSize);
        return CELLS[s.cell].cellState ? { Y_h, Y_c: stateOut(this.spec, out.subarray(L * hFloats), batch, s.hiddenSize) } : { Y_h };
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

  private async execute(req: RunRequest): Promise<Outputs> {
    try {
      return await withErrorScopes(this.device, 'run', (closeScopes) => this.encodeAndRead(req, closeScopes));
    } catch (e) {
      if (this.destroyed) throw new DestroyedError('the model was destroyed while run() was in flight');
      throw (await lostDeviceError(this.device, this.lostInfo)) ?? e;
    }
  }

  private async encodeAndRead(req: RunRequest, closeScopes: () => void): Promise<Outputs> {
    const s = this.spec;
    const { seqLen: T, batch: B } = req;
    const { directions: D, numLayers: L, hiddenSize: H, outputSize: Hout } = s;
    const masked = req.mask !== undefined;
    // The whole stack in one dispatch, or the per-layer calls.
    const { layers, stack } = await this.compile(B, masked, T);
    if (this.destroyed) throw new DestroyedError('the model was destroyed while run() was in flight');
    const ws = this.workspaces.ensure(T, B);
    const q = this.device.queue;
    const yFloats = T * D * B * Hout;
    const hFloats = D * B * Hout;
    const cFloats = D * B * H;
    const encoder = this.device.createCommandEncoder({ label: 'webgpu-rnn run' });
    this.recorder.run(encoder, req, layers, ws, stack);
    const final = this.recorder.finalStates(ws, stack ? undefined : layers, T, B);
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
    const Y_h = stateOut(this.spec, out.subarray(yFloats, yFloats + L * hFloats), B, Hout);
    const Y_c = CELLS[s.cell].cellState ? stateOut(this.spec, out.subarray(yFloats + L * hFloats, total), B, H) : undefined;
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
      this.recorder.outputs(encoder, ws, final, req, { Y });
      return { Y };
    }
    const Y_h = make('Y_h', L * D * req.batch * s.outputSize);
    const Y_c = CELLS[s.cell].cellState ? make('Y_c', L * D * req.batch * s.hiddenSize) : undefined;
    this.recorder.outputs(encoder, ws, final, req, { Y, Y_h, Y_c });
    return Y_c ? { Y, Y_h, Y_c } : { Y, Y_h };
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
    const req = validateRun(this.spec, this.device.limits, io.x, { seqLen: io.seqLen, batch: io.batch, sequenceLens: io.sequenceLens });
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
    // No awaiting here: the pipelines must be ready (compiled by createRnn or an earlier run).
    let missing = false;
    const ready = (call: KernelCall): CompiledCall => {
      const p = readyPipeline(this.device, call.kernel, call.constants, call.lengths, this.precision);
      missing ||= p === undefined;
      return { ...call, pipeline: p! };
    };
    const layers = this.plans(T, B, false).map((plan) => ({
      ...plan,
      inputProj: ready(plan.inputProj),
      step: plan.step.map(ready),
      sequence: plan.sequence && ready(plan.sequence),
    }));
    if (missing) {
      throw new InputError(
        `encode(): the kernels of seqLen ${T}, batch ${B} are not compiled yet: pass { seqLen: ${T}, batch: ${B} } to createRnn, or await one run() of that shape first`,
      );
    }
    const ws = this.workspaces.ensure(T, B);
    this.recorder.run(encoder, { ...req, gpuInitial: { h: io.initialH, c: io.initialC } }, layers, ws);
    this.recorder.outputs(encoder, ws, this.recorder.finalStates(ws, layers, T, B), req, { Y: io.Y, Y_h: io.Y_h, Y_c: io.Y_c });
  }

  /** Layer l's initial state as [D, B, width], with rows of length 0 zeroed (ORT: Y_h = Y_c = 0 there). */
}
