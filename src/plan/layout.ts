// Every offset, stride and size the host and the kernels agree on, with one owner: the strides of a
// layer's input and output, the buffer sizes of a run, the array lengths the kernels are compiled
// for, the uniform slots, and the layouts of the LSTM c data and of the packed state of streams and
// the stack kernel. Pure: no GPU calls.
import { CELLS, hasCellState } from '../model/cells.js';
import { paddedColumns } from '../model/pack.js';
import { layerInputSize } from '../model/spec.js';
import type { ArrayLengths } from '../kernels/sources.js';
import type { Precision, ResolvedSpec } from '../model/types.js';

/** Gate blocks of layer `layer`'s input projection: the cell's gates, plus the depth gate above the first layer of a Depth-Gated LSTM. */
export function projectionGates(s: ResolvedSpec, layer: number): number {
  return CELLS[s.cell].projectionGates?.(s, layer) ?? s.gates;
}

/**
 * Scalars (weights, or f32s) in layer `layer`'s storage arrays that the kernels size by a generated
 * const (kernels/sources.ts `ArrayLengths`): the weights and the recurrent vectors (h_prev; the GRU's
 * r ⊙ h in gate_tmp; the LSTM projection's m), read once per multiply-add. The workspace binds
 * buffers of exactly these sizes (workspace.ts resources).
 */
export function arrayLengths(s: ResolvedSpec, layer: number, batch: number): ArrayLengths {
  const { directions: D, hiddenSize: H, outputSize: Hout } = s;
  const rows = lengthRows(batch);
  return {
    w_t: layerInputSize(s, layer) * paddedColumns(D * projectionGates(s, layer) * H),
    r_t: D * Hout * H * CELLS[s.cell].recurrentLanes,
    wr_t: D * H * Hout,
    h_prev: D * rows * Hout,
    gate_tmp: D * rows * 2 * H,
    m: D * rows * H,
  };
}

/**
 * The batch rows the length-sized state arrays are declared for: the batch rounded up to a power of
 * two, so that runs of batch sizes in one such class share their pipelines (a batch size is not an
 * override, and each new length compiles the step kernels anew). The workspace allocates its state
 * buffers for as many rows.
 */
export function lengthRows(batch: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, batch)));
}

/** Element strides (t, b, d) of a layer's sequence output; the last layer writes the public Y layout. */
export function outputStrides(s: ResolvedSpec, layer: number, seqLen: number, batch: number): { t: number; b: number; d: number } {
  const { outputSize: Hout, directions: D } = s;
  if (layer < s.numLayers - 1) return { t: batch * D * Hout, b: D * Hout, d: Hout }; // [T, B, D, Hout]: next layer's input
  if (s.batchMajor) return { t: D * Hout, b: seqLen * D * Hout, d: Hout }; // [B, T, D, Hout]
  return { t: D * batch * Hout, b: Hout, d: batch * Hout }; // [T, D, B, Hout] (ONNX)
}

/** Element strides (t, b) of a layer's input rows. */
export function inputStrides(s: ResolvedSpec, layer: number, seqLen: number, batch: number): { t: number; b: number } {
  const width = layerInputSize(s, layer);
  if (layer > 0) return { t: batch * width, b: width };
  return s.batchMajor ? { t: width, b: seqLen * width } : { t: batch * width, b: width };
}

/** Float counts of the buffers a run of (seqLen, batch) needs. */
export function runSizes(s: ResolvedSpec, seqLen: number, batch: number) {
  const { hiddenSize: H, outputSize: Hout, directions: D, numLayers: L } = s;
  const G = Math.max(...Array.from({ length: L }, (_, l) => projectionGates(s, l)));
  return {
    x: seqLen * batch * s.inputSize,
    xproj: seqLen * batch * D * G * H,
    /** One layer's sequence output ([T, B, D·Hout] or the final Y). */
    sequence: seqLen * batch * D * Hout,
    h: D * batch * Hout,
    c: D * batch * H,
    /** Every layer's c state [L, D, B, H], then (Depth-Gated LSTM) two c sequences [T, B, D, H] for the layer above. */
    cAll: L * D * batch * H + (s.depthGated ? 2 * seqLen * batch * D * H : 0),
    /** GRU gate_tmp [D, B, 2, H] or the LSTM projection's m [D, B, H]. */
    scratch: D * batch * 2 * H,
  };
}

/** Uniform slots are 256 bytes apart: minUniformBufferOffsetAlignment is at most 256 everywhere. */
export const UNIFORM_SLOT = 256;

/** Bytes bound at each uniform slot (the structs are 32 bytes or less). */
export const UNIFORM_BINDING = 48;

/** 4-byte words of a weight matrix of `floats` elements stored at `precision`. */
export function weightWords(precision: Precision, floats: number): number {
  return precision === 'f16' ? Math.ceil(floats / 2) : floats;
}

/**
 * Where a run of (T, B) keeps its LSTM c data in ws.cAll (element offsets): layer l's state
 * [D, B, H], and (Depth-Gated LSTM) the c sequence [T, B, D, H] layer l writes for the layer above,
 * alternating between two halves (layer l reads l - 1's while it writes its own).
 */
export function cLayout(s: ResolvedSpec, T: number, B: number): { state: (l: number) => number; sequence: (l: number) => number } {
  const { directions: D, hiddenSize: H, numLayers: L } = s;
  const states = L * D * B * H;
  return { state: (l) => l * D * B * H, sequence: (l) => states + (l % 2) * T * B * D * H };
}

/**
 * The packed state of streams and of the stack kernel, one buffer per state: h [L, B, Hout], then
 * for a cell with a c state c [L, B, H]. Offsets in floats.
 */
export function packedStateLayout(s: ResolvedSpec, batch: number): { floats: number; h: (l: number) => number; c: (l: number) => number } {
  const L = s.numLayers;
  const hRows = batch * s.outputSize;
  const cRows = hasCellState(s) ? batch * s.hiddenSize : 0;
  return { floats: L * (hRows + cRows), h: (l) => l * hRows, c: (l) => L * hRows + l * cRows };
}

/** Floats of a stream's state buffer (packedStateLayout). */
export function stateFloats(s: ResolvedSpec, batch: number): number {
  return packedStateLayout(s, batch).floats;
}
