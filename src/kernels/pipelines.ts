// The per-device caches: bind group layouts (from reflection, shared by every pipeline of one kernel),
// shader modules (one per distinct source text) and pipelines (one per kernel, constants and array
// lengths: every specialisation input is an override or a length, so the key is complete by
// construction). Cached in WeakMaps keyed by the GPUDevice, so a destroyed device frees them.
import { ShaderContractError } from '../core/errors.js';
import { checkConstants } from '../gpu/reflect.js';
import type { Constants, Precision } from '../model/types.js';
import {
  kernelInfo,
  lengthDeclarations,
  sourceLocation,
  type ModulePart,
  type ArrayLengths,
  type KernelName,
  type Reflected,
} from './sources.js';

interface DeviceKernel {
  bindGroupLayout: GPUBindGroupLayout;
  pipelineLayout: GPUPipelineLayout;
  pipelines: Map<string, Promise<GPUComputePipeline>>;
  /** The pipelines that have finished compiling, for callers that cannot wait (Rnn.encode). */
  ready: Map<string, GPUComputePipeline>;
}

const cache = new WeakMap<GPUDevice, Map<string, DeviceKernel>>();

/**
 * Shader modules by source text: the entry points of one cell (its tiled, sequence, direct and rows
 * kernels) with the same array lengths are one module, created and compiled once per device rather
 * than once per kernel.
 */
const modules = new WeakMap<GPUDevice, Map<string, { module: GPUShaderModule; compiled: Promise<void> }>>();

function deviceModule(
  device: GPUDevice,
  name: KernelName,
  code: string,
  parts: readonly ModulePart[],
): { module: GPUShaderModule; compiled: Promise<void> } {
  let perDevice = modules.get(device);
  if (!perDevice) {
    perDevice = new Map();
    modules.set(device, perDevice);
  }
  let m = perDevice.get(code);
  if (!m) {
    const module = device.createShaderModule({ label: name, code });
    const compiled = module.getCompilationInfo().then((ci) => {
      const errors = ci.messages.filter((msg) => msg.type === 'error');
      if (errors.length) {
        // The module is a concatenation: name the file and line each message comes from.
        throw new ShaderContractError(
          `kernel ${name} does not compile: ${errors.map((msg) => `${sourceLocation(parts, msg.lineNum)}: ${msg.message}`).join('; ')}`,
        );
      }
    });
    m = { module, compiled };
    perDevice.set(code, m);
  }
  return m;
}

function deviceKernel(device: GPUDevice, name: KernelName, precision: Precision): DeviceKernel {
  let perDevice = cache.get(device);
  if (!perDevice) {
    perDevice = new Map();
    cache.set(device, perDevice);
  }
  let k = perDevice.get(`${name}|${precision}`);
  if (!k) {
    const info = kernelInfo(name, precision);
    const bindGroupLayout = device.createBindGroupLayout({ label: name, entries: info.layoutEntries });
    const pipelineLayout = device.createPipelineLayout({ label: name, bindGroupLayouts: [bindGroupLayout] });
    k = { bindGroupLayout, pipelineLayout, pipelines: new Map(), ready: new Map() };
    perDevice.set(`${name}|${precision}`, k);
  }
  return k;
}

export function bindGroupLayout(device: GPUDevice, name: KernelName, precision: Precision = 'f32'): GPUBindGroupLayout {
  return deviceKernel(device, name, precision).bindGroupLayout;
}

/** The pipeline cache key: the constants, and the lengths of the arrays the kernel sizes by them. */
function canonicalKey(info: Reflected, constants: Constants, lengths: ArrayLengths): string {
  const c = Object.keys(constants)
    .sort()
    .map((k) => `${k}=${Number(constants[k])}`)
    .join(',');
  return `${c}|${info.lengthSized.map((b) => `${b}=${lengths[b]}`).join(',')}`;
}

/** The pipeline of `name` with `constants` if it has finished compiling on this device, else undefined. */
export function readyPipeline(
  device: GPUDevice,
  name: KernelName,
  constants: Constants,
  lengths: ArrayLengths,
  precision: Precision = 'f32',
): GPUComputePipeline | undefined {
  return cache
    .get(device)
    ?.get(`${name}|${precision}`)
    ?.ready.get(canonicalKey(kernelInfo(name, precision), constants, lengths));
}

/** The pipeline of `name` specialised with `constants` and array `lengths`, compiled once per device. */
export function pipeline(
  device: GPUDevice,
  name: KernelName,
  constants: Constants,
  lengths: ArrayLengths,
  precision: Precision = 'f32',
): Promise<GPUComputePipeline> {
  const info = kernelInfo(name, precision);
  checkConstants(info, constants);
  const k = deviceKernel(device, name, precision);
  const key = canonicalKey(info, constants, lengths);
  let p = k.pipelines.get(key);
  if (!p) {
    const numeric: Record<string, number> = {};
    for (const [c, v] of Object.entries(constants)) numeric[c] = Number(v);
    let module: { module: GPUShaderModule; compiled: Promise<void> };
    try {
      const code = info.files + lengthDeclarations(name, info.lengthSized, lengths);
      module = deviceModule(device, name, code, info.parts);
    } catch (e) {
      return Promise.reject(e);
    }
    p = module.compiled.then(() =>
      device.createComputePipelineAsync({
        label: `${name}|${key}`,
        layout: k.pipelineLayout,
        compute: { module: module.module, entryPoint: info.entryPoint, constants: numeric },
      }),
    );
    // A failed compile must not stay cached: the next attempt retries.
    const kernel = k;
    p.then(
      (ready) => kernel.ready.set(key, ready),
      () => kernel.pipelines.delete(key),
    );
    k.pipelines.set(key, p);
  }
  return p;
}
