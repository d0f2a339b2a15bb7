// The workspace and its alias table (src/run/workspace.ts) on a fake GPUDevice: which buffer each
// WGSL binding of each kernel gets, and how ensure() grows, reuses and frees the buffers. The
// expectations are the aliasing rules themselves (layer l reads what layer l - 1 wrote, h_prev and
// h_next swap with parity, …), written here independently of the table.
import { describe, expect, it } from 'vitest';
import { ShaderContractError } from '../../src/core/errors.js';
import { Usage } from '../../src/gpu/helpers.js';
import { type KernelName, kernelInfo } from '../../src/kernels/sources.js';
import { resolveSpec } from '../../src/model/spec.js';
import type { ResolvedSpec, RnnSpec } from '../../src/model/types.js';
import { lengthRows, stateFloats } from '../../src/plan/layout.js';
import { uploadWeights } from '../../src/run/weights.js';
import { type ModelBuffers, type Workspace, Workspaces } from '../../src/run/workspace.js';
import { randomWeights, seeded } from '../support/seeded.js';

interface FakeBuffer {
  label: string;
  size: number;
  usage: number;
  destroyed: number;
  destroy(): void;
  mapAsync(): Promise<void>;
}

interface FakeGroup {
  label: string;
  layout: { label: string };
  entries: { binding: number; resource: { buffer: FakeBuffer; offset: number; size?: number } }[];
}

/** A GPUDevice of plain objects that records buffers, writes, layouts and bind groups. */
function fakeDevice() {
  const buffers: FakeBuffer[] = [];
  const writes: { buffer: FakeBuffer; offset: number; bytes: Uint8Array }[] = [];
  const groups: FakeGroup[] = [];
  const layouts: { label: string }[] = [];
  const device = {
    createBuffer(d: GPUBufferDescriptor): FakeBuffer {
      const b: FakeBuffer = {
        label: d.label ?? '',
        size: d.size,
        usage: d.usage,
        destroyed: 0,
        destroy() {
          this.destroyed++;
        },
        mapAsync: () => Promise.resolve(),
      };
      buffers.push(b);
      return b;
    },
    queue: {
      writeBuffer(buffer: FakeBuffer, offset: number, data: ArrayBuffer, dataOffset = 0, size?: number) {
        writes.push({ buffer, offset, bytes: new Uint8Array(data, dataOffset, size).slice() });
      },
    },
    createBindGroupLayout(d: GPUBindGroupLayoutDescriptor) {
      const l = { label: d.label ?? '' };
      layouts.push(l);
      return l;
    },
    createPipelineLayout(d: GPUPipelineLayoutDescriptor) {
      return { label: d.label };
    },
    createBindGroup(d: GPUBindGroupDescriptor) {
      const g = d as unknown as FakeGroup;
      groups.push(g);
      return g;
    },
  };
  return { device: device as unknown as GPUDevice, buffers, writes, groups, layouts };
}

function setup(spec: RnnSpec, withStack = false) {
  const fake = fakeDevice();
  const s = resolveSpec(spec);
  const owned: GPUBuffer[] = [];
  const model = uploadWeights(fake.device, s, randomWeights(s, seeded(5)), 'f32', withStack, owned);
  return { ...fake, s, model, workspaces: new Workspaces(model), owned };
}

type Bound = Record<string, { buffer: FakeBuffer; offset: number; size?: number }>;

/** Layer l's bind group for `kernel`, as binding name -> resource, after checking every binding has exactly one entry. */
function bindings(w: Workspaces, ws: Workspace, l: number, parity: number, kernel: KernelName): Bound {
  const group = w.bindGroup(ws, l, parity, kernel) as unknown as FakeGroup;
  const info = kernelInfo(kernel);
  expect(group.layout.label).toBe(kernel);
  expect(group.entries.map((e) => e.binding).sort((a, b) => a - b)).toEqual(info.bindings.map((b) => b.binding).sort((a, b) => a - b));
  const byNumber = new Map(info.bindings.map((b) => [b.binding, b.name]));
  return Object.fromEntries(group.entries.map((e) => [byNumber.get(e.binding)!, e.resource]));
}

const buf = (b: GPUBuffer | undefined) => b as unknown as FakeBuffer;

const INPUT_PROJECTION: KernelName[] = ['input_proj', 'input_gemv', 'input_gemv_quad'];

/**
 * The rules every binding follows, whatever the kernel: the model's weights of layer l, the
 * workspace's shared buffers, h_prev = h[l][parity], the uniforms' slots.
 */
