// The offsets, strides and sizes of src/plan/layout.ts, against the layouts they stand for written
// out as row-major shapes ([T, D, B, H] and so on), and region checks (no overlaps, no gaps).
import { describe, expect, it } from 'vitest';
import { packLayer } from '../../src/model/pack.js';
import { resolveSpec } from '../../src/model/spec.js';
import type { RnnSpec } from '../../src/model/types.js';
import {
  arrayLengths,
  cLayout,
  inputStrides,
  lengthRows,
  outputStrides,
  packedStateLayout,
  projectionGates,
  runSizes,
  stateFloats,
  weightWords,
} from '../../src/plan/layout.js';
import { coordinates, flatIndex, randomWeights, seeded } from '../support/seeded.js';

/** Asserts that the regions [offset, offset + size) tile [0, total) exactly: no overlap, no gap. */
function expectTiling(regions: { name: string; offset: number; size: number }[], total: number) {
  const sorted = [...regions].filter((r) => r.size > 0).sort((a, b) => a.offset - b.offset);
  let end = 0;
  for (const r of sorted) {
    expect(r.offset, `${r.name} starts where the previous region ends`).toBe(end);
    end = r.offset + r.size;
  }
  expect(end).toBe(total);
}

describe('outputStrides', () => {
  const T = 3;
  const B = 2;
  // H = 5 with projection 3: the strides must use Hout, not H.
  const base: RnnSpec = { cell: 'lstm', inputSize: 4, hiddenSize: 5, projSize: 3, numLayers: 3, direction: 'bidirectional' };
  const cases: [string, RnnSpec, number, (t: number, b: number, d: number, j: number) => number][] = [
    ['inner layer: [T, B, D, Hout]', base, 0, (t, b, d, j) => flatIndex([T, B, 2, 3], [t, b, d, j])],
    [
      'inner layer, batch-major model: still [T, B, D, Hout]',
      { ...base, layout: 'batch-major' },
      1,
      (t, b, d, j) => flatIndex([T, B, 2, 3], [t, b, d, j]),
    ],
    ['last layer: ONNX Y [T, D, B, Hout]', base, 2, (t, b, d, j) => flatIndex([T, 2, B, 3], [t, d, b, j])],
    [
      'last layer, batch-major: [B, T, D, Hout]',
      { ...base, layout: 'batch-major' },
      2,
      (t, b, d, j) => flatIndex([B, T, 2, 3], [b, t, d, j]),
    ],
    [
      'single layer, unidirectional: [T, 1, B, H]',
      { cell: 'gru', inputSize: 2, hiddenSize: 4 },
      0,
      (t, b, _d, j) => flatIndex([T, 1, B, 4], [t, 0, b, j]),
    ],
  ];
  it.each(cases)('%s', (_, spec, layer, index) => {
    const s = resolveSpec(spec);
    const st = outputStrides(s, layer, T, B);
    const seen = new Set<number>();
    for (const [t, b, d, j] of coordinates([T, B, s.directions, s.outputSize])) {
      const addr = t * st.t + b * st.b + d * st.d + j;
      expect(addr, `(t=${t}, b=${b}, d=${d}, j=${j})`).toBe(index(t, b, d, j));
      seen.add(addr);
    }
    expect(seen.size).toBe(T * B * s.directions * s.outputSize);
  });
});

describe('inputStrides', () => {
  const T = 4;
  const B = 3;
  it.each([
    ['time-major layer 0: x [T, B, I]', { cell: 'rnn', inputSize: 5, hiddenSize: 2 } as RnnSpec, 0, [T, B, 5], false],
    [
      'batch-major layer 0: x [B, T, I]',
      { cell: 'rnn', inputSize: 5, hiddenSize: 2, layout: 'batch-major' } as RnnSpec,
      0,
      [B, T, 5],
      true,
    ],
    [
      'layer 1 of a batch-major bidirectional stack: [T, B, D·Hout]',
      {
        cell: 'lstm',
        inputSize: 5,
        hiddenSize: 4,
        projSize: 2,
        numLayers: 2,
        direction: 'bidirectional',
        layout: 'batch-major',
      } as RnnSpec,
      1,
      [T, B, 4],
      false,
    ],
  ] as const)('%s', (_, spec, layer, shape, batchFirst) => {
    const s = resolveSpec(spec);
    const st = inputStrides(s, layer, T, B);
    for (const [t, b, i] of coordinates([T, B, shape[2]])) {
      const want = batchFirst ? flatIndex(shape, [b, t, i]) : flatIndex(shape, [t, b, i]);
      expect(t * st.t + b * st.b + i).toBe(want);
    }
  });

  it('layer l reads what layer l - 1 wrote: input (t, b, d·Hout + j) = output (t, b, d, j)', () => {
    const T2 = 3;
    const B2 = 2;
    for (const layout of ['time-major', 'batch-major'] as const) {
      const s = resolveSpec({ cell: 'lstm', inputSize: 3, hiddenSize: 4, projSize: 2, numLayers: 3, direction: 'bidirectional', layout });
      for (const l of [1, 2]) {
        const out = outputStrides(s, l - 1, T2, B2);
        const inp = inputStrides(s, l, T2, B2);
        for (const [t, b, d, j] of coordinates([T2, B2, 2, 2])) {
          expect(t * inp.t + b * inp.b + d * 2 + j).toBe(t * out.t + b * out.b + d * out.d + j);
        }
      }
    }
  });
});

