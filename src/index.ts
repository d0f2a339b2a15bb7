// webgpu-rnn: RNN, LSTM and GRU inference on WebGPU. Public surface only.
export { createRnn } from './run/create.js';
export type { Rnn, RunOptions, RunResult, GpuRunResult, EncodeIO, CreateRnnOptions, KernelPlan } from './run/api.js';
export type { StepKernels, StepVariant, ProjectionVariant, LayerChoice } from './plan/variants.js';
export type { Precision } from './model/types.js';
export type { TuningTable, TuningEntry, TuneShape, TuneReport } from './plan/tuning.js';
export type { RnnStream, StreamOptions } from './run/stream.js';
export { requestDevice } from './gpu/device.js';
export type { RequestDeviceOptions } from './gpu/device.js';
export type { RnnSpec, RnnWeights, LayerWeights, Direction, Layout, ResolvedSpec } from './model/types.js';
export type { CellType, OnnxCellType } from './model/types.js';
export { ACTIVATION_NAMES } from './model/activations.js';
export {
  WebGpuRnnError,
  AbortError,
  WebGPUUnavailableError,
  SpecError,
  WeightError,
  InputError,
  DeviceLimitError,
  ShaderContractError,
  DestroyedError,
  GpuError,
  DeviceLostError,
  FormatError,
  UnsupportedError,
} from './core/errors.js';
export { readSafetensors } from './importers/safetensors.js';
export type { SafetensorsTensor, SafetensorsFloatDtype, ReadSafetensorsOptions } from './importers/safetensors.js';
export { fromTorch } from './importers/torch.js';
export type { TorchConfig, TorchTensor } from './importers/torch.js';
export { loadTf1Lstm, readWeightsManifest } from './importers/tf1.js';
export type {
  Tf1LstmOptions,
  Tf1WeightData,
  WeightsManifestGroup,
  WeightsManifestEntry,
  CheckpointManifest,
  DecodedTensor,
} from './importers/tf1.js';
export { loadLayersModel } from './importers/keras/model.js';
export type { LayersModel, PredictOutput, LayersWeightData } from './importers/keras/model.js';
export { loadOnnx } from './onnx/session.js';
export type { FeedTensor as OnnxFeed, OnnxSession, OnnxStream, OnnxStreamOptions, Tensor as OnnxTensor } from './onnx/session.js';
export { audioWindows, segmentsToWebVtt, speechSegments } from './onnx/vad.js';
export type { SegmentOptions, SpeechSegment } from './onnx/vad.js';
export type { ScanOptions, ScanPlan } from './onnx/scan.js';
