// Loading an ONNX model, before any GPU work: decode (proto.ts); check every node's op, domain and
// attributes up front (an unsupported one is an UnsupportedError naming it and the node); sort the
// graph; fold everything that only depends on initializers and Constant nodes; fuse stacked
// recurrent nodes (fusion.ts); and group the nodes into units: CPU ops (cpu/) and recurrent units
// whose weights are read here where they are constant. session.ts builds and runs the result.
import { FormatError, InputError, UnsupportedError } from '../core/errors.js';
import { cellTakes, hasCellState } from '../model/cells.js';
import type { Rnn } from '../run/api.js';
import { Attrs, nodeLabel } from './attrs.js';
import { CPU_OPS, type OpContext } from './cpu/ops.js';
import { findChains, type Chain } from './fusion.js';
import { decodeModel, type NodeData, type ValueInfoData } from './proto.js';
import { IN, parseRecurrent, RECURRENT_OPS, recurrentWeights, type RecurrentNode, type RecurrentWeights } from './recurrent.js';
import { isFloatType, isIntType, tensorFromProto, typeName, type Tensor } from './tensor.js';

export const MIN_OPSET = 7;

export const MAX_OPSET = 22;

export type Unit =
  | { kind: 'cpu'; index: number; node: NodeData; ctx: OpContext }
  | { kind: 'recurrent'; index: number; layers: RecurrentNode[]; weights?: RecurrentWeights[]; rnn?: Rnn };

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
    if (Object.hasOwn(RECURRENT_OPS, n.opType)) recurrent.set(i, parseRecurrent(n));
    else if (Object.hasOwn(CPU_OPS, n.opType))
      contexts.set(i, { node: n, opset, attrs: new Attrs(n, CPU_OPS[n.opType].attributes), label });
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
    if (!hasCellState(r) && r.output(2)) throw new FormatError(`${r.label}: ${r.node.opType} has no third output (Y_c)`);
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
    const names = u.layers.flatMap((l) =>
      [IN.W, IN.R, IN.B, ...(cellTakes(l.cell, 'P') ? [IN.P] : [])].map((k) => l.input(k)).filter(Boolean),
    );
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
