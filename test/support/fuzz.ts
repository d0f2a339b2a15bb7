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
