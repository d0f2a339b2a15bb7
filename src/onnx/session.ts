// loadOnnx: an ONNX model as a session with onnxruntime's run(feeds) -> outputs shape.
//
// Load: decode (proto.ts), check every node's op, domain and attributes up front (an unsupported
// one is an UnsupportedError naming it and the node), sort the graph, fold everything that only
// depends on initializers and Constant nodes, fuse stacked recurrent nodes (fusion.ts), and build
// the engine models of recurrent nodes whose weights are constant. Run: check the feeds against
// the declared inputs, then execute the schedule: CPU glue in ops.ts, recurrent units on the GPU.
import { DestroyedError, FormatError, InputError, UnsupportedError } from '../core/errors.js';
import { createRnn, type Rnn } from '../run/model.js';
import { Attrs, nodeLabel } from './attrs.js';
import { findChains, type Chain } from './fusion.js';
import { CPU_OPS, type OpContext } from './ops.js';
import { decodeModel, type NodeData, type ValueInfoData } from './proto.js';
import {
  IN,
  parseRecurrent,
  RECURRENT_OPS,
  recurrentSpec,
  recurrentWeights,
  runRecurrent,
  sequenceLens,
  sequenceShape,
  stateInput,
  type RecurrentNode,
  type RecurrentWeights,
} from './recurrent.js';
import { isFloat, isFloatType, isIntType, numel, tensorFromProto, typeName, type Tensor } from './tensor.js';

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

const MIN_OPSET = 7;
const MAX_OPSET = 22;

export type Unit =
  | { kind: 'cpu'; index: number; node: NodeData; ctx: OpContext }
  | { kind: 'recurrent'; index: number; layers: RecurrentNode[]; weights?: RecurrentWeights[]; rnn?: Rnn };

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

export interface PreparedModel {
  inputs: ValueInfoData[];
  outputs: ValueInfoData[];
  constants: Map<string, Tensor>;
  units: Unit[];
}

/**
 * Everything loadOnnx does before touching the GPU: decode, check, sort, fold, fuse. Separate so
 * the fuzz test can exercise the whole parser thousands of times without compiling pipelines.
 */
export function prepareOnnx(model: Uint8Array): PreparedModel {
  if (!(model instanceof Uint8Array))
    throw new InputError('loadOnnx(device, model): model must be a Uint8Array with the bytes of an .onnx file');
  const m = decodeModel(model);
  const g = m.graph;
  if (g.hasSparseInitializers) throw new UnsupportedError('the graph has sparse initializers, which the ONNX importer does not read');

  const opsetEntry = m.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (!opsetEntry) throw new FormatError('the model imports no version of the default ONNX operator set (opset_import)');
  const opset = opsetEntry.version;
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new UnsupportedError(`the model uses ONNX opset ${opset}; the importer supports opsets ${MIN_OPSET} to ${MAX_OPSET}`);
  }

  // Values known at load time: initializers, then everything folded from them.
  const constants = new Map<string, Tensor>();
  for (const t of g.initializers) {
    if (!t.name) throw new FormatError('an initializer has no name');
    if (constants.has(t.name)) throw new FormatError(`initializer '${t.name}' is defined twice`);
    constants.set(t.name, tensorFromProto(t, 'initializer'));
  }
  const inputs = g.inputs.filter((v) => !constants.has(v.name));
  for (const v of [...inputs, ...g.outputs]) {
    if (!v.name) throw new FormatError('a graph input or output has no name');
    if (v.kind !== 'tensor') throw new UnsupportedError(`graph value '${v.name}' is a ${v.kind}; only tensors are supported`);
    if (v.elemType !== undefined && !isFloatType(v.elemType) && !isIntType(v.elemType)) {
      throw new UnsupportedError(`graph value '${v.name}' has element type ${typeName(v.elemType)}, which the importer does not run`);
    }
  }

  // Check every node before doing anything else, so an unsupported op fails fast and by name.
  const producers = new Map<string, number>();
  const recurrent = new Map<number, RecurrentNode>();
  const contexts = new Map<number, OpContext>();
  g.nodes.forEach((n, i) => {
    const label = nodeLabel(n);
    if (n.domain !== '' && n.domain !== 'ai.onnx')
      throw new UnsupportedError(`${label}: operator domain '${n.domain}' is not supported (only the default ONNX domain)`);
    if (n.opType in RECURRENT_OPS) recurrent.set(i, parseRecurrent(n));
    else if (n.opType in CPU_OPS) contexts.set(i, { node: n, opset, attrs: new Attrs(n, CPU_OPS[n.opType].attributes), label });
    else throw new UnsupportedError(`${label}: operator '${n.opType}' is not supported by the ONNX importer`);
    for (const o of n.outputs) {
      if (!o) continue;
      if (producers.has(o) || constants.has(o) || inputs.some((v) => v.name === o))
        throw new FormatError(`${label}: output '${o}' is defined more than once`);
      producers.set(o, i);
    }
  });
  const known = (name: string) => constants.has(name) || producers.has(name) || inputs.some((v) => v.name === name);
  g.nodes.forEach((n) => {
    for (const i of n.inputs)
      if (i && !known(i)) throw new FormatError(`${nodeLabel(n)}: input '${i}' is not produced by any node, initializer or graph input`);
  });
  for (const o of g.outputs) if (!known(o.name)) throw new FormatError(`graph output '${o.name}' is not produced by any node`);
  for (const r of recurrent.values()) {
    if (r.cell !== 'lstm' && r.output(2)) throw new FormatError(`${r.label}: ${r.node.opType} has no third output (Y_c)`);
  }

  // Topological order of single nodes; constant folding along it.
  const order = schedule(g.nodes.map((n, i) => ({ index: i, consumes: n.inputs.filter(Boolean), produces: n.outputs.filter(Boolean) })));
  if (!order) throw new FormatError('the graph has a cycle');
  const folded = new Set<number>();
  for (const i of order) {
    const ctx = contexts.get(i);
    if (!ctx) continue;
    const n = g.nodes[i];
    // Shape only needs its input's dims, but those of a graph input are not known yet.
    if (!n.inputs.every((x) => !x || constants.has(x))) continue;
    const outs = CPU_OPS[n.opType].run(
      ctx,
      n.inputs.map((x) => (x ? constants.get(x) : undefined)),
    );
    n.outputs.forEach((o, k) => {
      if (o && outs[k]) constants.set(o, outs[k]!);
    });
    folded.add(i);
  }

  // Fusion, then the unit schedule (falls back to no fusion if fusing would create a cycle).
  const consumers = new Map<string, number[]>();
  g.nodes.forEach((n, i) => {
    for (const x of new Set(n.inputs)) if (x) consumers.set(x, [...(consumers.get(x) ?? []), i]);
  });
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const chains = findChains({ nodes: g.nodes, recurrent, consumers, graphOutputs, constant: (x) => constants.get(x), opset });
  let units = buildUnits(g.nodes, order, folded, contexts, recurrent, chains);
  if (!units) units = buildUnits(g.nodes, order, folded, contexts, recurrent, [])!;

  // Weight shapes are checked here for every unit whose weights are constant (the rest per run).
  for (const u of units) {
    if (u.kind !== 'recurrent') continue;
    const names = u.layers.flatMap((l) => [IN.W, IN.R, IN.B, ...(l.cell === 'lstm' ? [IN.P] : [])].map((k) => l.input(k)).filter(Boolean));
    if (names.every((n) => constants.has(n))) u.weights = u.layers.map((l) => recurrentWeights(l, (n) => constants.get(n)));
  }
  return { inputs, outputs: g.outputs, constants, units };
}

