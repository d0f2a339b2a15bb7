// The public model description (RnnSpec, RnnWeights), its validation, and the resolved form the
// rest of the library works from. Weights use ONNX layouts and gate orders throughout
// (LSTM i,o,f,c; GRU z,r,h); importers map other frameworks onto them.
import { resolveActivations } from './activations.js';
import type { Direction, LayerWeights, Layout, ResolvedSpec, RnnSpec, RnnWeights } from './types.js';
import { CELL_TYPES, CELLS, type CellField } from './cells.js';
import type { CellType } from './types.js';
import { SpecError, WeightError } from '../core/errors.js';

/** Every field of RnnSpec: anything else in a spec is a SpecError naming it. */
const SPEC_FIELDS: readonly (keyof RnnSpec)[] = [
  'cell',
  'inputSize',
  'hiddenSize',
  'numLayers',
  'direction',
  'activations',
  'activationAlpha',
  'activationBeta',
  'clip',
  'inputForget',
  'linearBeforeReset',
  'layout',
  'projSize',
  'periods',
  'depthGated',
];

/** Fields people write that mean something else here. */
const FIELD_HINTS: Readonly<Record<string, string>> = {
  bidirectional: "use direction: 'bidirectional'",
  batchFirst: "use layout: 'batch-major'",
  batch_first: "use layout: 'batch-major'",
  hidden_size: 'use hiddenSize',
  input_size: 'use inputSize',
  num_layers: 'use numLayers',
  proj_size: 'use projSize',
  cellType: 'use cell',
  type: `use cell: ${CELL_TYPES.map((c) => `'${c}'`).join(' | ')}`,
  units: 'use hiddenSize',
};

