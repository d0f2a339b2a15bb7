// CPU implementations of the non-recurrent operators found around recurrent layers: the glue that
// torch.onnx.export emits (Shape, Gather, Unsqueeze, Concat, ConstantOfShape, Slice, Transpose,
// Reshape, Squeeze, ...) and the usual heads (embedding Gather, MatMul, Gemm, Add, Softmax, ...).
// They are straight-line and run on the CPU: their tensors are small next to the recurrent work,
// and keeping them off the GPU keeps this file simple. Inputs are never mutated, so an op may
// return one of its inputs unchanged. Every output size goes through numel(), which caps it.
import { FormatError, InputError, UnsupportedError } from '../core/errors.js';
import type { Attrs } from './attrs.js';
import type { NodeData } from './proto.js';
import { DT, intValues, isFloat, isFloatType, isIntType, numel, saturate, sameKind, typeName, type Tensor } from './tensor.js';

export interface OpContext {
  node: NodeData;
  opset: number;
  attrs: Attrs;
  label: string;
}

type Inputs = (Tensor | undefined)[];
type Outputs = (Tensor | undefined)[];

interface CpuOp {
  attributes: readonly string[];
  run(c: OpContext, x: Inputs): Outputs;
}

function need(c: OpContext, x: Inputs, i: number): Tensor {
  const t = x[i];
  if (!t) throw new FormatError(`${c.label}: input ${i} is required`);
  return t;
}

function needFloat(c: OpContext, t: Tensor, what: string): Float32Array {
  if (!isFloat(t)) throw new UnsupportedError(`${c.label}: ${what} must be a float tensor; integer ${c.node.opType} is not supported`);
  return t.data;
}

function axisOf(c: OpContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new FormatError(`${c.label}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

const prod = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Numpy broadcasting of two shapes. */
function broadcastDims(c: OpContext, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new FormatError(`${c.label}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** For every element of `outDims`, the offset of the element of `inDims` that broadcasts onto it. */
function broadcastOffsets(outDims: readonly number[], inDims: readonly number[]): Int32Array {
  const n = prod(outDims);
  const rank = outDims.length;
  const inStrides = stridesOf(inDims);
  const strides = outDims.map((_, i) => {
    const k = i - (rank - inDims.length);
    return k < 0 || inDims[k] === 1 ? 0 : inStrides[k];
  });
  const offsets = new Int32Array(n);
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < outDims[d]) break;
      off -= strides[d] * idx[d];
      idx[d] = 0;
    }
  }
  return offsets;
}

function binary(fn: (a: number, b: number) => number, intFn?: (a: number, b: number) => number): CpuOp {
  return {
    attributes: [],
    run(c, x) {
      const a = need(c, x, 0);
      const b = need(c, x, 1);
      if (isFloat(a) !== isFloat(b)) throw new FormatError(`${c.label}: inputs mix float and integer tensors`);
      const dims = broadcastDims(c, a.dims, b.dims);
      const out = sameKind(dims, a, numel(dims, c.label));
      const oa = broadcastOffsets(dims, a.dims);
      const ob = broadcastOffsets(dims, b.dims);
      const f = isFloat(a) ? fn : (intFn ?? ((p: number, q: number) => saturate(fn(p, q))));
      for (let i = 0; i < out.data.length; i++) out.data[i] = f(a.data[oa[i]], b.data[ob[i]]);
      return [out];
    },
  };
}

function unary(fn: (v: number) => number, attributes: readonly string[] = [], param?: (c: OpContext) => (v: number) => number): CpuOp {
  return {
    attributes,
    run(c, x) {
      const a = needFloat(c, need(c, x, 0), 'the input');
      const f = param ? param(c) : fn;
      const out = new Float32Array(a.length);
      for (let i = 0; i < a.length; i++) out[i] = f(a[i]);
      return [{ dims: x[0]!.dims, data: out }];
    },
  };
}

/** Axes from the `axes` attribute (older opsets) or the second input (opset 13+ Squeeze/Unsqueeze). */
function axesOf(c: OpContext, x: Inputs): number[] | undefined {
  if (x[1]) return intValues(x[1], `${c.label} axes`);
  return c.attrs.ints('axes');
}

function constant(c: OpContext): Tensor {
  const a = c.attrs;
  for (const unsupported of ['sparse_value', 'value_string', 'value_strings']) {
    if (a.has(unsupported)) throw new UnsupportedError(`${c.label}: attribute '${unsupported}' is not supported`);
  }
  const t = a.tensor('value');
  if (t) return t;
  const f = a.float('value_float');
  if (f !== undefined) return { dims: [], data: new Float32Array([f]) };
  const fs = a.floats('value_floats');
  if (fs) return { dims: [fs.length], data: Float32Array.from(fs) };
  const i = a.int('value_int');
  if (i !== undefined) return { dims: [], data: new Int32Array([saturate(i)]) };
  const is = a.ints('value_ints');
  if (is) return { dims: [is.length], data: Int32Array.from(is, saturate) };
  throw new FormatError(`${c.label}: Constant has no value attribute`);
}

