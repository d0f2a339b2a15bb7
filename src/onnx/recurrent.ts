// ONNX LSTM, GRU and RNN nodes mapped onto the engine (createRnn). ONNX layouts, gate orders and
// bias layouts are the engine's own (rnn-semantics.md §1-3: W [D, G·H, I], R [D, G·H, H], B [D, 2·G·H] = [Wb, Rb],
// blocks i,o,f,c (LSTM), z,r,h (GRU), one (RNN), peepholes P [D, 3H] in order i,o,f), so weights pass through unchanged;
// this file reads the attributes, checks every shape against the node (a mismatch is a
// FormatError naming the node), and turns run-time tensors into RunOptions and back.
import { FormatError } from '../core/errors.js';
import { CELLS, cellTakes } from '../model/cells.js';
import type { OnnxCellType } from '../model/types.js';
import type { LayerWeights, RnnSpec } from '../model/types.js';
import { Attrs, nodeLabel } from './attrs.js';
import type { NodeData } from './proto.js';
import { isFloat, type Tensor } from './tensor.js';

const COMMON_ATTRIBUTES = ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'layout'];

/** An ONNX recurrent operator: the engine cell it maps onto, and what the operator's signature allows. */
interface RecurrentOp {
  cell: OnnxCellType;
  attributes: readonly string[];
  maxInputs: number;
  maxOutputs: number;
}

/** The ONNX recurrent operators by op type (their own names, mapped onto the registry's cells). */
export const RECURRENT_OPS: Readonly<Record<string, RecurrentOp>> = {
  LSTM: { cell: 'lstm', attributes: [...COMMON_ATTRIBUTES, 'input_forget'], maxInputs: 8, maxOutputs: 3 },
  GRU: { cell: 'gru', attributes: [...COMMON_ATTRIBUTES, 'linear_before_reset'], maxInputs: 6, maxOutputs: 2 },
  RNN: { cell: 'rnn', attributes: COMMON_ATTRIBUTES, maxInputs: 6, maxOutputs: 2 },
};
/** ONNX input positions. */
export const IN = { X: 0, W: 1, R: 2, B: 3, SEQ: 4, H0: 5, C0: 6, P: 7 } as const;

export interface RecurrentNode {
  node: NodeData;
  label: string;
  cell: OnnxCellType;
  /** Every option except the sizes, as the engine's spec spells it. */
  options: Omit<RnnSpec, 'inputSize' | 'hiddenSize' | 'cell' | 'numLayers'>;
  /** hidden_size when the node states it (else read from R). */
  hiddenSize?: number;
  directions: 1 | 2;
  batchMajor: boolean;
  /** Input names by position ('' = absent). */
  input(i: number): string;
  /** Output names: Y, Y_h, Y_c ('' = not requested). */
  output(i: number): string;
}

/** Reads a recurrent node's attributes at load time. */
export function parseRecurrent(node: NodeData): RecurrentNode {
  const op = RECURRENT_OPS[node.opType];
  const cell = op.cell;
  const label = nodeLabel(node);
  const a = new Attrs(node, op.attributes);
  if (node.inputs.length > op.maxInputs)
    throw new FormatError(`${label}: ${node.opType} takes at most ${op.maxInputs} inputs, got ${node.inputs.length}`);
  if (node.outputs.length > op.maxOutputs) throw new FormatError(`${label}: too many outputs (${node.outputs.length})`);
  if (!node.inputs[IN.X] || !node.inputs[IN.W] || !node.inputs[IN.R]) throw new FormatError(`${label}: inputs X, W and R are required`);
  const direction = a.string('direction', 'forward');
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') {
    throw new FormatError(`${label}: direction must be forward, reverse or bidirectional, got '${direction}'`);
  }
  const layout = a.int('layout', 0);
  if (layout !== 0 && layout !== 1) throw new FormatError(`${label}: layout must be 0 or 1, got ${layout}`);
  const hidden = a.int('hidden_size');
  if (hidden !== undefined && !(Number.isSafeInteger(hidden) && hidden > 0))
    throw new FormatError(`${label}: hidden_size must be positive, got ${hidden}`);
  const options: RecurrentNode['options'] = { direction, layout: layout ? 'batch-major' : 'time-major' };
  const acts = a.strings('activations');
  if (acts) options.activations = acts;
  const alpha = a.floats('activation_alpha');
  if (alpha) options.activationAlpha = alpha;
  const beta = a.floats('activation_beta');
  if (beta) options.activationBeta = beta;
  const clip = a.float('clip');
  if (clip !== undefined) options.clip = clip;
  if (op.attributes.includes('input_forget') && a.int('input_forget', 0) !== 0) options.inputForget = true;
  if (op.attributes.includes('linear_before_reset') && a.int('linear_before_reset', 0) !== 0) options.linearBeforeReset = true;
  return {
    node,
    label,
    cell,
    options,
    hiddenSize: hidden,
    directions: direction === 'bidirectional' ? 2 : 1,
    batchMajor: layout === 1,
    input: (i) => node.inputs[i] ?? '',
    output: (i) => node.outputs[i] ?? '',
  };
}