function expectCommon(m: ModelBuffers, ws: Workspace, l: number, parity: number, kernel: KernelName, got: Bound) {
  const w = m.layers[l];
  const want: Record<string, GPUBuffer | undefined> = {
    step: ws.steps,
    dims: ws.dims,
    seq_lens: ws.seqLens,
    w_t: w.wT,
    bias: w.bias,
    r_t: w.rStep,
    peephole: w.peephole,
    rbh: w.rbh,
    wr_t: w.wrT,
    xproj: ws.xproj,
    h_prev: ws.h[l][parity],
    c: ws.cAll,
    m: ws.scratch,
    gate_tmp: ws.scratch,
    ...m.cellBuffers,
  };
  for (const [name, r] of Object.entries(got)) {
    if (name in want) expect(r.buffer, `${kernel} layer ${l} parity ${parity}: ${name}`).toBe(buf(want[name]));
  }
  if (got.step) expect([got.step.offset, got.step.size]).toEqual([0, 48]);
  if (got.dims) {
    const slot = INPUT_PROJECTION.includes(kernel) ? 0 : 1;
    expect(got.dims.offset, `${kernel} layer ${l}: dims slot`).toBe((2 * l + slot) * 256);
    expect(got.dims.size).toBe(48);
  }
  for (const [name, r] of Object.entries(got))
    if (name !== 'step' && name !== 'dims') expect([name, r.offset, r.size]).toEqual([name, 0, undefined]);
}