/** `v` as a positive integer, else an error of class `E` (SpecError by default) that says what `name` must be. */
export function positiveInt(name: string, v: unknown, E: new (msg: string) => Error = SpecError): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new E(`${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!allowed.includes(v as T))
    throw new SpecError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

export function resolveSpec(spec: RnnSpec): ResolvedSpec {
  if (typeof spec !== 'object' || spec === null)
    throw new SpecError('spec must be an object such as { cell: "lstm", inputSize: 8, hiddenSize: 16 }');
  if (spec.cell === undefined) throw new SpecError(`spec.cell is required: ${CELL_TYPES.map((c) => `'${c}'`).join(', ')}`);
  for (const key of Object.keys(spec)) {
    if (SPEC_FIELDS.includes(key as keyof RnnSpec)) continue;
    const hint = FIELD_HINTS[key];
    throw new SpecError(`spec.${key} is not a spec field${hint ? ` (${hint})` : ''}; the fields are ${SPEC_FIELDS.join(', ')}`);
  }
  const cell = oneOf<CellType>('spec.cell', spec.cell, CELL_TYPES, CELL_TYPES[0]);
  const def = CELLS[cell];
  const inputSize = positiveInt('spec.inputSize', spec.inputSize);
  const hiddenSize = positiveInt('spec.hiddenSize', spec.hiddenSize);
  const numLayers = spec.numLayers === undefined ? 1 : positiveInt('spec.numLayers', spec.numLayers);
  const direction = oneOf<Direction>('spec.direction', spec.direction, ['forward', 'reverse', 'bidirectional'], 'forward');
  const layout = oneOf<Layout>('spec.layout', spec.layout, ['time-major', 'batch-major'], 'time-major');
  const directions = direction === 'bidirectional' ? 2 : 1;
  // A cell-specific field on another cell: say which cells take it.
  for (const field of ['inputForget', 'projSize', 'linearBeforeReset', 'periods', 'depthGated'] as const satisfies readonly CellField[]) {
    if (spec[field] === undefined || spec[field] === false || def.fields.includes(field)) continue;
    const owners = CELL_TYPES.filter((c) => CELLS[c].fields.includes(field))
      .map((c) => CELLS[c].label)
      .join(', ');
    throw new SpecError(`spec.${field} applies to ${owners} only; remove it for a ${def.label}`);
  }
  if (spec.projSize !== undefined) positiveInt('spec.projSize', spec.projSize);
  def.validate?.(spec, hiddenSize);
  if (spec.clip !== undefined && !(typeof spec.clip === 'number' && spec.clip > 0 && Number.isFinite(spec.clip))) {
    throw new SpecError(`spec.clip must be a positive finite number (or absent for no clipping), got ${String(spec.clip)}`);
  }
  const activations = resolveActivations(spec.activations, spec.activationAlpha, spec.activationBeta, directions, def.defaultActivations);
  return {
    cell,
    inputSize,
    hiddenSize,
    numLayers,
    direction,
    directions,
    activations,
    outputSize: spec.projSize ?? hiddenSize,
    gates: def.gates,
    clip: spec.clip,
    inputForget: !!spec.inputForget,
    linearBeforeReset: !!spec.linearBeforeReset,
    batchMajor: layout === 'batch-major',
    projected: spec.projSize !== undefined,
    periods: spec.periods ? [...spec.periods] : undefined,
    depthGated: !!spec.depthGated,
  };
}

/** I_k: the input width of layer k. */
export function layerInputSize(s: ResolvedSpec, layer: number): number {
  return layer === 0 ? s.inputSize : s.directions * s.outputSize;
}

/** Expected element counts of one layer's tensors; undefined = the tensor must be absent. */
export function expectedWeightLengths(s: ResolvedSpec, layer: number): Partial<Record<keyof LayerWeights, number>> {
  const { directions: D, gates: G, hiddenSize: H, outputSize: Hout } = s;
  const out: Partial<Record<keyof LayerWeights, number>> = {
    W: D * G * H * layerInputSize(s, layer),
    R: D * G * H * Hout,
    B: D * 2 * G * H,
  };
  for (const e of CELLS[s.cell].extraWeights) out[e.name] = e.length(s, layer);
  return out;
}

/** Every weight tensor any cell takes, with its layout. */
const WEIGHT_SHAPES: Record<keyof LayerWeights, string> = {
  W: '[D, G·H, I_k]',
  R: '[D, G·H, Hout]',
  B: '[D, 2·G·H]',
  P: '[D, 3·H]',
  Wr: '[D, Hout, H]',
  Wd: '[D, H, I_k]',
  Bd: '[D, H]',
  Pd: '[D, 2·H]',
};

export function validateWeights(s: ResolvedSpec, weights: RnnWeights): void {
  const fields = `{ ${Object.keys(WEIGHT_SHAPES)
    .map((k) => (k === 'W' || k === 'R' ? k : `${k}?`))
    .join(', ')} }`;
  if (!Array.isArray(weights)) throw new WeightError(`weights must be an array with one ${fields} entry per layer`);
  if (weights.length !== s.numLayers) {
    throw new WeightError(
      `weights: expected ${s.numLayers} layer entr${s.numLayers === 1 ? 'y' : 'ies'} (spec.numLayers), got ${weights.length}`,
    );
  }
  const extras = CELLS[s.cell].extraWeights;
  weights.forEach((w, layer) => {
    if (typeof w !== 'object' || w === null) throw new WeightError(`weights[${layer}] must be an object ${fields}`);
    for (const key of Object.keys(w)) {
      if (!(key in WEIGHT_SHAPES))
        throw new WeightError(`layer ${layer}: ${key} is not a weight tensor; the tensors are ${Object.keys(WEIGHT_SHAPES).join(', ')}`);
    }
    const expected = expectedWeightLengths(s, layer);
    for (const key of Object.keys(WEIGHT_SHAPES) as (keyof LayerWeights)[]) {
      const t = w[key];
      const want = expected[key];
      const extra = extras.find((e) => e.name === key);
      const required = key === 'W' || key === 'R' || (extra?.required(s, layer) ?? false);
      if (t === undefined) {
        if (required) throw new WeightError(`layer ${layer}: ${key} ${WEIGHT_SHAPES[key]} is missing (expected ${want} floats)`);
        continue;
      }
      if (want === undefined) {
        const why =
          extra?.absentWhy ??
          CELL_TYPES.map((c) => CELLS[c].extraWeights.find((e) => e.name === key)?.absentWhy).find(Boolean) ??
          'this model takes no such tensor';
        throw new WeightError(`layer ${layer}: ${key} was given but ${why}; remove it`);
      }
      if (!(t instanceof Float32Array))
        throw new WeightError(`layer ${layer}: ${key} must be a Float32Array, got ${Object.prototype.toString.call(t)}`);
      if (t.length !== want) {
        throw new WeightError(
          `layer ${layer}: ${key} ${WEIGHT_SHAPES[key]} has ${t.length} floats, expected ${want} ` +
            `(D=${s.directions}, G=${s.gates}, H=${s.hiddenSize}, Hout=${s.outputSize}, I_${layer}=${layerInputSize(s, layer)})`,
        );
      }
    }
  });
}
