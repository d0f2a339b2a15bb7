// Reads the TF.js Layers model.json (as written by TF.js `model.save()` and by the Python
// `tensorflowjs` converter for Keras 2 and Keras 3) into one normalised graph: a list of layers in
// execution order, each with the single tensor it consumes. Only structure is checked here; what
// each layer means is decided in layers.ts and recurrent.ts.
import { FormatError, UnsupportedError } from '../../core/errors.js';

/** A reference to output `tensorIndex` of layer `layer`. */
export interface TensorRef {
  layer: string;
  tensorIndex: number;
}

export interface LayerNode {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** The tensors the layer consumes: none for an InputLayer, exactly one for every other layer. */
  inputs: TensorRef[];
}

export interface ModelGraph {
  /** 'tfjs-layers 4.22.0', '2.15.0', '3.4.1', …; '' when the file does not say. */
  kerasVersion: string;
  /**
   * Which Keras defined the activations: 3 switches hard_sigmoid to clip(x/6 + 0.5, 0, 1).
   * TF.js and Keras 2 (and files that do not say) are 2.
   */
  kerasMajor: 2 | 3;
  /** Topologically ordered; InputLayer first. */
  layers: LayerNode[];
  input: TensorRef;
  outputs: TensorRef[];
}

/** model.json, split into the topology and the weights manifest. */
export interface ModelJson {
  graph: ModelGraph;
  manifest: unknown;
}

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(obj: Json, key: string, where: string): Json {
  const v = obj[key];
  if (!isObject(v)) throw new FormatError(`${where}.${key} must be an object`);
  return v;
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new FormatError(`${where} must be a string, got ${typeof v}`);
  return v;
}

