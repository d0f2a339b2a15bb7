// A model's weights on the GPU: every layer packed into the kernels' layouts (model/pack.ts) and
// uploaded once, in the model's precision, plus the cell's own data and, where the model can run
// it, the fused stack kernel's packing. The model owns these buffers (destroy() frees them).
import { toHalfBits } from '../core/numbers.js';
import { storageBuffer } from '../gpu/helpers.js';
import { CELLS } from '../model/cells.js';
import { packLayer, packStack, type PackedLayer } from '../model/pack.js';
import { layerInputSize } from '../model/spec.js';
import type { Precision, ResolvedSpec, RnnWeights } from '../model/types.js';
import type { LayerBuffers, ModelBuffers } from './workspace.js';

/** Uploads the weights; `withStack`: also the stack kernel's packing. `owned` collects every buffer made. */
export function uploadWeights(
  device: GPUDevice,
  s: ResolvedSpec,
  weights: RnnWeights,
  precision: Precision,
  withStack: boolean,
  owned: GPUBuffer[],
): ModelBuffers {
  const buffer = (label: string, data: Float32Array | Uint16Array | Uint32Array) => {
    const b = storageBuffer(device, `${s.cell}|${label}`, data);
    owned.push(b);
    return b;
  };
  // A weight matrix in the precision's storage type (the kernels convert on load).
  const weight = (v: Float32Array) => (precision === 'f16' ? toHalfBits(v) : v);
  const upload = (l: number, p: PackedLayer): LayerBuffers => {
    const make = (name: string, data: Float32Array | Uint16Array) => buffer(`L${l}|${name}`, data);
    return {
      wT: make('w_t', weight(p.wT)),
      bias: make('bias', p.bias),
      rStep: make('r_t', weight(p.rStep)),
      peephole: p.peephole && make('peephole', p.peephole),
      rbh: p.rbh && make('rbh', p.rbh),
      wrT: p.wrT && make('wr_t', weight(p.wrT)),
    };
  };
  const layers = weights.map((w, l) => upload(l, packLayer(s, w, l)));
  // Read-only data the cell's WGSL binds by name (the Clockwork RNN's unit periods).
  const cellBuffers = Object.fromEntries(
    Object.entries(CELLS[s.cell].buffers?.(s) ?? {}).map(([name, data]) => [name, buffer(name, data)]),
  );
  let stack: ModelBuffers['stack'];
  if (withStack) {
    const p = packStack(
      s,
      weights,
      weights.map((_, l) => layerInputSize(s, l)),
    );
    stack = { weights: buffer('stack|stack_w', weight(p.weights)), aux: buffer('stack|stack_aux', p.aux) };
  }
  return { device, spec: s, precision, layers, cellBuffers, stack };
}
