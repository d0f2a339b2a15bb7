// Keras / TF.js activation names, in two places: inside recurrent cells they must map onto an ONNX
// activation the GPU kernels run (name + alpha/beta); in Dense they run on the CPU.
import { UnsupportedError } from '../../core/errors.js';

/** An ONNX activation with its parameters (undefined = the function takes none). */
export interface OnnxActivation {
  name: string;
  alpha?: number;
  beta?: number;
}

/**
 * Keras writes snake_case ('hard_sigmoid'), TF.js registers camelCase ('hardSigmoid'); both are
 * accepted by folding case and underscores. null / absent is Keras's 'linear'.
 */
export function activationKey(v: unknown, layer: string, field: string): string {
  if (v === null || v === undefined) return 'linear';
  if (typeof v !== 'string')
    throw new UnsupportedError(`layer ${JSON.stringify(layer)}: ${field} ${JSON.stringify(v)?.slice(0, 80)} is not a named activation`);
  return v.replace(/_/g, '').toLowerCase();
}

/**
 * hard_sigmoid changed definition in Keras 3 (rnn-semantics.md §10): Keras 2 and TF.js use
 * clip(0.2·x + 0.5, 0, 1), Keras 3 clip(x/6 + 0.5, 0, 1). Both are ONNX HardSigmoid(α, 0.5).
 */
export function hardSigmoidAlpha(kerasMajor: 2 | 3): number {
  return kerasMajor === 3 ? 1 / 6 : 0.2;
}

/** The ONNX activation equal to a Keras one, or UnsupportedError naming the layer and the name. */
export function onnxActivation(v: unknown, kerasMajor: 2 | 3, layer: string, field: string): OnnxActivation {
  const key = activationKey(v, layer, field);
  switch (key) {
    case 'tanh':
      return { name: 'Tanh' };
    case 'sigmoid':
      return { name: 'Sigmoid' };
    case 'relu':
      return { name: 'Relu' };
    case 'softsign':
      return { name: 'Softsign' };
    case 'softplus':
      return { name: 'Softplus' };
    case 'elu':
      return { name: 'Elu', alpha: 1 };
    case 'linear':
      return { name: 'Affine', alpha: 1, beta: 0 };
    case 'hardsigmoid':
      return { name: 'HardSigmoid', alpha: hardSigmoidAlpha(kerasMajor), beta: 0.5 };
    default:
      throw new UnsupportedError(
        `layer ${JSON.stringify(layer)}: ${field} ${JSON.stringify(v)} has no ONNX equivalent the GPU kernels run ` +
          `(supported inside recurrent layers: tanh, sigmoid, hard_sigmoid, relu, linear, softsign, softplus, elu)`,
      );
  }
}

/** SELU's constants (Klambauer et al. 2017), as Keras defines them. */
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

const ELEMENTWISE: Record<string, (x: number, hsAlpha: number) => number> = {
  linear: (x) => x,
  relu: (x) => Math.max(0, x),
  relu6: (x) => Math.min(6, Math.max(0, x)),
  sigmoid,
  hardsigmoid: (x, a) => Math.min(1, Math.max(0, a * x + 0.5)),
  tanh: Math.tanh,
  elu: (x) => (x > 0 ? x : Math.expm1(x)),
  selu: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
  softplus,
  softsign: (x) => x / (1 + Math.abs(x)),
  swish: (x) => x * sigmoid(x),
  silu: (x) => x * sigmoid(x),
  mish: (x) => x * Math.tanh(softplus(x)),
  exponential: Math.exp,
};

/** Applies a Dense activation in place on rows of `width` (softmax and log_softmax work per row). */
export type CpuActivation = (data: Float64Array, width: number) => void;

export function cpuActivation(v: unknown, kerasMajor: 2 | 3, layer: string): CpuActivation {
  const key = activationKey(v, layer, 'activation');
  if (key === 'softmax' || key === 'logsoftmax') {
    const log = key === 'logsoftmax';
    return (data, width) => {
      for (let r = 0; r < data.length; r += width) {
        let max = -Infinity;
        for (let j = 0; j < width; j++) max = Math.max(max, data[r + j]);
        let sum = 0;
        for (let j = 0; j < width; j++) sum += Math.exp(data[r + j] - max);
        for (let j = 0; j < width; j++) data[r + j] = log ? data[r + j] - max - Math.log(sum) : Math.exp(data[r + j] - max) / sum;
      }
    };
  }
  const f = ELEMENTWISE[key];
  if (!f) {
    throw new UnsupportedError(
      `layer ${JSON.stringify(layer)}: activation ${JSON.stringify(v)} is not supported ` +
        `(supported: ${Object.keys(ELEMENTWISE).join(', ')}, softmax, log_softmax)`,
    );
  }
  const a = hardSigmoidAlpha(kerasMajor);
  return (data) => {
    for (let i = 0; i < data.length; i++) data[i] = f(data[i], a);
  };
}
