// On-device tuning: tune() measures the variants and keeps per-layer choices that later runs use,
// the table round-trips through JSON into createRnn without measuring again, and a tuned model
// still computes what the float64 reference computes. Also createRnn's warm-up runs.
import { describe, expect, it } from 'vitest';
import { createRnn, SpecError, type RnnSpec, type TuningTable } from '../../src/index.js';
import { deviceCaps } from '../../src/gpu/adapter.js';
import { candidates } from '../../src/plan/tuning.js';
import { chooseLayers } from '../../src/plan/choose.js';
import { resolveSpec } from '../../src/model/spec.js';
import { referenceRnn } from '../../common/reference.js';
import { expectClose } from '../support/close.js';
import { countingDevice } from '../support/counting.js';
import { expectSubgroups, getTestDevice } from '../support/device.js';
import { randomWeights, rng, uniform } from '../../common/random.js';

const spec: RnnSpec = { cell: 'gru', inputSize: 5, hiddenSize: 12, numLayers: 2, direction: 'bidirectional' };
const weights = randomWeights(spec, 11);
const T = 6;
const B = 2;
const x = uniform(rng(3), T * B * spec.inputSize);

describe('tuning', () => {
  let table: TuningTable;

  it('tune() times every applicable variant per layer, keeps the fastest, and runs stay correct', async () => {
    // 'subgroup' is among the variants only on a device with subgroups: without them it would go untimed.
    expectSubgroups(await getTestDevice(), "tuning the 'subgroup' variant");
    const rnn = await createRnn(await getTestDevice(), spec, weights, { batch: B });
    const report = await rnn.tune([{ seqLen: T, batch: B }]);
    expect(report.trials.some((t) => /\bsubgroup\+/.test(t.layers))).toBe(true);
    expect(report.entries.map((e) => [e.seqLen, e.batch])).toEqual([[T, B]]);
    const resolved = resolveSpec(spec);
    const caps = deviceCaps(await getTestDevice());
    const options = candidates(resolved, B, caps);
    // The search starts from the defaults, which may be a kernel the candidates leave out (the rows
    // kernel, which the cost model picks for layers this small on an emulator).
    const start = chooseLayers(resolved, T, B, { forcedStack: false, hasStack: false }, caps);
    const others = start.map((c) => options.filter((o) => o.step !== c.step || o.projection !== c.projection).length);
    // A first measurement, then every other candidate for each of the two layers.
    expect(report.trials.filter((t) => t.shape.seqLen === T).length).toBe(1 + others[0] + others[1]);
    expect(report.tookMs).toBeGreaterThan(0);
    for (const e of report.entries) {
      // The kept choice is the fastest configuration measured for that shape.
      const fastest = Math.min(...report.trials.filter((t) => t.shape.seqLen === e.seqLen).map((t) => t.medianMs));
      expect(e.medianMs).toBe(fastest);
      expect(rnn.kernels(e.seqLen, e.batch).layers).toEqual(e.layers);
    }
    table = JSON.parse(JSON.stringify(rnn.tuning)) as TuningTable;
    expect(table.entries.length).toBe(1);
    const got = await rnn.run(x, { seqLen: T, batch: B });
    const ref = referenceRnn(spec, weights, x, { seqLen: T, batch: B });
    expectClose(got.Y, ref.Y, 'tuned Y');
    expectClose(got.Y_h, ref.Y_h, 'tuned Y_h');
    rnn.destroy();
  });

  it('a stored table skips the measurement and gives the same choices', async () => {
    const { device, counts, reset } = countingDevice(await getTestDevice());
    reset();
    const rnn = await createRnn(device, spec, weights, { batch: B, tuning: table });
    // Only the warm-up runs (at most one per distinct kernel set of T = 1, 2), not a search.
    expect(counts.submits).toBeLessThanOrEqual(2);
    expect(rnn.kernels(T, B).layers).toEqual(table.entries[0].layers);
    // The nearest tuned sequence length of the same batch serves other lengths.
    expect(rnn.kernels(T + 3, B).layers).toEqual(table.entries[0].layers);
    rnn.destroy();
  });

  it('a table from another adapter is not applied; one from another model, or malformed, is an error', async () => {
    const device = await getTestDevice();
    const other = await createRnn(device, spec, weights, { batch: B, tuning: { ...table, adapter: 'another GPU' } });
    expect(other.tuning.entries).toEqual([]);
    other.destroy();
    const lstm: RnnSpec = { ...spec, cell: 'lstm' };
    await expect(createRnn(device, lstm, randomWeights(lstm, 1), { tuning: table })).rejects.toThrow(/measured for another model/);
    await expect(createRnn(device, spec, weights, { tuning: { ...table, version: 2 } as unknown as TuningTable })).rejects.toThrow(
      SpecError,
    );
    const badStep = {
      ...table,
      entries: [{ ...table.entries[0], layers: [{ step: 'fast', projection: 'gemv' }, table.entries[0].layers[1]] }],
    };
    await expect(createRnn(device, spec, weights, { tuning: badStep as unknown as TuningTable })).rejects.toThrow(/layers\[0\] must be/);
    await expect(createRnn(device, spec, weights, { tune: true, stepKernels: 'direct' })).rejects.toThrow(/give one or the other/);
  });

  it('createRnn({ tune: true, seqLen }) tunes a single step and that length', async () => {
    const one: RnnSpec = { cell: 'rnn', inputSize: 3, hiddenSize: 8 };
    const rnn = await createRnn(await getTestDevice(), one, randomWeights(one, 2), { batch: 2, seqLen: 4, tune: true });
    expect(rnn.tuning.entries.map((e) => [e.seqLen, e.batch])).toEqual([
      [1, 2],
      [4, 2],
    ]);
    rnn.destroy();
  });

  it('a unidirectional stack also times the fused stack kernel; a table naming it is followed and checked', async () => {
    const device = await getTestDevice();
    const uni: RnnSpec = { cell: 'lstm', inputSize: 4, hiddenSize: 16, numLayers: 2 };
    const w = randomWeights(uni, 5);
    const rnn = await createRnn(device, uni, w, { batch: 1 });
    const report = await rnn.tune({ seqLen: 1 });
    const stackTrial = report.trials.filter((t) => t.layers === 'stack');
    expect(stackTrial.length).toBe(1);
    const entry = report.entries[0];
    // The stack is kept exactly when it measured faster than the best per-layer choice.
    const perLayerBest = Math.min(...report.trials.filter((t) => t.layers !== 'stack').map((t) => t.medianMs));
    expect(entry.stack === true).toBe(stackTrial[0].medianMs < perLayerBest);
    expect(rnn.kernels(1, 1).stack === true).toBe(entry.stack === true);
    rnn.destroy();
    // A table that names the stack makes runs and steps use it (one dispatch), and still computes right.
    const table: TuningTable = {
      ...rnn.tuning,
      entries: [
        { ...entry, stack: true },
        { ...entry, seqLen: 3, stack: true },
      ],
    };
    const { device: counting, counts, reset } = countingDevice(device);
    const tuned = await createRnn(counting, uni, w, { tuning: table, warmUp: false });
    expect(tuned.kernels(1, 1)).toEqual({ layers: [], dispatches: 1, stack: true });
    expect(tuned.kernels(3, 1).stack).toBe(true);
    const xs = uniform(rng(4), 3 * uni.inputSize);
    reset();
    const got = await tuned.run(xs, { seqLen: 3, batch: 1 });
    expect(counts.dispatches).toBe(1);
    expectClose(got.Y, referenceRnn(uni, w, xs, { seqLen: 3, batch: 1 }).Y, 'stack-tuned Y');
    tuned.destroy();
    // A stack entry for a model the kernel cannot run is refused.
    const bi = { ...table, model: table.model.replace('forward', 'bidirectional') };
    const biSpec: RnnSpec = { ...uni, direction: 'bidirectional' };
    await expect(createRnn(device, biSpec, randomWeights(biSpec, 1), { tuning: bi })).rejects.toThrow(
      /stack kernel, which does not apply: it runs unidirectional models only/,
    );
  });

  it('createRnn warms up: it runs the kernels once, so the first run compiles nothing', async () => {
    const { device, counts, reset } = countingDevice(await getTestDevice());
    reset();
    const rnn = await createRnn(device, spec, weights, { batch: B, seqLen: T });
    expect(counts.submits).toBeGreaterThanOrEqual(1);
    expect(counts.dispatches).toBeGreaterThan(0);
    expect(counts.pipelines).toBeGreaterThan(0); // the warm-up compiled them (the counter sees this device)
    reset();
    // The first real runs, of options.seqLen and of a single step at options.batch: no pipeline is created.
    const got = await rnn.run(x, { seqLen: T, batch: B });
    await rnn.run(x.subarray(0, B * spec.inputSize), { seqLen: 1, batch: B });
    expect(counts.dispatches).toBeGreaterThan(0);
    expect(counts.pipelines).toBe(0);
    expectClose(got.Y, referenceRnn(spec, weights, x, { seqLen: T, batch: B }).Y, 'warmed-up Y');
    rnn.destroy();
  });
});
