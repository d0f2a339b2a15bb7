// The 12 official ONNX backend node tests for LSTM, GRU and RNN (../shared/conformance/onnx-node),
// run through createRnn on the GPU, including the three layout = 1 tests ONNX Runtime refuses.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRnn, type LayerWeights, type RnnSpec } from '../src/index.js';
import { referenceRnn } from './reference.js';
import { expectClose } from './support/close.js';
import { adapterName, getTestDevice } from './support/device.js';
import { decodeSingleNodeModel, decodeTensor, type OnnxTensor } from './support/onnx.js';

const ROOT = join(import.meta.dirname, '..', '..', 'shared', 'conformance', 'onnx-node');
const TESTS = readdirSync(ROOT).filter((d) => d.startsWith('test_')).sort();

/** One ONNX recurrent node and its feeds, mapped onto createRnn's spec, weights and run options. */
function toEngine(dir: string) {
  const { node, inputs } = decodeSingleNodeModel(readFileSync(join(dir, 'model.onnx')));
  const setDir = join(dir, 'test_data_set_0');
  const feeds = new Map<string, OnnxTensor>();
  inputs.forEach((name, k) => feeds.set(name, decodeTensor(readFileSync(join(setDir, `input_${k}.pb`)))));
  const expected = readdirSync(setDir).filter((f) => f.startsWith('output_')).sort()
    .map((f) => decodeTensor(readFileSync(join(setDir, f))));
  const a = node.attributes;
  const input = (slot: number) => (node.inputs[slot] ? feeds.get(node.inputs[slot]) : undefined);
  const X = input(0)!;
  const W = input(1)!;
  const batchMajor = a.layout === 1;
  const cell = node.opType.toLowerCase() as RnnSpec['cell'];
  const spec: RnnSpec = {
    cell,
    inputSize: X.dims[2],
    hiddenSize: a.hidden_size as number,
    direction: (a.direction as RnnSpec['direction']) ?? 'forward',
    layout: batchMajor ? 'batch-major' : 'time-major',
    ...(a.activations ? { activations: a.activations as string[] } : {}),
    ...(a.activation_alpha ? { activationAlpha: a.activation_alpha as number[] } : {}),
    ...(a.activation_beta ? { activationBeta: a.activation_beta as number[] } : {}),
    ...(a.clip !== undefined ? { clip: a.clip as number } : {}),
    ...(a.input_forget ? { inputForget: true } : {}),
    ...(a.linear_before_reset ? { linearBeforeReset: true } : {}),
  };
  const weights: LayerWeights = { W: W.data as Float32Array, R: input(2)!.data as Float32Array };
  if (input(3)) weights.B = input(3)!.data as Float32Array;
  if (cell === 'lstm' && input(7)) weights.P = input(7)!.data as Float32Array;
  const [seqLen, batch] = batchMajor ? [X.dims[1], X.dims[0]] : [X.dims[0], X.dims[1]];
  const run = {
    seqLen, batch,
    sequenceLens: input(4) ? Int32Array.from(input(4)!.data) : undefined,
    initialH: input(5)?.data as Float32Array | undefined,
    initialC: cell === 'lstm' ? (input(6)?.data as Float32Array | undefined) : undefined,
  };
  const outputs = node.outputs.map((name, k) => ({ name: ['Y', 'Y_h', 'Y_c'][k], present: name !== '' })).filter((o) => o.present);
  return { spec, weights, x: X.data as Float32Array, run, outputs, expected };
}

let worst = 0;
afterAll(async () => console.log(`[conformance] ${TESTS.length} ONNX node tests on ${adapterName(await getTestDevice())}; max |gpu - onnx| = ${worst.toExponential(2)}`));

describe('ONNX backend conformance tests (onnx/onnx 1.23 data)', () => {
  it('finds all 12 tests', () => expect(TESTS.length).toBe(12));
  for (const name of TESTS) {
    it(name, async () => {
      const t = toEngine(join(ROOT, name));
      expect(t.outputs.length).toBe(t.expected.length);
      const rnn = await createRnn(await getTestDevice(), t.spec, [t.weights]);
      const got = await rnn.run(t.x, t.run);
      const ref = referenceRnn(t.spec, [t.weights], t.x, t.run);
      rnn.destroy();
      t.outputs.forEach((o, k) => {
        const key = o.name as 'Y' | 'Y_h' | 'Y_c';
        worst = Math.max(worst, expectClose(got[key]!, t.expected[k].data, `${name} ${key} (gpu vs onnx)`));
        // The float64 reference agrees with ONNX's expected outputs too (ONNX computed them in float32).
        expectClose(ref[key]!, t.expected[k].data, `${name} ${key} (reference vs onnx)`, { atol: 1e-6, rtol: 1e-5 });
      });
    });
  }
});
