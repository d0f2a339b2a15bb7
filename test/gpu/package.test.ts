// The built package (dist/, made by `npm run build` before the tests) imports in plain Node 20 with
// no bundler, inlined shaders and type declarations, and runs the seed example on the GPU. Every
// README example runs as pasted and prints what the README says: numbers as the float64 reference
// computes them, sizes and names as the README's comments show them.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { referenceRnn } from '../../common/reference.js';
import { sileroFrames, sileroReference } from '../../common/silero.js';
import { expectClose } from '../support/close.js';

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
  // Every TypeScript example in the README that starts with an import runs as pasted and prints what it should.
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const examples = [...readme.matchAll(/```ts\n(import [\s\S]*?)```/g)].map((m) => m[1]);
  examples.forEach((code, i) => {
    it(`README example ${i + 1} (${/from 'webgpu-rnn'/.test(code) ? /import \{([^}]*)\} from 'webgpu-rnn'/.exec(code)![1].trim() : 'no import'}) prints what the README says`, async () => {
      const expected = EXAMPLE_OUTPUTS.filter((e) => code.includes(e.marker));
      expect(expected.length, `README example ${i + 1} has no expected output here (EXAMPLE_OUTPUTS):\n${code}`).toBe(1);
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      await expected[0].check(r.stdout);
    });
  });
});

/** The Float32Arrays in Node's console.log output, in order. */
function printedArrays(stdout: string): number[][] {
  return [...stdout.matchAll(/Float32Array\((\d+)\) \[([^\]]*)\]/g)].map((m) => {
    const values = m[2].split(',').map((v) => Number(v.trim()));
    expect(values.length, `printed ${m[0]}`).toBe(Number(m[1]));
    return values;
  });
}

/** stdout without trailing blank lines, as lines. */
const lines = (stdout: string) => stdout.trimEnd().split('\n');

/** What each README example prints, found by a string only that example contains. */
const EXAMPLE_OUTPUTS: { marker: string; check(stdout: string): void | Promise<void> }[] = [
  {
    // Usage: Y_h of the 2-unit RNN after two steps.
    marker: "{ cell: 'rnn', inputSize: I, hiddenSize: H }",
    check(stdout) {
      const spec = { cell: 'rnn', inputSize: 1, hiddenSize: 2 } as const;
      const w = [{ W: new Float32Array([0.5, 0.6]), R: new Float32Array([0.1, 0.3, 0.2, 0.4]), B: new Float32Array([0.1, -0.1, 0, 0]) }];
      const ref = referenceRnn(spec, w, [1, 2], { seqLen: 2, batch: 1 });
      const printed = printedArrays(stdout);
      expect(printed.length).toBe(1);
      expectClose(printed[0], ref.Y_h, 'README usage: Y_h');
      expect(stdout).toMatch(/Float32Array\(2\) \[ 0\.8597\d*, 0\.8836\d* \]/); // the values the README shows
    },
  },
  {
    // Clockwork RNN: Y [3, 1, 1, 4]; units 2-3 (period 2) keep their step-0 value at step 1.
    marker: "cell: 'clockwork'",
    check(stdout) {
      const spec = { cell: 'clockwork' as const, inputSize: 2, hiddenSize: 4, periods: [1, 2] };
      const w = [{ W: new Float32Array(4 * 2).fill(0.5), R: new Float32Array(4 * 4).fill(0.1) }];
      const ref = referenceRnn(spec, w, new Float32Array(6).fill(1), { seqLen: 3, batch: 1 });
      const printed = printedArrays(stdout);
      expect(printed.length).toBe(1);
      expectClose(printed[0], ref.Y, 'README clockwork: Y');
      expect(printed[0].slice(4 + 2, 4 + 4)).toEqual(printed[0].slice(2, 4));
      expect(printed[0][4]).not.toBe(printed[0][0]); // the period-1 units do move
    },
  },
  {
    // Streaming: one Y per frame, then the state after three steps (the last Y).
    marker: 'left.step(',
    check(stdout) {
      const spec = { cell: 'gru', inputSize: 2, hiddenSize: 3 } as const;
      const w = [{ W: new Float32Array(3 * 3 * 2).fill(0.1), R: new Float32Array(3 * 3 * 3).fill(0.1) }];
      const ref = referenceRnn(spec, w, [0.5, 1, 0.25, -1, 1, 0], { seqLen: 3, batch: 1 });
      const printed = printedArrays(stdout);
      expect(printed.length).toBe(4);
      for (let t = 0; t < 3; t++) expectClose(printed[t], ref.Y.subarray(t * 3, (t + 1) * 3), `README stream: step ${t} Y`);
      expectClose(printed[3], ref.Y_h, 'README stream: Y_h');
    },
  },
  {
    // Tuning: rnn.kernels(50, 1) of the tuned 2-layer LSTM, per-layer choices or the stack kernel.
    marker: 'tune: true',
    check(stdout) {
      const out = stdout.trimEnd();
      const step = "'(?:tiled|direct|persistent|rows|subgroup)'";
      const choice = `\\{ step: ${step}, projection: '(?:gemm|gemv)' \\}`;
      const perLayer = new RegExp(`^\\{\\s*layers: \\[\\s*${choice},\\s*${choice}\\s*\\],\\s*dispatches: [1-9]\\d*\\s*\\}$`);
      const stack = /^\{ layers: \[\], dispatches: 1, stack: true \}$/;
      expect(perLayer.test(out) || stack.test(out), `rnn.kernels(50, 1) printed:\n${out}`).toBe(true);
      // Per layer of T = 50: the projection, then one dispatch per step, or one for the sequence (persistent, rows).
      const steps = [...out.matchAll(/step: '(\w+)'/g)].map((m) => m[1]);
      const dispatches = stack.test(out) ? 1 : steps.reduce((n, st) => n + 1 + (st === 'persistent' || st === 'rows' ? 1 : 50), 0);
      expect(out).toContain(`dispatches: ${dispatches}`);
    },
  },
  {
    marker: 'gru_embed_head.onnx',
    check: (stdout) => expect(lines(stdout)).toEqual(["[ 'tokens' ] [ 'probs', 'hn' ]", '[ 1, 5, 5 ] [ 2, 1, 6 ]']),
  },
  {
    // Silero v5 over the example's signal, frame by frame: onnxruntime-node's probabilities to 3 decimals.
    marker: 'const stream = vad.stream(',
    async check(stdout) {
      const audio = new Float32Array(16000).map((_, i) => 0.5 * Math.sin(i / 8) * Math.sin(i / 2000));
      const ref = await sileroReference('v5', sileroFrames('v5', audio));
      const printed = lines(stdout).map(Number);
      expect(printed.length).toBe(ref.probs.length);
      printed.forEach((p, k) => expect(Math.abs(p - ref.probs[k]), `frame ${k}`).toBeLessThanOrEqual(6e-4));
    },
  },
  {
    // scan over the same signal: the stacked probabilities' and the final state's dims, and the path.
    marker: 'vad.scan(',
    check: (stdout) => expect(lines(stdout)).toEqual(['[ 31, 1, 1 ] [ 2, 1, 128 ]', 'split']),
  },
  { marker: 'fromTorch(', check: (stdout) => expect(lines(stdout)).toEqual(['40']) },
  { marker: 'loadLayersModel(', check: (stdout) => expect(lines(stdout)).toEqual(['[ 2, 5, 2 ]']) },
  { marker: 'loadTf1Lstm(', check: (stdout) => expect(lines(stdout)).toEqual(['40']) },
];
