// The VAD page's two plots, on plain canvases: the live speech probability scrolling by (the last
// few seconds, thresholds drawn, speech shaded), and a recording's waveform with its speech
// segments marked. No chart library: two small drawings do not need one.
import type { SpeechSegment } from '../../src/index.js';

const SPEECH = 'rgba(31, 157, 85, 0.18)';
const LINE = '#2f6fde';
const MUTED = '#9aa3b2';

function prepare(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d')!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  return ctx;
}

function thresholdLine(ctx: CanvasRenderingContext2D, y: number, w: number, label: string) {
  ctx.strokeStyle = MUTED;
  ctx.setLineDash([4, 4]);
  ctx.beginPath();
  ctx.moveTo(0, y);
  ctx.lineTo(w, y);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = MUTED;
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText(label, 4, y - 3);
}

/** The last `span` frames of `probs`, newest on the right, with the thresholds and the segments. */
export function drawLive(
  canvas: HTMLCanvasElement,
  probs: readonly number[],
  segments: readonly SpeechSegment[],
  thresholds: { positive: number; negative: number },
  span = 300,
): void {
  const ctx = prepare(canvas);
  const { width: w, height: h } = canvas;
  const first = Math.max(0, probs.length - span);
  const x = (f: number) => ((f - first) / span) * w;
  const y = (p: number) => h - 4 - p * (h - 8);
  ctx.fillStyle = SPEECH;
  for (const s of segments) {
    if (s.endFrame < first) continue;
    ctx.fillRect(x(Math.max(first, s.startFrame)), 0, x(s.endFrame) - x(Math.max(first, s.startFrame)), h);
  }
  thresholdLine(ctx, y(thresholds.positive), w, `positive ${thresholds.positive}`);
  thresholdLine(ctx, y(thresholds.negative), w, `negative ${thresholds.negative}`);
  ctx.strokeStyle = LINE;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  for (let f = first; f < probs.length; f++) {
    if (f === first) ctx.moveTo(x(f), y(probs[f]));
    else ctx.lineTo(x(f), y(probs[f]));
  }
  ctx.stroke();
  ctx.lineWidth = 1;
}

/** A recording's waveform (min and max per pixel column) with its speech segments shaded. */
export function drawRecording(canvas: HTMLCanvasElement, audio: Float32Array, rate: number, segments: readonly SpeechSegment[]): void {
  const ctx = prepare(canvas);
  const { width: w, height: h } = canvas;
  const seconds = audio.length / rate;
  if (audio.length === 0) return;
  ctx.fillStyle = SPEECH;
  for (const s of segments) ctx.fillRect((s.start / seconds) * w, 0, ((s.end - s.start) / seconds) * w, h);
  let peak = 1e-6;
  for (let i = 0; i < audio.length; i++) peak = Math.max(peak, Math.abs(audio[i]));
  const per = audio.length / w;
  ctx.fillStyle = LINE;
  for (let px = 0; px < w; px++) {
    let lo = 0;
    let hi = 0;
    const end = Math.min(audio.length, Math.floor((px + 1) * per));
    for (let i = Math.floor(px * per); i < end; i++) {
      lo = Math.min(lo, audio[i]);
      hi = Math.max(hi, audio[i]);
    }
    const top = h / 2 - (hi / peak) * (h / 2 - 4);
    const bottom = h / 2 - (lo / peak) * (h / 2 - 4);
    ctx.fillRect(px, top, 1, Math.max(1, bottom - top));
  }
  // One tick a second (every 10 past a minute), so segment times can be read off.
  const every = seconds > 60 ? 10 : 1;
  ctx.fillStyle = MUTED;
  ctx.font = '11px system-ui, sans-serif';
  for (let t = every; t < seconds; t += every) {
    const px = (t / seconds) * w;
    ctx.fillRect(px, h - 6, 1, 6);
    if (every > 1 || t % 2 === 0) ctx.fillText(`${t}s`, px + 2, h - 8);
  }
}
