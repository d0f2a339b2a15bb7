// The kernel table and the per-device pipeline cache.
//
// Every specialisation input is a WGSL `override`, so a pipeline is identified by
// (kernel, constants) and the cache key is complete by construction. Bind group layouts come from
// reflection (reflect.ts) and are shared by every pipeline of one kernel on one device, so one set
// of bind groups serves all of a kernel's specialisations.
import projectionCommon from '../shaders/projection_common.wgsl?raw';
import inputProj from '../shaders/input_proj.wgsl?raw';
import inputGemv from '../shaders/input_gemv.wgsl?raw';
import stepCommon from '../shaders/step_common.wgsl?raw';
import stepMatvec from '../shaders/step_matvec.wgsl?raw';
import cellMath from '../shaders/cell_math.wgsl?raw';
import cellStep from '../shaders/cell_step.wgsl?raw';
import rnnStep from '../shaders/rnn_step.wgsl?raw';
import lstmStep from '../shaders/lstm_step.wgsl?raw';
import lstmProjection from '../shaders/lstm_projection.wgsl?raw';
import gruReset from '../shaders/gru_reset.wgsl?raw';
import gruStep from '../shaders/gru_step.wgsl?raw';
import subgroupEnable from '../shaders/subgroup_enable.wgsl?raw';
import cellSubgroup from '../shaders/cell_subgroup.wgsl?raw';
import stackStep from '../shaders/stack_step.wgsl?raw';
import precisionF32 from '../shaders/precision_f32.wgsl?raw';
import precisionF16 from '../shaders/precision_f16.wgsl?raw';
import { ShaderContractError } from './errors.js';
import { checkConstants, reflectKernel, type KernelInfo } from './reflect.js';

export type KernelName = 'input_proj' | 'input_gemv' | 'rnn_step' | 'lstm_step' | 'lstm_projection' | 'gru_reset' | 'gru_step'
  | 'rnn_seq' | 'lstm_seq' | 'gru_seq' | 'rnn_direct' | 'lstm_direct' | 'gru_direct' | 'gru_direct_reset' | 'lstm_projection_direct'
  | 'rnn_rows' | 'lstm_rows' | 'gru_rows' | 'rnn_subgroup' | 'lstm_subgroup' | 'gru_subgroup' | 'stack_step';
export type Constants = Record<string, number | boolean>;
/** The storage type of the weights (precision_f32.wgsl / precision_f16.wgsl). */
export type Precision = 'f32' | 'f16';
const PRECISION_SOURCES: Record<Precision, string> = { f32: precisionF32, f16: precisionF16 };

// Step kernels get step_common.wgsl prepended, then step_matvec.wgsl (the mat-vec helpers) and
// cell_math.wgsl (the cells' arithmetic) where they use them; the three cells also cell_step.wgsl,
// whose entry points are kernels here: `*_step` (main, one tiled timestep), `*_seq` (main_seq, the whole
// sequence in one dispatch), `*_direct` (main_direct, one barrier-free timestep), `*_rows`
// (main_rows, the whole sequence, one invocation per row), `*_subgroup` (main_subgroup of
// cell_subgroup.wgsl, split-K over a subgroup; needs the 'subgroups' feature) and
// gru_direct_reset (main_direct_phase1, the GRU's first half before gru_direct without
// linear_before_reset). stack_step (stack_step.wgsl) runs a whole unidirectional stack, every
// layer's projection and cell, in one dispatch. WGSL has no #include.
const cell = (body: string) => stepCommon + stepMatvec + cellMath + cellStep + body;
const step = ['step'];
// Every module is [directives] + the precision file + code: WGSL wants directives (the subgroup
// kernels' enable, precision_f16's enable) before any declaration.
const SOURCES: Record<KernelName, { directives?: string; code: string; entryPoint: string; dynamicOffsets: string[] }> = {
  input_proj: { code: projectionCommon + inputProj, entryPoint: 'main', dynamicOffsets: [] },
  input_gemv: { code: projectionCommon + inputGemv, entryPoint: 'main', dynamicOffsets: [] },
  rnn_step: { code: cell(rnnStep), entryPoint: 'main', dynamicOffsets: step },
  lstm_step: { code: cell(lstmStep), entryPoint: 'main', dynamicOffsets: step },
  gru_step: { code: cell(gruStep), entryPoint: 'main', dynamicOffsets: step },
  rnn_seq: { code: cell(rnnStep), entryPoint: 'main_seq', dynamicOffsets: step },
  lstm_seq: { code: cell(lstmStep), entryPoint: 'main_seq', dynamicOffsets: step },
  gru_seq: { code: cell(gruStep), entryPoint: 'main_seq', dynamicOffsets: step },
  rnn_direct: { code: cell(rnnStep), entryPoint: 'main_direct', dynamicOffsets: step },
  lstm_direct: { code: cell(lstmStep), entryPoint: 'main_direct', dynamicOffsets: step },
  gru_direct: { code: cell(gruStep), entryPoint: 'main_direct', dynamicOffsets: step },
  gru_direct_reset: { code: cell(gruStep), entryPoint: 'main_direct_phase1', dynamicOffsets: step },
  rnn_rows: { code: cell(rnnStep), entryPoint: 'main_rows', dynamicOffsets: step },
  lstm_rows: { code: cell(lstmStep), entryPoint: 'main_rows', dynamicOffsets: step },
  gru_rows: { code: cell(gruStep), entryPoint: 'main_rows', dynamicOffsets: step },
  rnn_subgroup: { directives: subgroupEnable, code: cell(rnnStep) + cellSubgroup, entryPoint: 'main_subgroup', dynamicOffsets: step },
  lstm_subgroup: { directives: subgroupEnable, code: cell(lstmStep) + cellSubgroup, entryPoint: 'main_subgroup', dynamicOffsets: step },
  gru_subgroup: { directives: subgroupEnable, code: cell(gruStep) + cellSubgroup, entryPoint: 'main_subgroup', dynamicOffsets: step },
  lstm_projection: { code: stepCommon + stepMatvec + lstmProjection, entryPoint: 'main', dynamicOffsets: step },
  lstm_projection_direct: { code: stepCommon + stepMatvec + lstmProjection, entryPoint: 'main_direct', dynamicOffsets: step },
  gru_reset: { code: stepCommon + stepMatvec + cellMath + gruReset, entryPoint: 'main', dynamicOffsets: step },
  stack_step: { code: stepCommon + cellMath + stackStep, entryPoint: 'main', dynamicOffsets: step },
};

