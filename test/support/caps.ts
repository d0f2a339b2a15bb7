// Device caps for the GPU-free plan tests: a core-feature WebGPU device (256 invocations per
// workgroup), without and with the 'subgroups' feature.
import type { DeviceCaps } from '../../src/gpu/adapter.js';

export const CAPS: DeviceCaps = {
  kind: 'gpu',
  adapter: 'test caps',
  maxInvocations: 256,
  maxWorkgroups: 65535,
  maxStorageBufferBindingSize: 128 << 20,
  maxBufferSize: 256 << 20,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupStorageSize: 16384,
  subgroups: false,
  shaderF16: false,
  threads: 2,
};

export const CAPS_SUBGROUPS: DeviceCaps = { ...CAPS, subgroups: true };
