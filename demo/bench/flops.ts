// Napkin math shared by the browser page and the Node benchmark: the multiply-adds of one timed run
// and the throughput a median time implies. Only the matrix products count (input W·x and recurrent
// R·h for every gate); activations, biases and the cell update are O(H) per step and left out.
import { dirs, GATES, stepsPerRun, type BenchShape } from './shapes.js';

/**
 * Multiply-adds of one timed run: Σ over layers of T·B·D·G·H·(I_l + H), with T the steps per run
 * (stream × 1 for streaming shapes), G = 4 (LSTM), 3 (GRU) or 1 (RNN), I_l the input size for layer 0
 * and D·H above it.
 */
export function multiplyAdds(s: BenchShape): number {
  const D = dirs(s);
  const H = s.hiddenSize;
  const perStepRow = D * GATES[s.cell] * H;
  let macs = 0;
  for (let l = 0; l < s.numLayers; l++) macs += perStepRow * ((l === 0 ? s.inputSize : D * H) + H);
  return stepsPerRun(s) * s.batch * macs;
}

/** Achieved GFLOP/s (2 flops per multiply-add) of `macs` multiply-adds in `ms` milliseconds. */
export const gflops = (macs: number, ms: number): number => (2 * macs) / (ms * 1e6);

/** 1234567 → '1.23 M'. */
export function formatCount(n: number): string {
  const [div, unit] = n >= 1e9 ? [1e9, ' G'] : n >= 1e6 ? [1e6, ' M'] : n >= 1e3 ? [1e3, ' k'] : [1, ''];
  return `${Number((n / div).toPrecision(3))}${unit}`;
}
