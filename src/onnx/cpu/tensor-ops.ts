// CPU ops that move or build tensors without arithmetic: Constant, Transpose, Reshape, Slice,
// Concat, Gather, Cast and Expand, for float and integer tensors alike.
import { FormatError, InputError, UnsupportedError } from '../../core/errors.js';
import { DT, intValues, isFloat, isFloatType, isIntType, numel, saturate, sameKind, typeName, type Tensor } from '../tensor.js';
import { broadcastDims, broadcastOffsets } from './elementwise.js';
import { axisOf, prod, stridesOf, type OpContext } from './op-context.js';

export function constant(c: OpContext): Tensor {
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

/** Shape's output: the dims between its start and end attributes (clamped, negatives from the end). */
export function shapeOf(c: OpContext, dims: readonly number[]): Tensor {
  const r = dims.length;
  const clampAxis = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clampAxis(c.attrs.int('start', 0));
  const end = clampAxis(c.attrs.int('end', r));
  const d = dims.slice(start, Math.max(start, end));
  return { dims: [d.length], data: Int32Array.from(d) };
}

/** Unsqueeze's output dims: a 1 inserted at each of `axes` (of the output's rank). */
export function unsqueezeDims(c: OpContext, dims: readonly number[], axes: number[] | undefined): number[] {
  if (!axes) throw new FormatError(`${c.label}: Unsqueeze needs axes`);
  const rank = dims.length + axes.length;
  const norm = axes.map((a) => axisOf(c, a, rank)).sort((p, q) => p - q);
  if (new Set(norm).size !== norm.length) throw new FormatError(`${c.label}: repeated axis in [${axes.join(', ')}]`);
  const out = [...dims];
  for (const a of norm) out.splice(a, 0, 1);
  return out;
}

/** Squeeze's output dims: `axes` dropped (each must be 1), or every 1 without axes. */
export function squeezeDims(c: OpContext, dims: readonly number[], axes: number[] | undefined): number[] {
  const drop = new Set(axes ? axes.map((a) => axisOf(c, a, dims.length)) : dims.flatMap((d, i) => (d === 1 ? [i] : [])));
  for (const a of drop) if (dims[a] !== 1) throw new FormatError(`${c.label}: cannot squeeze axis ${a} of size ${dims[a]}`);
  return dims.filter((_, i) => !drop.has(i));
}

/** Flatten's output dims: [product before axis, product from axis]. */
export function flattenDims(c: OpContext, dims: readonly number[]): number[] {
  const axis = c.attrs.int('axis', 1);
  const a = axis < 0 ? axis + dims.length : axis;
  if (a < 0 || a > dims.length) throw new FormatError(`${c.label}: axis ${axis} is out of range`);
  return [prod(dims.slice(0, a)), prod(dims.slice(a))];
}

/** Transpose's perm, checked against the rank (the default reverses the axes). */
export function transposePerm(c: OpContext, rank: number): number[] {
  const perm = c.attrs.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const seen = new Set(perm);
  if (perm.length !== rank || seen.size !== rank || perm.some((p) => !Number.isInteger(p) || p < 0 || p >= rank)) {
    throw new FormatError(`${c.label}: perm [${perm.join(', ')}] is not a permutation of the ${rank} axes`);
  }
  return perm;
}

export function transpose(t: Tensor, perm: number[]): Tensor {
  const rank = t.dims.length;
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

export function reshape(c: OpContext, t: Tensor, shape: number[], allowZero: boolean): Tensor {
  return { dims: reshapeDims(c, t.dims, shape, allowZero), data: t.data };
}

/** Reshape's output dims (0 copies an input dim unless allowzero, -1 is inferred). */
export function reshapeDims(c: OpContext, inDims: readonly number[], shape: number[], allowZero: boolean): number[] {
  const t = { dims: inDims };
  const n = prod(inDims);
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
  return dims;
}

export function slice(
  c: OpContext,
  t: Tensor,
  starts: number[],
  ends: number[],
  axes: number[] | undefined,
  steps: number[] | undefined,
): Tensor {
  const { begin, step, dims } = sliceRange(c, t.dims, starts, ends, axes, steps);
  const rank = t.dims.length;
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

/** Slice's first element and step per axis, and the output dims (ONNX's clamping of starts and ends). */
export function sliceRange(
  c: OpContext,
  inDims: readonly number[],
  starts: number[],
  ends: number[],
  axes: number[] | undefined,
  steps: number[] | undefined,
): { begin: number[]; step: number[]; dims: number[] } {
  const t = { dims: inDims };
  const rank = inDims.length;
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
  return { begin, step, dims };
}

export function concat(c: OpContext, parts: Tensor[]): Tensor {
  if (parts.length === 0) throw new FormatError(`${c.label}: Concat needs at least one input`);
  const first = parts[0];
  for (const p of parts) if (isFloat(p) !== isFloat(first)) throw new FormatError(`${c.label}: inputs mix float and integer tensors`);
  const { axis, dims } = concatDims(
    c,
    parts.map((p) => p.dims),
  );
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

/** Concat's axis and output dims; the inputs must agree outside the axis. */
export function concatDims(c: OpContext, parts: (readonly number[])[]): { axis: number; dims: number[] } {
  if (parts.length === 0) throw new FormatError(`${c.label}: Concat needs at least one input`);
  const first = parts[0];
  const rank = first.length;
  const axis = axisOf(c, c.attrs.int('axis') ?? NaN, rank);
  for (const p of parts) {
    if (p.length !== rank || p.some((d, i) => i !== axis && d !== first[i])) {
      throw new FormatError(`${c.label}: input shapes [${first.join(', ')}] and [${p.join(', ')}] differ outside axis ${axis}`);
    }
  }
  const dims = [...first];
  dims[axis] = parts.reduce((s, p) => s + p[axis], 0);
  return { axis, dims };
}

/** Gather's axis and indices, negative ones resolved; an index out of range is an InputError. */
export function gatherIndices(c: OpContext, dataDims: readonly number[], indices: Tensor): { axis: number; idx: number[] } {
  const axis = axisOf(c, c.attrs.int('axis', 0), dataDims.length);
  const n = dataDims[axis];
  const idx = intValues(indices, `${c.label} indices`).map((raw) => {
    const i = raw < 0 ? raw + n : raw;
    if (i < 0 || i >= n) throw new InputError(`${c.label}: index ${raw} is out of range for an axis of size ${n}`);
    return i;
  });
  return { axis, idx };
}

export function gather(c: OpContext, data: Tensor, indices: Tensor): Tensor {
  const { axis, idx } = gatherIndices(c, data.dims, indices);
  const n = data.dims[axis];
  const outer = prod(data.dims.slice(0, axis));
  const inner = prod(data.dims.slice(axis + 1));
  const dims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
  const out = sameKind(dims, data, numel(dims, c.label));
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (const i of idx) {
      out.data.set(data.data.subarray((o * n + i) * inner, (o * n + i + 1) * inner), pos);
      pos += inner;
    }
  }
  return out;
}

export function cast(c: OpContext, t: Tensor): Tensor {
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

export function expandShape(c: OpContext, t: Tensor, shape: number[]): Tensor {
  const dims = broadcastDims(c, t.dims, shape);
  const out = sameKind(dims, t, numel(dims, c.label));
  const off = broadcastOffsets(dims, t.dims);
  for (let i = 0; i < out.data.length; i++) out.data[i] = t.data[off[i]];
  return out;
}
