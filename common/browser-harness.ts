// Shared by scripts/bench.ts and test/browser/browser.test.ts: build and serve the pages (vite.demo.config.ts)
// on 127.0.0.1 and launch headless Chromium with WebGPU (../shared/reference/webgpu-on-linux-without-gpu.md §4: Playwright
// cannot download a browser offline, so it drives the system Chromium, whose SwiftShader adapter needs only
// --enable-unsafe-webgpu).
// The results table both benches print is demo/bench/report.ts's formatTable.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright';
import { build, preview, type PreviewServer } from 'vite';

export const ROOT = join(import.meta.dirname, '..');
export const DEMO_CONFIG = join(ROOT, 'vite.demo.config.ts');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * --enable-unsafe-webgpu is the flag that matters (without it requestAdapter() returns null); never
 * --disable-software-rasterizer or --use-vulkan=native (either makes the default adapter null, §4.2).
 */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--headless=new',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

/**
 * Builds the pages. The browser tests' page (test/browser/dist.html) imports the built package, so
 * on a fresh clone (no dist/ yet: `npm run bench` straight after `npm ci`) the library is built first.
 */
export async function buildSite(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
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
  const server: PreviewServer = await preview({
    configFile: DEMO_CONFIG,
    logLevel: 'warn',
    preview: { host: '127.0.0.1', port, strictPort: true },
  });
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** `extraArgs`: more flags for one test's browser (the VAD page's fake microphone). */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** Forwards the page's console lines that start with `prefix` (and every page error) to `sink`. */
export function forwardConsole(page: Page, prefix: string, sink: (line: string) => void): void {
  page.on('console', (m) => {
    const t = m.text();
    if (t.startsWith(prefix) || m.type() === 'error') sink(`[page] ${t}`);
  });
  page.on('pageerror', (e) => sink(`[page error] ${e.message}`));
}
