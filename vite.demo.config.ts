// Vite config for the demo and benchmark pages (the library build is vite.config.ts).
// Root is the repository, so the pages can import src/, dist/ and what they share with the tests
// (common/reference.ts, common/onnx-writer.ts, common/random.ts) without copies:
//   /demo/index.html          a minimal interactive demo of the library
//   /demo/bench.html          the benchmark page (webgpu-rnn vs ONNX Runtime Web vs TF.js vs plain JS)
//   /demo/app/                the demo app: trained text generation and word segmentation
//   /demo/app/vad.html        the demo app's voice activity detection page (Silero VAD v5 from node_modules)
//   /demo/app/sw.js           its service worker (copied as is), for reloads without network
//   /test/browser/dist.html   the page the browser tests drive; it loads the built package dist/index.js
// `vite --config vite.demo.config.ts` serves them (http://127.0.0.1:5173/ redirects to /demo/);
// `vite build --config vite.demo.config.ts` writes a static site to node_modules/.cache/webgpu-rnn-demo
// (git-ignored through node_modules/) that `vite preview --config vite.demo.config.ts` serves.
import { defineConfig, type Plugin } from 'vite';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = import.meta.dirname;
export const DEMO_OUT_DIR = resolve(ROOT, 'node_modules/.cache/webgpu-rnn-demo');

/** `/` → `/demo/` in the dev and preview servers. */
function rootRedirect(): Plugin {
  const redirect = (
    req: { url?: string },
    res: { statusCode: number; setHeader(k: string, v: string): void; end(): void },
    next: () => void,
  ) => {
    if (req.url === '/' || req.url === '/index.html') {
      res.statusCode = 302;
      res.setHeader('Location', '/demo/');
      res.end();
    } else next();
  };
  return {
    name: 'webgpu-rnn-root-redirect',
    configureServer: (server) => void server.middlewares.use(redirect),
    configurePreviewServer: (server) => void server.middlewares.use(redirect),
  };
}

/** The demo app's service worker, emitted verbatim at demo/app/sw.js: a worker's scope is its own
 * folder, so it cannot become a hashed bundle under assets/. The dev server serves it from the tree. */
function appServiceWorker(): Plugin {
  return {
    name: 'webgpu-rnn-app-service-worker',
    apply: 'build',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'demo/app/sw.js', source: readFileSync(resolve(ROOT, 'demo/app/sw.js'), 'utf8') });
    },
  };
}

export default defineConfig({
  root: ROOT,
  appType: 'mpa',
  publicDir: false,
  plugins: [rootRedirect(), appServiceWorker()],
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  // ONNX Runtime Web locates its .wasm relative to its own module; pre-bundling would move it.
  // The page also sets ort.env.wasm.wasmPaths from a ?url import, so either way works.
  optimizeDeps: {
    exclude: ['onnxruntime-web'],
    include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', 'chart.js', 'wgsl_reflect'],
    entries: ['demo/*.html', 'demo/app/*.html', 'test/browser/*.html'],
  },
  build: {
    outDir: DEMO_OUT_DIR,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 8000,
    reportCompressedSize: false,
    rollupOptions: {
      input: {
        index: resolve(ROOT, 'demo/index.html'),
        bench: resolve(ROOT, 'demo/bench.html'),
        app: resolve(ROOT, 'demo/app/index.html'),
        vad: resolve(ROOT, 'demo/app/vad.html'),
        dist: resolve(ROOT, 'test/browser/dist.html'),
      },
    },
  },
});
