// loadOnnx: an ONNX model as a session with onnxruntime's run(feeds) -> outputs shape. Loading
// (load.ts) decodes, checks, folds and fuses the graph without the GPU; this file builds the engine
// models of recurrent units whose weights are constant, checks feeds against the declared inputs,
// and runs: per combination of feed shapes and integer feed values, graph.ts specialises the model
// into a GPU program (gpu/program.ts), cached; a run is then one submit and one readback.
// stream() keeps chosen outputs on the GPU as the next call's inputs (a recurrent state).
import { DestroyedError, FormatError, InputError } from '../core/errors.js';
import { createRnn } from '../run/create.js';
import { MAP_MODE_READ, Usage } from '../gpu/helpers.js';
import { fuseSteps } from './gpu/fuse.js';
import { ProgramBuilder, Program } from './gpu/program.js';
import type { Val } from './gpu/ops.js';
import { recurrentUnits, specialize, weightFeeds, type Specialized } from './graph.js';
import { prepareOnnx, type PreparedModel } from './load.js';
import type { ValueInfoData } from './proto.js';
import { recurrentSpec } from './recurrent.js';
import { planScan, runScan, type ScanOptions, type ScanPlan } from './scan.js';
import { SplitRefused, SplitTooLarge, SplitWalk, type SplitCarry, type SplitSetup } from './split.js';
import { isFloatType, numel, saturate, typeName, type FeedTensor, type Tensor } from './tensor.js';

export type { FeedTensor, Tensor } from './tensor.js';

export interface OnnxSession {
  readonly inputNames: string[];
  readonly outputNames: string[];
  /** Like onnxruntime's InferenceSession.run: feeds and results keyed by the graph's names. */
  run(feeds: Record<string, FeedTensor>): Promise<Record<string, Tensor>>;
  /**
   * A stream over calls of a stateful model: `carry` maps outputs to the inputs they feed on the
   * next call (Silero v5: `{ stateN: 'state' }`), kept on the GPU between calls.
   */
  stream(options: OnnxStreamOptions): OnnxStream;
  /**
   * Every frame of a sequence with the ONNX Scan operator's semantics: `scanned` inputs lead with a
   * frame axis [F, ...], `fixed` gives the other inputs and the carried inputs' first values (zeros
   * where absent), `carry` maps outputs to the inputs they feed. Resolves to every non-carried output
   * stacked [F, ...] and every carried output after the last frame. See scan.ts for how it runs.
   */
  scan(scanned: Record<string, FeedTensor>, fixed: Record<string, FeedTensor>, options: ScanOptions): Promise<Record<string, Tensor>>;
  /** Which path scan() takes for these inputs ('split' or 'loop'), frames per submit, and why. */
  scanPlan(scanned: Record<string, FeedTensor>, fixed: Record<string, FeedTensor>, options: ScanOptions): Promise<ScanPlan>;
  /** Frees the GPU buffers of every engine model and program the session built. */
  destroy(): void;
}

export interface OnnxStreamOptions {
  /** Output name -> input name: after each step the output becomes that input of the next step. */
  carry: Record<string, string>;
  /**
   * The carried inputs' first values. Absent: zeros of the declared shape, a symbolic dimension
   * taken from the first step's feeds, an unknown one being their batch size (first dimension).
   */
  initial?: Record<string, FeedTensor>;
}

export interface OnnxStream {
  /** One call with the feeds that are not carried; resolves to the outputs that are not carried. */
  step(feeds: Record<string, FeedTensor>): Promise<Record<string, Tensor>>;
  /** Reads the carried state back: the carried outputs of the last step (or the initial values), by output name. */
  state(): Promise<Record<string, Tensor>>;
  /** Back to `initial` (given here, or the stream's own). */
  reset(initial?: Record<string, FeedTensor>): void;
  destroy(): void;
}

/** What the session runs, for tests and diagnostics: one entry per recurrent unit. */
export interface OnnxPlanUnit {
  nodes: string[];
  numLayers: number;
  /** Built at load time (constant weights) or per run (weights fed as graph inputs). */
  prebuilt: boolean;
}

const plans = new WeakMap<OnnxSession, OnnxPlanUnit[]>();

/** The recurrent units of a loaded session (fused chains show numLayers > 1). */
export function sessionPlan(session: OnnxSession): OnnxPlanUnit[] {
  return plans.get(session) ?? [];
}

