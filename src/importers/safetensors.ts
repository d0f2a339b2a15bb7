// Reads the safetensors format (Hugging Face; what `safetensors.torch.save_file` writes for a
// PyTorch state_dict): an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
// { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } },
// then the data buffer that the offsets index. Everything is checked before any tensor is decoded,
// because the bytes usually come from the network: a bad file must give a FormatError, never a
// RangeError, a huge allocation or a silently wrong tensor.
import { FormatError, UnsupportedError } from '../core/errors.js';
import { bfloat16ToFloat, halfToFloat } from '../core/numbers.js';

/** Float dtypes we decode (to Float32Array). F64 is narrowed to f32, which the GPU runs anyway. */
export type SafetensorsFloatDtype = 'F32' | 'F16' | 'BF16' | 'F64';

export interface SafetensorsTensor {
  dtype: SafetensorsFloatDtype;
  shape: number[];
  data: Float32Array;
}

export interface ReadSafetensorsOptions {
  /**
   * Leave out tensors of the valid non-float dtypes (integers, bool, fp8; e.g. BatchNorm's
   * `num_batches_tracked`) instead of throwing UnsupportedError. Their offsets are still checked.
   */
  skipUnsupported?: boolean;
}

const FLOAT_SIZES: Record<SafetensorsFloatDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };
/** Dtypes the format defines that we do not decode; their sizes let us still check the offsets. */
const OTHER_SIZES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  I32: 4,
  U32: 4,
  I64: 8,
  U64: 8,
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isFloatDtype(d: string): d is SafetensorsFloatDtype {
  return Object.hasOwn(FLOAT_SIZES, d);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decode(bytes: Uint8Array, dtype: SafetensorsFloatDtype, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32':
      if (LITTLE_ENDIAN_HOST) {
        // slice() copies into a fresh, aligned buffer: offsets in the file need not be 4-aligned.
        out.set(new Float32Array(bytes.slice().buffer, 0, count));
      } else {
        for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      }
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      break;
    case 'BF16':
      for (let i = 0; i < count; i++) out[i] = bfloat16ToFloat(view.getUint16(2 * i, true));
      break;
  }
  return out;
}

/** Sets a key on a plain object without letting a tensor named "__proto__" replace its prototype. */
function defineEntry<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Parses a .safetensors file. F32, F16, BF16 (and F64) tensors come back as Float32Array with
 * their shapes; throws FormatError for anything truncated or inconsistent and UnsupportedError for
 * a dtype we do not decode (unless `skipUnsupported`).
 */
export function readSafetensors(bytes: Uint8Array, options: ReadSafetensorsOptions = {}): Record<string, SafetensorsTensor> {
  if (!(bytes instanceof Uint8Array))
    throw new FormatError(`safetensors: expected the file as a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  if (bytes.length < 8) throw new FormatError(`safetensors: file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // u64 read as two halves: a huge value must be reported, not wrapped or rounded.
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const available = bytes.length - 8;
  if (hi !== 0 || lo > available) {
    const n = BigInt(hi) * 4294967296n + BigInt(lo);
    throw new FormatError(
      `safetensors: header length ${n} exceeds the ${available} bytes after the length field (truncated or not a safetensors file)`,
    );
  }
  const headerLength = lo;
  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new FormatError('safetensors: header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    throw new FormatError(`safetensors: header is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(header))
    throw new FormatError('safetensors: header must be a JSON object mapping tensor names to { dtype, shape, data_offsets }');

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const out: Record<string, SafetensorsTensor> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isObject(entry) || Object.values(entry).some((v) => typeof v !== 'string')) {
        throw new FormatError('safetensors: "__metadata__" must be an object of string values');
      }
      continue;
    }
    const what = `safetensors tensor ${JSON.stringify(name)}`;
    if (!isObject(entry)) throw new FormatError(`${what}: entry must be an object { dtype, shape, data_offsets }`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string') throw new FormatError(`${what}: dtype must be a string, got ${JSON.stringify(dtype)}`);
    if (!isFloatDtype(dtype) && !Object.hasOwn(OTHER_SIZES, dtype)) {
      throw new UnsupportedError(`${what}: unknown dtype ${JSON.stringify(dtype)} (supported: F32, F16, BF16, F64)`);
    }
    const itemSize = isFloatDtype(dtype) ? FLOAT_SIZES[dtype] : OTHER_SIZES[dtype];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new FormatError(`${what}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new FormatError(`${what}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength) {
      throw new FormatError(`${what}: data_offsets [${begin}, ${end}] are outside the ${dataLength}-byte data buffer (truncated file?)`);
    }
    // The element count is bounded by the byte range before it is multiplied out, so a shape like
    // [1e15, 1e15] is rejected instead of overflowing.
    let count = 1;
    let overflow = false;
    for (const d of shape as number[]) {
      count *= d;
      if (count * itemSize > dataLength) {
        overflow = true;
        break;
      }
    }
    if (overflow || count * itemSize !== end - begin) {
      const needs = overflow ? `more than ${dataLength}` : `${count * itemSize}`;
      throw new FormatError(
        `${what}: shape ${JSON.stringify(shape)} of ${dtype} needs ${needs} bytes, but data_offsets span ${end - begin}`,
      );
    }
    if (!isFloatDtype(dtype)) {
      if (options.skipUnsupported) continue;
      throw new UnsupportedError(
        `${what}: dtype ${dtype} is not a float type (supported: F32, F16, BF16, F64); pass { skipUnsupported: true } to leave such tensors out`,
      );
    }
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    defineEntry(out, name, { dtype, shape: [...(shape as number[])], data: decode(raw, dtype, count) });
  }
  return out;
}
