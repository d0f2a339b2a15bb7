// Deterministic test data for the host-module unit tests: a seeded generator, arrays of values that
// are exact in f32 (multiples of 1/8, so sums compare with toEqual), weights of any spec, and the
// row-major index of a coordinate (the independent oracle for layout transposes).
import { rng } from '../../common/random.js';
import { expectedWeightLengths } from '../../src/model/spec.js';
import type { LayerWeights, ResolvedSpec, RnnWeights } from '../../src/model/types.js';

/** A seeded generator of floats in [0, 1): common/random.ts's rng. */
export const seeded = rng;

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
