// Streams: a recurrence continued call after call with its state kept on the GPU, for apps that
// call the model once per audio frame or generated character. step() runs `seqLen` steps from the
// state the previous call left and reads back only Y; the state is read back only by state().
// The model (run/model.ts) does the GPU work; this file holds the stream's own buffers and checks.
import { DestroyedError, InputError } from '../core/errors.js';

/**
 * A stream's recurrent state on the GPU, one buffer: h [L, B, Hout], then for an LSTM c [L, B, H].
 * The fused stack kernel (stack_step.wgsl) reads and writes it in place; the per-layer kernels copy
 * each layer's part in and out.
 */
export interface ResidentState {
  state: GPUBuffer;
  /** Steps queued on the stream since it started or was reset (the Clockwork RNN's module clocks run on). */
  steps: number;
}

export interface StreamOptions {
  /** Rows of the stream (default 1). */
  batch?: number;
  /** As run()'s initialH: [L, B, Hout] time-major or [B, L, Hout] batch-major; absent = zeros. */
  initialH?: Float32Array;
  /** As run()'s initialC (LSTM): [L, B, H] or [B, L, H]; absent = zeros. */
  initialC?: Float32Array;
}

export interface RnnStream {
  /**
   * Runs `seqLen` steps (default 1) of x ([seqLen, B, I] time-major or [B, seqLen, I] batch-major)
   * from the state the previous call left, and resolves to Y in run()'s layout for those steps.
   * A 'reverse' model processes each chunk from its last step to its first: feeding a sequence's
   * chunks last chunk first equals one run() over the sequence. x may be a GPUBuffer (STORAGE
   * usage) and, with output 'gpu', Y is a new GPUBuffer the caller owns, as in run().
   */
  step(x: Float32Array | GPUBuffer, options: { seqLen?: number; output: 'gpu' }): Promise<{ Y: GPUBuffer }>;
  step(x: Float32Array | GPUBuffer, options?: { seqLen?: number; output?: 'cpu' }): Promise<{ Y: Float32Array }>;
  /** Reads the state back: Y_h (and Y_c) in run()'s layouts. */
  state(): Promise<{ Y_h: Float32Array; Y_c?: Float32Array }>;
  /** Starts again from the given initial state (zeros when absent). */
  reset(initial?: { initialH?: Float32Array; initialC?: Float32Array }): void;
  /** Frees the stream's buffers. Idempotent; the model's destroy() frees its streams too. */
  destroy(): void;
}

/** What a stream needs from its model. */
export interface StreamHost {
  readonly batchMajor: boolean;
  /** Allocates (zeroed) state buffers for `batch` rows. */
  createState(batch: number): ResidentState;
  /** Writes the initial state (run()'s layouts; zeros when absent) into the state buffers. */
  writeState(state: ResidentState, batch: number, initialH?: Float32Array, initialC?: Float32Array): void;
  /** Runs x from the state on the GPU, leaving the final state there; resolves to Y. */
  runResident(
    x: Float32Array | GPUBuffer,
    seqLen: number,
    batch: number,
    state: ResidentState,
    output: 'cpu' | 'gpu',
  ): Promise<Float32Array | GPUBuffer>;
  /** Reads the state back in run()'s layouts, after every step queued before it. */
  readState(state: ResidentState, batch: number): Promise<{ Y_h: Float32Array; Y_c?: Float32Array }>;
  /** Forgets a destroyed stream. */
  release(stream: Stream): void;
}

export class Stream implements RnnStream {
  private destroyed = false;

  constructor(
    private readonly host: StreamHost,
    private readonly batch: number,
    private readonly resident: ResidentState,
  ) {}

  step(x: Float32Array | GPUBuffer, options: { seqLen?: number; output: 'gpu' }): Promise<{ Y: GPUBuffer }>;
  step(x: Float32Array | GPUBuffer, options?: { seqLen?: number; output?: 'cpu' }): Promise<{ Y: Float32Array }>;
  step(x: Float32Array | GPUBuffer, options: { seqLen?: number; output?: 'cpu' | 'gpu' } = {}): Promise<{ Y: Float32Array | GPUBuffer }> {
    if (this.destroyed)
      return Promise.reject(new DestroyedError('step() was called after the stream was destroyed; create a new one with rnn.stream()'));
    if (typeof options !== 'object' || options === null)
      return Promise.reject(new InputError('step(x, options): options must be an object { seqLen? }'));
    const seqLen = options.seqLen ?? 1;
    if (!Number.isInteger(seqLen) || seqLen <= 0)
      return Promise.reject(new InputError(`step(): seqLen must be a positive integer, got ${String(seqLen)}`));
    return this.host.runResident(x, seqLen, this.batch, this.resident, options.output ?? 'cpu').then((Y) => ({ Y }));
  }

  state(): Promise<{ Y_h: Float32Array; Y_c?: Float32Array }> {
    if (this.destroyed) return Promise.reject(new DestroyedError('state() was called after the stream was destroyed'));
    return this.host.readState(this.resident, this.batch);
  }

  reset(initial: { initialH?: Float32Array; initialC?: Float32Array } = {}): void {
    if (this.destroyed) throw new DestroyedError('reset() was called after the stream was destroyed');
    this.host.writeState(this.resident, this.batch, initial.initialH, initial.initialC);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.resident.state.destroy();
    this.host.release(this);
  }
}
