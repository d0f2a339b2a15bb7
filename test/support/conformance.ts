// The 12 ONNX backend node tests for LSTM, GRU and RNN (../shared/conformance/onnx-node), each
// read with test/support/onnx.ts and mapped onto createRnn's spec, weights and run options, with
// the expected outputs named Y / Y_h / Y_c. Used by the Node and the browser conformance tests.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerWeights, RnnSpec } from '../../src/index.js';
import { decodeSingleNodeModel, decodeTensor, type OnnxTensor } from './onnx.js';

export const CONFORMANCE_ROOT = join(import.meta.dirname, '..', '..', '..', 'shared', 'conformance', 'onnx-node');

export interface ConformanceTest {
  name: string;
  spec: RnnSpec;
  weights: LayerWeights;
  x: Float32Array;
  run: { seqLen: number; batch: number; sequenceLens?: Int32Array; initialH?: Float32Array; initialC?: Float32Array };
  expected: { name: 'Y' | 'Y_h' | 'Y_c'; data: Float32Array }[];
}

export function conformanceTestNames(root = CONFORMANCE_ROOT): string[] {
  return readdirSync(root)
    .filter((d) => d.startsWith('test_'))
    .sort();
}

export function loadConformanceTest(name: string, root = CONFORMANCE_ROOT): ConformanceTest {
  const dir = join(root, name);
  const { node, inputs } = decodeSingleNodeModel(readFileSync(join(dir, 'model.onnx')));
  const setDir = join(dir, 'test_data_set_0');
  const feeds = new Map<string, OnnxTensor>();
  inputs.forEach((input, k) => feeds.set(input, decodeTensor(readFileSync(join(setDir, `input_${k}.pb`)))));
  const outputs = readdirSync(setDir)
    .filter((f) => f.startsWith('output_'))
    .sort()
    .map((f) => decodeTensor(readFileSync(join(setDir, f))));
  const a = node.attributes;
  const input = (slot: number) => (node.inputs[slot] ? feeds.get(node.inputs[slot]) : undefined);
  const floats = (slot: number) => input(slot)?.data as Float32Array | undefined;
  const X = input(0)!;
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
  const weights: LayerWeights = { W: floats(1)!, R: floats(2)! };
  if (input(3)) weights.B = floats(3);
  if (cell === 'lstm' && input(7)) weights.P = floats(7);
  const present = node.outputs.map((o, k) => ({ name: (['Y', 'Y_h', 'Y_c'] as const)[k], present: o !== '' })).filter((o) => o.present);
  if (present.length !== outputs.length) throw new Error(`${name}: ${present.length} node outputs but ${outputs.length} expected files`);
  return {
    name,
    spec,
    weights,
    x: X.data as Float32Array,
    run: {
      seqLen: batchMajor ? X.dims[1] : X.dims[0],
      batch: batchMajor ? X.dims[0] : X.dims[1],
      sequenceLens: input(4) ? Int32Array.from(input(4)!.data) : undefined,
      initialH: floats(5),
      initialC: cell === 'lstm' ? floats(6) : undefined,
    },
    expected: present.map((o, k) => ({ name: o.name, data: outputs[k].data as Float32Array })),
  };
}
