// The only module that uses wgsl_reflect: bind group layouts derived from the WGSL itself, and the
// checks that the host's buffers and constants match what a kernel declares.
//
// Layouts are explicit (never layout: 'auto'), built from every declared binding: 'auto' drops the
// bindings an entry point does not use (gpuweb/gpuweb#4577), and our kernels keep some bindings
// unused under some overrides (gru_step without LINEAR_BEFORE_RESET does not read rbh).
import { ResourceType, type StructInfo, WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import { ShaderContractError } from '../core/errors.js';
import { SHADER_STAGE_COMPUTE } from './helpers.js';

export interface BindingInfo {
  name: string;
  binding: number;
  kind: 'uniform' | 'read-only-storage' | 'storage';
  /** Fixed byte size (structs, uniforms); 0 for a runtime-sized array, or one sized by a host-generated length (kernels/sources.ts). */
  size: number;
  /** Element stride of a runtime-sized array. */
  stride: number;
  /** A uniform struct's u32 fields: their byte offsets by name (the host fills uniforms by name, fillUniform). */
  fields?: Record<string, number>;
}

export interface KernelInfo {
  name: string;
  code: string;
  entryPoint: string;
  bindings: BindingInfo[];
  /** Overrides the entry point uses, and whether each has a default in the WGSL. */
  overrides: { name: string; required: boolean }[];
  /** Every override declared in the module (the keys a pipeline's constants may use). */
  declaredOverrides: Set<string>;
}

export function reflectKernel(
  name: string,
  code: string,
  entryPoint: string,
  dynamicOffsets: readonly string[],
  lengthSized: readonly string[] = [],
): KernelInfo & { layoutEntries: GPUBindGroupLayoutEntry[] } {
  const reflect = new WgslReflect(code);
  const entry = reflect.entry.compute.find((e) => e.name === entryPoint);
  if (!entry) throw new ShaderContractError(`${name}: no compute entry point ${entryPoint}`);
  const groups = reflect.getBindGroups();
  if (groups.length !== 1) throw new ShaderContractError(`${name}: expected all bindings in @group(0), found ${groups.length} groups`);
  const bindings: BindingInfo[] = groups[0].filter(Boolean).map((v) => {
    let kind: BindingInfo['kind'];
    if (v.resourceType === ResourceType.Uniform) kind = 'uniform';
    else if (v.resourceType === ResourceType.Storage) kind = v.access === 'read' ? 'read-only-storage' : 'storage';
    else throw new ShaderContractError(`${name}: binding ${v.name} is neither a uniform nor a storage buffer`);
    // A length-sized array's size varies per pipeline: the layout (shared by them) says 0, and the
    // binding is checked like a runtime-sized one, against the words the host binds.
    const sizedPerPipeline = v.isArray && (v.count === 0 || lengthSized.includes(v.name));
    const fields =
      kind === 'uniform' && v.isStruct ? Object.fromEntries((v.type as StructInfo).members.map((m) => [m.name, m.offset])) : undefined;
    return { name: v.name, binding: v.binding, kind, size: sizedPerPipeline ? 0 : v.size, stride: v.stride, fields };
  });
  for (const dyn of dynamicOffsets) {
    if (!bindings.some((b) => b.name === dyn && b.kind === 'uniform'))
      throw new ShaderContractError(`${name}: dynamic-offset binding ${dyn} is not a uniform in the WGSL`);
  }
  const declared = new Map(reflect.overrides.map((o) => [o.name, o]));
  const overrides = entry.overrides.map((o) => ({ name: o.name, required: !hasDefault(code, o.name) }));
  const layoutEntries: GPUBindGroupLayoutEntry[] = bindings.map((b) => ({
    binding: b.binding,
    visibility: SHADER_STAGE_COMPUTE,
    buffer: { type: b.kind, hasDynamicOffset: dynamicOffsets.includes(b.name), minBindingSize: b.size },
  }));
  return { name, code, entryPoint: entry.name, bindings, overrides, declaredOverrides: new Set(declared.keys()), layoutEntries };
}

/** `override NAME: T = value;` has a default; `override NAME: T;` does not. */
function hasDefault(code: string, override: string): boolean {
  const m = new RegExp(`override\\s+${override}\\s*(:[^=;]*)?(=)?`).exec(code);
  return !!m && m[2] === '=';
}

/** Constants must name declared overrides, and every override the entry point needs without a default must be given. */
export function checkConstants(info: KernelInfo, constants: Record<string, number | boolean>): void {
  for (const key of Object.keys(constants)) {
    if (!info.declaredOverrides.has(key)) throw new ShaderContractError(`${info.name}: constant ${key} is not an override of the WGSL`);
  }
  for (const o of info.overrides) {
    if (o.required && !(o.name in constants))
      throw new ShaderContractError(`${info.name}: override ${o.name} has no default and was not given`);
  }
}

/**
 * Every binding of the kernel has exactly one buffer, none is extra, and each buffer holds at least
 * the bytes the WGSL type needs (fixed size) or `words` 4-byte words (runtime-sized arrays, rounded
 * up to whole elements: one buffer may be an array<f32> in one kernel and an array<vec4<f32>> in another).
 * `what` names the model part for the message (e.g. "layer 1").
 */
export function checkBindings(info: KernelInfo, provided: Record<string, { size: number; words?: number }>, what: string): void {
  const names = new Set(info.bindings.map((b) => b.name));
  for (const key of Object.keys(provided)) {
    if (!names.has(key)) throw new ShaderContractError(`${info.name} (${what}): the host binds ${key}, which the WGSL does not declare`);
  }
  for (const b of info.bindings) {
    const p = provided[b.name];
    if (!p) throw new ShaderContractError(`${info.name} (${what}): no buffer for binding ${b.name}`);
    const need = b.size > 0 ? b.size : b.stride * Math.ceil((4 * (p.words ?? 1)) / b.stride);
    if (p.size < need) throw new ShaderContractError(`${info.name} (${what}): ${b.name}: ${p.size} B < ${need} B`);
  }
}

/**
 * Writes a uniform struct of u32 fields into `words` at byte offset `base`, each value at its
 * field's reflected offset: every field of the WGSL struct must be given, and nothing else.
 */
export function fillUniform(info: KernelInfo, binding: string, words: Uint32Array, base: number, values: Record<string, number>): void {
  const fields = info.bindings.find((b) => b.name === binding)?.fields;
  if (!fields) throw new ShaderContractError(`${info.name}: no uniform struct binding ${binding}`);
  for (const name of Object.keys(fields)) {
    if (!(name in values)) throw new ShaderContractError(`${info.name}: ${binding}.${name} was not given a value by the host`);
  }
  for (const [name, v] of Object.entries(values)) {
    if (!(name in fields)) throw new ShaderContractError(`${info.name}: the host fills ${binding}.${name}, which the WGSL struct lacks`);
    words[(base + fields[name]) / 4] = v;
  }
}
