// A minimal interactive demo: build a model with seeded weights, run it on the GPU, show the outputs,
// timings and the largest difference from the float64 reference.
import { createRnn, requestDevice, type RnnSpec } from '../src/index.js';
import { referenceRnn } from '../common/reference.js';
import { randomWeights, rng, uniform } from '../common/random.js';

const out = document.getElementById('out')!;
const show = (s: string) => (out.textContent = s);

let device: Promise<GPUDevice> | undefined;

async function run(form: HTMLFormElement): Promise<void> {
  const f = new FormData(form);
  const n = (k: string) => Math.max(1, Math.floor(Number(f.get(k))));
  const spec: RnnSpec = {
    cell: f.get('cell') as RnnSpec['cell'],
    direction: f.get('direction') as RnnSpec['direction'],
    inputSize: n('inputSize'),
    hiddenSize: n('hiddenSize'),
    numLayers: n('numLayers'),
  };
  const T = n('seqLen');
  const B = n('batch');
  show('requesting a device…');
  const dev = await (device ??= requestDevice());
  const info = (dev as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const weights = randomWeights(spec, 42);
  const x = uniform(rng(7), T * B * spec.inputSize);
  show('compiling…');
  let t0 = performance.now();
  const rnn = await createRnn(dev, spec, weights, { batch: B });
  const buildMs = performance.now() - t0;
  try {
    t0 = performance.now();
    await rnn.run(x, { seqLen: T, batch: B });
    const firstMs = performance.now() - t0;
    const times: number[] = [];
    let res = await rnn.run(x, { seqLen: T, batch: B });
    for (let i = 0; i < 10; i++) {
      t0 = performance.now();
      res = await rnn.run(x, { seqLen: T, batch: B });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const ref = referenceRnn(spec, weights, x, { seqLen: T, batch: B });
    let maxDiff = 0;
    res.Y.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - ref.Y[i]))));
    res.Y_h.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - ref.Y_h[i]))));
    const D = spec.direction === 'bidirectional' ? 2 : 1;
    show(
      [
        `adapter: ${info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') : 'unknown'}`,
        `model: ${JSON.stringify(spec)}, T=${T}, B=${B}`,
        `createRnn: ${buildMs.toFixed(1)} ms; first run ${firstMs.toFixed(1)} ms; median of 10 runs ${times[5].toFixed(2)} ms`,
        `dispatches per run: ${(spec.numLayers ?? 1) * (1 + (spec.cell === 'gru' ? 2 : 1) * T)} (one GEMM per layer + one fused step kernel per timestep${spec.cell === 'gru' ? ', two for GRU lbr 0' : ''})`,
        `max |gpu - float64 reference| over Y and Y_h: ${maxDiff.toExponential(2)}`,
        `Y_h (last layer, direction 0, row 0, first 8): ${Array.from(
          res.Y_h.subarray(
            ((spec.numLayers ?? 1) - 1) * D * B * spec.hiddenSize,
            ((spec.numLayers ?? 1) - 1) * D * B * spec.hiddenSize + 8,
          ),
        )
          .map((v) => v.toFixed(5))
          .join(', ')}`,
      ].join('\n'),
    );
  } finally {
    rnn.destroy();
  }
}

const form = document.getElementById('f') as HTMLFormElement;
form.addEventListener('submit', (e) => {
  e.preventDefault();
  run(form).catch((err: Error) => show(`${err.name}: ${err.message}`));
});
run(form).catch((err: Error) => show(`${err.name}: ${err.message}`));
