// The benchmark page: ?config=quick|realistic|full runs a configuration on load; the form runs custom
// shapes. Final results are published on globalThis.__bench (for scripts/bench.ts and the browser tests).
// Optional URL parameters: engines=webgpu-rnn,ort-webgpu,… shapes=id,… reps=N; models=silero-v5,… (and for
// silero-v5-file seconds=N, cap=engine:seconds,…) runs whole models instead (models.ts).
import { requestDevice } from '../../src/index.js';
import { renderCharts } from './charts.js';
import { jsEngine } from './engines/js.js';
import { ortWebEngine } from './engines/ort-web.js';
import { tfjsEngine } from './engines/tfjs.js';
import { PROJECTION_KERNEL_VARIANTS, STEP_KERNEL_VARIANTS, webgpuRnnEngine } from './engines/webgpu-rnn.js';
import { formatCount } from './flops.js';
import { benchModel, formatModelTable } from './models.js';
import { installInstrumentation } from './instrument.js';
import type { ModelResult } from './model-report.js';
import { adapterReport, fmtMs, fmtRate, type AdapterReport, type BenchResults } from './report.js';
import { benchShape, TOLERANCE, type EngineResult, type ShapeResult } from './runner.js';
import { selectConfig, type BenchConfig, type BenchShape } from './shapes.js';
import { ENGINE_COLORS, type Engine } from './types.js';

declare global {
  // eslint-disable-next-line no-var
  var __bench: BenchResults | undefined;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);

function log(msg: string): void {
  const line = `[${(performance.now() / 1000).toFixed(1)} s] ${msg}`;
  console.log(`[bench] ${msg}`);
  const el = $('log');
  el.textContent += `${line}\n`;
  el.scrollTop = el.scrollHeight;
  $('status').textContent = msg;
}

