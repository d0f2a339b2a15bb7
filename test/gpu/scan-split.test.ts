// session.scan's batched split (src/onnx/split.ts) on small synthetic graphs written here: an LSTM
// whose state is carried as [2, batch, H] (Gather/Unsqueeze in, Concat out, as Silero carries it)
// takes the split and equals F calls of run() with the state fed back within 1e-5; graphs where
// the state goes through arithmetic, or comes back in the wrong order, take the loop path, say
// why, and still give run()'s numbers.
import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../../src/index.js';
import { attr, onnxModel, type NodeDef } from '../../common/onnx-writer.js';
import { rng, uniform } from '../../common/random.js';
import { getTestDevice } from '../support/device.js';

const I = 5;
const H = 6;
const F = 23;

/** x [batch, I] -> LSTM over one step from state [2, batch, H]; y = Sigmoid(h) [batch, H], stateN. */
function model(variant: 'silero' | 'arithmetic' | 'swapped'): Uint8Array {
  const scalar = (name: string, v: number) => ({ name, dims: [], data: BigInt64Array.of(BigInt(v)) });
  const h0 = variant === 'arithmetic' ? 'h0twice' : 'h0';
  const nodes: NodeDef[] = [
    { opType: 'Unsqueeze', inputs: ['x', 'axis0'], outputs: ['X'] },
    { opType: 'Gather', inputs: ['state', 'zero'], outputs: ['h'], attributes: { axis: attr.i(0) } },
    { opType: 'Gather', inputs: ['state', 'one'], outputs: ['c'], attributes: { axis: attr.i(0) } },
    { opType: 'Unsqueeze', inputs: ['h', 'axis0'], outputs: ['h0'] },
    { opType: 'Unsqueeze', inputs: ['c', 'axis0'], outputs: ['c0'] },
    ...(variant === 'arithmetic' ? [{ opType: 'Add', inputs: ['h0', 'h0'], outputs: ['h0twice'] }] : []),
    { opType: 'LSTM', inputs: ['X', 'W', 'R', 'B', '', h0, 'c0'], outputs: ['Y', 'Y_h', 'Y_c'], attributes: { hidden_size: attr.i(H) } },
    { opType: 'Squeeze', inputs: ['Y_h', 'axis0'], outputs: ['hs'] },
    { opType: 'Sigmoid', inputs: ['hs'], outputs: ['y'] },
    {
      opType: 'Concat',
      inputs: variant === 'swapped' ? ['Y_c', 'Y_h'] : ['Y_h', 'Y_c'],
      outputs: ['stateN'],
      attributes: { axis: attr.i(0) },
    },
  ];
  return onnxModel({
    nodes,
    inputs: [
      { name: 'x', elemType: 1, dims: ['batch', I] },
      { name: 'state', elemType: 1, dims: [2, 'batch', H] },
    ],
    outputs: [
      { name: 'y', elemType: 1, dims: ['batch', H] },
      { name: 'stateN', elemType: 1, dims: [2, 'batch', H] },
    ],
    initializers: [
      { name: 'W', dims: [1, 4 * H, I], data: uniform(rng(11), 4 * H * I, 0.6) },
      { name: 'R', dims: [1, 4 * H, H], data: uniform(rng(12), 4 * H * H, 0.6) },
      { name: 'B', dims: [1, 8 * H], data: uniform(rng(13), 8 * H, 0.3) },
      { name: 'axis0', dims: [1], data: BigInt64Array.of(0n) },
      scalar('zero', 0),
      scalar('one', 1),
    ],
    opset: 17,
  });
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.each([
  ['silero', 'split', undefined],
  ['arithmetic', 'loop', /Add/],
  ['swapped', 'loop', /does not put that state's final value there/],
] as const)('scan of a synthetic LSTM graph (%s)', (variant, path, reason) => {
  it(`takes the ${path} path and equals run() with the state fed back`, async () => {
    const device = await getTestDevice();
    const session = await loadOnnx(device, model(variant));
    try {
      const x = uniform(rng(21), F * I, 1);
      const initial = uniform(rng(22), 2 * H, 0.5);
      const scanned = { x: { data: x, dims: [F, 1, I] } };
      const fixed = { state: { data: initial, dims: [2, 1, H] } };
      const plan = await session.scanPlan(scanned, fixed, { carry: { stateN: 'state' } });
      expect(plan.path).toBe(path);
      if (reason) expect(plan.reason).toMatch(reason);
      // Chunks of 10: two full ones and a shorter last one (a program of its own).
      const out = await session.scan(scanned, fixed, { carry: { stateN: 'state' }, chunkFrames: 10 });
      let state: { data: Float32Array | Int32Array; dims: number[] } = { data: initial, dims: [2, 1, H] };
      const ys: number[] = [];
      for (let f = 0; f < F; f++) {
        const r = await session.run({ x: { data: x.subarray(f * I, (f + 1) * I), dims: [1, I] }, state });
        ys.push(...(r.y.data as Float32Array));
        state = r.stateN;
      }
      expect(out.y.dims).toEqual([F, 1, H]);
      expect(maxDiff(out.y.data, ys)).toBeLessThanOrEqual(1e-5);
      expect(maxDiff(out.stateN.data, state.data)).toBeLessThanOrEqual(1e-5);
    } finally {
      session.destroy();
    }
  }, 120_000);
});
