// What the model benchmark (models.ts) publishes, and its plain-text table: no DOM, no engines, so
// scripts/bench.ts can import it in Node.
export interface ModelEngineResult {
  engine: 'webgpu-rnn' | 'ort-webgpu' | 'ort-wasm';
  /** 'wrong': a peer ran but its probabilities differ from onnxruntime-node's (reported, timed, not a failure of ours). */
  status: 'ok' | 'wrong' | 'error';
  reason?: string;
  frames?: number;
  medianMs?: number;
  p90Ms?: number;
  /** max |p - p_ref| over every frame. */
  maxDiff?: number;
  /** webgpu-rnn: dispatches per frame, from the library's plan. */
  dispatches?: number;
}

export interface ModelResult {
  id: string;
  label: string;
  frames: number;
  /** Frames run before timing (then the state starts over). */
  warmup: number;
  results: ModelEngineResult[];
}

/** The engines of a model run, in table order. */
export const MODEL_ENGINES = ['webgpu-rnn', 'ort-webgpu', 'ort-wasm'] as const;

/** Every engine's probabilities must agree with onnxruntime-node's within this on every frame. */
export const MODEL_TOLERANCE = 1e-4;

/** The plain-text table of model results (scripts/bench.ts prints it). */
export function formatModelTable(models: ModelResult[]): string {
  const lines: string[] = [];
  for (const m of models) {
    lines.push(`${m.label}; warm-up ${m.warmup} frames; each checked against onnxruntime-node within ${MODEL_TOLERANCE}`);
    lines.push('| engine | median ms / frame | p90 ms | max abs dp | dispatches / frame | vs webgpu-rnn |');
    lines.push('|---|---|---|---|---|---|');
    const base = m.results.find((r) => r.engine === 'webgpu-rnn' && r.status === 'ok');
    for (const r of m.results) {
      if (r.status !== 'ok' && r.medianMs === undefined) {
        lines.push(`| ${r.engine} | ${r.status}: ${r.reason} | | | | |`);
        continue;
      }
      const ratio = base && r !== base ? `${(r.medianMs! / base.medianMs!).toFixed(2)}×` : '';
      lines.push(
        `| ${r.engine}${r.status !== 'ok' ? ` (${r.reason})` : ''} | ${r.medianMs!.toFixed(3)} | ${r.p90Ms!.toFixed(3)} | ${r.maxDiff!.toExponential(2)} | ${r.dispatches ?? ''} | ${ratio} |`,
      );
    }
  }
  return lines.join('\n');
}
