// The dispatch plan, without a GPU: grids, workgroup sizes, batch tiles and output strides.
import { describe, expect, it } from 'vitest';
import { CAPS, CAPS_SUBGROUPS } from '../support/caps.js';
import { defaultChoice } from '../../src/plan/choose.js';
import { batchTile, directWorkgroupSize, dispatchCount, planLayer, stepWorkgroupSize } from '../../src/plan/layer.js';
import { arrayLengths, lengthRows, outputStrides } from '../../src/plan/layout.js';
import type { LayerChoice } from '../../src/plan/variants.js';
import { resolveSpec } from '../../src/model/spec.js';

const TILED: LayerChoice = { step: 'tiled', projection: 'gemm' };
const DIRECT: LayerChoice = { step: 'direct', projection: 'gemv' };

describe('plan', () => {
  it('tiled step grids cover every unit, direction and batch row', () => {
    const s = resolveSpec({ cell: 'lstm', inputSize: 3, hiddenSize: 130, direction: 'bidirectional', projSize: 37 });
    const p = planLayer(s, { layer: 0, seqLen: 5, batch: 7, masked: false, choice: TILED }, CAPS);
    expect(p.step.map((c) => c.kernel)).toEqual(['lstm_step', 'lstm_projection']);
    const [main, proj] = p.step;
    expect(main.grid[0] * Number(main.constants.WG)).toBeGreaterThanOrEqual(130);
    expect(proj.grid[0] * Number(proj.constants.WG)).toBeGreaterThanOrEqual(37);
    expect(main.grid[1]).toBe(2);
    expect(main.grid[2] * Number(main.constants.BT)).toBeGreaterThanOrEqual(7);
    expect(p.inputProj.grid).toEqual([Math.ceil((2 * 4 * 130) / 64), Math.ceil(35 / 64), 1]);
    expect(p.inputProj.constants.TM).toBe(4);
    // A streaming step (M = B = 3 rows) uses 16-row GEMM tiles.
    const one = planLayer(s, { layer: 0, seqLen: 1, batch: 3, masked: false, choice: TILED }, CAPS);
    expect(one.inputProj.constants.TM).toBe(1);
    expect(one.inputProj.grid[1]).toBe(1);
  });
  it('barrier-free grids cover every (row block, unit) pair and every column quad', () => {
    const s = resolveSpec({ cell: 'gru', inputSize: 3, hiddenSize: 130, direction: 'bidirectional' });
    for (const [T, B] of [
      [5, 7],
      [1, 1],
      [3, 4],
    ]) {
      const p = planLayer(s, { layer: 0, seqLen: T, batch: B, masked: false, choice: DIRECT }, CAPS);
      // GRU without linear_before_reset: the first phase, then the cell, on the same grid.
      expect(p.step.map((c) => c.kernel)).toEqual(['gru_direct_reset', 'gru_direct']);
      for (const c of p.step) {
        const bt = Number(c.constants.BT);
        expect(bt).toBe(B === 1 ? 1 : 4);
        expect(c.grid[0] * Number(c.constants.WG)).toBeGreaterThanOrEqual(Math.ceil(B / bt) * 130);
        expect(c.grid[1]).toBe(2);
      }
      const quads = Math.ceil((2 * 3 * 130) / 4);
      expect(p.inputProj.kernel).toBe('input_gemv');
      expect(p.inputProj.grid[0] * Number(p.inputProj.constants.WG)).toBeGreaterThanOrEqual(
        quads * Math.ceil((T * B) / Number(p.inputProj.constants.TM)),
      );
      expect(p.inputProj.constants.TM).toBe(T * B === 1 ? 1 : 4);
    }
    // The sequence kernels: one workgroup per (row block, direction), or one invocation per row.
    const seq = planLayer(s, { layer: 0, seqLen: 5, batch: 7, masked: false, choice: { step: 'persistent', projection: 'gemm' } }, CAPS);
    expect(seq.step).toEqual([]);
    expect(seq.sequence!.grid[2] * Number(seq.sequence!.constants.BT)).toBeGreaterThanOrEqual(7);
    const rows = planLayer(s, { layer: 0, seqLen: 5, batch: 37, masked: false, choice: { step: 'rows', projection: 'gemm' } }, CAPS);
    expect(rows.sequence!.kernel).toBe('gru_rows');
    expect(rows.sequence!.grid[0] * Number(rows.sequence!.constants.WG)).toBeGreaterThanOrEqual(37);
  });
  it('the direct step shares vector reads within quads where it can: subgroups, one row, H and the output a multiple of 4', () => {
    const kernel = (spec: Parameters<typeof resolveSpec>[0], B: number, subgroups: boolean) =>
      planLayer(
        resolveSpec(spec),
        { layer: 0, seqLen: 1, batch: B, masked: false, choice: DIRECT },
        { ...CAPS, subgroups: subgroups },
      ).step.map((c) => c.kernel);
    const lstm = { cell: 'lstm', inputSize: 3, hiddenSize: 128 } as const;
    expect(kernel(lstm, 1, true)).toEqual(['lstm_direct_quad']);
    expect(kernel(lstm, 1, false)).toEqual(['lstm_direct']);
    expect(kernel(lstm, 2, true)).toEqual(['lstm_direct']); // four rows per invocation instead
    expect(kernel({ ...lstm, hiddenSize: 130 }, 1, true)).toEqual(['lstm_direct']);
    expect(kernel({ ...lstm, projSize: 30 }, 1, true)).toEqual(['lstm_direct', 'lstm_projection_direct']);
    // The GRU without linear_before_reset: both phases.
    expect(kernel({ cell: 'gru', inputSize: 3, hiddenSize: 400 }, 1, true)).toEqual(['gru_direct_reset_quad', 'gru_direct_quad']);
    expect(kernel({ cell: 'gru', inputSize: 3, hiddenSize: 400 }, 4, true)).toEqual(['gru_direct_reset', 'gru_direct']);
  });
  it('the gemv projection shares reads of x within quads where it can: subgroups, column quads a multiple of 4', () => {
    const projection = (spec: Parameters<typeof resolveSpec>[0], subgroups: boolean) =>
      planLayer(resolveSpec(spec), { layer: 0, seqLen: 3, batch: 2, masked: false, choice: DIRECT }, { ...CAPS, subgroups: subgroups })
        .inputProj.kernel;
    // LSTM 128: N = 4·128, 128 column quads.
    expect(projection({ cell: 'lstm', inputSize: 3, hiddenSize: 128 }, true)).toBe('input_gemv_quad');
    expect(projection({ cell: 'lstm', inputSize: 3, hiddenSize: 128 }, false)).toBe('input_gemv');
    // GRU 130, both directions: N = 780, 195 column quads, so a quad would straddle two row blocks.
    expect(projection({ cell: 'gru', inputSize: 3, hiddenSize: 130, direction: 'bidirectional' }, true)).toBe('input_gemv');
    // The GEMM is not affected.
    expect(
      planLayer(
        resolveSpec({ cell: 'lstm', inputSize: 3, hiddenSize: 128 }),
        { layer: 0, seqLen: 3, batch: 2, masked: false, choice: TILED },
        CAPS_SUBGROUPS,
      ).inputProj.kernel,
    ).toBe('input_proj');
  });
  it('barrier-free step workgroups split the invocations evenly in whole quads, never past 64 (or the device limit)', () => {
    const cases: [number, number][] = [
      [1, 4],
      [20, 20],
      [64, 64],
      [65, 36],
      [96, 48],
      [130, 44],
      [2048, 64],
      [2050, 64],
    ];
    for (const [invocations, wg] of cases) {
      expect(directWorkgroupSize(invocations, 256)).toBe(wg);
      expect(Math.ceil(invocations / wg)).toBe(Math.ceil(invocations / 64));
    }
    expect(directWorkgroupSize(96, 32)).toBe(32);
    const p = planLayer(
      resolveSpec({ cell: 'gru', inputSize: 3, hiddenSize: 96 }),
      { layer: 0, seqLen: 1, batch: 1, masked: false, choice: DIRECT },
      CAPS_SUBGROUPS,
    );
    expect(p.step.map((c) => [c.constants.WG, c.grid[0]])).toEqual([
      [48, 2],
      [48, 2],
    ]);
  });
  it('array lengths: whole weight tensors, and state rows rounded up to a power of two, shared by the calls of a layer', () => {
    expect([1, 2, 3, 4, 5, 8, 9, 100].map(lengthRows)).toEqual([1, 2, 4, 4, 8, 8, 16, 128]);
    const s = resolveSpec({ cell: 'lstm', inputSize: 7, hiddenSize: 6, direction: 'bidirectional', numLayers: 2, projSize: 3 });
    // Layer 1 reads D·Hout = 6 features; w_t has the 2·4·6 = 48 gate columns (a multiple of 4 already).
    expect(arrayLengths(s, 1, 3)).toEqual({
      w_t: 6 * 48,
      r_t: 2 * 3 * 6 * 4,
      wr_t: 2 * 6 * 3,
      h_prev: 2 * 4 * 3,
      gate_tmp: 2 * 4 * 2 * 6,
      m: 2 * 4 * 6,
    });
    // Batches 3 and 4 share the lengths, so their pipelines; every call of a layer carries them.
    for (const choice of [TILED, DIRECT]) {
      const plan = planLayer(s, { layer: 1, seqLen: 2, batch: 3, masked: false, choice: choice }, CAPS_SUBGROUPS);
      for (const call of [plan.inputProj, ...plan.step]) expect(call.lengths).toEqual(arrayLengths(s, 1, 4));
    }
  });
  it('defaults on emulated adapters: the step the measurements found faster, by the cost model; gemv', () => {
    // Each case: what Node medians on 2 vCPUs measured faster (README "Defaults by sequence length",
    // plan/choose.ts), for the cost model to reproduce.
    const gru16 = resolveSpec({ cell: 'gru', inputSize: 4, hiddenSize: 16 });
    const gru96 = resolveSpec({ cell: 'gru', inputSize: 4, hiddenSize: 96 });
    const lstm = (H: number) => resolveSpec({ cell: 'lstm', inputSize: 16, hiddenSize: H });
    const bilstm128 = resolveSpec({ cell: 'lstm', inputSize: 32, hiddenSize: 128, direction: 'bidirectional' });
    const swift = { ...CAPS, kind: 'emulated', emulator: 'swiftshader' } as const;
    const lava = { ...CAPS, kind: 'emulated', emulator: 'lavapipe' } as const;
    const cases: [string, ReturnType<typeof resolveSpec>, number, number, typeof swift | typeof lava, 'direct' | 'persistent' | 'rows'][] =
      [
        ['SwiftShader GRU 16, T = 1 (rows 0.42, direct 0.51, persistent 0.69 ms)', gru16, 1, 1, swift, 'rows'],
        ['SwiftShader GRU 16, T = 10 (rows 0.74, direct 1.06, persistent 1.12 ms)', gru16, 10, 1, swift, 'rows'],
        ['SwiftShader GRU 16, T = 100 (persistent 2.6 vs rows 3.3, direct 5.0 ms)', gru16, 100, 1, swift, 'persistent'],
        ['SwiftShader GRU 16, T = 100k (2687 vs 4266-4834 ms)', gru16, 100_000, 1, swift, 'persistent'],
        ['SwiftShader LSTM 64, B = 2, T = 100 (direct 14.4 vs 28.1 ms)', lstm(64), 100, 2, swift, 'direct'],
        ['SwiftShader RNNoise GRU 96, T = 100 (23 vs 48 ms)', gru96, 100, 1, swift, 'direct'],
        ['SwiftShader LSTM 20, T = 20, B = 128 (19.6 vs 31 ms)', lstm(20), 20, 128, swift, 'direct'],
        ['SwiftShader BiLSTM 128, T = 1k', bilstm128, 1000, 1, swift, 'direct'],
        ['SwiftShader Silero-like LSTM 128 step', lstm(128), 1, 1, swift, 'direct'],
        ['lavapipe GRU 16, T = 1 (rows 0.42, persistent 0.45 vs direct 0.61 ms)', gru16, 1, 1, lava, 'rows'],
        ['lavapipe GRU 16, T = 1k (rows 3.7 vs persistent 5.4-6.1 ms)', gru16, 1000, 1, lava, 'rows'],
        ['lavapipe GRU 16, T = 100k (369 vs 539-560 ms)', gru16, 100_000, 1, lava, 'rows'],
        ['lavapipe BiLSTM 128, T = 1k (persistent 127-143 vs rows 262 ms)', bilstm128, 1000, 1, lava, 'persistent'],
        ['SwiftShader GRU 16, T = 10k (persistent 229 vs rows 319 ms, Chromium)', gru16, 10_000, 1, swift, 'persistent'],
        ['lavapipe LSTM 64, B = 2, T = 100 (3.6 vs direct 10, rows 5.6 ms)', lstm(64), 100, 2, lava, 'persistent'],
        ['lavapipe RNNoise GRU 96, T = 100 (10.7 vs 28 ms)', gru96, 100, 1, lava, 'persistent'],
        ['lavapipe LSTM 128, T = 2 (direct 3.0 vs persistent 6.0 ms)', lstm(128), 2, 1, lava, 'direct'],
      ];
    for (const [what, spec, T, B, caps, step] of cases) expect(defaultChoice(spec, T, B, caps), what).toEqual({ step, projection: 'gemv' });
    // Where the persistent kernel does not apply (h > 256): direct.
    expect(defaultChoice(lstm(300), 100, 1, lava)).toEqual({ step: 'direct', projection: 'gemv' });
  });
  it('defaults on GPUs: persistent for small h over several steps, the GEMM above 16 rows', () => {
    const small = resolveSpec({ cell: 'lstm', inputSize: 3, hiddenSize: 64 });
    const big = resolveSpec({ cell: 'lstm', inputSize: 3, hiddenSize: 512 });
    expect(defaultChoice(small, 100, 1, CAPS)).toEqual({ step: 'persistent', projection: 'gemm' });
    expect(defaultChoice(small, 1, 1, CAPS)).toEqual({ step: 'direct', projection: 'gemv' });
    expect(defaultChoice(big, 100, 8, CAPS)).toEqual({ step: 'direct', projection: 'gemm' });
  });
  it('workgroup sizes respect the device limit; batch tiles are 1, 2 or 4', () => {
    expect(stepWorkgroupSize(3, 256)).toBe(32);
    expect(stepWorkgroupSize(2000, 64)).toBe(64);
    expect([1, 2, 3, 4, 100].map(batchTile)).toEqual([1, 2, 4, 4, 4]);
  });
  it('dispatches: one projection per layer plus one or two per step, or one for the whole sequence', () => {
    const lstm = resolveSpec({ cell: 'lstm', inputSize: 3, hiddenSize: 4, numLayers: 3, direction: 'bidirectional' });
    const gru = resolveSpec({ cell: 'gru', inputSize: 3, hiddenSize: 4, numLayers: 2 });
    for (const c of [TILED, DIRECT]) {
      expect(dispatchCount(lstm, 10, 2, [c, c, c], CAPS)).toBe(3 * 11);
      expect(dispatchCount(gru, 10, 2, [c, c], CAPS)).toBe(2 * 21);
    }
    const rows: LayerChoice = { step: 'rows', projection: 'gemv' };
    expect(dispatchCount(gru, 10, 2, [rows, TILED], CAPS)).toBe(2 + 21);
  });
  it('inner layers write [T, B, D·Hout]; the last writes ONNX Y or batch-major Y', () => {
    const s = resolveSpec({ cell: 'rnn', inputSize: 3, hiddenSize: 4, numLayers: 2, direction: 'bidirectional' });
    expect(outputStrides(s, 0, 5, 3)).toEqual({ t: 24, b: 8, d: 4 });
    expect(outputStrides(s, 1, 5, 3)).toEqual({ t: 24, b: 4, d: 12 });
    const bm = resolveSpec({ cell: 'rnn', inputSize: 3, hiddenSize: 4, direction: 'bidirectional', layout: 'batch-major' });
    expect(outputStrides(bm, 0, 5, 3)).toEqual({ t: 8, b: 40, d: 4 });
  });
});
