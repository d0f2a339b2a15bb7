// The benchmark page's whole-recording model (?models=silero-v5-file) in headless Chromium on WebGPU, on
// a short recording: 8 s of common/bench-data.ts's speech recording (250 frames), ORT's WebGPU EP timed
// on its first 2 s only. webgpu-rnn's one session.scan, its stream and ORT WASM must run every frame
// and match onnxruntime-node (|Δp| ≤ 1e-4); ORT WebGPU must run and report numbers (its probabilities
// are known to be wrong on this page, so it may be 'wrong'), scaled to the whole recording.
// Without a WebGPU adapter this test fails; it never skips.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { RECORDING_ENGINES, formatModelTable } from '../../demo/bench/model-report.js';
import { adapterLine, type BenchResults } from '../../demo/bench/report.js';
import { serveModelData } from '../../common/bench-data.js';
import { ROOT } from '../../common/browser-harness.js';
import { SPEECH_RATE } from '../../common/speech.js';
import { useBrowserSite } from '../support/browser-site.js';

const SECONDS = 8;
const CAP = 2;
const FRAMES = Math.floor((SECONDS * SPEECH_RATE) / 512);
const CAPPED = Math.floor((CAP * SPEECH_RATE) / 512);

const env = useBrowserSite();

it(`times a ${SECONDS} s recording as one scan against frame-by-frame engines, each checked on every frame`, async () => {
  const page = await env.blank();
  try {
    await serveModelData(page, ['silero-v5-file'], { seconds: SECONDS });
    await page.goto(`${env.site.url}/demo/bench.html?models=silero-v5-file&seconds=${SECONDS}&cap=ort-webgpu:${CAP}`);
    await page.waitForFunction(() => globalThis.__bench?.done === true, null, { timeout: 240_000, polling: 250 });
    const r = (await page.evaluate(() => globalThis.__bench)) as BenchResults;
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'bench-recording.png'), fullPage: true });
    console.log(`[bench recording] adapter: ${adapterLine(r)}\n${formatModelTable(r.models ?? [])}`);
    expect(r.error).toBeUndefined();
    expect(r.adapter, 'the bench page found no WebGPU adapter').not.toBeNull();
    const [m] = r.models!;
    expect(m.id).toBe('silero-v5-file');
    expect(m.frames).toBe(FRAMES);
    expect(m.seconds).toBeCloseTo((FRAMES * 512) / SPEECH_RATE, 6);
    expect(m.results.map((e) => e.engine)).toEqual([...RECORDING_ENGINES]);
    for (const e of m.results) {
      const capped = e.engine === 'ort-webgpu';
      if (!capped) expect(e.status, `${e.engine}: ${e.reason}`).toBe('ok');
      else expect(['ok', 'wrong'], `${e.engine}: ${e.reason}`).toContain(e.status);
      expect(e.frames, e.engine).toBe(capped ? CAPPED : FRAMES);
      expect(e.scaled, e.engine).toBe(capped);
      expect(e.recordingMs, e.engine).toBeGreaterThan(0);
      expect(e.frameMs, e.engine).toBeGreaterThan(0);
      // The recording's time is its frames' time: measured, or scaled from the frames timed.
      expect(e.recordingMs! / (e.frameMs! * FRAMES), e.engine).toBeCloseTo(1, 9);
      expect(e.realTimeFactor! / (e.recordingMs! / (1000 * m.seconds!)), e.engine).toBeCloseTo(1, 9);
      expect(Number.isFinite(e.maxDiff), e.engine).toBe(true);
    }
    const scan = m.results[0];
    expect(scan.maxDiff).toBeLessThanOrEqual(1e-4);
    expect(['split', 'loop']).toContain(scan.path);
    expect(scan.runsMs).toHaveLength(3);
    // The page shows the table.
    const shown = (await page.textContent('#models')) ?? '';
    expect(shown).toContain('vs webgpu-rnn scan');
    expect(shown).toContain(`timed on the first ${CAP} s, scaled`);
    expect(shown).toMatch(/× (faster|slower) than real time/);
  } finally {
    await page.close();
  }
}, 300_000);
