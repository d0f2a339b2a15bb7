// The eleven ONNX recurrent activation functions, and how their alpha/beta are read.
//
// Codes are the values of the ACT_* constants in shaders/lib/step_common.wgsl (test/unit/shaders.test.ts
// checks that the two tables agree). Parameters follow ONNX Runtime's reading
// (../shared/reference/rnn-semantics.md §4 and §5.3): activation_alpha and activation_beta are
// consumed in order, each only by the activations that take that parameter, and when a list runs
// out ORT's fallbacks apply (0 for Affine, ThresholdedRelu and ScaledTanh).
import { SpecError } from '../core/errors.js';

interface ActivationInfo {
  code: number;
  /** Fallback alpha when activationAlpha runs out; undefined = the function takes no alpha. */
  alpha?: number;
  /** Fallback beta when activationBeta runs out; undefined = the function takes no beta. */
  beta?: number;
}

/** Keyed by the lower-cased ONNX name (ONNX Runtime matches names case-insensitively). */
export const ACTIVATIONS: Readonly<Record<string, ActivationInfo>> = {
  relu: { code: 0 },
  tanh: { code: 1 },
  sigmoid: { code: 2 },
  affine: { code: 3, alpha: 0, beta: 0 },
  leakyrelu: { code: 4, alpha: 0.01 },
  thresholdedrelu: { code: 5, alpha: 0 },
  scaledtanh: { code: 6, alpha: 0, beta: 0 },
  hardsigmoid: { code: 7, alpha: 0.2, beta: 0.5 },
  elu: { code: 8, alpha: 1 },
  softsign: { code: 9 },
  softplus: { code: 10 },
};

export const ACTIVATION_NAMES = [
  'Relu',
  'Tanh',
  'Sigmoid',
  'Affine',
  'LeakyRelu',
  'ThresholdedRelu',
  'ScaledTanh',
  'HardSigmoid',
  'Elu',
  'Softsign',
  'Softplus',
] as const;

export interface ResolvedActivation {
  name: string;
  code: number;
  alpha: number;
  beta: number;
}

/**
 * Resolves the activation list of all directions (ONNX order: direction 0's f, g, h, then direction 1's).
 * `perDirection` is 3 for LSTM, 2 for GRU, 1 for RNN; `defaults` the ONNX defaults for one direction.
 * A bidirectional spec may give one direction's names; ONNX Runtime then uses them for both.
 */
export function resolveActivations(
  names: readonly string[] | undefined,
  alphas: readonly number[] | undefined,
  betas: readonly number[] | undefined,
  directions: number,
  defaults: readonly string[],
): ResolvedActivation[] {
  const perDirection = defaults.length;
  let list = names && names.length > 0 ? [...names] : Array.from({ length: directions }, () => defaults).flat();
  if (directions === 2 && list.length === perDirection) list = [...list, ...list];
  if (list.length !== perDirection * directions) {
    throw new SpecError(
      `activations: expected ${perDirection * directions} names (${perDirection} per direction × ` +
        `${directions} direction${directions > 1 ? 's' : ''}, e.g. ${JSON.stringify(Array.from({ length: directions }, () => defaults).flat())}), got ${list.length}`,
    );
  }
  let ai = 0;
  let bi = 0;
  return list.map((name, slot) => {
    const info = typeof name === 'string' ? ACTIVATIONS[name.toLowerCase()] : undefined;
    if (!info) {
      throw new SpecError(`activations[${slot}]: unknown activation ${JSON.stringify(name)}; use one of ${ACTIVATION_NAMES.join(', ')}`);
    }
    const alpha = info.alpha === undefined ? 0 : alphas && ai < alphas.length ? alphas[ai++] : info.alpha;
    const beta = info.beta === undefined ? 0 : betas && bi < betas.length ? betas[bi++] : info.beta;
    if (!Number.isFinite(alpha) || !Number.isFinite(beta)) {
      throw new SpecError(`activations[${slot}] (${name}): alpha and beta must be finite numbers, got ${alpha}, ${beta}`);
    }
    return { name, code: info.code, alpha, beta };
  });
}
