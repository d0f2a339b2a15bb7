// The on-device tuning's host side (src/plan/tuning.ts): the coordinate-descent search against a
// synthetic additive cost (whose optimum a brute-force enumeration finds), the candidate list, the
// table lookup, and validateTuning's refusals.
import { describe, expect, it } from 'vitest';
import { SpecError } from '../../src/core/errors.js';
import { resolveSpec } from '../../src/model/spec.js';
import type { RnnSpec } from '../../src/model/types.js';
import {
  candidates,
  lookupTuning,
  modelKey,
  searchChoices,
  type TuningEntry,
  type TuningTable,
  validateTuning,
} from '../../src/plan/tuning.js';
import { type LayerChoice, PROJECTION_VARIANTS, STEP_VARIANTS, type StepVariant } from '../../src/plan/variants.js';
import { CAPS, CAPS_SUBGROUPS } from '../support/caps.js';
import { seeded } from '../support/seeded.js';

const key = (c: LayerChoice) => `${c.step}+${c.projection}`;
const ALL: LayerChoice[] = STEP_VARIANTS.flatMap((step) => PROJECTION_VARIANTS.map((projection) => ({ step, projection })));

/** A measure that sums a per-layer cost table, recording every call. */
function additive(cost: Record<string, number>[]) {
  const calls: { layers: string[]; bestMs: number; ms: number }[] = [];
  const measure = async (layers: LayerChoice[], bestMs: number) => {
    const ms = layers.reduce((sum, c, l) => sum + cost[l][key(c)], 0);
    calls.push({ layers: layers.map(key), bestMs, ms });
    return ms;
  };
  return { measure, calls };
}

/** The optimum of an additive cost by enumerating every combination of options. */
function bruteForce(cost: Record<string, number>[], options: LayerChoice[]): number {
  let best = Infinity;
  const walk = (l: number, sum: number) => {
    if (l === cost.length) {
      best = Math.min(best, sum);
      return;
    }
    for (const c of options) walk(l + 1, sum + cost[l][key(c)]);
  };
  walk(0, 0);
  return best;
}

describe('searchChoices', () => {
  it.each([1, 2, 3, 4])('%i layers of random costs: finds the optimum, one trial per measurement, bestMs the best so far', async (L) => {
    const r = seeded(100 + L);
    const options = ALL.slice(0, 6);
    // Distinct costs (no ties): integers in [1, 1000] times a per-layer offset.
    const cost = Array.from({ length: L }, (_, l) => {
      const values = new Set<number>();
      while (values.size < options.length) values.add(1 + Math.floor(r() * 1000));
      return Object.fromEntries(options.map((c, i) => [key(c), [...values][i] + 1000 * l]));
    });
    const start = Array.from({ length: L }, () => ({ ...options[3] }));
    const startCopy = structuredClone(start);
    const { measure, calls } = additive(cost);
    const trials: { layers: string[]; ms: number }[] = [];
    const result = await searchChoices(start, options, measure, (layers, ms) => trials.push({ layers: layers.map(key), ms }));

    expect(result.medianMs).toBe(bruteForce(cost, options));
    result.layers.forEach((c, l) => {
      const best = options.reduce((a, b) => (cost[l][key(b)] < cost[l][key(a)] ? b : a));
      expect(key(c), `layer ${l}`).toBe(key(best));
    });
    // It starts from `start` with no bound, and every later measurement is bounded by the best so far.
    expect(calls[0]).toMatchObject({ layers: start.map(key), bestMs: Infinity });
    calls.slice(1).forEach((call, i) => expect(call.bestMs).toBe(Math.min(...calls.slice(0, i + 1).map((c) => c.ms))));
    // One pass: the start, then every other option of each layer.
    expect(calls.length).toBe(1 + L * (options.length - 1));
    expect(trials).toEqual(calls.map(({ layers, ms }) => ({ layers, ms })));
    // Coordinate descent: while layer l is tried, the layers before it hold their final choices and
    // the layers after it their start.
    for (let l = 0; l < L; l++) {
      const block = calls.slice(1 + l * (options.length - 1), 1 + (l + 1) * (options.length - 1));
      for (const call of block) {
        for (let i = 0; i < L; i++) if (i !== l) expect(call.layers[i]).toBe(key(i < l ? result.layers[i] : start[i]));
      }
      expect(new Set(block.map((c) => c.layers[l])).size).toBe(options.length - 1);
    }
    expect(start).toEqual(startCopy); // the caller's start is not modified
  });

  it('hand-computed two layers: each layer keeps its fastest choice, others fixed while it is tried', async () => {
    const [a, b, c] = ALL; // tiled+gemm, tiled+gemv, direct+gemm
    const cost = [
      { [key(a)]: 10, [key(b)]: 4, [key(c)]: 7 },
      { [key(a)]: 5, [key(b)]: 9, [key(c)]: 1 },
    ];
    const { measure, calls } = additive(cost);
    const result = await searchChoices([a, a], [a, b, c], measure, () => {});
    expect(result).toEqual({ layers: [b, c], medianMs: 5 });
    expect(calls.map((x) => [x.layers.join(', '), x.ms, x.bestMs])).toEqual([
      [`${key(a)}, ${key(a)}`, 15, Infinity],
      [`${key(b)}, ${key(a)}`, 9, 15],
      [`${key(c)}, ${key(a)}`, 12, 9],
      [`${key(b)}, ${key(b)}`, 13, 9],
      [`${key(b)}, ${key(c)}`, 5, 9],
    ]);
  });

  it('a tie keeps the choice measured first', async () => {
    const [a, b] = ALL;
    const { measure } = additive([{ [key(a)]: 3, [key(b)]: 3 }]);
    expect((await searchChoices([a], [a, b], measure, () => {})).layers).toEqual([a]);
  });

  it('a start outside the options: every option of each layer is measured', async () => {
    const [a, b, c] = ALL;
    const { measure, calls } = additive([{ [key(a)]: 3, [key(b)]: 2, [key(c)]: 1 }]);
    const result = await searchChoices([a], [b, c], measure, () => {});
    expect(calls.length).toBe(3);
    expect(result).toEqual({ layers: [c], medianMs: 1 });
  });
});

