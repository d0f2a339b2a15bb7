// What a benchmark run publishes (the JSON written by `npm run bench` and `npm run bench:node`, and
// globalThis.__bench on the page), the adapter description in it, and the plain-text table both
// command-line benches print. No DOM, no Node APIs: the page and the Node bench share it.
import { formatCount } from './flops.js';
import type { ModelResult } from './model-report.js';
import type { TOLERANCE, ShapeResult } from './runner.js';

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean | null;
  software: boolean;
  softwareReason: string;
  features: string[];
  limits: Record<string, number>;
  timestampQuery: boolean;
}

export interface BenchResults {
  done: boolean;
  config: string;
  startedAt: string;
  finishedAt?: string;
  /** The browser's user agent, or for the Node bench the Node and Dawn (`webgpu` package) versions. */
  userAgent: string;
  adapter: AdapterReport | null;
  tolerance: typeof TOLERANCE;
  engines: { id: string; label: string }[];
  shapes: ShapeResult[];
  /** Whole models (?models=silero-v5): demo/bench/models.ts. */
  models?: ModelResult[];
  error?: string;
}

/** The adapter `gpu.requestAdapter()` gives (the one requestDevice() then uses), or null without one. */
export async function adapterReport(gpu: GPU | undefined): Promise<AdapterReport | null> {
  const adapter = await gpu?.requestAdapter();
  if (!adapter) return null;
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const legacy = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const isFallbackAdapter = info.isFallbackAdapter ?? legacy ?? null;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  const reasons: string[] = [];
  if (isFallbackAdapter) reasons.push('isFallbackAdapter = true');
  if (/swiftshader|llvmpipe|lavapipe|software|warp/i.test(text)) reasons.push(`adapter names a software rasterizer (${text.trim()})`);
  else if (info.vendor === 'google' && !info.architecture) reasons.push('vendor "google" without an architecture (SwiftShader)');
  const limits: Record<string, number> = {};
  for (const k of [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxStorageBuffersPerShaderStage',
    'maxComputeWorkgroupsPerDimension',
  ] as const)
    limits[k] = adapter.limits[k];
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter,
    software: reasons.length > 0,
    softwareReason: reasons.join('; '),
    features: [...adapter.features].map(String).sort(),
    limits,
    timestampQuery: adapter.features.has('timestamp-query'),
  };
}

export function adapterLine(r: BenchResults): string {
  const a = r.adapter;
  if (!a) return 'no WebGPU adapter';
  const name = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || '(blank)';
  return `${name}; isFallbackAdapter=${a.isFallbackAdapter}; software=${a.software}${a.software ? ` (${a.softwareReason})` : ''}; timestamp-query=${a.timestampQuery}`;
}

/** Milliseconds with 3 significant-ish digits. */
export const fmtMs = (v: number | undefined) =>
  v === undefined || Number.isNaN(v) ? '' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
/** GFLOP/s with 3 significant digits (software adapters reach only thousandths). */
export const fmtRate = (v: number | undefined) =>
  v === undefined || !Number.isFinite(v) ? '' : v >= 100 ? v.toFixed(0) : v.toPrecision(3);

/**
 * A plain-text side-by-side table: one block per shape (with its multiply-adds per run), one line per
 * engine: build (createRnn / session) and first-run time, the timed runs, GFLOP/s from the median,
 * the ratio against webgpu-rnn, and the agreement with the float64 reference.
 */
export function formatTable(r: BenchResults): string {
  const head = [
    'engine',
    'prepare ms',
    'first ms',
    'median ms',
    'IQR ms',
    'min-max ms',
    'n',
    'ms/step',
    'GFLOP/s',
    'x webgpu-rnn',
    'dispatches',
    'GPU ms',
    'max|diff|',
    'placement / n/a or error reason',
  ];
  const lines: string[] = [];
  for (const s of r.shapes) {
    const rows: string[][] = [];
    const base = s.results.find((e) => e.engine === 'webgpu-rnn' && e.status === 'ok');
    for (const e of s.results) {
      if (e.status !== 'ok') {
        rows.push([
          e.engine,
          fmtMs(e.prepareMs),
          fmtMs(e.firstRunMs),
          e.status,
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          (e.reason ?? '').slice(0, 110),
        ]);
        continue;
      }
      const ratio = base && e !== base ? (e.medianMs! / base.medianMs!).toFixed(2) : e === base ? '1' : 'n/a';
      rows.push([
        e.engine,
        fmtMs(e.prepareMs),
        fmtMs(e.firstRunMs),
        fmtMs(e.medianMs),
        `${fmtMs(e.q1Ms)}-${fmtMs(e.q3Ms)}`,
        `${fmtMs(e.minMs)}-${fmtMs(e.maxMs)}`,
        String(e.runsMs?.length ?? ''),
        fmtMs(e.perStepMs),
        fmtRate(e.gflops),
        ratio,
        e.dispatches === undefined ? '-' : String(e.dispatches),
        typeof e.gpuMs === 'number' ? fmtMs(e.gpuMs) : '-',
        `${e.maxAbsDiff?.toExponential(1) ?? ''}${e.agrees === false ? ' FAIL' : ''}`,
        e.placement ?? '',
      ]);
    }
    const widths = head.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k].length)));
    const line = (row: string[]) =>
      row
        .map((c, k) => (k === 0 || k === row.length - 1 ? c.padEnd(widths[k]) : c.padStart(widths[k])))
        .join('  ')
        .trimEnd();
    lines.push(
      '',
      `== ${s.shape.label}: ${s.description}; ${s.stepsPerRun} steps/run; ${formatCount(s.multiplyAdds)} multiply-adds/run`,
      line(head),
      ...rows.map(line),
    );
  }
  return lines.join('\n');
}

/** Every engine that failed on a shape (status 'error', not n/a), as 'shape · engine' lines. */
export function failedEngines(results: BenchResults): string[] {
  return [
    ...results.shapes.flatMap((s) =>
      s.results.filter((r) => r.status === 'error').map((r) => `${s.shape.label} · ${r.engine}: ${r.reason}`),
    ),
    ...(results.models ?? []).flatMap((m) =>
      m.results.filter((r) => r.status === 'error').map((r) => `${m.label} · ${r.engine}: ${r.reason}`),
    ),
  ];
}
