// Maps a PyTorch nn.LSTM / nn.GRU / nn.RNN state_dict onto createRnn's spec and ONNX-layout
// weights (rnn-semantics.md §8, §12). PyTorch stores one [G·H, in] matrix per layer and
// direction in gate order i,f,g,o (LSTM) or r,z,n (GRU); ONNX stacks the directions and uses
// i,o,f,c / z,r,h. PyTorch's GRU applies the reset gate after the recurrent matmul, which is
// ONNX's linear_before_reset = 1. Sizes absent from the config are inferred from the shapes, and
// every tensor is then checked against them, so a wrong config fails here with the tensor's name
// rather than later as a wrong answer.
import { FormatError, SpecError, WeightError } from '../core/errors.js';
import { CELLS } from '../model/cells.js';
import type { OnnxCellType } from '../model/types.js';
import type { LayerWeights, RnnSpec, RnnWeights } from '../model/types.js';
import { GATE_PERM, permuteGateBlocks } from './gates.js';
import { concatFloat32 } from '../core/numbers.js';

/** A state_dict value: readSafetensors' output fits, as does { shape, data } from anywhere else. */
export interface TorchTensor {
  shape: readonly number[];
  data: Float32Array | ArrayLike<number>;
}

export interface TorchConfig {
  /** nn.LSTM, nn.GRU or nn.RNN (case-insensitive; PyTorch's internal 'RNN_TANH' / 'RNN_RELU' too). */
  mode: string;
  inputSize?: number;
  hiddenSize?: number;
  numLayers?: number;
  bidirectional?: boolean;
  /** LSTM proj_size; 0 or absent = no projection (inferred from weight_hr_l0 when absent). */
  projSize?: number;
  /** nn.Module(batch_first=True): x and Y batch-major. Note PyTorch's h0/h_n stay [L·D, B, ·]. */
  batchFirst?: boolean;
  /** nn.RNN only; default 'tanh'. */
  nonlinearity?: 'tanh' | 'relu';
  /** bias=False in PyTorch; inferred from the presence of bias_ih_l0 when absent. */
  bias?: boolean;
  /** Key prefix of the RNN inside a larger model's state_dict, e.g. 'rnn.' or 'encoder.lstm.'. */
  prefix?: string;
}

const NAME = /^(weight_ih|weight_hh|weight_hr|bias_ih|bias_hh)_l(\d+)(_reverse)?$/;

/** PyTorch's recurrent modules by their mode (nn.RNNBase.mode): the engine cell, the gate order, and the module's own options. */
interface TorchMode {
  cell: OnnxCellType;
  module: string;
  /** PyTorch's gate blocks onto ONNX's order. */
  perm: readonly number[];
  /** nn.RNN's nonlinearity ('tanh' or 'relu'), where the mode fixes it. */
  nonlinearity?: 'tanh' | 'relu';
  /** Whether the module takes a nonlinearity option (nn.RNN). */
  takesNonlinearity: boolean;
  /** nn.GRU applies the reset gate after the recurrent matmul (ONNX linear_before_reset = 1). */
  resetAfter: boolean;
}

const TORCH_MODES: Readonly<Record<string, TorchMode>> = {
  LSTM: { cell: 'lstm', module: 'nn.LSTM', perm: GATE_PERM.torchLstm, takesNonlinearity: false, resetAfter: false },
  GRU: { cell: 'gru', module: 'nn.GRU', perm: GATE_PERM.torchGru, takesNonlinearity: false, resetAfter: true },
  RNN: { cell: 'rnn', module: 'nn.RNN', perm: GATE_PERM.identity1, takesNonlinearity: true, resetAfter: false },
  RNN_TANH: { cell: 'rnn', module: 'nn.RNN', perm: GATE_PERM.identity1, nonlinearity: 'tanh', takesNonlinearity: true, resetAfter: false },
  RNN_RELU: { cell: 'rnn', module: 'nn.RNN', perm: GATE_PERM.identity1, nonlinearity: 'relu', takesNonlinearity: true, resetAfter: false },
};

function parseMode(mode: unknown): TorchMode {
  const m = typeof mode === 'string' && Object.hasOwn(TORCH_MODES, mode.toUpperCase()) ? TORCH_MODES[mode.toUpperCase()] : undefined;
  if (!m) throw new SpecError(`fromTorch: config.mode must be 'LSTM', 'GRU' or 'RNN', got ${JSON.stringify(mode)}`);
  return m;
}

