// Keras / TF.js LSTM, GRU, SimpleRNN and Bidirectional layers: their configs and weights mapped onto
// the engine's RnnSpec and ONNX-layout weights (rnn-semantics.md §7-10, §13-14: Keras kernels are [in, out] with LSTM
// blocks i,f,c,o and GRU z,r,h; a reset_after GRU is linear_before_reset = 1 with a (2, 3H) bias [Wb, Rb], otherwise
// lbr 0 with Rb = 0; hard_sigmoid is clip(0.2·x + 0.5, 0, 1) before Keras 3 and clip(x/6 + 0.5, 0, 1) from it;
// Bidirectional merges (concat, sum, mul, ave or None) the backward output after reversing it back in time; a masked
// step copies the previous output and state), and the outputs of a run mapped back onto what the Keras layer returns.
import { FormatError, InputError, UnsupportedError } from '../../core/errors.js';
import type { Rnn } from '../../run/api.js';
import { createRnn } from '../../run/create.js';
import { CELLS, hasCellState } from '../../model/cells.js';
import type { OnnxCellType } from '../../model/types.js';
import type { LayerWeights, RnnSpec } from '../../model/types.js';
import { GATE_PERM, permuteGateBlocks, transpose2d } from '../gates.js';
import { concatFloat32 } from '../../core/numbers.js';
import { onnxActivation, type OnnxActivation } from './activations.js';
import { isObject, type LayerNode } from './format.js';
import { asFloat32, boolField, type LayerWeightSet, positiveIntField, type BuiltLayer, type StaticShape, type Value } from './types.js';

export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | null;

/** One Keras recurrent layer (a Bidirectional counts as one), already in ONNX terms. */
export interface RecurrentLayer {
  name: string;
  cell: OnnxCellType;
  units: number;
  inputSize: number;
  directions: 1 | 2;
  /** Bidirectional only; null = Keras merge_mode None (two outputs). */
  mergeMode: MergeMode;
  goBackwards: boolean;
  returnSequences: boolean;
  returnState: boolean;
  /** GRU reset_after (= ONNX linear_before_reset). */
  resetAfter: boolean;
  /** One direction's activations in ONNX slot order (LSTM f, g, h; GRU f, g; RNN f). */
  activations: OnnxActivation[];
  weights: LayerWeights;
  /** Time steps when the model fixes them (for the static output shape). */
  timeSteps: number | null;
}

/** A Keras recurrent layer class: the engine cell it maps onto, its gate order, and what its config holds. */
interface KerasRecurrentClass {
  cell: OnnxCellType;
  /** Keras's gate blocks onto ONNX's order (LSTM i, f, c, o; GRU z, r, h is already ONNX's). */
  perm: readonly number[];
  /** Whether the config has a recurrent_activation (SimpleRNN has its activation only). */
  recurrentActivation: boolean;
  /** The ONNX activation list of one direction from the recurrent activation and the activation. */
  activations(rec: OnnxActivation, act: OnnxActivation): OnnxActivation[];
  /** Whether the config has reset_after (GRU). */
  resetAfter: boolean;
}

/** The Keras recurrent layer classes by their class names. */
const KERAS_CLASSES: Readonly<Record<string, KerasRecurrentClass>> = {
  LSTM: {
    cell: 'lstm',
    perm: GATE_PERM.kerasLstm,
    recurrentActivation: true,
    activations: (rec, act) => [rec, act, act],
    resetAfter: false,
  },
  GRU: { cell: 'gru', perm: GATE_PERM.identity3, recurrentActivation: true, activations: (rec, act) => [rec, act], resetAfter: true },
  SimpleRNN: { cell: 'rnn', perm: GATE_PERM.identity1, recurrentActivation: false, activations: (_, act) => [act], resetAfter: false },
};

export function isRecurrentClass(className: string): boolean {
  return Object.hasOwn(KERAS_CLASSES, className) || className === 'Bidirectional';
}

