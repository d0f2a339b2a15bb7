// The demo app: live text generation (a 2-layer LSTM, one character per step, the state kept on the
// GPU by a stream) and BiLSTM word segmentation as the user types, both trained with PyTorch
// (scripts/train_*.py) and loaded from safetensors with fromTorch (models.ts). A toggle runs the
// same generator's ONNX export on ONNX Runtime Web (WebGPU EP and WASM) side by side.
// Everything the page needs is bundled with it, so once loaded it works offline, and a service
// worker (sw.js) stores its files so that it also reloads offline. test/browser/browser.test.ts drives it
// through window.__app.
import { requestDevice } from '../../src/index.js';
import { loadOrtWeb, type Ort } from '../bench/engines/ort.js';
import charlmMeta from './models/charlm.json';
import charlmOnnxUrl from './models/charlm.onnx?url';
import charlmUrl from './models/charlm.safetensors?url';
import segmenterMeta from './models/segmenter.json';
import segmenterUrl from './models/segmenter.safetensors?url';
import { enableOffline } from './offline.js';
import { boundaries, Generator, loadCharLm, loadSegmenter, sample, type CharLm, type Segmenter } from './models.js';
import asyncifyWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import plainWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const MAX_CHARS = 600;

/** What the browser test reads. */
export interface AppState {
  ready: boolean;
  error?: string;
  /** ms from navigation start to the models being ready, and to the first generated character. */
  loadMs?: number;
  firstCharMs?: number;
  generated: string;
  segmented: string;
  /** How many of the page's files the service worker stored for offline reloads, once it has. */
  offlineFiles?: number;
}
const app: AppState = { ready: false, generated: '', segmented: '' };
(globalThis as unknown as { __app: AppState }).__app = app;