function optionalPositive(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
    throw new SpecError(`fromTorch: config.${name} must be a positive integer, got ${String(v)}`);
  return v;
}

function asFloat32(key: string, t: unknown): { shape: number[]; data: Float32Array } {
  if (typeof t !== 'object' || t === null) throw new FormatError(`state_dict["${key}"] must be { shape, data }, got ${String(t)}`);
  const { shape, data } = t as Partial<TorchTensor>;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new FormatError(`state_dict["${key}"]: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (
    !(data instanceof Float32Array) &&
    !(data !== null && typeof data === 'object' && typeof (data as ArrayLike<number>).length === 'number')
  ) {
    throw new FormatError(`state_dict["${key}"]: data must be a Float32Array or an array of numbers`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count)
    throw new FormatError(`state_dict["${key}"]: shape ${JSON.stringify(shape)} has ${count} elements but data has ${data.length}`);
  return { shape: [...shape], data: data instanceof Float32Array ? data : Float32Array.from(data) };
}

/**
 * Converts a PyTorch RNN state_dict (e.g. `readSafetensors(bytes)`) to `{ spec, weights }` for
 * createRnn. Throws SpecError for a bad config, WeightError naming the tensor that is missing,
 * misshapen or unexpected, FormatError for a value that is not a tensor.
 */
export function fromTorch(stateDict: Record<string, TorchTensor>, config: TorchConfig): { spec: RnnSpec; weights: RnnWeights } {
  if (typeof stateDict !== 'object' || stateDict === null)
    throw new FormatError('fromTorch: stateDict must be an object of { shape, data } tensors');
  if (typeof config !== 'object' || config === null) throw new SpecError("fromTorch: config must be an object such as { mode: 'LSTM' }");
  const mode = parseMode(config.mode);
  const { cell, nonlinearity: modeNonlinearity } = mode;
  const prefix = config.prefix ?? '';
  if (typeof prefix !== 'string') throw new SpecError('fromTorch: config.prefix must be a string');
  const G = CELLS[cell].gates;
  const perm = mode.perm;

  // The RNN's tensors: names under the prefix. With a prefix, everything under it must be ours;
  // without one, other modules' tensors (fc.weight, …) are simply not ours and are left alone.
  const found = new Map<string, { kind: string; layer: number; reverse: boolean }>();
  for (const key of Object.keys(stateDict)) {
    if (!key.startsWith(prefix)) continue;
    const m = NAME.exec(key.slice(prefix.length));
    if (m) found.set(key, { kind: m[1], layer: Number(m[2]), reverse: m[3] !== undefined });
    else if (prefix)
      throw new WeightError(
        `fromTorch: unexpected tensor "${key}" under prefix "${prefix}" (an ${cell.toUpperCase()} has only weight_ih/hh/hr_l{k} and bias_ih/hh_l{k}, with _reverse)`,
      );
  }
  const get = (name: string) => (Object.hasOwn(stateDict, prefix + name) ? asFloat32(prefix + name, stateDict[prefix + name]) : undefined);
  const first = get('weight_ih_l0');
  if (!first) {
    const elsewhere = Object.keys(stateDict)
      .filter((k) => k.endsWith('weight_ih_l0'))
      .map((k) => `"${k.slice(0, -'weight_ih_l0'.length)}"`);
    throw new WeightError(
      `fromTorch: "${prefix}weight_ih_l0" is missing${elsewhere.length ? `; found it under prefix ${elsewhere.join(', ')}: pass config.prefix` : ''}`,
    );
  }
  if (first.shape.length !== 2 || first.shape[0] % G !== 0 || first.shape[0] === 0) {
    throw new WeightError(
      `fromTorch: "${prefix}weight_ih_l0" has shape ${JSON.stringify(first.shape)}, expected [${G}·hidden_size, input_size] for nn.${cell.toUpperCase()}`,
    );
  }

  // Sizes: the config where given, else inferred from the tensors; checked against them below.
  const H = optionalPositive('hiddenSize', config.hiddenSize) ?? first.shape[0] / G;
  const I = optionalPositive('inputSize', config.inputSize) ?? first.shape[1];
  const numLayers = optionalPositive('numLayers', config.numLayers) ?? Math.max(...[...found.values()].map((f) => f.layer)) + 1;
  const bidirectional = config.bidirectional ?? [...found.values()].some((f) => f.reverse);
  const hr0 = get('weight_hr_l0');
  if (config.projSize !== undefined && config.projSize !== 0) optionalPositive('projSize', config.projSize);
  const projSize = config.projSize ?? (hr0 ? hr0.shape[0] : 0);
  const hasBias = config.bias ?? found.has(`${prefix}bias_ih_l0`);
  const nonlinearity = config.nonlinearity ?? modeNonlinearity ?? 'tanh';
  if (nonlinearity !== 'tanh' && nonlinearity !== 'relu')
    throw new SpecError(`fromTorch: config.nonlinearity must be 'tanh' or 'relu', got ${JSON.stringify(nonlinearity)}`);
  // 'tanh' is harmless for LSTM/GRU (a config copied from a generic dict); 'relu' would be ignored silently, so refuse it.
  if (!mode.takesNonlinearity && nonlinearity === 'relu')
    throw new SpecError(`fromTorch: nonlinearity 'relu' applies to nn.RNN only, not ${mode.module}`);
  if (!CELLS[cell].fields.includes('projSize') && projSize)
    throw new SpecError(`fromTorch: proj_size applies to nn.LSTM only, not ${mode.module}`);
  const D = bidirectional ? 2 : 1;
  const Hout = projSize || H;

  const expected = new Set<string>();
  const take = (name: string, shape: number[]): Float32Array => {
    expected.add(prefix + name);
    const t = get(name);
    if (!t) throw new WeightError(`fromTorch: "${prefix}${name}" ${JSON.stringify(shape)} is missing (config: ${describe()})`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new WeightError(
        `fromTorch: "${prefix}${name}" has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape)} (config: ${describe()})`,
      );
    }
    return t.data;
  };
  const describe = () =>
    `${cell.toUpperCase()} input_size=${I} hidden_size=${H} num_layers=${numLayers} bidirectional=${bidirectional}` +
    `${projSize ? ` proj_size=${projSize}` : ''} bias=${hasBias}`;

  const weights: RnnWeights = [];
  for (let l = 0; l < numLayers; l++) {
    const inputWidth = l === 0 ? I : D * Hout;
    const W: Float32Array[] = [],
      R: Float32Array[] = [],
      B: Float32Array[] = [],
      Wr: Float32Array[] = [];
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      W.push(permuteGateBlocks(take(`weight_ih${sfx}`, [G * H, inputWidth]), H, inputWidth, perm));
      R.push(permuteGateBlocks(take(`weight_hh${sfx}`, [G * H, Hout]), H, Hout, perm));
      // ONNX B is [D, 2·G·H]: this direction's input biases, then its recurrent biases.
      if (hasBias)
        B.push(
          permuteGateBlocks(take(`bias_ih${sfx}`, [G * H]), H, 1, perm),
          permuteGateBlocks(take(`bias_hh${sfx}`, [G * H]), H, 1, perm),
        );
      // weight_hr [Hout, H] is already ONNX-style Wr; copied so the caller's tensor is never aliased.
      if (projSize) Wr.push(Float32Array.from(take(`weight_hr${sfx}`, [Hout, H])));
    }
    const layer: LayerWeights = { W: concatFloat32(W), R: concatFloat32(R) };
    if (hasBias) layer.B = concatFloat32(B);
    if (projSize) layer.Wr = concatFloat32(Wr);
    weights.push(layer);
  }
  for (const key of found.keys()) {
    if (!expected.has(key))
      throw new WeightError(`fromTorch: unexpected tensor "${key}" for ${describe()}; check the config or the prefix`);
  }

  const spec: RnnSpec = {
    cell,
    inputSize: I,
    hiddenSize: H,
    numLayers,
    direction: bidirectional ? 'bidirectional' : 'forward',
    layout: config.batchFirst ? 'batch-major' : 'time-major',
  };
  if (mode.resetAfter) spec.linearBeforeReset = true;
  if (mode.takesNonlinearity && nonlinearity === 'relu') spec.activations = Array<string>(D).fill('Relu');
  if (projSize) spec.projSize = projSize;
  return { spec, weights };
}
