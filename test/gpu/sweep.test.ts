// The correctness sweep on the GPU: cells × directions × layers × odd sizes × options, each
// against the float64 reference with |gpu - ref| <= 1e-5 + 1e-4·|ref|.
import { afterAll, describe, it } from 'vitest';
import { createRnn, type RnnSpec } from '../../src/index.js';
import { referenceRnn } from '../../common/reference.js';
import { caseInputs } from '../../common/random.js';
import { CAPS } from '../support/caps.js';
import { expectClose } from '../support/close.js';
import { checkCase, describeCase, type CaseOptions } from '../support/cases.js';
import { adapterName, expectSubgroups, getTestDevice } from '../support/device.js';
import { stackUnsupported } from '../../src/plan/stack.js';
import { resolveSpec } from '../../src/model/spec.js';

type Variant = { cell: RnnSpec['cell']; linearBeforeReset?: boolean };
const VARIANTS: Variant[] = [
  { cell: 'lstm' },
  { cell: 'gru' },
  { cell: 'gru', linearBeforeReset: true },
  { cell: 'rnn' },
  { cell: 'clockwork' },
];
/** Clockwork RNN module periods per hidden size (H divisible by their count): one module, several, odd periods. */
const PERIODS: Record<number, number[]> = { 1: [1], 3: [1, 2, 4], 37: [2], 130: [1, 2, 4, 8, 16], 300: [1, 3, 5, 7] };
const DIRECTIONS = ['forward', 'reverse', 'bidirectional'] as const;
const LAYERS = [1, 2];
// 1 and 3 are smaller than any workgroup, 37 is odd, 130 spans several workgroups, and 300 is more
// than a workgroup's invocations and more than the 256-element vector tile, so h is staged in two passes.
const HIDDEN = [1, 3, 37, 130, 300];
// (T, B) and run options rotate through the cases so every combination meets several of them.
const SHAPES = [
  [1, 1],
  [5, 3],
  [4, 2],
  [3, 5],
  [6, 4],
] as const;

let worst = 0;
let count = 0;
afterAll(async () => {
  console.log(`[sweep] ${count} cases on ${adapterName(await getTestDevice())}; max |gpu - ref| = ${worst.toExponential(2)}`);
});

/**
 * One case against the reference. The 'subgroup' step, the gemv projection's quad-shared form and the
 * quad cases (`quad`) are what the device's 'subgroups' feature enables: they fail without it rather
 * than silently running the plain kernels.
 */
async function check(spec: RnnSpec, o: CaseOptions, quad = false) {
  const device = await getTestDevice();
  if (quad || o.stepKernels === 'subgroup' || o.projection === 'gemv') expectSubgroups(device, describeCase(spec, o));
  worst = Math.max(worst, await checkCase(device, spec, o));
  count++;
}

