// CPU implementations of the non-recurrent operators found around recurrent layers: the glue that
// torch.onnx.export emits (Shape, Gather, Unsqueeze, Concat, ConstantOfShape, Slice, Transpose,
// Reshape, Squeeze, ...) and the usual heads (embedding Gather, MatMul, Gemm, Add, Softmax, ...).
// They are straight-line and run on the CPU: their tensors are small next to the recurrent work,
// and keeping them off the GPU keeps this file simple. Inputs are never mutated, so an op may
// return one of its inputs unchanged. Every output size goes through numel(), which caps it.
// This file is the table: each op's accepted attributes and its run function.
import { FormatError } from '../../core/errors.js';
import { intValues, isFloat, numel, saturate, sameKind, type Tensor } from '../tensor.js';
import { binary, broadcastDims, broadcastOffsets, predicate, unary } from './elementwise.js';
import { gemm, matmul, softmax } from './linear.js';
import { axesOf, need, type CpuOp } from './op-context.js';
import {
  cast,
  concat,
  constant,
  expandShape,
  flattenDims,
  gather,
  reshape,
  shapeOf,
  slice,
  squeezeDims,
  transpose,
  transposePerm,
  unsqueezeDims,
} from './tensor-ops.js';

export type { OpContext } from './op-context.js';

