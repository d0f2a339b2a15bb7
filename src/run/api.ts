// The public API's types: what createRnn takes (CreateRnnOptions), the model it returns (Rnn), and what
// its calls take and resolve to. Types only; run/model.ts implements them.
import type { ResolvedSpec } from '../model/types.js';
import type { TuneReport, TuneShape, TuningTable } from '../plan/tuning.js';
import type { LayerChoice, ProjectionVariant, StepKernels } from '../plan/variants.js';
import type { Precision } from '../model/types.js';
import type { RnnStream, StreamOptions } from './stream.js';

export interface RunOptions {
  seqLen: number;
  batch: number;
  /** [B] valid length of each batch row, 0 <= len <= seqLen (ONNX sequence_lens). */
  sequenceLens?: Int32Array;
  /**
   * TF.js / Keras masking instead of lengths: [T, B] time-major or [B, T] batch-major, nonzero = a
   * valid step. Every row runs all T steps (the reverse direction from T − 1); a masked step keeps
   * the state and repeats the previous output. Not combinable with sequenceLens.
   */
  mask?: Uint8Array;
  /** [L·D, B, Hout] time-major or [B, L·D, Hout] batch-major; absent = zeros. */
  initialH?: Float32Array;
  /** [L·D, B, H] time-major or [B, L·D, H] batch-major (LSTM only); absent = zeros. */
  initialC?: Float32Array;
  /**
   * 'cpu' (default): resolve to Float32Arrays. 'gpu': resolve to new GPUBuffers in the same layouts
   * (usage STORAGE | COPY_SRC | COPY_DST), owned by the caller, with nothing read back.
   */
  output?: 'cpu' | 'gpu';
  /**
   * Cancels the run: checked before it starts and between its command buffers (a long run is
   * submitted in chunks of at most 4096 dispatches); the run then rejects with an AbortError.
   * Work already submitted finishes on the GPU; the model stays usable.
   */
  signal?: AbortSignal;
}

/** Rnn.encode's buffers: f32, run()'s layouts; x needs STORAGE usage, the outputs COPY_DST. */
export interface EncodeIO {
  x: GPUBuffer;
  seqLen: number;
  batch: number;
  /** [B] lengths (ONNX sequence_lens); absent = every row runs seqLen steps. */
  sequenceLens?: Int32Array;
  /** Initial states; absent = zeros. */
  initialH?: GPUBuffer;
  initialC?: GPUBuffer;
  Y: GPUBuffer;
  Y_h?: GPUBuffer;
  Y_c?: GPUBuffer;
}

/** run()'s outputs left on the GPU (options.output 'gpu'): buffers the caller owns and destroys. */
export interface GpuRunResult {
  Y: GPUBuffer;
  Y_h: GPUBuffer;
  Y_c?: GPUBuffer;
}

export interface RunResult {
  /** [T, D, B, Hout] time-major or [B, T, D, Hout] batch-major; zero past each row's length. */
  Y: Float32Array;
  /** [L·D, B, Hout] or [B, L·D, Hout], indexed layer·D + direction. */
  Y_h: Float32Array;
  /** [L·D, B, H] or [B, L·D, H] (LSTM only). */
  Y_c?: Float32Array;
}

/**
 * The kernels of a run or of a stream's step: per layer the step and projection variants, and the
 * dispatches it issues. `stack`: the whole stack runs fused in the stack kernel (one dispatch per
 * call; `layers` is then empty).
 */
export interface KernelPlan {
  layers: LayerChoice[];
  dispatches: number;
  stack?: boolean;
  /**
   * Where a run of this length does not fit one workspace on the device (or is longer than 65,536
   * steps), the segments it runs in, one after the other with the state kept on the GPU
   * (unidirectional models; `layers` is the first segment's). Absent for a run in one piece.
   */
  segments?: number;
}

