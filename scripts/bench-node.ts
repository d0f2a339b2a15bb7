// The benchmark in Node over Dawn (the `webgpu` package): the shapes, runner and JSON of the browser page
// (demo/bench/), for machines with a GPU and no browser. Bundled by vite.bench-node.config.ts into one
// self-contained file, dist-bench/bench-node.mjs, that plain `node` runs with only `webgpu` installed:
//
//   node dist-bench/bench-node.mjs [--quick | --full | --config NAME] [--shapes id,id] [--engines id,id]
//                                  [--reps N] [--out file.json] [--adapter NAME]
//
// `--engines` takes engine ids; `webgpu-rnn*` stands for every webgpu-rnn variant. `--adapter` (or the
// WEBGPU_RNN_ADAPTER environment variable, as for the library's requestDevice()) picks the Dawn adapter
// by a substring of its name, e.g. llvmpipe or SwiftShader. The optional engines (onnxruntime-node,
// onnxruntime-web, TF.js) are imported at run time from node_modules and reported n/a where absent.
import fs, { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { requestDevice } from '../src/index.js';
import { jsEngine } from '../demo/bench/engines/js.js';
import { loadOrtWeb, offerOrtLine, ortEngine, type Ort } from '../demo/bench/engines/ort.js';
import { tfjsEngine } from '../demo/bench/engines/tfjs.js';
import { PROJECTION_KERNEL_VARIANTS, STEP_KERNEL_VARIANTS, webgpuRnnEngine, type Variant } from '../demo/bench/engines/webgpu-rnn.js';
import { installInstrumentation } from '../demo/bench/instrument.js';
import { adapterLine, adapterReport, failedEngines, formatTable, type BenchResults } from '../demo/bench/report.js';
import { benchShape, TOLERANCE } from '../demo/bench/runner.js';
import { selectConfig } from '../demo/bench/shapes.js';
import type { Engine } from '../demo/bench/types.js';
import { benchArgs } from './args.js';

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const log = (msg: string) => console.log(`${elapsed().padStart(7)} ${msg}`);
const { option, config: configName } = benchArgs(process.argv.slice(2));
if (option('adapter')) process.env.WEBGPU_RNN_ADAPTER = option('adapter');

type DawnModule = { create: (flags: string[]) => GPU; globals: Record<string, unknown> };

/**
 * Dawn's GPU object as navigator.gpu, so that requestDevice() picks it (with the same adapter toggle it
 * would use itself), adapterReport() describes the same adapter, and ORT Web and TF.js find WebGPU.
 */
async function installDawn(): Promise<{ gpu: GPU; version: string }> {
  let mod: DawnModule;
  try {
    mod = (await import('webgpu')) as unknown as DawnModule;
  } catch (e) {
    throw new Error(
      `the 'webgpu' package (Dawn for Node) could not be loaded: npm install webgpu next to this file (${(e as Error).message})`,
    );
  }
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const adapter = process.env.WEBGPU_RNN_ADAPTER;
  const gpu = mod.create(adapter ? [`adapter=${adapter}`] : []);
  // Node 21+ has a navigator of its own (without gpu): extend it; Node 20 has none: make one.
  const g = globalThis as { navigator?: { gpu?: GPU; userAgent?: string } };
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  if (g.navigator?.gpu !== gpu) {
    const userAgent = g.navigator?.userAgent ?? `Node.js/${process.version}`;
    Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent }, configurable: true, writable: true });
  }
  copySharedWrites();
  routeOrtWrites();
  let version = '?';
  try {
    version = (createRequire(import.meta.url)('webgpu/package.json') as { version: string }).version;
  } catch {
    /* only for the report */
  }
  return { gpu, version };
}

/**
 * Dawn for Node (webgpu 0.6.2) cannot take data that lives in a SharedArrayBuffer: queue.writeBuffer()
 * with such a view crashes the process (segmentation fault) or throws "Invalid argument". ONNX Runtime
 * Web's WebAssembly memory is shared (its builds are all threaded), and it uploads tensors straight
 * from it, so such writes are copied to an ordinary ArrayBuffer first. Other data passes untouched.
 */
function copySharedWrites(): void {
  const queue = GPUQueue.prototype;
  const write = queue.writeBuffer;
  type Data = Parameters<typeof write>[2];
  queue.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, offset: number, data: Data, dataOffset?: number, size?: number) {
    const view = ArrayBuffer.isView(data) ? data : new Uint8Array(data as ArrayBufferLike);
    if (!(view.buffer instanceof SharedArrayBuffer)) return write.call(this, buffer, offset, data, dataOffset, size);
    // dataOffset and size count elements of a typed array, bytes otherwise (a DataView or a bare buffer).
    const unit = (view as Partial<Uint8Array>).BYTES_PER_ELEMENT ?? 1;
    const start = view.byteOffset + (dataOffset ?? 0) * unit;
    const bytes = size !== undefined ? size * unit : view.byteLength - (dataOffset ?? 0) * unit;
    return write.call(this, buffer, offset, new Uint8Array(view.buffer, start, bytes).slice());
  };
}

/**
 * ORT Web's WebAssembly module, in Node, prints its log with fs.writeSync(1 or 2, line) rather than through
 * the console the page hooks: route those lines to ort.ts's capture too, which reads the node placement
 * from them (and keeps the verbose session log off the terminal).
 */
