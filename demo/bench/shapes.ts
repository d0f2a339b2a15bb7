// Benchmark shapes and configurations. The realistic set follows ../shared/reference/anchors.md §5, the shapes real
// browser RNN apps and benchmarks use: Silero VAD (LSTM 128, one step per call), RNNoise (GRUs 24/48/96, sigmoid/relu,
// lbr 0), NSNet2 (GRU 2×400, 10 frames), char-RNN generation (LSTM 2×512, one step per call), the TF.js layers
// benchmark (20 units, T = 20, B = 128), plus a BiLSTM 256 and a batched LSTM 2×512 from its suggested matrix.
import type { OnnxCellType, RnnSpec } from '../../src/index.js';

export interface BenchShape {
  id: string;
  label: string;
  /** The ONNX cells: the peer engines run only those. */
  cell: OnnxCellType;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  direction: 'forward' | 'reverse' | 'bidirectional';
  /** Timesteps per call (1 for streaming shapes). */
  seqLen: number;
  batch: number;
  /** Streaming: `stream` calls of one step each per timed run, the state carried from call to call. */
  stream?: number;
  linearBeforeReset?: boolean;
  /** ONNX activation names for one direction (f, g[, h]); default: the ONNX defaults. */
  activations?: string[];
  note?: string;
}

/** Every engine gets at least this many timed runs per shape. */
export const MIN_TIMED_RUNS = 5;

export interface BenchConfig {
  name: string;
  shapes: BenchShape[];
  warmup: number;
  /** Timed runs per engine and shape (at least 5). */
  reps: number;
  /** Stop adding timed runs (beyond 5) once an engine has spent this long on a shape. */
  budgetMs: number;
  /**
   * An engine whose first run takes longer than this is reported n/a instead of timed (its output
   * is still checked against the reference): on a CPU-emulated adapter five timed runs of the
   * largest shapes would take the better part of an hour. Absent = no cap.
   */
  maxFirstRunMs?: number;
}

export function specOf(s: BenchShape): RnnSpec {
  return {
    cell: s.cell,
    inputSize: s.inputSize,
    hiddenSize: s.hiddenSize,
    numLayers: s.numLayers,
    direction: s.direction,
    ...(s.linearBeforeReset ? { linearBeforeReset: true } : {}),
    ...(s.activations ? { activations: s.direction === 'bidirectional' ? [...s.activations, ...s.activations] : s.activations } : {}),
  };
}

/** Gate blocks per cell: LSTM i, o, f, c; GRU z, r, h; RNN one. */
export const GATES = { lstm: 4, gru: 3, rnn: 1 } as const;

export const dirs = (s: BenchShape) => (s.direction === 'bidirectional' ? 2 : 1);
/** Timesteps processed per timed run. */
export const stepsPerRun = (s: BenchShape) => (s.stream ? s.stream : s.seqLen);

export function describeShape(s: BenchShape): string {
  const dir = s.direction === 'bidirectional' ? 'bi' : s.direction === 'reverse' ? 'rev ' : '';
  const layers = s.numLayers > 1 ? `${s.numLayers}×` : '';
  const mode = s.stream ? `${s.stream} streaming calls of T=1` : `T=${s.seqLen}`;
  const extra = [s.linearBeforeReset ? 'lbr' : '', s.activations ? s.activations.join('/') : ''].filter(Boolean).join(' ');
  return `${dir}${s.cell.toUpperCase()} ${s.inputSize}→${layers}${s.hiddenSize}, ${mode}, B=${s.batch}${extra ? `, ${extra}` : ''}`;
}

