// Host-side weight packing (src/model/pack.ts), checked against brute-force re-derivations of each
// layout from the ONNX tensors: W [D, G·H, I], R [D, G·H, Hout], B [D, 2·G·H], P [D, 3·H],
// Wr [D, Hout, H] and the Depth-Gated LSTM's Wd [D, H, I], Bd [D, H], Pd [D, 2·H].
import { describe, expect, it } from 'vitest';
import { foldBiases, interleaveGates, packLayer, packStack, paddedColumns, STACK_AUX_ROWS, transposeInput } from '../../src/model/pack.js';
import { layerInputSize, resolveSpec } from '../../src/model/spec.js';
import type { LayerWeights, ResolvedSpec, RnnSpec } from '../../src/model/types.js';
import { arrayLengths } from '../../src/plan/layout.js';
import { exactArray, flatIndex, randomWeights, seeded } from '../support/seeded.js';

/** m[d, g·H + j, k] as the oracle reads it: the tensor [D, G, H, K] row-major. */
function onnx(m: Float32Array, D: number, G: number, H: number, K: number) {
  return (d: number, g: number, j: number, k: number) => m[flatIndex([D, G, H, K], [d, g, j, k])];
}

describe('interleaveGates', () => {
  const shapes: [number, number, number, number, number][] = [];
  for (const lanes of [1, 4]) {
    for (const G of lanes === 1 ? [1] : [1, 3, 4]) {
      for (const D of [1, 2]) for (const H of [1, 3]) for (const K of [1, 2, 5]) shapes.push([D, G, H, K, lanes]);
    }
  }
  it.each(shapes)('D=%i G=%i H=%i K=%i lanes=%i: out[d, k, j, g] = m[d, g·H + j, k], zeros past G', (D, G, H, K, lanes) => {
    const m = exactArray(seeded(D * 1000 + G * 100 + H * 10 + K + lanes), D * G * H * K);
    const at = onnx(m, D, G, H, K);
    const out = interleaveGates(m, D, G, H, K, lanes);
    expect(out.length).toBe(D * K * H * lanes);
    for (let d = 0; d < D; d++) {
      for (let k = 0; k < K; k++) {
        for (let j = 0; j < H; j++) {
          for (let g = 0; g < lanes; g++) {
            expect(out[flatIndex([D, K, H, lanes], [d, k, j, g])], `d=${d} k=${k} j=${j} g=${g}`).toBe(g < G ? at(d, g, j, k) : 0);
          }
        }
      }
    }
  });

  it('a hand-computed GRU case: 3 gates of 1 unit over 2 columns, one zero lane', () => {
    // m [1, 3·1, 2]: gate z = [1, 2], r = [3, 4], h = [5, 6] (columns k = 0, 1).
    const m = Float32Array.from([1, 2, 3, 4, 5, 6]);
    expect([...interleaveGates(m, 1, 3, 1, 2, 4)]).toEqual([1, 3, 5, 0, 2, 4, 6, 0]);
    // lanes = 1, G = 1 is the plain transpose: [2, 3] -> [3, 2].
    expect([...interleaveGates(m, 1, 1, 2, 3, 1)]).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

describe('foldBiases', () => {
  it('hand-computed GRU with one unit: linear_before_reset keeps Rbh apart', () => {
    const B = Float32Array.from([1, 2, 3, 10, 20, 30]); // Wb z, r, h; Rb z, r, h
    const lbr = foldBiases(resolveSpec({ cell: 'gru', inputSize: 1, hiddenSize: 1, linearBeforeReset: true }), B);
    expect([...lbr.folded]).toEqual([11, 22, 3]);
    expect([...lbr.rbh]).toEqual([30]);
    const plain = foldBiases(resolveSpec({ cell: 'gru', inputSize: 1, hiddenSize: 1 }), B);
    expect([...plain.folded]).toEqual([11, 22, 33]);
    expect([...plain.rbh]).toEqual([0]);
  });

  const specs: [string, RnnSpec][] = [
    ['LSTM', { cell: 'lstm', inputSize: 2, hiddenSize: 3, direction: 'bidirectional' }],
    ['RNN', { cell: 'rnn', inputSize: 2, hiddenSize: 3, direction: 'bidirectional' }],
    ['Clockwork', { cell: 'clockwork', inputSize: 2, hiddenSize: 4, periods: [1, 2], direction: 'bidirectional' }],
    ['GRU', { cell: 'gru', inputSize: 2, hiddenSize: 3, direction: 'bidirectional' }],
    ['GRU linear_before_reset', { cell: 'gru', inputSize: 2, hiddenSize: 3, direction: 'bidirectional', linearBeforeReset: true }],
  ];
  it.each(specs)('%s: Wb + Rb for every gate, except the GRU lbr h gate (Wbh only; Rbh to rbh)', (_, spec) => {
    const s = resolveSpec(spec);
    const { directions: D, gates: G, hiddenSize: H } = s;
    const B = exactArray(seeded(7), D * 2 * G * H);
    // B [D, 2, G, H]: row 0 the input biases Wb, row 1 the recurrent Rb.
    const b = (d: number, which: 0 | 1, g: number, j: number) => B[flatIndex([D, 2, G, H], [d, which, g, j])];
    const { folded, rbh } = foldBiases(s, B);
    expect(folded.length).toBe(D * G * H);
    expect(rbh.length).toBe(D * H);
    const lbr = s.cell === 'gru' && s.linearBeforeReset;
    for (let d = 0; d < D; d++) {
      for (let g = 0; g < G; g++) {
        for (let j = 0; j < H; j++) {
          const want = lbr && g === 2 ? b(d, 0, g, j) : b(d, 0, g, j) + b(d, 1, g, j);
          expect(folded[flatIndex([D, G, H], [d, g, j])], `d=${d} g=${g} j=${j}`).toBe(want);
        }
      }
      for (let j = 0; j < H; j++) expect(rbh[d * H + j]).toBe(lbr ? b(d, 1, 2, j) : 0);
    }
  });

  it('absent B: zeros of the right lengths', () => {
    const s = resolveSpec({ cell: 'gru', inputSize: 2, hiddenSize: 3, direction: 'bidirectional', linearBeforeReset: true });
    const { folded, rbh } = foldBiases(s, undefined);
    expect([...folded]).toEqual(new Array(2 * 3 * 3).fill(0));
    expect([...rbh]).toEqual(new Array(2 * 3).fill(0));
  });
});

describe('paddedColumns and transposeInput', () => {
  it.each([
    [0, 0],
    [1, 4],
    [3, 4],
    [4, 4],
    [5, 8],
    [8, 8],
    [9, 12],
    [1023, 1024],
  ])('paddedColumns(%i) = %i', (n, want) => expect(paddedColumns(n)).toBe(want));

  it('hand-computed: W [3, 2] -> w_t [2, 4] with a zero fourth column', () => {
    const W = Float32Array.from([1, 2, 3, 4, 5, 6]);
    expect([...transposeInput(W, 3, 2)]).toEqual([1, 3, 5, 0, 2, 4, 6, 0]);
  });

  it.each([
    [1, 1],
    [5, 3],
    [8, 2],
    [13, 7],
  ])('N=%i K=%i: w_t[k, n] = W[n, k], columns N.. of each row zero', (N, K) => {
    const W = exactArray(seeded(N * 31 + K), N * K);
    const out = transposeInput(W, N, K);
    const NP = Math.ceil(N / 4) * 4;
    expect(out.length).toBe(K * NP);
    for (let k = 0; k < K; k++) {
      for (let n = 0; n < NP; n++) expect(out[k * NP + n], `k=${k} n=${n}`).toBe(n < N ? W[n * K + k] : 0);
    }
  });
});

/** Checks p.wT against W (and Wd, as gate G of a depth-gated layer) brute force: w_t[k, d·G'·H + g·H + j]. */
function expectInputWeights(s: ResolvedSpec, w: LayerWeights, layer: number, wT: Float32Array, gatesIn: number) {
  const { directions: D, gates: G, hiddenSize: H } = s;
  const I = layerInputSize(s, layer);
  const N = D * gatesIn * H;
  const NP = Math.ceil(N / 4) * 4;
  expect(wT.length).toBe(I * NP);
  const W = onnx(w.W, D, G, H, I);
  for (let k = 0; k < I; k++) {
    for (let n = 0; n < NP; n++) {
      let want = 0;
      if (n < N) {
        const d = Math.floor(n / (gatesIn * H));
        const g = Math.floor((n % (gatesIn * H)) / H);
        const j = n % H;
        want = g < G ? W(d, g, j, k) : w.Wd![flatIndex([D, H, I], [d, j, k])];
      }
      expect(wT[k * NP + n], `layer ${layer} k=${k} n=${n}`).toBe(want);
    }
  }
}

/** Checks rStep against R (masked by `keep`) brute force: r_t[d, k, j, g] = R[d, g·H + j, k], zero lanes past G. */
function expectRecurrent(s: ResolvedSpec, R: Float32Array, rStep: Float32Array, lanes: number, keep = (_u: number, _v: number) => true) {
  const { directions: D, gates: G, hiddenSize: H, outputSize: K } = s;
  expect(rStep.length).toBe(D * K * H * lanes);
  const at = onnx(R, D, G, H, K);
  for (let d = 0; d < D; d++) {
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < H; j++) {
        for (let g = 0; g < lanes; g++) {
          const want = g < G && keep(j, k) ? at(d, g, j, k) : 0;
          expect(rStep[flatIndex([D, K, H, lanes], [d, k, j, g])], `d=${d} k=${k} j=${j} g=${g}`).toBe(want);
        }
      }
    }
  }
}

describe('packLayer', () => {
  it('bidirectional LSTM with peepholes and projection', () => {
    const s = resolveSpec({ cell: 'lstm', inputSize: 2, hiddenSize: 3, projSize: 2, direction: 'bidirectional' });
    const [w] = randomWeights(s, seeded(11));
    expect(w.P && w.Wr && w.B).toBeTruthy();
    const p = packLayer(s, w, 0);
    const { directions: D, hiddenSize: H, outputSize: Hout } = s;
    expectInputWeights(s, w, 0, p.wT, 4);
    expect([...p.bias]).toEqual([...foldBiases(s, w.B).folded]);
    expectRecurrent(s, w.R, p.rStep, 4);
    expect([...p.peephole!]).toEqual([...w.P!]);
    expect(p.rbh).toBeUndefined();
    // wr_t [D, H, Hout]: wr_t[d, k, p] = Wr[d, p, k].
    expect(p.wrT!.length).toBe(D * H * Hout);
    for (let d = 0; d < D; d++) {
      for (let k = 0; k < H; k++) {
        for (let q = 0; q < Hout; q++) expect(p.wrT![flatIndex([D, H, Hout], [d, k, q])]).toBe(w.Wr![flatIndex([D, Hout, H], [d, q, k])]);
      }
    }
    // The packed lengths are the lengths the kernels are compiled for (plan/layout.ts arrayLengths).
    const lengths = arrayLengths(s, 0, 1);
    expect(p.wT.length).toBe(lengths.w_t);
    expect(p.rStep.length).toBe(lengths.r_t);
    expect(p.wrT!.length).toBe(lengths.wr_t);
  });

  it('LSTM without B and P: zero biases and peepholes [D, 3, H]; no projection: no wr_t', () => {
    const s = resolveSpec({ cell: 'lstm', inputSize: 2, hiddenSize: 3, numLayers: 2 });
    const w = randomWeights(s, seeded(12)).map(({ W, R }) => ({ W, R }));
    const p = packLayer(s, w[1], 1);
    expectInputWeights(s, w[1], 1, p.wT, 4);
    expect([...p.bias]).toEqual(new Array(4 * 3).fill(0));
    expect([...p.peephole!]).toEqual(new Array(3 * 3).fill(0));
    expect(p.wrT).toBeUndefined();
  });

  it.each([false, true])('GRU (linear_before_reset %s): 4 lanes with a zero fourth, rbh, no peepholes', (lbr) => {
    const s = resolveSpec({ cell: 'gru', inputSize: 3, hiddenSize: 2, numLayers: 2, direction: 'bidirectional', linearBeforeReset: lbr });
    const weights = randomWeights(s, seeded(13));
    for (const layer of [0, 1]) {
      const w = weights[layer];
      const p = packLayer(s, w, layer);
      expectInputWeights(s, w, layer, p.wT, 3);
      expectRecurrent(s, w.R, p.rStep, 4);
      const { folded, rbh } = foldBiases(s, w.B);
      expect([...p.bias]).toEqual([...folded]);
      expect([...p.rbh!]).toEqual([...rbh]);
      expect(p.peephole).toBeUndefined();
      expect(p.wrT).toBeUndefined();
      expect(p.wT.length).toBe(arrayLengths(s, layer, 1).w_t);
      expect(p.rStep.length).toBe(arrayLengths(s, layer, 1).r_t);
    }
  });

  it('RNN: r_t is the plain transpose (one lane)', () => {
    const s = resolveSpec({ cell: 'rnn', inputSize: 5, hiddenSize: 3, direction: 'reverse' });
    const [w] = randomWeights(s, seeded(14));
    const p = packLayer(s, w, 0);
    expectInputWeights(s, w, 0, p.wT, 1);
    expectRecurrent(s, w.R, p.rStep, 1);
    expect([...p.bias]).toEqual([...foldBiases(s, w.B).folded]);
    expect(p.peephole).toBeUndefined();
    expect(p.rbh).toBeUndefined();
  });

  it.each([
    [[1, 2], 4],
    [[2, 1], 4],
    [[1, 4, 2], 6],
    [[3, 3], 4],
  ])('Clockwork periods %j, H=%i: R[u, v] zeroed where unit v is faster than unit u', (periods, H) => {
    const s = resolveSpec({ cell: 'clockwork', inputSize: 2, hiddenSize: H, periods, direction: 'bidirectional' });
    const [w] = randomWeights(s, seeded(15));
    const R = w.R.slice();
    const p = packLayer(s, w, 0);
    // Unit u belongs to module floor(u / (H / g)), whose period is periods[module].
    const period = (u: number) => periods[Math.floor(u / (H / periods.length))];
    expectRecurrent(s, w.R, p.rStep, 1, (u, v) => period(v) >= period(u));
    expect([...w.R]).toEqual([...R]); // the caller's R is left as given
    // A module never loses the entries from its own units.
    for (let u = 0; u < H; u++) expect(p.rStep[u * H + u]).toBe(R[u * H + u]);
  });

  it('Depth-Gated LSTM: layer > 0 projects a fifth gate block (Wd, Bd) and has peepholes [D, 5, H] with Pd', () => {
    const s = resolveSpec({ cell: 'lstm', inputSize: 3, hiddenSize: 3, numLayers: 2, depthGated: true, direction: 'bidirectional' });
    const weights = randomWeights(s, seeded(16));
    const w = weights[1];
    expect(w.Wd && w.Bd && w.Pd).toBeTruthy();
    const p = packLayer(s, w, 1);
    const { directions: D, hiddenSize: H } = s;
    expectInputWeights(s, w, 1, p.wT, 5); // N = 2·5·3 = 30 columns, padded to 32
    expect(p.wT.length).toBe(arrayLengths(s, 1, 1).w_t);
    const { folded } = foldBiases(s, w.B);
    const P = w.P!;
    for (let d = 0; d < D; d++) {
      for (let g = 0; g < 5; g++) {
        for (let j = 0; j < H; j++) {
          const bias = g < 4 ? folded[flatIndex([D, 4, H], [d, g, j])] : w.Bd![d * H + j];
          expect(p.bias[flatIndex([D, 5, H], [d, g, j])], `bias d=${d} g=${g} j=${j}`).toBe(bias);
          const peep = g < 3 ? P[flatIndex([D, 3, H], [d, g, j])] : w.Pd![flatIndex([D, 2, H], [d, g - 3, j])];
          expect(p.peephole![flatIndex([D, 5, H], [d, g, j])], `peephole d=${d} g=${g} j=${j}`).toBe(peep);
        }
      }
    }
    expectRecurrent(s, w.R, p.rStep, 4); // the recurrent weights keep their four gates
    // Without Bd and Pd: zeros in the fifth bias block and in the Pd rows.
    const bare = packLayer(s, { W: w.W, R: w.R, Wd: w.Wd }, 1);
    for (let d = 0; d < D; d++) {
      for (let j = 0; j < H; j++) expect(bare.bias[flatIndex([D, 5, H], [d, 4, j])]).toBe(0);
      for (let r = 3; r < 5; r++) for (let j = 0; j < H; j++) expect(bare.peephole![flatIndex([D, 5, H], [d, r, j])]).toBe(0);
    }
  });

  it('Depth-Gated LSTM layer 0: four gate blocks, peepholes [D, 5, H] with zero Pd rows', () => {
    const s = resolveSpec({ cell: 'lstm', inputSize: 3, hiddenSize: 2, numLayers: 2, depthGated: true });
    const [w] = randomWeights(s, seeded(17));
    const p = packLayer(s, w, 0);
    expectInputWeights(s, w, 0, p.wT, 4);
    expect(p.bias.length).toBe(4 * 2);
    expect([...p.peephole!]).toEqual([...w.P!, 0, 0, 0, 0]);
  });
});

describe('packStack', () => {
  /** The oracle: layer l's block of unit-major columns [IN_l + H, H, lanes] starts at sum of the earlier blocks. */
  function expectStack(spec: RnnSpec, seed: number, withOptional = true) {
    const s = resolveSpec(spec);
    const { gates: G, hiddenSize: H, numLayers: L } = s;
    const lanes = s.cell === 'rnn' ? 1 : 4;
    const weights = randomWeights(s, seeded(seed)).map((w) => (withOptional ? w : { W: w.W, R: w.R }));
    const inputs = weights.map((_, l) => layerInputSize(s, l));
    const { weights: packed, aux } = packStack(s, weights, inputs);
    let base = 0;
    for (let l = 0; l < L; l++) {
      const IN = inputs[l];
      const W = onnx(weights[l].W, 1, G, H, IN);
      const R = onnx(weights[l].R, 1, G, H, H);
      for (let k = 0; k < IN + H; k++) {
        for (let j = 0; j < H; j++) {
          for (let g = 0; g < lanes; g++) {
            const want = g >= G ? 0 : k < IN ? W(0, g, j, k) : R(0, g, j, k - IN);
            expect(packed[(base + k * H + j) * lanes + g], `layer ${l} k=${k} j=${j} g=${g}`).toBe(want);
          }
        }
      }
      base += (IN + H) * H;
    }
    const floats = base * lanes;
    expect(packed.length).toBe(Math.ceil(floats / 4) * 4);
    for (let i = floats; i < packed.length; i++) expect(packed[i]).toBe(0);
    // aux [L, 8, H]: rows 0..G-1 the folded biases, 4..6 the LSTM peepholes, 7 the GRU's Rbh; zeros elsewhere.
    expect(aux.length).toBe(L * STACK_AUX_ROWS * H);
    for (let l = 0; l < L; l++) {
      const B = weights[l].B;
      const b = (which: number, g: number, j: number) => (B ? B[flatIndex([2, G, H], [which, g, j])] : 0);
      const lbr = s.cell === 'gru' && s.linearBeforeReset;
      for (let row = 0; row < STACK_AUX_ROWS; row++) {
        for (let j = 0; j < H; j++) {
          let want = 0;
          if (row < G) want = lbr && row === 2 ? b(0, row, j) : b(0, row, j) + b(1, row, j);
          else if (s.cell === 'lstm' && row >= 4 && row < 7) want = weights[l].P ? weights[l].P![(row - 4) * H + j] : 0;
          else if (row === 7 && lbr) want = b(1, 2, j);
          expect(aux[flatIndex([L, STACK_AUX_ROWS, H], [l, row, j])], `aux layer ${l} row ${row} j=${j}`).toBe(want);
        }
      }
    }
  }

  it('LSTM, 2 layers: W then R columns per layer, biases and peepholes in aux', () =>
    expectStack({ cell: 'lstm', inputSize: 3, hiddenSize: 2, numLayers: 2 }, 21));
  it('LSTM without B and P: zero aux', () => expectStack({ cell: 'lstm', inputSize: 3, hiddenSize: 2, numLayers: 2 }, 22, false));
  it('GRU, 3 layers', () => expectStack({ cell: 'gru', inputSize: 1, hiddenSize: 3, numLayers: 3 }, 23));
  it('GRU linear_before_reset: Rbh in aux row 7, the h bias Wbh only', () =>
    expectStack({ cell: 'gru', inputSize: 2, hiddenSize: 3, numLayers: 2, linearBeforeReset: true }, 24));
  it('RNN with one lane: the total padded to whole vec4 words', () => {
    // (2 + 3)·3 + (3 + 3)·3 = 33 floats, padded to 36.
    expectStack({ cell: 'rnn', inputSize: 2, hiddenSize: 3, numLayers: 2 }, 25);
  });
});