function renderAdapter(a: AdapterReport | null): void {
  if (!a) {
    $('adapter').textContent = 'no WebGPU adapter (navigator.gpu missing or requestAdapter() returned null)';
    $('fallback').innerHTML = '<div class="banner bad">No WebGPU adapter: only the CPU engines can run.</div>';
    return;
  }
  $('adapter').textContent = [
    `vendor: ${a.vendor || '""'}   architecture: ${a.architecture || '""'}   device: ${a.device || '""'}   description: ${a.description || '""'}`,
    `isFallbackAdapter: ${a.isFallbackAdapter}   software: ${a.software}${a.software ? ` (${a.softwareReason})` : ''}`,
    `timestamp-query: ${a.timestampQuery}`,
    `features: ${a.features.join(', ') || '(none)'}`,
    `limits: ${Object.entries(a.limits)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  ].join('\n');
  $('fallback').innerHTML = a.software
    ? `<div class="banner warn"><b>Software adapter</b> (${escapeHtml(a.softwareReason)}): every "GPU" engine runs on a CPU emulation of a GPU, so GPU engines
       lose to the WASM and JS engines by a wide margin here. Compare GPU engines with each other; real GPUs give very different numbers.</div>`
    : '<div class="banner ok">Hardware adapter.</div>';
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export function ratioText(peer: EngineResult, base: EngineResult | undefined): string {
  if (!base || base.status !== 'ok' || peer.status !== 'ok' || peer.engine === 'webgpu-rnn') return '';
  const r = peer.medianMs! / base.medianMs!;
  return r >= 1 ? `${r.toFixed(r >= 10 ? 0 : 2)}× slower` : `${(1 / r).toFixed(1 / r >= 10 ? 0 : 2)}× faster`;
}

function renderTable(shapes: ShapeResult[]): void {
  const rows: string[] = [];
  rows.push(`<table><thead><tr><th class="l">engine</th><th>median ms</th><th>IQR ms</th><th>min–max ms</th><th>runs</th><th>ms / step</th><th title="2 × multiply-adds per run / median time">GFLOP/s</th>
    <th>peer / webgpu-rnn</th><th>dispatches / run</th><th>submits</th><th>GPU ms (timestamps)</th><th>max |Δ| vs ref</th><th class="l">placement / notes</th></tr></thead><tbody>`);
  for (const s of shapes) {
    const base = s.results.find((r) => r.engine === 'webgpu-rnn');
    rows.push(`<tr class="shape"><td colspan="13">${escapeHtml(s.shape.label)} <span class="muted">— ${escapeHtml(s.description)}; ${s.stepsPerRun} steps per run;
      ${formatCount(s.multiplyAdds)} multiply-adds per run;
      float64 reference ${fmtMs(s.referenceMs)} ms${s.shape.note ? `; ${escapeHtml(s.shape.note)}` : ''}</span></td></tr>`);
    for (const r of s.results) {
      const sw = `<span class="swatch" style="background:${ENGINE_COLORS[r.engine] ?? '#999'}"></span>`;
      if (r.status !== 'ok') {
        rows.push(
          `<tr><td class="l">${sw}${escapeHtml(r.label)}</td><td>${r.status}</td><td colspan="11" class="l na">${escapeHtml(r.reason ?? '')}</td></tr>`,
        );
        continue;
      }
      const ratio = base?.status === 'ok' && r.engine !== 'webgpu-rnn' ? r.medianMs! / base.medianMs! : undefined;
      const ratioCell =
        ratio === undefined
          ? r.engine === 'webgpu-rnn'
            ? '1 (baseline)'
            : 'n/a'
          : `<span class="${ratio >= 1 ? 'faster' : 'slower'}" title="${ratio >= 1 ? 'webgpu-rnn is faster' : 'this engine is faster'}">${ratio.toFixed(2)}</span>`;
      const disp =
        r.dispatches === undefined
          ? '–'
          : `${r.dispatches}${r.expectedDispatches !== undefined ? ` (planned: ${r.expectedDispatches})` : ''}`;
      const gpu = typeof r.gpuMs === 'number' ? fmtMs(r.gpuMs) : r.gpuMs ? `<span class="muted">${escapeHtml(r.gpuMs)}</span>` : '–';
      const diff =
        r.maxAbsDiff === undefined
          ? ''
          : `<span class="${r.agrees ? '' : 'slower'}">${r.maxAbsDiff.toExponential(1)}${r.agrees ? '' : ` ✗ (${r.mismatches})`}</span>`;
      const notes = [
        r.placement ? `placement: ${r.placement}` : '',
        ...(r.notes ?? []),
        `build ${fmtMs(r.prepareMs)} ms, first run ${fmtMs(r.firstRunMs)} ms`,
      ].filter(Boolean);
      rows.push(`<tr><td class="l">${sw}${escapeHtml(r.label)}</td><td><b>${fmtMs(r.medianMs)}</b></td><td>${fmtMs(r.q1Ms)}–${fmtMs(r.q3Ms)}</td>
        <td>${fmtMs(r.minMs)}–${fmtMs(r.maxMs)}</td><td>${r.runsMs!.length}</td><td>${fmtMs(r.perStepMs)}</td><td>${fmtRate(r.gflops)}</td><td>${ratioCell}</td><td>${disp}</td>
        <td>${r.submits ?? '–'}</td><td>${gpu}</td><td>${diff}</td><td class="l muted">${escapeHtml(notes.join('; '))}</td></tr>`);
    }
  }
  rows.push('</tbody></table>');
  $('table').innerHTML = rows.join('');
}

const results: BenchResults = {
  done: false,
  config: params.get('config') ?? 'none',
  startedAt: new Date().toISOString(),
  userAgent: navigator.userAgent,
  adapter: null,
  tolerance: TOLERANCE,
  engines: [],
  shapes: [],
};

function render(): void {
  renderTable(results.shapes);
  renderCharts(results.shapes, $('summary') as HTMLCanvasElement, $('cards'));
}

let engines: Engine[] | undefined;
async function getEngines(): Promise<Engine[]> {
  if (engines) return engines;
  const list: Engine[] = [];
  try {
    const device = await requestDevice();
    device.lost.then((l) => log(`webgpu-rnn device lost: ${l.message}`));
    list.push(webgpuRnnEngine(device));
    // The forced variants only in the longer configurations (the quick one stays five engines).
    if (params.get('config') !== 'quick')
      for (const v of [...STEP_KERNEL_VARIANTS, ...PROJECTION_KERNEL_VARIANTS, 'tune', 'f16'] as const)
        list.push(webgpuRnnEngine(device, v));
  } catch (e) {
    log(`webgpu-rnn unavailable: ${(e as Error).message}`);
  }
  list.push(ortWebEngine('webgpu'), ortWebEngine('wasm'), tfjsEngine(), jsEngine());
  const only = params.get('engines')?.split(',');
  engines = only ? list.filter((e) => only.includes(e.id)) : list;
  results.engines = engines.map((e) => ({ id: e.id, label: e.label }));
  return engines;
}

let busy = false;
async function runConfig(cfg: BenchConfig): Promise<void> {
  if (busy) return;
  busy = true;
  const started = performance.now();
  try {
    const list = await getEngines();
    log(
      `configuration ${cfg.name}: ${cfg.shapes.length} shapes × ${list.length} engines, warm-up ${cfg.warmup}, up to ${cfg.reps} timed runs`,
    );
    for (const shape of cfg.shapes) {
      const sr = await benchShape(shape, list, cfg, { log, onResult: () => render() });
      const k = results.shapes.findIndex((s) => s.shape.id === shape.id);
      if (k >= 0) results.shapes[k] = sr;
      else results.shapes.push(sr);
      render();
    }
    log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    results.error = String((e as Error).stack ?? e);
    log(`error: ${results.error}`);
  } finally {
    busy = false;
    results.finishedAt = new Date().toISOString();
    results.done = true;
    globalThis.__bench = JSON.parse(JSON.stringify(results)) as BenchResults;
    ($('export') as HTMLButtonElement).disabled = false;
  }
}

/**
 * ?models=silero-v5,…: whole models frame by frame, or silero-v5-file a whole recording (models.ts),
 * published like a configuration. For the recording, ?seconds=N cuts it to its first N seconds and
 * ?cap=engine:seconds,… times an engine on the first seconds only, scaled to the whole.
 */
async function runModels(ids: string[]): Promise<void> {
  results.config = `models:${ids.join(',')}`;
  results.models = [];
  const seconds = params.get('seconds') ? Number(params.get('seconds')) : undefined;
  const caps = Object.fromEntries(
    (params.get('cap')?.split(',') ?? []).map((c) => {
      const [engine, s] = c.split(':');
      return [engine, Number(s)];
    }),
  );
  let device: GPUDevice | undefined;
  try {
    device = await requestDevice();
  } catch (e) {
    log(`webgpu-rnn unavailable: ${(e as Error).message}`);
  }
  try {
    if (seconds !== undefined && !(seconds > 0)) throw new Error(`?seconds= must be a positive number, got ${params.get('seconds')}`);
    for (const [engine, s] of Object.entries(caps))
      if (!(s > 0)) throw new Error(`?cap=: engine:seconds with positive seconds, got ${engine}:${s}`);
    const done = results.models;
    for (const id of ids) {
      const show = (partial: ModelResult) => ($('models').textContent = formatModelTable([...done, partial]));
      done.push(await benchModel(id, device, { engines: params.get('engines')?.split(','), seconds, caps, log, onResult: show }));
      $('models').textContent = formatModelTable(done);
    }
  } catch (e) {
    results.error = String((e as Error).stack ?? e);
    log(`error: ${results.error}`);
  } finally {
    device?.destroy();
    results.finishedAt = new Date().toISOString();
    results.done = true;
    globalThis.__bench = JSON.parse(JSON.stringify(results)) as BenchResults;
  }
}

$('export').addEventListener('click', () => {
  const blob = new Blob([JSON.stringify(results, null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `webgpu-rnn-bench-${results.config}-${results.startedAt.replace(/[:.]/g, '-')}.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
});

