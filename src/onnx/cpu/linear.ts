// CPU ops with matrix arithmetic: MatMul (numpy semantics, broadcast batches), Gemm and
// Softmax / LogSoftmax (the opset < 13 flattening and the opset >= 13 single axis).
import { FormatError } from '../../core/errors.js';
import { numel, type Tensor } from '../tensor.js';
import { broadcastDims, broadcastOffsets } from './elementwise.js';
import { axisOf, need, needFloat, prod, type Inputs, type OpContext } from './op-context.js';

export function matmul(c: OpContext, a: Tensor, b: Tensor): Tensor {
  const A = needFloat(c, a, 'input A');
  const Bd = needFloat(c, b, 'input B');
  if (a.dims.length === 0 || b.dims.length === 0) throw new FormatError(`${c.label}: MatMul inputs must have rank >= 1`);
  const ad = a.dims.length === 1 ? [1, a.dims[0]] : a.dims;
  const bd = b.dims.length === 1 ? [b.dims[0], 1] : b.dims;
  const [M, K] = ad.slice(-2);
  const [K2, N] = bd.slice(-2);
  if (K !== K2) throw new FormatError(`${c.label}: inner dimensions differ: [${a.dims.join(', ')}] × [${b.dims.join(', ')}]`);
  const batch = broadcastDims(c, ad.slice(0, -2), bd.slice(0, -2));
  const dims = [...batch, M, N];
  const out = new Float32Array(numel(dims, c.label));
  const oa = broadcastOffsets(batch, ad.slice(0, -2));
  const ob = broadcastOffsets(batch, bd.slice(0, -2));
  for (let k = 0; k < oa.length; k++) {
    const pa = oa[k] * M * K;
    const pb = ob[k] * K * N;
    const po = k * M * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let q = 0; q < K; q++) s += A[pa + i * K + q] * Bd[pb + q * N + j];
        out[po + i * N + j] = s;
      }
    }
  }
  let outDims = dims;
  if (a.dims.length === 1) outDims = [...batch, N];
  if (b.dims.length === 1) outDims = a.dims.length === 1 ? [...batch] : [...batch, M];
  return { dims: outDims, data: out };
}

export function gemm(c: OpContext, x: Inputs): Tensor {
  const a = need(c, x, 0);
  const b = need(c, x, 1);
  const A = needFloat(c, a, 'input A');
  const Bm = needFloat(c, b, 'input B');
  if (a.dims.length !== 2 || b.dims.length !== 2) throw new FormatError(`${c.label}: Gemm inputs must be 2-D`);
  const alpha = c.attrs.float('alpha', 1);
  const beta = c.attrs.float('beta', 1);
  const ta = c.attrs.int('transA', 0) !== 0;
  const tb = c.attrs.int('transB', 0) !== 0;
  const [M, K] = ta ? [a.dims[1], a.dims[0]] : a.dims;
  const [K2, N] = tb ? [b.dims[1], b.dims[0]] : b.dims;
  if (K !== K2) throw new FormatError(`${c.label}: inner dimensions differ`);
  const out = new Float32Array(numel([M, N], c.label));
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let q = 0; q < K; q++) s += A[ta ? q * M + i : i * K + q] * Bm[tb ? j * K + q : q * N + j];
      out[i * N + j] = alpha * s;
    }
  }
  const cc = x[2];
  if (cc && beta !== 0) {
    const C = needFloat(c, cc, 'input C');
    const bd = broadcastDims(c, [M, N], cc.dims);
    if (bd[0] !== M || bd[1] !== N) throw new FormatError(`${c.label}: C [${cc.dims.join(', ')}] does not broadcast to [${M}, ${N}]`);
    const off = broadcastOffsets([M, N], cc.dims);
    for (let i = 0; i < out.length; i++) out[i] += beta * C[off[i]];
  }
  return { dims: [M, N], data: out };
}

export function softmax(c: OpContext, t: Tensor, log: boolean): Tensor {
  const v = needFloat(c, t, 'the input');
  const rank = t.dims.length;
  // Opset < 13 flattens to 2-D at `axis` (default 1); opset 13+ normalises along one axis (default -1).
  const legacy = c.opset < 13;
  const axis = axisOf(c, c.attrs.int('axis', legacy ? 1 : -1), Math.max(rank, 1));
  const outer = prod(t.dims.slice(0, axis));
  const size = legacy ? prod(t.dims.slice(axis)) : (t.dims[axis] ?? 1);
  const inner = legacy ? 1 : prod(t.dims.slice(axis + 1));
  const out = new Float32Array(v.length);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < inner; k++) {
      const at = (j: number) => (o * size + j) * inner + k;
      let max = -Infinity;
      for (let j = 0; j < size; j++) max = Math.max(max, v[at(j)]);
      let sum = 0;
      for (let j = 0; j < size; j++) sum += Math.exp(v[at(j)] - max);
      for (let j = 0; j < size; j++) out[at(j)] = log ? v[at(j)] - max - Math.log(sum) : Math.exp(v[at(j)] - max) / sum;
    }
  }
  return { dims: t.dims, data: out };
}
