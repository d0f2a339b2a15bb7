// The demo app's voice activity detection page (demo/app/vad.html) in headless Chromium on WebGPU:
// espeak-ng speech with silences and noise (common/speech.ts) is written as a WAV at test time and
//   - played into the page's microphone by Chromium's fake capture device: the live page (AudioWorklet
//     at the context's rate, resampled to 16 kHz, one stream.step per 32 ms frame) must find each
//     sentence where it is spoken;
//   - given to the page's file input: session.scan over the decoded file must match onnxruntime-node
//     on the same samples, find each sentence, and offer JSON and WebVTT downloads that hold the
//     same segments; the ONNX Runtime Web (WASM) comparison must agree;
//   - then the server is stopped, the network cut, and the page reloaded: the service worker's copy
//     (the model file included) loads it and runs the file again.
// Without a WebGPU adapter the page reports an error and these tests fail; they never skip.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VadState } from '../../demo/app/vad.js';
import { buildSite, forwardConsole, launchChromium, ROOT, serveSite, type Site } from '../../common/browser-harness.js';
import { sileroFrames, sileroReference } from '../../common/silero.js';
import { DEFAULT_SPEECH, SPEECH_RATE, speech, speechIntervals, wavBytes } from '../../common/speech.js';
import { speechSegments, type SpeechSegment } from '../../src/index.js';

const ARTIFACTS = join(ROOT, 'test-results');
const FRAME_S = 512 / SPEECH_RATE;
/** The tolerance on segment starts and ends, seconds. */
const TOLERANCE = 0.3;

const audio = speech();
// The samples as the page decodes them from the 16-bit WAV (Chromium divides by 32768).
const decoded = audio.map((x) => Math.round(Math.max(-1, Math.min(1, x)) * 32767) / 32768);
const known = speechIntervals();
const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-vad-page-'));
const wavPath = join(dir, 'speech.wav');
writeFileSync(wavPath, wavBytes(audio));
const report: string[] = [];

let site: Site | undefined;
let browser: Browser | undefined;
let reference: SpeechSegment[];
let referenceProbs: number[];

