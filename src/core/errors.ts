// Named error classes. Every message says what is wrong and what to do about it, and every class
// extends WebGpuRnnError so callers can catch the library's errors apart from anything else.

/** Base class of every error webgpu-rnn throws on purpose. */
export class WebGpuRnnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** No WebGPU implementation or adapter is reachable from this JavaScript environment. */
export class WebGPUUnavailableError extends WebGpuRnnError {}

/** The RnnSpec is inconsistent: an unknown cell, a bad size, an option that does not apply to the cell. */
export class SpecError extends WebGpuRnnError {}

/** A weight tensor is missing or has the wrong length for the spec. */
export class WeightError extends WebGpuRnnError {}

/** The arguments of run() do not match the model: input length, sequence lengths, initial states. */
export class InputError extends WebGpuRnnError {}

/** The model or the run needs more than the GPUDevice's limits allow. */
export class DeviceLimitError extends WebGpuRnnError {}

/** The WGSL and the host disagree on bindings, overrides or buffer sizes: a bug in webgpu-rnn itself. */
export class ShaderContractError extends WebGpuRnnError {}

/** The model was used after destroy(). */
export class DestroyedError extends WebGpuRnnError {}

/** The GPU reported an error (validation, out of memory, device lost) while the model was built or run. */
export class GpuError extends WebGpuRnnError {}

/**
 * The GPUDevice was lost (driver reset, GPU process crash, device.destroy()): the model cannot run
 * on it again. Create the model again with createRnn on a new device. `reason` is the browser's
 * GPUDeviceLostInfo.reason ('destroyed' or 'unknown').
 */
export class DeviceLostError extends GpuError {
  readonly reason: string;
  constructor(message: string, reason: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * A run was cancelled through its options.signal (an AbortSignal): before it started, or between
 * two of its command buffers. Its name is 'AbortError', as for fetch().
 */
export class AbortError extends WebGpuRnnError {}

/** A model file is truncated, corrupt or inconsistent (bad magic, lengths out of range, shapes that disagree). */
export class FormatError extends WebGpuRnnError {}

/** A valid model uses something webgpu-rnn does not run (an operator, attribute, layer or dtype). */
export class UnsupportedError extends WebGpuRnnError {}
