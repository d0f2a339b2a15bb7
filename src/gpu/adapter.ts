// What a GPUDevice is and offers, read once per device: its adapter kind (for the kernel defaults,
// plan/choose.ts) and the limits and features the plan and the checks depend on (DeviceCaps).
// Everything above this layer reads a device's limits through deviceCaps(), not device.limits.

/**
 * What the adapter is, for the defaults: 'emulated' (a CPU implementation of WebGPU: SwiftShader,
 * lavapipe/llvmpipe, WARP), where every workgroup barrier is a switch between invocations and a
 * dispatch costs little next to compute; 'gpu' otherwise.
 */
export type AdapterKind = 'emulated' | 'gpu';

/**
 * Which CPU implementation an emulated adapter is, where the defaults differ between them: Mesa's
 * lavapipe (llvmpipe), where a dispatch costs about 33 µs, and SwiftShader, where it costs about half
 * that and barriers cost more (plan/cost.ts has the cost model the defaults use).
 */
export type Emulator = 'lavapipe' | 'swiftshader' | 'other';

/** The limits and features of a device that the library plans with, read once per device. */
export interface DeviceCaps {
  kind: AdapterKind;
  /** For an emulated adapter, which one; undefined on GPUs. */
  emulator?: Emulator;
  /** The adapter as a readable line (tuning tables are keyed by it). */
  adapter: string;
  /** maxComputeInvocationsPerWorkgroup */
  maxInvocations: number;
  /** maxComputeWorkgroupsPerDimension */
  maxWorkgroups: number;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxStorageBuffersPerShaderStage: number;
  maxComputeWorkgroupStorageSize: number;
  /** The 'subgroups' feature (the subgroup and quad kernel variants need it). */
  subgroups: boolean;
  /** The 'shader-f16' feature (precision 'f16'). */
  shaderF16: boolean;
  /**
   * CPU threads an emulated adapter can run workgroups on (each workgroup runs on one):
   * navigator.hardwareConcurrency where there is one, else 2 (Node 20 has no navigator).
   */
  threads: number;
}

/** CPU implementations of WebGPU as they name themselves in GPUAdapterInfo. */
const EMULATED = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|basic render|software/i;

type InfoDevice = GPUDevice & { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } };

/** The device's adapter info as a readable line (GPUDevice.adapterInfo; blank where a browser hides it). */
export function adapterDescription(device: GPUDevice): string {
  const info = (device as InfoDevice).adapterInfo;
  if (!info) return 'unknown adapter';
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') || 'unknown adapter';
}

/** Which emulator an emulated adapter is, from its adapter info. */
function emulatorOf(device: GPUDevice): Emulator {
  const info = (device as InfoDevice).adapterInfo;
  const text = info ? `${info.vendor} ${info.architecture} ${info.device} ${info.description}` : '';
  if (/llvmpipe|lavapipe/i.test(text)) return 'lavapipe';
  if (/swiftshader/i.test(text)) return 'swiftshader';
  return 'other';
}

/** 'emulated' for a CPU implementation (or a fallback adapter), else 'gpu'. */
export function adapterKind(device: GPUDevice): AdapterKind {
  const info = (device as InfoDevice).adapterInfo;
  if (!info) return 'gpu';
  if (info.isFallbackAdapter) return 'emulated';
  return EMULATED.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`) ? 'emulated' : 'gpu';
}

const caps = new WeakMap<GPUDevice, DeviceCaps>();

/** The device's caps, read on first use and kept for the device's lifetime. */
export function deviceCaps(device: GPUDevice): DeviceCaps {
  let c = caps.get(device);
  if (!c) {
    const lim = device.limits;
    const kind = adapterKind(device);
    c = {
      kind,
      emulator: kind === 'emulated' ? emulatorOf(device) : undefined,
      adapter: adapterDescription(device),
      maxInvocations: lim.maxComputeInvocationsPerWorkgroup,
      maxWorkgroups: lim.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
      maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
      subgroups: device.features.has('subgroups'),
      shaderF16: device.features.has('shader-f16'),
      threads: hardwareThreads(),
    };
    caps.set(device, c);
  }
  return c;
}

/** navigator.hardwareConcurrency where the environment has it (browsers, workers, Node 21+), else 2. */
function hardwareThreads(): number {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: unknown } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 2;
}
