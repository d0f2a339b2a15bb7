// Reads the 12 ONNX backend node tests (../shared/conformance/onnx-node) in Node with test/support/onnx.ts
// and turns each into plain JSON-able data for the browser page (createRnn spec, weights, feeds, expected outputs).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RnnSpec } from '../../src/index.js';
import { decodeSingleNodeModel, decodeTensor, type OnnxTensor } from '../support/onnx.js';
import type { ConformanceCase } from './protocol.js';

export const CONFORMANCE_ROOT = join(import.meta.dirname, '..', '..', '..', 'shared', 'conformance', 'onnx-node');

export function conformanceCases(root = CONFORMANCE_ROOT): ConformanceCase[] {
  const names = readdirSync(root).filter((d) => d.startsWith('test_')).sort();
  return names.map((name) => {
    const dir = join(root, name);
    const { node, inputs } = decodeSingleNodeModel(readFileSync(join(dir, 'model.onnx')));
    const setDir = join(dir, 'test_data_set_0');
    const feeds = new Map<string, OnnxTensor>();
    inputs.forEach((input, k) => feeds.set(input, decodeTensor(readFileSync(join(setDir, `input_${k}.pb`)))));
    const outputs = readdirSync(setDir).filter((f) => f.startsWith('output_')).sort().map((f) => decodeTensor(readFileSync(join(setDir, f))));
    const a = node.attributes;
    const input = (slot: number) => (node.inputs[slot] ? feeds.get(node.inputs[slot]) : undefined);
    const X = input(0)!;
    const batchMajor = a.layout === 1;
    const cell = node.opType.toLowerCase() as RnnSpec['cell'];
    const spec: RnnSpec = {
      cell, inputSize: X.dims[2], hiddenSize: a.hidden_size as number,
      direction: (a.direction as RnnSpec['direction']) ?? 'forward',
      layout: batchMajor ? 'batch-major' : 'time-major',
      ...(a.activations ? { activations: a.activations as string[] } : {}),
      ...(a.activation_alpha ? { activationAlpha: a.activation_alpha as number[] } : {}),
      ...(a.activation_beta ? { activationBeta: a.activation_beta as number[] } : {}),
      ...(a.clip !== undefined ? { clip: a.clip as number } : {}),
      ...(a.input_forget ? { inputForget: true } : {}),
      ...(a.linear_before_reset ? { linearBeforeReset: true } : {}),
    };
    const arr = (t?: OnnxTensor) => (t ? Array.from(t.data) : undefined);
    const presentOutputs = node.outputs.map((o, k) => ({ name: (['Y', 'Y_h', 'Y_c'] as const)[k], present: o !== '' })).filter((o) => o.present);
    if (presentOutputs.length !== outputs.length) throw new Error(`${name}: ${presentOutputs.length} node outputs but ${outputs.length} expected files`);
    return {
      name, spec,
      weights: { W: arr(input(1))!, R: arr(input(2))!, B: arr(input(3)), P: cell === 'lstm' ? arr(input(7)) : undefined },
      x: arr(X)!,
      run: {
        seqLen: batchMajor ? X.dims[1] : X.dims[0], batch: batchMajor ? X.dims[0] : X.dims[1],
        sequenceLens: arr(input(4)), initialH: arr(input(5)), initialC: cell === 'lstm' ? arr(input(6)) : undefined,
      },
      expected: presentOutputs.map((o, k) => ({ name: o.name, data: Array.from(outputs[k].data) })),
    };
  });
}