// Every kernel variant, forced on every layer (createRnn's stepKernels and projection options).
// 'auto' runs the whole sweep; on the CPU-emulated adapters of CI it picks the barrier-free kernels
// (direct steps, gemv projection). Each forced variant runs a representative third of the cases
// (every cell, direction, layer count and hidden size still meets every variant), so that CI stays
// short; SWEEP_ALL_VARIANTS=1 runs the whole sweep under every variant.
const FORCED: Pick<CaseOptions, 'stepKernels' | 'projection'>[] = [
  { stepKernels: 'tiled', projection: 'gemm' },
  { stepKernels: 'direct', projection: 'gemv' },
  { stepKernels: 'direct', projection: 'gemm' },
  { stepKernels: 'persistent', projection: 'gemv' },
  { stepKernels: 'rows', projection: 'gemm' },
  { stepKernels: 'subgroup', projection: 'gemv' },
  { stepKernels: 'stack' },
];
const allVariants = process.env.SWEEP_ALL_VARIANTS === '1';
for (const forced of [undefined, ...FORCED]) {
  const name = forced ? [forced.stepKernels, forced.projection].filter(Boolean).join('/') : 'auto';
  describe(`sweep (${name}): cells × directions × layers × hidden sizes`, () => {
    let i = 0;
    for (const v of VARIANTS) {
      for (const direction of DIRECTIONS) {
        for (const numLayers of LAYERS) {
          for (const hiddenSize of HIDDEN) {
            const k = i++;
            const [seqLen, batch] = SHAPES[k % SHAPES.length];
            const spec: RnnSpec = {
              ...v,
              inputSize: [2, 5, 1, 9][k % 4],
              hiddenSize,
              numLayers,
              direction,
              layout: k % 3 === 1 ? 'batch-major' : 'time-major',
              ...(v.cell === 'clockwork' ? { periods: PERIODS[hiddenSize] } : {}),
            };
            if (forced && !allVariants && (k + FORCED.indexOf(forced)) % 3 !== 0) continue;
            // The persistent kernel keeps at most 256 units of h resident; the others take any size.
            if (forced?.stepKernels === 'persistent' && hiddenSize > 256) continue;
            // The stack kernel runs the models stackUnsupported allows (as in the conformance test).
            if (forced?.stepKernels === 'stack' && stackUnsupported(resolveSpec(spec), CAPS)) continue;
            const o: CaseOptions = {
              seqLen,
              batch,
              seed: k,
              lengths: k % 2 === 0,
              initialStates: k % 3 !== 2,
              stepKernels: forced?.stepKernels,
              projection: forced?.projection,
            };
            it(describeCase(spec, o), () => check(spec, o));
          }
        }
      }
    }
  });
}

// main_direct_quad (cell_subgroup.wgsl) replaces main_direct where one row runs and H and the
// output are multiples of 4 (plan.ts directQuadApplies); the sizes above are mostly odd, so here is
// every cell and direction at such sizes, with 'direct' forced (the emulated adapters' default).
describe('direct step with quad-shared vector reads: B = 1, H a multiple of 4', () => {
  const QUAD_PERIODS: Record<number, number[]> = { 8: [1, 2], 132: [1, 2, 4], 300: [1, 3, 5, 7] };
  let k = 0;
  for (const v of VARIANTS) {
    for (const direction of DIRECTIONS) {
      const hiddenSize = [8, 132, 300][k % 3];
      const numLayers = LAYERS[k % 2];
      const spec: RnnSpec = {
        ...v,
        inputSize: [3, 8][k % 2],
        hiddenSize,
        numLayers,
        direction,
        ...(v.cell === 'clockwork' ? { periods: QUAD_PERIODS[hiddenSize] } : {}),
      };
      const o: CaseOptions = { seqLen: 4, batch: 1, seed: 500 + k, lengths: k % 2 === 0, initialStates: true, stepKernels: 'direct' };
      it(describeCase(spec, o), () => check(spec, o, true));
      k++;
    }
  }
  const lstm: RnnSpec = { cell: 'lstm', inputSize: 5, hiddenSize: 64, direction: 'bidirectional', numLayers: 2, projSize: 12 };
  const o: CaseOptions = { seqLen: 3, batch: 1, initialStates: true, peepholes: true, stepKernels: 'direct' };
  it(describeCase(lstm, o), () => check(lstm, o, true));
  const coupled: RnnSpec = { cell: 'lstm', inputSize: 4, hiddenSize: 20, inputForget: true, clip: 0.5 };
  it(describeCase(coupled, { ...o, weightScale: 1 }), () => check(coupled, { ...o, weightScale: 1 }, true));
});

describe('persistent kernel forced up to its limit, H = 256', () => {
  const run: CaseOptions = { seqLen: 5, batch: 3, lengths: true, initialStates: true, stepKernels: 'persistent' };
  const cases: [RnnSpec, CaseOptions][] = [
    [
      { cell: 'lstm', inputSize: 4, hiddenSize: 256, direction: 'bidirectional', numLayers: 2 },
      { ...run, peepholes: true },
    ],
    [{ cell: 'gru', inputSize: 4, hiddenSize: 130, direction: 'bidirectional' }, run],
    [
      { cell: 'gru', inputSize: 4, hiddenSize: 256, direction: 'reverse', linearBeforeReset: true },
      { ...run, mask: true, lengths: false },
    ],
    [{ cell: 'rnn', inputSize: 4, hiddenSize: 200, direction: 'bidirectional', layout: 'batch-major' }, run],
  ];
  for (const [spec, o] of cases) it(describeCase(spec, o), () => check(spec, o));
});

