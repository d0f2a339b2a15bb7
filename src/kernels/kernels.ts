// The kernel table and the per-device pipeline cache.
//
// Every specialisation input is a WGSL `override`, except the lengths of the hot storage arrays
// (below), so a pipeline is identified by (kernel, constants, lengths) and the cache key is complete
// by construction. Bind group layouts come from reflection (reflect.ts) and are shared by every
// pipeline of one kernel on one device, so one set of bind groups serves all of a kernel's
// specialisations.
//
// Array lengths: WGSL sizes a storage array only with a const-expression (never an override), and a
// runtime-sized array costs its bounds clamp `min(i, arrayLength(&a) - 1)` on every access, where
// CPU emulators compute arrayLength as a vector integer division each time (SwiftShader's
// EmitArrayLength). So the weights and the recurrent vector, read once per multiply-add, are
// declared `array<T, NAME_LEN>` (or `NAME_LEN / 4u` elements of a vec4), and the host appends
// `const NAME_LEN: u32 = n;` to the module, n counted in scalars (`ArrayLengths`). Measured in
// Chromium on SwiftShader, a 512×512 LSTM mat-vec with quad-shared vector reads alone
// (2026-12-01): 1.30 ms per dispatch runtime-sized, 1.15 ms with fixed-size weights, 1.04 ms with
// the vector fixed too. The rest stay runtime-sized: arrays sized by T (x, xproj, y) would compile
// anew for each sequence length, and the others are read once per unit.
import projectionCommon from '../../shaders/lib/projection_common.wgsl?raw';
import inputProj from '../../shaders/kernels/input_proj.wgsl?raw';
import inputGemv from '../../shaders/kernels/input_gemv.wgsl?raw';
import inputGemvQuad from '../../shaders/kernels/input_gemv_quad.wgsl?raw';
import stepCommon from '../../shaders/lib/step_common.wgsl?raw';
import stepMatvec from '../../shaders/lib/step_matvec.wgsl?raw';
import cellMath from '../../shaders/lib/cell_math.wgsl?raw';
import cellStep from '../../shaders/kernels/cell_step.wgsl?raw';
import rnnStep from '../../shaders/cells/rnn_step.wgsl?raw';
import rnnEveryStep from '../../shaders/cells/rnn_every_step.wgsl?raw';
import clockwork from '../../shaders/cells/clockwork.wgsl?raw';
import lstmStep from '../../shaders/cells/lstm_step.wgsl?raw';
import lstmProjection from '../../shaders/kernels/lstm_projection.wgsl?raw';
import gruReset from '../../shaders/kernels/gru_reset.wgsl?raw';
import gruStep from '../../shaders/cells/gru_step.wgsl?raw';
import subgroupEnable from '../../shaders/lib/subgroup_enable.wgsl?raw';
import cellSubgroup from '../../shaders/kernels/cell_subgroup.wgsl?raw';
import stackStep from '../../shaders/kernels/stack_step.wgsl?raw';
import precisionF32 from '../../shaders/lib/precision_f32.wgsl?raw';
import precisionF16 from '../../shaders/lib/precision_f16.wgsl?raw';
import { CELL_TYPES, CELLS, type CellType } from '../model/cells.js';
import { ShaderContractError } from '../core/errors.js';
import { checkConstants, reflectKernel } from '../gpu/reflect.js';

/** Every WGSL file by name: kernels are named lists of them (WGSL has no #include). */
const SHADER_FILES: Readonly<Record<string, string>> = {
  'lib/projection_common.wgsl': projectionCommon,
  'kernels/input_proj.wgsl': inputProj,
  'kernels/input_gemv.wgsl': inputGemv,
  'kernels/input_gemv_quad.wgsl': inputGemvQuad,
  'lib/step_common.wgsl': stepCommon,
  'lib/step_matvec.wgsl': stepMatvec,
  'lib/cell_math.wgsl': cellMath,
  'kernels/cell_step.wgsl': cellStep,
  'cells/rnn_step.wgsl': rnnStep,
  'cells/rnn_every_step.wgsl': rnnEveryStep,
  'cells/clockwork.wgsl': clockwork,
  'cells/lstm_step.wgsl': lstmStep,
  'kernels/lstm_projection.wgsl': lstmProjection,
  'kernels/gru_reset.wgsl': gruReset,
  'cells/gru_step.wgsl': gruStep,
  'lib/subgroup_enable.wgsl': subgroupEnable,
  'kernels/cell_subgroup.wgsl': cellSubgroup,
  'kernels/stack_step.wgsl': stackStep,
  'lib/precision_f32.wgsl': precisionF32,
  'lib/precision_f16.wgsl': precisionF16,
};

/** The entry points cell_step.wgsl (and cell_subgroup.wgsl) give every cell, by kernel-name suffix. */
const CELL_ENTRY_POINTS = {
  step: 'main',
  seq: 'main_seq',
  direct: 'main_direct',
  rows: 'main_rows',
  subgroup: 'main_subgroup',
  direct_quad: 'main_direct_quad',
} as const;
/** The variants whose entry points are in cell_subgroup.wgsl (modules that need the 'subgroups' feature). */
const SUBGROUP_VARIANTS: ReadonlySet<string> = new Set(['subgroup', 'direct_quad']);
export type CellKernelVariant = keyof typeof CELL_ENTRY_POINTS;

