// Maps a PyTorch fixture (test/fixtures/torch/*.json, made by make_torch.py) onto createRnn's
// spec, ONNX-layout weights and run options, and its outputs onto our output layouts.
// Gate orders: PyTorch LSTM i,f,g,o -> ONNX i,o,f,c is perm [0,3,1,2]; GRU r,z,n -> z,r,h is [1,0,2]
// (rnn-semantics.md §8). PyTorch's GRU is ONNX's linear_before_reset = 1.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RnnSpec } from '../../src/index.js';
import type { RefLayerWeights } from '../../common/reference.js';

interface Tensor {
  shape: number[];
  data: number[];
}
export interface TorchFixture {
  name: string;
  config: {
    mode: 'LSTM' | 'GRU' | 'RNN';
    input_size: number;
    hidden_size: number;
    num_layers: number;
    bidirectional: boolean;
    proj_size: number;
    nonlinearity: 'tanh' | 'relu';
    batch_first: boolean;
  };
  seq_len: number;
  batch: number;
  lengths: number[] | null;
  state_dict: Record<string, Tensor>;
  x: number[];
  h0: number[] | null;
  c0: number[] | null;
  output: number[];
  h_n: number[];
  c_n: number[] | null;
}

/** dst block k := src block perm[k]; rows of `cols` values, blocks of `hidden` rows. */
function permuteBlocks(w: number[], hidden: number, cols: number, perm: number[]): number[] {
  const size = hidden * cols;
  return perm.flatMap((src) => w.slice(src * size, (src + 1) * size));
}

export function fromTorchFixture(f: TorchFixture) {
  const c = f.config;
  const D = c.bidirectional ? 2 : 1;
  const H = c.hidden_size;
  const Hout = c.proj_size || H;
  const cell = c.mode.toLowerCase() as RnnSpec['cell'];
  const perm = cell === 'lstm' ? [0, 3, 1, 2] : cell === 'gru' ? [1, 0, 2] : [0];
  const spec: RnnSpec = {
    cell,
    inputSize: c.input_size,
    hiddenSize: H,
    numLayers: c.num_layers,
    direction: c.bidirectional ? 'bidirectional' : 'forward',
    layout: c.batch_first ? 'batch-major' : 'time-major',
    ...(cell === 'gru' ? { linearBeforeReset: true } : {}),
    ...(cell === 'rnn' ? { activations: Array(D).fill(c.nonlinearity === 'relu' ? 'Relu' : 'Tanh') } : {}),
    ...(c.proj_size ? { projSize: c.proj_size } : {}),
  };
  const sd = f.state_dict;
  const weights: RefLayerWeights[] = [];
  for (let l = 0; l < c.num_layers; l++) {
    const W: number[] = [],
      R: number[] = [],
      B: number[] = [],
      Wr: number[] = [];
    const bias: number[][] = [[], []];
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      const wih = sd[`weight_ih${sfx}`];
      W.push(...permuteBlocks(wih.data, H, wih.shape[1], perm));
      R.push(...permuteBlocks(sd[`weight_hh${sfx}`].data, H, Hout, perm));
      bias[d] = [...permuteBlocks(sd[`bias_ih${sfx}`].data, H, 1, perm), ...permuteBlocks(sd[`bias_hh${sfx}`].data, H, 1, perm)];
      B.push(...bias[d]);
      if (c.proj_size) Wr.push(...sd[`weight_hr${sfx}`].data);
    }
    weights.push({ W, R, B, ...(c.proj_size ? { Wr } : {}) });
  }
  const T = f.seq_len,
    Bn = f.batch,
    L = c.num_layers;
  // PyTorch states are [L·D, B, ·] in both layouts; ours are [B, L·D, ·] when batch-major.
  const stateIn = (v: number[] | null, width: number) => (v && c.batch_first ? swap01(v, L * D, Bn, width) : (v ?? undefined));
  const run = {
    seqLen: T,
    batch: Bn,
    sequenceLens: f.lengths ?? undefined,
    initialH: stateIn(f.h0, Hout),
    initialC: stateIn(f.c0, H),
  };
  // PyTorch output: [T, B, D·Hout] (ours [T, D, B, Hout]) or batch_first [B, T, D·Hout] (= ours [B, T, D, Hout]).
  const Y = c.batch_first ? f.output : swap01(f.output, T, Bn, D * Hout, D, Hout);
  const expected = { Y, Y_h: stateIn(f.h_n, Hout)!, Y_c: f.c_n ? stateIn(f.c_n, H) : undefined };
  return { spec, weights, x: f.x, run, expected };
}

/** [A, B, W] -> [B, A, W]; with (D, Hout) given, [T, B, D·Hout] -> [T, D, B, Hout]. */
function swap01(v: number[], A: number, B: number, W: number, D?: number, Hout?: number): number[] {
  const out = new Array<number>(v.length);
  if (D !== undefined && Hout !== undefined) {
    for (let t = 0; t < A; t++)
      for (let b = 0; b < B; b++)
        for (let d = 0; d < D; d++)
          for (let j = 0; j < Hout; j++) {
            out[((t * D + d) * B + b) * Hout + j] = v[((t * B + b) * D + d) * Hout + j];
          }
    return out;
  }
  for (let a = 0; a < A; a++) for (let b = 0; b < B; b++) for (let w = 0; w < W; w++) out[(b * A + a) * W + w] = v[(a * B + b) * W + w];
  return out;
}

/** Every fixture under test/fixtures/torch, sorted by file name. */
export function torchFixtures(): TorchFixture[] {
  const dir = join(import.meta.dirname, '..', 'fixtures', 'torch');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as TorchFixture);
}

/** What the fixtures must cover: a bidirectional 2-layer LSTM, proj_size, GRU, relu RNN and variable lengths. */
export function expectTorchCoverage(fixtures: TorchFixture[], expect: (v: boolean, what: string) => void): void {
  const c = fixtures.map((f) => f.config);
  expect(
    c.some((x) => x.mode === 'LSTM' && x.bidirectional && x.num_layers === 2),
    'a bidirectional 2-layer LSTM',
  );
  expect(
    c.some((x) => x.proj_size > 0),
    'proj_size',
  );
  expect(
    c.some((x) => x.mode === 'GRU'),
    'a GRU',
  );
  expect(
    c.some((x) => x.mode === 'RNN' && x.nonlinearity === 'relu'),
    'a relu RNN',
  );
  expect(
    fixtures.some((f) => f.lengths),
    'variable lengths',
  );
}