describe('stack kernel forced: every layer of a unidirectional stack in one dispatch', () => {
  const run: CaseOptions = { seqLen: 6, batch: 5, lengths: true, initialStates: true, stepKernels: 'stack' };
  const masked: CaseOptions = { seqLen: 7, batch: 5, mask: true, initialStates: true, stepKernels: 'stack' };
  const cases: [RnnSpec, CaseOptions][] = [
    [
      { cell: 'lstm', inputSize: 4, hiddenSize: 37, numLayers: 3 },
      { ...run, peepholes: true },
    ],
    [
      { cell: 'lstm', inputSize: 4, hiddenSize: 37, numLayers: 2, inputForget: true, clip: 0.5, direction: 'reverse' },
      { ...run, peepholes: true, weightScale: 1 },
    ],
    [
      { cell: 'lstm', inputSize: 9, hiddenSize: 256, numLayers: 2, layout: 'batch-major' },
      { seqLen: 3, batch: 2, initialStates: true, stepKernels: 'stack' },
    ],
    [
      { cell: 'lstm', inputSize: 3, hiddenSize: 8, numLayers: 8 },
      { seqLen: 4, batch: 9, lengths: true, stepKernels: 'stack' },
    ],
    [
      { cell: 'gru', inputSize: 3, hiddenSize: 20, numLayers: 2, clip: 0.4 },
      { ...run, weightScale: 1 },
    ],
    [
      { cell: 'gru', inputSize: 3, hiddenSize: 20, clip: 0.4, linearBeforeReset: true, direction: 'reverse' },
      { ...run, weightScale: 1 },
    ],
    [{ cell: 'rnn', inputSize: 3, hiddenSize: 20, numLayers: 3, clip: 0.25, activations: ['LeakyRelu'], activationAlpha: [0.2] }, run],
    [
      {
        cell: 'lstm',
        inputSize: 3,
        hiddenSize: 9,
        numLayers: 2,
        activations: ['HardSigmoid', 'Softsign', 'Elu'],
        activationAlpha: [0.3, 0.9],
      },
      masked,
    ],
    [{ cell: 'gru', inputSize: 3, hiddenSize: 9, direction: 'reverse', linearBeforeReset: true, layout: 'batch-major' }, masked],
  ];
  for (const [spec, o] of cases) it(describeCase(spec, o), () => check(spec, o));
});

