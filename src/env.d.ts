// Module shims: WGSL sources are imported as text (Vite's ?raw, inlined by the library build), and
// wgsl_reflect is imported through its ES-module file (its package "main" is CommonJS, which fails
// under Node ESM; see ../shared/reference/webgpu-on-linux-without-gpu.md §9).
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
