// The public model description (RnnSpec, RnnWeights), its validation, and the resolved form the
// rest of the library works from. Weights use ONNX layouts and gate orders throughout
// (LSTM i,o,f,c; GRU z,r,h); importers map other frameworks onto them.
import { resolveActivations, type ResolvedActivation } from './activations.js';
import { SpecError, WeightError } from './errors.js';

export type CellType = 'lstm' | 'gru' | 'rnn';
export type Direction = 'forward' | 'reverse' | 'bidirectional';
export type Layout = 'time-major' | 'batch-major';

export interface RnnSpec {
  cell: CellType;
  inputSize: number;
  hiddenSize: number;
  /** Default 1. Layer k > 0 takes D·Hout features (directions concatenated, forward first). */
  numLayers?: number;
  /** Default 'forward'. */
  direction?: Direction;
  /** ONNX names, all directions concatenated (LSTM f,g,h; GRU f,g; RNN f). */
  activations?: string[];
  /** ONNX Runtime reading: consumed in order by the activations that take them. */
  activationAlpha?: number[];
  activationBeta?: number[];
  /** Clamps gate pre-activations to [-clip, clip] (not the input of h(C_t)). */
  clip?: number;
  /** LSTM coupled input-forget gate: f = 1 - i. */
  inputForget?: boolean;
  /** GRU: reset gate applied after the recurrent matmul (PyTorch's GRU, Keras reset_after). */
  linearBeforeReset?: boolean;
  /** ONNX layout 0 ('time-major', default) or 1 ('batch-major'). */
  layout?: Layout;
  /** LSTM projection (PyTorch proj_size): Hout = projSize, else hiddenSize. */
  projSize?: number;
}

export interface LayerWeights {
  /** [D, G·H, I_k] */
  W: Float32Array;
  /** [D, G·H, Hout] */
  R: Float32Array;
  /** [D, 2·G·H]: input biases, then recurrent biases; absent = zeros. */
  B?: Float32Array;
  /** [D, 3·H] LSTM peepholes i, o, f; absent = zeros. */
  P?: Float32Array;
  /** [D, Hout, H] projection, only with projSize. */
  Wr?: Float32Array;
}

export type RnnWeights = LayerWeights[];

/** Gate blocks per cell, in ONNX order. */
export const GATE_COUNT: Readonly<Record<CellType, number>> = { lstm: 4, gru: 3, rnn: 1 };

const DEFAULT_ACTIVATIONS: Readonly<Record<CellType, readonly string[]>> = {
  lstm: ['Sigmoid', 'Tanh', 'Tanh'],
  gru: ['Sigmoid', 'Tanh'],
  rnn: ['Tanh'],
};