$('custom').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target as HTMLFormElement);
  const n = (k: string) => Math.max(0, Math.floor(Number(f.get(k))));
  const stream = n('stream');
  const shape: BenchShape = {
    id: `custom-${Date.now()}`,
    label: '',
    cell: f.get('cell') as BenchShape['cell'],
    inputSize: n('inputSize'),
    hiddenSize: n('hiddenSize'),
    numLayers: Math.max(1, n('numLayers')),
    direction: f.get('direction') as BenchShape['direction'],
    seqLen: stream ? 1 : Math.max(1, n('seqLen')),
    batch: Math.max(1, n('batch')),
    ...(stream ? { stream } : {}),
    ...(f.get('lbr') ? { linearBeforeReset: true } : {}),
  };
  shape.label = `custom ${shape.cell.toUpperCase()} ${shape.inputSize}→${shape.hiddenSize}${stream ? ` stream×${stream}` : ` T=${shape.seqLen}`} B=${shape.batch}`;
  results.config = results.shapes.length ? `${results.config}+custom` : 'custom';
  void runConfig({ name: 'custom', shapes: [shape], warmup: 1, reps: Math.max(5, n('reps')), budgetMs: 5000 });
});

window.addEventListener('error', (e) => log(`page error: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => log(`unhandled rejection: ${String((e as PromiseRejectionEvent).reason)}`));

installInstrumentation();
results.adapter = await adapterReport(navigator.gpu);
renderAdapter(results.adapter);
render();
const modelIds = params.get('models');
const configName = params.get('config');
if (modelIds) {
  await runModels(modelIds.split(','));
} else if (configName) {
  let cfg: BenchConfig | undefined;
  try {
    cfg = selectConfig(configName, { shapes: params.get('shapes')?.split(','), reps: Number(params.get('reps')) || undefined });
  } catch (e) {
    // Published as a finished run with an error, so that scripts/bench.ts stops waiting.
    log((results.error = (e as Error).message));
    results.done = true;
    globalThis.__bench = JSON.parse(JSON.stringify(results)) as BenchResults;
  }
  if (cfg) await runConfig(cfg);
} else {
  log('pick a configuration above (?config=quick, realistic or full) or run a custom shape');
}
