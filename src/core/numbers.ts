// Number and byte helpers shared by the model parsers (ONNX, safetensors, TF.js manifests, Keras).

/** IEEE 754 binary16 bits -> number (zero, subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** number -> IEEE 754 binary16 bits, rounded to nearest even (overflow to ±Infinity, subnormals kept). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Infinity, NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: Infinity
  if (e <= 0) {
    if (e < -10) return sign; // too small: ±0
    const m = mant | 0x800000; // subnormal half
    const shift = 14 - e;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // Round to nearest even; a carry into the exponent is the correct next value (up to Infinity).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/** Float32Array -> binary16 bits, padded to an even length (WebGPU writes whole 4-byte words). */
export function toHalfBits(v: Float32Array): Uint16Array {
  const out = new Uint16Array(v.length + (v.length & 1));
  for (let i = 0; i < v.length; i++) out[i] = floatToHalf(v[i]);
  return out;
}

/** bfloat16 bits -> number: bfloat16 is the upper half of a float32. */
export function bfloat16ToFloat(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** The parts, one after the other, in a new array made by `create` (the one concatenation of the library). */
function concatInto<T extends Uint8Array | Float32Array>(parts: readonly T[], create: (length: number) => T): T {
  const out = create(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Byte arrays, one after the other, in a new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return concatInto(parts, (n) => new Uint8Array(n));
}

/** Float arrays, one after the other, in a new array (e.g. per-direction tensors into one [D, …] tensor). */
export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  return concatInto(parts, (n) => new Float32Array(n));
}
