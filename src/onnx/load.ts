// Loading an ONNX model, before any GPU work: decode (proto.ts); check every node's op, domain and
// attributes up front (an unsupported one is an UnsupportedError naming it and the node), in If
// branches too; sort each graph; fold everything that only depends on initializers and Constant
// nodes (Silero's gate-reordering Slices and Concats of its LSTM weights); fuse stacked recurrent
// nodes (fusion.ts); and group the nodes into units: ops (run on the CPU or the GPU, graph.ts
// decides per feed combination), recurrent units whose weights are read here where they are
// constant, and Ifs with their prepared branches. session.ts builds and runs the result.
import { FormatError, InputError, UnsupportedError } from '../core/errors.js';
import { cellTakes, hasCellState } from '../model/cells.js';
import type { Rnn } from '../run/api.js';
import { Attrs, nodeLabel } from './attrs.js';
import { CPU_OPS, type OpContext } from './cpu/ops.js';
import { findChains, type Chain } from './fusion.js';
import { GPU_OPS } from './gpu/ops.js';
import { decodeModel, type GraphData, type NodeData, type ValueInfoData } from './proto.js';
import { IN, parseRecurrent, RECURRENT_OPS, recurrentWeights, type RecurrentNode, type RecurrentWeights } from './recurrent.js';
import { isFloatType, isIntType, tensorFromProto, typeName, type Tensor } from './tensor.js';

export const MIN_OPSET = 7;

export const MAX_OPSET = 22;

/** Names visible in a graph: its own values, then its enclosing graphs' (If branches see outer names). */
export class Scope<T> {
  private readonly own = new Map<string, T>();
  constructor(readonly parent?: Scope<T>) {}
  get(name: string): T | undefined {
    return this.own.get(name) ?? this.parent?.get(name);
  }
  has(name: string): boolean {
    return this.own.has(name) || !!this.parent?.has(name);
  }
  hasOwn(name: string): boolean {
    return this.own.has(name);
  }
  set(name: string, v: T): void {
    this.own.set(name, v);
  }
}

export type Unit =
  | { kind: 'op'; index: number; node: NodeData; ctx: OpContext }
  | { kind: 'recurrent'; index: number; layers: RecurrentNode[]; weights?: RecurrentWeights[]; rnn?: Rnn }
  | { kind: 'if'; index: number; node: NodeData; label: string; thenBranch: PreparedGraph; elseBranch: PreparedGraph };

/** A graph (the model's, or an If branch) ready to specialise: its folded constants and its units in order. */
export interface PreparedGraph {
  constants: Scope<Tensor>;
  units: Unit[];
  /** The graph's output names, in order (an If's outputs take a branch's by position). */
  outputs: string[];
  /** How many units consume each value (the specialiser fuses an activation into its only producer). */
  consumers: Map<string, number>;
}

export interface PreparedModel {
  inputs: ValueInfoData[];
  outputs: ValueInfoData[];
  graph: PreparedGraph;
  opset: number;
}

/** Every op the importer runs, outside the recurrent ones: on the CPU, on the GPU, or either. */
function opAttributes(op: string): readonly string[] | undefined {
  const cpu = Object.hasOwn(CPU_OPS, op) ? CPU_OPS[op].attributes : undefined;
  const gpu = Object.hasOwn(GPU_OPS, op) ? GPU_OPS[op].attributes : undefined;
  if (!cpu && !gpu) return undefined;
  return [...new Set([...(cpu ?? []), ...(gpu ?? [])])];
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

  const opsetEntry = m.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (!opsetEntry) throw new FormatError('the model imports no version of the default ONNX operator set (opset_import)');
  const opset = opsetEntry.version;
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new UnsupportedError(`the model uses ONNX opset ${opset}; the importer supports opsets ${MIN_OPSET} to ${MAX_OPSET}`);
  }
  const initializerNames = new Set(g.initializers.map((t) => t.name));
  const inputs = g.inputs.filter((v) => !initializerNames.has(v.name));
  for (const v of [...inputs, ...g.outputs]) {
    if (!v.name) throw new FormatError('a graph input or output has no name');
    if (v.kind !== 'tensor') throw new UnsupportedError(`graph value '${v.name}' is a ${v.kind}; only tensors are supported`);
    if (v.elemType !== undefined && !isFloatType(v.elemType) && !isIntType(v.elemType)) {
      throw new UnsupportedError(`graph value '${v.name}' has element type ${typeName(v.elemType)}, which the importer does not run`);
    }
  }
  const graph = prepareGraph(g, opset, new Scope<Tensor>(), new Set(inputs.map((v) => v.name)), 'the graph');
  return { inputs, outputs: g.outputs, graph, opset };
}

