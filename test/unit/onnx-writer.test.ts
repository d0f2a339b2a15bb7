// The test-side ONNX writer produces models that ONNX Runtime loads and runs, and that agree with
// the float64 reference: the writer is then fit to build oracle models for the importers and the bench.
import { describe, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { referenceRnn } from '../../common/reference.js';
import { expectClose } from '../support/close.js';
import { attr, onnxModel } from '../../common/onnx-writer.js';
import { randomWeights, rng, uniform } from '../../common/random.js';

describe('ONNX writer', () => {
  it('a bidirectional LSTM node with initializers runs in onnxruntime-node and matches the reference', async () => {
    const spec = { cell: 'lstm', inputSize: 3, hiddenSize: 4, direction: 'bidirectional' } as const;
    const [w] = randomWeights(spec, 9, { peepholes: true });
    const T = 5,
      B = 2;
    const model = onnxModel({
      nodes: [
        {
          opType: 'LSTM',
          inputs: ['X', 'W', 'R', 'B', '', '', '', 'P'],
          outputs: ['Y', 'Y_h', 'Y_c'],
          attributes: { hidden_size: attr.i(4), direction: attr.s('bidirectional'), clip: attr.f(2.5) },
        },
      ],
      inputs: [{ name: 'X', dims: ['T', 'B', 3] }],
      outputs: [
        { name: 'Y', dims: ['T', 2, 'B', 4] },
        { name: 'Y_h', dims: [2, 'B', 4] },
        { name: 'Y_c', dims: [2, 'B', 4] },
      ],
      initializers: [
        { name: 'W', dims: [2, 16, 3], data: w.W },
        { name: 'R', dims: [2, 16, 4], data: w.R },
        { name: 'B', dims: [2, 32], data: w.B! },
        { name: 'P', dims: [2, 12], data: w.P! },
      ],
      opset: 14,
    });
    const session = await ort.InferenceSession.create(model);
    const x = uniform(rng(3), T * B * 3);
    const out = await session.run({ X: new ort.Tensor('float32', x, [T, B, 3]) });
    const ref = referenceRnn({ ...spec, clip: 2.5 }, [w], x, { seqLen: T, batch: B });
    expectClose(out.Y.data as Float32Array, ref.Y, 'Y');
    expectClose(out.Y_h.data as Float32Array, ref.Y_h, 'Y_h');
    expectClose(out.Y_c.data as Float32Array, ref.Y_c!, 'Y_c');
    await session.release();
  });
});
