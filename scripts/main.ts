// `npm start`: the main job on a built-in default. A bidirectional 2-layer LSTM with seeded weights
// runs on the GPU through the built package (dist/), and the script prints its outputs, the largest
// difference from the float64 reference, the adapter and timings (medians; warm-up excluded).
// Flags: --cell lstm|gru|rnn --input N --hidden N --layers N --seq N --batch N --runs N --direction forward|reverse|bidirectional
import type { RnnSpec } from '../src/index.js';
// The built package, typed by its source: a computed specifier, so that `npm run typecheck` passes
// on a fresh clone before dist/ exists (the types are the same; test/gpu/package.test.ts checks dist).
const DIST = '../dist/index.js';
const { createRnn, requestDevice } = (await import(DIST)) as typeof import('../src/index.js');
import { referenceRnn } from '../common/reference.js';
import { randomWeights, rng, uniform } from '../common/random.js';
import { scriptArgs } from './args.js';

const { option } = scriptArgs(process.argv.slice(2));
const flag = (name: string, fallback: string) => option(name) ?? fallback;

const spec: RnnSpec = {
  cell: flag('cell', 'lstm') as RnnSpec['cell'],
  inputSize: Number(flag('input', '40')),
  hiddenSize: Number(flag('hidden', '128')),
  numLayers: Number(flag('layers', '2')),
  direction: flag('direction', 'bidirectional') as RnnSpec['direction'],
};
const T = Number(flag('seq', '50'));
const B = Number(flag('batch', '4'));
const RUNS = Number(flag('runs', '10'));

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

const device = await requestDevice();
const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
const weights = randomWeights(spec, 42);
const x = uniform(rng(7), T * B * spec.inputSize);

let t0 = performance.now();
const rnn = await createRnn(device, spec, weights, { batch: B });
const createMs = performance.now() - t0;
t0 = performance.now();
const first = await rnn.run(x, { seqLen: T, batch: B });
const firstMs = performance.now() - t0;
const times: number[] = [];
let out = first;
for (let i = 0; i < RUNS; i++) {
  t0 = performance.now();
  out = await rnn.run(x, { seqLen: T, batch: B });
  times.push(performance.now() - t0);
}
const ref = referenceRnn(spec, weights, x, { seqLen: T, batch: B });
const maxDiff = (a: Float32Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const D = spec.direction === 'bidirectional' ? 2 : 1;
const L = spec.numLayers ?? 1;
const fmt = (v: Float32Array, n = 6) => `[${Array.from(v.subarray(0, n), (x) => x.toFixed(5)).join(', ')}, …]`;

console.log(
  `webgpu-rnn: ${spec.direction} ${L}-layer ${spec.cell.toUpperCase()}, input ${spec.inputSize}, hidden ${spec.hiddenSize}, seqLen ${T}, batch ${B}`,
);
console.log(`adapter:    ${info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') : 'unknown'}`);
console.log(`Y   [${T}, ${D}, ${B}, ${spec.hiddenSize}] ${fmt(out.Y)}`);
console.log(`Y_h [${L * D}, ${B}, ${spec.hiddenSize}] ${fmt(out.Y_h)}`);
if (out.Y_c) console.log(`Y_c [${L * D}, ${B}, ${spec.hiddenSize}] ${fmt(out.Y_c)}`);
const diffs = [maxDiff(out.Y, ref.Y), maxDiff(out.Y_h, ref.Y_h), out.Y_c ? maxDiff(out.Y_c, ref.Y_c!) : 0];
console.log(
  `max |gpu - float64 reference|: ${Math.max(...diffs).toExponential(2)} (Y ${diffs[0].toExponential(2)}, Y_h ${diffs[1].toExponential(2)}${out.Y_c ? `, Y_c ${diffs[2].toExponential(2)}` : ''})`,
);
console.log(
  `timing:     createRnn ${createMs.toFixed(1)} ms (pipeline compiles), first run ${firstMs.toFixed(1)} ms, ` +
    `median of ${RUNS} runs ${median(times).toFixed(2)} ms (${((median(times) * 1000) / T).toFixed(0)} µs/step, upload + ${L * (1 + T)} dispatches + readback)`,
);
rnn.destroy();
device.destroy();
if (Math.max(...diffs) > 1e-4) {
  console.error('FAILED: the GPU result differs from the reference by more than 1e-4');
  process.exit(1);
}