/** Reads a LSTM / GRU / SimpleRNN / Bidirectional node; `input` is its static input shape. */
export function parseRecurrent(node: LayerNode, input: StaticShape, weights: LayerWeightSet, kerasMajor: 2 | 3): RecurrentLayer {
  if (input.length !== 3)
    throw new FormatError(
      `layer ${JSON.stringify(node.name)} (${node.className}) needs a [batch, time, features] input, got rank ${input.length}`,
    );
  let className = node.className;
  let cfg = node.config;
  let directions: 1 | 2 = 1;
  let mergeMode: MergeMode = null;
  if (className === 'Bidirectional') {
    if (node.config.backward_layer !== undefined && node.config.backward_layer !== null) {
      throw new UnsupportedError(`layer ${JSON.stringify(node.name)}: Bidirectional with a separate backward_layer is not supported`);
    }
    const inner = node.config.layer;
    if (!isObject(inner) || typeof inner.class_name !== 'string' || !isObject(inner.config)) {
      throw new FormatError(`layer ${JSON.stringify(node.name)}: Bidirectional config.layer must be { class_name, config }`);
    }
    className = inner.class_name;
    cfg = inner.config;
    directions = 2;
    mergeMode = parseMergeMode(node.config.merge_mode, node.name);
  }
  const kind = Object.hasOwn(KERAS_CLASSES, className) ? KERAS_CLASSES[className] : undefined;
  if (!kind)
    throw new UnsupportedError(
      `layer ${JSON.stringify(node.name)}: recurrent layer ${className} is not supported (LSTM, GRU, SimpleRNN, Bidirectional are)`,
    );
  const name = node.name;
  const cell = kind.cell;
  const units = positiveIntField(cfg, 'units', name);
  const goBackwards = boolField(cfg, 'go_backwards', name, false);
  if (boolField(cfg, 'stateful', name, false))
    throw new UnsupportedError(
      `layer ${JSON.stringify(name)}: stateful recurrent layers are not supported (predict starts from zero states)`,
    );
  if (boolField(cfg, 'time_major', name, false))
    throw new UnsupportedError(`layer ${JSON.stringify(name)}: time_major = true is not supported`);
  if (directions === 2 && goBackwards)
    throw new UnsupportedError(`layer ${JSON.stringify(name)}: a Bidirectional around a go_backwards layer is not supported`);
  // Keras 3 and Keras ≥ 2.3 default GRU reset_after to true, TF.js (which always writes it) to false.
  const resetAfter = kind.resetAfter && boolField(cfg, 'reset_after', name, kerasMajor === 3);
  const act = onnxActivation(cfg.activation === undefined ? 'tanh' : cfg.activation, kerasMajor, name, 'activation');
  const recurrentDefault = kerasMajor === 3 ? 'sigmoid' : 'hard_sigmoid';
  const rec = kind.recurrentActivation
    ? onnxActivation(
        cfg.recurrent_activation === undefined ? recurrentDefault : cfg.recurrent_activation,
        kerasMajor,
        name,
        'recurrent_activation',
      )
    : act;
  const activations = kind.activations(rec, act);

  // The input width comes from the model's shapes, or from the kernel where the model leaves it open.
  const halves = directions === 2 ? ['forward/', 'backward/'] : [''];
  const inputSize = input[2] ?? weights.shapeOf(`${halves[0]}kernel`)?.[0];
  if (typeof inputSize !== 'number' || inputSize <= 0)
    throw new FormatError(`layer ${JSON.stringify(name)}: its input feature size is unknown`);
  const useBias = boolField(cfg, 'use_bias', name, true);
  const perDirection = halves.map((h) => directionWeights(weights, h, kind, units, inputSize, useBias, resetAfter));
  return {
    name,
    cell,
    units,
    inputSize,
    directions,
    mergeMode,
    goBackwards,
    resetAfter,
    activations,
    returnSequences: boolField(cfg, 'return_sequences', name, false),
    returnState: boolField(cfg, 'return_state', name, false),
    weights: {
      W: concatFloat32(perDirection.map((w) => w.W)),
      R: concatFloat32(perDirection.map((w) => w.R)),
      B: useBias ? concatFloat32(perDirection.map((w) => w.B!)) : undefined,
    },
    timeSteps: input[1],
  };
}

function parseMergeMode(v: unknown, layer: string): MergeMode {
  if (v === null) return null;
  if (v === undefined) return 'concat';
  if (v === 'concat' || v === 'sum' || v === 'mul' || v === 'ave') return v;
  throw new UnsupportedError(
    `layer ${JSON.stringify(layer)}: merge_mode ${JSON.stringify(v)} is not supported (concat, sum, mul, ave, None are)`,
  );
}

