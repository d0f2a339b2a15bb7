// Tensors of the ONNX importer, and TensorProto payloads turned into them.
//
// Two element kinds only: float (Float32Array: FLOAT, FLOAT16, BFLOAT16 and DOUBLE are all computed in
// float32, which is what the GPU engine runs) and integer (Int32Array: INT64/INT32/INT16/INT8/UINT8/
// BOOL). int64 values outside the int32 range are saturated: in recurrent models they only appear as
// "to the end" markers (Slice ends = INT64_MAX) whose meaning survives saturation.
import { FormatError, UnsupportedError } from '../core/errors.js';
import { bfloat16ToFloat, halfToFloat } from '../core/numbers.js';
import type { TensorProtoData } from './proto.js';

export interface Tensor {
  data: Float32Array | Int32Array;
  dims: number[];
}

/** TensorProto.DataType codes. */
/**
 * A feed: our `{ data, dims }` (Float32Array for float inputs, Int32Array for integer and bool
 * ones), or an onnxruntime Tensor as it is (`type` 'float32', 'int64' with a BigInt64Array, 'int32',
 * 'bool' with a Uint8Array).
 */
export interface FeedTensor {
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
  dims: readonly number[];
  type?: string;
}

export const DT = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

const FLOAT_TYPES = new Set<number>([DT.FLOAT, DT.FLOAT16, DT.DOUBLE, DT.BFLOAT16]);
const INT_TYPES = new Set<number>([DT.UINT8, DT.INT8, DT.UINT16, DT.INT16, DT.INT32, DT.INT64, DT.BOOL]);

export function isFloatType(dt: number): boolean {
  return FLOAT_TYPES.has(dt);
}

export function isIntType(dt: number): boolean {
  return INT_TYPES.has(dt);
}

/**
 * Largest tensor the CPU side creates (64 Mi elements, 256 MiB). Every allocation whose size comes
 * from the model or the feeds is checked against it, so a corrupt shape cannot exhaust memory.
 */
export const MAX_ELEMENTS = 1 << 26;

/** Element count of `dims`, checked: non-negative integers, product at most MAX_ELEMENTS. */
export function numel(dims: readonly number[], where: string): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) throw new FormatError(`${where}: invalid dimension ${d} in shape [${dims.join(', ')}]`);
    n *= d;
    if (n > MAX_ELEMENTS) {
      throw new UnsupportedError(
        `${where}: shape [${dims.join(', ')}] has more than ${MAX_ELEMENTS} elements, over the importer's CPU tensor limit`,
      );
    }
  }
  return n;
}

export function isFloat(t: Tensor): t is { data: Float32Array; dims: number[] } {
  return t.data instanceof Float32Array;
}

export function sameKind(dims: number[], like: Tensor, n = numel(dims, 'tensor')): Tensor {
  return { dims, data: isFloat(like) ? new Float32Array(n) : new Int32Array(n) };
}

/** Saturating int64 -> int32 (see the header). */
export function saturate(v: number): number {
  if (Number.isNaN(v)) return 0;
  return v > 2147483647 ? 2147483647 : v < -2147483648 ? -2147483648 : Math.trunc(v);
}

/** Bytes per element in raw_data. */
const RAW_WIDTH: Record<number, number> = {
  [DT.FLOAT]: 4,
  [DT.FLOAT16]: 2,
  [DT.BFLOAT16]: 2,
  [DT.DOUBLE]: 8,
  [DT.INT32]: 4,
  [DT.INT64]: 8,
  [DT.INT16]: 2,
  [DT.UINT16]: 2,
  [DT.INT8]: 1,
  [DT.UINT8]: 1,
  [DT.BOOL]: 1,
};

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(DT).map(([k, v]) => [v, k]));

export function typeName(dt: number): string {
  return TYPE_NAMES[dt] ?? `data_type ${dt}`;
}