/** The dispatches of the programs a session has built so far (one entry per feed combination). */
export function sessionDispatches(session: OnnxSession): number[] {
  return session instanceof Session ? session.dispatchCounts() : [];
}

export async function loadOnnx(device: GPUDevice, model: Uint8Array): Promise<OnnxSession> {
  const p = prepareOnnx(model);
  const session = new Session(device, p);
  try {
    await session.prebuild();
  } catch (e) {
    session.destroy();
    throw e;
  }
  plans.set(
    session,
    recurrentUnits(p.graph).map((u) => ({
      nodes: u.layers.map((l) => l.node.name || l.node.outputs[0]),
      numLayers: u.layers.length,
      prebuilt: !!u.rnn,
    })),
  );
  return session;
}

interface Built {
  program: Program;
  spec: Specialized;
  key: string;
  /** Runs using it now, when it was last used, and whether it left the cache (freed when idle). */
  users: number;
  lastUsed: number;
  evicted: boolean;
}

/**
 * Programs kept per session (one per combination of feed shapes and integer values): a model fed
 * ever new sequence lengths would otherwise keep a GPU program for each. The least recently used
 * goes first.
 */
const MAX_PROGRAMS = 8;

/** The most GPU memory a scan's batched program takes (its chunk of frames shrinks to fit). */
const SPLIT_BYTES = 128 * 1024 * 1024;

/** A feed as the session keeps it: float32 or int32 (int64 saturated, bool 0/1). */
interface Fed {
  dims: number[];
  data: Float32Array | Int32Array;
}

class Session implements OnnxSession {
  readonly inputNames: string[];
  readonly outputNames: string[];
  private destroyed = false;
  private readonly inputs: ValueInfoData[];
  private readonly programs = new Map<string, Promise<Built>>();
  private readonly builtPrograms: Built[] = [];
  private readonly weightFeeds: Set<string>;
  private readonly streams = new Set<Stream>();

  constructor(
    private readonly device: GPUDevice,
    private readonly model: PreparedModel,
  ) {
    this.inputs = model.inputs;
    this.inputNames = model.inputs.map((v) => v.name);
    this.outputNames = model.outputs.map((v) => v.name);
    this.weightFeeds = weightFeeds(model.graph, new Set(this.inputNames));
  }

  /** Builds engine models for recurrent units whose weights are all constant (prepareOnnx read them). */
  async prebuild(): Promise<void> {
    for (const u of recurrentUnits(this.model.graph)) {
      if (!u.weights) continue;
      u.rnn = await createRnn(
        this.device,
        recurrentSpec(u.layers[0], u.weights[0], u.layers.length),
        u.weights.map((w) => w.weights),
      );
    }
  }

  dispatchCounts(): number[] {
    return this.builtPrograms.map((b) => b.program.dispatches);
  }

  destroy(): void {
    this.destroyed = true;
    for (const s of [...this.streams]) s.destroy();
    for (const u of recurrentUnits(this.model.graph)) u.rnn?.destroy();
    for (const b of this.builtPrograms) this.release(b);
    this.builtPrograms.length = 0;
    this.programs.clear();
  }

  private release(b: Built): void {
    b.program.destroy();
    for (const r of b.spec.owned) r.destroy();
  }

  forgetStream(s: Stream): void {
    this.streams.delete(s);
  }

  async run(feeds: Record<string, FeedTensor>): Promise<Record<string, Tensor>> {
    this.alive('run()');
    return (await this.executeFrames(this.checkFeeds(feeds), {}))[0];
  }

