// Fuzzing the TF1 checkpoint readers (CPU only, seeded, a few seconds): 10,000 mutated TF1
// checkpoints of each form (TF.js weights manifest + shards, deeplearn.js / ml5 checkpoint manifest
// + files) for readWeightsManifest + loadTf1Lstm. Each must either be rejected with one of the
// library's own errors (WebGpuRnnError) or import into weights that createRnn's own validation
// accepts. A RangeError, a TypeError, a hang or a huge allocation is a failure.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTf1Lstm, readWeightsManifest, type WeightsManifestGroup } from '../../src/importers/tf1.js';
import { rng } from '../../common/random.js';
import { attempt, randomValue } from '../support/fuzz.js';

const TF1_DIR = join(import.meta.dirname, '..', 'fixtures', 'tf1');
const TF1_MANIFEST = JSON.parse(readFileSync(join(TF1_DIR, 'weights_manifest.json'), 'utf8')) as WeightsManifestGroup[];
const TF1_DATA = new Uint8Array(readFileSync(join(TF1_DIR, 'group1-shard1of1')));
/** The same checkpoint as a deeplearn.js / ml5 checkpoint manifest: { name: { filename, shape } } and one raw float32 file each. */
const TF1_CHECKPOINT = (() => {
  const manifest: Record<string, { filename: string; shape: number[] }> = {};
  const files: Record<string, Uint8Array> = {};
  for (const [name, t] of readWeightsManifest(TF1_MANIFEST, TF1_DATA)) {
    const filename = name.replace(/\//g, '_');
    manifest[name] = { filename, shape: t.shape };
    files[filename] = new Uint8Array(t.data!.buffer);
  }
  return { manifest, files };
})();

describe('TF1 checkpoints (TF.js and deeplearn.js manifests) + loadTf1Lstm fuzz', () => {
  it('parse-only: TF.js manifest edits, data truncations, extensions and byte flips give library errors or valid weights', () => {
    const r = rng(777);
    const counts = { rejected: 0, imported: 0, resharded: 0 };
    const N = 10_000;
    const baseline = loadTf1Lstm(TF1_MANIFEST, TF1_DATA);
    for (let i = 0; i < N; i++) {
      const manifest = structuredClone(TF1_MANIFEST) as unknown as Record<string, unknown>[];
      let data: Uint8Array | Uint8Array[] = TF1_DATA.slice();
      const kind = Math.floor(r() * 5);
      const entries = manifest[0].weights as Record<string, unknown>[];
      const e = entries[Math.floor(r() * entries.length)];
      if (kind === 0) {
        const field = ['name', 'shape', 'dtype', 'quantization', 'drop', 'dup', 'group'][Math.floor(r() * 7)];
        if (field === 'name')
          e.name = [
            String(e.name).replace('cell_1', 'cell_2'),
            String(e.name).replace('kernel', 'w_i_diag'),
            'x',
            5,
            `${String(e.name)}/Adam`,
          ][Math.floor(r() * 5)];
        else if (field === 'shape') {
          const s = [...(e.shape as number[])];
          s[Math.floor(r() * s.length)] = randomValue(r) as number;
          e.shape = r() < 0.8 ? s : randomValue(r);
        } else if (field === 'dtype') e.dtype = ['float32', 'int32', 'bool', 'string', 'complex64', 'float64', 3][Math.floor(r() * 7)];
        else if (field === 'quantization')
          e.quantization = [
            { dtype: 'float16' },
            { dtype: 'uint8', scale: 0.01, min: 0 },
            { dtype: 'uint8' },
            { dtype: 'int4' },
            'q',
            null,
          ][Math.floor(r() * 6)];
        else if (field === 'drop') entries.splice(entries.indexOf(e), 1);
        else if (field === 'dup') entries.push(structuredClone(e));
        else manifest[0] = randomValue(r) as Record<string, unknown>;
      } else if (kind === 1) {
        data = TF1_DATA.slice(0, Math.floor(r() * TF1_DATA.length));
      } else if (kind === 2) {
        data = new Uint8Array(TF1_DATA.length + 1 + Math.floor(r() * 16));
        data.set(TF1_DATA);
      } else if (kind === 3) {
        for (let k = 0; k < 1 + Math.floor(r() * 8); k++) (data as Uint8Array)[Math.floor(r() * TF1_DATA.length)] = Math.floor(r() * 256);
      } else {
        // Valid: the same bytes cut into random shards must import identically.
        const cut = Math.floor(r() * TF1_DATA.length);
        data = [TF1_DATA.slice(0, cut), TF1_DATA.slice(cut)];
      }
      const options = r() < 0.1 ? { forgetBias: randomValue(r) as number, prefix: r() < 0.5 ? 'rnn/' : 'x/' } : {};
      let result: ReturnType<typeof loadTf1Lstm> | undefined;
      const outcome = attempt(`tf1 mutation ${i} (kind ${kind})`, () => (result = loadTf1Lstm(manifest, data, options)));
      counts[outcome]++;
      if ((kind === 3 || kind === 4) && Object.keys(options).length === 0) expect(outcome, `tf1 mutation ${i}`).toBe('imported');
      if (kind === 4 && Object.keys(options).length === 0) {
        // Re-sharded bytes: the same spec and the same weight values, element for element.
        expect(result, `tf1 mutation ${i} (re-sharded)`).toEqual(baseline);
        counts.resharded++;
      }
    }
    console.log(
      `[tf1-fuzz] manifests: ${N} mutations, ${counts.rejected} rejected, ${counts.imported} imported (${counts.resharded} re-sharded, compared with the unsharded import)`,
    );
    expect(counts.resharded).toBeGreaterThan(N / 10);
    expect(counts.rejected).toBeGreaterThan(N / 5);
    expect(counts.imported).toBeGreaterThan(N / 5);
  });

  it('parse-only: deeplearn.js checkpoint manifest edits and bad, cut, padded or flipped files give library errors or valid weights', () => {
    const r = rng(4242);
    const counts = { rejected: 0, imported: 0, unchanged: 0 };
    const N = 10_000;
    const baseline = loadTf1Lstm(TF1_CHECKPOINT.manifest, TF1_CHECKPOINT.files);
    const names = Object.keys(TF1_CHECKPOINT.manifest);
    for (let i = 0; i < N; i++) {
      let manifest: unknown = structuredClone(TF1_CHECKPOINT.manifest);
      let files: unknown = { ...TF1_CHECKPOINT.files };
      const m = manifest as Record<string, Record<string, unknown>>;
      const f = files as Record<string, unknown>;
      const pickName = () => names[Math.floor(r() * names.length)];
      const name = pickName();
      const file = String(m[name].filename);
      const orig = TF1_CHECKPOINT.files[file];
      let same = false; // the mutant has the checkpoint's bytes and entries unchanged: it must import identically
      const kind = Math.floor(r() * 6);
      if (kind === 0) {
        const field = ['filename', 'shape', 'entry', 'drop', 'rename'][Math.floor(r() * 5)];
        if (field === 'filename')
          m[name].filename = [String(m[pickName()].filename), 'x', '__proto__', 'constructor', 5, null][Math.floor(r() * 6)];
        else if (field === 'shape') {
          const s = [...(m[name].shape as number[])];
          if (s.length && r() < 0.8) s[Math.floor(r() * s.length)] = randomValue(r) as number;
          m[name].shape = r() < 0.8 ? s : randomValue(r);
        } else if (field === 'entry') m[name] = randomValue(r) as Record<string, unknown>;
        else if (field === 'drop') delete m[name];
        else {
          const renames = [
            name.replace('cell_1', 'cell_2'),
            name.replace('kernel', 'w_i_diag'),
            `${name}/Adam`,
            name.replace('rnn/', 'x/rnn/'),
            'x',
          ];
          const renamed = renames[Math.floor(r() * renames.length)];
          const e = m[name];
          delete m[name];
          m[renamed] = e;
        }
      } else if (kind === 1) {
        f[file] = orig.slice(0, Math.floor(r() * orig.length));
      } else if (kind === 2) {
        const b = new Uint8Array(orig.length + 1 + Math.floor(r() * 16));
        b.set(orig);
        f[file] = b;
      } else if (kind === 3) {
        const b = orig.slice();
        for (let k = 0; k < 1 + Math.floor(r() * 8); k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
        f[file] = b;
      } else if (kind === 4) {
        // A file of the wrong kind, or the right bytes as an ArrayBuffer or as an unaligned view into a larger buffer.
        const how = Math.floor(r() * 6);
        if (how === 0) f[file] = randomValue(r);
        else if (how === 1) f[file] = new Float32Array(orig.buffer.slice(0));
        else if (how === 2) f[file] = [orig];
        else if (how === 3) f[file] = new DataView(orig.buffer.slice(0));
        else if (how === 4) {
          f[file] = orig.buffer.slice(0);
          same = true;
        } else {
          const at = 1 + Math.floor(r() * 7);
          const big = new Uint8Array(orig.length + at + 3);
          big.set(orig, at);
          f[file] = big.subarray(at, at + orig.length);
          same = true;
        }
      } else {
        // The containers themselves: a TF.js-style data buffer or list, a missing file, a manifest of the wrong kind.
        const how = Math.floor(r() * 4);
        if (how === 0) files = TF1_DATA.slice(0, r() < 0.5 ? TF1_DATA.length : 8);
        else if (how === 1) files = r() < 0.5 ? Object.values(TF1_CHECKPOINT.files) : randomValue(r);
        else if (how === 2) delete f[file];
        else manifest = randomValue(r);
      }
      const options = r() < 0.1 ? { forgetBias: randomValue(r) as number, prefix: r() < 0.5 ? 'rnn/' : 'x/' } : {};
      const label = `tf1 checkpoint mutation ${i} (kind ${kind})`;
      let result: ReturnType<typeof loadTf1Lstm> | undefined;
      const outcome = attempt(label, () => (result = loadTf1Lstm(manifest, files as Record<string, Uint8Array>, options)));
      counts[outcome]++;
      if (Object.keys(options).length === 0) {
        if (kind === 3) expect(outcome, label).toBe('imported');
        if (same) {
          expect(result, label).toEqual(baseline);
          counts.unchanged++;
        }
      }
    }
    console.log(
      `[tf1-fuzz] checkpoint manifests: ${N} mutations, ${counts.rejected} rejected, ${counts.imported} imported (${counts.unchanged} unchanged bytes)`,
    );
    expect(counts.rejected).toBeGreaterThan(N / 5);
    expect(counts.imported).toBeGreaterThan(N / 5);
  });
});
