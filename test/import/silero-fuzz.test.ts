// Fuzzing the ONNX importer with the three Silero VAD files (fixed seeds): byte flips, truncations,
// huge varints and inserted bytes (test/support/fuzz.ts). 9,600 mutations go through prepareOnnx
// (everything before the GPU: decode, If branches, folding), 400 through loadOnnx and one run of a
// frame; together 10,000. Only library errors may come out, and a mutant that runs and that
// onnxruntime-node also runs must give ORT's numbers within 5e-3 (mutated weights may make both NaN).
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../../src/onnx/session.js';
import { prepareOnnx } from '../../src/onnx/load.js';
import { decodeModel, type GraphData, type TensorProtoData } from '../../src/onnx/proto.js';
import { tensorFromProto } from '../../src/onnx/tensor.js';
import { SILERO, SILERO_VERSIONS, sileroBytes, type SileroVersion } from '../../common/silero.js';
import { rng } from '../../common/random.js';
import { getTestDevice } from '../support/device.js';
import { agrees, mutate, ownError } from '../support/fuzz.js';

ort.env.logLevel = 'fatal';

const PARSE_MUTATIONS = 9_600;
const RUN_MUTATIONS = 400;

const files = Object.fromEntries(SILERO_VERSIONS.map((v) => [v, sileroBytes(v)])) as Record<SileroVersion, Uint8Array>;

/** Whether any initializer or Constant tensor of the model (If branches included) holds a NaN, an infinity or a magnitude over 1e15. */
function hasWildWeights(bytes: Uint8Array): boolean {
  const tensors = (g: GraphData): TensorProtoData[] => [
    ...g.initializers,
    ...g.nodes.flatMap((n) => n.attributes.flatMap((a) => [...(a.t ? [a.t] : []), ...(a.g ? tensors(a.g) : [])])),
  ];
  return tensors(decodeModel(bytes).graph).some((t) => {
    const v = tensorFromProto(t, 'weight').data;
    return v instanceof Float32Array && v.some((x) => !(Math.abs(x) <= 1e15));
  });
}

/** One frame of a version's feeds, ours and ORT's. */
function frame(v: SileroVersion) {
  const shape = SILERO[v];
  const n = shape.frame + shape.context;
  const input = Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i / 5) * Math.sin(i / 97));
  const states = Object.entries(shape.states).map(
    ([name, dims]) => [name, dims, new Float32Array(dims.reduce((a, b) => a * b)).fill(0.1)] as const,
  );
  return {
    ours: {
      input: { data: input, dims: [1, n] },
      sr: { data: new Int32Array([16000]), dims: [] },
      ...Object.fromEntries(states.map(([name, dims, data]) => [name, { data, dims }])),
    },
    ort: {
      input: new ort.Tensor('float32', input, [1, n]),
      sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
      ...Object.fromEntries(states.map(([name, dims, data]) => [name, new ort.Tensor('float32', data, dims)])),
    },
  };
}

describe('Silero VAD fuzz', () => {
  it(`parse-only: ${PARSE_MUTATIONS} mutations of v4, v5 and v6 only ever throw library errors`, () => {
    const r = rng(2026);
    const counts = { loaded: 0, rejected: 0 };
    for (let i = 0; i < PARSE_MUTATIONS; i++) {
      const v = SILERO_VERSIONS[i % 3];
      try {
        prepareOnnx(mutate(files[v], r));
        counts.loaded++;
      } catch (e) {
        ownError(e, `${v} mutation ${i}`);
        counts.rejected++;
      }
    }
    console.log(
      `[silero-fuzz] parse-only: ${PARSE_MUTATIONS} mutations, ${counts.loaded} loaded, ${counts.rejected} rejected with library errors`,
    );
    expect(counts.rejected).toBeGreaterThan(PARSE_MUTATIONS / 10);
    expect(counts.loaded).toBeGreaterThan(PARSE_MUTATIONS / 10);
  }, 600_000);

  it(`load + run: ${RUN_MUTATIONS} mutations run as onnxruntime does, or throw library errors`, async () => {
    const device = await getTestDevice();
    const r = rng(4242);
    const counts = { prepared: 0, ran: 0, compared: 0, ourErrors: 0 };
    for (let i = 0; i < RUN_MUTATIONS; i++) {
      const v = SILERO_VERSIONS[i % 3];
      const bytes = mutate(files[v], r);
      try {
        prepareOnnx(bytes);
      } catch (e) {
        ownError(e, `${v} #${i} prepare`);
        continue;
      }
      counts.prepared++;
      const feeds = frame(v);
      let outs: Record<string, { data: ArrayLike<number> }>;
      try {
        const s = await loadOnnx(device, bytes);
        try {
          outs = await s.run(feeds.ours);
        } finally {
          s.destroy();
        }
      } catch (e) {
        ownError(e, `${v} #${i} load/run`);
        counts.ourErrors++;
        continue;
      }
      counts.ran++;
      let theirs: Record<string, ort.Tensor> | undefined;
      try {
        const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 4 });
        theirs = await s.run(feeds.ort);
        await s.release();
      } catch {
        theirs = undefined; // ORT refuses some mutants we accept (and the other way round)
      }
      // A weight made NaN, infinite or huge (a flipped exponent bit; squared in the STFT it overflows):
      // where a NaN then meets max() (Relu) the result is the backend's choice (WGSL leaves it
      // implementation-defined), so both may finish finite and differ. Not compared.
      if (!theirs || hasWildWeights(bytes)) continue;
      counts.compared++;
      for (const name of Object.keys(theirs)) {
        // A whole model's tolerance, not one op's: test/gpu/silero.test.ts holds p to 1e-4 and the state
        // to 1e-3 on speech; on this synthetic frame v4's state differs from ORT's by up to 3e-3 even
        // unmutated (f32 rounding of near-silent STFT bins, magnified by its log(2^20·m + 1)). A wrong
        // op gives differences of order 1.
        const ref = Array.from(theirs[name].data as Float32Array);
        expect(
          agrees(outs[name].data, ref, 5e-3, 5e-3),
          `${v} #${i} output ${name}: ours ${Array.from(outs[name].data).slice(0, 4)}, ORT ${ref.slice(0, 4)}`,
        ).toBe(true);
      }
    }
    console.log(
      `[silero-fuzz] load + run: ${RUN_MUTATIONS} mutations, ${counts.prepared} prepared, ${counts.ran} ran (${counts.compared} compared with ORT), ${counts.ourErrors} library errors`,
    );
    expect(counts.ran).toBeGreaterThan(RUN_MUTATIONS / 10);
    expect(counts.compared).toBeGreaterThan(RUN_MUTATIONS / 20);
  }, 900_000);
});
