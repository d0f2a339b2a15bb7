// The cell registry: everything the library knows about each recurrent cell, in one table.
// model/spec.ts (gates, default activations, cell-specific fields and their checks, extra weights),
// plan/ (kernel names and override constants), model/pack.ts (gate lanes, recurrent mask, the
// peephole and Rb_h buffers), kernels/ (the cell's WGSL files, its stack-kernel code), run/ (the c
// state) and the importers read it through CELLS, a Record over
// CellType, so adding a cell is an entry here, its WGSL, its reference and its tests
// (ARCHITECTURE.md, "How to add a cell"); the compiler points at every table a new entry lacks.
import { SpecError } from '../core/errors.js';
import type { CellType, Constants, LayerWeights, ResolvedSpec, RnnSpec } from './types.js';

/** A weight tensor beyond W, R and B that a cell takes. */
export interface ExtraWeight {
  name: Exclude<keyof LayerWeights, 'W' | 'R' | 'B'>;
  /** Its layout, for messages. */
  shape: string;
  /** Its element count in layer `layer`, or undefined where the model takes no such tensor. */
  length(s: ResolvedSpec, layer: number): number | undefined;
  /** Whether it must be given (else zeros). */
  required(s: ResolvedSpec, layer: number): boolean;
  /** Why it is refused where length() is undefined. */
  absentWhy: string;
}

/** Spec fields that only some cells accept. */
export type CellField = 'inputForget' | 'projSize' | 'linearBeforeReset' | 'periods' | 'depthGated';

export interface CellDefinition {
  /** The name in messages. */
  label: string;
  /** Gate blocks of W, R and B, in ONNX order. */
  gates: number;
  /** ONNX activation list of one direction when the spec gives none. */
  defaultActivations: readonly string[];
  /** Whether the cell has a c state (Y_c, initialC). */
  cellState: boolean;
  /**
   * Whether the cell binds rbh [D, H], the recurrent bias of its last gate, which the input
   * projection cannot fold when spec.linearBeforeReset puts it inside r ⊙ (…) (the GRU's Rb_h).
   */
  recurrentBiasBuffer: boolean;
  /** Floats per (column, unit) of r_t: 4 (a unit's gates in one vec4) or 1. */
  recurrentLanes: 1 | 4;
  /**
   * The cell's WGSL files, after the shared prelude (step_common, step_matvec, cell_math,
   * cell_step): together they define every hook of CELL_HOOKS (kernels/sources.ts) and the cell's bindings.
   */
  shaders: readonly string[];
  /** The cell-specific spec fields it accepts. */
  fields: readonly CellField[];
  /** Checks of the cell's own spec fields (after the shared ones); throws SpecError. */
  validate?(spec: RnnSpec, hiddenSize: number): void;
  /**
   * Whether a step needs a whole first vector before its mat-vec (GRU without linear_before_reset:
   * r ⊙ h), which the per-step variants run as a kernel of its own (`firstPhase`).
   */
  twoPhase(s: ResolvedSpec): boolean;
  /** The first-phase kernels of the tiled and the barrier-free step, where twoPhase. */
  firstPhase?: { tiled: 'gru_reset'; direct: 'gru_direct_reset'; directQuad: 'gru_direct_reset_quad' };
  /** Override constants of the cell's step kernels; `twoPhase`: the first phase runs inside (sequence kernels). */
  constants(s: ResolvedSpec, twoPhase: boolean): Constants;
  /** Gate blocks of layer `layer`'s input projection (xproj), where more than `gates` (the depth gate). */
  projectionGates?(s: ResolvedSpec, layer: number): number;
  /**
   * The stack kernel's CELL code, where stack_step.wgsl implements the cell (emitted into the WGSL as
   * CELL_<NAME>, kernels/constants.ts); absent: the stack kernel does not run the cell.
   */
  stackCode?: number;
  /** Why the stack kernel cannot run this model of a cell it implements, or undefined when it can. */
  stackUnsupported?(s: ResolvedSpec): string | undefined;
  /** Weights beyond W, R and B. */
  extraWeights: readonly ExtraWeight[];
  /** R [D, G·H, Hout] as the kernels use it, where the cell ignores some of its entries (else R as given). */
  maskRecurrent?(s: ResolvedSpec, R: Float32Array): Float32Array;
  /** Read-only data the cell's WGSL binds by name, the same for every layer (uploaded once per model). */
  buffers?(s: ResolvedSpec): Record<string, Uint32Array>;
}