describe('candidates', () => {
  const steps = (list: LayerChoice[]) => [...new Set(list.map((c) => c.step))];
  const lstm = (extra: Partial<RnnSpec> = {}) => resolveSpec({ cell: 'lstm', inputSize: 4, hiddenSize: 32, ...extra });

  it('every pair of a plain LSTM at 16 rows with subgroups: 5 steps × 2 projections', () => {
    const list = candidates(lstm(), 16, CAPS_SUBGROUPS);
    expect(list.map(key).sort()).toEqual(ALL.map(key).sort());
  });

  it.each([
    ['15 rows: no rows kernel', lstm(), 15, CAPS_SUBGROUPS, ['tiled', 'direct', 'persistent', 'subgroup']],
    ['bidirectional, batch 8 = 16 rows: rows kept', lstm({ direction: 'bidirectional' }), 8, CAPS_SUBGROUPS, STEP_VARIANTS],
    [
      'bidirectional, batch 7 = 14 rows: no rows',
      lstm({ direction: 'bidirectional' }),
      7,
      CAPS_SUBGROUPS,
      ['tiled', 'direct', 'persistent', 'subgroup'],
    ],
    ['no subgroups: no subgroup kernel', lstm(), 64, CAPS, ['tiled', 'direct', 'persistent', 'rows']],
    ['projection: no persistent, no rows', lstm({ projSize: 8 }), 64, CAPS_SUBGROUPS, ['tiled', 'direct', 'subgroup']],
    ['hidden 300 > 256: no persistent', lstm({ hiddenSize: 300 }), 64, CAPS, ['tiled', 'direct', 'rows']],
    ['GRU, 1 row, no subgroups', resolveSpec({ cell: 'gru', inputSize: 2, hiddenSize: 8 }), 1, CAPS, ['tiled', 'direct', 'persistent']],
  ] as const)('%s', (_, s, batch, caps, want) => {
    const list = candidates(s, batch, caps);
    expect(steps(list)).toEqual([...want]);
    for (const step of want as readonly StepVariant[]) {
      expect(list.filter((c) => c.step === step).map((c) => c.projection)).toEqual([...PROJECTION_VARIANTS]);
    }
  });
});

