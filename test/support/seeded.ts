// Deterministic test data for the host-module unit tests: a seeded generator, arrays of values that
// are exact in f32 (multiples of 1/8, so sums compare with toEqual), weights of any spec, and the
// row-major index of a coordinate (the independent oracle for layout transposes).
import { expectedWeightLengths } from '../../src/model/spec.js';
import type { LayerWeights, ResolvedSpec, RnnWeights } from '../../src/model/types.js';

/** mulberry32: a small seeded generator of floats in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` nonzero multiples of 1/8 in [-64, 64]: exact in f32, and sums of two stay exact. */
export function exactArray(r: () => number, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const v = Math.floor(r() * 1024) - 512;
    return (v === 0 ? 1 : v) / 8;
  });
}

/** Weights of every tensor the spec takes (optional ones included), lengths from expectedWeightLengths. */
export function randomWeights(s: ResolvedSpec, r: () => number): RnnWeights {
  return Array.from({ length: s.numLayers }, (_, l) => {
    const w: Partial<LayerWeights> = {};
    for (const [name, n] of Object.entries(expectedWeightLengths(s, l))) {
      if (n !== undefined) w[name as keyof LayerWeights] = exactArray(r, n);
    }
    return w as LayerWeights;
  });
}

/** Row-major flat index of `coords` in an array of `shape`. */
export function flatIndex(shape: readonly number[], coords: readonly number[]): number {
  if (shape.length !== coords.length) throw new Error(`flatIndex: ${coords.length} coordinates for a rank-${shape.length} shape`);
  let i = 0;
  shape.forEach((n, k) => {
    if (coords[k] < 0 || coords[k] >= n) throw new Error(`flatIndex: coordinate ${k} = ${coords[k]} outside [0, ${n})`);
    i = i * n + coords[k];
  });
  return i;
}

/** Every coordinate of `shape`, in row-major order. */
export function* coordinates(shape: readonly number[]): Generator<number[]> {
  const n = shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < n; i++) {
    const c = new Array<number>(shape.length);
    let rest = i;
    for (let k = shape.length - 1; k >= 0; k--) {
      c[k] = rest % shape[k];
      rest = Math.floor(rest / shape[k]);
    }
    yield c;
  }
}
