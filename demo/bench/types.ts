// What every engine on the benchmark page provides.
import type { LayerWeights } from '../../src/index.js';
import type { BenchShape } from './shapes.js';

/** ONNX-layout outputs of one timed run: Y [steps, D, B, H] (last layer), Y_h / Y_c [L·D, B, H]. */
export interface Outputs {
  Y: Float32Array;
  Y_h?: Float32Array;
  Y_c?: Float32Array;
}

export interface Prepared {
  /** One timed run: from Float32Array inputs to Float32Array outputs (GPU work awaited by reading back). */
  run(): Promise<Outputs>;
  dispose(): void | Promise<void>;
  /** The GPUDevice the engine runs on, for timestamp queries (absent for CPU engines). */
  device?: GPUDevice;
  /** Where the work ran, as verified (e.g. 'webgpu', 'cpu', 'mixed: …'). */
  placement?: string;
  /** For webgpu-rnn: the dispatches one timed run should make, from the library's own plan. */
  expectedDispatches?: number;
  /** Free-form facts shown in the table (e.g. ORT's node placement log line). */
  notes?: string[];
}

/**
 * What an engine's prepare() throws when it does not apply to the shape by its own rules (for
 * webgpu-rnn: createRnn refusing a forced kernel variant with a SpecError that says "does not apply").
 * The bench reports it n/a with the message; any other error while building or running is a
 * failure, reported with status 'error'.
 */
export class NotApplicable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotApplicable';
  }
}

export interface Engine {
  id: string;
  label: string;
  /** Runs on the GPU (dispatch counts and GPU time apply). */
  gpu: boolean;
  /** Its own agreement tolerance where it computes in a lower precision (webgpu-rnn with f16 weights); default TOLERANCE. */
  tolerance?: { atol: number; rtol: number };
  /** Why this engine cannot run the shape (reported n/a without building it), or null. */
  unsupported(s: BenchShape): string | null;
  /** Builds the model for `s` with ONNX-layout weights and the time-major input x [steps, B, I]. */
  prepare(s: BenchShape, weights: LayerWeights[], x: Float32Array): Promise<Prepared>;
}

export const ENGINE_COLORS: Record<string, string> = {
  'webgpu-rnn': '#1b9e77',
  'ort-webgpu': '#d95f02',
  'ort-wasm': '#7570b3',
  'tfjs-webgpu': '#e7298a',
  'js-f32': '#888888',
};
