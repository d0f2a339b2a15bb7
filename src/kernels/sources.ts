// The kernel table: every kernel as a list of WGSL files, its entry point and dynamic-offset
// bindings, and its reflection (device-independent). kernels/pipelines.ts compiles them per device.
//
// Every specialisation input is a WGSL `override`, except the lengths of the hot storage arrays
// (below), so a pipeline is identified by (kernel, constants, lengths) and the cache key is complete
// by construction. Bind group layouts come from reflection (gpu/reflect.ts) and are shared by every
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
import { ShaderContractError } from '../core/errors.js';
import { reflectKernel } from '../gpu/reflect.js';
import { CELL_TYPES, CELLS } from '../model/cells.js';
import type { CellType, Precision } from '../model/types.js';
import { SHARED_CONSTANTS } from './constants.js';

/**
 * Every WGSL file under shaders/, by its path there ('cells/lstm_step.wgsl'): kernels are named lists
 * of them (WGSL has no #include). Vite's eager glob inlines them as strings into the library build,
 * so a new file needs no registration here.
 */
const SHADER_FILES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(import.meta.glob<string>('../../shaders/**/*.wgsl', { query: '?raw', import: 'default', eager: true })).map(
    ([path, text]) => [path.slice('../../shaders/'.length), text],
  ),
);

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
 * (test/unit/shaders.test.ts checks both sides by reflection).
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
  | 'stack_step'
  | GraphKernelName;

/** The ONNX graph executor's kernels (shaders/kernels/graph_*.wgsl), one per family of float tensor ops. */
export const GRAPH_KERNELS = ['elementwise', 'gather', 'conv', 'conv_tile', 'reduce', 'matmul', 'softmax'] as const;

export type GraphKernelName = `graph_${(typeof GRAPH_KERNELS)[number]}`;

/** The files a graph kernel needs between graph_common.wgsl and its own. */
const GRAPH_LIBS: Partial<Record<(typeof GRAPH_KERNELS)[number], string[]>> = {
  conv: ['lib/conv_common.wgsl'],
  conv_tile: ['lib/conv_common.wgsl'],
};

function graphSources(): Record<GraphKernelName, KernelSource> {
  return Object.fromEntries(
    GRAPH_KERNELS.map((k) => [
      `graph_${k}`,
      { files: ['lib/graph_common.wgsl', ...(GRAPH_LIBS[k] ?? []), `kernels/graph_${k}.wgsl`], entryPoint: 'main', dynamicOffsets: [] },
    ]),
  ) as unknown as Record<GraphKernelName, KernelSource>;
}
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
// cell's own files (model/cells.ts). gru_direct_reset is main_direct_phase1, the GRU's first half before
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
  ...graphSources(),
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
export function moduleFiles(name: KernelName, precision: Precision): string[] {
  return moduleParts(name, precision)
    .map((p) => p.file)
    .filter((f) => f !== SHARED_PART);
}

/** Where line `line` (1-based) of a module made of `files` comes from: `file.wgsl:line`. */
export function sourceLocation(parts: readonly ModulePart[], line: number): string {
  let first = 1;
  for (const { file, text } of parts) {
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (line < first + lines) return `${file}:${line - first + 1}`;
    first += lines;
  }
  return `line ${line}`;
}

/** One piece of a module's WGSL: a file, or the host-emitted shared constants (SHARED_PART). */
export interface ModulePart {
  file: string;
  text: string;
}

/** The name of the module part that holds the shared constants (constants.ts), in messages. */
export const SHARED_PART = '(host constants, kernels/constants.ts)';

/**
 * A module's parts in order: its directive files and the precision file (`enable` directives must
 * come first, and precision_f16.wgsl has one), then the shared constants it uses (declared before
 * the kernel's files: wgsl_reflect's interpreter evaluates module-scope declarations in order),
 * then the kernel's files.
 */
export function moduleParts(name: KernelName, precision: Precision): ModulePart[] {
  const src = SOURCES[name];
  const part = (file: string): ModulePart => ({ file, text: SHADER_FILES[file] });
  // The precision file opens with its own `enable f16;` where it has one: it goes before the constants too.
  const head = [...(src.directives ?? []), PRECISION_FILES[precision]].map(part);
  const body = src.files.map(part);
  const shared = sharedDeclarations(name, [...head, ...body].map((p) => p.text).join(''));
  return [...head, ...(shared ? [{ file: SHARED_PART, text: shared }] : []), ...body];
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
 * declarations may follow their uses in WGSL, and appending keeps `enable` directives first; the
 * module's parts, the host constants among them, map compiler messages' lines back to files).
 */
export function lengthDeclarations(name: KernelName, sized: readonly string[], lengths: ArrayLengths): string {
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
 * The shared constants (constants.ts) a module's WGSL uses, as declarations: the host is their one
 * source, so a file that declares one itself is a contract error.
 */
function sharedDeclarations(name: KernelName, code: string): string {
  return Object.entries(SHARED_CONSTANTS)
    .filter(([c]) => new RegExp(`\\b${c}\\b`).test(code))
    .map(([c, v]) => {
      if (new RegExp(`\\bconst\\s+${c}\\b`).test(code))
        throw new ShaderContractError(
          `${name}: the WGSL declares ${c}, which the host emits (kernels/constants.ts); remove the declaration`,
        );
      return `const ${c}: u32 = ${v}u;\n`;
    })
    .join('');
}

/**
 * Reflection and the race detector (test/unit/shaders.test.ts) see length-sized arrays at this many
 * scalars; their bindings are treated as runtime-sized (checked against the words the host binds).
 */
const REFLECTION_LENGTH = 1 << 14;

export type Reflected = ReturnType<typeof reflectKernel> & {
  /** The module's WGSL (its parts joined), without the length consts. */
  files: string;
  parts: ModulePart[];
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
    const parts = moduleParts(name, precision);
    const files = parts.map((p) => p.text).join('');
    const sized = lengthNames(name, files);
    const code = files + lengthDeclarations(name, sized, Object.fromEntries(sized.map((b) => [b, REFLECTION_LENGTH])));
    info = { ...reflectKernel(name, code, src.entryPoint, src.dynamicOffsets, sized), files, parts, lengthSized: sized };
    reflected.set(key, info);
  }
  return info;
}
