// Fusing stacked recurrent nodes into one multi-layer engine model.
//
// ONNX has no multi-layer LSTM: torch.onnx.export writes one node per layer and reshapes each
// layer's Y [T, D, B, H] into the next layer's X [T, B, D·H] on the way:
//   bidirectional:  Y -> Transpose(perm [0, 2, 1, 3]) -> Reshape([0, 0, -1]) -> next X
//   unidirectional: Y -> Squeeze(axis 1)                                     -> next X
// That is exactly how the engine chains layers internally (inner layers write [T, B, D·Hout] for
// the next layer's GEMM), so a chain of such nodes becomes ONE createRnn with numLayers = length:
// the intermediate sequences never leave the GPU and the whole stack is one submit.
//
// What is matched, and nothing more (anything else runs node by node with CPU glue, which gives
// the same numbers, only slower):
// - the same op, direction, hidden_size, activations with alpha/beta, clip, input_forget and
//   linear_before_reset, layout 0, all weights constant (initializers or folded constants), and the
//   same sequence_lens input (or none) on every layer;
// - the glue above, each intermediate value consumed only by the next step of the pattern and not
//   a graph output; the Reshape's shape a constant [0, 0, -1]; the Squeeze's axes a constant [1];
// - each inner layer's Y_h / Y_c either unused or consumed only as graph outputs, directly or
//   through a Concat whose output is a graph output (torch concatenates the layers' states).
// Per-layer initial_h / initial_c may be anything computed outside the chain; load.ts checks
// that the fused schedule has no cycle and otherwise falls back to unfused execution.
import { cellTakes } from '../model/cells.js';
import type { NodeData } from './proto.js';
import { IN, type RecurrentNode } from './recurrent.js';
import { intValues, type Tensor } from './tensor.js';

export interface Chain {
  /** Node indices of the recurrent layers, first to last. */
  layers: number[];
  /** Node indices of the glue between them (replaced by the engine's own chaining). */
  glue: number[];
}

export interface FusionGraph {
  nodes: NodeData[];
  recurrent: Map<number, RecurrentNode>;
  consumers: Map<string, number[]>;
  graphOutputs: Set<string>;
  constant(name: string): Tensor | undefined;
  opset: number;
}

function sameOptions(a: RecurrentNode, b: RecurrentNode): boolean {
  return a.cell === b.cell && a.hiddenSize === b.hiddenSize && JSON.stringify(a.options) === JSON.stringify(b.options);
}

function equals(values: number[] | undefined, want: number[]): boolean {
  return !!values && values.length === want.length && values.every((v, i) => v === want[i]);
}

/** The single consumer of `value`, if it has exactly one and is not also a graph output. */
function onlyConsumer(g: FusionGraph, value: string): number | undefined {
  if (!value || g.graphOutputs.has(value)) return undefined;
  const c = g.consumers.get(value) ?? [];
  return c.length === 1 ? c[0] : undefined;
}

function constInts(g: FusionGraph, name: string | undefined): number[] | undefined {
  const t = name ? g.constant(name) : undefined;
  return t && !(t.data instanceof Float32Array) ? intValues(t, name!) : undefined;
}

function attrInts(node: NodeData, name: string): number[] | undefined {
  const a = node.attributes.find((x) => x.name === name);
  return a ? a.ints : undefined;
}

