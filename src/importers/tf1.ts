// Imports TF1 BasicLSTMCell / LSTMCell stacks (MultiRNNCell) from the checkpoints that Magenta.js
// (MusicRNN) and ml5 (CharRNN) ship for tfjs-core's basicLSTMCell:
//  - a TF.js weights manifest (weights_manifest.json: [{ paths, weights: [{ name, shape, dtype,
//    quantization? }] }]) plus its shard bytes, or
//  - the older deeplearn.js checkpoint manifest ml5 uses ({ name: { filename, shape } }, one raw
//    little-endian float32 file per variable).
// Each cell has one kernel [(I+H), 4H], applied to concat([x, h]), gate blocks i,j,f,o, and one bias
// [4H]; TF1 adds a scalar forget_bias to f at run time, which is not in the checkpoint and is
// folded into the f block of ONNX Wb here (rnn-semantics.md §7-8).
import { FormatError, UnsupportedError, WeightError } from '../core/errors.js';
import type { RnnSpec, RnnWeights } from '../model/types.js';
import { GATE_PERM, permuteGateBlocks, transpose2d } from './gates.js';
import { concatBytes, concatFloat32, halfToFloat } from '../core/numbers.js';

export interface WeightsManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}
export interface WeightsManifestGroup {
  paths: string[];
  weights: WeightsManifestEntry[];
}
/** deeplearn.js / ml5 checkpoint manifest: one raw float32 file per variable. */
export type CheckpointManifest = Record<string, { filename: string; shape: number[] }>;

/**
 * TF.js manifest: the shard files of every group in manifest order, as one buffer or a list.
 * Checkpoint manifest: the files keyed by their `filename`.
 */
export type Tf1WeightData = ArrayBuffer | Uint8Array | (ArrayBuffer | Uint8Array)[] | Record<string, ArrayBuffer | Uint8Array>;

export interface Tf1LstmOptions {
  /** TF1 BasicLSTMCell forget_bias (Magenta and ml5 use the default, 1.0). */
  forgetBias?: number;
  /** Only variables whose names start with this, e.g. 'rnn/' or 'gen/encoder/rnn/'; needed when a checkpoint holds several stacks. */
  prefix?: string;
}

