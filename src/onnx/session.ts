// loadOnnx: an ONNX model as a session with onnxruntime's run(feeds) -> outputs shape. Loading
// (load.ts) decodes, checks, folds and fuses the graph without the GPU; this file builds the engine
// models of recurrent units whose weights are constant, and runs: it checks the feeds against the
// declared inputs, then executes the units in order: CPU ops (cpu/), recurrent units on the GPU.
import { DestroyedError, FormatError, InputError } from '../core/errors.js';
import { hasCellState } from '../model/cells.js';
import type { Rnn } from '../run/api.js';
import { createRnn } from '../run/create.js';
import { CPU_OPS } from './cpu/ops.js';
import { prepareOnnx, type Unit } from './load.js';
import type { ValueInfoData } from './proto.js';
import { IN, recurrentSpec, recurrentWeights, runRecurrent, sequenceLens, sequenceShape, stateInput } from './recurrent.js';
import { isFloat, isFloatType, numel, typeName, type Tensor } from './tensor.js';

export type { Tensor } from './tensor.js';

export interface OnnxSession {
  readonly inputNames: string[];
  readonly outputNames: string[];
  /** Like onnxruntime's InferenceSession.run: feeds and results keyed by the graph's names. */
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  /** Frees the GPU buffers of every engine model the session built. */
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

export async function loadOnnx(device: GPUDevice, model: Uint8Array): Promise<OnnxSession> {
  const p = prepareOnnx(model);
  const session = new Session(device, p.inputs, p.outputs, p.constants, p.units);
  try {
    await session.prebuild();
  } catch (e) {
    session.destroy();
    throw e;
  }
  plans.set(
    session,
    p.units.flatMap((u) =>
      u.kind === 'recurrent'
        ? [{ nodes: u.layers.map((l) => l.node.name || l.node.outputs[0]), numLayers: u.layers.length, prebuilt: !!u.rnn }]
        : [],
    ),
  );
  return session;
}

class Session implements OnnxSession {
  readonly inputNames: string[];
  readonly outputNames: string[];
  private destroyed = false;

  constructor(
    private readonly device: GPUDevice,
    private readonly inputs: ValueInfoData[],
    outputs: ValueInfoData[],
    private readonly constants: Map<string, Tensor>,
    private readonly units: Unit[],
  ) {
    this.inputNames = inputs.map((v) => v.name);
    this.outputNames = outputs.map((v) => v.name);
  }

  /** Builds engine models for recurrent units whose weights are all constant (prepareOnnx read them). */
  async prebuild(): Promise<void> {
    for (const u of this.units) {
      if (u.kind !== 'recurrent') continue;
      if (!u.weights) continue;
      u.rnn = await createRnn(
        this.device,
        recurrentSpec(u.layers[0], u.weights[0], u.layers.length),
        u.weights.map((w) => w.weights),
      );
    }
  }

  destroy(): void {
    this.destroyed = true;
    for (const u of this.units) if (u.kind === 'recurrent') u.rnn?.destroy();
  }

  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    if (this.destroyed) throw new DestroyedError('run() on an ONNX session after destroy()');
    const values = new Map(this.constants);
    this.checkFeeds(feeds, values);
    for (const u of this.units) {
      if (u.kind === 'cpu') {
        const outs = CPU_OPS[u.node.opType].run(
          u.ctx,
          u.node.inputs.map((x) => (x ? this.value(values, x) : undefined)),
        );
        u.node.outputs.forEach((o, k) => {
          if (o && outs[k]) values.set(o, outs[k]!);
        });
      } else if (u.layers.length === 1) {
        await this.runNode(u, values);
      } else {
        await this.runChain(u, values);
      }
      if (this.destroyed) throw new DestroyedError('the ONNX session was destroyed while run() was in flight');
    }
    const result: Record<string, Tensor> = {};
    for (const name of this.outputNames) {
      const t = values.get(name);
      if (!t) throw new FormatError(`graph output '${name}' was not produced (an optional output that the node did not compute)`);
      // Copies, so callers can keep or modify results without touching the session's constants.
      result[name] = { dims: [...t.dims], data: t.data.slice() };
    }
    return result;
  }

  private value(values: Map<string, Tensor>, name: string): Tensor {
    const t = values.get(name);
    if (!t) throw new FormatError(`value '${name}' is used before it is computed (an optional output that was not produced)`);
    return t;
  }