describe('runSizes', () => {
  it('bidirectional 2-layer LSTM, T=5, B=3 (hand-computed)', () => {
    const s = resolveSpec({ cell: 'lstm', inputSize: 3, hiddenSize: 4, numLayers: 2, direction: 'bidirectional' });
    expect(runSizes(s, 5, 3)).toEqual({
      x: 5 * 3 * 3, // 45
      xproj: 5 * 3 * 2 * 4 * 4, // 480
      sequence: 5 * 3 * 2 * 4, // 120
      h: 2 * 3 * 4,
      c: 2 * 3 * 4,
      cAll: 2 * 2 * 3 * 4,
      scratch: 2 * 3 * 2 * 4,
    });
  });

  it('LSTM projection: the sequence and h use Hout, c and scratch H', () => {
    const s = resolveSpec({ cell: 'lstm', inputSize: 3, hiddenSize: 4, projSize: 2, direction: 'bidirectional' });
    const r = runSizes(s, 5, 3);
    expect([r.sequence, r.h, r.c, r.cAll, r.scratch]).toEqual([60, 12, 24, 24, 48]);
  });

  it('Depth-Gated LSTM: five gate blocks in xproj, and two c sequences after the states', () => {
    const s = resolveSpec({ cell: 'lstm', inputSize: 3, hiddenSize: 4, numLayers: 2, depthGated: true });
    const r = runSizes(s, 5, 3);
    expect(r.xproj).toBe(5 * 3 * 1 * 5 * 4); // 300
    expect(r.cAll).toBe(2 * 1 * 3 * 4 + 2 * (5 * 3 * 1 * 4)); // 24 + 120
  });

  it('GRU and RNN: three and one gate blocks', () => {
    expect(runSizes(resolveSpec({ cell: 'gru', inputSize: 2, hiddenSize: 6 }), 7, 2).xproj).toBe(7 * 2 * 3 * 6);
    expect(runSizes(resolveSpec({ cell: 'rnn', inputSize: 2, hiddenSize: 6, direction: 'bidirectional' }), 7, 2).xproj).toBe(7 * 2 * 2 * 6);
  });
});

describe('lengthRows', () => {
  it.each([
    [0, 1],
    [1, 1],
    [2, 2],
    [3, 4],
    [4, 4],
    [5, 8],
    [16, 16],
    [17, 32],
    [1000, 1024],
  ])('lengthRows(%i) = %i', (b, want) => expect(lengthRows(b)).toBe(want));

  it('is the smallest power of two >= batch for every batch up to 4096', () => {
    for (let b = 1; b <= 4096; b++) {
      let p = 1;
      while (p < b) p *= 2;
      expect(lengthRows(b), `batch ${b}`).toBe(p);
    }
  });
});

describe('arrayLengths', () => {
  it('bidirectional 2-layer GRU, batch 3 (4 rows), hand-computed', () => {
    const s = resolveSpec({ cell: 'gru', inputSize: 3, hiddenSize: 5, numLayers: 2, direction: 'bidirectional' });
    // N = D·G·H = 30 columns, padded to 32; r_t has 4 lanes; rows: batch 3 -> 4.
    expect(arrayLengths(s, 0, 3)).toEqual({
      w_t: 3 * 32,
      r_t: 2 * 5 * 5 * 4,
      wr_t: 2 * 5 * 5,
      h_prev: 2 * 4 * 5,
      gate_tmp: 2 * 4 * 2 * 5,
      m: 2 * 4 * 5,
    });
    expect(arrayLengths(s, 1, 3).w_t).toBe(10 * 32); // layer 1 reads D·H = 10 features
  });

  it('the state arrays are sized for lengthRows(batch) rows: batches 5..8 share lengths', () => {
    const s = resolveSpec({ cell: 'lstm', inputSize: 3, hiddenSize: 4, projSize: 2 });
    const at5 = arrayLengths(s, 0, 5);
    for (const b of [6, 7, 8]) expect(arrayLengths(s, 0, b)).toEqual(at5);
    expect(at5.h_prev).toBe(8 * 2); // rows · Hout
    expect(at5.m).toBe(8 * 4); // rows · H
    expect(arrayLengths(s, 0, 9).h_prev).toBe(16 * 2);
  });

  it.each<[string, RnnSpec]>([
    ['LSTM projection', { cell: 'lstm', inputSize: 3, hiddenSize: 5, projSize: 2, numLayers: 2, direction: 'bidirectional' }],
    ['Depth-Gated LSTM', { cell: 'lstm', inputSize: 3, hiddenSize: 3, numLayers: 3, depthGated: true }],
    ['GRU', { cell: 'gru', inputSize: 7, hiddenSize: 3, numLayers: 2 }],
    ['RNN', { cell: 'rnn', inputSize: 1, hiddenSize: 3, numLayers: 2, direction: 'bidirectional' }],
    ['Clockwork', { cell: 'clockwork', inputSize: 2, hiddenSize: 4, periods: [1, 2] }],
  ])('%s: w_t, r_t and wr_t equal the lengths pack.ts produces', (_, spec) => {
    const s = resolveSpec(spec);
    randomWeights(s, seeded(3)).forEach((w, l) => {
      const p = packLayer(s, w, l);
      const lengths = arrayLengths(s, l, 1);
      expect(p.wT.length, `layer ${l} w_t`).toBe(lengths.w_t);
      expect(p.rStep.length, `layer ${l} r_t`).toBe(lengths.r_t);
      if (p.wrT) expect(p.wrT.length).toBe(lengths.wr_t);
      expect(projectionGates(s, l)).toBe(s.depthGated && l > 0 ? 5 : s.gates);
    });
  });
});

