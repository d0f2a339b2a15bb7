// The model's types: the public description of a model (RnnSpec, RnnWeights), its resolved form,
// and the vocabulary the layers above share (cells, kernel constants, weight precision). Types only,
// so that every module of model/ and above can use them without importing behaviour.
import type { ResolvedActivation } from './activations.js';

export type CellType = 'lstm' | 'gru' | 'rnn' | 'clockwork';
/** The cells of the ONNX operators (LSTM, GRU, RNN), which every importer maps onto. */
export type OnnxCellType = 'lstm' | 'gru' | 'rnn';

/** Override constants of one pipeline, by WGSL override name. */
export type Constants = Record<string, number | boolean>;

/** The storage type of the weight matrices (shaders/lib/precision_f32.wgsl / precision_f16.wgsl). */
export type Precision = 'f32' | 'f16';

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
  /**
   * Clockwork RNN: the period of each of the g modules (hiddenSize divisible by g); module i holds
   * units [i·H/g, (i+1)·H/g) and updates at the steps s with s mod periods[i] = 0.
   */
  periods?: number[];
  /**
   * Depth-Gated LSTM (numLayers >= 2, no projSize): layer k >= 1 adds d_t ⊙ c_t of layer k - 1 to
   * its cell, d_t = f(clip(Wd x_t + Bd + Pd[0] ⊙ c_{t-1} + Pd[1] ⊙ c_t^(k-1))); weights Wd, Bd?, Pd?.
   */
  depthGated?: boolean;
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
  /** Depth-Gated LSTM, layers >= 1: [D, H, I_k] depth-gate input weights. */
  Wd?: Float32Array;
  /** Depth-Gated LSTM, layers >= 1: [D, H] depth-gate bias; absent = zeros. */
  Bd?: Float32Array;
  /** Depth-Gated LSTM, layers >= 1: [D, 2, H] depth-gate peepholes (row 0 on the layer's own c_{t-1}, row 1 on the c_t below); absent = zeros. */
  Pd?: Float32Array;
}

export type RnnWeights = LayerWeights[];

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
  /** Clockwork RNN: each module's period; undefined for the other cells. */
  periods: number[] | undefined;
  /** Depth-Gated LSTM. */
  depthGated: boolean;
}
