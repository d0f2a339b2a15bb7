// Every operator of the ONNX importer against ONNX Runtime (onnxruntime-node, CPU), one node per
// model (test/support/op-cases.ts). Each case runs twice: with its inputs fed at run time (float
// inputs then live on the GPU and the op runs as graph kernels), and with them as initializers,
// which the importer folds at load time where the op has a CPU implementation (the others run on
// the GPU from constants). Outputs: same names, dims and element
// kind; floats within 1e-5 + 1e-4·|ORT|, integers exact. Rejected cases: the error class, a message
// naming the node, on both paths.
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError, InputError, loadOnnx, UnsupportedError, type OnnxTensor } from '../../src/index.js';
import { CPU_OPS } from '../../src/onnx/cpu/ops.js';
import { GPU_OPS } from '../../src/onnx/gpu/ops.js';
import { expectClose } from '../support/close.js';
import { getTestDevice } from '../support/device.js';
import { caseModel, caseValues, OP_CASES, type OpCase, type Value } from '../support/op-cases.js';

const ERRORS = { FormatError, InputError, UnsupportedError };
const FED = 'inputs fed';
const FOLDED = 'inputs constant (folded at load)';

const stats = { runs: 0, tensors: 0, errors: 0, maxErr: 0, casesPerOp: new Map<string, number>() };
afterAll(() => {
  const perOp = [...stats.casesPerOp].map(([op, n]) => `${op} ${n}`).join(', ');
  console.log(
    `[onnx-ops] ${OP_CASES.length} cases over ${stats.casesPerOp.size} ops; ${stats.runs} runs vs ORT (${stats.tensors} tensors, ` +
      `max |diff| ${stats.maxErr.toExponential(2)}), ${stats.errors} rejections checked. Cases per op: ${perOp}`,
  );
});

/** Our feed: integers (int64 saturated to int32, bool as 0/1) in an Int32Array, floats as they are. */
function ourTensor(v: Value): OnnxTensor {
  if (v.data instanceof Float32Array) return { dims: v.dims, data: v.data };
  const clamp = (n: number) => Math.min(Math.max(n, -2147483648), 2147483647);
  return { dims: v.dims, data: Int32Array.from(v.data as ArrayLike<number | bigint>, (n) => clamp(Number(n))) };
}

async function runOurs(model: Uint8Array, feeds: Record<string, OnnxTensor>): Promise<Record<string, OnnxTensor>> {
  const session = await loadOnnx(await getTestDevice(), model);
  try {
    return await session.run(feeds);
  } finally {
    session.destroy();
  }
}

async function runOrt(model: Uint8Array, values: Value[]): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  try {
    return await session.run(Object.fromEntries(values.map((v) => [v.name, new ort.Tensor(v.dtype, v.data, v.dims)])));
  } finally {
    await session.release();
  }
}

function compareOutput(label: string, ours: OnnxTensor, ref: ort.Tensor): void {
  expect(ours.dims, `${label} dims`).toEqual([...ref.dims]);
  const float = ref.type === 'float32' || ref.type === 'float64';
  expect(ours.data instanceof Float32Array ? 'float' : 'integer', `${label} element kind (ORT: ${ref.type})`).toBe(
    float ? 'float' : 'integer',
  );
  const want = Array.from(ref.data as ArrayLike<number | bigint>, Number);
  if (float) stats.maxErr = Math.max(stats.maxErr, expectClose(ours.data, want, label));
  else expect(Array.from(ours.data), label).toEqual(want);
  stats.tensors++;
}

const rows = OP_CASES.map((c, i): [string, OpCase, number] => [
  `${c.op} opset ${c.opset}: ${c.note}${c.bug ? ' (known library bug)' : ''}`,
  c,
  i + 1,
]);

describe.each(rows)('%s', (_, c, seed) => {
  stats.casesPerOp.set(c.op, (stats.casesPerOp.get(c.op) ?? 0) + 1);
  const values = caseValues(c, seed);
  const given = values.filter((v): v is Value => v !== null);
  const modes = given.length ? [FED, FOLDED] : [FOLDED];

  (c.bug ? it.fails : it).each(modes)('%s', async (mode) => {
    const constant = mode === FOLDED;
    const model = caseModel(c, values, constant);
    const feeds = constant ? {} : Object.fromEntries(given.map((v) => [v.name, ourTensor(v)]));
    if (c.error) {
      const e = await runOurs(model, feeds).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e, 'the importer rejects the case').toBeInstanceOf(ERRORS[c.error.type]);
      const message = (e as Error).message;
      expect(message).toMatch(c.error.match);
      expect(message, 'the message names the node').toContain(`node '${c.op}_0' (${c.op})`);
      stats.errors++;
      return;
    }
    const ref = await runOrt(model, constant ? [] : given);
    const ours = await runOurs(model, feeds);
    expect(Object.keys(ours).sort()).toEqual(Object.keys(ref).sort());
    for (const name of Object.keys(ref)) compareOutput(`${c.op} [${c.note}] ${mode} ${name}`, ours[name], ref[name]);
    stats.runs++;
  });
});

describe('coverage', () => {
  it('every CPU and GPU op of the importer has at least one case', () => {
    const covered = new Set(OP_CASES.map((c) => c.op));
    const ops = new Set([...Object.keys(CPU_OPS), ...Object.keys(GPU_OPS)]);
    expect([...ops].filter((op) => !covered.has(op))).toEqual([]);
    expect(
      [...covered].filter((op) => !ops.has(op)),
      'cases for ops the importer does not run',
    ).toEqual([]);
  });
});