  private checkFeeds(feeds: Record<string, Tensor>, values: Map<string, Tensor>): void {
    if (typeof feeds !== 'object' || feeds === null)
      throw new InputError('run(feeds): feeds must be an object { inputName: { data, dims } }');
    for (const name of Object.keys(feeds)) {
      if (!this.inputNames.includes(name))
        throw new InputError(`feed '${name}' is not an input of the model; its inputs are ${this.inputNames.join(', ')}`);
    }
    const symbols = new Map<string, number>();
    for (const v of this.inputs) {
      const t = feeds[v.name];
      if (!t) throw new InputError(`missing feed for input '${v.name}'`);
      if (!(t.data instanceof Float32Array || t.data instanceof Int32Array) || !Array.isArray(t.dims)) {
        throw new InputError(`feed '${v.name}' must be { data: Float32Array | Int32Array, dims: number[] }`);
      }
      let n: number;
      try {
        n = numel(t.dims, `feed '${v.name}'`);
      } catch (e) {
        throw new InputError((e as Error).message);
      }
      if (n !== t.data.length)
        throw new InputError(`feed '${v.name}' has ${t.data.length} elements but dims [${t.dims.join(', ')}] need ${n}`);
      if (v.elemType !== undefined) {
        const wantFloat = isFloatType(v.elemType);
        if (wantFloat !== isFloat(t)) {
          throw new InputError(
            `feed '${v.name}' must be ${wantFloat ? 'a Float32Array' : 'an Int32Array'} (the model declares ${typeName(v.elemType)})`,
          );
        }
      }
      if (v.dims) {
        if (v.dims.length !== t.dims.length)
          throw new InputError(
            `feed '${v.name}' has rank ${t.dims.length}, the model declares [${v.dims.map((d) => d ?? '?').join(', ')}]`,
          );
        v.dims.forEach((d, i) => {
          const got = t.dims[i];
          if (typeof d === 'number' && d !== got)
            throw new InputError(`feed '${v.name}' dimension ${i} is ${got}, the model declares ${d}`);
          if (typeof d === 'string') {
            const seen = symbols.get(d);
            if (seen !== undefined && seen !== got)
              throw new InputError(`feed '${v.name}' dimension ${i} ('${d}') is ${got}, but another input gave '${d}' = ${seen}`);
            symbols.set(d, got);
          }
        });
      }
      values.set(v.name, { dims: [...t.dims], data: t.data });
    }
  }

  /** One recurrent node; builds (and frees) an engine model per run when its weights are fed. */
  private async runNode(u: Extract<Unit, { kind: 'recurrent' }>, values: Map<string, Tensor>): Promise<void> {
    const r = u.layers[0];
    const get = (n: string) => (n ? this.value(values, n) : undefined);
    let w = u.weights?.[0];
    let rnn = u.rnn;
    let owned: Rnn | undefined;
    if (!rnn || !w) {
      w = recurrentWeights(r, get);
      owned = rnn = await createRnn(this.device, recurrentSpec(r, w), [w.weights]);
    }
    try {
      const outs = await runRecurrent(r, rnn, w, get);
      r.node.outputs.forEach((o, k) => {
        if (o && outs[k]) values.set(o, outs[k]!);
      });
    } finally {
      owned?.destroy();
    }
  }

  /** A fused chain: one engine run; per-layer states are gathered into and split from [L·D, B, ·]. */
  private async runChain(u: Extract<Unit, { kind: 'recurrent' }>, values: Map<string, Tensor>): Promise<void> {
    const first = u.layers[0];
    const last = u.layers[u.layers.length - 1];
    const L = u.layers.length;
    const D = first.directions;
    const H = u.weights![0].hiddenSize;
    const get = (n: string) => (n ? this.value(values, n) : undefined);
    const x = get(first.input(IN.X))!;
    const { T, B } = sequenceShape(first, x, u.weights![0].inputSize);
    const perLayer = (k: number, what: string) => u.layers.map((l) => stateInput(l, get(l.input(k)), what, B, H));
    const stack = (parts: (Float32Array | undefined)[]) => {
      if (parts.every((p) => !p)) return undefined;
      const out = new Float32Array(L * D * B * H);
      parts.forEach((p, l) => {
        if (p) out.set(p, l * D * B * H);
      });
      return out;
    };
    const res = await u.rnn!.run(x.data as Float32Array, {
      seqLen: T,
      batch: B,
      sequenceLens: sequenceLens(first, get(first.input(IN.SEQ)), B),
      initialH: stack(perLayer(IN.H0, 'initial_h')),
      initialC: hasCellState(first) ? stack(perLayer(IN.C0, 'initial_c')) : undefined,
    });
    if (last.output(0)) values.set(last.output(0), { dims: [T, D, B, H], data: res.Y });
    u.layers.forEach((l, k) => {
      const slice = (v: Float32Array) => ({ dims: [D, B, H], data: v.slice(k * D * B * H, (k + 1) * D * B * H) });
      if (l.output(1)) values.set(l.output(1), slice(res.Y_h));
      if (l.output(2) && res.Y_c) values.set(l.output(2), slice(res.Y_c));
    });
  }
}
