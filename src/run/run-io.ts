// A run's inputs, checked and laid out: options and x validated against the spec and the device's
// limits (every error an InputError or DeviceLimitError that says what to fix, before any GPU work),
// and the layout transposes of states between run()'s layouts ([L·D, B, w] or batch-major
// [B, L·D, w]) and the kernels' per-layer [D, B, w] or the packed stream/stack state. Pure
// functions of the spec and the device's limits.
import { AbortError, InputError } from '../core/errors.js';
import type { DeviceCaps } from '../gpu/adapter.js';
import { Usage } from '../gpu/helpers.js';
import { CELL_TYPES, CELLS, hasCellState } from '../model/cells.js';
import { positiveInt } from '../model/spec.js';
import type { ResolvedSpec } from '../model/types.js';
import { packedStateLayout } from '../plan/layout.js';
import { checkRunLimits } from '../plan/limits.js';
import { segmentSteps } from '../plan/segments.js';
import type { EncodeIO, RunOptions } from './api.js';
import type { ResidentState } from './stream.js';

/** A validated run: run(), a stream's step, or encode(). */
export interface RunRequest {
  x: Float32Array | GPUBuffer;
  output: 'cpu' | 'gpu';
  /** A stream's state on the GPU: read as the initial state and left there as the final one (only Y is read back). */
  resident?: ResidentState;
  /** Steps the stream processed in earlier calls (0 for run()). */
  step0?: number;
  /** encode(): initial states in GPU buffers (run()'s layouts; absent = zeros). */
  gpuInitial?: { h?: GPUBuffer; c?: GPUBuffer };
  seqLen: number;
  batch: number;
  lens: Uint32Array;
  /** run()'s options.signal: checked before the run starts and between its command buffers. */
  signal?: AbortSignal;
  /** [T, B] step mask (MASKED kernels), or undefined for lengths. */
  mask?: Uint32Array;
  initialH?: Float32Array;
  initialC?: Float32Array;
}

export function isGpuBuffer(x: unknown): x is GPUBuffer {
  return (
    typeof x === 'object' && x !== null && typeof (x as GPUBuffer).mapAsync === 'function' && typeof (x as GPUBuffer).usage === 'number'
  );
}

/** A positive integer option or argument, else an InputError (spec fields are checked in model/spec.ts, as SpecErrors). */
export function positiveArg(name: string, v: unknown): number {
  return positiveInt(name, v, InputError);
}

/**
 * run()'s and a stream step's request, checked (`splittable`: whether the run may be split over
 * seqLen where it does not fit the device's limits in one piece; encode() may not).
 */