/** A TensorProto (initializer or attribute) as a Tensor; `where` names it in errors. */
export function tensorFromProto(t: TensorProtoData, where: string): Tensor {
  const what = `${where}${t.name ? ` '${t.name}'` : ''}`;
  if (t.unsupportedStorage)
    throw new UnsupportedError(
      `${what}: tensors stored as ${t.unsupportedStorage} are not supported; save the model with its weights inside the file`,
    );
  const dt = t.dataType;
  if (!(dt in RAW_WIDTH))
    throw new UnsupportedError(
      `${what}: element type ${typeName(dt)} is not supported (float32/16, bfloat16, double and integer types are)`,
    );
  const dims = t.dims.map((d) => {
    if (!Number.isSafeInteger(d) || d < 0) throw new FormatError(`${what}: invalid dimension ${d}`);
    return d;
  });
  const n = numel(dims, what);
  const float = FLOAT_TYPES.has(dt);
  const out = float ? new Float32Array(n) : new Int32Array(n);
  if (t.raw && t.raw.length > 0) {
    const width = RAW_WIDTH[dt];
    if (t.raw.length !== n * width) {
      throw new FormatError(
        `${what}: raw_data has ${t.raw.length} bytes, expected ${n} elements × ${width} bytes for shape [${dims.join(', ')}]`,
      );
    }
    const v = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
    for (let i = 0; i < n; i++) {
      switch (dt) {
        case DT.FLOAT:
          out[i] = v.getFloat32(4 * i, true);
          break;
        case DT.FLOAT16:
          out[i] = halfToFloat(v.getUint16(2 * i, true));
          break;
        case DT.BFLOAT16:
          out[i] = bfloat16ToFloat(v.getUint16(2 * i, true));
          break;
        case DT.DOUBLE:
          out[i] = v.getFloat64(8 * i, true);
          break;
        case DT.INT32:
          out[i] = v.getInt32(4 * i, true);
          break;
        case DT.INT64:
          out[i] = saturate(Number(v.getBigInt64(8 * i, true)));
          break;
        case DT.INT16:
          out[i] = v.getInt16(2 * i, true);
          break;
        case DT.UINT16:
          out[i] = v.getUint16(2 * i, true);
          break;
        case DT.INT8:
          out[i] = v.getInt8(i);
          break;
        case DT.UINT8:
          out[i] = v.getUint8(i);
          break;
        case DT.BOOL:
          out[i] = v.getUint8(i) ? 1 : 0;
          break;
      }
    }
    return { dims, data: out };
  }
  // Typed fields: which one holds the data depends on the element type (onnx.proto's comments).
  let src: number[];
  let convert = (x: number) => x;
  if (dt === DT.FLOAT) src = t.floats;
  else if (dt === DT.DOUBLE) src = t.doubles;
  else if (dt === DT.INT64) {
    src = t.int64s;
    convert = saturate;
  } else if (dt === DT.FLOAT16) {
    src = t.int32s;
    convert = (x) => halfToFloat(x & 0xffff);
  } else if (dt === DT.BFLOAT16) {
    src = t.int32s;
    convert = (x) => bfloat16ToFloat(x);
  } else src = t.int32s; // INT32, INT16, INT8, UINT16, UINT8, BOOL
  if (src.length !== n) {
    throw new FormatError(
      `${what}: holds ${src.length} values, expected ${n} for shape [${dims.join(', ')}]` +
        (src.length === 0 && n > 0 ? ' (no data: neither raw_data nor a typed data field is set)' : ''),
    );
  }
  for (let i = 0; i < n; i++) out[i] = convert(src[i]);
  if (dt === DT.BOOL) for (let i = 0; i < n; i++) out[i] = out[i] ? 1 : 0;
  return { dims, data: out };
}

/** The values of an integer tensor as plain numbers (for shapes, axes, indices). */
export function intValues(t: Tensor, where: string): number[] {
  if (isFloat(t)) throw new FormatError(`${where}: expected an integer tensor, got float`);
  return Array.from(t.data);
}
