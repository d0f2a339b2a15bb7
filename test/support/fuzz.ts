// Shared by the importers' fuzzers: how one mutated import may end, and random replacement values.
import { WebGpuRnnError } from '../../src/index.js';
import { resolveSpec, validateWeights } from '../../src/model/spec.js';
import type { RnnSpec, RnnWeights } from '../../src/model/types.js';

export type Outcome = 'rejected' | 'imported';

/** Runs an import; returns how it ended, failing the test on anything but our errors or valid weights. */
export function attempt(label: string, f: () => { spec: RnnSpec; weights: RnnWeights }): Outcome {
  let result: { spec: RnnSpec; weights: RnnWeights };
  try {
    result = f();
  } catch (e) {
    if (e instanceof WebGpuRnnError) return 'rejected';
    throw new Error(`${label}: threw a non-library error: ${String(e)}`);
  }
  // What an importer hands out must pass createRnn's own checks.
  validateWeights(resolveSpec(result.spec), result.weights);
  return 'imported';
}

export const PICKS = [-1, 0, 1, 2, 3, 7, 1e300, 2 ** 53, 2 ** 32, 1.5, null, 'x', [], {}, [0], [1, 2, 3], true, -0.0];

export function randomValue(r: () => number): unknown {
  return PICKS[Math.floor(r() * PICKS.length)];
}

/** One random mutation of a file's bytes: bit flips, a truncation, a huge varint, inserted bytes. */
export function mutate(src: Uint8Array, r: () => number): Uint8Array {
  const at = Math.floor(r() * src.length);
  const kind = r();
  if (kind < 0.4) {
    const b = src.slice();
    const flips = 1 + Math.floor(r() * 3);
    for (let i = 0; i < flips; i++) b[Math.floor(r() * b.length)] ^= 1 << Math.floor(r() * 8);
    return b;
  }
  if (kind < 0.55) return src.slice(0, at);
  if (kind < 0.8) {
    // A length (or any varint) made huge: 5 bytes of 0xff..0x0f ≈ 2^32, or 10 bytes ≈ 2^63.
    const huge = r() < 0.5 ? [0xff, 0xff, 0xff, 0xff, 0x0f] : [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    const b = new Uint8Array(src.length + huge.length - 1);
    b.set(src.subarray(0, at));
    b.set(huge, at);
    b.set(src.subarray(at + 1), at + huge.length);
    return b;
  }
  if (kind < 0.9) {
    const b = src.slice();
    b[at] = Math.floor(r() * 256);
    return b;
  }
  const junk = Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256));
  const b = new Uint8Array(src.length + junk.length);
  b.set(src.subarray(0, at));
  b.set(junk, at);
  b.set(src.subarray(at), at + junk.length);
  return b;
}

export function ownError(e: unknown, what: string): void {
  if (!(e instanceof WebGpuRnnError))
    throw new Error(`${what}: threw a foreign error: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
}

/** The library's f32 tolerance against ORT (as in onnx-import.test.ts): |ours - ORT| <= ATOL + RTOL·|ORT|. */
const ATOL = 1e-5;
const RTOL = 1e-4;

/** NaN-aware closeness: mutated weights may legitimately give NaN or Inf, on both sides. */
export function agrees(a: ArrayLike<number>, b: ArrayLike<number>, atol = ATOL, rtol = RTOL): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i],
      y = b[i];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return false;
      continue;
    }
    if (!Number.isFinite(y) || !Number.isFinite(x)) {
      if (x !== y && Math.abs(y) < 1e30) return false;
      continue;
    }
    if (Math.abs(x - y) > atol + rtol * Math.abs(y)) return false;
  }
  return true;
}
