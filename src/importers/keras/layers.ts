// The layers that run on the CPU: InputLayer, Embedding, Masking, Dense, Dropout. They are cheap
// next to the recurrent layers, and keeping them here leaves one GPU readback per recurrent stack.
import { FormatError, InputError, UnsupportedError } from '../../core/errors.js';
import { cpuActivation } from './activations.js';
import { batchShapeOf, type LayerNode } from './format.js';
import {
  asFloat32,
  boolField,
  numberField,
  positiveIntField,
  type BuiltLayer,
  type LayerWeightSet,
  type StaticShape,
  type Value,
} from './types.js';

/** The static shape an InputLayer declares, batch dimension included. */
export function inputLayerShape(node: LayerNode): StaticShape {
  const shape = batchShapeOf(node.config);
  if (!Array.isArray(shape) || shape.length < 2 || shape.length > 8) {
    throw new FormatError(
      `InputLayer ${JSON.stringify(node.name)}: batch_input_shape must be [batch, …] with 2 to 8 dimensions, got ${JSON.stringify(shape)?.slice(0, 80)}`,
    );
  }
  return shape.map((d, i) => {
    // The batch dimension stays open: predict() takes any batch size, as TF.js does for null.
    if (i === 0 || d === null) return null;
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d <= 0)
      throw new FormatError(
        `InputLayer ${JSON.stringify(node.name)}: dimension ${i} must be a positive integer or null, got ${JSON.stringify(d)}`,
      );
    return d;
  });
}

/** Passes its input through: InputLayer, and Dropout (inference does not drop). The mask passes too. */
export function identity(shape: StaticShape): BuiltLayer {
  return { outputShapes: [shape], run: (v) => [v], destroy: () => {} };
}

function lastDim(node: LayerNode, input: StaticShape, fromWeights: number | undefined): number {
  const d = input[input.length - 1] ?? fromWeights;
  if (typeof d !== 'number') throw new FormatError(`layer ${JSON.stringify(node.name)}: its input feature size is unknown`);
  return d;
}

function checkRuntimeWidth(node: LayerNode, v: Value, width: number): void {
  if (v.shape[v.shape.length - 1] !== width)
    throw new InputError(`layer ${JSON.stringify(node.name)} expects ${width} features on the last axis, got shape [${v.shape}]`);
}

/** Embedding: indices (truncated to integers, as TF.js casts to int32) → rows of the table. */
function embedding(node: LayerNode, input: StaticShape, weights: LayerWeightSet): BuiltLayer {
  const inputDim = positiveIntField(node.config, 'input_dim', node.name);
  const outputDim = positiveIntField(node.config, 'output_dim', node.name);
  const maskZero = boolField(node.config, 'mask_zero', node.name, false);
  const table = weights.get('embeddings', [inputDim, outputDim]);
  return {
    outputShapes: [[...input, outputDim]],
    run: (v) => {
      const out = new Float32Array(v.data.length * outputDim);
      for (let i = 0; i < v.data.length; i++) {
        const k = Math.trunc(v.data[i]);
        if (!(k >= 0 && k < inputDim))
          throw new InputError(`layer ${JSON.stringify(node.name)}: index ${v.data[i]} at position ${i} is outside [0, ${inputDim})`);
        out.set(table.subarray(k * outputDim, (k + 1) * outputDim), i * outputDim);
      }
      // mask_zero compares the raw input with 0 (TF.js: notEqual(inputs, 0)), before the cast.
      const mask = maskZero ? Uint8Array.from(v.data, (x) => (x !== 0 ? 1 : 0)) : null;
      return [{ data: out, shape: [...v.shape, outputDim], mask }];
    },
    destroy: () => {},
  };
}

/** Masking: a step is valid when any feature differs from mask_value; masked steps are zeroed. */
function masking(node: LayerNode, input: StaticShape): BuiltLayer {
  const maskValue = numberField(node.config, 'mask_value', node.name, 0);
  return {
    outputShapes: [input],
    run: (v) => {
      const width = v.shape[v.shape.length - 1];
      const x = asFloat32(v.data);
      const rows = width === 0 ? 0 : x.length / width;
      const mask = new Uint8Array(rows);
      const out = new Float32Array(x.length);
      for (let r = 0; r < rows; r++) {
        let valid = 0;
        for (let j = 0; j < width; j++) if (x[r * width + j] !== maskValue) valid = 1;
        mask[r] = valid;
        if (valid) out.set(x.subarray(r * width, (r + 1) * width), r * width);
      }
      return [{ data: out, shape: v.shape, mask }];
    },
    destroy: () => {},
  };
}

/** Dense on the last axis, in float64, then rounded once to float32. The mask passes through. */
function dense(node: LayerNode, input: StaticShape, weights: LayerWeightSet, kerasMajor: 2 | 3): BuiltLayer {
  const units = positiveIntField(node.config, 'units', node.name);
  const inDim = lastDim(node, input, weights.shapeOf('kernel')?.[0]);
  const kernel = weights.get('kernel', [inDim, units]);
  const bias = boolField(node.config, 'use_bias', node.name, true) ? weights.get('bias', [units]) : undefined;
  const activate = cpuActivation(node.config.activation, kerasMajor, node.name);
  return {
    outputShapes: [[...input.slice(0, -1), units]],
    run: (v) => {
      checkRuntimeWidth(node, v, inDim);
      const x = asFloat32(v.data);
      const rows = x.length / inDim;
      const acc = new Float64Array(rows * units);
      for (let r = 0; r < rows; r++) {
        for (let u = 0; u < units; u++) {
          let s = bias ? bias[u] : 0;
          for (let k = 0; k < inDim; k++) s += x[r * inDim + k] * kernel[k * units + u];
          acc[r * units + u] = s;
        }
      }
      activate(acc, units);
      return [{ data: Float32Array.from(acc), shape: [...v.shape.slice(0, -1), units], mask: v.mask }];
    },
    destroy: () => {},
  };
}

/** Builds a CPU layer; UnsupportedError names any class we do not run. */
export function buildCpuLayer(node: LayerNode, input: StaticShape, weights: LayerWeightSet, kerasMajor: 2 | 3): BuiltLayer {
  switch (node.className) {
    case 'Embedding':
      return embedding(node, input, weights);
    case 'Masking':
      return masking(node, input);
    case 'Dense':
      return dense(node, input, weights, kerasMajor);
    case 'Dropout':
      return identity(input);
    default:
      throw new UnsupportedError(
        `layer ${JSON.stringify(node.name)}: layer class ${node.className} is not supported ` +
          '(InputLayer, Embedding, Masking, Dense, Dropout, LSTM, GRU, SimpleRNN, Bidirectional are)',
      );
  }
}