function transpose(c: OpContext, t: Tensor, perm: number[]): Tensor {
  const rank = t.dims.length;
  const seen = new Set(perm);
  if (perm.length !== rank || seen.size !== rank || perm.some((p) => !Number.isInteger(p) || p < 0 || p >= rank)) {
    throw new FormatError(`${c.label}: perm [${perm.join(', ')}] is not a permutation of the ${rank} axes`);
  }
  const dims = perm.map((p) => t.dims[p]);
  const inStrides = stridesOf(t.dims);
  const out = sameKind(dims, t);
  const strides = perm.map((p) => inStrides[p]);
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < out.data.length; i++) {
    out.data[i] = t.data[off];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < dims[d]) break;
      off -= strides[d] * idx[d];
      idx[d] = 0;
    }
  }
  return out;
}

function reshape(c: OpContext, t: Tensor, shape: number[], allowZero: boolean): Tensor {
  const n = t.data.length;
  let infer = -1;
  const dims = shape.map((s, i) => {
    if (s === 0 && !allowZero) {
      if (i >= t.dims.length) throw new FormatError(`${c.label}: shape entry ${i} is 0 but the input has rank ${t.dims.length}`);
      return t.dims[i];
    }
    if (s === -1) {
      if (infer >= 0) throw new FormatError(`${c.label}: shape [${shape.join(', ')}] has more than one -1`);
      infer = i;
      return 1;
    }
    if (s < 0) throw new FormatError(`${c.label}: invalid shape entry ${s}`);
    return s;
  });
  const known = prod(dims);
  if (infer >= 0) {
    if (known === 0 || n % known !== 0) throw new FormatError(`${c.label}: cannot reshape [${t.dims.join(', ')}] to [${shape.join(', ')}]`);
    dims[infer] = n / known;
  }
  if (prod(dims) !== n) throw new FormatError(`${c.label}: cannot reshape [${t.dims.join(', ')}] (${n} elements) to [${dims.join(', ')}]`);
  return { dims, data: t.data };
}

function slice(c: OpContext, t: Tensor, starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined): Tensor {
  const rank = t.dims.length;
  if (starts.length !== ends.length || (axes && axes.length !== starts.length) || (steps && steps.length !== starts.length)) {
    throw new FormatError(`${c.label}: starts, ends, axes and steps must have the same length`);
  }
  const begin = new Array<number>(rank).fill(0);
  const step = new Array<number>(rank).fill(1);
  const dims = [...t.dims];
  const used = new Set<number>();
  starts.forEach((s, i) => {
    const axis = axisOf(c, axes ? axes[i] : i, rank);
    if (used.has(axis)) throw new FormatError(`${c.label}: axis ${axis} is sliced twice`);
    used.add(axis);
    const st = steps ? steps[i] : 1;
    if (st === 0) throw new FormatError(`${c.label}: a slice step is 0`);
    const dim = t.dims[axis];
    let a = s < 0 ? s + dim : s;
    let b = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (st > 0) {
      a = Math.min(Math.max(a, 0), dim);
      b = Math.min(Math.max(b, 0), dim);
      dims[axis] = Math.max(0, Math.ceil((b - a) / st));
    } else {
      a = Math.min(Math.max(a, 0), dim - 1);
      b = Math.min(Math.max(b, -1), dim - 1);
      dims[axis] = Math.max(0, Math.ceil((a - b) / -st));
    }
    begin[axis] = a;
    step[axis] = st;
  });
  const out = sameKind(dims, t);
  const inStrides = stridesOf(t.dims);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < out.data.length; i++) {
    let off = 0;
    for (let d = 0; d < rank; d++) off += (begin[d] + idx[d] * step[d]) * inStrides[d];
    out.data[i] = t.data[off];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function concat(c: OpContext, parts: Tensor[]): Tensor {
  if (parts.length === 0) throw new FormatError(`${c.label}: Concat needs at least one input`);
  const first = parts[0];
  const rank = first.dims.length;
  const axis = axisOf(c, c.attrs.int('axis') ?? NaN, rank);
  for (const p of parts) {
    if (isFloat(p) !== isFloat(first)) throw new FormatError(`${c.label}: inputs mix float and integer tensors`);
    if (p.dims.length !== rank || p.dims.some((d, i) => i !== axis && d !== first.dims[i])) {
      throw new FormatError(`${c.label}: input shapes [${first.dims.join(', ')}] and [${p.dims.join(', ')}] differ outside axis ${axis}`);
    }
  }
  const dims = [...first.dims];
  dims[axis] = parts.reduce((s, p) => s + p.dims[axis], 0);
  const out = sameKind(dims, first);
  const outer = prod(first.dims.slice(0, axis));
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const chunk = prod(p.dims.slice(axis));
      out.data.set(p.data.subarray(o * chunk, (o + 1) * chunk), pos);
      pos += chunk;
    }
  }
  return out;
}

