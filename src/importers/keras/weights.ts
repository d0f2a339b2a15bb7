// The weights manifest and the weight bytes: every tensor named, shaped and decoded to float32.
// The bytes are the concatenation of all shards, tensors back to back in manifest order (the
// TF.js weights format), so every size is checked against what is left before anything is allocated.
import { FormatError, UnsupportedError } from '../../core/errors.js';
import { isObject } from './format.js';
import { concatBytes } from '../../core/numbers.js';

export interface WeightTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Sizes in bytes of the stored dtypes we decode. */
const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2 };

/** ArrayBuffer, ArrayBuffer[] (shards in manifest order), or a view of either (Node's Buffer). */
export function concatShards(weightData: unknown): Uint8Array {
  const asBytes = (v: unknown, where: string): Uint8Array => {
    if (v instanceof ArrayBuffer) return new Uint8Array(v);
    if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    throw new FormatError(`${where} must be an ArrayBuffer, got ${Object.prototype.toString.call(v)}`);
  };
  if (!Array.isArray(weightData)) return asBytes(weightData, 'weightData');
  return concatBytes(weightData.map((p, i) => asBytes(p, `weightData[${i}]`)));
}

function checkShape(v: unknown, where: string): number[] {
  if (!Array.isArray(v) || v.length > 8) throw new FormatError(`${where} must be an array of at most 8 dimensions`);
  return v.map((d, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
      throw new FormatError(`${where}[${i}] must be a non-negative integer, got ${JSON.stringify(d)}`);
    return d;
  });
}

/** Decodes every tensor of the manifest from `bytes`; the manifest must account for every byte. */
export function readWeights(manifest: unknown, bytes: Uint8Array): Map<string, WeightTensor> {
  if (!Array.isArray(manifest)) throw new FormatError('weightsManifest must be an array of { paths, weights } groups');
  const out = new Map<string, WeightTensor>();
  let offset = 0;
  manifest.forEach((group, g) => {
    if (!isObject(group) || !Array.isArray(group.weights)) throw new FormatError(`weightsManifest[${g}].weights must be an array`);
    group.weights.forEach((spec, k) => {
      const where = `weightsManifest[${g}].weights[${k}]`;
      if (!isObject(spec)) throw new FormatError(`${where} must be an object { name, shape, dtype }`);
      if (typeof spec.name !== 'string') throw new FormatError(`${where}.name must be a string`);
      const shape = checkShape(spec.shape, `${where}.shape`);
      // Multiply in floating point: a product past 2^53 is already far beyond any byte count we accept.
      const count = shape.reduce((a, b) => a * b, 1);
      const { stored, decode } = decoder(spec, where);
      const size = count * STORED_BYTES[stored];
      if (size > bytes.length - offset) {
        throw new FormatError(
          `${where} (${spec.name}, shape [${shape}], ${stored}) needs ${size} bytes at offset ${offset}, ` +
            `but the weight data has ${bytes.length} bytes; the data is truncated or the manifest does not match it`,
        );
      }
      if (out.has(spec.name)) throw new FormatError(`weight ${JSON.stringify(spec.name)} appears twice in the manifest`);
      // slice() copies, so a tensor at an offset that is not a multiple of 4 still decodes.
      out.set(spec.name, { name: spec.name, shape, data: decode(bytes.slice(offset, offset + size).buffer) });
      offset += size;
    });
  });
  if (offset !== bytes.length) {
    throw new FormatError(`the weight data has ${bytes.length} bytes but the manifest describes ${offset}; wrong or extra shards`);
  }
  return out;
}

interface Decoder {
  stored: string;
  decode: (buf: ArrayBuffer) => Float32Array;
}

/** float32 as is; int32 widened; uint8 / uint16 with TF.js affine quantization (q·scale + min). */
function decoder(spec: Record<string, unknown>, where: string): Decoder {
  const dtype = spec.dtype;
  if (dtype === 'string' || dtype === 'bool' || dtype === 'complex64') {
    throw new UnsupportedError(`${where}: weights of dtype ${dtype} are not supported (the layers we run hold float32 weights)`);
  }
  if (dtype !== 'float32' && dtype !== 'int32')
    throw new FormatError(`${where}.dtype must be 'float32' or 'int32', got ${JSON.stringify(dtype)}`);
  const q = spec.quantization;
  if (q === undefined || q === null) {
    return { stored: dtype, decode: dtype === 'float32' ? (b) => new Float32Array(b) : (b) => Float32Array.from(new Int32Array(b)) };
  }
  if (!isObject(q)) throw new FormatError(`${where}.quantization must be an object`);
  if (q.dtype === 'float16')
    throw new UnsupportedError(`${where}: float16 quantization is not supported; reconvert without --quantize_float16`);
  if (q.dtype !== 'uint8' && q.dtype !== 'uint16')
    throw new FormatError(`${where}.quantization.dtype must be 'uint8' or 'uint16', got ${JSON.stringify(q.dtype)}`);
  const scale = q.scale;
  const min = q.min;
  if (typeof scale !== 'number' || typeof min !== 'number' || !Number.isFinite(scale) || !Number.isFinite(min)) {
    throw new UnsupportedError(`${where}: quantization without finite scale and min is not supported`);
  }
  const view = q.dtype === 'uint8' ? (b: ArrayBuffer) => new Uint8Array(b) : (b: ArrayBuffer) => new Uint16Array(b);
  return { stored: q.dtype, decode: (b) => Float32Array.from(view(b), (v) => v * scale + min) };
}
