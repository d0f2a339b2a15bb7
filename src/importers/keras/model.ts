// loadLayersModel: a TF.js / Keras Layers model (model.json + weights) on the GPU.
//
// Loading has a pure part (planLayersModel: parse, decode weights, check every shape, decide which
// recurrent layers share one stacked createRnn) and a GPU part (one createRnn per stack).
// Consecutive compatible recurrent layers (see canStack) run as one stacked engine model, so they
// cost one submit and one readback; every other recurrent layer is its own engine model, with a
// readback between it and the next. Embedding, Masking and Dense run on the CPU between them.
import { DestroyedError, FormatError, InputError } from '../../core/errors.js';
import { parseModelJson, type LayerNode, type ModelGraph, type TensorRef } from './format.js';
import { buildCpuLayer, identity, inputLayerShape } from './layers.js';
import {
  buildRecurrentStack,
  canStack,
  isRecurrentClass,
  parseRecurrent,
  recurrentOutputShapes,
  type RecurrentLayer,
} from './recurrent.js';
import { asFloat32, LayerWeightSet, type BuiltLayer, type StaticShape, type Value } from './types.js';
import { concatShards, readWeights } from './weights.js';

/** The weight bytes: one buffer or the shards in manifest order; views (Node's Buffer) are read in place. */
export type LayersWeightData = ArrayBuffer | ArrayBufferView | (ArrayBuffer | ArrayBufferView)[];

export interface PredictOutput {
  data: Float32Array;
  shape: number[];
}

export interface LayersModel {
  /**
   * Runs the model on `x` of `shape` (batch first, e.g. [B, T, F], or [B, T] of indices for an
   * Embedding model). One output → one result; several (return_state, merge_mode None, a
   * Functional model with several outputs) → an array in the model's output order.
   */
  predict(x: Float32Array | Int32Array, shape: number[]): Promise<PredictOutput | PredictOutput[]>;
  /** Frees every GPU buffer the model holds. Idempotent. */
  destroy(): void;
  /** The input shape the model declares (null = any size). */
  readonly inputShape: StaticShape;
  /** The Keras layer names of each engine model, in execution order (stacked layers share one). */
  readonly recurrentStacks: string[][];
}

/** One step of execution: a CPU layer or a recurrent stack, reading `input`, producing `output`'s tensors. */
interface PlannedStep {
  input: TensorRef | null;
  output: string;
  cpu?: BuiltLayer;
  stack?: RecurrentLayer[];
}

export interface LayersPlan {
  graph: ModelGraph;
  inputShape: StaticShape;
  steps: PlannedStep[];
}

/** Everything about loading that needs no GPU: throws FormatError, UnsupportedError or WeightError. */
export function planLayersModel(modelJson: object | string, weightData: LayersWeightData): LayersPlan {
  const { graph, manifest } = parseModelJson(modelJson);
  const weights = readWeights(manifest, concatShards(weightData));
  const shapes = new Map<string, StaticShape[]>();
  const recurrent = new Map<string, RecurrentLayer>();
  const cpu = new Map<string, BuiltLayer>();
  const shapeOf = (ref: TensorRef, who: string): StaticShape => {
    const s = shapes.get(ref.layer)?.[ref.tensorIndex];
    if (!s) throw new FormatError(`${who} reads output ${ref.tensorIndex} of layer ${JSON.stringify(ref.layer)}, which has no such output`);
    return s;
  };
  const inputNode = graph.layers.find((l) => l.name === graph.input.layer);
  if (!inputNode || inputNode.className !== 'InputLayer' || graph.input.tensorIndex !== 0)
    throw new FormatError('the model input must be an InputLayer');
  let inputShape: StaticShape = [];
  for (const node of graph.layers) {
    if (node.className === 'InputLayer') {
      if (node !== inputNode) throw new FormatError(`InputLayer ${JSON.stringify(node.name)} is not the model's input`);
      inputShape = inputLayerShape(node);
      cpu.set(node.name, identity(inputShape));
      shapes.set(node.name, [inputShape]);
      continue;
    }
    const input = shapeOf(node.inputs[0], `layer ${JSON.stringify(node.name)}`);
    const ws = new LayerWeightSet(weights, node.name);
    if (isRecurrentClass(node.className)) {
      const r = parseRecurrent(node, input, ws, graph.kerasMajor);
      recurrent.set(node.name, r);
      shapes.set(node.name, recurrentOutputShapes(r));
    } else {
      const built = buildCpuLayer(node, input, ws, graph.kerasMajor);
      cpu.set(node.name, built);
      shapes.set(node.name, built.outputShapes);
    }
  }
  for (const ref of graph.outputs) shapeOf(ref, 'the model output');
  return { graph, inputShape, steps: planSteps(graph, recurrent, cpu) };
}