interface Schedulable {
  index: number;
  consumes: string[];
  produces: string[];
}

/** Kahn's algorithm, ties broken by position in the file; undefined on a cycle. */
function schedule(items: Schedulable[]): number[] | undefined {
  const producer = new Map<string, number>();
  items.forEach((it, k) => it.produces.forEach((o) => producer.set(o, k)));
  const deps = items.map(
    (it, k) => new Set(it.consumes.map((c) => producer.get(c)).filter((p): p is number => p !== undefined && p !== k)),
  );
  const users = items.map(() => [] as number[]);
  deps.forEach((ds, k) => ds.forEach((d) => users[d].push(k)));
  const remaining = deps.map((d) => d.size);
  const ready = remaining.flatMap((r, k) => (r === 0 ? [k] : []));
  const out: number[] = [];
  while (ready.length) {
    ready.sort((a, b) => items[a].index - items[b].index);
    const k = ready.shift()!;
    out.push(items[k].index);
    for (const u of users[k]) if (--remaining[u] === 0) ready.push(u);
  }
  return out.length === items.length ? out : undefined;
}

function buildUnits(
  nodes: NodeData[],
  order: number[],
  folded: Set<number>,
  contexts: Map<number, OpContext>,
  recurrent: Map<number, RecurrentNode>,
  chains: Chain[],
): Unit[] | undefined {
  const inChain = new Map<number, Chain>();
  for (const c of chains) for (const i of [...c.layers, ...c.glue]) inChain.set(i, c);
  const items: (Schedulable & { unit: Unit })[] = [];
  for (const i of order) {
    if (folded.has(i)) continue;
    const chain = inChain.get(i);
    if (chain) {
      if (chain.layers[0] !== i) continue; // one unit per chain, created at its first layer
      const members = [...chain.layers, ...chain.glue];
      const produces = members.flatMap((m) => nodes[m].outputs.filter(Boolean));
      const consumes = members.flatMap((m) => nodes[m].inputs.filter((x) => x && !produces.includes(x)));
      items.push({
        index: i,
        consumes,
        produces,
        unit: { kind: 'recurrent', index: i, layers: chain.layers.map((l) => recurrent.get(l)!) },
      });
      continue;
    }
    const n = nodes[i];
    const unit: Unit = recurrent.has(i)
      ? { kind: 'recurrent', index: i, layers: [recurrent.get(i)!] }
      : { kind: 'cpu', index: i, node: n, ctx: contexts.get(i)! };
    items.push({ index: i, consumes: n.inputs.filter(Boolean), produces: n.outputs.filter(Boolean), unit });
  }
  const sorted = schedule(items);
  if (!sorted) return undefined;
  const byIndex = new Map(items.map((it) => [it.index, it.unit]));
  return sorted.map((i) => byIndex.get(i)!);
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
      initialC: first.cell === 'lstm' ? stack(perLayer(IN.C0, 'initial_c')) : undefined,
    });
    if (last.output(0)) values.set(last.output(0), { dims: [T, D, B, H], data: res.Y });
    u.layers.forEach((l, k) => {
      const slice = (v: Float32Array) => ({ dims: [D, B, H], data: v.slice(k * D * B * H, (k + 1) * D * B * H) });
      if (l.output(1)) values.set(l.output(1), slice(res.Y_h));
      if (l.output(2) && res.Y_c) values.set(l.output(2), slice(res.Y_c));
    });
  }
}
