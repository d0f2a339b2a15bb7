// webgpu-rnn: RNN, LSTM and GRU inference on WebGPU. Public surface only.
export { createRnn } from './rnn.js';
export type { Rnn, RunOptions, RunResult, CreateRnnOptions } from './rnn.js';
export { requestDevice } from './device.js';
export type { RequestDeviceOptions } from './device.js';
export type { RnnSpec, RnnWeights, LayerWeights, CellType, Direction, Layout, ResolvedSpec } from './spec.js';
export { ACTIVATION_NAMES } from './activations.js';
export {
  WebGpuRnnError, WebGPUUnavailableError, SpecError, WeightError, InputError, DeviceLimitError,
  ShaderContractError, DestroyedError, GpuError, FormatError, UnsupportedError,
} from './errors.js';