/** One direction: Keras [in, out] kernels in Keras gate order → ONNX W [G·H, I], R [G·H, H], B [2·G·H]. */
function directionWeights(
  ws: LayerWeightSet,
  half: string,
  kind: KerasRecurrentClass,
  H: number,
  I: number,
  useBias: boolean,
  resetAfter: boolean,
): LayerWeights {
  const G = CELLS[kind.cell].gates;
  const perm = kind.perm;
  const kernel = ws.get(`${half}kernel`, [I, G * H]);
  const recurrent = ws.get(`${half}recurrent_kernel`, [H, G * H]);
  const W = permuteGateBlocks(transpose2d(kernel, I, G * H), H, I, perm);
  const R = permuteGateBlocks(transpose2d(recurrent, H, G * H), H, H, perm);
  if (!useBias) return { W, R };
  let B: Float32Array;
  if (resetAfter) {
    // Keras reset_after bias is (2, 3H): row 0 input bias, row 1 recurrent bias (§9) = ONNX [Wb, Rb].
    B = ws.get(`${half}bias`, [2, G * H]).slice();
  } else {
    // One bias, all of it on the input side: Keras adds it once per gate, like ONNX Wb with Rb = 0.
    B = concatFloat32([permuteGateBlocks(ws.get(`${half}bias`, [G * H]), H, 1, perm), new Float32Array(G * H)]);
  }
  return { W, R, B };
}

function sameActivations(a: OnnxActivation[], b: OnnxActivation[]): boolean {
  return a.length === b.length && a.every((x, i) => x.name === b[i].name && x.alpha === b[i].alpha && x.beta === b[i].beta);
}

/**
 * Whether `next` can run as the layer above `prev` inside one stacked createRnn: the engine feeds
 * layer k+1 the [T, B, D·H] sequence (directions concatenated, forward first, original time
 * order) and shares cell, size, direction and activations across layers. go_backwards layers are
 * never stacked: Keras hands their output on in reversed time order, the engine does not.
 */
export function canStack(prev: RecurrentLayer, next: RecurrentLayer): boolean {
  return (
    prev.returnSequences &&
    !prev.returnState &&
    !prev.goBackwards &&
    !next.goBackwards &&
    (prev.directions === 1 || prev.mergeMode === 'concat') &&
    prev.cell === next.cell &&
    prev.units === next.units &&
    prev.directions === next.directions &&
    prev.resetAfter === next.resetAfter &&
    sameActivations(prev.activations, next.activations) &&
    next.inputSize === prev.directions * prev.units
  );
}

/** Flattens per-slot activations into RnnSpec's activations / activationAlpha / activationBeta. */
function specActivations(acts: OnnxActivation[]): Pick<RnnSpec, 'activations' | 'activationAlpha' | 'activationBeta'> {
  return {
    activations: acts.map((a) => a.name),
    activationAlpha: acts.flatMap((a) => (a.alpha === undefined ? [] : [a.alpha])),
    activationBeta: acts.flatMap((a) => (a.beta === undefined ? [] : [a.beta])),
  };
}

/** What the Keras layer returns: its output (two for merge_mode None), then its states if return_state. */
export function recurrentOutputShapes(l: RecurrentLayer): StaticShape[] {
  const { units: H, directions: D, mergeMode, returnSequences, returnState, timeSteps } = l;
  const width = D === 2 && mergeMode === 'concat' ? 2 * H : H;
  const main: StaticShape = returnSequences ? [null, timeSteps, width] : [null, width];
  const mains = D === 2 && mergeMode === null ? [main, main] : [main];
  // LSTM states are h, c per direction (forward first); GRU and SimpleRNN have h only.
  const states = returnState ? Array.from({ length: D * (hasCellState(l) ? 2 : 1) }, (): StaticShape => [null, H]) : [];
  return [...mains, ...states];
}

/** Builds one createRnn for a stack of compatible layers (see canStack); outputs are the last layer's. */
export async function buildRecurrentStack(device: GPUDevice, stack: RecurrentLayer[]): Promise<BuiltLayer> {
  const first = stack[0];
  const last = stack[stack.length - 1];
  const D = first.directions;
  const spec: RnnSpec = {
    cell: first.cell,
    inputSize: first.inputSize,
    hiddenSize: first.units,
    numLayers: stack.length,
    direction: D === 2 ? 'bidirectional' : first.goBackwards ? 'reverse' : 'forward',
    ...specActivations(Array.from({ length: D }, () => first.activations).flat()),
    linearBeforeReset: CELLS[first.cell].fields.includes('linearBeforeReset') ? first.resetAfter : undefined,
    layout: 'batch-major',
  };
  const rnn = await createRnn(
    device,
    spec,
    stack.map((l) => l.weights),
  );
  return new RecurrentStack(rnn, last, stack.length, first.inputSize);
}