  /**
   * The program for these feeds (built and cached, or per run where weights are fed), the float
   * feeds written once, then `frames` calls in one command buffer (a scan's chunk; one call without it): each frame's
   * `framed` inputs are copied from `frames.inputs` (frame f at f × its size), the carried ones from
   * the `carried` buffers that the previous frame's `keep` copies wrote (a stream's state: those
   * outputs stay on the GPU and are not read back). One submit, one readback.
   */
  async executeFrames(
    fed: Map<string, Fed>,
    carried: Record<string, GPUBuffer>,
    keep?: { outputs: string[]; inputs: string[]; into: GPUBuffer[]; dims: number[][] },
    frames?: { count: number; inputs: Map<string, GPUBuffer> },
    split?: SplitSetup,
  ): Promise<Record<string, Tensor>[]> {
    const perRun = [...this.weightFeeds].some((n) => fed.has(n));
    const built = await this.program(fed, perRun, split);
    built.users++;
    built.lastUsed = performance.now();
    try {
      this.alive('run()');
      const kept = new Set(keep?.outputs);
      const returned = this.outputNames.flatMap((name, i) => (kept.has(name) ? [] : [{ name, v: built.spec.outputs[i] }]));
      const gpuOut = returned.flatMap(({ v }) => (v.gpu ? [v.gpu] : []));
      const feedData = new Map<number, Float32Array>();
      const before: { from: GPUBuffer; slot: number; elements: number }[] = [];
      const framed: { from: GPUBuffer; slot: number; elements: number }[] = [];
      for (const [name, slot] of built.spec.feeds) {
        const elements = count(slot.dims);
        if (carried[name]) before.push({ from: carried[name], slot: slot.slot, elements });
        else if (frames?.inputs.has(name)) framed.push({ from: frames.inputs.get(name)!, slot: slot.slot, elements });
        else feedData.set(slot.slot, fed.get(name)!.data as Float32Array);
      }
      const after = keep?.outputs.map((o, k) => {
        const v = built.spec.outputs[this.outputNames.indexOf(o)];
        if (!v.gpu) throw new InputError(`stream carry: output '${o}' is not computed on the GPU, so it cannot be carried`);
        if (v.gpu.dims.join() !== keep.dims[k].join())
          throw new FormatError(
            `stream carry: output '${o}' has shape [${v.gpu.dims.join(', ')}] but input '${keep.inputs[k]}' [${keep.dims[k].join(', ')}]`,
          );
        return { value: v.gpu, to: keep.into[k] };
      });
      const ios = Array.from({ length: frames?.count ?? 1 }, (_, f) => ({
        feeds: feedData,
        outputs: gpuOut,
        before: [...framed.map((c) => ({ ...c, fromOffset: f * c.elements * 4 })), ...before],
        after,
      }));
      const all = await built.program.runFrames(ios);
      return all.map((datas) => {
        const result: Record<string, Tensor> = {};
        let k = 0;
        returned.forEach(({ name, v }) => {
          // Copies, so callers can keep or modify results without touching the session's constants.
          if (v.gpu) {
            const data = datas[k++];
            result[name] = { dims: [...v.gpu.dims], data: v.gpu.int ? Int32Array.from(data, saturate) : data };
          } else result[name] = { dims: [...v.cpu!.dims], data: v.cpu!.data.slice() };
        });
        return result;
      });
    } finally {
      built.users--;
      if (perRun || (built.evicted && built.users === 0)) this.release(built);
    }
  }

  /** Builds (and caches) the program for these feeds without running it: a scan choosing its path. */
  async prepare(fed: Map<string, Fed>, split: SplitSetup): Promise<void> {
    if ([...this.weightFeeds].some((n) => fed.has(n)))
      throw new SplitRefused('the recurrent weights are fed per run, and a batched program is built once');
    await this.program(fed, false, split);
  }

  alive(what: string): void {
    if (this.destroyed) throw new DestroyedError(`${what} on an ONNX session after destroy()`);
  }

  /** Drops the least recently used programs beyond `max` (never `keep`); one in use is freed when its run ends. */
  private evictBeyond(max: number, keep: Built): void {
    while (this.builtPrograms.length > max) {
      const oldest = this.builtPrograms.filter((b) => b !== keep).sort((a, b) => a.lastUsed - b.lastUsed)[0];
      this.builtPrograms.splice(this.builtPrograms.indexOf(oldest), 1);
      this.programs.delete(oldest.key);
      oldest.evicted = true;
      if (oldest.users === 0) this.release(oldest);
    }
  }