export const KERNEL_NAMES = Object.keys(SOURCES) as KernelName[];

type Reflected = ReturnType<typeof reflectKernel>;
const reflected = new Map<string, Reflected>();

/** Reflection of one kernel at one precision (device-independent, computed once). */
export function kernelInfo(name: KernelName, precision: Precision = 'f32'): Reflected {
  const key = `${name}|${precision}`;
  let info = reflected.get(key);
  if (!info) {
    const src = SOURCES[name];
    info = reflectKernel(name, (src.directives ?? '') + PRECISION_SOURCES[precision] + src.code, src.entryPoint, src.dynamicOffsets);
    reflected.set(key, info);
  }
  return info;
}

interface DeviceKernel {
  module: GPUShaderModule;
  bindGroupLayout: GPUBindGroupLayout;
  pipelineLayout: GPUPipelineLayout;
  pipelines: Map<string, Promise<GPUComputePipeline>>;
  /** The pipelines that have finished compiling, for callers that cannot wait (Rnn.encode). */
  ready: Map<string, GPUComputePipeline>;
  /** Resolves when the module compiled; rejects with the compiler's messages otherwise. */
  compiled: Promise<void>;
}

const cache = new WeakMap<GPUDevice, Map<string, DeviceKernel>>();
/**
 * Shader modules by source text: the entry points of one cell (its tiled, sequence, direct and rows
 * kernels) are one module, created and compiled once per device rather than once per kernel.
 */
const modules = new WeakMap<GPUDevice, Map<string, { module: GPUShaderModule; compiled: Promise<void> }>>();

function deviceModule(device: GPUDevice, name: KernelName, code: string): { module: GPUShaderModule; compiled: Promise<void> } {
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
        throw new ShaderContractError(`${name}.wgsl does not compile: ${errors.map((msg) => `line ${msg.lineNum}: ${msg.message}`).join('; ')}`);
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
    const { module, compiled } = deviceModule(device, name, info.code);
    const bindGroupLayout = device.createBindGroupLayout({ label: name, entries: info.layoutEntries });
    const pipelineLayout = device.createPipelineLayout({ label: name, bindGroupLayouts: [bindGroupLayout] });
    k = { module, bindGroupLayout, pipelineLayout, pipelines: new Map(), ready: new Map(), compiled };
    perDevice.set(`${name}|${precision}`, k);
  }
  return k;
}

export function bindGroupLayout(device: GPUDevice, name: KernelName, precision: Precision = 'f32'): GPUBindGroupLayout {
  return deviceKernel(device, name, precision).bindGroupLayout;
}

function canonicalKey(constants: Constants): string {
  return Object.keys(constants).sort().map((k) => `${k}=${Number(constants[k])}`).join(',');
}

/** The pipeline of `name` with `constants` if it has finished compiling on this device, else undefined. */
export function readyPipeline(device: GPUDevice, name: KernelName, constants: Constants, precision: Precision = 'f32'): GPUComputePipeline | undefined {
  return cache.get(device)?.get(`${name}|${precision}`)?.ready.get(canonicalKey(constants));
}

/** The pipeline of `name` specialised with `constants`, compiled once per device. */
export function pipeline(device: GPUDevice, name: KernelName, constants: Constants, precision: Precision = 'f32'): Promise<GPUComputePipeline> {
  const info: KernelInfo = kernelInfo(name, precision);
  checkConstants(info, constants);
  const k = deviceKernel(device, name, precision);
  const key = canonicalKey(constants);
  let p = k.pipelines.get(key);
  if (!p) {
    const numeric: Record<string, number> = {};
    for (const [c, v] of Object.entries(constants)) numeric[c] = Number(v);
    p = k.compiled.then(() => device.createComputePipelineAsync({
      label: `${name}|${key}`,
      layout: k.pipelineLayout,
      compute: { module: k.module, entryPoint: info.entryPoint, constants: numeric },
    }));
    // A failed compile must not stay cached: the next attempt retries.
    const kernel = k;
    p.then((ready) => kernel.ready.set(key, ready), () => kernel.pipelines.delete(key));
    k.pipelines.set(key, p);
  }
  return p;
}