beforeAll(async () => {
  await buildSite();
  site = await serveSite();
  // The fake microphone plays the WAV once (%noloop: silence after it), from when capture starts.
  browser = await launchChromium([
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-audio-capture=${wavPath}%noloop`,
    '--autoplay-policy=no-user-gesture-required',
  ]);
  referenceProbs = (await sileroReference('v5', sileroFrames('v5', decoded))).probs;
  reference = speechSegments(referenceProbs, { frameSeconds: FRAME_S });
}, 180_000);

afterAll(async () => {
  console.log(`[vad page] ${report.join('\n[vad page] ')}`);
  await browser?.close();
  await site?.close();
  rmSync(dir, { recursive: true, force: true });
});

const state = (p: Page) => p.evaluate(() => (globalThis as unknown as { __vad?: VadState }).__vad);

async function openVad(from: Site): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 1200, height: 1100 }, acceptDownloads: true });
  await context.grantPermissions(['microphone'], { origin: from.url });
  const page = await context.newPage();
  forwardConsole(page, '\u0000never', (l) => console.log(l));
  await page.goto(`${from.url}/demo/app/vad.html`);
  await waitReady(page);
  return page;
}

async function waitReady(page: Page) {
  await page.waitForFunction(
    () => {
      const v = (globalThis as unknown as { __vad?: VadState }).__vad;
      return v?.ready || v?.error;
    },
    undefined,
    { timeout: 120_000 },
  );
  expect((await state(page))?.error).toBeUndefined();
}

/** Waits until the page has completed `n` file runs (or failed). */
async function fileRuns(page: Page, n: number) {
  await page.waitForFunction(
    (k) => {
      const v = (globalThis as unknown as { __vad: VadState }).__vad;
      return v.fileRuns >= k || !!v.error;
    },
    n,
    { timeout: 120_000, polling: 250 },
  );
}

/** Each found segment against the known sentence intervals: |Δstart| and |Δend|, in order. */
function errors(found: readonly { start: number; end: number }[], against: readonly { start: number; end: number }[]) {
  return against.map((k, i) => ({ start: Math.abs(found[i].start - k.start), end: Math.abs(found[i].end - k.end) }));
}
const worst = (e: { start: number; end: number }[], k: 'start' | 'end') => Math.max(...e.map((x) => x[k]));
const show = (s: readonly { start: number; end: number }[]) => s.map((x) => `${x.start.toFixed(2)}–${x.end.toFixed(2)}`).join(', ');

describe('browser: the VAD page', () => {
  it('the Node reference (onnxruntime-node over the WAV) finds the three sentences', () => {
    expect(reference.length).toBe(DEFAULT_SPEECH.sentences.length);
    const e = errors(reference, known);
    report.push(`known sentences ${show(known)} s; onnxruntime-node + speechSegments ${show(reference)} s`);
    report.push(`reference vs known: worst |Δstart| ${worst(e, 'start').toFixed(3)} s, |Δend| ${worst(e, 'end').toFixed(3)} s`);
  });

  it('live: the fake microphone playing the WAV is segmented where the sentences are', async () => {
    const page = await openVad(site!);
    try {
      await page.click('#mic-start');
      const frames = Math.ceil(audio.length / 512);
      // The whole WAV and a second more (the device's start latency), then stop.
      await page.waitForFunction(
        (n) =>
          ((globalThis as unknown as { __vad: VadState }).__vad.live.probs.length ?? 0) >= n ||
          !!(globalThis as unknown as { __vad: VadState }).__vad.error,
        frames + 32,
        { timeout: 60_000, polling: 250 },
      );
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'vad-live.png'), fullPage: true });
      await page.click('#mic-stop');
      const live = (await state(page))!.live;
      expect((await state(page))!.error).toBeUndefined();
      // The fake device starts the file when it opens, during getUserMedia; the worklet sees its first
      // samples later, so the live clock starts that much into the file. Align by it (tens of ms).
      const offset = (live.startedAt! - live.requestedAt!) / 1000;
      const duration = audio.length / SPEECH_RATE;
      // The first pass only (%noloop plays silence after it, but a looping device would start over).
      const segments = live.segments
        .filter((x) => x.start + offset < duration)
        .map((x) => ({ start: x.start + offset, end: x.end + offset }));
      report.push(
        `live: ${live.probs.length} frames at ${live.msPerFrame!.toFixed(2)} ms per 32 ms frame (${(32 / live.msPerFrame!).toFixed(1)}× real time), ` +
          `AudioContext at ${live.contextRate} Hz, capture started ${(offset * 1000).toFixed(0)} ms after getUserMedia was called`,
      );
      expect(segments.length, `live segments ${show(segments)}`).toBe(known.length);
      const e = errors(segments, known);
      const r = errors(segments, reference);
      report.push(
        `live segments (aligned) ${show(segments)} s: vs known worst |Δstart| ${worst(e, 'start').toFixed(3)} s, |Δend| ${worst(e, 'end').toFixed(3)} s; ` +
          `vs the Node reference |Δstart| ${worst(r, 'start').toFixed(3)} s, |Δend| ${worst(r, 'end').toFixed(3)} s`,
      );
      expect(worst(e, 'start')).toBeLessThanOrEqual(TOLERANCE);
      expect(worst(e, 'end')).toBeLessThanOrEqual(TOLERANCE);
      expect(worst(r, 'start')).toBeLessThanOrEqual(TOLERANCE);
      expect(worst(r, 'end')).toBeLessThanOrEqual(TOLERANCE);
      // It kept up: a frame took less than the 32 ms it lasts (it would fall behind otherwise).
      expect(live.msPerFrame!).toBeLessThan(32);
    } finally {
      await page.context().close();
    }
  }, 120_000);

  it('a file: scan matches onnxruntime-node, finds the sentences, downloads hold them, ORT WASM agrees; then offline reload', async () => {
    // Its own server, so that the offline reload at the end can stop it.
    const fileSite = await serveSite();
    let serving = true;
    const page = await openVad(fileSite);
    try {
      await page.check('#ort-compare');
      await page.setInputFiles('#file-input', wavPath);
      await fileRuns(page, 1);
      const v = (await state(page))!;
      expect(v.error).toBeUndefined();
      const f = v.file!;
      expect(f.frames).toBe(Math.floor(audio.length / 512));
      let dp = 0;
      for (let k = 0; k < f.frames; k++) dp = Math.max(dp, Math.abs(f.probs[k] - referenceProbs[k]));
      expect(dp).toBeLessThanOrEqual(1e-4);
      expect(f.segments.map((x) => [x.startFrame, x.endFrame])).toEqual(reference.map((x) => [x.startFrame, x.endFrame]));
      const e = errors(f.segments, known);
      expect(f.segments.length).toBe(known.length);
      expect(worst(e, 'start')).toBeLessThanOrEqual(TOLERANCE);
      expect(worst(e, 'end')).toBeLessThanOrEqual(TOLERANCE);
      const ort = v.ort!;
      expect(ort.maxDiff).toBeLessThanOrEqual(1e-4);
      expect(ort.segments.map((x) => [x.startFrame, x.endFrame])).toEqual(reference.map((x) => [x.startFrame, x.endFrame]));
      report.push(
        `file: ${f.audioSeconds.toFixed(1)} s (${f.frames} frames) in ${f.ms.toFixed(0)} ms with session.scan (${(f.audioSeconds / (f.ms / 1000)).toFixed(0)}× real time), ` +
          `max |Δp| vs onnxruntime-node ${dp.toExponential(1)}; ORT Web WASM frame by frame ${ort.ms.toFixed(0)} ms (${ort.msPerFrame.toFixed(2)} ms per frame), max |Δp| ${ort.maxDiff.toExponential(1)}`,
      );
      report.push(
        `file segments ${show(f.segments)} s: vs known worst |Δstart| ${worst(e, 'start').toFixed(3)} s, |Δend| ${worst(e, 'end').toFixed(3)} s`,
      );
      // The first run built the scan's programs for this length; a second one shows the steady speed.
      await page.uncheck('#ort-compare');
      await page.setInputFiles('#file-input', wavPath);
      await fileRuns(page, 2);
      const second = (await state(page))!.file!;
      expect(second.segments.map((x) => [x.startFrame, x.endFrame])).toEqual(reference.map((x) => [x.startFrame, x.endFrame]));
      report.push(
        `file again on the same page: ${second.ms.toFixed(0)} ms (${(second.audioSeconds / (second.ms / 1000)).toFixed(0)}× real time)`,
      );
      // The downloads: well-formed, and the segments on the page.
      const download = async (sel: string) => {
        const [d] = await Promise.all([page.waitForEvent('download'), page.click(sel)]);
        return { name: d.suggestedFilename(), text: readFileSync((await d.path())!, 'utf8') };
      };
      const json = await download('#download-json');
      expect(json.name).toBe('speech-segments.json');
      const parsed = JSON.parse(json.text) as { sampleRate: number; segments: { start: number; end: number }[] };
      expect(parsed.sampleRate).toBe(SPEECH_RATE);
      expect(parsed.segments).toEqual(f.segments.map((x) => ({ start: x.start, end: x.end })));
      const vtt = await download('#download-vtt');
      expect(vtt.name).toBe('speech-segments.vtt');
      const cues = [...vtt.text.matchAll(/^(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})$/gm)].map((m) => {
        const n = m.slice(1).map(Number);
        return { start: n[0] * 3600 + n[1] * 60 + n[2] + n[3] / 1000, end: n[4] * 3600 + n[5] * 60 + n[6] + n[7] / 1000 };
      });
      expect(vtt.text.startsWith('WEBVTT\n\n')).toBe(true);
      expect(cues.length).toBe(f.segments.length);
      cues.forEach((c, i) => {
        expect(Math.abs(c.start - f.segments[i].start)).toBeLessThanOrEqual(0.0005);
        expect(Math.abs(c.end - f.segments[i].end)).toBeLessThanOrEqual(0.0005);
      });
      // The rules are live: a long minimum drops every segment, and putting it back restores them.
      await page.fill('#min-speech', '1000');
      expect((await state(page))!.file!.segments.length).toBe(0);
      await page.fill('#min-speech', '3');
      expect((await state(page))!.file!.segments.length).toBe(known.length);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'vad-file.png'), fullPage: true });

      // Offline: the service worker stored the page (the model file included); stop the server, cut
      // the network, reload, and run the file again.
      await page.waitForFunction(() => (globalThis as unknown as { __vad: VadState }).__vad.offlineFiles !== undefined, undefined, {
        timeout: 60_000,
      });
      const stored = (await state(page))!.offlineFiles!;
      expect(stored, (await page.textContent('#offline')) ?? '').toBeGreaterThan(3);
      await fileSite.close();
      serving = false;
      await page.context().setOffline(true);
      await page.reload();
      await waitReady(page);
      await page.setInputFiles('#file-input', wavPath);
      await fileRuns(page, 1);
      const again = (await state(page))!;
      expect(again.error).toBeUndefined();
      expect(again.file!.segments.map((x) => [x.startFrame, x.endFrame])).toEqual(reference.map((x) => [x.startFrame, x.endFrame]));
      report.push(
        `offline reload (${stored} files stored, server stopped): ready at ${again.loadMs!.toFixed(0)} ms, the file run again in ${again.file!.ms.toFixed(0)} ms`,
      );
    } finally {
      await page.context().close();
      if (serving) await fileSite.close();
    }
  }, 240_000);
});
