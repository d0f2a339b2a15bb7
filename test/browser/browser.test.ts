// Browser tests on Chromium's WebGPU (headless, SwiftShader on a machine without a GPU): the BUILT package
// (dist/index.js) in a page runs a correctness sweep and the 12 ONNX conformance tests against the float64
// reference, and the benchmark page completes its quick configuration with every engine agreeing with the
// reference. The pages are built with vite.demo.config.ts and served by vite preview on 127.0.0.1.
// Without a WebGPU adapter these tests fail; they never skip.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppState } from '../../demo/app/app.js';
import { adapterLine, formatTable, type BenchResults } from '../../demo/bench/report.js';
import { conformanceCases } from './conformance-data.js';
import { ROOT, serveSite } from '../../common/browser-harness.js';
import { useBrowserSite } from '../support/browser-site.js';
import { ATOL, RTOL, type CaseResult } from './protocol.js';
import { sweepCases } from './sweep-cases.js';

const ARTIFACTS = join(ROOT, 'test-results');

const { open: openPage } = useBrowserSite();

/** Every comparison of every case within ATOL + RTOL·|ref|; the message names the failing ones. */
function expectAllClose(results: CaseResult[], what: string): number {
  let worst = 0;
  const failures: string[] = [];
  for (const r of results) {
    if (r.error) failures.push(`${r.name}: ${r.error}`);
    for (const c of r.comparisons) {
      worst = Math.max(worst, c.maxAbs);
      if (c.failures)
        failures.push(
          `${r.name} ${c.label}: ${c.failures}/${c.count} outside ${ATOL} + ${RTOL}·|ref|, max |diff| ${c.maxAbs}` +
            (c.worst ? ` at [${c.worst[0]}]: got ${c.worst[1]}, expected ${c.worst[2]}` : ''),
        );
    }
    if (!r.error && r.comparisons.length === 0) failures.push(`${r.name}: nothing compared`);
  }
  expect(failures, `${what}:\n${failures.join('\n')}`).toEqual([]);
  return worst;
}

describe('browser: the built package (dist/) on Chromium WebGPU', () => {
  let page: Page;
  beforeAll(async () => {
    page = await openPage('/test/browser/dist.html');
    await page.waitForFunction(() => globalThis.__dist !== undefined, null, { timeout: 60_000 });
  }, 90_000);
  afterAll(() => page?.close());

  it('Chromium offers a WebGPU adapter', async () => {
    const a = await page.evaluate(() => globalThis.__dist!.adapter());
    console.log(`[browser tests] adapter: ${JSON.stringify(a.info ?? a.error)}`);
    expect(
      a.found,
      `no WebGPU adapter in Chromium (${a.error}); launched with ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'} --enable-unsafe-webgpu`,
    ).toBe(true);
  });

  it('correctness sweep: cells × directions × sizes × lengths/masks match the float64 reference', async () => {
    const cases = sweepCases();
    const results = await page.evaluate((c) => globalThis.__dist!.sweep(c), cases);
    expect(results.length).toBe(cases.length);
    const worst = expectAllClose(results, 'sweep');
    console.log(`[browser tests] sweep: ${cases.length} cases, max |gpu - ref| = ${worst.toExponential(2)}`);
  }, 240_000);

  it('the 12 ONNX conformance tests match ONNX and the float64 reference', async () => {
    const cases = conformanceCases();
    expect(cases.length).toBe(12);
    const results = await page.evaluate((c) => globalThis.__dist!.conformance(c), cases);
    const worst = expectAllClose(results, 'conformance');
    console.log(`[browser tests] conformance: ${cases.length} tests, max |gpu - expected| = ${worst.toExponential(2)}`);
  }, 180_000);
});