/** Follows the torch glue from layer `from`'s Y to the next node's X: [next node, glue nodes]. */
function followGlue(g: FusionGraph, from: RecurrentNode): [number, number[]] | undefined {
  const first = onlyConsumer(g, from.output(0));
  if (first === undefined) return undefined;
  const n1 = g.nodes[first];
  if (
    n1.opType === 'Transpose' &&
    n1.inputs[0] === from.output(0) &&
    n1.attributes.length === 1 &&
    equals(attrInts(n1, 'perm'), [0, 2, 1, 3])
  ) {
    const second = onlyConsumer(g, n1.outputs[0]);
    if (second === undefined) return undefined;
    const n2 = g.nodes[second];
    const allowZero = n2.attributes.find((a) => a.name === 'allowzero');
    if (n2.opType !== 'Reshape' || n2.inputs[0] !== n1.outputs[0] || allowZero?.i || n2.attributes.length > (allowZero ? 1 : 0))
      return undefined;
    if (!equals(constInts(g, n2.inputs[1]), [0, 0, -1])) return undefined;
    const next = onlyConsumer(g, n2.outputs[0]);
    return next === undefined ? undefined : [next, [first, second]];
  }
  if (n1.opType === 'Squeeze' && n1.inputs[0] === from.output(0) && from.directions === 1) {
    const axes = g.opset >= 13 ? constInts(g, n1.inputs[1]) : attrInts(n1, 'axes');
    if (!equals(axes, [1]) || n1.attributes.length > (g.opset >= 13 ? 0 : 1)) return undefined;
    const next = onlyConsumer(g, n1.outputs[0]);
    return next === undefined ? undefined : [next, [first]];
  }
  return undefined;
}

/** Inner layers' states may only leave the chain as graph outputs (directly or via Concat). */
function statesOnlyToGraph(g: FusionGraph, r: RecurrentNode): boolean {
  for (const out of [r.output(1), r.output(2)]) {
    if (!out) continue;
    for (const c of g.consumers.get(out) ?? []) {
      const n = g.nodes[c];
      if (n.opType !== 'Concat' || n.outputs.length !== 1 || !g.graphOutputs.has(n.outputs[0])) return false;
    }
  }
  return true;
}

function weightsConstant(g: FusionGraph, r: RecurrentNode): boolean {
  return [IN.W, IN.R, IN.B, IN.P].every((i) =>
    i === IN.P && !cellTakes(r.cell, 'P') ? true : !r.input(i) || g.constant(r.input(i)) !== undefined,
  );
}

/** Finds every fusable chain of two or more recurrent nodes. */
export function findChains(g: FusionGraph): Chain[] {
  const chains: Chain[] = [];
  const taken = new Set<number>();
  const hasPredecessor = new Set<number>();
  const nextOf = new Map<number, [number, number[]]>();
  for (const [i, r] of g.recurrent) {
    if (r.batchMajor || !weightsConstant(g, r) || !statesOnlyToGraph(g, r)) continue;
    const step = followGlue(g, r);
    if (!step) continue;
    const [j, glue] = step;
    const next = g.recurrent.get(j);
    const gluedValue = g.nodes[glue[glue.length - 1]].outputs[0];
    if (!next || next.batchMajor || !sameOptions(r, next) || !weightsConstant(g, next)) continue;
    if (next.input(IN.X) !== gluedValue || next.node.inputs.indexOf(gluedValue) !== next.node.inputs.lastIndexOf(gluedValue)) continue;
    if (next.input(IN.SEQ) !== r.input(IN.SEQ)) continue;
    const w = g.constant(next.input(IN.W));
    const h = g.constant(r.input(IN.R))?.dims[2];
    if (!w || w.dims.length !== 3 || h === undefined || w.dims[2] !== r.directions * h) continue;
    // Same hidden size even when hidden_size is left out (then R's shape decides).
    if (JSON.stringify(g.constant(next.input(IN.R))?.dims) !== JSON.stringify(g.constant(r.input(IN.R))?.dims)) continue;
    nextOf.set(i, [j, glue]);
    hasPredecessor.add(j);
  }
  for (const start of g.recurrent.keys()) {
    if (hasPredecessor.has(start) || !nextOf.has(start) || taken.has(start)) continue;
    const chain: Chain = { layers: [start], glue: [] };
    let cur = start;
    while (nextOf.has(cur)) {
      const [j, glue] = nextOf.get(cur)!;
      if (taken.has(j)) break;
      chain.layers.push(j);
      chain.glue.push(...glue);
      cur = j;
    }
    // The last layer's states are the chain's outputs and may go anywhere; inner layers were checked.
    chain.layers.forEach((l) => taken.add(l));
    chains.push(chain);
  }
  return chains;
}