const REALISTIC: BenchShape[] = [
  {
    id: 'silero-vad',
    label: 'Silero VAD LSTM 128 (stream)',
    cell: 'lstm',
    inputSize: 128,
    hiddenSize: 128,
    numLayers: 1,
    direction: 'forward',
    seqLen: 1,
    batch: 1,
    stream: 8,
    note: 'one 32 ms frame per call, state [h, c] carried between calls',
  },
  {
    id: 'rnnoise-denoise',
    label: 'RNNoise denoise GRU 96',
    cell: 'gru',
    inputSize: 114,
    hiddenSize: 96,
    numLayers: 1,
    direction: 'forward',
    seqLen: 100,
    batch: 1,
    activations: ['Sigmoid', 'Relu'],
    note: 'WebNN sample: sigmoid/relu, reset before the matmul (lbr 0)',
  },
  {
    id: 'nsnet2',
    label: 'NSNet2 GRU 2×400, 10 frames',
    cell: 'gru',
    inputSize: 400,
    hiddenSize: 400,
    numLayers: 2,
    direction: 'forward',
    seqLen: 10,
    batch: 1,
    note: 'lbr 0 so that TF.js can run it',
  },
  {
    id: 'bilstm-256',
    label: 'BiLSTM 256, T=100',
    cell: 'lstm',
    inputSize: 256,
    hiddenSize: 256,
    numLayers: 1,
    direction: 'bidirectional',
    seqLen: 100,
    batch: 1,
  },
  {
    id: 'lstm-2x512-b8',
    label: 'LSTM 2×512, T=100, B=8',
    cell: 'lstm',
    inputSize: 512,
    hiddenSize: 512,
    numLayers: 2,
    direction: 'forward',
    seqLen: 100,
    batch: 8,
  },
  {
    id: 'tfjs-lstm-20',
    label: 'TF.js bench LSTM 20, T=20, B=128',
    cell: 'lstm',
    inputSize: 20,
    hiddenSize: 20,
    numLayers: 1,
    direction: 'forward',
    seqLen: 20,
    batch: 128,
    note: 'tfjs-layers integration benchmark shape',
  },
  {
    id: 'char-rnn',
    label: 'char-RNN LSTM 2×512 (generate)',
    cell: 'lstm',
    inputSize: 96,
    hiddenSize: 512,
    numLayers: 2,
    direction: 'forward',
    seqLen: 1,
    batch: 1,
    stream: 8,
    note: 'one character per call (one-hot 96), state carried',
  },
];

const FULL_EXTRA: BenchShape[] = [
  {
    id: 'gru-2x96-stream',
    label: 'GRU 2×96 (stream)',
    cell: 'gru',
    inputSize: 42,
    hiddenSize: 96,
    numLayers: 2,
    direction: 'forward',
    seqLen: 1,
    batch: 1,
    stream: 8,
    note: 'an RNNoise-sized 2-layer stack, one frame per call: what the stack kernel is for',
  },
  {
    id: 'rnnoise-vad',
    label: 'RNNoise VAD GRU 24',
    cell: 'gru',
    inputSize: 24,
    hiddenSize: 24,
    numLayers: 1,
    direction: 'forward',
    seqLen: 100,
    batch: 1,
    activations: ['Sigmoid', 'Relu'],
  },
  {
    id: 'rnnoise-noise',
    label: 'RNNoise noise GRU 48',
    cell: 'gru',
    inputSize: 90,
    hiddenSize: 48,
    numLayers: 1,
    direction: 'forward',
    seqLen: 100,
    batch: 1,
    activations: ['Sigmoid', 'Relu'],
  },
  {
    id: 'tfjs-gru-20',
    label: 'TF.js bench GRU 20, T=20, B=128',
    cell: 'gru',
    inputSize: 20,
    hiddenSize: 20,
    numLayers: 1,
    direction: 'forward',
    seqLen: 20,
    batch: 128,
  },
  {
    id: 'tfjs-rnn-20',
    label: 'TF.js bench SimpleRNN 20, T=20, B=128',
    cell: 'rnn',
    inputSize: 20,
    hiddenSize: 20,
    numLayers: 1,
    direction: 'forward',
    seqLen: 20,
    batch: 128,
    note: 'ONNX Runtime has no WebGPU RNN kernel',
  },
  {
    id: 'bigru-256-lbr',
    label: 'BiGRU 256 (lbr 1), T=100',
    cell: 'gru',
    inputSize: 256,
    hiddenSize: 256,
    numLayers: 1,
    direction: 'bidirectional',
    seqLen: 100,
    batch: 1,
    linearBeforeReset: true,
    note: 'PyTorch-style GRU; TF.js cannot run reset_after',
  },
];

const QUICK: BenchShape[] = [
  {
    id: 'q-bilstm',
    label: 'quick BiLSTM 16, T=6, B=2',
    cell: 'lstm',
    inputSize: 8,
    hiddenSize: 16,
    numLayers: 1,
    direction: 'bidirectional',
    seqLen: 6,
    batch: 2,
  },
  {
    id: 'q-gru',
    label: 'quick GRU 2×16, T=6',
    cell: 'gru',
    inputSize: 8,
    hiddenSize: 16,
    numLayers: 2,
    direction: 'forward',
    seqLen: 6,
    batch: 1,
  },
  {
    id: 'q-rnn',
    label: 'quick RNN 16, T=6, B=3',
    cell: 'rnn',
    inputSize: 8,
    hiddenSize: 16,
    numLayers: 1,
    direction: 'forward',
    seqLen: 6,
    batch: 3,
  },
  {
    id: 'q-stream',
    label: 'quick LSTM 16 (stream ×3)',
    cell: 'lstm',
    inputSize: 8,
    hiddenSize: 16,
    numLayers: 1,
    direction: 'forward',
    seqLen: 1,
    batch: 1,
    stream: 3,
  },
];

