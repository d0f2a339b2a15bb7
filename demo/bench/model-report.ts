// What the model benchmark (models.ts) publishes, and its plain-text table: no DOM, no engines, so
// scripts/bench.ts can import it in Node.
import type { SileroVersion } from '../../common/silero-frames.js';

export interface ModelEngineResult {
  /** webgpu-rnn: stream() frame by frame, or on a whole recording one scan(); webgpu-rnn-stream: stream() there. */
  engine: 'webgpu-rnn' | 'webgpu-rnn-stream' | 'ort-webgpu' | 'ort-wasm';
  /** 'wrong': a peer ran but its probabilities differ from onnxruntime-node's (reported, timed, not a failure of ours). */
  status: 'ok' | 'wrong' | 'error';
  reason?: string;
  /** The frames it ran, timed and checked (on a whole recording fewer than the recording's where `scaled`). */
  frames?: number;
  /** Per frame, frame-by-frame engines only. */
  medianMs?: number;
  p90Ms?: number;
  /** max |p - p_ref| over every frame. */
  maxDiff?: number;
  /** webgpu-rnn: dispatches per frame, from the library's plan. */
  dispatches?: number;
  /** A whole recording: its time, measured, or where `scaled` the time of `frames` frames times the recording's frames over them. */
  recordingMs?: number;
  /** recordingMs over the recording's frames. */
  frameMs?: number;
  /** recordingMs over the recording's duration: below 1 is faster than real time. */
  realTimeFactor?: number;
  /** Timed on the first `frames` frames only (ModelResult.caps), recordingMs scaled to the whole recording. */
  scaled?: boolean;
  /** webgpu-rnn's scan: the path scanPlan() gives ('split' or 'loop') and each timed run's ms. */
  path?: 'split' | 'loop';
  runsMs?: number[];
}

export interface ModelResult {
  id: string;
  label: string;
  /** The frames of the audio (of the recording for a whole-recording model). */
  frames: number;
  /** Frames run before timing (then the state starts over); webgpu-rnn's scan runs one whole scan instead. */
  warmup: number;
  /** A whole recording (silero-v5-file): its duration, and the engines timed on its first seconds only. */
  seconds?: number;
  caps?: Record<string, number>;
  results: ModelEngineResult[];
}

/** The engines of a frame-by-frame model run, in table order. */
export const MODEL_ENGINES = ['webgpu-rnn', 'ort-webgpu', 'ort-wasm'] as const;

/** The engines of the whole-recording model, in table order (ORT's WebGPU EP, the slowest, last). */
export const RECORDING_ENGINES = ['webgpu-rnn', 'webgpu-rnn-stream', 'ort-wasm', 'ort-webgpu'] as const;

/** Every engine's probabilities must agree with onnxruntime-node's within this on every frame. */
export const MODEL_TOLERANCE = 1e-4;

/** The whole-recording model's length unless told (?seconds=, --seconds), and its engines' default caps (seconds timed). */
export const RECORDING_SECONDS = 60;
export const RECORDING_CAPS: Record<string, number> = { 'ort-webgpu': 10 };

/**
 * The model ids: silero-v4, silero-v5, silero-v6 (the speech frame by frame), silero-v5-file (a whole
 * recording: one scan against frame-by-frame engines). undefined for any other id.
 */
export function parseModelId(id: string): { version: SileroVersion; recording: boolean } | undefined {
  const m = /^silero-(v[456])(-file)?$/.exec(id);
  if (!m || (m[2] && m[1] !== 'v5')) return undefined;
  return { version: m[1] as SileroVersion, recording: m[2] !== undefined };
}

/** "3.20× slower" or "12× faster" for a time ratio (other / base). */
export function timesText(ratio: number, than = ''): string {
  const x = ratio >= 1 ? ratio : 1 / ratio;
  return `${x.toFixed(x >= 10 ? 0 : 2)}× ${ratio >= 1 ? 'slower' : 'faster'}${than}`;
}

/** The engine column: its name, how it was timed, and why a result is wrong. */
function engineCell(r: ModelEngineResult, m: ModelResult): string {
  const how: string[] = [];
  if (r.path) how.push(`session.scan, ${r.path} path, median of ${r.runsMs?.length} runs`);
  else if (m.seconds !== undefined) how.push('frame by frame');
  if (r.scaled) how.push(`timed on the first ${m.caps?.[r.engine]} s, scaled`);
  if (r.status !== 'ok') how.push(r.reason ?? r.status);
  // A reason's "|Δp|" would end the cell.
  return how.length ? `${r.engine} (${how.join('; ').replaceAll('|', '\\|')})` : r.engine;
}

function recordingTable(m: ModelResult): string[] {
  const lines = [
    `${m.label}; warm-up: one scan (webgpu-rnn), ${m.warmup} frames (the others); each engine checked against onnxruntime-node on every frame it ran, within ${MODEL_TOLERANCE}`,
    '| engine | ms / recording | ms / frame | real-time factor | frames timed | max abs dp | vs webgpu-rnn scan |',
    '|---|---|---|---|---|---|---|',
  ];
  const base = m.results.find((r) => r.engine === 'webgpu-rnn' && r.status === 'ok');
  for (const r of m.results) {
    if (r.recordingMs === undefined) {
      lines.push(`| ${r.engine} | ${r.status}: ${r.reason} | | | | | |`);
      continue;
    }
    const rtf = r.realTimeFactor!;
    const ratio = base && r !== base ? timesText(r.recordingMs / base.recordingMs!) : '';
    lines.push(
      `| ${engineCell(r, m)} | ${r.recordingMs.toFixed(1)} | ${r.frameMs!.toFixed(3)} | ${rtf.toPrecision(3)} (${timesText(rtf, ' than real time')}) | ${r.frames} of ${m.frames} | ${r.maxDiff!.toExponential(2)} | ${ratio} |`,
    );
  }
  return lines;
}

function framesTable(m: ModelResult): string[] {
  const lines = [
    `${m.label}; warm-up ${m.warmup} frames; each checked against onnxruntime-node within ${MODEL_TOLERANCE}`,
    '| engine | median ms / frame | p90 ms | max abs dp | dispatches / frame | vs webgpu-rnn |',
    '|---|---|---|---|---|---|',
  ];
  const base = m.results.find((r) => r.engine === 'webgpu-rnn' && r.status === 'ok');
  for (const r of m.results) {
    if (r.status !== 'ok' && r.medianMs === undefined) {
      lines.push(`| ${r.engine} | ${r.status}: ${r.reason} | | | | |`);
      continue;
    }
    const ratio = base && r !== base ? `${(r.medianMs! / base.medianMs!).toFixed(2)}×` : '';
    lines.push(
      `| ${engineCell(r, m)} | ${r.medianMs!.toFixed(3)} | ${r.p90Ms!.toFixed(3)} | ${r.maxDiff!.toExponential(2)} | ${r.dispatches ?? ''} | ${ratio} |`,
    );
  }
  return lines;
}

/** The plain-text table of model results (scripts/bench.ts prints it, the page shows it). */
export function formatModelTable(models: ModelResult[]): string {
  return models.flatMap((m, k) => [...(k ? [''] : []), ...(m.seconds === undefined ? framesTable(m) : recordingTable(m))]).join('\n');
}
