// Charts (chart.js): a summary of each peer's time relative to webgpu-rnn per shape (log scale), and one
// small horizontal bar chart per shape with the median time of every engine, labelled with the ratio.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LogarithmicScale,
  Title,
  Tooltip,
  type Plugin,
} from 'chart.js';
import type { ShapeResult } from './runner.js';
import { ENGINE_COLORS } from './types.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LogarithmicScale, Legend, Title, Tooltip);

/** Draws each bar's label (from dataset `labelsText`) at the bar's end. */
const barLabels: Plugin<'bar'> = {
  id: 'barLabels',
  afterDatasetsDraw(chart) {
    const ctx = chart.ctx;
    ctx.save();
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#222';
    chart.data.datasets.forEach((ds, k) => {
      const texts = (ds as { labelsText?: string[] }).labelsText;
      if (!texts) return;
      chart.getDatasetMeta(k).data.forEach((el, i) => {
        const t = texts[i];
        if (!t) return;
        const { x, y } = el.getProps(['x', 'y'], true) as { x: number; y: number };
        if (chart.options.indexAxis === 'y') {
          ctx.textAlign = 'left';
          ctx.textBaseline = 'middle';
          ctx.fillText(t, x + 4, y);
        } else {
          ctx.textAlign = 'center';
          ctx.textBaseline = 'bottom';
          ctx.fillText(t, x, y - 2);
        }
      });
    });
    ctx.restore();
  },
};

const charts: Chart[] = [];

/** Short engine names for the per-shape charts' axes. */
const SHORT: Record<string, string> = {
  'webgpu-rnn': 'webgpu-rnn',
  'ort-webgpu': 'ORT WebGPU',
  'ort-wasm': 'ORT WASM',
  'tfjs-webgpu': 'TF.js webgpu',
  'js-f32': 'plain JS',
};

/** A bar dataset carrying the texts the barLabels plugin draws. */
function withLabels<T extends object>(ds: T, labelsText: string[]): T {
  return Object.assign(ds, { labelsText });
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const ratioLabel = (r: number) =>
  r >= 1 ? `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}× slower` : `${1 / r >= 10 ? (1 / r).toFixed(0) : (1 / r).toFixed(1)}× faster`;

export function renderCharts(shapes: ShapeResult[], summary: HTMLCanvasElement, cards: HTMLElement): void {
  while (charts.length) charts.pop()!.destroy();
  cards.innerHTML = '';
  const engineIds: string[] = [];
  const labels = new Map<string, string>();
  for (const s of shapes)
    for (const r of s.results)
      if (!engineIds.includes(r.engine)) {
        engineIds.push(r.engine);
        labels.set(r.engine, r.label);
      }

  // Summary: peer median / webgpu-rnn median, per shape.
  const peers = engineIds.filter((e) => e !== 'webgpu-rnn');
  const ratios = peers.map((e) =>
    shapes.map((s) => {
      const base = s.results.find((r) => r.engine === 'webgpu-rnn');
      const peer = s.results.find((r) => r.engine === e);
      return base?.status === 'ok' && peer?.status === 'ok' ? peer.medianMs! / base.medianMs! : null;
    }),
  );
  charts.push(
    new Chart(summary, {
      type: 'bar',
      data: {
        labels: shapes.map((s) => s.shape.label),
        datasets: peers.map((e, k) =>
          withLabels(
            { label: labels.get(e)!, data: ratios[k], backgroundColor: ENGINE_COLORS[e] ?? '#999' },
            ratios[k].map((r) => (r === null ? 'n/a' : r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r.toPrecision(2))),
          ),
        ),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { position: 'top' },
          tooltip: {
            callbacks: {
              label: (c) => `${c.dataset.label}: ${c.parsed.y === null ? 'n/a' : ratioLabel(c.parsed.y as number)} than webgpu-rnn`,
            },
          },
        },
        scales: {
          y: { type: 'logarithmic', title: { display: true, text: 'time / webgpu-rnn time (1 = same; >1: webgpu-rnn faster)' } },
          x: { ticks: { autoSkip: false, maxRotation: 30 } },
        },
      },
      plugins: [barLabels],
    }),
  );

  // One card per shape with absolute times.
  for (const s of shapes) {
    const card = document.createElement('div');
    card.className = 'card';
    const ok = s.results.filter((r) => r.status === 'ok');
    const na = s.results.filter((r) => r.status !== 'ok');
    const base = s.results.find((r) => r.engine === 'webgpu-rnn' && r.status === 'ok');
    card.innerHTML = `<h3></h3><div class="desc"></div><div style="position:relative;height:${40 + 30 * Math.max(1, ok.length)}px"><canvas></canvas></div>`;
    card.querySelector('h3')!.textContent = s.shape.label;
    card.querySelector('.desc')!.textContent = `${s.description}; ${s.stepsPerRun} steps per run`;
    for (const r of na) {
      const d = document.createElement('div');
      d.className = 'na';
      d.textContent = `${r.label}: ${r.status} (${r.reason})`;
      card.appendChild(d);
    }
    cards.appendChild(card);
    if (!ok.length) continue;
    const vals = ok.map((r) => r.medianMs!);
    const spread = Math.max(...vals) / Math.max(1e-6, Math.min(...vals));
    charts.push(
      new Chart(card.querySelector('canvas')!, {
        type: 'bar',
        data: {
          labels: ok.map((r) => SHORT[r.engine] ?? r.engine),
          datasets: [
            withLabels(
              { label: 'median ms per run', data: vals, backgroundColor: ok.map((r) => ENGINE_COLORS[r.engine] ?? '#999') },
              ok.map(
                (r) =>
                  `${fmt(r.medianMs!)} ms${base && r !== base ? ` (${ratioLabel(r.medianMs! / base.medianMs!)})` : ''}${r.agrees === false ? ' ✗ output differs' : ''}`,
              ),
            ),
          ],
        },
        options: {
          indexAxis: 'y',
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          layout: { padding: { right: 150 } },
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                label: (c) => {
                  const r = ok[c.dataIndex];
                  return `median ${fmt(r.medianMs!)} ms, IQR ${fmt(r.q1Ms!)}–${fmt(r.q3Ms!)}, min–max ${fmt(r.minMs!)}–${fmt(r.maxMs!)}`;
                },
              },
            },
          },
          scales: {
            x: {
              type: spread > 20 ? 'logarithmic' : 'linear',
              beginAtZero: spread <= 20,
              title: { display: true, text: `ms per run${spread > 20 ? ' (log)' : ''}` },
              // Log axes: label only the powers of ten, unrotated.
              ticks: { maxRotation: 0, callback: (v) => (spread <= 20 || Number.isInteger(Math.log10(Number(v))) ? String(v) : '') },
            },
          },
        },
        plugins: [barLabels],
      }),
    );
  }
}