const PEEPHOLES: ExtraWeight = {
  name: 'P',
  shape: '[D, 3·H]',
  length: (s) => s.directions * 3 * s.hiddenSize,
  required: () => false,
  absentWhy: 'peepholes exist only for LSTM',
};
const PROJECTION: ExtraWeight = {
  name: 'Wr',
  shape: '[D, Hout, H]',
  length: (s) => (s.projected ? s.directions * s.outputSize * s.hiddenSize : undefined),
  required: (s) => s.projected,
  absentWhy: 'Wr is only used with spec.projSize',
};

/** The Depth-Gated LSTM's weights: on every layer above the first, none on the first. */
function depthGate(
  name: 'Wd' | 'Bd' | 'Pd',
  shape: string,
  perDirection: (s: ResolvedSpec, layer: number) => number,
  required: boolean,
): ExtraWeight {
  return {
    name,
    shape,
    length: (s, layer) => (s.depthGated && layer > 0 ? s.directions * perDirection(s, layer) : undefined),
    required: (s, layer) => required && s.depthGated && layer > 0,
    absentWhy: 'the depth gate exists only on layers above the first of a depthGated LSTM',
  };
}
const DEPTH_GATE: readonly ExtraWeight[] = [
  depthGate('Wd', '[D, H, I_k]', (s) => s.hiddenSize * s.directions * s.outputSize, true),
  depthGate('Bd', '[D, H]', (s) => s.hiddenSize, false),
  depthGate('Pd', '[D, 2·H]', (s) => 2 * s.hiddenSize, false),
];

/** Checks spec.depthGated of an LSTM: a stack of at least two layers, without projection. */
function validateDepthGated(spec: RnnSpec): void {
  if (!spec.depthGated) return;
  if ((spec.numLayers ?? 1) < 2) throw new SpecError('spec.depthGated links the cells of consecutive layers: it needs numLayers >= 2');
  if (spec.projSize !== undefined) {
    throw new SpecError(
      'spec.depthGated with spec.projSize is not supported (the depth gate reads the unprojected cell state); remove one',
    );
  }
}

/** Checks spec.periods of a Clockwork RNN: g >= 1 positive integers, with hiddenSize divisible by g. */
function validatePeriods(spec: RnnSpec, hiddenSize: number): void {
  const p = spec.periods;
  if (!Array.isArray(p) || p.length === 0) {
    throw new SpecError('spec.periods is required for a clockwork cell: one positive integer period per module, e.g. [1, 2, 4, 8]');
  }
  p.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
      throw new SpecError(`spec.periods[${i}] must be a positive integer, got ${String(v)}`);
  });
  if (hiddenSize % p.length !== 0) {
    throw new SpecError(
      `spec.hiddenSize (${hiddenSize}) must be divisible by the number of modules (spec.periods has ${p.length} entries): ` +
        `each module has hiddenSize / ${p.length} units`,
    );
  }
}

const RNN_FAMILY = {
  gates: 1,
  defaultActivations: ['Tanh'],
  cellState: false,
  recurrentBiasBuffer: false,
  recurrentLanes: 1,
  twoPhase: () => false,
  constants: () => ({}),
  extraWeights: [],
} as const;

