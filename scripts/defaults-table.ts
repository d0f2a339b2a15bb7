// README's "Defaults by sequence length" table from `--config defaults` bench results: per shape, the
// default's median (its kernels), the fastest other kernels that can be forced (a step variant, a
// projection, the stack kernel; not tuning, which measures instead), and their ratio. Engines that
// ran the same kernels are pooled into one median.
//
//   npx tsx scripts/defaults-table.ts results.json [more.json …]
//
// The files are of one adapter: a shape measured again in a later file (e.g. the short shapes rerun
// with --reps 30, since sub-millisecond runs are bimodal on a shared machine) replaces its earlier
// row. Where every variant's first run exceeded the configuration's cap (not timed), the first runs
// are compared instead, and the row says so. A ratio over 1.5 is marked: the issue's goal.
import { readFileSync } from 'node:fs';
import type { BenchResults } from '../demo/bench/report.js';

const GOAL = 1.5;
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

/** The kernels an engine ran (its 'kernels: …' note). */
const kernelsOf = (e: { notes?: string[] }) => (e.notes ?? []).find((n) => n.startsWith('kernels: '))?.slice('kernels: '.length) ?? '?';

/** The median of a list. */
function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function table(res: BenchResults): string {
  const a = res.adapter;
  const lines = [
    `${a ? `${a.vendor} / ${a.architecture} / ${a.description}` : 'no adapter'}, ${res.userAgent} (${res.startedAt.slice(0, 10)})`,
    '',
    '| shape | default kernels | default ms | fastest other kernels | its ms | default ÷ fastest |',
    '|---|---|---|---|---|---|',
  ];
  let worst = 0;
  for (const s of res.shapes) {
    const capped = (e: (typeof s.results)[number]) => e.status === 'n/a' && /first run took/.test(e.reason ?? '');
    const base = s.results.find((e) => e.engine === 'webgpu-rnn');
    if (base && capped(base)) {
      // Nothing timed: compare the first runs (each also checked against the reference).
      const firsts = s.results.filter((e) => e.engine.startsWith('webgpu-rnn-') && e.firstRunMs !== undefined && e.agrees);
      const best = firsts.filter((e) => kernelsOf(e) !== kernelsOf(base)).sort((x, y) => x.firstRunMs! - y.firstRunMs!)[0];
      const ratio = best && best.firstRunMs! < base.firstRunMs! ? base.firstRunMs! / best.firstRunMs! : 1;
      worst = Math.max(worst, ratio);
      lines.push(
        `| ${s.shape.label} | ${kernelsOf(base)} | ${fmt(base.firstRunMs!)} (first run) | ${best ? kernelsOf(best) : ''} | ` +
          `${best ? `${fmt(best.firstRunMs!)} (first run)` : ''} | ${ratio.toFixed(2)}${ratio > GOAL ? ' ✗' : ''} (every variant over the cap: first runs) |`,
      );
      continue;
    }
    if (!base || base.status !== 'ok') {
      lines.push(`| ${s.shape.label} | ${base?.status ?? 'absent'}: ${(base?.reason ?? '').replace(/\|/g, '/')} | | | | |`);
      continue;
    }
    // Engines that ran the same kernels (the default, the forced variant it picks, a forced projection
    // equal to its own) are one configuration: their runs are pooled, so that this machine's noise
    // between identical runs is not read as a difference between kernels.
    const forced = s.results.filter((e) => e.engine.startsWith('webgpu-rnn') && !['webgpu-rnn-tune', 'webgpu-rnn-f16'].includes(e.engine));
    const pooled = new Map<string, number[]>();
    for (const e of forced.filter((e) => e.status === 'ok' && e.agrees))
      pooled.set(kernelsOf(e), [...(pooled.get(kernelsOf(e)) ?? []), ...e.runsMs!]);
    const mine = kernelsOf(base);
    const own = median(pooled.get(mine)!);
    let best: [string, number] | undefined;
    for (const [k, runs] of pooled) if (k !== mine && (!best || median(runs) < best[1])) best = [k, median(runs)];
    const ratio = best && best[1] < own ? own / best[1] : 1;
    worst = Math.max(worst, ratio);
    const slow = forced
      .filter((e) => e.status === 'n/a' && /first run took/.test(e.reason ?? ''))
      .map((e) => `${e.engine.slice(11)} ${e.reason!.match(/took ([\d.]+ s)/)?.[1]}`);
    lines.push(
      `| ${s.shape.label} | ${mine} | ${fmt(own)} | ${best ? best[0] : ''} | ${best ? fmt(best[1]) : ''} | ` +
        `${ratio.toFixed(2)}${ratio > GOAL ? ' ✗' : ''}${slow.length ? ` (not timed, first run over the cap: ${slow.join(', ')})` : ''} |`,
    );
  }
  lines.push('', `worst default ÷ fastest: ${worst.toFixed(2)} (goal ≤ ${GOAL})`);
  return lines.join('\n');
}

const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: tsx scripts/defaults-table.ts results.json [more.json …]');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as BenchResults);
const merged: BenchResults = { ...runs[0], shapes: [...runs[0].shapes] };
for (const later of runs.slice(1)) {
  for (const shape of later.shapes) {
    const at = merged.shapes.findIndex((x) => x.shape.id === shape.shape.id);
    if (at >= 0) merged.shapes[at] = shape;
    else merged.shapes.push(shape);
  }
}
console.log(table(merged));
