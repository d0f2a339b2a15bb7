// Fuzzing the importers' parsers (CPU only, seeded, a few seconds): 10,000 mutated .safetensors
// files for readSafetensors + fromTorch, and 10,000 mutated TF1 checkpoints of each form (TF.js
// weights manifest + shards, deeplearn.js / ml5 checkpoint manifest + files) for readWeightsManifest
// + loadTf1Lstm. Each must either be rejected with one of the library's own errors (WebGpuRnnError)
// or import into weights that createRnn's own validation accepts; mutations confined to tensor
// bytes must import and change only the touched elements. A RangeError, a TypeError, a hang or a
// huge allocation is a failure.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebGpuRnnError } from '../src/index.js';
import { readSafetensors, type SafetensorsTensor } from '../src/importers/safetensors.js';
import { loadTf1Lstm, readWeightsManifest, type WeightsManifestGroup } from '../src/importers/tf1.js';
import { fromTorch, type TorchConfig } from '../src/importers/torch.js';
import { resolveSpec, validateWeights, type RnnSpec, type RnnWeights } from '../src/spec.js';
import { rng } from '../common/random.js';

const TORCH_DIR = join(import.meta.dirname, 'fixtures', 'torch-import');
const TORCH = readdirSync(TORCH_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => {
    const fx = JSON.parse(readFileSync(join(TORCH_DIR, f), 'utf8')) as { name: string; file: string; config: TorchConfig };
    return { ...fx, bytes: new Uint8Array(readFileSync(join(TORCH_DIR, fx.file))) };
  });
const TF1_DIR = join(import.meta.dirname, 'fixtures', 'tf1');
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

type Outcome = 'rejected' | 'imported';

/** Runs an import; returns how it ended, failing the test on anything but our errors or valid weights. */
function attempt(label: string, f: () => { spec: RnnSpec; weights: RnnWeights }): Outcome {
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

const PICKS = [-1, 0, 1, 2, 3, 7, 1e300, 2 ** 53, 2 ** 32, 1.5, null, 'x', [], {}, [0], [1, 2, 3], true, -0.0];

function randomValue(r: () => number): unknown {
  return PICKS[Math.floor(r() * PICKS.length)];
}

function headerOf(bytes: Uint8Array): { header: Record<string, Record<string, unknown>>; dataStart: number } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), dataStart: 8 + n };
}

