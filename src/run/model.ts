// The model object: owns the weight buffers and a grow-only workspace, and runs calls one after
// another (they share the workspace). A run records every layer, every timestep and both directions
// into one command buffer, submits once and reads back once. Kernel choice is plan/choose.ts's,
// recording run/record.ts's, readback run/outputs.ts's, tuning run/tune.ts's.
import { DestroyedError, DeviceLostError, InputError, SpecError } from '../core/errors.js';
import { deviceCaps, type DeviceCaps } from '../gpu/adapter.js';
import { storageBuffer, withErrorScopes, writeArray } from '../gpu/helpers.js';
import type { Precision, ResolvedSpec, RnnWeights } from '../model/types.js';
import { chooseLayers, chooseStack, type ChoiceSources } from '../plan/choose.js';
import { dispatchCount, layerCalls, planLayer, type KernelCall, type LayerPlan } from '../plan/layer.js';
import { stateFloats } from '../plan/layout.js';
import { checkRunLimits, MAX_DISPATCHES_PER_SUBMIT } from '../plan/limits.js';
import { planSegments, segmentSteps, sequenceChunks } from '../plan/segments.js';
import { planStack, stackUnsupported } from '../plan/stack.js';
import { modelKey, type TuneReport, type TuneShape, type TuningEntry, type TuningTable } from '../plan/tuning.js';
import type { LayerChoice, ProjectionVariant, StepVariant } from '../plan/variants.js';
import type { EncodeIO, GpuRunResult, KernelPlan, Rnn, RunOptions, RunResult } from './api.js';
import { compileCall, compileLayer, readyLayers, type CompiledCall, type CompiledLayer } from './compile.js';
import { lostDeviceError } from './device-lost.js';
import { gpuOutputs, readPackedState, readStaged, stageOutputs, type Outputs } from './outputs.js';
import { Recorder, recordAll } from './record.js';
import {
  checkCellStateGiven,
  checkInitial,
  packedState,
  positiveArg,
  throwIfAborted,
  validateEncode,
  validateRun,
  type RunRequest,
} from './run-io.js';
import { runSegments, type SegmentHost } from './segments.js';
import { Stream, type ResidentState, type RnnStream, type StreamHost, type StreamOptions } from './stream.js';
import { tuneShapes } from './tune.js';
import { uploadWeights } from './weights.js';
import { Workspaces, type Workspace } from './workspace.js';

/** What createRnn decided a model runs with. */
export interface ModelOptions {
  forced?: StepVariant;
  forcedStack: boolean;
  /** A forced projection kernel; undefined = 'auto'. */
  projection?: ProjectionVariant;
  tuning?: TuningTable;
  precision: Precision;
}