export function validateRun(s: ResolvedSpec, caps: DeviceCaps, x: Float32Array | GPUBuffer, o: RunOptions, splittable = true): RunRequest {
  if (typeof o !== 'object' || o === null) throw new InputError('run(x, options): options { seqLen, batch } are required');
  const T = positiveArg('options.seqLen', o.seqLen);
  const B = positiveArg('options.batch', o.batch);
  const { hiddenSize: H, outputSize: Hout, inputSize: I } = s;
  const layout = s.batchMajor ? '[B, T, I]' : '[T, B, I]';
  if (isGpuBuffer(x)) {
    if (!(x.usage & Usage.STORAGE))
      throw new InputError('x is a GPUBuffer without STORAGE usage: create it with GPUBufferUsage.STORAGE (the kernels read it in place)');
    if (x.size < T * B * I * 4)
      throw new InputError(
        `x is a GPUBuffer of ${x.size} bytes, expected at least seqLen·batch·inputSize·4 = ${T * B * I * 4} (f32 ${layout})`,
      );
  } else {
    if (!(x instanceof Float32Array))
      throw new InputError(`x must be a Float32Array ${layout} or a GPUBuffer, got ${Object.prototype.toString.call(x)}`);
    if (x.length !== T * B * I)
      throw new InputError(`x has ${x.length} floats, expected seqLen·batch·inputSize = ${T}·${B}·${I} = ${T * B * I} (${layout})`);
  }
  const output = o.output ?? 'cpu';
  if (output !== 'cpu' && output !== 'gpu') throw new InputError(`options.output must be 'cpu' or 'gpu', got ${JSON.stringify(output)}`);
  const lens = new Uint32Array(B).fill(T);
  if (o.sequenceLens !== undefined) {
    const sl = o.sequenceLens;
    if (!(sl instanceof Int32Array)) throw new InputError('options.sequenceLens must be an Int32Array of length batch');
    if (sl.length !== B) throw new InputError(`options.sequenceLens has ${sl.length} entries, expected batch = ${B}`);
    sl.forEach((len, b) => {
      if (len < 0 || len > T) throw new InputError(`options.sequenceLens[${b}] = ${len} is outside [0, seqLen = ${T}]`);
      lens[b] = len;
    });
  }
  const state = (name: string, v: Float32Array | undefined, width: number) => checkInitial(s, name, v, width, B);
  let mask: Uint32Array | undefined;
  if (o.mask !== undefined) {
    if (o.sequenceLens !== undefined)
      throw new InputError('options.mask and options.sequenceLens exclude each other: masks follow TF.js, lengths follow ONNX; give one');
    if (!(o.mask instanceof Uint8Array)) throw new InputError(`options.mask must be a Uint8Array ${s.batchMajor ? '[B, T]' : '[T, B]'}`);
    if (o.mask.length !== T * B) throw new InputError(`options.mask has ${o.mask.length} entries, expected seqLen·batch = ${T * B}`);
    mask = new Uint32Array(T * B);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) mask[t * B + b] = o.mask[s.batchMajor ? b * T + t : t * B + b] ? 1 : 0;
  }
  state('initialH', o.initialH, Hout);
  checkCellStateGiven(s, 'options.initialC', o.initialC);
  state('initialC', o.initialC, H);
  checkRunLimits(s, caps, T, B, splittable);
  const segment = splittable ? segmentSteps(s, caps, T, B) : T;
  if (segment < T && isGpuBuffer(x) && !(x.usage & Usage.COPY_SRC)) {
    throw new InputError(
      `x is a GPUBuffer without COPY_SRC usage: a run of seqLen ${T} runs in segments of ${segment} steps on this device ` +
        '(one workspace for every step would exceed its limits), each copying its slice of x; create x with GPUBufferUsage.COPY_SRC too',
    );
  }
  const signal = checkSignal(o.signal);
  return { x, output, seqLen: T, batch: B, lens, mask, initialH: o.initialH, initialC: o.initialC, signal };
}

/** `what` (an initial c state, or a buffer for one) is refused where the cell has no c state. */
export function checkCellStateGiven(s: ResolvedSpec, what: string, given: unknown): void {
  if (given !== undefined && !hasCellState(s))
    throw new InputError(
      `${what} applies to ${CELL_TYPES.filter((c) => CELLS[c].cellState)
        .map((c) => CELLS[c].label)
        .join(', ')} only; remove it for a ${CELLS[s.cell].label}`,
    );
}

/** options.signal: an AbortSignal or absent; an InputError otherwise, an AbortError if it has already fired. */
function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  const s = signal as Partial<AbortSignal> | null;
  if (typeof s !== 'object' || s === null || typeof s.aborted !== 'boolean')
    throw new InputError('options.signal must be an AbortSignal (new AbortController().signal), or absent');
  throwIfAborted(s as AbortSignal);
  return s as AbortSignal;
}