  /**
   * The program for this combination of feed shapes and integer values, built once; with `split`,
   * the scan's batched program over `split.frames` frames (split.ts), which may refuse the model
   * (SplitRefused) or need fewer frames (SplitTooLarge).
   */
  private program(fed: Map<string, Fed>, perRun: boolean, split?: SplitSetup): Promise<Built> {
    const key =
      (split ? `split ${split.frames} ${split.carried.map((c) => `${c.input}@${c.batchAxis}`).join(',')}|` : '') +
      [...fed]
        .map(([n, t]) => `${n}:${t.data instanceof Float32Array ? 'f' : `i${Array.from(t.data).join(',')}`}[${t.dims.join(',')}]`)
        .join('|');
    if (!perRun) {
      const cached = this.programs.get(key);
      if (cached) return cached;
    }
    const make = async (): Promise<Built> => {
      const b = new ProgramBuilder();
      const vals = new Map<string, Val>();
      for (const [name, t] of fed) {
        if (t.data instanceof Float32Array && !this.weightFeeds.has(name)) vals.set(name, { gpu: b.feed(t.dims) });
        else vals.set(name, { cpu: { dims: t.dims, data: t.data } });
      }
      const spec = await specialize(this.device, this.model.graph, vals, b, split && new SplitWalk(split));
      const bytes = b.slots.reduce((n, slot) => n + slot.elements * 4, 0);
      if (split && bytes > SPLIT_BYTES && split.frames > 1) {
        for (const r of spec.owned) r.destroy();
        throw new SplitTooLarge(Math.max(1, Math.floor((split.frames * SPLIT_BYTES) / bytes)));
      }
      fuseSteps(b, new Set([...spec.outputs.flatMap((v) => (v.gpu ? [v.gpu.slot] : [])), ...[...spec.feeds.values()].map((v) => v.slot)]));
      let program: Program;
      try {
        program = await Program.build(this.device, b);
      } catch (e) {
        for (const r of spec.owned) r.destroy();
        throw e;
      }
      const built: Built = { program, spec, key, users: 0, lastUsed: performance.now(), evicted: false };
      if (this.destroyed) {
        this.release(built);
        throw new DestroyedError('the ONNX session was destroyed while run() was preparing');
      }
      if (!perRun) {
        this.builtPrograms.push(built);
        this.evictBeyond(MAX_PROGRAMS, built);
      }
      return built;
    };
    const p = make();
    if (!perRun) {
      this.programs.set(key, p);
      p.catch(() => this.programs.delete(key));
    }
    return p;
  }

  /** Feeds checked against the declared inputs (names, element kinds, ranks, sizes), as the session keeps them. */
  checkFeeds(feeds: Record<string, FeedTensor>, carried: Set<string> = new Set(), symbols = new Map<string, number>()): Map<string, Fed> {
    if (typeof feeds !== 'object' || feeds === null)
      throw new InputError('run(feeds): feeds must be an object { inputName: { data, dims } }');
    for (const name of Object.keys(feeds)) {
      if (!this.inputNames.includes(name))
        throw new InputError(`feed '${name}' is not an input of the model; its inputs are ${this.inputNames.join(', ')}`);
      if (carried.has(name)) throw new InputError(`feed '${name}' is carried by the stream; leave it out of step()'s feeds`);
    }
    const out = new Map<string, Fed>();
    for (const v of this.inputs) {
      if (carried.has(v.name)) continue;
      const t = feeds[v.name];
      if (!t) throw new InputError(`missing feed for input '${v.name}'`);
      out.set(v.name, checkFeed(v, t, symbols));
    }
    return out;
  }

  declaredInput(name: string): ValueInfoData {
    const v = this.inputs.find((i) => i.name === name);
    if (!v) throw new InputError(`stream carry: '${name}' is not an input of the model; its inputs are ${this.inputNames.join(', ')}`);
    return v;
  }

  stream(options: OnnxStreamOptions): OnnxStream {
    this.alive('stream()');
    const s = new Stream(this, this.device, options);
    this.streams.add(s);
    return s;
  }

  async scan(
    scanned: Record<string, FeedTensor>,
    fixed: Record<string, FeedTensor>,
    options: ScanOptions,
  ): Promise<Record<string, Tensor>> {
    this.alive('scan()');
    const { stream, rest, carriedInputs } = this.scanStream(fixed, options);
    return runScan(this.device, stream, scanned, rest, carriedInputs, options);
  }

  async scanPlan(scanned: Record<string, FeedTensor>, fixed: Record<string, FeedTensor>, options: ScanOptions): Promise<ScanPlan> {
    this.alive('scanPlan()');
    const { stream, rest, carriedInputs } = this.scanStream(fixed, options);
    try {
      return await planScan(stream, scanned, rest, carriedInputs, options);
    } finally {
      stream.destroy();
    }
  }