describe('Clockwork RNN: module periods, lengths, masks, activations', () => {
  const run: CaseOptions = { seqLen: 9, batch: 3, lengths: true, initialStates: true, weightScale: 1 };
  const cases: [RnnSpec, CaseOptions][] = [
    [{ cell: 'clockwork', inputSize: 3, hiddenSize: 8, periods: [1, 2, 4, 8] }, run],
    [{ cell: 'clockwork', inputSize: 3, hiddenSize: 6, periods: [5, 1, 3], direction: 'bidirectional', numLayers: 2 }, run],
    [{ cell: 'clockwork', inputSize: 4, hiddenSize: 12, periods: [3, 3, 2], direction: 'reverse', clip: 0.5, layout: 'batch-major' }, run],
    [
      { cell: 'clockwork', inputSize: 2, hiddenSize: 10, periods: [1, 7], activations: ['Relu'], numLayers: 3 },
      { ...run, seqLen: 15 },
    ],
    [
      { cell: 'clockwork', inputSize: 3, hiddenSize: 8, periods: [2, 4], direction: 'bidirectional' },
      { seqLen: 7, batch: 4, mask: true, initialStates: true },
    ],
  ];
  for (const [spec, o] of cases) {
    it(describeCase(spec, o), () => check(spec, o));
    for (const stepKernels of ['tiled', 'direct', 'persistent', 'rows', 'subgroup'] as const) {
      it(describeCase(spec, { ...o, stepKernels }), () => check(spec, { ...o, stepKernels }));
    }
  }
  it('periods all 1 is the Elman RNN (GPU clockwork vs the reference of cell rnn)', async () => {
    const clockwork: RnnSpec = {
      cell: 'clockwork',
      inputSize: 3,
      hiddenSize: 9,
      periods: [1, 1, 1],
      direction: 'bidirectional',
      numLayers: 2,
    };
    const o: CaseOptions = { seqLen: 6, batch: 2, lengths: true, initialStates: true, seed: 4 };
    const { weights, x, run: runOpts } = caseInputs(clockwork, o);
    const rnn = await createRnn(await getTestDevice(), clockwork, weights, { batch: 2, warmUp: false });
    const got = await rnn.run(x, runOpts);
    rnn.destroy();
    const elman = referenceRnn({ ...clockwork, cell: 'rnn', periods: undefined }, weights, x, runOpts);
    expectClose(got.Y, elman.Y, 'clockwork (periods 1) vs rnn: Y');
    expectClose(got.Y_h, elman.Y_h, 'clockwork (periods 1) vs rnn: Y_h');
  });
});

describe("Depth-Gated LSTM: the depth gate links each layer's cell to the one below", () => {
  const run: CaseOptions = { seqLen: 6, batch: 3, lengths: true, initialStates: true, peepholes: true, weightScale: 0.8 };
  const cases: [RnnSpec, CaseOptions][] = [
    [{ cell: 'lstm', depthGated: true, inputSize: 3, hiddenSize: 9, numLayers: 2 }, run],
    [{ cell: 'lstm', depthGated: true, inputSize: 4, hiddenSize: 37, numLayers: 3, direction: 'bidirectional' }, run],
    [
      { cell: 'lstm', depthGated: true, inputSize: 2, hiddenSize: 5, numLayers: 2, direction: 'reverse', clip: 0.6, inputForget: true },
      run,
    ],
    [
      { cell: 'lstm', depthGated: true, inputSize: 3, hiddenSize: 8, numLayers: 4, layout: 'batch-major' },
      { ...run, peepholes: false, bias: false },
    ],
    [
      { cell: 'lstm', depthGated: true, inputSize: 3, hiddenSize: 6, numLayers: 2, direction: 'bidirectional' },
      { seqLen: 7, batch: 4, mask: true, initialStates: true },
    ],
    [
      { cell: 'lstm', depthGated: true, inputSize: 3, hiddenSize: 130, numLayers: 2 },
      { seqLen: 3, batch: 2, initialStates: true, peepholes: true },
    ],
  ];
  for (const [spec, o] of cases) {
    it(describeCase(spec, o), () => check(spec, o));
    for (const stepKernels of ['tiled', 'direct', 'persistent', 'rows', 'subgroup'] as const) {
      if (stepKernels === 'persistent' && spec.hiddenSize > 256) continue;
      it(describeCase(spec, { ...o, stepKernels }), () => check(spec, { ...o, stepKernels }));
    }
  }
  it('a depth gate shut by a very negative Bd is the stacked LSTM (GPU depth-gated vs the reference of a plain LSTM)', async () => {
    const spec: RnnSpec = { cell: 'lstm', depthGated: true, inputSize: 3, hiddenSize: 7, numLayers: 3, direction: 'bidirectional' };
    const o: CaseOptions = { seqLen: 5, batch: 2, lengths: true, initialStates: true, peepholes: true, seed: 9 };
    const { weights, x, run: runOpts } = caseInputs(spec, o);
    for (const w of weights.slice(1)) w.Bd = new Float32Array(w.Bd!.length).fill(-1e4);
    const rnn = await createRnn(await getTestDevice(), spec, weights, { batch: 2, warmUp: false });
    const got = await rnn.run(x, runOpts);
    rnn.destroy();
    const plain = weights.map(({ W, R, B, P }) => ({ W, R, B, P }));
    const stacked = referenceRnn({ ...spec, depthGated: undefined }, plain, x, runOpts);
    expectClose(got.Y, stacked.Y, 'depth gate shut vs stacked LSTM: Y');
    expectClose(got.Y_h, stacked.Y_h, 'depth gate shut vs stacked LSTM: Y_h');
    expectClose(got.Y_c!, stacked.Y_c!, 'depth gate shut vs stacked LSTM: Y_c');
  });
});

