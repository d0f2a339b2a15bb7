// Fuzzing the safetensors parser (CPU only, seeded, a few seconds): 10,000 mutated .safetensors
// files for readSafetensors + fromTorch. Each must either be rejected with one of the library's own
// errors (WebGpuRnnError) or import into weights that createRnn's own validation accepts; mutations
// confined to tensor bytes must import and change only the touched elements. A RangeError, a
// TypeError, a hang or a huge allocation is a failure.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors, type SafetensorsTensor } from '../../src/importers/safetensors.js';
import { fromTorch, type TorchConfig } from '../../src/importers/torch.js';
import { rng } from '../../common/random.js';
import { attempt, randomValue } from '../support/fuzz.js';

const TORCH_DIR = join(import.meta.dirname, '..', 'fixtures', 'torch-import');
const TORCH = readdirSync(TORCH_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => {
    const fx = JSON.parse(readFileSync(join(TORCH_DIR, f), 'utf8')) as { name: string; file: string; config: TorchConfig };
    return { ...fx, bytes: new Uint8Array(readFileSync(join(TORCH_DIR, fx.file))) };
  });
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
      `[safetensors-fuzz]: ${N} mutations, ${counts.rejected} rejected, ${counts.imported} imported (${counts.dataOnly} data-only)`,
    );
    expect(counts.rejected).toBeGreaterThan(N / 4);
    expect(counts.imported).toBeGreaterThan(N / 10);
  });
});