  /** The stream a scan runs on: `fixed` split into the carried inputs' first values and the other feeds. */
  private scanStream(
    fixed: Record<string, FeedTensor>,
    options: ScanOptions,
  ): { stream: Stream; rest: Record<string, FeedTensor>; carriedInputs: Set<string> } {
    if (typeof options !== 'object' || options === null || typeof options.carry !== 'object' || options.carry === null)
      throw new InputError("scan(scanned, fixed, options): options.carry must map outputs to inputs, e.g. { carry: { stateN: 'state' } }");
    const carriedInputs = new Set(Object.values(options.carry));
    const initial: Record<string, FeedTensor> = {};
    const rest: Record<string, FeedTensor> = {};
    for (const [name, t] of Object.entries(fixed ?? {})) (carriedInputs.has(name) ? initial : rest)[name] = t;
    const stream = this.stream({ carry: options.carry, initial: Object.keys(initial).length ? initial : undefined }) as Stream;
    return { stream, rest, carriedInputs };
  }
}

/** One feed checked against its declared input, converted (onnxruntime Tensors too). */
function checkFeed(v: ValueInfoData, t: FeedTensor, symbols: Map<string, number>): Fed {
  const where = `feed '${v.name}'`;
  if (typeof t !== 'object' || t === null || (!Array.isArray(t.dims) && !ArrayBuffer.isView(t.dims)))
    throw new InputError(`${where} must be { data, dims } or an onnxruntime Tensor`);
  const dims = Array.from(t.dims as ArrayLike<number>, Number);
  let n: number;
  try {
    n = numel(dims, where);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  let data: Float32Array | Int32Array;
  if (t.data instanceof Float32Array) data = t.data;
  else if (t.data instanceof Int32Array) data = t.data;
  else if (typeof BigInt64Array !== 'undefined' && t.data instanceof BigInt64Array)
    data = Int32Array.from(t.data, (x) => saturate(Number(x)));
  else if (t.data instanceof Uint8Array && (t.type === undefined || t.type === 'bool' || t.type === 'uint8'))
    data = Int32Array.from(t.data);
  else
    throw new InputError(
      `${where} must hold a Float32Array (float32), an Int32Array or BigInt64Array (int32, int64) or a Uint8Array (bool)`,
    );
  if (t.type !== undefined && typeof t.type === 'string') {
    const kind = t.type === 'float32' || t.type === 'float16' || t.type === 'float64' ? 'float' : 'int';
    if (data instanceof Float32Array !== (kind === 'float'))
      throw new InputError(`${where}: type '${t.type}' does not match its data (${t.data.constructor.name})`);
  }
  if (n !== data.length) throw new InputError(`${where} has ${data.length} elements but dims [${dims.join(', ')}] need ${n}`);
  if (v.elemType !== undefined) {
    const wantFloat = isFloatType(v.elemType);
    if (wantFloat !== data instanceof Float32Array) {
      throw new InputError(
        `${where} must be ${wantFloat ? 'a Float32Array' : 'an integer tensor (Int32Array, BigInt64Array, or Uint8Array for bool)'} (the model declares ${typeName(v.elemType)})`,
      );
    }
  }
  if (v.dims) {
    if (v.dims.length !== dims.length)
      throw new InputError(`${where} has rank ${dims.length}, the model declares [${v.dims.map((d) => d ?? '?').join(', ')}]`);
    v.dims.forEach((d, i) => {
      const got = dims[i];
      if (typeof d === 'number' && d !== got) throw new InputError(`${where} dimension ${i} is ${got}, the model declares ${d}`);
      if (typeof d === 'string') {
        const seen = symbols.get(d);
        if (seen !== undefined && seen !== got)
          throw new InputError(`${where} dimension ${i} ('${d}') is ${got}, but another input gave '${d}' = ${seen}`);
        symbols.set(d, got);
      }
    });
  }
  return { dims, data };
}

function count(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * A stream: the carried inputs live in GPU buffers of the stream's own; each step copies them into
 * the program's feed slots first and the carried outputs back into them last, in the same submit.
 */
class Stream implements OnnxStream {
  private readonly pairs: { output: string; input: string }[];
  private state_: { buffer: GPUBuffer; dims: number[] }[] = [];
  private initial?: Record<string, FeedTensor>;
  private destroyed = false;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly session: Session,
    private readonly device: GPUDevice,
    options: OnnxStreamOptions,
  ) {
    if (typeof options !== 'object' || options === null || typeof options.carry !== 'object' || options.carry === null)
      throw new InputError("stream(options): options.carry must map outputs to inputs, e.g. { carry: { stateN: 'state' } }");
    this.pairs = Object.entries(options.carry).map(([output, input]) => {
      if (!session.outputNames.includes(output))
        throw new InputError(`stream carry: '${output}' is not an output of the model; its outputs are ${session.outputNames.join(', ')}`);
      const v = session.declaredInput(input);
      if (v.elemType !== undefined && !isFloatType(v.elemType))
        throw new InputError(`stream carry: input '${input}' is ${typeName(v.elemType)}; only float tensors are carried`);
      return { output, input };
    });
    if (new Set(this.pairs.map((p) => p.input)).size !== this.pairs.length) throw new InputError('stream carry: an input is carried twice');
    this.initial = options.initial;
    this.reset();
  }

  reset(initial?: Record<string, FeedTensor>): void {
    if (this.destroyed) throw new DestroyedError('reset() on a destroyed ONNX stream');
    if (initial) this.initial = initial;
    for (const st of this.state_) st.buffer.destroy();
    this.state_ = [];
    // With initial values the buffers exist now; without, the first step sizes them from its feeds.
    if (this.initial) this.ensureState(new Map(), new Map());
  }

  /**
   * The carried inputs' buffers: `initial`'s values, else zeros of the declared shape, a symbolic
   * dimension taken from the step's feeds where another input names it, an unknown one being the
   * batch size (the first dimension of the step's first float feed).
   */
  private ensureState(fed: Map<string, Fed>, symbols: Map<string, number>): void {
    if (this.state_.length) return;
    const batch = [...fed.values()].find((t) => t.data instanceof Float32Array && t.dims.length > 0)?.dims[0];
    const initSymbols = new Map<string, number>();
    this.state_ = this.pairs.map(({ input }) => {
      const v = this.session.declaredInput(input);
      const given = this.initial?.[input];
      let dims: number[];
      let data: Float32Array | undefined;
      if (given) {
        const f = checkFeed(v, given, initSymbols);
        dims = f.dims;
        data = f.data as Float32Array;
      } else {
        const declared = v.dims;
        const resolved = declared?.map((d) =>
          typeof d === 'number' ? d : typeof d === 'string' && symbols.has(d) ? symbols.get(d) : batch,
        );
        if (!declared || !resolved || resolved.some((d) => d === undefined))
          throw new InputError(
            `stream: the shape of input '${input}' ([${(declared ?? []).map((d) => d ?? '?').join(', ')}]) cannot be told from the feeds; pass its first value as initial: { ${input}: { data, dims } }`,
          );
        dims = resolved as number[];
      }
      const buffer = this.device.createBuffer({
        label: `onnx stream '${input}'`,
        size: Math.max(16, Math.ceil((count(dims) * 4) / 16) * 16),
        usage: Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST,
      });
      if (data) this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      return { buffer, dims };
    });
  }

  step(feeds: Record<string, FeedTensor>): Promise<Record<string, Tensor>> {
    return this.queue(async () => (await this.calls(feeds))[0]);
  }

  /**
   * `frames.count` steps in one submit (scan.ts): `feeds` as one step's (the framed ones with one
   * frame's shape), each frame's framed inputs copied on the GPU from `frames.inputs`.
   */
  steps(feeds: Record<string, FeedTensor>, frames: { count: number; inputs: Map<string, GPUBuffer> }): Promise<Record<string, Tensor>[]> {
    return this.queue(() => this.calls(feeds, frames));
  }

  /**
   * One run of the scan's batched program over `frames` frames (split.ts): `feeds` hold the scanned
   * inputs batched ([frames, ...] for a frame of [1, ...]); the carried state goes in and comes out
   * of the stream's buffers as for a step.
   */
  batch(feeds: Record<string, FeedTensor>, split: SplitSetup): Promise<Record<string, Tensor>> {
    return this.queue(async () => (await this.calls(feeds, undefined, split))[0]);
  }

  /** Builds the batched program for these feeds (as batch() would) without running it. */
  prepareBatch(feeds: Record<string, FeedTensor>, split: SplitSetup): Promise<void> {
    return this.queue(async () => {
      const fed = this.session.checkFeeds(feeds, new Set(this.pairs.map((p) => p.input)));
      this.pairs.forEach((p, k) => fed.set(p.input, { dims: this.state_[k].dims, data: new Float32Array(0) }));
      await this.session.prepare(fed, split);
    });
  }

  /**
   * The carried inputs as a batched program needs them: each with its batch axis, the axis that is
   * 1 in the state and declared symbolic (the scanned input's own symbol where it has one). A string
   * says why there is none.
   */
  splitCarry(frameFeeds: Record<string, FeedTensor>, scanned: string[]): SplitCarry[] | string {
    const symbols = new Map<string, number>();
    this.ensureState(this.session.checkFeeds(frameFeeds, new Set(this.pairs.map((p) => p.input)), symbols), symbols);
    const scannedSymbols = new Set(scanned.map((n) => this.session.declaredInput(n).dims?.[0]).filter((d) => typeof d === 'string'));
    const out: SplitCarry[] = [];
    for (const [k, p] of this.pairs.entries()) {
      const dims = this.state_[k].dims;
      const declared = this.session.declaredInput(p.input).dims ?? [];
      const named = declared.findIndex((d) => typeof d === 'string' && scannedSymbols.has(d));
      const open = dims.flatMap((d, i) => (d === 1 && typeof declared[i] !== 'number' ? [i] : []));
      const axis = named >= 0 && dims[named] === 1 ? named : open.length === 1 ? open[0] : -1;
      if (axis < 0)
        return `the carried input '${p.input}' [${dims.join(', ')}] has no batch axis to put the frames on (one of size 1 that the model declares symbolic)`;
      out.push({ input: p.input, output: p.output, frameDims: dims, batchAxis: axis });
    }
    return out;
  }

  private queue<T>(run: () => Promise<T>): Promise<T> {
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  private async calls(
    feeds: Record<string, FeedTensor>,
    frames?: { count: number; inputs: Map<string, GPUBuffer> },
    split?: SplitSetup,
  ): Promise<Record<string, Tensor>[]> {
    if (this.destroyed) throw new DestroyedError('step() on a destroyed ONNX stream');
    this.session.alive('step()');
    const symbols = new Map<string, number>();
    const fed = this.session.checkFeeds(feeds, new Set(this.pairs.map((p) => p.input)), symbols);
    // (A batched program's feeds are not one frame's: its state was sized by splitCarry.)
    if (!split) this.ensureState(fed, symbols);
    // The carried inputs take part in the program's key by their dims only (they are float).
    this.pairs.forEach((p, k) => fed.set(p.input, { dims: this.state_[k].dims, data: new Float32Array(0) }));
    const carried: Record<string, GPUBuffer> = {};
    this.pairs.forEach((p, k) => {
      carried[p.input] = this.state_[k].buffer;
    });
    return this.session.executeFrames(
      fed,
      carried,
      {
        outputs: this.pairs.map((p) => p.output),
        inputs: this.pairs.map((p) => p.input),
        into: this.state_.map((s) => s.buffer),
        dims: this.state_.map((s) => s.dims),
      },
      frames,
      split,
    );
  }

  async state(): Promise<Record<string, Tensor>> {
    await this.tail;
    if (this.destroyed) throw new DestroyedError('state() on a destroyed ONNX stream');
    if (!this.state_.length)
      throw new InputError('state(): no step has run and no initial values were given, so the state has no shape yet');
    const out: Record<string, Tensor> = {};
    for (const [k, p] of this.pairs.entries()) {
      const { buffer, dims } = this.state_[k];
      const staging = this.device.createBuffer({ size: buffer.size, usage: Usage.MAP_READ | Usage.COPY_DST });
      const enc = this.device.createCommandEncoder();
      enc.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(MAP_MODE_READ);
      const data = new Float32Array(staging.getMappedRange().slice(0, count(dims) * 4));
      staging.unmap();
      staging.destroy();
      out[p.output] = { dims: [...dims], data };
    }
    return out;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const s of this.state_) s.buffer.destroy();
    this.state_ = [];
    this.session.forgetStream(this);
  }
}
