// Runs one configuration on the GPU and through the float64 reference, and compares every output.
import { createRnn, type ProjectionVariant, type RnnSpec, type StepKernels } from '../../src/index.js';
import { referenceRnn } from '../../common/reference.js';
import { expectClose } from './close.js';
import { caseInputs, type CaseInputOptions } from '../../common/random.js';

export interface CaseOptions extends CaseInputOptions {
  tol?: { atol?: number; rtol?: number };
  /** createRnn's options.stepKernels (default 'auto'). */
  stepKernels?: StepKernels;
  /** createRnn's options.projection (default 'auto'). */
  projection?: 'auto' | ProjectionVariant;
  /** createRnn's options.precision (default 'f32'). */
  precision?: 'f32' | 'f16';
}

export function describeCase(spec: RnnSpec, o: CaseOptions): string {
  const opts = Object.entries(spec)
    .filter(([k]) => !['cell', 'inputSize', 'hiddenSize'].includes(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const run = [
    [o.stepKernels, o.projection, o.precision].filter(Boolean).join('/'),
    `T=${o.seqLen}`,
    `B=${o.batch}`,
    o.lengths ? 'lengths' : '',
    o.mask ? 'mask' : '',
    o.initialStates ? 'h0' : '',
    o.peepholes ? 'peepholes' : '',
  ].filter(Boolean);
  return `${spec.cell} I=${spec.inputSize} H=${spec.hiddenSize} ${[...opts, ...run].join(' ')}`;
}

/** Returns the largest absolute difference seen over Y, Y_h and Y_c. */
export async function checkCase(device: GPUDevice, spec: RnnSpec, o: CaseOptions): Promise<number> {
  const { weights, x, run: runOpts } = caseInputs(spec, o);
  const expected = referenceRnn(spec, weights, x, runOpts);
  // No warm-up: the run below compiles what it needs anyway (test/tuning.test.ts covers warm-up).
  const rnn = await createRnn(device, spec, weights, {
    batch: o.batch,
    stepKernels: o.stepKernels,
    projection: o.projection,
    precision: o.precision,
    warmUp: false,
  });
  try {
    const got = await rnn.run(x, runOpts);
    const name = describeCase(spec, o);
    let worst = expectClose(got.Y, expected.Y, `${name}: Y`, o.tol);
    worst = Math.max(worst, expectClose(got.Y_h, expected.Y_h, `${name}: Y_h`, o.tol));
    if (spec.cell === 'lstm') worst = Math.max(worst, expectClose(got.Y_c!, expected.Y_c!, `${name}: Y_c`, o.tol));
    else if (got.Y_c !== undefined) throw new Error(`${name}: Y_c returned for a ${spec.cell}`);
    return worst;
  } finally {
    rnn.destroy();
  }
}
