// The 12 official ONNX backend node tests for LSTM, GRU and RNN (../shared/conformance/onnx-node),
// run through createRnn on the GPU, including the three layout = 1 tests ONNX Runtime refuses.
import { afterAll, describe, expect, it } from 'vitest';
import { createRnn, type CreateRnnOptions } from '../../src/index.js';
import { stackUnsupported } from '../../src/plan/stack.js';
import { resolveSpec } from '../../src/model/spec.js';
import { referenceRnn } from '../../common/reference.js';
import { CAPS } from '../support/caps.js';
import { expectClose } from '../support/close.js';
import { conformanceTestNames, loadConformanceTest } from '../support/conformance.js';
import { adapterName, expectSubgroups, getTestDevice } from '../support/device.js';

const TESTS = conformanceTestNames();

let worst = 0;
afterAll(async () =>
  console.log(
    `[conformance] ${TESTS.length} ONNX node tests on ${adapterName(await getTestDevice())}; max |gpu - onnx| = ${worst.toExponential(2)}`,
  ),
);

// Under the defaults, and with every kernel variant forced.
const VARIANTS: CreateRnnOptions[] = [
  {},
  { stepKernels: 'tiled', projection: 'gemm' },
  { stepKernels: 'direct', projection: 'gemv' },
  { stepKernels: 'persistent', projection: 'gemm' },
  { stepKernels: 'rows', projection: 'gemv' },
  { stepKernels: 'subgroup', projection: 'gemv' },
  { stepKernels: 'stack' },
];

describe('ONNX backend conformance tests (onnx/onnx 1.23 data)', () => {
  it('finds all 12 tests', () => expect(TESTS.length).toBe(12));
  for (const name of TESTS)
    for (const options of VARIANTS) {
      // The stack kernel runs unidirectional models only (the others run under every other variant).
      if (options.stepKernels === 'stack' && stackUnsupported(resolveSpec(loadConformanceTest(name).spec), CAPS)) continue;
      it(`${name}${options.stepKernels ? ` (${[options.stepKernels, options.projection].filter(Boolean).join('/')})` : ''}`, async () => {
        const t = loadConformanceTest(name);
        expect(t.expected.length).toBeGreaterThan(0);
        // The subgroup step and gemv's quad-shared form need the device's 'subgroups' (else: plain kernels, or a refusal).
        if (options.stepKernels === 'subgroup' || options.projection === 'gemv') expectSubgroups(await getTestDevice());
        // No warm-up: it changes no result, and the run compiles what it needs (tuning.test.ts covers it).
        const rnn = await createRnn(await getTestDevice(), t.spec, [t.weights], { ...options, warmUp: false });
        const got = await rnn.run(t.x, t.run);
        const ref = referenceRnn(t.spec, [t.weights], t.x, t.run);
        rnn.destroy();
        for (const e of t.expected) {
          worst = Math.max(worst, expectClose(got[e.name]!, e.data, `${name} ${e.name} (gpu vs onnx)`));
          // The float64 reference agrees with ONNX's expected outputs too (ONNX computed them in float32).
          expectClose(ref[e.name]!, e.data, `${name} ${e.name} (reference vs onnx)`, { atol: 1e-6, rtol: 1e-5 });
        }
      });
    }
});
