// What every CPU op shares: the node it runs for (its label, opset and attributes), the input
// and output lists, and the checks of required inputs and axes, each error naming the node.
import { FormatError, UnsupportedError } from '../../core/errors.js';
import type { Attrs } from '../attrs.js';
import type { NodeData } from '../proto.js';
import { intValues, isFloat, type Tensor } from '../tensor.js';

export interface OpContext {
  node: NodeData;
  opset: number;
  attrs: Attrs;
  label: string;
}

export type Inputs = (Tensor | undefined)[];

export type Outputs = (Tensor | undefined)[];

export interface CpuOp {
  attributes: readonly string[];
  run(c: OpContext, x: Inputs): Outputs;
}

export function need(c: OpContext, x: Inputs, i: number): Tensor {
  const t = x[i];
  if (!t) throw new FormatError(`${c.label}: input ${i} is required`);
  return t;
}

export function needFloat(c: OpContext, t: Tensor, what: string): Float32Array {
  if (!isFloat(t)) throw new UnsupportedError(`${c.label}: ${what} must be a float tensor; integer ${c.node.opType} is not supported`);
  return t.data;
}

export function axisOf(c: OpContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new FormatError(`${c.label}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

export const prod = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Axes from the `axes` attribute (older opsets) or the second input (opset 13+ Squeeze/Unsqueeze). */
export function axesOf(c: OpContext, x: Inputs): number[] | undefined {
  if (x[1]) return intValues(x[1], `${c.label} axes`);
  return c.attrs.ints('axes');
}