describe('browser: the benchmark page', () => {
  it('completes ?config=quick with every engine, all agreeing with the reference; screenshot saved', async () => {
    const page = await openPage('/demo/bench.html?config=quick');
    try {
      await page.waitForFunction(() => globalThis.__bench?.done === true, null, { timeout: 420_000, polling: 500 });
      const r = (await page.evaluate(() => globalThis.__bench)) as BenchResults;
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'bench-quick.png'), fullPage: true });
      console.log(`[browser tests] bench adapter: ${adapterLine(r)}${formatTable(r)}`);
      expect(r.error).toBeUndefined();
      expect(r.adapter, 'the bench page found no WebGPU adapter').not.toBeNull();
      expect(r.engines.map((e) => e.id)).toEqual(['webgpu-rnn', 'ort-webgpu', 'ort-wasm', 'tfjs-webgpu', 'js-f32']);
      expect(r.shapes.length).toBeGreaterThanOrEqual(4);
      const problems: string[] = [];
      for (const s of r.shapes) {
        for (const e of s.results) {
          // ONNX Runtime Web has no WebGPU kernel for the RNN op: the page must refuse to time it, not pass off a CPU run.
          const expectedNa = e.engine === 'ort-webgpu' && s.shape.cell === 'rnn';
          if (expectedNa) {
            if (e.status !== 'n/a' || !/not placed on the WebGPU EP/.test(e.reason ?? ''))
              problems.push(`${s.shape.id} ${e.engine}: expected n/a for the RNN op, got ${e.status} ${e.reason ?? ''}`);
            continue;
          }
          if (e.status !== 'ok') problems.push(`${s.shape.id} ${e.engine}: ${e.reason}`);
          else {
            if (!e.agrees)
              problems.push(`${s.shape.id} ${e.engine}: ${e.mismatches} outputs differ from the reference (max ${e.maxAbsDiff})`);
            if ((e.runsMs?.length ?? 0) < 5) problems.push(`${s.shape.id} ${e.engine}: only ${e.runsMs?.length} timed runs`);
            // >= 0, not > 0: Chromium quantizes performance.now() to 0.1 ms, and ORT WASM's tiny runs can take less.
            if (!(e.medianMs! >= 0)) problems.push(`${s.shape.id} ${e.engine}: median ${e.medianMs}`);
          }
          // Dispatches counted in the page must be exactly what the library's plan says (2 per layer for a
          // persistent-kernel sequence, L·(1 + T) or L·(1 + 2T) per step otherwise).
          if (e.engine === 'webgpu-rnn' && e.dispatches !== e.expectedDispatches)
            problems.push(`${s.shape.id} webgpu-rnn: ${e.dispatches} dispatches, planned ${e.expectedDispatches}`);
          if (e.engine === 'ort-webgpu' && e.status === 'ok' && (e.placement !== 'webgpu' || !e.dispatches))
            problems.push(`${s.shape.id} ort-webgpu: placement ${e.placement}, ${e.dispatches} dispatches`);
          if (e.engine === 'tfjs-webgpu' && e.status === 'ok' && !e.dispatches)
            problems.push(`${s.shape.id} tfjs-webgpu: no GPU dispatch counted`);
        }
      }
      expect(problems, problems.join('\n')).toEqual([]);
      // The page says when the adapter is a software fallback.
      const banner = await page.textContent('#fallback');
      expect(banner).toMatch(r.adapter!.software ? /Software adapter/ : /Hardware adapter/);
    } finally {
      await page.close();
    }
  }, 480_000);
});