/**
 * The hooks cell_step.wgsl's entry points call, which each cell's WGSL files must define
 * (test/shaders.test.ts checks both sides by reflection).
 */
export const CELL_HOOKS = [
  'load_vector',
  'load_weights',
  'advance_unit',
  'store_next',
  'phase1_weights',
  'phase1_unit',
  'store_phase1',
] as const;

export type KernelName =
  | 'input_proj'
  | 'input_gemv'
  | 'input_gemv_quad'
  | `${CellType}_${CellKernelVariant}`
  | 'gru_reset'
  | 'gru_direct_reset'
  | 'gru_direct_reset_quad'
  | 'lstm_projection'
  | 'lstm_projection_direct'
  | 'stack_step';
export type Constants = Record<string, number | boolean>;
/** The storage type of the weights (precision_f32.wgsl / precision_f16.wgsl). */
export type Precision = 'f32' | 'f16';
const PRECISION_FILES: Record<Precision, string> = { f32: 'lib/precision_f32.wgsl', f16: 'lib/precision_f16.wgsl' };

/** A cell's kernel of one variant: `${cell}_${variant}`. */
export function cellKernel(cell: CellType, variant: CellKernelVariant): KernelName {
  return `${cell}_${variant}`;
}

interface KernelSource {
  /** Files with directives (`enable …`), which WGSL wants before any declaration. */
  directives?: string[];
  files: string[];
  entryPoint: string;
  dynamicOffsets: string[];
}

// Step kernels get step_common.wgsl prepended, then step_matvec.wgsl (the mat-vec helpers) and
// cell_math.wgsl (the cells' arithmetic) where they use them; every cell also gets cell_step.wgsl,
// whose entry points are kernels here: `*_step` (main, one tiled timestep), `*_seq` (main_seq, the whole
// sequence in one dispatch), `*_direct` (main_direct, one barrier-free timestep), `*_rows`
// (main_rows, the whole sequence, one invocation per row), `*_subgroup` (main_subgroup of
// cell_subgroup.wgsl, split-K over a subgroup) and `*_direct_quad` (main_direct_quad there: the
// direct step sharing vector reads within quads), both needing the 'subgroups' feature, followed by the
// cell's own files (cells.ts). gru_direct_reset is main_direct_phase1, the GRU's first half before
// gru_direct without linear_before_reset (gru_direct_reset_quad its quad form, before gru_direct_quad). stack_step (stack_step.wgsl) runs a whole
// unidirectional stack, every layer's projection and cell, in one dispatch.
const CELL_PRELUDE = ['lib/step_common.wgsl', 'lib/step_matvec.wgsl', 'lib/cell_math.wgsl', 'kernels/cell_step.wgsl'];
const step = ['step'];

function cellSources(): Record<`${CellType}_${CellKernelVariant}`, KernelSource> {
  const out = {} as Record<`${CellType}_${CellKernelVariant}`, KernelSource>;
  for (const c of CELL_TYPES) {
    const files = [...CELL_PRELUDE, ...CELLS[c].shaders];
    for (const [variant, entryPoint] of Object.entries(CELL_ENTRY_POINTS) as [CellKernelVariant, string][]) {
      out[cellKernel(c, variant) as `${CellType}_${CellKernelVariant}`] = SUBGROUP_VARIANTS.has(variant)
        ? { directives: ['lib/subgroup_enable.wgsl'], files: [...files, 'kernels/cell_subgroup.wgsl'], entryPoint, dynamicOffsets: step }
        : { files, entryPoint, dynamicOffsets: step };
    }
  }
  return out;
}

// Every module is [directives] + the precision file + the files.
const SOURCES: Record<KernelName, KernelSource> = {
  input_proj: { files: ['lib/projection_common.wgsl', 'kernels/input_proj.wgsl'], entryPoint: 'main', dynamicOffsets: [] },
  input_gemv: { files: ['lib/projection_common.wgsl', 'kernels/input_gemv.wgsl'], entryPoint: 'main', dynamicOffsets: [] },
  // input_gemv with the reads of x shared within quads (needs the 'subgroups' feature).
  input_gemv_quad: {
    directives: ['lib/subgroup_enable.wgsl'],
    files: ['lib/projection_common.wgsl', 'kernels/input_gemv.wgsl', 'kernels/input_gemv_quad.wgsl'],
    entryPoint: 'main_quad',
    dynamicOffsets: [],
  },
  ...cellSources(),
  gru_direct_reset: { files: [...CELL_PRELUDE, ...CELLS.gru.shaders], entryPoint: 'main_direct_phase1', dynamicOffsets: step },
  gru_direct_reset_quad: {
    directives: ['lib/subgroup_enable.wgsl'],
    files: [...CELL_PRELUDE, ...CELLS.gru.shaders, 'kernels/cell_subgroup.wgsl'],
    entryPoint: 'main_direct_phase1_quad',
    dynamicOffsets: step,
  },
  lstm_projection: {
    files: ['lib/step_common.wgsl', 'lib/step_matvec.wgsl', 'kernels/lstm_projection.wgsl'],
    entryPoint: 'main',
    dynamicOffsets: step,
  },
  lstm_projection_direct: {
    files: ['lib/step_common.wgsl', 'lib/step_matvec.wgsl', 'kernels/lstm_projection.wgsl'],
    entryPoint: 'main_direct',
    dynamicOffsets: step,
  },
  gru_reset: {
    files: ['lib/step_common.wgsl', 'lib/step_matvec.wgsl', 'lib/cell_math.wgsl', 'kernels/gru_reset.wgsl'],
    entryPoint: 'main',
    dynamicOffsets: step,
  },
  stack_step: {
    files: ['lib/step_common.wgsl', 'lib/cell_math.wgsl', 'kernels/stack_step.wgsl'],
    entryPoint: 'main',
    dynamicOffsets: step,
  },
};

