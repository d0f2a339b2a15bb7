// On-device tuning: which kernels each layer runs is measured on the caller's device instead of
// guessed, since the crossovers between the variants differ by orders of magnitude between a CPU
// emulator and a discrete GPU. This file holds the serialisable table, its validation and lookup,
// and the search; run/tune.ts supplies the measurement (a timed run with given choices).
import { SpecError } from '../core/errors.js';
import type { DeviceCaps } from '../gpu/adapter.js';
import { CELLS } from '../model/cells.js';
import { stackUnsupported } from './stack.js';
import { PROJECTION_VARIANTS, STEP_VARIANTS, variantUnsupported, type LayerChoice } from './variants.js';
import type { ResolvedSpec } from '../model/types.js';

/**
 * One tuned shape: the kernels of every layer (or `stack`: the whole stack fused in one kernel,
 * which was faster than those), and the median time of a run with them.
 */
export interface TuningEntry {
  seqLen: number;
  batch: number;
  layers: LayerChoice[];
  stack?: boolean;
  /** Median wall time of one run (upload, dispatches, readback) with these kernels, in ms. */
  medianMs: number;
}

/**
 * What `rnn.tuning` returns and `createRnn(…, { tuning })` takes back: plain JSON, to store (e.g. in
 * localStorage) and pass on the next visit so that the measurement is skipped.
 */
export interface TuningTable {
  version: 1;
  /** The adapter the times were measured on; a table from another adapter is not applied. */
  adapter: string;
  /** The model it was measured for (cell, sizes, layers, directions); another model's table is an error. */
  model: string;
  entries: TuningEntry[];
}

/** A shape to tune for: a run of `seqLen` steps over `batch` rows. */
export interface TuneShape {
  seqLen: number;
  batch?: number;
}

/** What tune() reports: the table entry per shape, every candidate's time, and how long tuning took. */
export interface TuneReport {
  entries: TuningEntry[];
  /** Every measured configuration, `step+projection` per layer joined by ', ' (or 'stack'), with its median ms. */
  trials: { shape: TuneShape; layers: string; medianMs: number }[];
  /** Wall time of the whole tuning, compilation included, in ms. */
  tookMs: number;
}

/** The model part of a table: a table only applies to a model with the same shapes and options. */
export function modelKey(s: ResolvedSpec): string {
  return [
    s.cell,
    `I${s.inputSize}`,
    `H${s.hiddenSize}`,
    `P${s.outputSize}`,
    `L${s.numLayers}`,
    s.direction,
    CELLS[s.cell].fields.includes('linearBeforeReset') ? `lbr${Number(s.linearBeforeReset)}` : '',
    s.depthGated ? 'depth-gated' : '',
    s.periods ? `periods ${s.periods.join(',')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

export function describeChoices(layers: LayerChoice[]): string {
  return layers.map((c) => `${c.step}+${c.projection}`).join(', ');
}

/** Checks a table passed to createRnn: its form, and that it was made for this model. */
export function validateTuning(t: unknown, s: ResolvedSpec, caps: Pick<DeviceCaps, 'subgroups' | 'maxInvocations'>): TuningTable {
  const bad = (why: string) => new SpecError(`options.tuning ${why}; pass the object rnn.tuning returned (or omit it to use the defaults)`);
  if (typeof t !== 'object' || t === null) throw bad('must be an object');
  const table = t as TuningTable;
  if (table.version !== 1) throw bad(`has version ${JSON.stringify(table.version)}, expected 1`);
  if (typeof table.adapter !== 'string' || typeof table.model !== 'string' || !Array.isArray(table.entries))
    throw bad('lacks adapter, model or entries');
  if (table.model !== modelKey(s)) throw bad(`was measured for another model (${table.model}; this one is ${modelKey(s)})`);
  table.entries.forEach((e, i) => {
    const where = `entries[${i}]`;
    if (!Number.isInteger(e?.seqLen) || e.seqLen <= 0 || !Number.isInteger(e.batch) || e.batch <= 0)
      throw bad(`${where} needs positive integer seqLen and batch`);
    if (!Array.isArray(e.layers) || e.layers.length !== s.numLayers) throw bad(`${where} needs one choice per layer (${s.numLayers})`);
    e.layers.forEach((c, l) => {
      if (!STEP_VARIANTS.includes(c?.step) || !PROJECTION_VARIANTS.includes(c.projection)) {
        throw bad(`${where}.layers[${l}] must be { step: ${STEP_VARIANTS.join('|')}, projection: ${PROJECTION_VARIANTS.join('|')} }`);
      }
      const why = variantUnsupported(s, c.step, caps);
      if (why) throw bad(`${where}.layers[${l}] names '${c.step}', which does not apply: ${why}`);
    });
    if (e.stack !== undefined && typeof e.stack !== 'boolean') throw bad(`${where}.stack must be a boolean`);
    const why = e.stack ? stackUnsupported(s, caps) : undefined;
    if (why) throw bad(`${where} names the stack kernel, which does not apply: ${why}`);
  });
  return table;
}

/**
 * The entry for a run of (seqLen, batch): the exact shape, else the nearest sequence length with the
 * same batch and the same kind of run (a single step, or a sequence), else undefined (defaults).
 */
export function lookupTuning(table: TuningTable | undefined, seqLen: number, batch: number): TuningEntry | undefined {
  if (!table) return undefined;
  const same = table.entries.filter((e) => e.batch === batch && (e.seqLen === 1) === (seqLen === 1));
  return same.sort((a, b) => Math.abs(a.seqLen - seqLen) - Math.abs(b.seqLen - seqLen))[0];
}

/**
 * Every (step, projection) pair that applies to the model for `batch` rows: the candidates of each
 * layer. The rows kernel (one invocation per row and direction) is left out below 16 of them,
 * where it cannot keep even a CPU busy and one run can take seconds.
 */
export function candidates(s: ResolvedSpec, batch: number, caps: Pick<DeviceCaps, 'subgroups'>): LayerChoice[] {
  const out: LayerChoice[] = [];
  for (const step of STEP_VARIANTS) {
    if (variantUnsupported(s, step, caps) || (step === 'rows' && batch * s.directions < 16)) continue;
    for (const projection of PROJECTION_VARIANTS) out.push({ step, projection });
  }
  return out;
}

/**
 * Coordinate descent over the layers: starting from `start`, each layer in turn tries every
 * candidate with the other layers fixed and keeps the fastest. Layers run one after another in a
 * run, so a run's time is close to the sum of theirs and one pass finds each layer's best.
 * `measure` returns the median ms of a run with the given choices (it may stop early and return a
 * single run's time once that is far above `bestMs`).
 */
export async function searchChoices(
  start: LayerChoice[],
  options: LayerChoice[],
  measure: (layers: LayerChoice[], bestMs: number) => Promise<number>,
  trial: (layers: LayerChoice[], ms: number) => void,
): Promise<{ layers: LayerChoice[]; medianMs: number }> {
  const layers = start.map((c) => ({ ...c }));
  let best = await measure(layers, Infinity);
  trial(layers, best);
  for (let l = 0; l < layers.length; l++) {
    const measured = layers[l];
    for (const c of options) {
      if (c.step === measured.step && c.projection === measured.projection) continue;
      const tryLayers = layers.map((x, i) => (i === l ? c : x));
      const ms = await measure(tryLayers, best);
      trial(tryLayers, ms);
      if (ms < best) {
        best = ms;
        layers[l] = c;
      }
    }
  }
  return { layers, medianMs: best };
}