function status(text: string, error = false) {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** A running generation on one engine: its own loop, output panel and statistics. */
interface Engine {
  id: string;
  /** Resets the state and feeds the prompt; returns the logits after it. */
  start(prompt: string): Promise<Float32Array>;
  /** Feeds one character; returns the logits after it. */
  step(char: string): Promise<Float32Array>;
}

let running = 0;

async function generate(engine: Engine, prompt: string, temperature: () => number, first?: () => void) {
  const run = running;
  const out = $(`out-${engine.id}`);
  const stats = $(`stats-${engine.id}`);
  out.innerHTML = '';
  const promptEl = document.createElement('span');
  promptEl.className = 'prompt';
  promptEl.textContent = prompt;
  out.append(promptEl);
  const generated = document.createTextNode('');
  out.append(generated);
  const vocab = charlmMeta.vocab;
  const t0 = performance.now();
  let logits = await engine.start(prompt);
  const times: number[] = [];
  for (let n = 0; n < MAX_CHARS && run === running; n++) {
    const c = vocab[sample(logits, temperature(), Math.random())];
    generated.data += c;
    if (engine.id === 'webgpu-rnn') app.generated += c;
    if (n === 0) first?.();
    const s0 = performance.now();
    logits = await engine.step(c);
    times.push(performance.now() - s0);
    if (n % 4 === 0) {
      const recent = times.slice(-32).sort((a, b) => a - b);
      const ms = recent[recent.length >> 1];
      stats.textContent = `${n + 1} characters · ${(1000 / ms).toFixed(0)} chars/s · ${ms.toFixed(2)} ms/step (median of the last ${recent.length}) · ${((performance.now() - t0) / 1000).toFixed(1)} s`;
      out.scrollTop = out.scrollHeight;
    }
  }
}

function webgpuRnnEngine(lm: CharLm): Engine {
  const gen = new Generator(lm);
  return {
    id: 'webgpu-rnn',
    start: (prompt) => {
      gen.reset();
      return gen.feed(prompt);
    },
    step: (c) => gen.feed(c),
  };
}

async function ortEngine(kind: 'webgpu' | 'wasm', model: Uint8Array): Promise<Engine> {
  const ort: Ort = await loadOrtWeb(kind, { wasm: kind === 'webgpu' ? asyncifyWasmUrl : plainWasmUrl });
  const session = await ort.InferenceSession.create(model, { executionProviders: [kind] });
  const V = charlmMeta.vocab.length;
  const H = charlmMeta.hiddenSize;
  const L = charlmMeta.numLayers;
  let h = new Float32Array(L * H);
  let c = new Float32Array(L * H);
  const one = async (ch: string) => {
    const x = new Float32Array(V);
    x[Math.max(0, charlmMeta.vocab.indexOf(ch))] = 1;
    const out = await session.run({
      x: new ort.Tensor('float32', x, [1, 1, V]),
      h0: new ort.Tensor('float32', h, [L, 1, H]),
      c0: new ort.Tensor('float32', c, [L, 1, H]),
    });
    // Copies: ORT's outputs may live in its WebAssembly memory.
    h = Float32Array.from(out.hn.data as Float32Array);
    c = Float32Array.from(out.cn.data as Float32Array);
    return Float32Array.from(out.logits.data as Float32Array);
  };
  return {
    id: `ort-${kind}`,
    start: async (prompt) => {
      h = new Float32Array(L * H);
      c = new Float32Array(L * H);
      let logits = new Float32Array(V);
      for (const ch of prompt) logits = await one(ch);
      return logits;
    },
    step: one,
  };
}

async function segment(seg: Segmenter) {
  const text = $<HTMLInputElement>('unspaced').value;
  const t0 = performance.now();
  const { letters, p } = await boundaries(seg, text);
  const ms = performance.now() - t0;
  const out = $('segmented');
  out.innerHTML = '';
  let plain = '';
  for (let t = 0; t < letters.length; t++) {
    out.append(letters[t]);
    plain += letters[t];
    if (t < letters.length - 1 && p[t] > 0.5) {
      const gap = document.createElement('span');
      gap.className = 'b';
      gap.style.opacity = String(0.25 + 0.75 * p[t]);
      gap.title = `word boundary: ${(100 * p[t]).toFixed(1)}%`;
      out.append(gap);
      plain += ' ';
    }
  }
  app.segmented = plain;
  $('stats-seg').textContent = letters.length
    ? `${letters.length} letters · ${ms.toFixed(1)} ms (one run of the BiLSTM over the whole text)`
    : '';
}

async function main() {
  const device = await requestDevice();
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const [lmBytes, segBytes] = await Promise.all([fetchBytes(charlmUrl), fetchBytes(segmenterUrl)]);
  const [lm, seg] = await Promise.all([
    loadCharLm(device, lmBytes, charlmMeta.vocab),
    loadSegmenter(device, segBytes, segmenterMeta.letters),
  ]);
  app.loadMs = performance.now();
  app.ready = true;
  const adapter = info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') : 'unknown adapter';
  status(`ready in ${app.loadMs.toFixed(0)} ms on ${adapter}`);

  const temperature = $<HTMLInputElement>('temperature');
  temperature.addEventListener('input', () => {
    $('temperature-value').textContent = temperature.value;
  });
  const ours = webgpuRnnEngine(lm);
  let ortEngines: Promise<Engine[]> | undefined;
  const compare = $<HTMLInputElement>('compare');
  compare.addEventListener('change', () => {
    document.querySelectorAll<HTMLElement>('.compare').forEach((el) => {
      el.hidden = !compare.checked;
    });
  });
  let current: Promise<unknown> = Promise.resolve();
  const start = async () => {
    running++;
    // The previous generation's loops stop at their next step; let them finish before the state is reset.
    await current;
    app.generated = '';
    $<HTMLButtonElement>('stop').disabled = false;
    const prompt = $<HTMLTextAreaElement>('prompt').value;
    const temp = () => Number(temperature.value);
    const jobs = [
      generate(ours, prompt, temp, () => {
        app.firstCharMs ??= performance.now();
        status(`ready in ${app.loadMs!.toFixed(0)} ms on ${adapter}; first character at ${app.firstCharMs.toFixed(0)} ms after page load`);
      }),
    ];
    if (compare.checked) {
      ortEngines ??= fetchBytes(charlmOnnxUrl).then((model) => Promise.all([ortEngine('webgpu', model), ortEngine('wasm', model)]));
      for (const e of await ortEngines) jobs.push(generate(e, prompt, temp));
    }
    current = Promise.all(jobs);
    await current;
  };
  $('generate').addEventListener('click', () => void start().catch(fail));
  $('stop').addEventListener('click', () => {
    running++;
    $<HTMLButtonElement>('stop').disabled = true;
  });
  $('unspaced').addEventListener('input', () => void segment(seg).catch(fail));
  // After the models, so that it never delays the first output; the page works without it.
  enableOffline()
    .then((n) => {
      app.offlineFiles = n;
      $('offline').textContent = n > 0 ? `works offline: ${n} files stored` : 'no offline reload: the files could not be stored';
    })
    .catch((e) => {
      $('offline').textContent = `no offline reload: ${e instanceof Error ? e.message : e}`;
    });
  await segment(seg);
  await start();
}

function fail(e: unknown) {
  app.error = e instanceof Error ? e.message : String(e);
  status(`error: ${app.error}`, true);
  console.error(e);
}

main().catch(fail);