function matmul(c: OpContext, a: Tensor, b: Tensor): Tensor {
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

function gemm(c: OpContext, x: Inputs): Tensor {
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

function softmax(c: OpContext, t: Tensor, log: boolean): Tensor {
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

function gather(c: OpContext, data: Tensor, indices: Tensor): Tensor {
  const rank = data.dims.length;
  const axis = axisOf(c, c.attrs.int('axis', 0), rank);
  const idx = intValues(indices, `${c.label} indices`);
  const n = data.dims[axis];
  const outer = prod(data.dims.slice(0, axis));
  const inner = prod(data.dims.slice(axis + 1));
  const dims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
  const out = sameKind(dims, data, numel(dims, c.label));
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (const raw of idx) {
      const i = raw < 0 ? raw + n : raw;
      if (i < 0 || i >= n) throw new InputError(`${c.label}: index ${raw} is out of range for an axis of size ${n}`);
      out.data.set(data.data.subarray((o * n + i) * inner, (o * n + i + 1) * inner), pos);
      pos += inner;
    }
  }
  return out;
}

function cast(c: OpContext, t: Tensor): Tensor {
  const to = c.attrs.int('to');
  if (to === undefined) throw new FormatError(`${c.label}: Cast needs a 'to' attribute`);
  if (isFloatType(to)) {
    // FLOAT16/BFLOAT16/DOUBLE targets are computed in float32 like everything else here.
    return isFloat(t) ? t : { dims: t.dims, data: Float32Array.from(t.data) };
  }
  if (to === DT.BOOL) return { dims: t.dims, data: Int32Array.from(t.data, (v) => (v !== 0 ? 1 : 0)) };
  if (isIntType(to)) return isFloat(t) ? { dims: t.dims, data: Int32Array.from(t.data, saturate) } : t;
  throw new UnsupportedError(`${c.label}: Cast to ${typeName(to)} is not supported`);
}

function expandShape(c: OpContext, t: Tensor, shape: number[]): Tensor {
  const dims = broadcastDims(c, t.dims, shape);
  const out = sameKind(dims, t, numel(dims, c.label));
  const off = broadcastOffsets(dims, t.dims);
  for (let i = 0; i < out.data.length; i++) out.data[i] = t.data[off[i]];
  return out;
}

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
  Shape: {
    attributes: ['start', 'end'],
    run: (c, x) => {
      const dims = need(c, x, 0).dims;
      const r = dims.length;
      const clampAxis = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
      const start = clampAxis(c.attrs.int('start', 0));
      const end = clampAxis(c.attrs.int('end', r));
      const d = dims.slice(start, Math.max(start, end));
      return [{ dims: [d.length], data: Int32Array.from(d) }];
    },
  },
  Size: { attributes: [], run: (c, x) => [{ dims: [], data: new Int32Array([need(c, x, 0).data.length]) }] },
  Gather: { attributes: ['axis'], run: (c, x) => [gather(c, need(c, x, 0), need(c, x, 1))] },
  Unsqueeze: {
    attributes: ['axes'],
    run: (c, x) => {
      const t = need(c, x, 0);
      const axes = axesOf(c, x);
      if (!axes) throw new FormatError(`${c.label}: Unsqueeze needs axes`);
      const rank = t.dims.length + axes.length;
      const norm = axes.map((a) => axisOf(c, a, rank)).sort((p, q) => p - q);
      if (new Set(norm).size !== norm.length) throw new FormatError(`${c.label}: repeated axis in [${axes.join(', ')}]`);
      const dims = [...t.dims];
      for (const a of norm) dims.splice(a, 0, 1);
      return [{ dims, data: t.data }];
    },
  },
  Squeeze: {
    attributes: ['axes'],
    run: (c, x) => {
      const t = need(c, x, 0);
      const axes = axesOf(c, x);
      const drop = new Set(axes ? axes.map((a) => axisOf(c, a, t.dims.length)) : t.dims.flatMap((d, i) => (d === 1 ? [i] : [])));
      for (const a of drop) if (t.dims[a] !== 1) throw new FormatError(`${c.label}: cannot squeeze axis ${a} of size ${t.dims[a]}`);
      return [{ dims: t.dims.filter((_, i) => !drop.has(i)), data: t.data }];
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
      return [transpose(c, t, c.attrs.ints('perm') ?? t.dims.map((_, i) => t.dims.length - 1 - i))];
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
      const axis = c.attrs.int('axis', 1);
      const a = axis < 0 ? axis + t.dims.length : axis;
      if (a < 0 || a > t.dims.length) throw new FormatError(`${c.label}: axis ${axis} is out of range`);
      return [{ dims: [prod(t.dims.slice(0, a)), prod(t.dims.slice(a))], data: t.data }];
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
    (a, b) => {
      if (b === 0) throw new InputError('integer division by zero');
      return saturate(a / b);
    },
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
};
