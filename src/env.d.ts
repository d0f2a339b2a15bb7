// Module shim: wgsl_reflect is imported through its ES-module file (its package "main" is CommonJS,
// which fails under Node ESM; see ../shared/reference/webgpu-on-linux-without-gpu.md §9). The WGSL
// sources come in through Vite's import.meta.glob (kernels/sources.ts), typed by vite/client.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