/** The file names a kernel's module is made of, in order, at `precision`. */
function moduleFiles(name: KernelName, precision: Precision): string[] {
  const src = SOURCES[name];
  return [...(src.directives ?? []), PRECISION_FILES[precision], ...src.files];
}

/** Where line `line` (1-based) of a module made of `files` comes from: `file.wgsl:line`. */
export function sourceLocation(files: readonly string[], line: number): string {
  let first = 1;
  for (const f of files) {
    const lines = SHADER_FILES[f].split('\n').length - (SHADER_FILES[f].endsWith('\n') ? 1 : 0);
    if (line < first + lines) return `${f}:${line - first + 1}`;
    first += lines;
  }
  return `line ${line}`;
}

export const KERNEL_NAMES = Object.keys(SOURCES) as KernelName[];

/**
 * Scalars (weights or f32s) in each storage array that a kernel sizes with a generated const, by
 * binding name: binding `r_t` is sized by `R_T_LEN`. Bound buffers must hold at least that many.
 */
export type ArrayLengths = Readonly<Record<string, number>>;

/**
 * The bindings a module's WGSL sizes by a `NAME_LEN` const: `var<storage, …> r_t: array<T, R_T_LEN…>`
 * (the const is named after its binding, which the host's lengths are keyed by).
 */
function lengthNames(name: string, code: string): string[] {
  const out = new Set<string>();
  for (const m of code.matchAll(/var<storage[^>]*>\s*(\w+)\s*:\s*array<[^;]*?\b([A-Z][A-Z0-9_]*)_LEN\b/g)) {
    if (m[2] !== m[1].toUpperCase())
      throw new ShaderContractError(
        `${name}: binding ${m[1]} is sized by ${m[2]}_LEN; name the const after the binding (${m[1].toUpperCase()}_LEN)`,
      );
    out.add(m[1]);
  }
  return [...out].sort();
}

/**
 * The consts that size a module's length-sized arrays, appended at its end (module-scope
 * declarations may follow their uses in WGSL, and appending keeps `enable` directives first and
 * compiler messages' line numbers those of the files).
 */
function lengthDeclarations(name: KernelName, sized: readonly string[], lengths: ArrayLengths): string {
  return sized
    .map((binding) => {
      const n = lengths[binding];
      if (!(Number.isInteger(n) && n > 0))
        throw new ShaderContractError(
          `${name}: binding ${binding} is sized by ${binding.toUpperCase()}_LEN, but the host gave no length for it`,
        );
      return `const ${binding.toUpperCase()}_LEN: u32 = ${n}u;\n`;
    })
    .join('');
}

/**
 * Reflection and the race detector (test/shaders.test.ts) see length-sized arrays at this many
 * scalars; their bindings are treated as runtime-sized (checked against the words the host binds).
 */
const REFLECTION_LENGTH = 1 << 14;

type Reflected = ReturnType<typeof reflectKernel> & {
  /** The module's WGSL without the length consts. */
  files: string;
  /** The bindings sized by a generated `NAME_LEN` const, sorted. */
  lengthSized: string[];
};
const reflected = new Map<string, Reflected>();

/** Reflection of one kernel at one precision (device-independent, computed once). */
export function kernelInfo(name: KernelName, precision: Precision = 'f32'): Reflected {
  const key = `${name}|${precision}`;
  let info = reflected.get(key);
  if (!info) {
    const src = SOURCES[name];
    const files = moduleFiles(name, precision)
      .map((f) => SHADER_FILES[f])
      .join('');
    const sized = lengthNames(name, files);
    const code = files + lengthDeclarations(name, sized, Object.fromEntries(sized.map((b) => [b, REFLECTION_LENGTH])));
    info = { ...reflectKernel(name, code, src.entryPoint, src.dynamicOffsets, sized), files, lengthSized: sized };
    reflected.set(key, info);
  }
  return info;
}

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
  files: readonly string[],
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
          `kernel ${name} does not compile: ${errors.map((msg) => `${sourceLocation(files, msg.lineNum)}: ${msg.message}`).join('; ')}`,
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
      module = deviceModule(device, name, code, moduleFiles(name, precision));
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