function checkDims(r: RecurrentNode, what: string, t: Tensor, want: number[]): Float32Array {
  if (!isFloat(t)) throw new FormatError(`${r.label}: ${what} must be a float tensor`);
  if (t.dims.length !== want.length || t.dims.some((d, i) => d !== want[i])) {
    throw new FormatError(`${r.label}: ${what} has shape [${t.dims.join(', ')}], expected [${want.join(', ')}]`);
  }
  return t.data;
}

export interface RecurrentWeights {
  hiddenSize: number;
  inputSize: number;
  weights: LayerWeights;
}

/** W, R, B, P of one node, checked against its attributes. */
export function recurrentWeights(r: RecurrentNode, get: (name: string) => Tensor | undefined): RecurrentWeights {
  const D = r.directions;
  const G = CELLS[r.cell].gates;
  const w = get(r.input(IN.W))!;
  const rr = get(r.input(IN.R))!;
  if (w.dims.length !== 3 || rr.dims.length !== 3)
    throw new FormatError(`${r.label}: W and R must be 3-D, got [${w.dims.join(', ')}] and [${rr.dims.join(', ')}]`);
  const H = r.hiddenSize ?? rr.dims[2];
  const I = w.dims[2];
  if (!(H > 0) || !(I > 0))
    throw new FormatError(`${r.label}: hidden and input sizes must be positive (W [${w.dims.join(', ')}], R [${rr.dims.join(', ')}])`);
  const weights: LayerWeights = {
    W: checkDims(r, 'W', w, [D, G * H, I]),
    R: checkDims(r, 'R', rr, [D, G * H, H]),
  };
  const b = r.input(IN.B) ? get(r.input(IN.B)) : undefined;
  if (b) weights.B = checkDims(r, 'B', b, [D, 2 * G * H]);
  const p = cellTakes(r.cell, 'P') && r.input(IN.P) ? get(r.input(IN.P)) : undefined;
  if (p) weights.P = checkDims(r, 'P', p, [D, 3 * H]);
  return { hiddenSize: H, inputSize: I, weights };
}

export function recurrentSpec(r: RecurrentNode, w: RecurrentWeights, numLayers = 1): RnnSpec {
  return { cell: r.cell, inputSize: w.inputSize, hiddenSize: w.hiddenSize, numLayers, ...r.options };
}

export function sequenceLens(r: RecurrentNode, t: Tensor | undefined, B: number): Int32Array | undefined {
  if (!t) return undefined;
  if (!(t.data instanceof Int32Array) || t.dims.length !== 1 || t.dims[0] !== B) {
    throw new FormatError(
      `${r.label}: sequence_lens must be an integer tensor of shape [${B}], got ${isFloat(t) ? 'float ' : ''}[${t.dims.join(', ')}]`,
    );
  }
  return t.data;
}
