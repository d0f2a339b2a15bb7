// `npm run bench [-- --quick | --full | --config NAME] [--shapes id,id] [--engines id,id] [--reps N] [--no-build] [--headed]`;
// `--shapes silero-v5` (or silero-v4, silero-v6) runs a whole model instead: the Silero file that
// @ricky0123/vad-web ships, over espeak-ng speech, frame by frame (demo/bench/models.ts); this script
// serves the page the model bytes, the audio and onnxruntime-node's reference probabilities
// (common/bench-data.ts). `--shapes silero-v5-file [--seconds N] [--cap engine:seconds,…]`: a whole
// 60 s recording (N s), one session.scan against frame-by-frame engines, each timed on the whole
// recording (ORT's WebGPU EP on its first 10 s unless --cap says otherwise, scaled).
// `npm run bench -- --node …` runs the Node bench (npm run bench:node) with the other options instead.
// Builds the benchmark page (vite.demo.config.ts), serves it on 127.0.0.1 with vite preview, drives it in
// headless Chromium (CHROMIUM_PATH, default /usr/bin/chromium) with WebGPU enabled, waits for
// globalThis.__bench, prints the side-by-side table with ratios and the adapter, and writes
// bench-results/<timestamp>.json and .png (a full-page screenshot).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { adapterLine, failedEngines, formatTable, type BenchResults } from '../demo/bench/report.js';
import { buildSite, forwardConsole, launchChromium, ROOT, serveSite } from '../common/browser-harness.js';
import { benchArgs } from './args.js';
import { formatModelTable, parseModelId } from '../demo/bench/model-report.js';
import { serveModelData } from '../common/bench-data.js';

const argv = process.argv.slice(2);
const { flag, option, config } = benchArgs(argv);
if (flag('node')) {
  // `npm run bench -- --node …`: the same benchmark in Node over Dawn (scripts/bench-node.ts).
  const r = spawnSync('npm', ['run', '--silent', 'bench:node', '--', ...argv.filter((a) => a !== '--node')], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const timeoutMin = Number(option('timeout-min') ?? (config === 'quick' ? 10 : 90));

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

if (!flag('no-build')) {
  console.log('building the pages (vite build --config vite.demo.config.ts)…');
  await buildSite();
}
const site = await serveSite();
const browser = await launchChromium();
let exitCode = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  forwardConsole(page, '[bench]', (l) => console.log(`${elapsed().padStart(7)} ${l}`));
  const shapeIds = option('shapes')?.split(',') ?? [];
  const models = shapeIds.filter((id) => parseModelId(id));
  if (models.length && models.length !== shapeIds.length)
    throw new Error('--shapes: run the Silero models apart from the synthetic shapes');
  const query = new URLSearchParams(models.length ? { models: models.join(',') } : { config });
  for (const k of models.length ? ['engines', 'seconds', 'cap'] : ['shapes', 'engines', 'reps']) if (option(k)) query.set(k, option(k)!);
  if (models.length) await serveModelData(page, models, { seconds: option('seconds') ? Number(option('seconds')) : undefined });
  const url = `${site.url}/demo/bench.html?${query}`;
  console.log(`opening ${url}`);
  await page.goto(url);
  await page.waitForFunction(() => globalThis.__bench?.done === true, null, { timeout: timeoutMin * 60_000, polling: 500 });
  const results = (await page.evaluate(() => globalThis.__bench)) as BenchResults;
  console.log(`\nadapter: ${adapterLine(results)}`);
  console.log(
    `config: ${results.config}; agreement tolerance vs float64 reference: ${results.tolerance.atol} + ${results.tolerance.rtol}·|ref|`,
  );
  if (results.models) console.log(formatModelTable(results.models));
  else console.log(formatTable(results));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const name = results.models ? results.models.map((m) => m.id).join('+') : config;
  const json = join(dir, `${stamp}-${name}.json`);
  writeFileSync(json, JSON.stringify(results, null, 2));
  const png = join(dir, `${stamp}-${name}.png`);
  await page.screenshot({ path: png, fullPage: true });
  console.log(`\nwrote ${relative(ROOT, json)} and ${relative(ROOT, png)} (${elapsed()})`);
  if (results.error) {
    console.error(`the page reported an error: ${results.error}`);
    exitCode = 1;
  }
  // An engine that failed (not one that does not apply) fails the run.
  const failed = failedEngines(results);
  if (failed.length) {
    console.error(`failed:\n  ${failed.join('\n  ')}`);
    exitCode = 1;
  }
  if (!results.adapter) {
    console.error('no WebGPU adapter in Chromium: the GPU engines could not run');
    exitCode = 1;
  }
} catch (e) {
  console.error(e);
  exitCode = 1;
} finally {
  await browser.close();
  await site.close();
}
process.exit(exitCode);