/** Parses the text or object of a model.json. */
export function parseModelJson(modelJson: object | string): ModelJson {
  let root: unknown = modelJson;
  if (typeof modelJson === 'string') {
    try {
      root = JSON.parse(modelJson);
    } catch (e) {
      throw new FormatError(`model.json is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (!isObject(root)) throw new FormatError('model.json must be an object with modelTopology and weightsManifest');
  if (root.format === 'graph-model') {
    throw new UnsupportedError('this model.json is a TF.js graph model (format "graph-model"); loadLayersModel reads Layers models only');
  }
  const topology = field(root, 'modelTopology', 'model.json');
  // The Python converter nests the Keras model under model_config; TF.js's own save() does not.
  const modelConfig = isObject(topology.model_config) ? topology.model_config : topology;
  const kerasVersion = topology.keras_version === undefined ? '' : str(topology.keras_version, 'modelTopology.keras_version');
  // TF.js's save() hands over `weightSpecs` (one group); files on disk carry `weightsManifest`.
  const manifest = root.weightsManifest ?? (root.weightSpecs !== undefined ? [{ paths: [], weights: root.weightSpecs }] : undefined);
  if (manifest === undefined) throw new FormatError('model.json has no weightsManifest');
  const graph = parseTopology(modelConfig, kerasVersion);
  return { graph, manifest };
}

function majorOf(kerasVersion: string, layers: Json[]): 2 | 3 {
  if (kerasVersion.startsWith('tfjs')) return 2;
  const m = /^(\d+)\./.exec(kerasVersion);
  if (m) return Number(m[1]) >= 3 ? 3 : 2;
  // No version recorded: Keras 3 is the only writer that puts `module` on every layer entry.
  return layers.some((l) => typeof l.module === 'string') ? 3 : 2;
}

function parseTopology(modelConfig: Json, kerasVersion: string): ModelGraph {
  const className = str(modelConfig.class_name, 'modelTopology.class_name');
  const config = modelConfig.config;
  if (className === 'Sequential') {
    // Keras ≤ 2.1 stored a Sequential's config as the bare layer list.
    const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
    if (!Array.isArray(layers)) throw new FormatError('Sequential config.layers must be an array');
    const entries = layers.map((l, i) => layerEntry(l, `layers[${i}]`));
    return sequentialGraph(entries, isObject(config) ? config : {}, kerasVersion);
  }
  if (className === 'Functional' || className === 'Model') {
    if (!isObject(config)) throw new FormatError(`${className} config must be an object`);
    if (!Array.isArray(config.layers)) throw new FormatError(`${className} config.layers must be an array`);
    const entries = config.layers.map((l, i) => layerEntry(l, `layers[${i}]`));
    return functionalGraph(entries, config, kerasVersion);
  }
  throw new UnsupportedError(
    `model class ${JSON.stringify(className)} is not supported; loadLayersModel reads Sequential and Functional (Model) models`,
  );
}

function layerEntry(l: unknown, where: string): Json {
  if (!isObject(l)) throw new FormatError(`${where} must be an object with class_name and config`);
  str(l.class_name, `${where}.class_name`);
  if (!isObject(l.config)) throw new FormatError(`${where}.config must be an object`);
  return l;
}

function layerName(l: Json, where: string): string {
  const cfg = l.config as Json;
  const name = l.name ?? cfg.name;
  if (typeof name !== 'string' || name === '') throw new FormatError(`${where} has no name`);
  return name;
}

/** Every batch shape key Keras and TF.js have used: Keras 2 / TF.js, Keras 3. */
export function batchShapeOf(cfg: Json): unknown {
  return cfg.batch_input_shape ?? cfg.batch_shape;
}

function sequentialGraph(entries: Json[], config: Json, kerasVersion: string): ModelGraph {
  if (entries.length === 0) throw new FormatError('the Sequential model has no layers');
  const layers: LayerNode[] = [];
  const first = entries[0];
  const firstCfg = first.config as Json;
  if (first.class_name !== 'InputLayer') {
    // TF.js and Keras 2 record the input shape on the first layer; Keras 3 on the model (build_input_shape).
    const shape = batchShapeOf(firstCfg) ?? config.build_input_shape;
    if (shape === undefined)
      throw new FormatError('the Sequential model records no input shape (no InputLayer, batch_input_shape or build_input_shape)');
    layers.push({
      name: `${layerName(first, 'layers[0]')}_input`,
      className: 'InputLayer',
      config: { batch_input_shape: shape, dtype: firstCfg.dtype },
      inputs: [],
    });
  }
  entries.forEach((l, i) => {
    const prev = layers.length > 0 ? [{ layer: layers[layers.length - 1].name, tensorIndex: 0 }] : [];
    layers.push({
      name: layerName(l, `layers[${i}]`),
      className: l.class_name as string,
      config: l.config as Json,
      inputs: l.class_name === 'InputLayer' ? [] : prev,
    });
  });
  checkUniqueNames(layers);
  if (layers.slice(1).some((l) => l.className === 'InputLayer'))
    throw new FormatError('a Sequential model may have an InputLayer only first');
  return {
    kerasVersion,
    kerasMajor: majorOf(kerasVersion, entries),
    layers,
    input: { layer: layers[0].name, tensorIndex: 0 },
    outputs: [{ layer: layers[layers.length - 1].name, tensorIndex: 0 }],
  };
}

function checkUniqueNames(layers: LayerNode[]): void {
  const seen = new Set<string>();
  for (const l of layers) {
    if (seen.has(l.name)) throw new FormatError(`two layers are named ${JSON.stringify(l.name)}`);
    seen.add(l.name);
  }
}

function index(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1e6)
    throw new FormatError(`${where} must be a small non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}

/** [name, node_index, tensor_index, kwargs?] (Keras 2, TF.js) → a TensorRef; shared-layer calls are refused. */
function historyRef(v: unknown, where: string): TensorRef {
  if (!Array.isArray(v) || v.length < 3) throw new FormatError(`${where} must be [layer_name, node_index, tensor_index]`);
  const layer = str(v[0], `${where}[0]`);
  if (index(v[1], `${where}[1]`) !== 0)
    throw new UnsupportedError(`${where}: layer ${JSON.stringify(layer)} is called more than once (shared layers are not supported)`);
  return { layer, tensorIndex: index(v[2], `${where}[2]`) };
}

/** Keras 3 writes an argument as {class_name: '__keras_tensor__', config: {keras_history}}. */
function kerasTensorRef(v: unknown, where: string): TensorRef {
  if (!isObject(v) || v.class_name !== '__keras_tensor__' || !isObject(v.config)) {
    throw new UnsupportedError(`${where}: only tensor arguments are supported, got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  return historyRef(v.config.keras_history, `${where}.keras_history`);
}

/** Keyword arguments other than training flags change what a call computes (initial_state, mask, …). */
function checkKwargs(kwargs: unknown, where: string): void {
  if (kwargs === undefined || kwargs === null) return;
  if (!isObject(kwargs)) throw new FormatError(`${where} must be an object`);
  for (const [k, v] of Object.entries(kwargs)) {
    if (v === null || v === undefined || k === 'training') continue;
    throw new UnsupportedError(`${where}: call argument ${JSON.stringify(k)} is not supported (layers take exactly one input tensor)`);
  }
}

function inboundRefs(l: Json, name: string): TensorRef[] {
  const nodes = l.inbound_nodes;
  const where = `layer ${JSON.stringify(name)} inbound_nodes`;
  if (nodes === undefined) return [];
  if (!Array.isArray(nodes)) throw new FormatError(`${where} must be an array`);
  if (nodes.length === 0) return [];
  if (nodes.length > 1)
    throw new UnsupportedError(`layer ${JSON.stringify(name)} is called ${nodes.length} times (shared layers are not supported)`);
  const node = nodes[0];
  let refs: TensorRef[];
  if (Array.isArray(node)) {
    refs = node.map((r, i) => {
      if (Array.isArray(r)) checkKwargs(r[3], `${where}[0][${i}][3]`);
      return historyRef(r, `${where}[0][${i}]`);
    });
  } else if (isObject(node)) {
    if (!Array.isArray(node.args)) throw new FormatError(`${where}[0].args must be an array`);
    checkKwargs(node.kwargs, `${where}[0].kwargs`);
    refs = node.args.map((a, i) => kerasTensorRef(a, `${where}[0].args[${i}]`));
  } else {
    throw new FormatError(`${where}[0] must be an array or an object`);
  }
  if (refs.length !== 1)
    throw new UnsupportedError(`layer ${JSON.stringify(name)} takes ${refs.length} input tensors; only single-input layers are supported`);
  return refs;
}

/** input_layers / output_layers: a list of refs, or (Keras 3, one tensor) a single flat ref. */
function refList(v: unknown, where: string): TensorRef[] {
  if (!Array.isArray(v)) throw new FormatError(`${where} must be an array`);
  if (v.length > 0 && typeof v[0] === 'string') return [historyRef(v, where)];
  return v.map((r, i) => historyRef(r, `${where}[${i}]`));
}

function functionalGraph(entries: Json[], config: Json, kerasVersion: string): ModelGraph {
  const nodes: LayerNode[] = entries.map((l, i) => {
    const name = layerName(l, `layers[${i}]`);
    const className = l.class_name as string;
    const inputs = inboundRefs(l, name);
    if ((className === 'InputLayer') !== (inputs.length === 0)) {
      throw new FormatError(
        `layer ${JSON.stringify(name)} (${className}) ${inputs.length === 0 ? 'has no input' : 'is an InputLayer with inputs'}`,
      );
    }
    return { name, className, config: l.config as Json, inputs };
  });
  checkUniqueNames(nodes);
  const inputs = refList(config.input_layers, 'config.input_layers');
  const outputs = refList(config.output_layers, 'config.output_layers');
  if (inputs.length !== 1) throw new UnsupportedError(`the model has ${inputs.length} inputs; only single-input models are supported`);
  if (outputs.length === 0) throw new FormatError('the model has no outputs');
  return { kerasVersion, kerasMajor: majorOf(kerasVersion, entries), layers: topoSort(nodes), input: inputs[0], outputs };
}

/** Kahn's algorithm (iterative: a corrupt file must not overflow the stack); refuses unknown names and cycles. */
function topoSort(nodes: LayerNode[]): LayerNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const waiting = new Map<string, number>();
  const consumers = new Map<string, LayerNode[]>();
  for (const n of nodes) {
    for (const r of n.inputs) {
      if (!byName.has(r.layer))
        throw new FormatError(`layer ${JSON.stringify(n.name)} reads from unknown layer ${JSON.stringify(r.layer)}`);
      consumers.set(r.layer, [...(consumers.get(r.layer) ?? []), n]);
    }
    waiting.set(n.name, n.inputs.length);
  }
  const ready = nodes.filter((n) => n.inputs.length === 0);
  const order: LayerNode[] = [];
  while (ready.length > 0) {
    const n = ready.shift()!;
    order.push(n);
    for (const c of consumers.get(n.name) ?? []) {
      const left = waiting.get(c.name)! - 1;
      waiting.set(c.name, left);
      if (left === 0) ready.push(c);
    }
  }
  if (order.length !== nodes.length) throw new FormatError('the layer graph has a cycle');
  return order;
}
