// The 12 ONNX backend node tests (test/support/conformance.ts reads them in Node) as plain JSON-able
// data for the browser page: createRnn spec, weights, feeds and expected outputs.
import { conformanceTestNames, loadConformanceTest } from '../support/conformance.js';
import type { ConformanceCase } from './protocol.js';

export function conformanceCases(): ConformanceCase[] {
  const arr = (v?: ArrayLike<number>) => (v ? Array.from(v) : undefined);
  return conformanceTestNames().map((name) => {
    const t = loadConformanceTest(name);
    return {
      name,
      spec: t.spec,
      weights: { W: arr(t.weights.W)!, R: arr(t.weights.R)!, B: arr(t.weights.B), P: arr(t.weights.P) },
      x: arr(t.x)!,
      run: {
        seqLen: t.run.seqLen,
        batch: t.run.batch,
        sequenceLens: arr(t.run.sequenceLens),
        initialH: arr(t.run.initialH),
        initialC: arr(t.run.initialC),
      },
      expected: t.expected.map((e) => ({ name: e.name, data: Array.from(e.data) })),
    };
  });
}