/** An AbortError when the signal has fired (its reason in the message), else nothing. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason = signal.reason === undefined ? '' : `: ${signal.reason instanceof Error ? signal.reason.message : String(signal.reason)}`;
  throw new AbortError(`run() was aborted through options.signal${reason}`);
}

/** encode()'s request: io's shape options as run()'s, and every buffer of io checked for its usage and size. */
export function validateEncode(s: ResolvedSpec, caps: DeviceCaps, io: EncodeIO): RunRequest {
  if (typeof io !== 'object' || io === null) throw new InputError('encode(encoder, io): io { x, seqLen, batch, Y, … } is required');
  const req = validateRun(s, caps, io.x, { seqLen: io.seqLen, batch: io.batch, sequenceLens: io.sequenceLens }, false);
  if (!isGpuBuffer(io.x)) throw new InputError('encode(): io.x must be a GPUBuffer (STORAGE usage)');
  const { seqLen: T, batch: B } = req;
  const LDB = s.numLayers * s.directions * B;
  const need = (name: string, b: GPUBuffer | undefined, floats: number, usage: number, usageName: string) => {
    if (b === undefined) return;
    if (!isGpuBuffer(b)) throw new InputError(`encode(): io.${name} must be a GPUBuffer`);
    if (!(b.usage & usage)) throw new InputError(`encode(): io.${name} needs ${usageName} usage`);
    if (b.size < floats * 4) throw new InputError(`encode(): io.${name} has ${b.size} bytes, needs ${floats * 4}`);
  };
  if (io.Y === undefined) throw new InputError('encode(): io.Y (a GPUBuffer for the output sequence) is required');
  need('Y', io.Y, T * s.directions * B * s.outputSize, Usage.COPY_DST, 'COPY_DST');
  need('Y_h', io.Y_h, LDB * s.outputSize, Usage.COPY_DST, 'COPY_DST');
  need('initialH', io.initialH, LDB * s.outputSize, Usage.COPY_SRC, 'COPY_SRC');
  checkCellStateGiven(s, 'encode(): io.Y_c or io.initialC', io.Y_c ?? io.initialC);
  need('Y_c', io.Y_c, LDB * s.hiddenSize, Usage.COPY_DST, 'COPY_DST');
  need('initialC', io.initialC, LDB * s.hiddenSize, Usage.COPY_SRC, 'COPY_SRC');
  return { ...req, gpuInitial: { h: io.initialH, c: io.initialC } };
}

/** An initial state given as options.NAME: a Float32Array of run()'s state layout for B rows, or absent. */
export function checkInitial(s: ResolvedSpec, name: string, v: Float32Array | undefined, width: number, B: number): void {
  if (v === undefined) return;
  const { numLayers: L, directions: D, batchMajor } = s;
  if (!(v instanceof Float32Array)) throw new InputError(`options.${name} must be a Float32Array`);
  const shape = batchMajor ? `[B, L·D, ${width}]` : `[L·D, B, ${width}]`;
  if (v.length !== L * D * B * width)
    throw new InputError(`options.${name} has ${v.length} floats, expected ${shape} = ${L * D * B * width}`);
}

export function initialState(
  s: ResolvedSpec,
  req: Pick<RunRequest, 'batch' | 'lens'>,
  v: Float32Array | undefined,
  l: number,
  width: number,
): Float32Array {
  const { directions: D, numLayers: L, batchMajor } = s;
  const B = req.batch;
  const out = new Float32Array(D * B * width);
  if (!v) return out;
  for (let d = 0; d < D; d++) {
    for (let b = 0; b < B; b++) {
      if (req.lens[b] === 0) continue;
      const ld = l * D + d;
      const src = batchMajor ? (b * L * D + ld) * width : (ld * B + b) * width;
      out.set(v.subarray(src, src + width), (d * B + b) * width);
    }
  }
  return out;
}

/** Final states arrive as [L·D, B, width]; batch-major models return [B, L·D, width]. */
export function stateOut(s: ResolvedSpec, v: Float32Array, B: number, width: number): Float32Array {
  if (!s.batchMajor) return v.slice();
  const LD = s.numLayers * s.directions;
  const out = new Float32Array(v.length);
  for (let ld = 0; ld < LD; ld++) {
    for (let b = 0; b < B; b++) out.set(v.subarray((ld * B + b) * width, (ld * B + b + 1) * width), (b * LD + ld) * width);
  }
  return out;
}

/**
 * Initial states (run()'s layouts; zeros when absent) packed as the stack kernel and streams keep
 * them: h [L, B, Hout], then c [L, B, H] (unidirectional models; rows of length 0 zeroed).
 */
export function packedState(
  s: ResolvedSpec,
  req: Pick<RunRequest, 'batch' | 'lens'>,
  initialH?: Float32Array,
  initialC?: Float32Array,
): Float32Array {
  const layout = packedStateLayout(s, req.batch);
  const packed = new Float32Array(layout.floats);
  for (let l = 0; l < s.numLayers; l++) {
    packed.set(initialState(s, req, initialH, l, s.outputSize), layout.h(l));
    if (hasCellState(s)) packed.set(initialState(s, req, initialC, l, s.hiddenSize), layout.c(l));
  }
  return packed;
}