class RecurrentStack implements BuiltLayer {
  readonly outputShapes: StaticShape[];

  constructor(
    private readonly rnn: Rnn,
    private readonly last: RecurrentLayer,
    private readonly numLayers: number,
    private readonly inputSize: number,
  ) {
    this.outputShapes = recurrentOutputShapes(last);
  }

  async run(input: Value): Promise<Value[]> {
    if (input.shape.length !== 3 || input.shape[2] !== this.inputSize) {
      throw new InputError(`layer ${JSON.stringify(this.last.name)} expects [batch, time, ${this.inputSize}], got [${input.shape}]`);
    }
    const [B, T] = input.shape;
    const r = await this.rnn.run(asFloat32(input.data), { seqLen: T, batch: B, mask: input.mask ?? undefined });
    const { units: H, directions: D, mergeMode, returnSequences, returnState, goBackwards } = this.last;
    const LD = this.numLayers * D;
    // Y is [B, T, D, H]; Y_h and Y_c are [B, L·D, H]: the last layer's direction d sits at (L−1)·D + d.
    const sequence = (d: number): Float32Array => {
      const out = new Float32Array(B * T * H);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          // A go_backwards layer returns its outputs in processing order: time T−1 first.
          const src = goBackwards ? T - 1 - t : t;
          out.set(r.Y.subarray(((b * T + src) * D + d) * H, ((b * T + src) * D + d + 1) * H), (b * T + t) * H);
        }
      }
      return out;
    };
    const state = (s: Float32Array, d: number): Float32Array => {
      const out = new Float32Array(B * H);
      for (let b = 0; b < B; b++) out.set(s.subarray((b * LD + LD - D + d) * H, (b * LD + LD - D + d + 1) * H), b * H);
      return out;
    };
    const lead = returnSequences ? [B, T] : [B];
    const outMask = returnSequences ? input.mask : null;
    // The output of a recurrent layer at its last step is its h state, masked steps included.
    const perDirection = (d: number) => (returnSequences ? sequence(d) : state(r.Y_h, d));
    const outputs: Value[] = [];
    if (D === 1) {
      outputs.push({ data: perDirection(0), shape: [...lead, H], mask: outMask });
    } else if (mergeMode === 'concat' && returnSequences) {
      outputs.push({ data: r.Y, shape: [B, T, 2 * H], mask: outMask });
    } else if (mergeMode === null) {
      outputs.push(
        { data: perDirection(0), shape: [...lead, H], mask: outMask },
        { data: perDirection(1), shape: [...lead, H], mask: outMask },
      );
    } else {
      outputs.push({
        data: merge(mergeMode, perDirection(0), perDirection(1), H),
        shape: [...lead, mergeMode === 'concat' ? 2 * H : H],
        mask: outMask,
      });
    }
    if (returnState) {
      for (let d = 0; d < D; d++) {
        outputs.push({ data: state(r.Y_h, d), shape: [B, H], mask: null });
        if (r.Y_c) outputs.push({ data: state(r.Y_c, d), shape: [B, H], mask: null });
      }
    }
    return outputs;
  }

  destroy(): void {
    this.rnn.destroy();
  }
}

/** Keras Bidirectional merge of two [rows, H] tensors (the backward one already in time order). */
function merge(mode: Exclude<MergeMode, null>, f: Float32Array, b: Float32Array, H: number): Float32Array {
  if (mode === 'concat') {
    const out = new Float32Array(f.length * 2);
    for (let r = 0; r < f.length / H; r++) {
      out.set(f.subarray(r * H, (r + 1) * H), 2 * r * H);
      out.set(b.subarray(r * H, (r + 1) * H), (2 * r + 1) * H);
    }
    return out;
  }
  const op =
    mode === 'sum'
      ? (x: number, y: number) => x + y
      : mode === 'mul'
        ? (x: number, y: number) => x * y
        : (x: number, y: number) => 0.5 * (x + y);
  return f.map((x, i) => op(x, b[i]));
}
