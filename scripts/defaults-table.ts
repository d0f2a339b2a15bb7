// README's "Defaults by sequence length" table from `--config defaults` bench results: per shape, the
// default's median (its kernels), the fastest variant that can be forced (a step variant, a
// projection, the stack kernel; not tuning, which measures instead), and their ratio.
//
//   npx tsx scripts/defaults-table.ts results.json [more.json …]
//
// One table per results file (one adapter each). A ratio over 1.5 is marked: the issue's goal.
import { readFileSync } from 'node:fs';
import type { BenchResults } from '../demo/bench/report.js';

const GOAL = 1.5;
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

function table(res: BenchResults): string {
  const a = res.adapter;
  const lines = [
    `${a ? `${a.vendor} / ${a.architecture} / ${a.description}` : 'no adapter'}, ${res.userAgent} (${res.startedAt.slice(0, 10)})`,
    '',
    '| shape | default: kernels | default ms | fastest forced | its ms | default ÷ fastest |',
    '|---|---|---|---|---|---|',
  ];
  let worst = 0;
  for (const s of res.shapes) {
    const base = s.results.find((e) => e.engine === 'webgpu-rnn');
    const forced = s.results.filter((e) => e.engine.startsWith('webgpu-rnn-') && !['webgpu-rnn-tune', 'webgpu-rnn-f16'].includes(e.engine));
    const timed = forced.filter((e) => e.status === 'ok' && e.agrees);
    const fastest = timed.reduce<(typeof timed)[number] | undefined>((f, e) => (!f || e.medianMs! < f.medianMs! ? e : f), undefined);
    if (!base || base.status !== 'ok') {
      lines.push(`| ${s.shape.label} | ${base?.status ?? 'absent'}: ${(base?.reason ?? '').slice(0, 120)} | | | | |`);
      continue;
    }
    const kernels = (base.notes ?? []).find((n) => n.startsWith('kernels: '))?.slice('kernels: '.length) ?? '?';
    const best = fastest && fastest.medianMs! < base.medianMs! ? fastest : undefined;
    const ratio = best ? base.medianMs! / best.medianMs! : 1;
    worst = Math.max(worst, ratio);
    const slow = forced.filter((e) => e.status === 'n/a' && /first run took/.test(e.reason ?? '')).map((e) => e.engine.slice(11));
    lines.push(
      `| ${s.shape.label} | ${kernels} | ${fmt(base.medianMs!)} | ${best ? best.engine.slice('webgpu-rnn-'.length) : '(the default)'} | ` +
        `${best ? fmt(best.medianMs!) : ''} | ${ratio.toFixed(2)}${ratio > GOAL ? ' ✗' : ''}${slow.length ? ` (too slow to time: ${slow.join(', ')})` : ''} |`,
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
for (const f of files) console.log(`${table(JSON.parse(readFileSync(f, 'utf8')) as BenchResults)}\n`);
