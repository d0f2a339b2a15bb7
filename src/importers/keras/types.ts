// What flows between layers while a Layers model runs, and the interface every built layer has.
import { FormatError, WeightError } from '../../core/errors.js';
import type { WeightTensor } from './weights.js';

/**
 * A tensor on the CPU, row-major. `mask` (TF.js / Keras masking) has shape `shape[:-1]`, nonzero =
 * a valid step; null = no mask. Int32Array only for the model input (Embedding indices).
 */
export interface Value {
  data: Float32Array | Int32Array;
  shape: number[];
  mask: Uint8Array | null;
}

/** A shape known when loading: null where Keras leaves a dimension open (batch, often time). */
export type StaticShape = (number | null)[];

export interface BuiltLayer {
  /** One static shape per output tensor. */
  outputShapes: StaticShape[];
  run(input: Value): Value[] | Promise<Value[]>;
  destroy(): void;
}

export function asFloat32(data: Float32Array | Int32Array): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

export function numberField(cfg: Record<string, unknown>, key: string, layer: string, fallback?: number): number {
  const v = cfg[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new FormatError(`layer ${JSON.stringify(layer)}: ${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function positiveIntField(cfg: Record<string, unknown>, key: string, layer: string): number {
  const v = cfg[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
    throw new FormatError(`layer ${JSON.stringify(layer)}: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

export function boolField(cfg: Record<string, unknown>, key: string, layer: string, fallback: boolean): boolean {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean')
    throw new FormatError(`layer ${JSON.stringify(layer)}: ${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * One layer's weights, keyed by variable name ('kernel', 'bias', …), with 'forward/' or
 * 'backward/' in front for a Bidirectional's two halves. Manifest names are
 * `<layer>/[<wrapped layer>/][<cell>/]<variable>[:0]`; which writer made them (TF.js, Keras 2, Keras 3)
 * only changes the middle, so the layer prefix and the last segment identify a tensor.
 */
export class LayerWeightSet {
  private readonly byKey = new Map<string, WeightTensor>();

  constructor(
    all: Map<string, WeightTensor>,
    private readonly layer: string,
  ) {
    const prefix = `${layer}/`;
    for (const [name, t] of all) {
      if (!name.startsWith(prefix)) continue;
      const parts = name.slice(prefix.length).split('/');
      const variable = parts[parts.length - 1].replace(/:\d+$/, '');
      const middle = parts.slice(0, -1);
      const half = middle.some((p) => p.startsWith('forward'))
        ? 'forward/'
        : middle.some((p) => p.startsWith('backward'))
          ? 'backward/'
          : '';
      const key = half + variable;
      if (this.byKey.has(key))
        throw new FormatError(`layer ${JSON.stringify(layer)} has two weights named ${key} (${this.byKey.get(key)!.name}, ${name})`);
      this.byKey.set(key, t);
    }
  }

  /** The tensor `key`, which must have exactly `shape`. */
  get(key: string, shape: number[]): Float32Array {
    const t = this.byKey.get(key);
    if (!t) {
      const have = [...this.byKey.keys()];
      throw new WeightError(
        `layer ${JSON.stringify(this.layer)}: weight ${key} is missing from the manifest` +
          ` (it has ${have.length ? have.join(', ') : `no weights named ${this.layer}/…`})`,
      );
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new WeightError(
        `layer ${JSON.stringify(this.layer)}: weight ${t.name} has shape [${t.shape}], expected [${shape}] from the layer's config and input`,
      );
    }
    return t.data;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  shapeOf(key: string): number[] | undefined {
    return this.byKey.get(key)?.shape;
  }
}