/**
 * Long sequences (issue 18): one GRU 16 over 10,000 and 100,000 steps, as offline VAD or an hour of
 * 100 frames/s audio would feed it. Opt-in (`--config long`), since per-step engines take minutes here.
 */
const LONG: BenchShape[] = [
  {
    id: 'gru16-10k',
    label: 'GRU 16, T=10k',
    cell: 'gru',
    inputSize: 4,
    hiddenSize: 16,
    numLayers: 1,
    direction: 'forward',
    seqLen: 10_000,
    batch: 1,
  },
  {
    id: 'gru16-100k',
    label: 'GRU 16, T=100k',
    cell: 'gru',
    inputSize: 4,
    hiddenSize: 16,
    numLayers: 1,
    direction: 'forward',
    seqLen: 100_000,
    batch: 1,
  },
];

/**
 * The defaults against every variant (issue 18): three models at T = 1 … 100,000, for
 * `--engines webgpu-rnn*` (the default, each forced step variant and projection, tuning). README's
 * "Defaults by sequence length" table comes from it (scripts/defaults-table.ts). Opt-in
 * (`--config defaults`): the per-step variants take minutes at 100k steps on emulated adapters.
 */
const DEFAULTS: BenchShape[] = [
  { id: 'gru16', label: 'GRU 16', cell: 'gru', inputSize: 4, hiddenSize: 16, direction: 'forward', batch: 1 },
  { id: 'lstm64-b2', label: 'LSTM 64, B=2', cell: 'lstm', inputSize: 16, hiddenSize: 64, direction: 'forward', batch: 2 },
  { id: 'bilstm128', label: 'BiLSTM 128', cell: 'lstm', inputSize: 32, hiddenSize: 128, direction: 'bidirectional', batch: 1 },
].flatMap((m) =>
  [1, 10, 100, 1000, 10_000, 100_000].map((T) => ({
    ...m,
    id: `${m.id}-t${T >= 1000 ? `${T / 1000}k` : T}`,
    label: `${m.label}, T=${T >= 1000 ? `${T / 1000}k` : T}`,
    cell: m.cell as OnnxCellType,
    direction: m.direction as BenchShape['direction'],
    numLayers: 1,
    seqLen: T,
  })),
);

export const CONFIGS: Record<string, BenchConfig> = {
  quick: { name: 'quick', shapes: QUICK, warmup: 1, reps: 5, budgetMs: 1000 },
  realistic: { name: 'realistic', shapes: REALISTIC, warmup: 2, reps: 10, budgetMs: 4000, maxFirstRunMs: 20_000 },
  full: { name: 'full', shapes: [...REALISTIC, ...FULL_EXTRA], warmup: 3, reps: 20, budgetMs: 10000 },
  long: { name: 'long', shapes: LONG, warmup: 1, reps: 5, budgetMs: 30_000, maxFirstRunMs: 60_000 },
  defaults: { name: 'defaults', shapes: DEFAULTS, warmup: 1, reps: 5, budgetMs: 5_000, maxFirstRunMs: 8_000 },
};

/**
 * A configuration by name, narrowed to the shapes `ids` (in the configuration's order) and with `reps`
 * timed runs (at least MIN_TIMED_RUNS) where given: the ?shapes= and ?reps= of the page, the --shapes
 * and --reps of the Node bench.
 */
export function selectConfig(name: string, o: { shapes?: string[]; reps?: number } = {}): BenchConfig {
  const base = CONFIGS[name];
  if (!base) throw new Error(`unknown config "${name}"; use ${Object.keys(CONFIGS).join(', ')}`);
  const unknown = o.shapes?.filter((id) => !base.shapes.some((s) => s.id === id)) ?? [];
  if (unknown.length)
    throw new Error(`config ${name} has no shape ${unknown.join(', ')}; its shapes: ${base.shapes.map((s) => s.id).join(', ')}`);
  return {
    ...base,
    reps: o.reps ? Math.max(MIN_TIMED_RUNS, o.reps) : base.reps,
    shapes: o.shapes ? base.shapes.filter((s) => o.shapes!.includes(s.id)) : base.shapes,
  };
}