/**
 * One graph: `outer` holds the enclosing graphs' constants, `visible` every name they define
 * (graph inputs included). Branches are prepared recursively; their free names count as inputs of
 * the If node when scheduling the enclosing graph.
 */
function prepareGraph(g: GraphData, opset: number, outer: Scope<Tensor>, visible: Set<string>, what: string): PreparedGraph {
  if (g.hasSparseInitializers) throw new UnsupportedError(`${what} has sparse initializers, which the ONNX importer does not read`);
  // Values known at load time: initializers, then everything folded from them.
  const constants = new Scope<Tensor>(outer);
  for (const t of g.initializers) {
    if (!t.name) throw new FormatError('an initializer has no name');
    if (constants.hasOwn(t.name)) throw new FormatError(`initializer '${t.name}' is defined twice`);
    constants.set(t.name, tensorFromProto(t, 'initializer'));
  }
  const localInputs = new Set(g.inputs.map((v) => v.name).filter((n) => !constants.hasOwn(n)));

  // Check every node before doing anything else, so an unsupported op fails fast and by name.
  const producers = new Map<string, number>();
  const recurrent = new Map<number, RecurrentNode>();
  const contexts = new Map<number, OpContext>();
  const branches = new Map<number, { thenBranch: GraphData; elseBranch: GraphData }>();
  g.nodes.forEach((n, i) => {
    const label = nodeLabel(n);
    if (n.domain !== '' && n.domain !== 'ai.onnx')
      throw new UnsupportedError(`${label}: operator domain '${n.domain}' is not supported (only the default ONNX domain)`);
    if (Object.hasOwn(RECURRENT_OPS, n.opType)) recurrent.set(i, parseRecurrent(n));
    else if (n.opType === 'If') {
      const a = new Attrs(n, ['then_branch', 'else_branch']);
      const then = a.graph('then_branch');
      const els = a.graph('else_branch');
      if (!then || !els) throw new FormatError(`${label}: If needs both then_branch and else_branch`);
      if (n.inputs.length !== 1 || !n.inputs[0]) throw new FormatError(`${label}: If takes exactly one input, the condition`);
      if (then.outputs.length !== n.outputs.length || els.outputs.length !== n.outputs.length)
        throw new FormatError(
          `${label}: If has ${n.outputs.length} outputs but its branches ${then.outputs.length} and ${els.outputs.length}`,
        );
      branches.set(i, { thenBranch: then, elseBranch: els });
    } else {
      const attributes = opAttributes(n.opType);
      if (!attributes) throw new UnsupportedError(`${label}: operator '${n.opType}' is not supported by the ONNX importer`);
      contexts.set(i, { node: n, opset, attrs: new Attrs(n, attributes), label });
    }
    for (const o of n.outputs) {
      if (!o) continue;
      if (producers.has(o) || constants.hasOwn(o) || localInputs.has(o))
        throw new FormatError(`${label}: output '${o}' is defined more than once`);
      producers.set(o, i);
    }
  });
  const known = (name: string) => constants.has(name) || producers.has(name) || localInputs.has(name) || visible.has(name);
  g.nodes.forEach((n) => {
    for (const i of n.inputs)
      if (i && !known(i)) throw new FormatError(`${nodeLabel(n)}: input '${i}' is not produced by any node, initializer or graph input`);
  });
  for (const o of g.outputs) if (!known(o.name)) throw new FormatError(`${what}: output '${o.name}' is not produced by any node`);
  for (const r of recurrent.values()) {
    if (!hasCellState(r) && r.output(2)) throw new FormatError(`${r.label}: ${r.node.opType} has no third output (Y_c)`);
  }

  // The branches, with every name of this graph visible; what they use from outside is the If's dependency.
  const inner = new Set([...visible, ...localInputs, ...producers.keys()]);
  const preparedBranches = new Map<number, { thenBranch: PreparedGraph; elseBranch: PreparedGraph; uses: string[] }>();
  for (const [i, br] of branches) {
    const label = nodeLabel(g.nodes[i]);
    const then = prepareGraph(br.thenBranch, opset, constants, inner, `${label} then_branch`);
    const els = prepareGraph(br.elseBranch, opset, constants, inner, `${label} else_branch`);
    const uses = [...new Set([...freeNames(br.thenBranch), ...freeNames(br.elseBranch)])].filter((x) => producers.has(x));
    preparedBranches.set(i, { thenBranch: then, elseBranch: els, uses });
  }
  const consumes = (i: number) => [...g.nodes[i].inputs.filter(Boolean), ...(preparedBranches.get(i)?.uses ?? [])];

  // Topological order of single nodes; constant folding along it.
  const order = schedule(g.nodes.map((n, i) => ({ index: i, consumes: consumes(i), produces: n.outputs.filter(Boolean) })));
  if (!order) throw new FormatError(`${what} has a cycle`);
  const folded = new Set<number>();
  for (const i of order) {
    const ctx = contexts.get(i);
    const n = g.nodes[i];
    // Only CPU ops fold; Shape only needs its input's dims, but those of a graph input are not known yet.
    if (!ctx || !Object.hasOwn(CPU_OPS, n.opType) || !n.inputs.every((x) => !x || constants.has(x))) continue;
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
  g.nodes.forEach((_, i) => {
    for (const x of new Set(consumes(i))) consumers.set(x, [...(consumers.get(x) ?? []), i]);
  });
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const chains = findChains({ nodes: g.nodes, recurrent, consumers, graphOutputs, constant: (x) => constants.get(x), opset });
  const build = (c: Chain[]) => buildUnits(g.nodes, order, folded, contexts, recurrent, preparedBranches, consumes, c);
  const units = build(chains) ?? build([])!;

  // Weight shapes are checked here for every unit whose weights are constant (the rest per run).
  for (const u of units) {
    if (u.kind !== 'recurrent') continue;
    const names = u.layers.flatMap((l) =>
      [IN.W, IN.R, IN.B, ...(cellTakes(l.cell, 'P') ? [IN.P] : [])].map((k) => l.input(k)).filter(Boolean),
    );
    if (names.every((n) => constants.has(n))) u.weights = u.layers.map((l) => recurrentWeights(l, (n) => constants.get(n)));
  }
  const useCount = new Map<string, number>();
  for (const [name, users] of consumers) useCount.set(name, users.filter((i) => !folded.has(i)).length);
  return { constants, units, outputs: g.outputs.map((o) => o.name), consumers: useCount };
}

/** The names a graph reads that it does not define (its outer-scope references), branches included. */
function freeNames(g: GraphData): string[] {
  const defined = new Set([...g.initializers.map((t) => t.name), ...g.inputs.map((v) => v.name), ...g.nodes.flatMap((n) => n.outputs)]);
  const out = new Set<string>();
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i && !defined.has(i)) out.add(i);
    for (const a of n.attributes) if (a.g) for (const f of freeNames(a.g)) if (!defined.has(f)) out.add(f);
  }
  for (const o of g.outputs) if (!defined.has(o.name)) out.add(o.name);
  return [...out];
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
  branches: Map<number, { thenBranch: PreparedGraph; elseBranch: PreparedGraph }>,
  consumesOf: (i: number) => string[],
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
      const consumes = members.flatMap((m) => consumesOf(m).filter((x) => !produces.includes(x)));
      items.push({
        index: i,
        consumes,
        produces,
        unit: { kind: 'recurrent', index: i, layers: chain.layers.map((l) => recurrent.get(l)!) },
      });
      continue;
    }
    const n = nodes[i];
    const br = branches.get(i);
    const unit: Unit = recurrent.has(i)
      ? { kind: 'recurrent', index: i, layers: [recurrent.get(i)!] }
      : br
        ? { kind: 'if', index: i, node: n, label: nodeLabel(n), thenBranch: br.thenBranch, elseBranch: br.elseBranch }
        : { kind: 'op', index: i, node: n, ctx: contexts.get(i)! };
    items.push({ index: i, consumes: consumesOf(i), produces: n.outputs.filter(Boolean), unit });
  }
  const sorted = schedule(items);
  if (!sorted) return undefined;
  const byIndex = new Map(items.map((it) => [it.index, it.unit]));
  return sorted.map((i) => byIndex.get(i)!);
}