function withHeader(header: unknown, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

const ITEM: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

describe('safetensors + fromTorch fuzz', () => {
  it('parse-only: byte flips, truncations, header lengths and header edits give library errors or valid weights', () => {
    const r = rng(12345);
    const counts = { rejected: 0, imported: 0, dataOnly: 0 };
    const N = 10_000;
    for (let i = 0; i < N; i++) {
      const fx = TORCH[i % TORCH.length];
      const orig = fx.bytes;
      const { header, dataStart } = headerOf(orig);
      let bytes: Uint8Array;
      let flipped: number[] | undefined;
      const kind = Math.floor(r() * 5);
      if (kind === 0) {
        // 1-4 random bytes anywhere (header length, JSON text or tensor data).
        bytes = orig.slice();
        flipped = Array.from({ length: 1 + Math.floor(r() * 4) }, () => Math.floor(r() * bytes.length));
        for (const p of flipped) bytes[p] = Math.floor(r() * 256);
      } else if (kind === 1) {
        bytes = orig.slice(0, Math.floor(r() * orig.length));
      } else if (kind === 2) {
        bytes = orig.slice();
        const lens = [
          2n ** 64n - 1n,
          2n ** 63n,
          2n ** 32n,
          2n ** 32n + 16n,
          BigInt(dataStart - 8 + 1),
          BigInt(dataStart - 8 - 1),
          0n,
          BigInt(bytes.length),
        ];
        new DataView(bytes.buffer).setBigUint64(0, lens[Math.floor(r() * lens.length)], true);
      } else if (kind === 3) {
        // Structured edit of one field of one entry, with a consistent header length.
        const h = structuredClone(header);
        const names = Object.keys(h).filter((k) => k !== '__metadata__');
        const name = names[Math.floor(r() * names.length)];
        const field = ['dtype', 'shape', 'data_offsets', 'name', 'entry', 'metadata'][Math.floor(r() * 6)];
        if (field === 'dtype')
          h[name].dtype = ['F32', 'F16', 'BF16', 'F64', 'I64', 'U8', 'BOOL', 'F8_E4M3', 'X', '', 5][Math.floor(r() * 11)];
        else if (field === 'shape') {
          const s = [...(h[name].shape as number[])];
          if (s.length && r() < 0.7) s[Math.floor(r() * s.length)] = randomValue(r) as number;
          else h[name].shape = randomValue(r);
          if (Array.isArray(h[name].shape)) h[name].shape = s;
        } else if (field === 'data_offsets') {
          const o = [...(h[name].data_offsets as number[])];
          const j = Math.floor(r() * 2);
          o[j] = r() < 0.5 ? o[j] + Math.floor(r() * 9) - 4 : (randomValue(r) as number);
          h[name].data_offsets = o;
        } else if (field === 'name') {
          // A renamed tensor: usually a missing one plus an extra or a foreign one for fromTorch.
          const renamed = [
            `${name}_x`,
            name.replace('_l0', '_l1'),
            name.replace('_l1', '_l3'),
            name.replace('weight', 'bias'),
            `${name}_reverse`,
          ][Math.floor(r() * 5)];
          const e = h[name];
          delete h[name];
          h[renamed] = e;
        } else if (field === 'entry') {
          if (r() < 0.5) delete h[name];
          else h[name] = randomValue(r) as Record<string, unknown>;
        } else {
          (h as Record<string, unknown>).__metadata__ = randomValue(r);
        }
        bytes = withHeader(h, orig.subarray(dataStart));
      } else {
        // Data-only edits: the header is intact, so the file must import with only those elements changed.
        bytes = orig.slice();
        flipped = Array.from({ length: 1 + Math.floor(r() * 6) }, () => dataStart + Math.floor(r() * (orig.length - dataStart)));
        for (const p of flipped) bytes[p] = Math.floor(r() * 256);
      }
      const label = `${fx.name} mutation ${i} (kind ${kind})`;
      let sd: Record<string, SafetensorsTensor> | undefined;
      const outcome = attempt(label, () => {
        sd = readSafetensors(bytes);
        return fromTorch(sd, fx.config);
      });
      counts[outcome]++;
      if (flipped?.every((p) => p >= dataStart)) {
        counts.dataOnly++;
        expect(outcome, label).toBe('imported');
        const before = readSafetensors(orig);
        for (const [name, t] of Object.entries(sd!)) {
          const e = header[name] as { data_offsets: [number, number] };
          const touched = new Set(
            flipped
              .map((p) => p - dataStart - e.data_offsets[0])
              .filter((b) => b >= 0 && b < e.data_offsets[1] - e.data_offsets[0])
              .map((b) => Math.floor(b / ITEM[t.dtype])),
          );
          t.data.forEach((v, k) => {
            if (!touched.has(k) && !Object.is(v, before[name].data[k]))
              throw new Error(`${label}: ${name}[${k}] changed without its bytes changing`);
          });
        }
      }
    }
    console.log(
      `[torch-fuzz] safetensors: ${N} mutations, ${counts.rejected} rejected, ${counts.imported} imported (${counts.dataOnly} data-only)`,
    );
    expect(counts.rejected).toBeGreaterThan(N / 4);
    expect(counts.imported).toBeGreaterThan(N / 10);
  });
});

describe('TF1 checkpoints (TF.js and deeplearn.js manifests) + loadTf1Lstm fuzz', () => {
  it('parse-only: TF.js manifest edits, data truncations, extensions and byte flips give library errors or valid weights', () => {
    const r = rng(777);
    const counts = { rejected: 0, imported: 0 };
    const N = 10_000;
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
      const outcome = attempt(`tf1 mutation ${i} (kind ${kind})`, () => loadTf1Lstm(manifest, data, options));
      counts[outcome]++;
      if ((kind === 3 || kind === 4) && Object.keys(options).length === 0) expect(outcome, `tf1 mutation ${i}`).toBe('imported');
    }
    console.log(`[torch-fuzz] tf1 manifests: ${N} mutations, ${counts.rejected} rejected, ${counts.imported} imported`);
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
      `[torch-fuzz] tf1 checkpoint manifests: ${N} mutations, ${counts.rejected} rejected, ${counts.imported} imported (${counts.unchanged} unchanged bytes)`,
    );
    expect(counts.rejected).toBeGreaterThan(N / 5);
    expect(counts.imported).toBeGreaterThan(N / 5);
  });
});