describe('Workspaces.bindGroup: the alias table', () => {
  it('LSTM with projection, 3 bidirectional layers: inputs chain through the sequence buffers, h_next is m for the cell kernels', () => {
    const t = setup({ cell: 'lstm', inputSize: 3, hiddenSize: 6, projSize: 4, numLayers: 3, direction: 'bidirectional' });
    const ws = t.workspaces.ensure(5, 3);
    expect(ws.sequences.length).toBe(2);
    const cellKernels: KernelName[] = ['lstm_step', 'lstm_direct', 'lstm_subgroup', 'lstm_direct_quad'];
    const y: FakeBuffer[] = [];
    for (let l = 0; l < 3; l++) {
      for (const parity of [0, 1]) {
        for (const kernel of [...INPUT_PROJECTION, ...cellKernels, 'lstm_projection', 'lstm_projection_direct'] as KernelName[]) {
          const got = bindings(t.workspaces, ws, l, parity, kernel);
          expectCommon(t.model, ws, l, parity, kernel, got);
          if (got.x) expect(got.x.buffer, `${kernel} layer ${l}: x`).toBe(l === 0 ? buf(ws.x) : y[l - 1]);
          // The cell kernels write the unprojected m (at h_next) for the projection, which writes h.
          if (cellKernels.includes(kernel)) expect(got.h_next.buffer, `${kernel}: h_next`).toBe(buf(ws.scratch));
          if (kernel.startsWith('lstm_projection')) {
            expect(got.h_next.buffer).toBe(buf(ws.h[l][1 - parity]));
            expect(got.m.buffer).toBe(buf(ws.scratch));
            expect(got.wr_t.buffer).toBe(buf(t.model.layers[l].wrT));
          }
        }
        // Every kernel of the layer that writes y writes the same buffer.
        const ys = new Set(
          (['lstm_step', 'lstm_direct', 'lstm_projection'] as KernelName[]).map((k) => bindings(t.workspaces, ws, l, parity, k).y?.buffer),
        );
        expect(ys.size).toBe(1);
        const [yl] = [...ys];
        if (parity === 0) y.push(yl!);
        else expect(yl).toBe(y[l]);
      }
    }
    // The last layer writes the public Y; the inner layers alternate between the two sequence buffers,
    // so no layer writes the buffer it reads.
    expect(y[2]).toBe(buf(ws.y));
    expect(new Set([y[0], y[1]])).toEqual(new Set(ws.sequences.map(buf)));
    expect(y[0]).not.toBe(y[1]);
    expect(y[1]).not.toBe(y[2]);
  });

  it('LSTM: h_prev and h_next swap with parity, per layer; the sequence kernels bind c and the peepholes', () => {
    const t = setup({ cell: 'lstm', inputSize: 3, hiddenSize: 4, numLayers: 2 });
    const ws = t.workspaces.ensure(4, 2);
    expect(ws.sequences.length).toBe(1);
    const hs = ws.h.flat().map(buf);
    expect(new Set(hs).size).toBe(4); // two per layer, all distinct
    for (let l = 0; l < 2; l++) {
      for (const kernel of ['lstm_step', 'lstm_direct', 'lstm_seq', 'lstm_rows', 'lstm_subgroup'] as KernelName[]) {
        const even = bindings(t.workspaces, ws, l, 0, kernel);
        const odd = bindings(t.workspaces, ws, l, 1, kernel);
        expectCommon(t.model, ws, l, 0, kernel, even);
        expectCommon(t.model, ws, l, 1, kernel, odd);
        if (!even.h_next) continue;
        expect([even.h_prev.buffer, even.h_next.buffer]).toEqual([buf(ws.h[l][0]), buf(ws.h[l][1])]);
        expect([odd.h_prev.buffer, odd.h_next.buffer]).toEqual([buf(ws.h[l][1]), buf(ws.h[l][0])]);
        expect(even.c.buffer).toBe(buf(ws.cAll));
        expect(even.y.buffer).toBe(buf(l === 1 ? ws.y : ws.sequences[0]));
      }
    }
    // Layer 1's projection reads layer 0's sequence output.
    expect(bindings(t.workspaces, ws, 1, 0, 'input_gemv').x.buffer).toBe(bindings(t.workspaces, ws, 0, 0, 'lstm_step').y.buffer);
  });

  it('Depth-Gated LSTM: peepholes [D, 5, H] and the layer above reads the sequence below', () => {
    const t = setup({ cell: 'lstm', inputSize: 3, hiddenSize: 4, numLayers: 2, depthGated: true });
    const ws = t.workspaces.ensure(3, 2);
    for (let l = 0; l < 2; l++) {
      for (const kernel of ['input_proj', 'lstm_step', 'lstm_direct'] as KernelName[])
        expectCommon(t.model, ws, l, 0, kernel, bindings(t.workspaces, ws, l, 0, kernel));
    }
    expect(bindings(t.workspaces, ws, 1, 0, 'input_proj').x.buffer).toBe(buf(ws.sequences[0]));
  });

  it('GRU: the reset kernels write gate_tmp (the scratch) from h_prev; rbh is bound', () => {
    const t = setup({ cell: 'gru', inputSize: 2, hiddenSize: 5, numLayers: 2, direction: 'bidirectional' });
    const ws = t.workspaces.ensure(3, 5);
    for (let l = 0; l < 2; l++) {
      for (const parity of [0, 1]) {
        for (const kernel of [
          'input_gemv',
          'gru_reset',
          'gru_step',
          'gru_direct_reset',
          'gru_direct',
          'gru_seq',
          'gru_rows',
        ] as KernelName[]) {
          const got = bindings(t.workspaces, ws, l, parity, kernel);
          expectCommon(t.model, ws, l, parity, kernel, got);
          if (got.h_next) expect(got.h_next.buffer).toBe(buf(ws.h[l][1 - parity]));
          if (kernel.includes('reset')) expect([got.gate_tmp.buffer, got.h_prev.buffer]).toEqual([buf(ws.scratch), buf(ws.h[l][parity])]);
        }
      }
      expect(bindings(t.workspaces, ws, l, 0, 'gru_step').rbh.buffer).toBe(buf(t.model.layers[l].rbh));
    }
    expect(ws.cAll).toBeUndefined();
  });

  it('RNN and Clockwork: the cell buffer unit_period is bound by name', () => {
    const rnn = setup({ cell: 'rnn', inputSize: 2, hiddenSize: 3 });
    const wsr = rnn.workspaces.ensure(2, 1);
    for (const kernel of ['input_gemv', 'rnn_step', 'rnn_direct', 'rnn_seq'] as KernelName[]) {
      const got = bindings(rnn.workspaces, wsr, 0, 1, kernel);
      expectCommon(rnn.model, wsr, 0, 1, kernel, got);
      if (got.y) expect(got.y.buffer).toBe(buf(wsr.y));
    }
    const cw = setup({ cell: 'clockwork', inputSize: 2, hiddenSize: 4, periods: [1, 2] });
    const wsc = cw.workspaces.ensure(2, 1);
    const got = bindings(cw.workspaces, wsc, 0, 0, 'clockwork_step');
    expect(got.unit_period.buffer).toBe(buf(cw.model.cellBuffers.unit_period));
    expectCommon(cw.model, wsc, 0, 0, 'clockwork_step', got);
  });

  it('a bind group is made once per (layer, kernel, parity)', () => {
    const t = setup({ cell: 'gru', inputSize: 2, hiddenSize: 3, numLayers: 2 });
    const ws = t.workspaces.ensure(2, 2);
    const a = t.workspaces.bindGroup(ws, 0, 0, 'gru_step');
    const made = t.groups.length;
    expect(t.workspaces.bindGroup(ws, 0, 0, 'gru_step')).toBe(a);
    expect(t.groups.length).toBe(made);
    expect(t.workspaces.bindGroup(ws, 0, 1, 'gru_step')).not.toBe(a);
    expect(t.workspaces.bindGroup(ws, 1, 0, 'gru_step')).not.toBe(a);
    expect(t.groups.length).toBe(made + 2);
    // One bind group layout per kernel and device, shared by its groups.
    expect(t.layouts.filter((l) => l.label === 'gru_step').length).toBe(1);
  });

  it('makeBindGroup: a replacement resource takes its binding; one too small for the kernel is a ShaderContractError', () => {
    const t = setup({ cell: 'rnn', inputSize: 2, hiddenSize: 3 });
    const ws = t.workspaces.ensure(2, 1);
    const other = t.device.createBuffer({ size: 1024, usage: Usage.STORAGE });
    const group = t.workspaces.makeBindGroup(ws, 0, 0, 'rnn_step', { h_next: { buffer: other } }) as unknown as FakeGroup;
    const hNext = kernelInfo('rnn_step').bindings.find((b) => b.name === 'h_next')!.binding;
    expect(group.entries.find((e) => e.binding === hNext)!.resource.buffer).toBe(buf(other));
    const tiny = t.device.createBuffer({ size: 16, usage: Usage.STORAGE });
    expect(() => t.workspaces.makeBindGroup(ws, 0, 0, 'rnn_step', { y: { buffer: tiny, words: 1000 } })).toThrow(ShaderContractError);
  });
});

