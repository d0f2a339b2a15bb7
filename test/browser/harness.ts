// Shared by scripts/bench.ts and test/browser.test.ts: build and serve the pages (vite.demo.config.ts)
// on 127.0.0.1, launch headless Chromium with WebGPU (../shared/reference/webgpu-on-linux-without-gpu.md §4),
// and print benchmark results as a table.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright';
import { build, preview, type PreviewServer } from 'vite';
import type { BenchResults } from '../../demo/bench/main.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const DEMO_CONFIG = join(ROOT, 'vite.demo.config.ts');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** --enable-unsafe-webgpu is the flag that matters; never --disable-software-rasterizer or --use-vulkan=native (§4.2). */
export const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--headless=new', '--no-sandbox',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'];

export async function buildSite(): Promise<void> {
  await build({ configFile: DEMO_CONFIG, logLevel: 'warn' });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Site {
  url: string;
  close(): Promise<void>;
}

/** Serves the built site with `vite preview` on 127.0.0.1 (navigator.gpu needs a served page, §4.3). */
export async function serveSite(): Promise<Site> {
  const port = await freePort();
  const server: PreviewServer = await preview({ configFile: DEMO_CONFIG, logLevel: 'warn', preview: { host: '127.0.0.1', port, strictPort: true } });
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** Forwards the page's console lines that start with `prefix` (and every page error) to `sink`. */
export function forwardConsole(page: Page, prefix: string, sink: (line: string) => void): void {
  page.on('console', (m) => {
    const t = m.text();
    if (t.startsWith(prefix) || m.type() === 'error') sink(`[page] ${t}`);
  });
  page.on('pageerror', (e) => sink(`[page error] ${e.message}`));
}

export function adapterLine(r: BenchResults): string {
  const a = r.adapter;
  if (!a) return 'no WebGPU adapter';
  const name = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || '(blank)';
  return `${name}; isFallbackAdapter=${a.isFallbackAdapter}; software=${a.software}${a.software ? ` (${a.softwareReason})` : ''}; timestamp-query=${a.timestampQuery}`;
}

const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));

/** A plain-text side-by-side table: one block per shape, one line per engine, ratios against webgpu-rnn. */
export function formatTable(r: BenchResults): string {
  const head = ['engine', 'median ms', 'IQR ms', 'min-max ms', 'n', 'ms/step', 'x webgpu-rnn', 'dispatches', 'GPU ms', 'max|diff|', 'placement / n/a reason'];
  const lines: string[] = [];
  for (const s of r.shapes) {
    const rows: string[][] = [];
    const base = s.results.find((e) => e.engine === 'webgpu-rnn' && e.status === 'ok');
    for (const e of s.results) {
      if (e.status !== 'ok') {
        rows.push([e.engine, 'n/a', '', '', '', '', '', '', '', '', (e.reason ?? '').slice(0, 110)]);
        continue;
      }
      const ratio = base && e !== base ? (e.medianMs! / base.medianMs!).toFixed(2) : e === base ? '1' : 'n/a';
      rows.push([
        e.engine, fmt(e.medianMs), `${fmt(e.q1Ms)}-${fmt(e.q3Ms)}`, `${fmt(e.minMs)}-${fmt(e.maxMs)}`, String(e.runsMs?.length ?? ''),
        fmt(e.perStepMs), ratio, e.dispatches === undefined ? '-' : String(e.dispatches), typeof e.gpuMs === 'number' ? fmt(e.gpuMs) : '-',
        `${e.maxAbsDiff?.toExponential(1) ?? ''}${e.agrees === false ? ' FAIL' : ''}`, e.placement ?? '',
      ]);
    }
    const widths = head.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k].length)));
    const line = (row: string[]) => row.map((c, k) => (k === 0 || k === row.length - 1 ? c.padEnd(widths[k]) : c.padStart(widths[k]))).join('  ').trimEnd();
    lines.push('', `== ${s.shape.label}: ${s.description}; ${s.stepsPerRun} steps/run`, line(head), ...rows.map(line));
  }
  return lines.join('\n');
}