/** Orders the work and groups stackable recurrent layers (a layer joins the stack below it when that
 * stack's output feeds it alone and is not a model output). */
function planSteps(graph: ModelGraph, recurrent: Map<string, RecurrentLayer>, cpu: Map<string, BuiltLayer>): PlannedStep[] {
  const consumers = new Map<string, LayerNode[]>();
  for (const n of graph.layers) for (const r of n.inputs) consumers.set(r.layer, [...(consumers.get(r.layer) ?? []), n]);
  const isOutput = new Set(graph.outputs.map((r) => r.layer));
  const steps: PlannedStep[] = [];
  const stackOf = new Map<string, PlannedStep>();
  for (const node of graph.layers) {
    const r = recurrent.get(node.name);
    if (!r) {
      steps.push({ input: node.inputs[0] ?? null, output: node.name, cpu: cpu.get(node.name) });
      continue;
    }
    const ref = node.inputs[0];
    const below = stackOf.get(ref.layer);
    const prev = below ? below.stack![below.stack!.length - 1] : undefined;
    if (below && prev && ref.tensorIndex === 0 && consumers.get(ref.layer)!.length === 1 && !isOutput.has(ref.layer) && canStack(prev, r)) {
      below.stack!.push(r);
      below.output = node.name;
      stackOf.set(node.name, below);
      continue;
    }
    const step: PlannedStep = { input: ref, output: node.name, stack: [r] };
    steps.push(step);
    stackOf.set(node.name, step);
  }
  return steps;
}

/**
 * Loads a TF.js Layers model: `modelJson` is model.json (object or text), `weightData` the weight
 * bytes (one buffer, or the shards in manifest order).
 */
export async function loadLayersModel(device: GPUDevice, modelJson: object | string, weightData: LayersWeightData): Promise<LayersModel> {
  const plan = planLayersModel(modelJson, weightData);
  const built: { step: PlannedStep; layer: BuiltLayer }[] = [];
  try {
    for (const step of plan.steps) {
      built.push({ step, layer: step.cpu ?? (await buildRecurrentStack(device, step.stack!)) });
    }
  } catch (e) {
    for (const b of built) b.layer.destroy();
    throw e;
  }
  return new LoadedModel(plan, built);
}

class LoadedModel implements LayersModel {
  readonly inputShape: StaticShape;
  readonly recurrentStacks: string[][];
  private destroyed = false;

  constructor(
    private readonly plan: LayersPlan,
    private readonly built: { step: PlannedStep; layer: BuiltLayer }[],
  ) {
    this.inputShape = plan.inputShape;
    this.recurrentStacks = built.filter((b) => b.step.stack).map((b) => b.step.stack!.map((l) => l.name));
  }

  async predict(x: Float32Array | Int32Array, shape: number[]): Promise<PredictOutput | PredictOutput[]> {
    if (this.destroyed) throw new DestroyedError('predict() was called after destroy(); load the model again');
    this.checkInput(x, shape);
    const values = new Map<string, Value[]>();
    for (const { step, layer } of this.built) {
      const input: Value =
        step.input === null ? { data: x, shape: [...shape], mask: null } : values.get(step.input.layer)![step.input.tensorIndex];
      values.set(step.output, await layer.run(input));
      if (this.destroyed) throw new DestroyedError('the model was destroyed while predict() was in flight');
    }
    const outputs = this.plan.graph.outputs.map((r) => {
      const v = values.get(r.layer)![r.tensorIndex];
      return { data: v.data instanceof Float32Array ? v.data : asFloat32(v.data), shape: v.shape };
    });
    return outputs.length === 1 ? outputs[0] : outputs;
  }

  private checkInput(x: Float32Array | Int32Array, shape: number[]): void {
    const want = this.inputShape;
    const wanted = `[${want.map((d) => d ?? 'any').join(', ')}]`;
    if (!(x instanceof Float32Array) && !(x instanceof Int32Array))
      throw new InputError(`x must be a Float32Array or an Int32Array, got ${Object.prototype.toString.call(x)}`);
    if (!Array.isArray(shape) || shape.length !== want.length)
      throw new InputError(`shape must have ${want.length} dimensions ${wanted}, got ${JSON.stringify(shape)}`);
    shape.forEach((d, i) => {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d <= 0)
        throw new InputError(`shape[${i}] must be a positive integer, got ${JSON.stringify(d)}`);
      if (want[i] !== null && want[i] !== d) throw new InputError(`shape [${shape}] does not match the model's input ${wanted}`);
    });
    const n = shape.reduce((a, b) => a * b, 1);
    if (x.length !== n) throw new InputError(`x has ${x.length} elements, shape [${shape}] needs ${n}`);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of this.built) b.layer.destroy();
  }
}
