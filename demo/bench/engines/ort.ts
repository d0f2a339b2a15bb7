// ONNX Runtime engines, one per flavor: ONNX Runtime Web 1.30's WebGPU EP (only the 'onnxruntime-web/webgpu'
// bundle has the native EP with LSTM/GRU kernels; the default import silently runs them on the CPU,
// anchors.md §7) and WASM EP ('onnxruntime-web/wasm', one thread), in the page (ort-web.ts) or in Node,
// and onnxruntime-node on the CPU (Node bench). Models are built with the test-side ONNX writer.
import type { LayerWeights } from '../../../src/index.js';
import { concatFloat32 as concat } from '../../../src/core/numbers.js';
import { attr, onnxModel, type InitializerDef, type NodeDef, type ValueDef } from '../../../common/onnx-writer.js';
import { dirs, GATES, type BenchShape } from '../shapes.js';
import { NotApplicable, type Engine, type Outputs, type Prepared } from '../types.js';

/** The ONNX Runtime API the engine uses; onnxruntime-node's module (onnxruntime-common too) is cast to it. */
export type Ort = typeof import('onnxruntime-web/webgpu');

/** How one ONNX Runtime engine loads ORT and which execution provider it asks for. */
export interface OrtFlavor {
  id: string;
  label: string;
  /** The session's executionProviders entry. */
  ep: 'webgpu' | 'wasm' | 'cpu';
  load(): Promise<Ort>;
  /**
   * Where the work runs, when ORT's log cannot tell (onnxruntime-node logs natively to stderr, so its
   * verbose session log is neither asked for nor parsed). Absent: the placement is read from the log.
   */
  placement?: string;
}

/** One ONNX node per layer; between layers Y [T, D, B, H] → Transpose → Reshape → [T, B, D·H]. */
export function buildOnnxModel(s: BenchShape, weights: LayerWeights[]): Uint8Array {
  const D = dirs(s);
  const G = GATES[s.cell];
  const H = s.hiddenSize;
  const T = s.stream ? 1 : s.seqLen;
  const B = s.batch;
  const op = s.cell === 'lstm' ? 'LSTM' : s.cell === 'gru' ? 'GRU' : 'RNN';
  const nodes: NodeDef[] = [];
  const inputs: ValueDef[] = [{ name: 'X', dims: [T, B, s.inputSize] }];
  const outputs: ValueDef[] = [{ name: 'Y', dims: [T, D, B, H] }];
  const initializers: InitializerDef[] = [{ name: 'shape_tb_', dims: [3], data: BigInt64Array.from([0n, 0n, -1n]) }];
  let xName = 'X';
  for (let l = 0; l < s.numLayers; l++) {
    const I = l === 0 ? s.inputSize : D * H;
    const w = weights[l];
    initializers.push({ name: `W${l}`, dims: [D, G * H, I], data: w.W as Float32Array });
    initializers.push({ name: `R${l}`, dims: [D, G * H, H], data: w.R as Float32Array });
    initializers.push({ name: `B${l}`, dims: [D, 2 * G * H], data: (w.B as Float32Array | undefined) ?? new Float32Array(D * 2 * G * H) });
    const nodeInputs = [xName, `W${l}`, `R${l}`, `B${l}`];
    if (s.stream) {
      nodeInputs.push('', `h0_${l}`);
      inputs.push({ name: `h0_${l}`, dims: [D, B, H] });
      if (s.cell === 'lstm') {
        nodeInputs.push(`c0_${l}`);
        inputs.push({ name: `c0_${l}`, dims: [D, B, H] });
      }
    }
    const last = l === s.numLayers - 1;
    const y = last ? 'Y' : `Y${l}`;
    const nodeOutputs = [y, `Y_h${l}`];
    outputs.push({ name: `Y_h${l}`, dims: [D, B, H] });
    if (s.cell === 'lstm') {
      nodeOutputs.push(`Y_c${l}`);
      outputs.push({ name: `Y_c${l}`, dims: [D, B, H] });
    }
    const attributes: NodeDef['attributes'] = { hidden_size: attr.i(H), direction: attr.s(s.direction) };
    if (s.activations) attributes.activations = attr.strings(D === 2 ? [...s.activations, ...s.activations] : s.activations);
    if (s.cell === 'gru' && s.linearBeforeReset) attributes.linear_before_reset = attr.i(1);
    nodes.push({ opType: op, inputs: nodeInputs, outputs: nodeOutputs, attributes, name: `${op}_${l}` });
    if (!last) {
      nodes.push({ opType: 'Transpose', inputs: [y], outputs: [`Yt${l}`], attributes: { perm: attr.ints([0, 2, 1, 3]) } });
      nodes.push({ opType: 'Reshape', inputs: [`Yt${l}`, 'shape_tb_'], outputs: [`X${l + 1}`] });
      xName = `X${l + 1}`;
    }
  }
  return onnxModel({ nodes, inputs, outputs, initializers, opset: 14 });
}

