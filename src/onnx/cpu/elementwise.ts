// Elementwise CPU ops: numpy-style broadcasting (ONNX's multidirectional broadcasting), binary
// ops over float or integer tensors, and unary float ops.
import { FormatError, InputError } from '../../core/errors.js';
import { isFloat, numel, saturate, sameKind } from '../tensor.js';
import { need, needFloat, prod, stridesOf, type CpuOp, type Inputs, type OpContext } from './op-context.js';

/** Numpy broadcasting of two shapes. */
export function broadcastDims(c: OpContext, a: readonly number[], b: readonly number[]): number[] {
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
export function broadcastOffsets(outDims: readonly number[], inDims: readonly number[]): Int32Array {
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

/** A binary op's two inputs (of one element kind), their broadcast dims, and each one's offsets per output element. */
function broadcastPair(c: OpContext, x: Inputs) {
  const a = need(c, x, 0);
  const b = need(c, x, 1);
  if (isFloat(a) !== isFloat(b)) throw new FormatError(`${c.label}: inputs mix float and integer tensors`);
  const dims = broadcastDims(c, a.dims, b.dims);
  return { a, b, dims, oa: broadcastOffsets(dims, a.dims), ob: broadcastOffsets(dims, b.dims) };
}

/** A broadcast binary op; `intFn` (integer tensors) may return undefined for no result (division by zero), an InputError naming the node. */
export function binary(fn: (a: number, b: number) => number, intFn?: (a: number, b: number) => number | undefined): CpuOp {
  return {
    attributes: [],
    run(c, x) {
      const { a, b, dims, oa, ob } = broadcastPair(c, x);
      const out = sameKind(dims, a, numel(dims, c.label));
      const f = isFloat(a) ? fn : (intFn ?? ((p: number, q: number) => saturate(fn(p, q))));
      for (let i = 0; i < out.data.length; i++) {
        const v = f(a.data[oa[i]], b.data[ob[i]]);
        if (v === undefined) throw new InputError(`${c.label}: integer division by zero`);
        out.data[i] = v;
      }
      return [out];
    },
  };
}

export function unary(
  fn: (v: number) => number,
  attributes: readonly string[] = [],
  param?: (c: OpContext) => (v: number) => number,
): CpuOp {
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

/** A broadcast comparison or logical op: float or integer inputs (not mixed), a bool (0/1 integer) output. */
export function predicate(fn: (a: number, b: number) => boolean): CpuOp {
  return {
    attributes: [],
    run(c, x) {
      const { a, b, dims, oa, ob } = broadcastPair(c, x);
      const out = new Int32Array(numel(dims, c.label));
      for (let i = 0; i < out.length; i++) out[i] = fn(a.data[oa[i]], b.data[ob[i]]) ? 1 : 0;
      return [{ dims, data: out }];
    },
  };
}