/** RnnSpec with every default applied and every derived size computed. */
export interface ResolvedSpec {
  cell: CellType;
  inputSize: number;
  hiddenSize: number;
  /** Hout: projSize when projecting, else hiddenSize. */
  outputSize: number;
  numLayers: number;
  direction: Direction;
  directions: 1 | 2;
  gates: number;
  /** One entry per activation slot, direction-major (direction 0's, then direction 1's). */
  activations: ResolvedActivation[];
  clip: number | undefined;
  inputForget: boolean;
  linearBeforeReset: boolean;
  batchMajor: boolean;
  projected: boolean;
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new SpecError(`${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!allowed.includes(v as T)) throw new SpecError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

export function resolveSpec(spec: RnnSpec): ResolvedSpec {
  if (typeof spec !== 'object' || spec === null) throw new SpecError('spec must be an object such as { cell: "lstm", inputSize: 8, hiddenSize: 16 }');
  if (spec.cell === undefined) throw new SpecError("spec.cell is required: 'lstm', 'gru' or 'rnn'");
  const cell = oneOf<CellType>('spec.cell', spec.cell, ['lstm', 'gru', 'rnn'], 'lstm');
  const inputSize = positiveInt('spec.inputSize', spec.inputSize);
  const hiddenSize = positiveInt('spec.hiddenSize', spec.hiddenSize);
  const numLayers = spec.numLayers === undefined ? 1 : positiveInt('spec.numLayers', spec.numLayers);
  const direction = oneOf<Direction>('spec.direction', spec.direction, ['forward', 'reverse', 'bidirectional'], 'forward');
  const layout = oneOf<Layout>('spec.layout', spec.layout, ['time-major', 'batch-major'], 'time-major');
  const directions = direction === 'bidirectional' ? 2 : 1;
  if (spec.projSize !== undefined) {
    if (cell !== 'lstm') throw new SpecError(`spec.projSize applies to LSTM only; remove it for a ${cell.toUpperCase()}`);
    positiveInt('spec.projSize', spec.projSize);
  }
  if (spec.inputForget && cell !== 'lstm') throw new SpecError(`spec.inputForget applies to LSTM only; remove it for a ${cell.toUpperCase()}`);
  if (spec.linearBeforeReset && cell !== 'gru') throw new SpecError(`spec.linearBeforeReset applies to GRU only; remove it for a ${cell.toUpperCase()}`);
  if (spec.clip !== undefined && !(typeof spec.clip === 'number' && spec.clip > 0 && Number.isFinite(spec.clip))) {
    throw new SpecError(`spec.clip must be a positive finite number (or absent for no clipping), got ${String(spec.clip)}`);
  }
  const activations = resolveActivations(spec.activations, spec.activationAlpha, spec.activationBeta, directions, DEFAULT_ACTIVATIONS[cell]);
  return {
    cell, inputSize, hiddenSize, numLayers, direction, directions, activations,
    outputSize: spec.projSize ?? hiddenSize,
    gates: GATE_COUNT[cell],
    clip: spec.clip,
    inputForget: !!spec.inputForget,
    linearBeforeReset: !!spec.linearBeforeReset,
    batchMajor: layout === 'batch-major',
    projected: spec.projSize !== undefined,
  };
}

/** I_k: the input width of layer k. */
export function layerInputSize(s: ResolvedSpec, layer: number): number {
  return layer === 0 ? s.inputSize : s.directions * s.outputSize;
}

/** Expected element counts of one layer's tensors; undefined = the tensor must be absent. */
export function expectedWeightLengths(s: ResolvedSpec, layer: number): Record<keyof LayerWeights, number | undefined> {
  const { directions: D, gates: G, hiddenSize: H, outputSize: Hout } = s;
  return {
    W: D * G * H * layerInputSize(s, layer),
    R: D * G * H * Hout,
    B: D * 2 * G * H,
    P: s.cell === 'lstm' ? D * 3 * H : undefined,
    Wr: s.projected ? D * Hout * H : undefined,
  };
}

const SHAPES: Record<keyof LayerWeights, string> = {
  W: '[D, G·H, I_k]', R: '[D, G·H, Hout]', B: '[D, 2·G·H]', P: '[D, 3·H]', Wr: '[D, Hout, H]',
};

export function validateWeights(s: ResolvedSpec, weights: RnnWeights): void {
  if (!Array.isArray(weights)) throw new WeightError('weights must be an array with one { W, R, B?, P?, Wr? } entry per layer');
  if (weights.length !== s.numLayers) {
    throw new WeightError(`weights: expected ${s.numLayers} layer entr${s.numLayers === 1 ? 'y' : 'ies'} (spec.numLayers), got ${weights.length}`);
  }
  weights.forEach((w, layer) => {
    if (typeof w !== 'object' || w === null) throw new WeightError(`weights[${layer}] must be an object { W, R, B?, P?, Wr? }`);
    const expected = expectedWeightLengths(s, layer);
    for (const key of Object.keys(SHAPES) as (keyof LayerWeights)[]) {
      const t = w[key];
      const want = expected[key];
      const required = key === 'W' || key === 'R' || (key === 'Wr' && s.projected);
      if (t === undefined) {
        if (required) throw new WeightError(`layer ${layer}: ${key} ${SHAPES[key]} is missing (expected ${want} floats)`);
        continue;
      }
      if (want === undefined) {
        const why = key === 'P' ? `peepholes exist only for LSTM` : `Wr is only used with spec.projSize`;
        throw new WeightError(`layer ${layer}: ${key} was given but ${why}; remove it`);
      }
      if (!(t instanceof Float32Array)) throw new WeightError(`layer ${layer}: ${key} must be a Float32Array, got ${Object.prototype.toString.call(t)}`);
      if (t.length !== want) {
        throw new WeightError(`layer ${layer}: ${key} ${SHAPES[key]} has ${t.length} floats, expected ${want} ` +
          `(D=${s.directions}, G=${s.gates}, H=${s.hiddenSize}, Hout=${s.outputSize}, I_${layer}=${layerInputSize(s, layer)})`);
      }
    }
  });
}
