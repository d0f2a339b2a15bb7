// The page's ONNX Runtime Web engines: the WebGPU EP and the one-thread WASM EP, with the .wasm files
// served by vite (?url), which is why the Node bench (scripts/bench-node.ts) has its own loaders.
import { loadOrtWeb, ortEngine } from './ort.js';
import type { Engine } from '../types.js';
import asyncifyWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import plainWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';

export function ortWebEngine(kind: 'webgpu' | 'wasm'): Engine {
  return ortEngine({
    id: `ort-${kind}`,
    label: kind === 'webgpu' ? 'ORT-Web WebGPU EP' : 'ORT-Web WASM (1 thread)',
    ep: kind,
    load: () => loadOrtWeb(kind, { wasm: kind === 'webgpu' ? asyncifyWasmUrl : plainWasmUrl }),
  });
}

/** ONNX Runtime Web itself, with the page's .wasm files (the Silero model benchmark runs whole models on it). */
export function ortWeb(kind: 'webgpu' | 'wasm'): ReturnType<typeof loadOrtWeb> {
  return loadOrtWeb(kind, { wasm: kind === 'webgpu' ? asyncifyWasmUrl : plainWasmUrl });
}
