// A run's inputs, checked and laid out: options and x validated against the spec and the device's
// limits (every error an InputError or DeviceLimitError that says what to fix, before any GPU work),
// and the layout transposes of states between run()'s layouts ([L·D, B, w] or batch-major
// [B, L·D, w]) and the kernels' per-layer [D, B, w] or the packed stream/stack state. Pure
// functions of the spec and the device's limits.
import { CELLS } from '../model/cells.js';
import { DeviceLimitError, InputError } from '../core/errors.js';
import { Usage } from '../gpu/helpers.js';
import { runSizes } from '../plan/plan.js';
import type { RunOptions } from './model.js';
import { positiveInt, type ResolvedSpec } from '../model/spec.js';
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

/** A positive integer option or argument, else an InputError (spec fields are checked in spec.ts, as SpecErrors). */
export function positiveArg(name: string, v: unknown): number {
  return positiveInt(name, v, InputError);
}

export function validateRun(s: ResolvedSpec, limits: GPUSupportedLimits, x: Float32Array | GPUBuffer, o: RunOptions): RunRequest {
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
  if (o.initialC !== undefined && !CELLS[s.cell].cellState)
    throw new InputError(`options.initialC applies to LSTM only; remove it for a ${CELLS[s.cell].label}`);
  state('initialC', o.initialC, H);
  checkRunLimits(s, limits, T, B);
  return { x, output, seqLen: T, batch: B, lens, mask, initialH: o.initialH, initialC: o.initialC };
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

function checkRunLimits(s: ResolvedSpec, lim: GPUSupportedLimits, T: number, B: number): void {
  const sizes = runSizes(s, T, B);
  const maxBytes = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
  for (const [name, floats] of Object.entries(sizes)) {
    if (floats * 4 > maxBytes) {
      const limit = lim.maxStorageBufferBindingSize <= lim.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
      throw new DeviceLimitError(
        `a run of seqLen ${T} and batch ${B} needs a ${name} buffer of ${floats * 4} bytes, over the device's ` +
          `${limit} (${maxBytes}); run shorter sequences or smaller batches, or request a device with larger limits`,
      );
    }
  }
  if (Math.ceil((T * B) / 64) > lim.maxComputeWorkgroupsPerDimension) {
    throw new DeviceLimitError(
      `seqLen·batch = ${T * B} rows need ${Math.ceil((T * B) / 64)} workgroups, over maxComputeWorkgroupsPerDimension (${lim.maxComputeWorkgroupsPerDimension}); split the run`,
    );
  }
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
  const { batch: B } = req;
  const L = s.numLayers;
  const packed = new Float32Array(stateFloats(s, B));
  for (let l = 0; l < L; l++) {
    packed.set(initialState(s, req, initialH, l, s.outputSize), l * B * s.outputSize);
    if (CELLS[s.cell].cellState) packed.set(initialState(s, req, initialC, l, s.hiddenSize), (L * s.outputSize + l * s.hiddenSize) * B);
  }
  return packed;
}

/** Floats of a stream's state buffer: h [L, B, Hout], then c [L, B, H] for an LSTM. */
export function stateFloats(s: ResolvedSpec, batch: number): number {
  return s.numLayers * batch * (s.outputSize + (CELLS[s.cell].cellState ? s.hiddenSize : 0));
}
