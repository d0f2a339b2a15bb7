// The built package (dist/, made by `npm run build` before the tests) imports in plain Node 20 with
// no bundler, inlined shaders and type declarations, and runs the seed example on the GPU.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

describe('built package', () => {
  it('dist/index.js and dist/index.d.ts exist', () => {
    expect(existsSync(join(ROOT, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(ROOT, 'dist', 'index.d.ts'))).toBe(true);
  });
  it('plain Node imports dist/ and runs a model', () => {
    const script = `
      import { createRnn, requestDevice, SpecError } from 'webgpu-rnn';
      const device = await requestDevice();
      const rnn = await createRnn(device, { cell: 'rnn', inputSize: 1, hiddenSize: 2 },
        [{ W: new Float32Array([0.5, 0.6]), R: new Float32Array([0.1, 0.3, 0.2, 0.4]), B: new Float32Array([0.1, -0.1, 0, 0]) }]);
      const { Y_h } = await rnn.run(new Float32Array([1]), { seqLen: 1, batch: 1 });
      rnn.destroy(); device.destroy();
      console.log(JSON.stringify({ h: Array.from(Y_h), specError: typeof SpecError }));`;
    // Self-reference by package name resolves through package.json "exports", as for a user.
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.h[0]).toBeCloseTo(Math.tanh(0.6), 6);
    expect(out.h[1]).toBeCloseTo(Math.tanh(0.5), 6);
    expect(out.specError).toBe('function');
  });
  it("README's usage example runs as pasted and prints what its comment says", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = /## Usage\s+```ts\n([\s\S]*?)```/.exec(readme)![1];
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `${example}\ndevice.destroy();`], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Float32Array\(2\) \[ 0\.8597\d*, 0\.8836\d* \]/);
  });
  // Every other TypeScript example in the README that starts with an import runs as pasted.
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const examples = [...readme.matchAll(/```ts\n(import [\s\S]*?)```/g)].map((m) => m[1]);
  examples.forEach((code, i) => {
    it(`README example ${i + 1} (${/from 'webgpu-rnn'/.test(code) ? /import \{([^}]*)\} from 'webgpu-rnn'/.exec(code)![1].trim() : 'no import'}) runs`, () => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
    });
  });
});
