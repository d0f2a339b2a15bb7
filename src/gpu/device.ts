// requestDevice(): a GPUDevice with the adapter's largest limits, from navigator.gpu in browsers or
// from Dawn (the `webgpu` package, an optional peer dependency) in Node. Any GPUDevice works with
// createRnn; this is a convenience.
import { WebGPUUnavailableError } from '../core/errors.js';

export interface RequestDeviceOptions {
  powerPreference?: GPUPowerPreference;
  /**
   * Node only: Dawn toggles for the `webgpu` package's create(), e.g. ['adapter=llvmpipe'] or
   * ['adapter=SwiftShader'] (a substring of the adapter name). Default: the WEBGPU_RNN_ADAPTER
   * environment variable as 'adapter=<value>', else Dawn's default adapter.
   */
  dawnOptions?: string[];
}

/** Limits worth raising from WebGPU's defaults to the adapter's maximum. */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
] as const;

// Dawn's GPU object must stay referenced while any of its devices is used, or Node aborts
// (../shared/reference/webgpu-on-linux-without-gpu.md §3.2 rule 1). Kept until the device is lost.
const liveDawnInstances = new Set<unknown>();

// Node's process object, typed locally so the library needs no Node type definitions.
const nodeProcess = (globalThis as { process?: { versions?: { node?: string }; env?: Record<string, string | undefined> } }).process;

async function nodeGpu(options: RequestDeviceOptions): Promise<GPU> {
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    const name = 'webgpu';
    mod = await import(/* @vite-ignore */ name);
  } catch (e) {
    throw new WebGPUUnavailableError(
      `navigator.gpu is missing and the 'webgpu' package (Dawn for Node) could not be loaded: ` +
        `run \`npm install webgpu\`, or pass your own GPUDevice to createRnn (${(e as Error).message})`,
    );
  }
  // WebGPU's global enums (GPUBufferUsage, …) for user code that expects them; never overwrite.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const env = nodeProcess?.env?.WEBGPU_RNN_ADAPTER;
  return mod.create(options.dawnOptions ?? (env ? [`adapter=${env}`] : []));
}

export async function requestDevice(options: RequestDeviceOptions = {}): Promise<GPUDevice> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  const isNode = !!nodeProcess?.versions?.node;
  let gpu = nav?.gpu;
  if (!gpu) {
    if (!isNode)
      throw new WebGPUUnavailableError(
        'navigator.gpu is missing: this browser has no WebGPU (Chrome/Edge 113+, Safari 26+, Firefox 141+ on Windows), or the page is not a secure context (https or localhost)',
      );
    gpu = await nodeGpu(options);
  }
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  if (!adapter) {
    throw new WebGPUUnavailableError(
      isNode
        ? "no WebGPU adapter: Dawn found no usable Vulkan driver. On Linux without a GPU install libvulkan1 and Mesa 25 lavapipe (bookworm-backports mesa-vulkan-drivers), or point VK_ICD_FILENAMES at Chromium's SwiftShader ICD"
        : 'no WebGPU adapter: the browser offers none (enable WebGPU, e.g. chrome://flags/#enable-unsafe-webgpu on Linux)',
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
  // timestamp-query for benchmarks; subgroups for the split-K step kernel (stepKernels 'subgroup');
  // shader-f16 for precision 'f16'.
  const requiredFeatures = (['timestamp-query', 'subgroups', 'shader-f16'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ label: 'webgpu-rnn', requiredLimits, requiredFeatures });
  if (!nav?.gpu) {
    liveDawnInstances.add(gpu);
    void device.lost.then(() => liveDawnInstances.delete(gpu));
  }
  return device;
}
