// Fuzzing the ONNX importer with a fixed seed: byte flips, truncations, huge length fields and
// inserted bytes on valid models. Whatever the bytes, loading (and running, where loading works)
// must either throw one of the library's own errors (WebGpuRnnError) or give the right answer,
// which is checked against ONNX Runtime whenever ORT accepts the same mutated bytes.
// The parse-only test (10,000 mutations through prepareOnnx: everything loadOnnx does before the
// GPU) needs no GPU and takes about a second; only the load + run test asks for a device.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { loadOnnx, type Tensor } from '../../src/onnx/session.js';
import { prepareOnnx } from '../../src/onnx/load.js';
import { getTestDevice } from '../support/device.js';
import { buildCase, randomOptions } from '../support/onnx-cases.js';
import { rng } from '../../common/random.js';
import { agrees, mutate, ownError } from '../support/fuzz.js';

ort.env.logLevel = 'fatal'; // the mutated models ORT refuses would otherwise flood the log

interface Seed {
  name: string;
  bytes: Uint8Array;
  feeds: Record<string, Tensor>;
}

function seeds(): Seed[] {
  const out: Seed[] = [];
  for (const k of [3, 11, 27]) {
    const c = buildCase(randomOptions(k), k);
    out.push({ name: `case ${k}`, bytes: c.ours, feeds: c.feeds });
  }
  for (const name of ['gru_embed_head', 'lstm_bidir_2layer']) {
    const dir = new URL('../fixtures/onnx/', import.meta.url);
    const fx = JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as {
      inputs: Record<string, { dims: number[]; dtype: string; data: number[] }>;
    };
    const feeds = Object.fromEntries(
      Object.entries(fx.inputs).map(([k, v]) => [
        k,
        { dims: v.dims, data: v.dtype === 'int' ? Int32Array.from(v.data) : Float32Array.from(v.data) },
      ]),
    );
    out.push({ name, bytes: new Uint8Array(readFileSync(new URL(`${name}.onnx`, dir))), feeds });
  }
  return out;
}

/**
 * Mutants the load + run test must have compared with ORT: with this seed 16 of the 24 that run are
 * (35 outputs); the floor leaves room for the library accepting or refusing a few mutants differently.
 */
const MIN_ORT_CHECKED = 12;

/** Mutations in the parse-only test (CPU only). */
const PARSE_MUTATIONS = 10_000;

describe('ONNX importer fuzz', () => {
  it(`parse-only: ${PARSE_MUTATIONS} mutations only ever throw WebGpuRnnError`, () => {
    const r = rng(12345);
    const all = seeds();
    const counts = { loaded: 0, rejected: 0 };
    for (let i = 0; i < PARSE_MUTATIONS; i++) {
      const seed = all[i % all.length];
      const bytes = mutate(seed.bytes, r);
      try {
        prepareOnnx(bytes);
        counts.loaded++;
      } catch (e) {
        ownError(e, `${seed.name} mutation ${i}`);
        counts.rejected++;
      }
    }
    console.log(
      `[onnx-fuzz] parse-only: ${PARSE_MUTATIONS} mutations, ${counts.loaded} loaded, ${counts.rejected} rejected with library errors`,
    );
    // Neither side may be empty: the mutations must reach past the first check, and the checks must bite.
    expect(counts.rejected).toBeGreaterThan(PARSE_MUTATIONS / 4);
    expect(counts.loaded).toBeGreaterThan(PARSE_MUTATIONS / 10);
  });

  it('load + run: mutations that load run correctly (vs ORT on the same bytes) or throw WebGpuRnnError', async () => {
    const device = await getTestDevice();
    const r = rng(777);
    const all = seeds();
    const counts = { tried: 0, ran: 0, ortChecked: 0, outputsCompared: 0, ourErrors: 0 };
    for (let i = 0; i < 400 && counts.ran < 24; i++) {
      const seed = all[i % all.length];
      const bytes = mutate(seed.bytes, r);
      try {
        prepareOnnx(bytes);
      } catch (e) {
        ownError(e, `${seed.name} #${i} prepare`);
        continue;
      }
      counts.tried++;
      let outs: Record<string, Tensor>;
      try {
        const s = await loadOnnx(device, bytes);
        try {
          outs = await s.run(seed.feeds);
        } finally {
          s.destroy();
        }
      } catch (e) {
        ownError(e, `${seed.name} #${i} load/run`);
        counts.ourErrors++;
        continue;
      }
      counts.ran++;
      let theirs: ort.InferenceSession.OnnxValueMapType | undefined;
      try {
        const s = await ort.InferenceSession.create(bytes);
        const feeds = Object.fromEntries(
          Object.entries(seed.feeds).map(([k, t]) => {
            const int64 = s.inputMetadata?.find?.((m) => m.name === k && m.isTensor && m.type === 'int64');
            return [
              k,
              t.data instanceof Float32Array
                ? new ort.Tensor('float32', t.data, t.dims)
                : int64
                  ? new ort.Tensor(
                      'int64',
                      BigInt64Array.from(t.data, (v) => BigInt(v)),
                      t.dims,
                    )
                  : new ort.Tensor('int32', t.data, t.dims),
            ];
          }),
        );
        theirs = await s.run(feeds);
        await s.release();
      } catch {
        theirs = undefined; // ORT refuses (it is stricter about some things, laxer about others)
      }
      if (!theirs) continue;
      let compared = 0;
      for (const [k, t] of Object.entries(outs)) {
        const o = theirs[k];
        if (!o || o.type !== 'float32') continue;
        expect([...o.dims], `${seed.name} #${i} ${k} dims`).toEqual(t.dims);
        expect(agrees(t.data, o.data as Float32Array), `${seed.name} #${i} ${k} values`).toBe(true);
        compared++;
      }
      counts.outputsCompared += compared;
      if (compared > 0) counts.ortChecked++;
    }
    console.log(
      `[onnx-fuzz] load+run: ${counts.tried} parsed, ${counts.ran} ran, ${counts.ourErrors} library errors, ` +
        `${counts.ortChecked} checked against ORT (${counts.outputsCompared} outputs compared)`,
    );
    expect(counts.ran).toBeGreaterThan(0);
    // The oracle must really have been consulted: ORT ran the same mutated bytes and outputs were compared.
    expect(counts.ortChecked).toBeGreaterThanOrEqual(MIN_ORT_CHECKED);
    expect(counts.outputsCompared).toBeGreaterThanOrEqual(counts.ortChecked);
  });
});