export const CELLS: Readonly<Record<CellType, CellDefinition>> = {
  lstm: {
    label: 'LSTM',
    gates: 4,
    defaultActivations: ['Sigmoid', 'Tanh', 'Tanh'],
    cellState: true,
    recurrentBiasBuffer: false,
    recurrentLanes: 4,
    shaders: ['cells/lstm_step.wgsl'],
    fields: ['inputForget', 'projSize', 'depthGated'],
    validate: validateDepthGated,
    twoPhase: () => false,
    constants: (s) => ({ INPUT_FORGET: s.inputForget, PROJECTED: s.projected, DEPTH_GATED: s.depthGated }),
    projectionGates: (s, layer) => (s.depthGated && layer > 0 ? 5 : 4),
    stackCode: 1,
    stackUnsupported: (s) => (s.depthGated ? 'the Depth-Gated LSTM is not implemented in the stack kernel yet' : undefined),
    extraWeights: [PEEPHOLES, PROJECTION, ...DEPTH_GATE],
  },
  gru: {
    label: 'GRU',
    gates: 3,
    defaultActivations: ['Sigmoid', 'Tanh'],
    cellState: false,
    recurrentBiasBuffer: true,
    recurrentLanes: 4,
    shaders: ['cells/gru_step.wgsl'],
    fields: ['linearBeforeReset'],
    twoPhase: (s) => !s.linearBeforeReset,
    firstPhase: { tiled: 'gru_reset', direct: 'gru_direct_reset', directQuad: 'gru_direct_reset_quad' },
    constants: (s, twoPhase) => ({ LINEAR_BEFORE_RESET: s.linearBeforeReset, TWO_PHASE: twoPhase }),
    stackCode: 2,
    extraWeights: [],
  },
  rnn: {
    ...RNN_FAMILY,
    label: 'RNN',
    shaders: ['cells/rnn_step.wgsl', 'cells/rnn_every_step.wgsl'],
    fields: [],
    stackCode: 0,
  },
  clockwork: {
    ...RNN_FAMILY,
    label: 'Clockwork RNN',
    shaders: ['cells/rnn_step.wgsl', 'cells/clockwork.wgsl'],
    fields: ['periods'],
    validate: validatePeriods,
    maskRecurrent: (s, R) => maskSlowerToFaster(R, s.periods!, s.directions, s.hiddenSize),
    buffers: (s) => ({ unit_period: unitPeriods(s.periods!, s.hiddenSize) }),
  },
};

export const CELL_TYPES = Object.keys(CELLS) as CellType[];

/** Whether the cell takes the weight tensor `name` (W, R, B: every cell; the rest: its extraWeights). */
export function cellTakes(cell: CellType, name: keyof LayerWeights): boolean {
  return name === 'W' || name === 'R' || name === 'B' || CELLS[cell].extraWeights.some((e) => e.name === name);
}

/** Whether the model's cell has a c state (Y_c, initialC): the registry's cellState. */
export function hasCellState(s: Pick<ResolvedSpec, 'cell'>): boolean {
  return CELLS[s.cell].cellState;
}

/**
 * Clockwork RNN: R [D, H, H] with the entries R[u, v] from a unit v of a faster module (shorter
 * period) into a unit u of a slower one zeroed; unit u reads only modules of equal or longer period.
 */
export function maskSlowerToFaster(R: Float32Array, periods: readonly number[], D: number, H: number): Float32Array {
  const p = unitPeriods(periods, H);
  const out = R.slice();
  for (let d = 0; d < D; d++) {
    for (let u = 0; u < H; u++) {
      for (let v = 0; v < H; v++) if (p[v] < p[u]) out[(d * H + u) * H + v] = 0;
    }
  }
  return out;
}

/** Per hidden unit, the period of its module (Clockwork RNN: module i holds units [i·H/g, (i+1)·H/g)). */
export function unitPeriods(periods: readonly number[], hiddenSize: number): Uint32Array {
  const size = hiddenSize / periods.length;
  return Uint32Array.from({ length: hiddenSize }, (_, u) => periods[Math.floor(u / size)]);
}
