// A reduced version of test/sweep.test.ts for the browser: every cell variant × direction once, hidden
// sizes from below a workgroup to above the 256-element staging tile, 1-2 layers, both layouts, lengths,
// initial states, masks, peepholes and projection.
import type { RnnSpec } from '../../src/index.js';
import type { SweepCase } from './protocol.js';

export function sweepCases(): SweepCase[] {
  const variants: Pick<RnnSpec, 'cell' | 'linearBeforeReset'>[] = [
    { cell: 'lstm' },
    { cell: 'gru' },
    { cell: 'gru', linearBeforeReset: true },
    { cell: 'rnn' },
  ];
  const directions = ['forward', 'reverse', 'bidirectional'] as const;
  const hidden = [3, 37, 130, 300];
  const shapes = [
    [1, 1],
    [5, 3],
    [4, 2],
    [3, 5],
  ] as const;
  const cases: SweepCase[] = [];
  let k = 0;
  for (const v of variants) {
    for (const direction of directions) {
      const [seqLen, batch] = shapes[k % shapes.length];
      const spec: RnnSpec = {
        ...v,
        inputSize: [2, 5, 1, 9][k % 4],
        hiddenSize: hidden[k % hidden.length],
        numLayers: 1 + (k % 2),
        direction,
        layout: k % 3 === 1 ? 'batch-major' : 'time-major',
      };
      cases.push({ name: '', spec, seqLen, batch, seed: k, lengths: k % 2 === 0, initialStates: k % 3 !== 2 });
      k++;
    }
  }
  cases.push({
    name: '',
    spec: { cell: 'lstm', inputSize: 4, hiddenSize: 37, direction: 'bidirectional', numLayers: 2 },
    seqLen: 5,
    batch: 3,
    seed: 40,
    lengths: true,
    initialStates: true,
    peepholes: true,
  });
  cases.push({
    name: '',
    spec: { cell: 'lstm', inputSize: 4, hiddenSize: 37, direction: 'bidirectional', projSize: 11 },
    seqLen: 5,
    batch: 3,
    seed: 41,
    lengths: true,
    initialStates: true,
  });
  cases.push({
    name: '',
    spec: { cell: 'lstm', inputSize: 3, hiddenSize: 9, direction: 'bidirectional', numLayers: 2 },
    seqLen: 7,
    batch: 5,
    seed: 42,
    mask: true,
    initialStates: true,
  });
  cases.push({
    name: '',
    spec: { cell: 'gru', inputSize: 3, hiddenSize: 9, direction: 'reverse', linearBeforeReset: true, layout: 'batch-major' },
    seqLen: 7,
    batch: 5,
    seed: 43,
    mask: true,
    initialStates: true,
  });
  cases.push({
    name: '',
    spec: { cell: 'rnn', inputSize: 3, hiddenSize: 20, direction: 'bidirectional', activations: ['Relu', 'Tanh'] },
    seqLen: 6,
    batch: 4,
    seed: 44,
    lengths: true,
  });
  for (const c of cases) {
    const { cell, inputSize, hiddenSize, ...rest } = c.spec;
    c.name = `${cell} I=${inputSize} H=${hiddenSize} ${JSON.stringify(rest)} T=${c.seqLen} B=${c.batch}${c.lengths ? ' lengths' : ''}${c.mask ? ' mask' : ''}${c.initialStates ? ' h0' : ''}${c.peepholes ? ' peepholes' : ''}`;
  }
  return cases;
}
