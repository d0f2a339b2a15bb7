import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// Library build: dist/index.js (ESM, shaders inlined as strings by ?raw). Dependencies stay external:
// wgsl_reflect is installed with the package, and `webgpu` is only loaded, by requestDevice() in
// Node, when there is no navigator.gpu.
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    minify: false,
    lib: { entry: resolve(import.meta.dirname, 'src/index.ts'), formats: ['es'], fileName: () => 'index.js' },
    rollupOptions: { external: ['webgpu', /^wgsl_reflect/] },
  },
});