/** Buffer size for `bytes`: a multiple of 16 of at least 16 and under bytes + 16. */
function expectPadded(b: GPUBuffer | undefined, bytes: number, what: string) {
  const size = buf(b).size;
  expect(size % 16, what).toBe(0);
  expect(size, what).toBeGreaterThanOrEqual(Math.max(16, bytes));
  expect(size, what).toBeLessThan(Math.max(16, bytes) + 16);
}

/** Every named buffer of a workspace. */
function named(ws: Workspace): GPUBuffer[] {
  return [
    ws.x,
    ws.xproj,
    ...ws.sequences,
    ws.y,
    ...ws.h.flat(),
    ...(ws.cAll ? [ws.cAll] : []),
    ws.scratch,
    ws.seqLens,
    ws.steps,
    ws.dims,
    ws.staging,
    ...(ws.stackState ? [ws.stackState] : []),
  ];
}

describe('Workspaces.ensure and drop', () => {
  const spec: RnnSpec = { cell: 'lstm', inputSize: 3, hiddenSize: 4, projSize: 2, numLayers: 2, direction: 'bidirectional' };

  it('allocates every buffer for (T, B) at the sizes of the layouts, with their usages', () => {
    const t = setup(spec);
    const before = t.buffers.length;
    const [T, B] = [5, 3];
    const ws = t.workspaces.ensure(T, B);
    expect([ws.seqLen, ws.batch]).toEqual([T, B]);
    const created = t.buffers.slice(before);
    expect(new Set(ws.buffers.map(buf))).toEqual(new Set(created));
    expect(new Set(named(ws).map(buf))).toEqual(new Set(created));
    const [D, H, Hout, L, I] = [2, 4, 2, 2, 3];
    expectPadded(ws.x, 4 * T * B * I, 'x');
    expectPadded(ws.xproj, 4 * T * B * D * 4 * H, 'xproj');
    expectPadded(ws.y, 4 * T * B * D * Hout, 'y');
    for (const s of ws.sequences) expectPadded(s, 4 * T * B * D * Hout, 'sequence');
    for (const h of ws.h.flat()) expectPadded(h, 4 * D * lengthRows(B) * Hout, 'h');
    expectPadded(ws.cAll, 4 * L * D * B * H, 'c');
    expectPadded(ws.seqLens, 4 * T * B, 'seq_lens');
    expectPadded(ws.steps, 256 * T, 'steps');
    expectPadded(ws.dims, 256 * 2 * L, 'dims');
    expectPadded(ws.staging, 4 * (T * D * B * Hout + L * D * B * Hout + L * D * B * H), 'staging');
    expect(buf(ws.scratch).size).toBeGreaterThanOrEqual(4 * D * lengthRows(B) * 2 * H);
    const storage = Usage.STORAGE | Usage.COPY_DST | Usage.COPY_SRC;
    for (const b of [ws.x, ws.xproj, ws.y, ...ws.sequences, ...ws.h.flat(), ws.cAll, ws.scratch, ws.seqLens])
      expect(buf(b).usage).toBe(storage);
    expect(buf(ws.steps).usage).toBe(Usage.UNIFORM | Usage.COPY_DST);
    expect(buf(ws.dims).usage).toBe(Usage.UNIFORM | Usage.COPY_DST);
    expect(buf(ws.staging).usage).toBe(Usage.MAP_READ | Usage.COPY_DST);
    expect(created.every((b) => b.destroyed === 0)).toBe(true);
    expect(ws.stackState).toBeUndefined();
  });

  it('writes step t into the first word of uniform slot t', () => {
    const t = setup(spec);
    const ws = t.workspaces.ensure(6, 1);
    const writes = t.writes.filter((w) => w.buffer === buf(ws.steps));
    expect(writes.length).toBe(1);
    const words = new Uint32Array(writes[0].bytes.buffer);
    expect(words.length).toBe(6 * 64);
    for (let i = 0; i < words.length; i++) expect(words[i], `word ${i}`).toBe(i % 64 === 0 ? i / 64 : 0);
  });

  it('grows to the largest run seen, never shrinks, and destroys what it replaces', () => {
    const t = setup(spec);
    const first = t.workspaces.ensure(4, 3);
    const old = first.buffers.map(buf);
    const count = t.buffers.length;
    // Smaller in both: the same workspace, nothing new.
    expect(t.workspaces.ensure(4, 3)).toBe(first);
    expect(t.workspaces.ensure(1, 1)).toBe(first);
    expect(t.buffers.length).toBe(count);
    const g = t.workspaces.bindGroup(first, 0, 0, 'lstm_step');
    // Longer but narrower: grows seqLen, keeps the batch of 3.
    const second = t.workspaces.ensure(9, 1);
    expect(second).not.toBe(first);
    expect([second.seqLen, second.batch]).toEqual([9, 3]);
    expect(old.every((b) => b.destroyed === 1)).toBe(true);
    expect(second.buffers.map(buf).every((b) => b.destroyed === 0 && !old.includes(b))).toBe(true);
    // Its bind groups are new and bind the new buffers.
    expect(second.bindGroups.size).toBe(0);
    const g2 = t.workspaces.bindGroup(second, 0, 0, 'lstm_step');
    expect(g2).not.toBe(g);
    expect(bindings(t.workspaces, second, 0, 0, 'input_gemv').x.buffer).toBe(buf(second.x));
    // Wider but shorter: grows the batch, keeps seqLen 9.
    const third = t.workspaces.ensure(2, 7);
    expect([third.seqLen, third.batch]).toEqual([9, 7]);
    expect(second.buffers.map(buf).every((b) => b.destroyed === 1)).toBe(true);
    // The model's weights are never touched.
    expect(t.owned.map(buf).every((b) => b.destroyed === 0)).toBe(true);
  });

  it('drop() destroys every buffer once; the next ensure allocates anew', () => {
    const t = setup(spec, false);
    const ws = t.workspaces.ensure(3, 2);
    t.workspaces.drop();
    expect(ws.buffers.map(buf).every((b) => b.destroyed === 1)).toBe(true);
    t.workspaces.drop();
    expect(ws.buffers.map(buf).every((b) => b.destroyed === 1)).toBe(true);
    const again = t.workspaces.ensure(1, 1);
    expect(again).not.toBe(ws);
    expect([again.seqLen, again.batch]).toEqual([1, 1]); // a dropped workspace is forgotten, sizes included
    expect(t.owned.map(buf).every((b) => b.destroyed === 0)).toBe(true);
  });

  it('a model with the stack kernel gets the packed stack state, freed with the rest', () => {
    const s: RnnSpec = { cell: 'gru', inputSize: 2, hiddenSize: 3, numLayers: 2 };
    const t = setup(s, true);
    expect(t.model.stack).toBeDefined();
    const ws = t.workspaces.ensure(2, 5);
    expectPadded(ws.stackState, 4 * stateFloats(t.s as ResolvedSpec, 5), 'stack state');
    expect(buf(ws.stackState).size).toBeGreaterThanOrEqual(4 * 2 * 5 * 3); // h [L, B, H], no c for a GRU
    t.workspaces.drop();
    expect(buf(ws.stackState).destroyed).toBe(1);
  });
});