export class RnnModel implements Rnn, StreamHost {
  readonly spec: ResolvedSpec;
  readonly device: GPUDevice;
  readonly caps: DeviceCaps;
  /** The weight matrices' storage type. */
  readonly precision: Precision;
  /** Whether the model has the fused stack kernel's weights (it can run it and nothing forced per-layer kernels). */
  readonly hasStack: boolean;
  private readonly sources: ChoiceSources & { table: TuningTable };
  /** Set once the device is lost: every later call rejects with DeviceLostError at once. */
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
    this.caps = deviceCaps(device);
    this.precision = o.precision;
    void device.lost?.then((info) => {
      this.lostInfo = info;
    });
    // A table measured on another adapter says nothing about this one: start afresh.
    const reuse = o.tuning && o.tuning.adapter === this.caps.adapter;
    const table: TuningTable = {
      version: 1,
      adapter: this.caps.adapter,
      model: modelKey(s),
      entries: reuse ? o.tuning!.entries.map((e) => ({ ...e })) : [],
    };
    // The stack kernel's own packing of the weights, unless createRnn forced per-layer kernels.
    this.hasStack = !o.forced && !o.projection && !stackUnsupported(s, this.caps);
    this.sources = { table, forced: o.forced, forcedStack: o.forcedStack, forcedProjection: o.projection, hasStack: this.hasStack };
    const buffers = uploadWeights(device, s, weights, this.precision, this.hasStack, this.owned);
    this.workspaces = new Workspaces(buffers);
    this.recorder = new Recorder(buffers, this.workspaces);
  }

  /** The kernels each layer runs for (seqLen, batch) (plan/choose.ts chooseLayers). */
  choices(seqLen: number, batch: number): LayerChoice[] {
    return chooseLayers(this.spec, seqLen, batch, this.sources, this.caps);
  }

  kernels(seqLen: number, batch: number): KernelPlan {
    positiveArg('seqLen', seqLen);
    positiveArg('batch', batch);
    // A run the device cannot hold has no plan: the DeviceLimitError run() would raise.
    checkRunLimits(this.spec, this.caps, seqLen, batch);
    // A run too long for one workspace runs in segments (plan/segments.ts), each planned for its length.
    const segments = planSegments(seqLen, segmentSteps(this.spec, this.caps, seqLen, batch) || seqLen, false);
    const stack = chooseStack(segments[0].steps, batch, this.sources, this.caps);
    let dispatches = 0;
    for (const { steps } of segments) {
      dispatches += chooseStack(steps, batch, this.sources, this.caps)
        ? sequenceChunks(steps)
        : dispatchCount(this.spec, steps, batch, this.choices(steps, batch), this.caps);
    }
    const split = segments.length > 1 ? { segments: segments.length } : {};
    if (stack) return { layers: [], dispatches, stack: true, ...split };
    return { layers: this.choices(segments[0].steps, batch), dispatches, ...split };
  }

  /** The stack kernel's call for (seqLen, batch), or undefined where the per-layer kernels run. */
  private stackCall(seqLen: number, batch: number, masked: boolean): KernelCall | undefined {
    if (!chooseStack(seqLen, batch, this.sources, this.caps)) return undefined;
    return planStack(this.spec, { batch, masked }, this.caps);
  }

  private plans(seqLen: number, batch: number, masked: boolean): LayerPlan[] {
    const choices = this.choices(seqLen, batch);
    return choices.map((choice, layer) => planLayer(this.spec, { layer, seqLen, batch, masked, choice }, this.caps));
  }

  get tuning(): TuningTable {
    return JSON.parse(JSON.stringify(this.sources.table)) as TuningTable;
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
    const { forced, forcedStack, forcedProjection, table } = this.sources;
    if (forced || forcedStack || forcedProjection)
      throw new SpecError('tune() measures the kernel variants, but this model was created with stepKernels or projection forced');
    return tuneShapes(
      {
        spec: this.spec,
        device: this.device,
        caps: this.caps,
        precision: this.precision,
        hasStack: this.hasStack,
        setTrial: (trial) => {
          this.sources.trial = trial;
        },
        choices: (T, B) => this.choices(T, B),
        run: (x, o) => this.run(x, o),
        keep: (entry: TuningEntry) => {
          table.entries = [...table.entries.filter((e) => e.seqLen !== entry.seqLen || e.batch !== entry.batch), entry];
        },
      },
      list,
    );
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

  /**
   * Compiles (or finds cached) every pipeline a run of this batch size, masking and length needs:
   * the per-layer kernels (encode() records those), and the stack kernel where runs use it.
   */
  async compile(batch: number, masked = false, seqLen = 2): Promise<{ layers: CompiledLayer[]; stack?: CompiledCall }> {
    const stackCall = this.stackCall(seqLen, batch, masked);
    const [layers, stack] = await Promise.all([
      Promise.all(this.plans(seqLen, batch, masked).map((plan) => compileLayer(this.device, this.precision, plan))),
      stackCall && compileCall(this.device, this.precision, stackCall),
    ]);
    return { layers, stack };
  }

  async prepare(seqLen: number, batch: number): Promise<void> {
    positiveArg('seqLen', seqLen);
    positiveArg('batch', batch);
    if (this.destroyed) throw new DestroyedError('prepare() was called after destroy(); create a new model with createRnn()');
    checkRunLimits(this.spec, this.caps, seqLen, batch, false);
    await this.compile(batch, false, seqLen);
  }

  run(x: Float32Array | GPUBuffer, options: RunOptions & { output: 'gpu' }): Promise<GpuRunResult>;
  run(x: Float32Array | GPUBuffer, options: RunOptions): Promise<RunResult>;
  run(x: Float32Array | GPUBuffer, options: RunOptions): Promise<RunResult | GpuRunResult> {
    const refused = this.refusal('run()');
    if (refused) return refused;
    let req: RunRequest;
    try {
      req = validateRun(this.spec, this.caps, x, options);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(() => this.execute(req)) as Promise<RunResult>;
  }

  /** A rejection for a call on a destroyed model or a lost device, else undefined. */
  private refusal(what: string): Promise<never> | undefined {
    if (this.destroyed)
      return Promise.reject(new DestroyedError(`${what} was called after destroy(); create a new model with createRnn()`));
    if (this.lostInfo) return lostDeviceError(this.device, this.lostInfo).then((e) => Promise.reject(e));
    return undefined;
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
    return { state: storageBuffer(this.device, `${this.spec.cell}|stream|state`, stateFloats(this.spec, batch)), steps: 0 };
  }

  writeState(state: ResidentState, batch: number, initialH?: Float32Array, initialC?: Float32Array): void {
    const s = this.spec;
    checkInitial(s, 'initialH', initialH, s.outputSize, batch);
    checkCellStateGiven(s, 'options.initialC', initialC);
    checkInitial(s, 'initialC', initialC, s.hiddenSize, batch);
    writeArray(this.device.queue, state.state, packedState(s, { batch, lens: new Uint32Array(batch).fill(1) }, initialH, initialC));
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
    const refused = this.refusal('step()');
    if (refused) return refused;
    let req: RunRequest;
    try {
      // Steps the stream processed before this call (the Clockwork RNN's module clocks), taken now: calls queue.
      req = { ...validateRun(this.spec, this.caps, x, { seqLen, batch, output }), resident: state, step0: state.steps };
      state.steps += seqLen;
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(() => this.execute(req)).then((r) => r.Y);
  }

  readState(state: ResidentState, batch: number): Promise<{ Y_h: Float32Array; Y_c?: Float32Array }> {
    return this.enqueue(async () => {
      try {
        return await readPackedState(this.device, this.spec, state.state, batch);
      } catch (e) {
        throw (await lostDeviceError(this.device, this.lostInfo)) ?? e;
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
      // Aborted while it waited behind earlier calls: nothing of it reaches the GPU.
      throwIfAborted(req.signal);
      return await withErrorScopes(this.device, 'run', (closeScopes) => this.encodeAndRead(req, closeScopes));
    } catch (e) {
      if (this.destroyed) throw new DestroyedError('the model was destroyed while run() was in flight');
      throw (await lostDeviceError(this.device, this.lostInfo)) ?? e;
    }
  }

  /** One run: compile (cached), record, submit once, then one readback (or the caller's GPU buffers). */
  private async encodeAndRead(req: RunRequest, closeScopes: () => void): Promise<Outputs> {
    const { seqLen: T, batch: B } = req;
    // Too long for one workspace: in segments (encode() is never split: validateEncode checked it fits).
    const steps = segmentSteps(this.spec, this.caps, T, B);
    if (steps < T) return runSegments(this.segmentHost(), req, steps, closeScopes);
    // The whole stack in one dispatch, or the per-layer calls.
    const { layers, stack } = await this.compile(B, req.mask !== undefined, T);
    if (this.destroyed) throw new DestroyedError('the model was destroyed while run() was in flight');
    const ws = this.workspaces.ensure(T, B);
    const encoder = await this.recordChunked(req, layers, ws, stack);
    const final = this.recorder.finalStates(ws, stack ? undefined : layers, T, B);
    if (req.output === 'gpu') {
      const out = gpuOutputs(this.device, this.recorder, encoder, this.spec, ws, final, req);
      this.device.queue.submit([encoder.finish()]);
      closeScopes();
      return out;
    }
    stageOutputs(encoder, this.spec, ws, final, req);
    this.device.queue.submit([encoder.finish()]);
    closeScopes();
    return readStaged(this.spec, ws, req);
  }

  private segmentHost(): SegmentHost {
    return {
      device: this.device,
      spec: this.spec,
      recorder: this.recorder,
      compile: (batch, masked, seqLen) => this.compile(batch, masked, seqLen),
      workspace: (seqLen, batch) => this.workspaces.ensure(seqLen, batch),
      record: (req, layers, ws, stack) => this.recordChunked(req, layers, ws, stack),
      checkAlive: () => {
        if (this.destroyed) throw new DestroyedError('the model was destroyed while run() was in flight');
      },
    };
  }

  /**
   * Records a run, submitting a command buffer every MAX_DISPATCHES_PER_SUBMIT dispatches (the state
   * stays on the GPU between them), and resolves to the encoder that holds the rest. Each chunk
   * waits for the one before the last to finish, so recording stays at most two command buffers
   * ahead of the GPU, and options.signal takes effect between chunks.
   */
  private async recordChunked(req: RunRequest, layers: CompiledLayer[], ws: Workspace, stack?: CompiledCall): Promise<GPUCommandEncoder> {
    const q = this.device.queue;
    const newEncoder = () => this.device.createCommandEncoder({ label: 'webgpu-rnn run' });
    const recording = this.recorder.run(newEncoder(), req, layers, ws, stack, MAX_DISPATCHES_PER_SUBMIT);
    let previous: Promise<undefined> | undefined;
    let r = recording.next();
    while (!r.done) {
      q.submit([r.value.finish()]);
      // Only back-pressure: a GPU failure surfaces through the run's error scopes and device.lost.
      const submitted = q.onSubmittedWorkDone().catch(() => undefined);
      if (previous) await previous;
      previous = submitted;
      if (this.destroyed) throw new DestroyedError('the model was destroyed while run() was in flight');
      throwIfAborted(req.signal);
      r = recording.next(newEncoder());
    }
    return r.value;
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
    const req = validateEncode(this.spec, this.caps, io);
    const { seqLen: T, batch: B } = req;
    // No awaiting here: the pipelines must be ready (compiled by createRnn or an earlier run).
    const layers = readyLayers(this.device, this.precision, this.plans(T, B, false));
    if (!layers) {
      throw new InputError(
        `encode(): the kernels of seqLen ${T}, batch ${B} are not compiled yet: pass { seqLen: ${T}, batch: ${B} } to createRnn, or await one run() of that shape first`,
      );
    }
    const ws = this.workspaces.ensure(T, B);
    // The caller's encoder takes the whole run (encode() submits nothing itself).
    recordAll(this.recorder.run(encoder, req, layers, ws));
    this.recorder.outputs(encoder, ws, this.recorder.finalStates(ws, layers, T, B), req, { Y: io.Y, Y_h: io.Y_h, Y_c: io.Y_c });
  }
}
