// The dispatch plan, without a GPU: grids, workgroup sizes, batch tiles and output strides.
import { describe, expect, it } from 'vitest';
import { batchTile, dispatchCount, outputStrides, planLayer, stepWorkgroupSize } from '../src/plan.js';
import { resolveSpec } from '../src/spec.js';

describe('plan', () => {
  it('step grids cover every unit, direction and batch row', () => {
    const s = resolveSpec({ cell: 'lstm', inputSize: 3, hiddenSize: 130, direction: 'bidirectional', projSize: 37 });
    const p = planLayer(s, 0, 5, 7, 256);
    expect(p.step.map((c) => c.kernel)).toEqual(['lstm_step', 'lstm_projection']);
    const [main, proj] = p.step;
    expect((main.grid[0] * Number(main.constants.WG))).toBeGreaterThanOrEqual(130);
    expect((proj.grid[0] * Number(proj.constants.WG))).toBeGreaterThanOrEqual(37);
    expect(main.grid[1]).toBe(2);
    expect(main.grid[2] * Number(main.constants.BT)).toBeGreaterThanOrEqual(7);
    expect(p.inputProj.grid).toEqual([Math.ceil((2 * 4 * 130) / 64), Math.ceil(35 / 64), 1]);
    expect(p.inputProj.constants.TM).toBe(4);
    // A streaming step (M = B = 3 rows) uses 16-row GEMM tiles.
    const one = planLayer(s, 0, 1, 3, 256);
    expect(one.inputProj.constants.TM).toBe(1);
    expect(one.inputProj.grid[1]).toBe(1);
  });
  it('workgroup sizes respect the device limit; batch tiles are 1, 2 or 4', () => {
    expect(stepWorkgroupSize(3, 256)).toBe(32);
    expect(stepWorkgroupSize(2000, 64)).toBe(64);
    expect([1, 2, 3, 4, 100].map(batchTile)).toEqual([1, 2, 4, 4, 4]);
  });
  it('dispatches: one GEMM per layer plus one or two per step', () => {
    expect(dispatchCount(resolveSpec({ cell: 'lstm', inputSize: 3, hiddenSize: 4, numLayers: 3, direction: 'bidirectional' }), 10, 2)).toBe(3 * 11);
    expect(dispatchCount(resolveSpec({ cell: 'gru', inputSize: 3, hiddenSize: 4, numLayers: 2 }), 10, 2)).toBe(2 * 21);
  });
  it('inner layers write [T, B, D·Hout]; the last writes ONNX Y or batch-major Y', () => {
    const s = resolveSpec({ cell: 'rnn', inputSize: 3, hiddenSize: 4, numLayers: 2, direction: 'bidirectional' });
    expect(outputStrides(s, 0, 5, 3)).toEqual({ t: 24, b: 8, d: 4 });
    expect(outputStrides(s, 1, 5, 3)).toEqual({ t: 24, b: 4, d: 12 });
    const bm = resolveSpec({ cell: 'rnn', inputSize: 3, hiddenSize: 4, direction: 'bidirectional', layout: 'batch-major' });
    expect(outputStrides(bm, 0, 5, 3)).toEqual({ t: 8, b: 40, d: 4 });
  });
});