export const CPU_OPS: Readonly<Record<string, CpuOp>> = {
  Identity: { attributes: [], run: (c, x) => [need(c, x, 0)] },
  // Inference: Dropout passes its input through; the optional mask output is all ones (kept).
  Dropout: {
    attributes: ['ratio', 'seed', 'is_test'],
    run: (c, x) => {
      const t = need(c, x, 0);
      return [t, { dims: t.dims, data: new Int32Array(t.data.length).fill(1) }];
    },
  },
  Constant: {
    attributes: ['value', 'value_float', 'value_floats', 'value_int', 'value_ints', 'value_string', 'value_strings', 'sparse_value'],
    run: (c) => [constant(c)],
  },
  Shape: { attributes: ['start', 'end'], run: (c, x) => [shapeOf(c, need(c, x, 0).dims)] },
  Size: { attributes: [], run: (c, x) => [{ dims: [], data: new Int32Array([need(c, x, 0).data.length]) }] },
  Gather: { attributes: ['axis'], run: (c, x) => [gather(c, need(c, x, 0), need(c, x, 1))] },
  Unsqueeze: {
    attributes: ['axes'],
    run: (c, x) => {
      const t = need(c, x, 0);
      return [{ dims: unsqueezeDims(c, t.dims, axesOf(c, x)), data: t.data }];
    },
  },
  Squeeze: {
    attributes: ['axes'],
    run: (c, x) => {
      const t = need(c, x, 0);
      return [{ dims: squeezeDims(c, t.dims, axesOf(c, x)), data: t.data }];
    },
  },
  Concat: {
    attributes: ['axis'],
    run: (c, x) => [
      concat(
        c,
        x.filter((t): t is Tensor => t !== undefined),
      ),
    ],
  },
  Slice: {
    attributes: ['starts', 'ends', 'axes'],
    run: (c, x) => {
      const t = need(c, x, 0);
      if (c.opset < 10) {
        const starts = c.attrs.ints('starts');
        const ends = c.attrs.ints('ends');
        if (!starts || !ends) throw new FormatError(`${c.label}: Slice-1 needs starts and ends attributes`);
        return [slice(c, t, starts.map(saturate), ends.map(saturate), c.attrs.ints('axes'), undefined)];
      }
      const ints = (i: number) => (x[i] ? intValues(x[i]!, `${c.label} input ${i}`) : undefined);
      return [slice(c, t, ints(1) ?? [], ints(2) ?? [], ints(3), ints(4))];
    },
  },
  Transpose: {
    attributes: ['perm'],
    run: (c, x) => {
      const t = need(c, x, 0);
      return [transpose(t, transposePerm(c, t.dims.length))];
    },
  },
  Reshape: {
    attributes: ['allowzero'],
    run: (c, x) => [reshape(c, need(c, x, 0), intValues(need(c, x, 1), `${c.label} shape`), c.attrs.int('allowzero', 0) !== 0)],
  },
  Flatten: {
    attributes: ['axis'],
    run: (c, x) => {
      const t = need(c, x, 0);
      return [{ dims: flattenDims(c, t.dims), data: t.data }];
    },
  },
  ConstantOfShape: {
    attributes: ['value'],
    run: (c, x) => {
      const dims = intValues(need(c, x, 0), `${c.label} shape`);
      const value = c.attrs.tensor('value') ?? { dims: [1], data: new Float32Array(1) };
      if (value.data.length !== 1) throw new FormatError(`${c.label}: value must hold exactly one element`);
      const out = sameKind(dims, value, numel(dims, c.label));
      out.data.fill(value.data[0]);
      return [out];
    },
  },
  Expand: { attributes: [], run: (c, x) => [expandShape(c, need(c, x, 0), intValues(need(c, x, 1), `${c.label} shape`))] },
  Cast: { attributes: ['to', 'saturate'], run: (c, x) => [cast(c, need(c, x, 0))] },
  MatMul: { attributes: [], run: (c, x) => [matmul(c, need(c, x, 0), need(c, x, 1))] },
  Gemm: { attributes: ['alpha', 'beta', 'transA', 'transB'], run: (c, x) => [gemm(c, x)] },
  Add: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Mul: binary((a, b) => a * b),
  Div: binary(
    (a, b) => a / b,
    (a, b) => (b === 0 ? undefined : saturate(a / b)),
  ),
  Softmax: { attributes: ['axis'], run: (c, x) => [softmax(c, need(c, x, 0), false)] },
  LogSoftmax: { attributes: ['axis'], run: (c, x) => [softmax(c, need(c, x, 0), true)] },
  Sigmoid: unary((v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)))),
  Tanh: unary(Math.tanh),
  Relu: unary((v) => (v > 0 ? v : 0)),
  LeakyRelu: unary(
    (v) => v,
    ['alpha'],
    (c) => {
      const alpha = c.attrs.float('alpha', 0.01);
      return (v) => (v >= 0 ? v : alpha * v);
    },
  ),
  Exp: unary(Math.exp),
  Neg: unary((v) => -v),
  // Comparisons and logic: the If conditions of exported models (Equal(sr, 16000), Not(...)).
  Equal: predicate((a, b) => a === b),
  Greater: predicate((a, b) => a > b),
  Less: predicate((a, b) => a < b),
  GreaterOrEqual: predicate((a, b) => a >= b),
  LessOrEqual: predicate((a, b) => a <= b),
  And: predicate((a, b) => a !== 0 && b !== 0),
  Or: predicate((a, b) => a !== 0 || b !== 0),
  Xor: predicate((a, b) => (a !== 0) !== (b !== 0)),
  Not: {
    attributes: [],
    run: (c, x) => {
      const t = need(c, x, 0);
      if (isFloat(t)) throw new FormatError(`${c.label}: Not takes a bool tensor, got a float one`);
      return [{ dims: t.dims, data: Int32Array.from(t.data, (v) => (v === 0 ? 1 : 0)) }];
    },
  },
  Where: {
    attributes: [],
    run: (c, x) => {
      const cond = need(c, x, 0);
      const a = need(c, x, 1);
      const b = need(c, x, 2);
      if (isFloat(cond)) throw new FormatError(`${c.label}: the condition must be a bool tensor`);
      if (isFloat(a) !== isFloat(b)) throw new FormatError(`${c.label}: inputs mix float and integer tensors`);
      const dims = broadcastDims(c, broadcastDims(c, cond.dims, a.dims), b.dims);
      const out = sameKind(dims, a, numel(dims, c.label));
      const [oc, oa, ob] = [cond, a, b].map((t) => broadcastOffsets(dims, t.dims));
      for (let i = 0; i < out.data.length; i++) out.data[i] = cond.data[oc[i]] !== 0 ? a.data[oa[i]] : b.data[ob[i]];
      return [out];
    },
  },
};