function routeOrtWrites(): void {
  const write = fs.writeSync as (fd: number, data: unknown, ...rest: unknown[]) => number;
  (fs as { writeSync: typeof write }).writeSync = (fd, data, ...rest) =>
    (fd === 1 || fd === 2) && typeof data === 'string' && offerOrtLine(data.trimEnd()) ? Buffer.byteLength(data) : write(fd, data, ...rest);
}

/** `engine`, or where `packages` are not installed next to this file, the same engine reported n/a with the reason. */
function optional(engine: Engine, packages: string[]): Engine {
  for (const name of packages) {
    try {
      import.meta.resolve(name);
    } catch (e) {
      const why = `${name} is not installed (optional engine): ${(e as Error).message.split('\n')[0]}`;
      return { ...engine, unsupported: () => why };
    }
  }
  return engine;
}

/** Every engine; the webgpu-rnn ones only with a device (as on the page). */
function engineList(device: GPUDevice | undefined): Engine[] {
  const variants: Variant[] = ['auto', ...STEP_KERNEL_VARIANTS, ...PROJECTION_KERNEL_VARIANTS, 'tune', 'f16'];
  const ortNode = ortEngine({
    id: 'ort-node',
    label: 'onnxruntime-node (CPU EP)',
    ep: 'cpu',
    placement: 'cpu (onnxruntime-node)',
    load: async () => (await import('onnxruntime-node')) as unknown as Ort,
  });
  const ortWeb = (kind: 'webgpu' | 'wasm') =>
    ortEngine({
      id: `ort-${kind}`,
      label: kind === 'webgpu' ? 'ORT-Web WebGPU EP (in Node)' : 'ORT-Web WASM (1 thread, in Node)',
      ep: kind,
      load: () => loadOrtWeb(kind),
    });
  return [
    ...(device ? variants.map((v) => webgpuRnnEngine(device, v)) : []),
    optional(ortNode, ['onnxruntime-node']),
    optional(ortWeb('webgpu'), ['onnxruntime-web']),
    optional(ortWeb('wasm'), ['onnxruntime-web']),
    optional(tfjsEngine(), ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu']),
    jsEngine(),
  ];
}

/** `--engines a,b,webgpu-rnn*`: the engines named, in the list's order; a trailing * matches a prefix. */
function pickEngines(all: Engine[], spec: string | undefined): Engine[] {
  if (!spec) return all;
  const wanted = spec.split(',');
  const matches = (id: string, w: string) => (w.endsWith('*') ? id.startsWith(w.slice(0, -1)) : id === w);
  const unknown = wanted.filter((w) => !all.some((e) => matches(e.id, w)));
  if (unknown.length) throw new Error(`no engine ${unknown.join(', ')}; engines: ${all.map((e) => e.id).join(', ')}`);
  return all.filter((e) => wanted.some((w) => matches(e.id, w)));
}

async function main(): Promise<number> {
  const cfg = selectConfig(configName, { shapes: option('shapes')?.split(','), reps: Number(option('reps')) || undefined });
  const { gpu, version } = await installDawn();
  const results: BenchResults = {
    done: false,
    config: configName,
    startedAt: new Date().toISOString(),
    userAgent: `Node.js ${process.version} (${process.platform} ${process.arch}); webgpu ${version} (Dawn)`,
    adapter: await adapterReport(gpu),
    tolerance: TOLERANCE,
    engines: [],
    shapes: [],
  };
  const a = results.adapter;
  console.log(`adapter: ${adapterLine(results)}`);
  if (a) console.log(`  vendor: ${a.vendor}  architecture: ${a.architecture}  device: ${a.device}  description: ${a.description}`);
  installInstrumentation();
  let device: GPUDevice | undefined;
  try {
    device = await requestDevice();
    void device.lost.then((l) => l.reason !== 'destroyed' && log(`webgpu-rnn device lost: ${l.message}`));
  } catch (e) {
    log(`webgpu-rnn unavailable: ${(e as Error).message}`);
  }
  const engines = pickEngines(engineList(device), option('engines'));
  results.engines = engines.map((e) => ({ id: e.id, label: e.label }));
  log(
    `configuration ${cfg.name}: ${cfg.shapes.length} shapes × ${engines.length} engines, warm-up ${cfg.warmup}, up to ${cfg.reps} timed runs`,
  );
  try {
    for (const shape of cfg.shapes) results.shapes.push(await benchShape(shape, engines, cfg, { log }));
  } catch (e) {
    results.error = String((e as Error).stack ?? e);
    log(`error: ${results.error}`);
  } finally {
    results.finishedAt = new Date().toISOString();
    results.done = true;
  }
  console.log(`\nadapter: ${adapterLine(results)}`);
  console.log(
    `config: ${results.config}; agreement tolerance vs float64 reference: ${results.tolerance.atol} + ${results.tolerance.rtol}·|ref|`,
  );
  console.log(formatTable(results));
  const out = resolve(option('out') ?? `bench-results/${results.startedAt.replace(/[:.]/g, '-')}-${configName}-node.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2));
  console.log(`\nwrote ${out} (${elapsed()})`);
  device?.destroy();
  delete (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!a) console.error('no WebGPU adapter: the GPU engines could not run');
  // An engine that failed (not one that does not apply) fails the run, as it fails the tests.
  const failed = failedEngines(results);
  if (failed.length) console.error(`failed:\n  ${failed.join('\n  ')}`);
  return results.error || !a || failed.length ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(`bench-node: ${(e as Error).message}`);
}
// ORT and TF.js may leave handles open; the results are written.
process.exit(code);