describe('lookupTuning', () => {
  const entry = (seqLen: number, batch: number): TuningEntry => ({
    seqLen,
    batch,
    layers: [{ step: 'tiled', projection: 'gemm' }],
    medianMs: seqLen + batch / 100,
  });
  const table: TuningTable = {
    version: 1,
    adapter: 'test',
    model: 'm',
    entries: [entry(64, 1), entry(1, 1), entry(16, 1), entry(32, 4), entry(1, 8)],
  };
  const order = table.entries.map((e) => `${e.seqLen}/${e.batch}`);

  it.each([
    ['the exact shape', 16, 1, [16, 1]],
    ['the exact shape, another batch', 32, 4, [32, 4]],
    ['the nearest sequence length below', 20, 1, [16, 1]],
    ['the nearest sequence length above', 50, 1, [64, 1]],
    ['far beyond the longest', 1000, 1, [64, 1]],
    ['a sequence never takes the single-step entry, even when it is nearer', 2, 1, [16, 1]],
    ['a single step takes the single-step entry', 1, 1, [1, 1]],
    ['a single step with only a sequence entry for its batch: none', 1, 4, undefined],
    ['a sequence with only a single-step entry for its batch: none', 10, 8, undefined],
    ['a batch without entries: none', 16, 2, undefined],
  ] as const)('%s (seqLen %i, batch %i)', (_, seqLen, batch, want) => {
    const e = lookupTuning(table, seqLen, batch);
    expect(e && [e.seqLen, e.batch]).toEqual(want && [...want]);
    expect(table.entries.map((x) => `${x.seqLen}/${x.batch}`)).toEqual(order); // the table is not reordered
  });

  it('no table: undefined', () => expect(lookupTuning(undefined, 8, 1)).toBeUndefined());
});

describe('modelKey', () => {
  const base: RnnSpec = { cell: 'gru', inputSize: 4, hiddenSize: 8, numLayers: 2 };
  it('differs for every field that changes the model, and only for those', () => {
    const variants: RnnSpec[] = [
      base,
      { ...base, inputSize: 5 },
      { ...base, hiddenSize: 9 },
      { ...base, numLayers: 3 },
      { ...base, direction: 'bidirectional' },
      { ...base, linearBeforeReset: true },
      { ...base, cell: 'rnn' },
      { cell: 'lstm', inputSize: 4, hiddenSize: 8, numLayers: 2 },
      { cell: 'lstm', inputSize: 4, hiddenSize: 8, numLayers: 2, projSize: 4 },
      { cell: 'lstm', inputSize: 4, hiddenSize: 8, numLayers: 2, depthGated: true },
      { cell: 'clockwork', inputSize: 4, hiddenSize: 8, numLayers: 2, periods: [1, 2] },
      { cell: 'clockwork', inputSize: 4, hiddenSize: 8, numLayers: 2, periods: [1, 4] },
    ];
    const keys = variants.map((v) => modelKey(resolveSpec(v)));
    expect(new Set(keys).size).toBe(variants.length);
    // Options that change no shape or kernel choice (the clip, the layout) share the table.
    expect(modelKey(resolveSpec({ ...base, clip: 3, layout: 'batch-major' }))).toBe(keys[0]);
  });
});