describe('LSTM options', () => {
  const base = { cell: 'lstm', inputSize: 4, hiddenSize: 37, direction: 'bidirectional', numLayers: 2 } as const;
  const run: CaseOptions = { seqLen: 5, batch: 3, lengths: true, initialStates: true };
  const cases: [RnnSpec, CaseOptions][] = [
    [base, { ...run, peepholes: true }],
    [
      { ...base, inputForget: true },
      { ...run, peepholes: true },
    ],
    [
      { ...base, clip: 0.3 },
      { ...run, peepholes: true, weightScale: 1 },
    ],
    [
      { ...base, inputForget: true, clip: 0.5 },
      { ...run, peepholes: true, weightScale: 1 },
    ],
    [{ ...base, projSize: 11 }, run],
    [
      { ...base, projSize: 5, direction: 'reverse', layout: 'batch-major' },
      { ...run, peepholes: true },
    ],
    [
      { ...base, hiddenSize: 300, projSize: 270, numLayers: 1 },
      { seqLen: 3, batch: 2, initialStates: true },
    ],
    [
      { ...base, projSize: 1, hiddenSize: 3, clip: 0.2, inputForget: true },
      { ...run, peepholes: true, weightScale: 1 },
    ],
    [
      { ...base, numLayers: 3 },
      { seqLen: 4, batch: 6, lengths: true },
    ],
    [
      { ...base, hiddenSize: 12 },
      { seqLen: 9, batch: 9, lengths: true, initialStates: true, bias: false },
    ],
  ];
  for (const [spec, o] of cases) it(describeCase(spec, o), () => check(spec, o));
  // The per-step variants handle projection with their own second kernel; the sequence kernels refuse it.
  for (const [stepKernels, projection] of [
    ['tiled', 'gemm'],
    ['direct', 'gemv'],
    ['subgroup', 'gemv'],
  ] as const) {
    for (const [spec, o] of cases.slice(0, 6)) {
      const forced = { ...o, stepKernels, projection };
      it(describeCase(spec, forced), () => check(spec, forced));
    }
  }
});

describe('GRU and RNN options', () => {
  const run: CaseOptions = { seqLen: 6, batch: 4, lengths: true, initialStates: true, weightScale: 1 };
  const cases: [RnnSpec, CaseOptions][] = [
    [{ cell: 'gru', inputSize: 3, hiddenSize: 20, direction: 'bidirectional', clip: 0.4 }, run],
    [{ cell: 'gru', inputSize: 3, hiddenSize: 20, direction: 'bidirectional', clip: 0.4, linearBeforeReset: true }, run],
    [{ cell: 'rnn', inputSize: 3, hiddenSize: 20, direction: 'reverse', clip: 0.25, numLayers: 3 }, run],
    [
      { cell: 'gru', inputSize: 7, hiddenSize: 64, numLayers: 3, linearBeforeReset: true, layout: 'batch-major' },
      { seqLen: 4, batch: 7, lengths: true },
    ],
  ];
  for (const [spec, o] of cases) it(describeCase(spec, o), () => check(spec, o));
});