export interface Rnn {
  /**
   * Runs the model over x: a Float32Array, or a GPUBuffer of f32 in the same layout (usage must
   * include STORAGE) that is read where it is, without a copy through the CPU.
   */
  run(x: Float32Array | GPUBuffer, options: RunOptions & { output: 'gpu' }): Promise<GpuRunResult>;
  run(x: Float32Array | GPUBuffer, options: RunOptions): Promise<RunResult>;
  /**
   * Which kernels a run of (seqLen, batch) uses on this device, and how many dispatches it issues;
   * a stream's step() of seqLen steps over `batch` rows uses the same. A DeviceLimitError where
   * the device cannot hold such a run (as run() would reject it).
   */
  kernels(seqLen: number, batch: number): KernelPlan;
  /**
   * Records a run into the caller's command encoder, with caller-given buffers and no submit or
   * readback, so that it composes with other WebGPU work in one submit. The kernels of
   * (seqLen, batch) must be compiled (createRnn's options.batch and seqLen, or an earlier run of
   * that shape); no run() or step() of this model may be in flight, and the caller submits before
   * the model's next call (they share its workspace).
   */
  encode(encoder: GPUCommandEncoder, io: EncodeIO): void;
  /**
   * Compiles the kernels that runs and encode() of (seqLen, batch) use, so that encode() of that
   * shape can record without waiting (what createRnn's seqLen and batch options do at creation).
   */
  prepare(seqLen: number, batch: number): Promise<void>;
  /**
   * Times the kernel variants that apply on this device for runs of these shapes (batch default 1)
   * and keeps the fastest per layer; later runs of those shapes (and of the nearest sequence
   * length with the same batch, see ARCHITECTURE.md) use them. Runs made meanwhile may use any
   * of the candidates (they all compute the same outputs).
   */
  tune(shapes: TuneShape | TuneShape[]): Promise<TuneReport>;
  /** The tuning table so far (serialisable): store it and pass it to createRnn as options.tuning to skip tune(). */
  readonly tuning: TuningTable;
  /**
   * A stream: step() continues the recurrence from where the previous call left it, with the state
   * kept on the GPU (no state upload or readback per call). Unidirectional models only. Streams of
   * one model are independent; their steps run one after another with the model's runs.
   */
  stream(options?: StreamOptions): RnnStream;
  /** Frees every GPU buffer the model created. Idempotent; pipelines stay cached per device. */
  destroy(): void;
  /** The spec with every default applied. */
  readonly spec: ResolvedSpec;
}

export interface CreateRnnOptions {
  /**
   * The batch size to compile kernels for while the model is built (default 1). Kernels are
   * specialised by batch tile (1, 2, or 4 rows for batch >= 3) and by the batch rounded up to a
   * power of two (their state arrays' length); another batch size compiles its variant on its
   * first run, which then takes longer.
   */
  batch?: number;
  /**
   * Forces one step variant on every layer (default 'auto': the measured defaults for the adapter,
   * see plan/choose.ts defaultChoice): 'tiled' (one dispatch per step, the recurrent vector staged through
   * workgroup memory; 'per-step' is its older name), 'direct' (one dispatch per step, no workgroup
   * memory or barrier), 'persistent' (one dispatch per layer for the whole sequence: RNN, GRU,
   * LSTM without projection, hidden size <= 256), 'rows' (one dispatch per layer for the whole
   * sequence, one invocation per row and direction; no projection) or 'subgroup' (one dispatch
   * per step, each dot product split over a subgroup; needs the 'subgroups' feature).
   */
  stepKernels?: StepKernels;
  /** Forces the input projection kernel on every layer: 'gemm' (tiled) or 'gemv' (barrier-free); default 'auto'. */
  projection?: 'auto' | ProjectionVariant;
  /**
   * The sequence length the app will run (default: none; single steps and short sequences are
   * always prepared). createRnn compiles and warms up the kernels of runs of (seqLen, batch), so
   * that the first run costs about what later ones do.
   */
  seqLen?: number;
  /**
   * Measure the kernel variants on this device before returning (rnn.tune()): true tunes a single
   * step and, with options.seqLen, that sequence length, at options.batch; or give the shapes
   * (their batch defaults to options.batch).
   * Excludes stepKernels and projection, which force a choice instead.
   */
  tune?: boolean | TuneShape | TuneShape[];
  /** A table from rnn.tuning (e.g. stored by the app on an earlier visit): its choices are used and nothing is measured. */
  tuning?: TuningTable;
  /**
   * 'f32' (default) or 'f16': the weight matrices stored as f16 (half the bytes; products and sums
   * still in f32). Needs the 'shader-f16' feature, which requestDevice() asks for where the adapter
   * has it. Outputs then agree with the float64 reference to about 2e-3 + 1e-2·|ref|.
   */
  precision?: Precision;
  /**
   * Run the prepared kernels once on zeros before returning (default true), so that drivers that
   * compile on first use (lavapipe, SwiftShader) do it now and not in the first real run.
   */
  warmUp?: boolean;
}