describe('validateTuning', () => {
  const spec = resolveSpec({ cell: 'lstm', inputSize: 4, hiddenSize: 8, numLayers: 2 });
  const choice = (step: StepVariant = 'tiled'): LayerChoice => ({ step, projection: 'gemm' });
  const table = (entries: unknown[] = [{ seqLen: 8, batch: 1, layers: [choice(), choice('direct')], medianMs: 1 }], extra = {}) => ({
    version: 1,
    adapter: 'test adapter',
    model: modelKey(spec),
    entries,
    ...extra,
  });
  const entry = (extra: Record<string, unknown>) => ({ seqLen: 8, batch: 1, layers: [choice(), choice()], medianMs: 1, ...extra });

  it('accepts a well-formed table for the model, and returns it', () => {
    const t = table();
    expect(validateTuning(t, spec, CAPS)).toBe(t);
    const stacked = table([entry({ stack: true }), entry({ stack: false, layers: [choice('subgroup'), choice('rows')] })]);
    expect(validateTuning(stacked, spec, CAPS_SUBGROUPS)).toBe(stacked);
  });

  const projected = resolveSpec({ cell: 'lstm', inputSize: 4, hiddenSize: 8, projSize: 4, numLayers: 2 });
  const bidirectional = resolveSpec({ cell: 'lstm', inputSize: 4, hiddenSize: 8, numLayers: 2, direction: 'bidirectional' });
  const clockwork = resolveSpec({ cell: 'clockwork', inputSize: 4, hiddenSize: 8, numLayers: 2, periods: [1, 2] });
  const forModel = (s: ReturnType<typeof resolveSpec>, entries: unknown[]) => ({ ...table(entries), model: modelKey(s) });
  const other = resolveSpec({ cell: 'lstm', inputSize: 4, hiddenSize: 16, numLayers: 2 });

  const refusals: [string, unknown, ReturnType<typeof resolveSpec>, typeof CAPS, RegExp][] = [
    ['not an object', 'table', spec, CAPS, /options\.tuning must be an object/],
    ['null', null, spec, CAPS, /options\.tuning must be an object/],
    ['version 2', table(undefined, { version: 2 }), spec, CAPS, /has version 2, expected 1/],
    ['no version', table(undefined, { version: undefined }), spec, CAPS, /has version undefined, expected 1/],
    ['no adapter', table(undefined, { adapter: 3 }), spec, CAPS, /lacks adapter, model or entries/],
    ['entries not an array', table(undefined, { entries: {} }), spec, CAPS, /lacks adapter, model or entries/],
    [
      "another model's key",
      table(undefined, { model: modelKey(other) }),
      spec,
      CAPS,
      new RegExp(`was measured for another model \\(${modelKey(other)}; this one is ${modelKey(spec)}\\)`),
    ],
    ['seqLen 0', table([entry({ seqLen: 0 })]), spec, CAPS, /entries\[0\] needs positive integer seqLen and batch/],
    ['batch 1.5', table([entry({}), entry({ batch: 1.5 })]), spec, CAPS, /entries\[1\] needs positive integer seqLen and batch/],
    ['a null entry', table([null]), spec, CAPS, /entries\[0\] needs positive integer seqLen and batch/],
    [
      'one layer choice for two layers',
      table([entry({ layers: [choice()] })]),
      spec,
      CAPS,
      /entries\[0\] needs one choice per layer \(2\)/,
    ],
    [
      'an unknown step variant',
      table([entry({ layers: [choice(), { step: 'fast', projection: 'gemm' }] })]),
      spec,
      CAPS,
      /entries\[0\]\.layers\[1\] must be \{ step: tiled\|direct\|persistent\|rows\|subgroup, projection: gemm\|gemv \}/,
    ],
    [
      'an unknown projection',
      table([entry({ layers: [{ step: 'tiled', projection: 'gemm4' }, choice()] })]),
      spec,
      CAPS,
      /entries\[0\]\.layers\[0\] must be \{ step: /,
    ],
    [
      "'subgroup' without the feature",
      table([entry({ layers: [choice(), choice('subgroup')] })]),
      spec,
      CAPS,
      /entries\[0\]\.layers\[1\] names 'subgroup', which does not apply: the device lacks the 'subgroups' feature/,
    ],
    [
      "'persistent' with a projection",
      forModel(projected, [entry({ layers: [choice('persistent'), choice()] })]),
      projected,
      CAPS,
      /layers\[0\] names 'persistent', which does not apply: LSTM projection is not implemented in the persistent kernel/,
    ],
    [
      "'rows' with a projection",
      forModel(projected, [entry({ layers: [choice(), choice('rows')] })]),
      projected,
      CAPS,
      /layers\[1\] names 'rows', which does not apply: LSTM projection is not implemented in the rows kernel/,
    ],
    ['stack not a boolean', table([entry({ stack: 'yes' })]), spec, CAPS, /entries\[0\]\.stack must be a boolean/],
    [
      'the stack kernel on a bidirectional model',
      forModel(bidirectional, [entry({ stack: true })]),
      bidirectional,
      CAPS,
      /entries\[0\] names the stack kernel, which does not apply: it runs unidirectional models only/,
    ],
    [
      'the stack kernel on a clockwork RNN',
      forModel(clockwork, [entry({ stack: true })]),
      clockwork,
      CAPS,
      /names the stack kernel, which does not apply: the clockwork cell is not implemented in the stack kernel yet/,
    ],
    [
      'the stack kernel over maxInvocations',
      table([entry({ stack: true })]),
      spec,
      { ...CAPS, maxInvocations: 16 },
      /names the stack kernel, which does not apply: a workgroup of 32 invocations exceeds the device's maxComputeInvocationsPerWorkgroup \(16\)/,
    ],
  ];
  it.each(refusals)('refuses %s with a SpecError that says what to pass', (_, t, s, caps, message) => {
    const call = () => validateTuning(t, s, caps);
    expect(call).toThrow(SpecError);
    expect(call).toThrow(message);
    expect(call).toThrow(/; pass the object rnn\.tuning returned \(or omit it to use the defaults\)$/);
  });
});