export interface DecodedTensor {
  shape: number[];
  dtype: string;
  /** float32 tensors (also dequantized ones); undefined for int32, bool, string, complex64. */
  data?: Float32Array;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function elementCount(what: string, shape: unknown, limit: number): number {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new FormatError(`${what}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  // Bounded by the bytes available, so an absurd shape fails here instead of overflowing.
  let n = 1;
  for (const d of shape as number[]) {
    n *= d;
    if (n > limit) throw new FormatError(`${what}: shape ${JSON.stringify(shape)} needs more data than the ${limit} bytes given`);
  }
  return n;
}

function toBytes(what: string, b: unknown): Uint8Array {
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  throw new FormatError(`${what} must be an ArrayBuffer or Uint8Array, got ${Object.prototype.toString.call(b)}`);
}

const PLAIN_SIZES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const QUANT_SIZES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/** Decodes a TF.js weights manifest the way tf.io.decodeWeights lays it out: every entry of every group, back to back. */
function decodeTfjsManifest(manifest: unknown[], weightData: Tf1WeightData): Map<string, DecodedTensor> {
  const parts = Array.isArray(weightData) ? weightData.map((b, i) => toBytes(`weightData[${i}]`, b)) : [toBytes('weightData', weightData)];
  const bytes = parts.length === 1 ? parts[0] : concatBytes(parts);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, DecodedTensor>();
  let offset = 0;
  manifest.forEach((group, g) => {
    if (!isObject(group) || !Array.isArray(group.weights))
      throw new FormatError(`weights manifest group ${g} must be { paths, weights: [...] }`);
    group.weights.forEach((entry: unknown, e: number) => {
      if (!isObject(entry) || typeof entry.name !== 'string' || typeof entry.dtype !== 'string') {
        throw new FormatError(`weights manifest group ${g} entry ${e} must be { name, shape, dtype }`);
      }
      const what = `weights manifest "${entry.name}"`;
      if (out.has(entry.name)) throw new FormatError(`${what} appears twice`);
      const count = elementCount(what, entry.shape, bytes.length);
      const shape = [...(entry.shape as number[])];
      const q = entry.quantization;
      let size: number;
      let data: Float32Array | undefined;
      if (q !== undefined) {
        if (!isObject(q) || typeof q.dtype !== 'string' || !Object.hasOwn(QUANT_SIZES, q.dtype)) {
          throw new UnsupportedError(`${what}: quantization ${JSON.stringify(q)} is not supported (uint8, uint16 with scale/min, float16)`);
        }
        size = count * QUANT_SIZES[q.dtype];
        need(what, offset, size, bytes.length);
        if (entry.dtype === 'float32') {
          data = new Float32Array(count);
          if (q.dtype === 'float16') {
            for (let i = 0; i < count; i++) data[i] = halfToFloat(view.getUint16(offset + 2 * i, true));
          } else {
            const scale = q.scale,
              min = q.min;
            if (typeof scale !== 'number' || typeof min !== 'number' || !Number.isFinite(scale) || !Number.isFinite(min)) {
              throw new FormatError(`${what}: ${q.dtype} quantization needs finite scale and min`);
            }
            for (let i = 0; i < count; i++)
              data[i] = (q.dtype === 'uint8' ? view.getUint8(offset + i) : view.getUint16(offset + 2 * i, true)) * scale + min;
          }
        }
      } else if (entry.dtype === 'string') {
        // Each string is a u32 byte length and the bytes: walk them to find where the next entry starts.
        size = 0;
        for (let i = 0; i < count; i++) {
          need(what, offset + size, 4, bytes.length);
          const len = view.getUint32(offset + size, true);
          size += 4;
          need(what, offset + size, len, bytes.length);
          size += len;
        }
      } else if (Object.hasOwn(PLAIN_SIZES, entry.dtype)) {
        size = count * PLAIN_SIZES[entry.dtype];
        need(what, offset, size, bytes.length);
        if (entry.dtype === 'float32') {
          data = new Float32Array(count);
          for (let i = 0; i < count; i++) data[i] = view.getFloat32(offset + 4 * i, true);
        }
      } else {
        throw new UnsupportedError(`${what}: dtype ${JSON.stringify(entry.dtype)} is not a TF.js weight dtype`);
      }
      offset += size;
      out.set(entry.name, { shape, dtype: entry.dtype, data });
    });
  });
  if (offset !== bytes.length) {
    throw new FormatError(
      `weight data is ${bytes.length} bytes but the manifest describes ${offset}; pass every shard of every group, in manifest order`,
    );
  }
  return out;
}

function need(what: string, offset: number, size: number, total: number): void {
  if (offset + size > total)
    throw new FormatError(
      `${what}: needs bytes ${offset}..${offset + size} but the weight data is only ${total} bytes (truncated or missing shard?)`,
    );
}

/** deeplearn.js checkpoint manifest (ml5 CharRNN): files keyed by filename, raw float32 each. */
function decodeCheckpointManifest(manifest: Record<string, unknown>, files: Tf1WeightData): Map<string, DecodedTensor> {
  if (!isObject(files) || files instanceof ArrayBuffer || files instanceof Uint8Array) {
    throw new FormatError(
      'checkpoint manifest ({ name: { filename, shape } }): pass weightData as { [filename]: ArrayBuffer | Uint8Array }',
    );
  }
  const out = new Map<string, DecodedTensor>();
  for (const [name, entry] of Object.entries(manifest)) {
    const what = `checkpoint manifest "${name}"`;
    if (!isObject(entry) || typeof entry.filename !== 'string') throw new FormatError(`${what} must be { filename, shape }`);
    if (!Object.hasOwn(files, entry.filename)) throw new FormatError(`${what}: file "${entry.filename}" is not in weightData`);
    const bytes = toBytes(`weightData["${entry.filename}"]`, (files as Record<string, unknown>)[entry.filename]);
    const count = elementCount(what, entry.shape, bytes.length);
    if (count * 4 !== bytes.length)
      throw new FormatError(`${what}: shape ${JSON.stringify(entry.shape)} needs ${count * 4} bytes of float32, file has ${bytes.length}`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
    out.set(name, { shape: [...(entry.shape as number[])], dtype: 'float32', data });
  }
  return out;
}

/** Decodes every variable of a TF.js weights manifest or a deeplearn.js checkpoint manifest. */
export function readWeightsManifest(manifest: unknown, weightData: Tf1WeightData): Map<string, DecodedTensor> {
  if (Array.isArray(manifest)) return decodeTfjsManifest(manifest, weightData);
  if (isObject(manifest)) return decodeCheckpointManifest(manifest, weightData);
  throw new FormatError(
    'weights manifest must be a TF.js manifest array [{ paths, weights }] or a checkpoint manifest { name: { filename, shape } }',
  );
}

// Variable names of one cell, by TF version: `.../multi_rnn_cell/cell_{k}/basic_lstm_cell/kernel`
// (TF >= 1.2, `lstm_cell` for LSTMCell), `.../weights` and `.../biases` (TF 1.0-1.1), and
// `.../MultiRNNCell/Cell{k}/BasicLSTMCell/Linear/Matrix|Bias` (TF 0.x). A single cell without
// MultiRNNCell has no cell index.
const CELL_VARIABLE = [
  /^((?:.*\/)?)multi_rnn_cell\/cell_(\d+)\/(?:basic_lstm_cell|lstm_cell)\/(.+)$/,
  /^((?:.*\/)?)MultiRNNCell\/Cell(\d+)\/BasicLSTMCell\/Linear\/(.+)$/,
  /^((?:.*\/)?)()(?:basic_lstm_cell|lstm_cell)\/(.+)$/,
  /^((?:.*\/)?)()BasicLSTMCell\/Linear\/(.+)$/,
];
const ROLE: Record<string, 'kernel' | 'bias'> = {
  kernel: 'kernel',
  weights: 'kernel',
  Matrix: 'kernel',
  bias: 'bias',
  biases: 'bias',
  Bias: 'bias',
};

interface CellVariables {
  kernel?: { name: string; t: DecodedTensor };
  bias?: { name: string; t: DecodedTensor };
}

/**
 * Builds `{ spec, weights }` for createRnn from a TF1 MultiRNNCell of BasicLSTMCells (or a single
 * cell). Other variables (embeddings, fully_connected, softmax) are ignored; read them with
 * readWeightsManifest. Throws FormatError for a malformed manifest or data, WeightError for a
 * missing or misshapen kernel/bias, UnsupportedError for what the engine cannot run (cells of
 * different hidden sizes, peepholes, projections, attention wrappers).
 */
export function loadTf1Lstm(
  manifest: unknown,
  weightData: Tf1WeightData,
  options: Tf1LstmOptions = {},
): { spec: RnnSpec; weights: RnnWeights } {
  const forgetBias = options.forgetBias ?? 1.0;
  if (typeof forgetBias !== 'number' || !Number.isFinite(forgetBias))
    throw new FormatError(`loadTf1Lstm: forgetBias must be a finite number, got ${String(forgetBias)}`);
  const prefix = options.prefix ?? '';
  const vars = readWeightsManifest(manifest, weightData);

  // Group the cell variables by their scope (the part of the name before the cell).
  const scopes = new Map<string, Map<number, CellVariables>>();
  for (const [name, t] of vars) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    const m = CELL_VARIABLE.map((re) => re.exec(rest)).find((x) => x !== null);
    if (!m) continue;
    const scope = prefix + m[1];
    const index = m[2] === '' ? 0 : Number(m[2]);
    const [leaf, ...slot] = m[3].split('/');
    const role = Object.hasOwn(ROLE, leaf) ? ROLE[leaf] : undefined;
    // Optimizer slots and moving averages (kernel/Adam, bias/ExponentialMovingAverage) are not weights.
    if (role && slot.length > 0) continue;
    if (!role) {
      throw new UnsupportedError(
        `loadTf1Lstm: "${name}" is not a BasicLSTMCell variable (peepholes w_*_diag or a projection of tf.nn.rnn_cell.LSTMCell are not supported; only kernel and bias)`,
      );
    }
    if (!scopes.has(scope)) scopes.set(scope, new Map());
    const cells = scopes.get(scope)!;
    if (!cells.has(index)) cells.set(index, {});
    const cell = cells.get(index)!;
    if (cell[role]) throw new FormatError(`loadTf1Lstm: cell ${index} of "${scope}" has two ${role}s: "${cell[role]!.name}" and "${name}"`);
    cell[role] = { name, t };
  }
  if (scopes.size === 0) {
    throw new WeightError(
      `loadTf1Lstm: no BasicLSTMCell variables (…/basic_lstm_cell/kernel, …/lstm_cell/weights, …/BasicLSTMCell/Linear/Matrix)${prefix ? ` under prefix "${prefix}"` : ''}`,
    );
  }
  if (scopes.size > 1) {
    throw new FormatError(
      `loadTf1Lstm: the checkpoint has several LSTM stacks (${[...scopes.keys()].map((s) => `"${s}"`).join(', ')}); choose one with options.prefix`,
    );
  }
  const [scope, cells] = [...scopes][0];
  if (scope.includes('attention_cell_wrapper')) {
    throw new UnsupportedError(
      `loadTf1Lstm: "${scope}" is wrapped in an AttentionCellWrapper (Magenta attention models), which feeds an attention vector into every step; webgpu-rnn runs plain stacks only`,
    );
  }

  const n = cells.size;
  const kernels: { name: string; data: Float32Array; rows: number }[] = [];
  const biases: Float32Array[] = [];
  let H = 0;
  for (let k = 0; k < n; k++) {
    const cell = cells.get(k);
    const label = `${scope}multi_rnn_cell/cell_${k}`;
    if (!cell?.kernel)
      throw new WeightError(
        `loadTf1Lstm: the kernel of cell ${k} ("${label}/basic_lstm_cell/kernel") is missing; cells must be numbered 0..${n - 1}`,
      );
    if (!cell.bias) throw new WeightError(`loadTf1Lstm: the bias of cell ${k} (next to "${cell.kernel.name}") is missing`);
    const { kernel, bias } = cell;
    for (const v of [kernel, bias]) {
      if (!v.t.data) throw new UnsupportedError(`loadTf1Lstm: "${v.name}" has dtype ${v.t.dtype}; expected float32`);
    }
    if (bias.t.shape.length !== 1 || bias.t.shape[0] === 0 || bias.t.shape[0] % 4 !== 0) {
      throw new WeightError(`loadTf1Lstm: "${bias.name}" has shape ${JSON.stringify(bias.t.shape)}, expected [4·hidden]`);
    }
    const Hk = bias.t.shape[0] / 4;
    if (kernel.t.shape.length !== 2 || kernel.t.shape[1] !== 4 * Hk || kernel.t.shape[0] <= Hk) {
      throw new WeightError(
        `loadTf1Lstm: "${kernel.name}" has shape ${JSON.stringify(kernel.t.shape)}, expected [input + ${Hk}, ${4 * Hk}] (its bias "${bias.name}" is [${4 * Hk}])`,
      );
    }
    if (k === 0) H = Hk;
    else if (Hk !== H) {
      throw new UnsupportedError(
        `loadTf1Lstm: cell ${k} has hidden size ${Hk} but cell 0 has ${H}; webgpu-rnn runs a stack as layers of one hidden size (split it into one model per cell to run it)`,
      );
    }
    // MultiRNNCell feeds each cell's h to the next: rows must be H (from below) + H (own state).
    if (k > 0 && kernel.t.shape[0] !== 2 * H) {
      throw new WeightError(
        `loadTf1Lstm: "${kernel.name}" has ${kernel.t.shape[0]} rows, expected ${2 * H} (the previous cell's output ${H} + hidden ${H})`,
      );
    }
    kernels.push({ name: kernel.name, data: kernel.t.data!, rows: kernel.t.shape[0] });
    biases.push(bias.t.data!);
  }

  const perm = GATE_PERM.tf1Lstm;
  const weights: RnnWeights = kernels.map((kernel, k) => {
    const I = kernel.rows - H;
    const cols = 4 * H;
    // kernel rows [0, I) multiply x, rows [I, I+H) multiply h; ONNX wants [4H, in] per matrix.
    const W = permuteGateBlocks(transpose2d(kernel.data.subarray(0, I * cols), I, cols), H, I, perm);
    const R = permuteGateBlocks(transpose2d(kernel.data.subarray(I * cols), H, cols), H, H, perm);
    const Wb = permuteGateBlocks(biases[k], H, 1, perm);
    // forget_bias is added to f's pre-activation at run time in TF1; ONNX block 2 is f.
    for (let j = 2 * H; j < 3 * H; j++) Wb[j] += forgetBias;
    return { W, R, B: concatFloat32([Wb, new Float32Array(cols)]) };
  });
  const spec: RnnSpec = { cell: 'lstm', inputSize: kernels[0].rows - H, hiddenSize: H, numLayers: n };
  return { spec, weights };
}