describe('cLayout', () => {
  it.each([
    [1, 3, 2],
    [2, 4, 1],
  ] as const)('Depth-Gated LSTM, D=%i, L=%i, B=%i: layer states, then two alternating sequence halves, no overlap', (D, L, B) => {
    const s = resolveSpec({
      cell: 'lstm',
      inputSize: 2,
      hiddenSize: 3,
      numLayers: L,
      depthGated: true,
      direction: D === 2 ? 'bidirectional' : 'forward',
    });
    const T = 5;
    const H = 3;
    const c = cLayout(s, T, B);
    const state = D * B * H;
    const seq = T * B * D * H;
    const regions = [
      ...Array.from({ length: L }, (_, l) => ({ name: `state ${l}`, offset: c.state(l), size: state })),
      { name: 'sequence half 0', offset: c.sequence(0), size: seq },
      { name: 'sequence half 1', offset: c.sequence(1), size: seq },
    ];
    expectTiling(regions, runSizes(s, T, B).cAll);
    for (let l = 0; l < L; l++) {
      expect(c.state(l)).toBe(l * state); // states first, in layer order
      expect(c.sequence(l)).toBe(c.sequence(l % 2)); // two halves, alternating
      if (l > 0) expect(c.sequence(l)).not.toBe(c.sequence(l - 1)); // a layer never writes the half it reads
    }
  });

  it('plain LSTM: the states fill cAll', () => {
    const s = resolveSpec({ cell: 'lstm', inputSize: 2, hiddenSize: 3, numLayers: 2, direction: 'bidirectional' });
    const c = cLayout(s, 4, 3);
    expectTiling(
      [0, 1].map((l) => ({ name: `state ${l}`, offset: c.state(l), size: 2 * 3 * 3 })),
      runSizes(s, 4, 3).cAll,
    );
  });
});

describe('packedStateLayout', () => {
  it.each<[string, RnnSpec, boolean]>([
    ['LSTM with projection', { cell: 'lstm', inputSize: 2, hiddenSize: 5, projSize: 3, numLayers: 3 }, true],
    ['LSTM', { cell: 'lstm', inputSize: 2, hiddenSize: 4, numLayers: 2 }, true],
    ['GRU', { cell: 'gru', inputSize: 2, hiddenSize: 4, numLayers: 3 }, false],
    ['RNN', { cell: 'rnn', inputSize: 2, hiddenSize: 4, numLayers: 1 }, false],
  ])('%s: h [L, B, Hout] blocks, then c [L, B, H] blocks, no overlap, total = stateFloats', (_, spec, hasC) => {
    const s = resolveSpec(spec);
    const B = 3;
    const L = s.numLayers;
    const p = packedStateLayout(s, B);
    const regions = Array.from({ length: L }, (_, l) => ({ name: `h ${l}`, offset: p.h(l), size: B * s.outputSize }));
    if (hasC) regions.push(...Array.from({ length: L }, (_, l) => ({ name: `c ${l}`, offset: p.c(l), size: B * s.hiddenSize })));
    expectTiling(regions, p.floats);
    expect(p.floats).toBe(L * B * (s.outputSize + (hasC ? s.hiddenSize : 0)));
    expect(stateFloats(s, B)).toBe(p.floats);
    for (let l = 0; l < L; l++) {
      expect(p.h(l)).toBe(l * B * s.outputSize);
      if (hasC) expect(p.c(l)).toBe(L * B * s.outputSize + l * B * s.hiddenSize);
    }
  });
});

describe('weightWords', () => {
  it.each([
    ['f32', 0, 0],
    ['f32', 7, 7],
    ['f32', 1024, 1024],
    ['f16', 0, 0],
    ['f16', 1, 1],
    ['f16', 2, 1],
    ['f16', 7, 4],
    ['f16', 1024, 512],
  ] as const)('%s: %i floats = %i words', (precision, floats, words) => expect(weightWords(precision, floats)).toBe(words));
});