describe('activations with alpha and beta, chosen per direction', () => {
  // Each triple puts an activation in the f, g and h positions of one direction; the other direction differs.
  const params = (name: string) => ['Affine', 'LeakyRelu', 'ThresholdedRelu', 'ScaledTanh', 'HardSigmoid', 'Elu'].includes(name);
  const ALL = [
    'Relu',
    'Tanh',
    'Sigmoid',
    'Affine',
    'LeakyRelu',
    'ThresholdedRelu',
    'ScaledTanh',
    'HardSigmoid',
    'Elu',
    'Softsign',
    'Softplus',
  ];
  ALL.forEach((name, n) => {
    const other = ALL[(n + 5) % ALL.length];
    const alphas = [0.7, 0.3, 0.45, 0.9, 0.15, 0.6];
    const betas = [0.2, 0.8, 0.35, 0.5];
    const lstm: RnnSpec = {
      cell: 'lstm',
      inputSize: 3,
      hiddenSize: 9,
      direction: 'bidirectional',
      activations: [name, other, name, other, name, 'Tanh'],
      activationAlpha: alphas,
      activationBeta: betas,
    };
    const gru: RnnSpec = {
      cell: 'gru',
      inputSize: 3,
      hiddenSize: 9,
      direction: 'bidirectional',
      linearBeforeReset: n % 2 === 0,
      activations: [name, 'Tanh', 'Sigmoid', name],
      activationAlpha: alphas.slice(0, 2),
      activationBeta: betas.slice(0, 1),
    };
    const rnn: RnnSpec = {
      cell: 'rnn',
      inputSize: 3,
      hiddenSize: 9,
      direction: 'bidirectional',
      activations: [name, other],
      ...(params(name) || params(other) ? { activationAlpha: alphas.slice(0, 1) } : {}),
    };
    const o: CaseOptions = { seqLen: 4, batch: 2, initialStates: true, lengths: [4, 3], weightScale: 0.5 };
    it(`LSTM ${describeCase(lstm, o)}`, () => check(lstm, o));
    it(`GRU ${describeCase(gru, o)}`, () => check(gru, o));
    it(`RNN ${describeCase(rnn, o)}`, () => check(rnn, o));
  });
});

describe('TF.js-style masking: masked steps carry state and output forward', () => {
  const run: CaseOptions = { seqLen: 7, batch: 5, mask: true, initialStates: true };
  for (const stepKernels of ['tiled', 'direct', 'persistent', 'rows', 'subgroup'] as const) {
    for (const spec of [
      { cell: 'lstm', inputSize: 3, hiddenSize: 9, direction: 'bidirectional' },
      { cell: 'gru', inputSize: 3, hiddenSize: 9, direction: 'reverse' },
    ] as RnnSpec[]) {
      it(describeCase(spec, { ...run, stepKernels }), () => check(spec, { ...run, stepKernels }));
    }
  }
  const cases: [RnnSpec, CaseOptions][] = [
    [{ cell: 'lstm', inputSize: 3, hiddenSize: 9, direction: 'bidirectional', numLayers: 2 }, run],
    [{ cell: 'lstm', inputSize: 3, hiddenSize: 9, direction: 'bidirectional', projSize: 4, layout: 'batch-major' }, run],
    [{ cell: 'gru', inputSize: 3, hiddenSize: 9, direction: 'bidirectional' }, run],
    [{ cell: 'gru', inputSize: 3, hiddenSize: 9, direction: 'reverse', linearBeforeReset: true, layout: 'batch-major' }, run],
    [
      { cell: 'rnn', inputSize: 3, hiddenSize: 300, direction: 'bidirectional', numLayers: 2 },
      { ...run, seqLen: 3 },
    ],
  ];
  for (const [spec, o] of cases) it(describeCase(spec, o), () => check(spec, o));
});

describe('huge inputs stay finite: tanh and sigmoid saturate exactly', () => {
  for (const cell of ['lstm', 'gru', 'rnn'] as const) {
    const spec: RnnSpec = { cell, inputSize: 2, hiddenSize: 5, direction: 'bidirectional' };
    // |x| = 1e4 drives every pre-activation far past overflow of a naive exp-based tanh.
    const o: CaseOptions = { seqLen: 3, batch: 2, xScale: 1e4, weightScale: 1, tol: { atol: 1e-5, rtol: 1e-4 } };
    it(describeCase(spec, o), () => check(spec, o));
  }
});
