// Bundles the Node benchmark (scripts/bench-node.ts) into one ES module, dist-bench/bench-node.mjs, that
// plain `node` runs on a machine with nothing but Node and the `webgpu` package: the library (shaders
// inlined), wgsl_reflect, the runner, the float64 reference and the ONNX writer are all inside. Left
// outside: `webgpu` (a native addon) and the optional engines' packages, which the bench imports at run
// time and reports n/a when they are missing. `npm run build:bench-node` (part of `npm run build`).
import { defineConfig } from 'vite';
import { resolve } from 'node:path';

/** Imported at run time from node_modules: Dawn, and the optional engines' packages. */
const EXTERNAL = [/^webgpu(\/|$)/, /^onnxruntime-(node|web)(\/|$)/, /^@tensorflow\//];

export default defineConfig({
  publicDir: false,
  logLevel: 'warn',
  ssr: { noExternal: true, target: 'node' },
  build: {
    ssr: resolve(import.meta.dirname, 'scripts/bench-node.ts'),
    outDir: resolve(import.meta.dirname, 'dist-bench'),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: false,
    rollupOptions: {
      external: EXTERNAL,
      output: { format: 'es', entryFileNames: 'bench-node.mjs', codeSplitting: false },
    },
  },
});