// The demo app (demo/app): its trained models load from the page's own files; then, with the
// network cut, a typed prompt generates at least 50 characters and an unspaced held-out sentence
// is segmented as PyTorch segments it (test/fixtures/app/segmenter.json). Reports the time from
// page load to the first generated character.
describe('browser: the demo app', () => {
  it('generates text from a typed prompt and segments an unspaced held-out sentence', async () => {
    const state = (p: Page) => p.evaluate(() => (globalThis as unknown as { __app?: AppState }).__app);
    // Its own server, so that the offline reload at the end can stop it.
    const appSite = await serveSite();
    const page = await openPage('/demo/app/', appSite);
    let serving = true;
    try {
      await page.waitForFunction(
        () => {
          const a = (globalThis as unknown as { __app?: AppState }).__app;
          return a?.ready || a?.error;
        },
        undefined,
        { timeout: 120_000 },
      );
      expect((await state(page))?.error).toBeUndefined();
      // The page starts generating on its own; the time to the first character is what a visitor waits.
      await page.waitForFunction(() => (globalThis as unknown as { __app: AppState }).__app.firstCharMs !== undefined, undefined, {
        timeout: 60_000,
      });
      const first = (await state(page))!;
      console.log(
        `[app] models ready ${first.loadMs!.toFixed(0)} ms after page load; first character at ${first.firstCharMs!.toFixed(0)} ms`,
      );
      // The service worker stores the page's files once the models are up; wait for it, as a
      // visitor's offline reload would need it done.
      await page.waitForFunction(() => (globalThis as unknown as { __app: AppState }).__app.offlineFiles !== undefined, undefined, {
        timeout: 60_000,
      });
      const stored = (await state(page))!.offlineFiles!;
      expect(stored, (await page.textContent('#offline')) ?? '').toBeGreaterThan(5);
      // Once loaded, the page needs no network: generation and segmentation run offline.
      await page.context().setOffline(true);
      await page.fill('#prompt', 'Life is');
      await page.click('#generate');
      await page.waitForFunction(() => (globalThis as unknown as { __app: AppState }).__app.generated.length >= 50, undefined, {
        timeout: 120_000,
      });
      const text = (await state(page))!.generated;
      expect(text.length).toBeGreaterThanOrEqual(50);
      expect(await page.textContent('#out-webgpu-rnn')).toContain('Life is');
      const fixture = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/app/segmenter.json'), 'utf8')) as {
        letters: string;
        logits: number[];
      };
      const pytorch = [...fixture.letters].map((c, t) => c + (t < fixture.letters.length - 1 && fixture.logits[t] > 0 ? ' ' : '')).join('');
      await page.fill('#unspaced', fixture.letters);
      await page.waitForFunction(
        (l) => (globalThis as unknown as { __app: AppState }).__app.segmented.replaceAll(' ', '') === l,
        fixture.letters,
      );
      expect((await state(page))!.segmented).toBe(pytorch);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'app.png'), fullPage: true });
      console.log(`[app] generated: ${JSON.stringify(text.slice(0, 80))}…; segmented: ${JSON.stringify(pytorch)}`);
      // The comparison toggle loads ONNX Runtime Web and the ONNX export on first use: online again.
      await page.context().setOffline(false);
      // The comparison toggle: the ONNX export on ONNX Runtime Web's WebGPU and WASM EPs writes beside ours.
      await page.check('#compare');
      await page.click('#generate');
      for (const id of ['#out-ort-webgpu', '#out-ort-wasm']) {
        await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? '').length >= 'Life is'.length + 20, id, {
          timeout: 120_000,
        });
      }
      console.log(
        `[app] ${await page.textContent('#stats-webgpu-rnn')} | ORT WebGPU ${await page.textContent('#stats-ort-webgpu')} | ORT WASM ${await page.textContent('#stats-ort-wasm')}`,
      );
      await page.click('#stop');
      // The service worker stored the page's files (above, before the network was cut): with the
      // server stopped and the network cut, a reload still loads the models and generates.
      await appSite.close();
      serving = false;
      await page.context().setOffline(true);
      await page.reload();
      await page.waitForFunction(
        () => {
          const a = (globalThis as unknown as { __app?: AppState }).__app;
          return (a?.ready && a.generated.length >= 20) || a?.error;
        },
        undefined,
        { timeout: 120_000 },
      );
      const reloaded = (await state(page))!;
      expect(reloaded.error).toBeUndefined();
      console.log(`[app] offline reload (${stored} files stored, server stopped): models ready at ${reloaded.loadMs!.toFixed(0)} ms`);
      await page.context().setOffline(false);
      await page.close();
    } finally {
      if (serving) await appSite.close();
    }
  }, 300_000);
});