// ORT's WASM module binds console.log/console.error once, when it is instantiated, so the console is
// hooked once (before ORT loads) and routed to whichever capture is active. ORT's own log lines are kept
// off the console (the session logs verbosely while it is created, to report node placement). In Node,
// Emscripten writes to the file descriptors instead; the Node bench routes those through offerOrtLine.
let activeCapture: string[] | undefined;
let consoleHooked = false;
const ORT_LOG = /\[[VIWEF]:onnxruntime/;

/** Takes `text` into the active capture if it is an ORT log line; true when it should not be printed (all but errors). */
export function offerOrtLine(text: string): boolean {
  if (!ORT_LOG.test(text)) return false;
  activeCapture?.push(text);
  return !/\[[EF]:onnxruntime/.test(text);
}

function hookConsole(): void {
  if (consoleHooked) return;
  consoleHooked = true;
  for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[m].bind(console);
    console[m] = (...args: unknown[]) => {
      if (!offerOrtLine(args.map(String).join(' '))) original(...args);
    };
  }
}

/** Collects ORT's log lines while `fn` runs. */
async function captureOrtLog<T>(fn: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const lines: string[] = [];
  activeCapture = lines;
  try {
    return { value: await fn(), lines };
  } finally {
    activeCapture = undefined;
  }
}

/**
 * Which execution provider each recurrent node was assigned to, from ORT's verbose session log
 * ("Node(s) placed on [XExecutionProvider]. Number of nodes: n" followed by "  OpType (name)" lines,
 * or "All nodes placed on [XExecutionProvider]").
 */
export function parsePlacement(lines: string[], op: string): string | undefined {
  const text = lines.join('\n');
  const all = /All nodes placed on \[(\w+)\]/.exec(text);
  if (all) return all[1];
  const re = /Node\(s\) placed on \[(\w+)\]\. Number of nodes: (\d+)([\s\S]*?)(?=Node\(s\) placed on|$)/g;
  const eps = new Set<string>();
  for (let m = re.exec(text); m; m = re.exec(text)) if (new RegExp(`\\b${op}\\b`).test(m[3])) eps.add(m[1]);
  return eps.size ? [...eps].join('+') : undefined;
}

const webOrt = new Map<string, Promise<Ort>>();

/**
 * ONNX Runtime Web, loaded once per bundle: one thread, no proxy worker, warnings only. `wasmPaths`
 * where the page serves the .wasm (absent in Node: ORT finds it next to its own module).
 */
export function loadOrtWeb(kind: 'webgpu' | 'wasm', wasmPaths?: { wasm: string }): Promise<Ort> {
  hookConsole();
  const load = async () => {
    const ort: Ort = kind === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm');
    if (wasmPaths) ort.env.wasm.wasmPaths = wasmPaths;
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    // The global level stays at warnings; each session logs verbosely while it is created (logSeverityLevel 0)
    // so that its node placement is printed, and each run asks for errors only.
    ort.env.logLevel = 'warning';
    return ort;
  };
  let p = webOrt.get(kind);
  if (!p) webOrt.set(kind, (p = load()));
  return p;
}

export function ortEngine(flavor: OrtFlavor): Engine {
  const kind = flavor.ep;
  return {
    id: flavor.id,
    label: flavor.label,
    gpu: kind === 'webgpu',
    // No shape is ruled out up front: the placement check below rejects what the WebGPU EP would run on the CPU
    // (the RNN op has no WebGPU kernel), and ORT refusing to create the session (e.g. GRU with Relu) is "n/a"
    // with its message (NotApplicable). An error in a run is a failure ('error').
    unsupported: () => null,
    async prepare(s, weights, x): Promise<Prepared> {
      const ort = await flavor.load();
      const model = buildOnnxModel(s, weights);
      const logLevel = flavor.placement ? 3 : 0;
      const { value: session, lines } = await captureOrtLog(() =>
        ort.InferenceSession.create(model, {
          executionProviders: [kind],
          logSeverityLevel: logLevel,
          logVerbosityLevel: 0,
          graphOptimizationLevel: 'all',
        }),
      ).catch((e: unknown) => {
        throw new NotApplicable(`ONNX Runtime cannot create a session for this model: ${(e as Error)?.message ?? String(e)}`);
      });
      const op = s.cell === 'lstm' ? 'LSTM' : s.cell === 'gru' ? 'GRU' : 'RNN';
      const placedOn = flavor.placement ? undefined : parsePlacement(lines, op);
      const notes = flavor.placement ? [] : [`${op} node placed on ${placedOn ?? '? (no placement line in the ORT log)'}`];
      if (kind === 'webgpu' && placedOn !== 'WebGpuExecutionProvider') {
        await session.release();
        throw new NotApplicable(
          `the ${op} node was not placed on the WebGPU EP (${placedOn ?? 'placement not logged'}): timing it would measure the CPU`,
        );
      }
      const runOptions = { logSeverityLevel: 3 as const };
      const D = dirs(s);
      const B = s.batch;
      const H = s.hiddenSize;
      const I = s.inputSize;
      const L = s.numLayers;
      const hasC = s.cell === 'lstm';
      const runOnce = async (xs: Float32Array, T: number, h?: Float32Array[], c?: Float32Array[]) => {
        const feeds: Record<string, InstanceType<Ort['Tensor']>> = { X: new ort.Tensor('float32', xs, [T, B, I]) };
        if (s.stream) {
          for (let l = 0; l < L; l++) {
            feeds[`h0_${l}`] = new ort.Tensor('float32', h?.[l] ?? new Float32Array(D * B * H), [D, B, H]);
            if (hasC) feeds[`c0_${l}`] = new ort.Tensor('float32', c?.[l] ?? new Float32Array(D * B * H), [D, B, H]);
          }
        }
        const out = await session.run(feeds, runOptions);
        const get = (name: string) => out[name].data as Float32Array;
        return {
          Y: get('Y'),
          h: Array.from({ length: L }, (_, l) => get(`Y_h${l}`)),
          c: hasC ? Array.from({ length: L }, (_, l) => get(`Y_c${l}`)) : undefined,
        };
      };
      const run = async (): Promise<Outputs> => {
        if (!s.stream) {
          const r = await runOnce(x, s.seqLen);
          return { Y: r.Y, Y_h: concat(r.h), Y_c: r.c ? concat(r.c) : undefined };
        }
        const ys: Float32Array[] = [];
        let h: Float32Array[] | undefined;
        let c: Float32Array[] | undefined;
        for (let k = 0; k < s.stream; k++) {
          const r = await runOnce(x.subarray(k * B * I, (k + 1) * B * I), 1, h, c);
          ys.push(r.Y);
          h = r.h;
          c = r.c;
        }
        return { Y: concat(ys), Y_h: concat(h!), Y_c: c ? concat(c) : undefined };
      };
      return {
        run,
        dispose: () => session.release(),
        placement:
          flavor.placement ??
          (placedOn === 'WebGpuExecutionProvider' ? 'webgpu' : placedOn === 'CPUExecutionProvider' ? 'cpu (wasm)' : placedOn),
        notes,
        device: kind === 'webgpu' ? await ortDevice(ort) : undefined,
      };
    },
  };
}

/** ORT's own GPUDevice (for timestamp queries), where this build exposes it. */
async function ortDevice(ort: Ort): Promise<GPUDevice | undefined> {
  try {
    const d = (ort.env.webgpu as { device?: GPUDevice | Promise<GPUDevice> }).device;
    return d ? await d : undefined;
  } catch {
    return undefined;
  }
}
