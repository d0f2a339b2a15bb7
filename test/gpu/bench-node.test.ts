// The Node benchmark as a bare GPU machine runs it: the single file dist-bench/bench-node.mjs (built by
// `npm run build`) copied into an empty folder whose node_modules holds only the `webgpu` package, run
// with plain node on the quick configuration and every webgpu-rnn variant. Its JSON must be the page's
// BenchResults, with webgpu-rnn agreeing with the float64 reference on every shape (within the library's
// f32 tolerance, 1e-5 + 1e-4·|ref|, and the f16 variant within its own) and each variant either timed and
// agreeing or n/a with createRnn's own reason (a forced stepKernels variant that "does not apply" to the
// model): a variant that throws anything else is an 'error' and fails the test. Without a WebGPU adapter
// the bench exits non-zero and this test fails; it never skips.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { multiplyAdds } from '../../demo/bench/flops.js';
import { STEP_KERNEL_VARIANTS } from '../../demo/bench/engines/webgpu-rnn.js';
import type { BenchResults } from '../../demo/bench/report.js';
import { TOLERANCE } from '../../demo/bench/runner.js';
import { CONFIGS } from '../../demo/bench/shapes.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BUNDLE = join(ROOT, 'dist-bench', 'bench-node.mjs');
/** What the bundle may import at run time: Dawn, and the optional engines' packages (n/a when missing). */
const RUNTIME_IMPORTS = [
  'webgpu',
  'onnxruntime-node',
  'onnxruntime-web/webgpu',
  'onnxruntime-web/wasm',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-webgpu',
];

describe('napkin math', () => {
  it('counts T·B·D·G·H·(I_l + H) multiply-adds per layer', () => {
    const bi = { ...CONFIGS.quick.shapes[0], numLayers: 2 }; // biLSTM 8→2×16, T=6, B=2
    expect(multiplyAdds(bi)).toBe(6 * 2 * 2 * 4 * 16 * (8 + 16) + 6 * 2 * 2 * 4 * 16 * (2 * 16 + 16));
    const stream = CONFIGS.quick.shapes.find((s) => s.stream)!; // LSTM 8→16, 3 calls of one step
    expect(multiplyAdds(stream)).toBe(3 * 1 * 1 * 4 * 16 * (8 + 16));
  });
});

describe('built Node bench (dist-bench/bench-node.mjs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-node-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports nothing but node: modules, webgpu and the optional engines', () => {
    expect(existsSync(BUNDLE), 'run `npm run build` (or npm run build:bench-node) first').toBe(true);
    const code = readFileSync(BUNDLE, 'utf8');
    const statics = [...code.matchAll(/^import\s[^;]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]);
    expect(statics.filter((m) => !m.startsWith('node:'))).toEqual([]);
    const dynamics = [...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    expect(dynamics.filter((m) => !RUNTIME_IMPORTS.includes(m))).toEqual([]);
  });

  it('runs the quick configuration with plain node where only webgpu is installed', () => {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(join(ROOT, 'node_modules', 'webgpu'), join(dir, 'node_modules', 'webgpu'), 'dir');
    copyFileSync(BUNDLE, join(dir, 'bench-node.mjs'));
    const out = join(dir, 'quick.json');
    const r = spawnSync(
      process.execPath,
      ['bench-node.mjs', '--config', 'quick', '--engines', 'webgpu-rnn*', '--reps', '5', '--out', out],
      {
        cwd: dir,
        encoding: 'utf8',
        timeout: 90_000,
        env: { ...process.env, NODE_PATH: '' },
      },
    );
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    console.log(`[bench-node test]${r.stdout.slice(r.stdout.indexOf('\nadapter:'))}`);
    expect(r.stdout).toMatch(/vendor: .* architecture: .* device: .* description: /);
    expect(r.stdout).toMatch(/prepare ms +first ms +median ms .* GFLOP\/s/);

    const res = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
    expect(res.done).toBe(true);
    expect(res.error).toBeUndefined();
    expect(res.adapter, 'no WebGPU adapter').not.toBeNull();
    expect(res.tolerance).toEqual({ atol: 1e-5, rtol: 1e-4 });
    expect(TOLERANCE).toEqual(res.tolerance);
    expect(res.shapes.map((s) => s.shape.id)).toEqual(CONFIGS.quick.shapes.map((s) => s.id));
    let notApplicable = 0;
    for (const s of res.shapes) {
      expect(s.multiplyAdds).toBe(multiplyAdds(s.shape));
      const base = s.results.find((e) => e.engine === 'webgpu-rnn')!;
      expect(base.status, `${s.shape.id}: ${base.reason}`).toBe('ok');
      for (const e of s.results) {
        // A variant that crashed (status 'error'), or n/a for any reason but createRnn's own refusal, fails.
        expect(e.status, `${s.shape.id} ${e.engine}: ${e.reason}`).not.toBe('error');
        if (e.status === 'n/a') {
          const variant = e.engine.replace(/^webgpu-rnn-/, '');
          expect(STEP_KERNEL_VARIANTS as readonly string[], `${s.shape.id} ${e.engine}: n/a (${e.reason})`).toContain(variant);
          expect(e.reason, `${s.shape.id} ${e.engine}`).toMatch(
            new RegExp(`^options\\.stepKernels '${variant}' does not apply: .+; use 'auto', 'direct' or 'tiled'$`),
          );
          notApplicable++;
          continue;
        }
        expect(e.status, `${s.shape.id} ${e.engine}`).toBe('ok');
        expect(e.agrees, `${s.shape.id} ${e.engine}: max |diff| ${e.maxAbsDiff}`).toBe(true);
        expect(e.runsMs!.length).toBeGreaterThanOrEqual(5);
        expect(e.prepareMs).toBeGreaterThan(0);
        expect(e.firstRunMs).toBeGreaterThan(0);
        expect(e.gflops).toBeCloseTo((2 * s.multiplyAdds) / (e.medianMs! * 1e6), 9);
        if (e.expectedDispatches !== undefined) expect(e.dispatches, `${s.shape.id} ${e.engine}`).toBe(e.expectedDispatches);
      }
    }
    // The quick shapes include a bidirectional one, which the stack kernel refuses.
    expect(notApplicable).toBeGreaterThan(0);
  });
});
