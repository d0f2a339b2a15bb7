// loadOnnx against ONNX Runtime (onnxruntime-node, CPU): random single-node LSTM/GRU/RNN models over
// every attribute and optional input, multi-node graphs with torch-style glue (fused and not),
// heads, weights fed as inputs, and the error contract. Tolerance: 1e-5 + 1e-4·|ORT|.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { FormatError, InputError, UnsupportedError } from '../../src/core/errors.js';
import { loadOnnx, sessionDispatches, sessionPlan, type OnnxSession, type Tensor } from '../../src/onnx/session.js';
import { getTestDevice } from '../support/device.js';
import { expectClose } from '../support/close.js';
import { buildCase, randomOptions } from '../support/onnx-cases.js';
import { attr, onnxModel, type InitializerDef, type NodeDef } from '../../common/onnx-writer.js';
import { rng, uniform } from '../../common/random.js';

const stats = { ortCases: 0, ortTensors: 0, maxErr: 0, torchModels: 0, torchTensors: 0, torchMaxErr: 0 };
afterAll(() =>
  console.log(
    `[onnx-import] ORT comparisons: ${stats.ortCases} models, ${stats.ortTensors} tensors, max |diff| ${stats.maxErr.toExponential(2)}; ` +
      `torch: ${stats.torchModels} exported models, ${stats.torchTensors} tensors, max |diff| ${stats.torchMaxErr.toExponential(2)}`,
  ),
);

async function ortRun(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(model);
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

function toOrt(feeds: Record<string, Tensor>): Record<string, ort.Tensor> {
  return Object.fromEntries(
    Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.data instanceof Float32Array ? 'float32' : 'int32', t.data, t.dims)]),
  );
}

function compare(ours: Tensor, theirs: { data: unknown; dims: readonly number[] }, label: string): void {
  expect(ours.dims, `${label} dims`).toEqual([...theirs.dims]);
  stats.maxErr = Math.max(stats.maxErr, expectClose(ours.data, theirs.data as Float32Array, label));
  stats.ortTensors++;
}

/** Loads with both, runs both, compares every output. */
async function againstOrt(model: Uint8Array, feeds: Record<string, Tensor>, label: string): Promise<OnnxSession> {
  const device = await getTestDevice();
  const session = await loadOnnx(device, model);
  const ours = await session.run(feeds);
  const theirs = await ortRun(model, toOrt(feeds));
  expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
  for (const name of session.outputNames) compare(ours[name], theirs[name], `${label} ${name}`);
  stats.ortCases++;
  return session;
}

describe('single recurrent nodes vs ONNX Runtime', () => {
  const seeds = Array.from({ length: 48 }, (_, i) => i + 1);
  it.each(seeds)('random case %i', async (seed) => {
    const o = randomOptions(seed);
    const c = buildCase(o, seed);
    const device = await getTestDevice();
    const session = await loadOnnx(device, c.ours);
    expect(session.outputNames).toEqual(c.outputs);
    const ours = await session.run(c.feeds);
    const theirs = await ortRun(c.theirs, c.ortFeeds);
    for (const name of c.outputs) compare(ours[name], c.fromOrt(name, theirs[name]), `[${c.name}] ${name}`);
    stats.ortCases++;
    session.destroy();
  });

  it('covers layout 1, float16, every opset and every cell across the seeds', () => {
    const all = Array.from({ length: 48 }, (_, i) => randomOptions(i + 1));
    expect(all.some((o) => o.layout === 1)).toBe(true);
    expect(all.some((o) => o.float16)).toBe(true);
    for (const opset of [7, 14, 22]) expect(all.some((o) => o.opset === opset)).toBe(true);
    for (const cell of ['lstm', 'gru', 'rnn']) expect(all.some((o) => o.cell === cell)).toBe(true);
    expect(all.some((o) => o.activations && o.alpha)).toBe(true);
    expect(all.some((o) => o.peepholes && o.inputForget)).toBe(true);
  });
});

// ---- multi-node graphs -------------------------------------------------------------------------

const r = rng(2024);
const G = { LSTM: 4, GRU: 3, RNN: 1 } as const;

/** Initializers and the node of one recurrent layer. */
function layer(
  op: keyof typeof G,
  k: number,
  x: string,
  I: number,
  H: number,
  D: number,
  extra: { h0?: string; c0?: string; attrs?: NodeDef['attributes'] } = {},
): { node: NodeDef; inits: InitializerDef[] } {
  const GH = G[op] * H;
  const s = 1 / Math.sqrt(H);
  const inits: InitializerDef[] = [
    { name: `W${k}`, dims: [D, GH, I], data: uniform(r, D * GH * I, s) },
    { name: `R${k}`, dims: [D, GH, H], data: uniform(r, D * GH * H, s) },
    { name: `B${k}`, dims: [D, 2 * GH], data: uniform(r, D * 2 * GH, s) },
  ];
  const inputs = [x, `W${k}`, `R${k}`, `B${k}`, '', extra.h0 ?? ''];
  if (op === 'LSTM') inputs.push(extra.c0 ?? '');
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const outputs = [`Y${k}`, `Yh${k}`, ...(op === 'LSTM' ? [`Yc${k}`] : [])];
  const attributes = { hidden_size: attr.i(H), ...(D === 2 ? { direction: attr.s('bidirectional') } : {}), ...extra.attrs };
  return { node: { opType: op, inputs, outputs, attributes, name: `${op}_${k}` }, inits };
}

/** A torch-style stack: glue between layers, states concatenated into graph outputs. */
function stack(
  op: keyof typeof G,
  L: number,
  I: number,
  H: number,
  D: number,
  opset: number,
  opts: { states?: boolean; attrs?: NodeDef['attributes']; hidden?: number[] } = {},
) {
  const nodes: NodeDef[] = [];
  const inits: InitializerDef[] = [];
  let x = 'x';
  let inSize = I;
  for (let k = 0; k < L; k++) {
    const h = opts.hidden?.[k] ?? H;
    const l = layer(op, k, x, inSize, h, D, {
      h0: opts.states ? `h0_${k}` : undefined,
      c0: opts.states && op === 'LSTM' ? `c0_${k}` : undefined,
      attrs: opts.attrs,
    });
    nodes.push(l.node);
    inits.push(...l.inits);
    if (opts.states) {
      // torch: Slice of the stacked state input per layer.
      if (opset >= 10) {
        inits.push(
          { name: `st${k}`, dims: [1], data: BigInt64Array.from([BigInt(k * D)]) },
          { name: `en${k}`, dims: [1], data: BigInt64Array.from([BigInt((k + 1) * D)]) },
        );
        if (k === 0) inits.push({ name: 'ax0', dims: [1], data: BigInt64Array.from([0n]) });
      }
      for (const s of op === 'LSTM' ? ['h0', 'c0'] : ['h0']) {
        if (opset >= 10) {
          nodes.push({ opType: 'Slice', inputs: [s, `st${k}`, `en${k}`, 'ax0'], outputs: [`${s}_${k}`] });
        } else {
          nodes.push({
            opType: 'Slice',
            inputs: [s],
            outputs: [`${s}_${k}`],
            attributes: { axes: attr.ints([0]), starts: attr.ints([k * D]), ends: attr.ints([(k + 1) * D]) },
          });
        }
      }
    }
    const last = k === L - 1;
    const out = last ? 'y' : `x${k + 1}`;
    if (D === 2) {
      nodes.push({ opType: 'Transpose', inputs: [`Y${k}`], outputs: [`t${k}`], attributes: { perm: attr.ints([0, 2, 1, 3]) } });
      inits.push({ name: `shape${k}c`, dims: [3], data: BigInt64Array.from([0n, 0n, -1n]) });
      nodes.push({ opType: 'Reshape', inputs: [`t${k}`, `shape${k}c`], outputs: [out] });
    } else if (opset >= 13) {
      inits.push({ name: `one${k}`, dims: [1], data: BigInt64Array.from([1n]) });
      nodes.push({ opType: 'Squeeze', inputs: [`Y${k}`, `one${k}`], outputs: [out] });
    } else {
      nodes.push({ opType: 'Squeeze', inputs: [`Y${k}`], outputs: [out], attributes: { axes: attr.ints([1]) } });
    }
    inSize = D * h;
    x = out;
  }
  nodes.push({ opType: 'Concat', inputs: Array.from({ length: L }, (_, k) => `Yh${k}`), outputs: ['hn'], attributes: { axis: attr.i(0) } });
  if (op === 'LSTM')
    nodes.push({
      opType: 'Concat',
      inputs: Array.from({ length: L }, (_, k) => `Yc${k}`),
      outputs: ['cn'],
      attributes: { axis: attr.i(0) },
    });
  const lastH = opts.hidden?.[L - 1] ?? H;
  const inputs = [{ name: 'x', dims: ['T', 'B', I] as (number | string)[] }];
  if (opts.states) {
    inputs.push({ name: 'h0', dims: [L * D, 'B', H] });
    if (op === 'LSTM') inputs.push({ name: 'c0', dims: [L * D, 'B', H] });
  }
  const outputs = [
    { name: 'y', dims: ['T', 'B', D * lastH] as (number | string)[] },
    { name: 'hn', dims: [L * D, 'B', lastH] },
  ];
  if (op === 'LSTM') outputs.push({ name: 'cn', dims: [L * D, 'B', lastH] });
  return onnxModel({ nodes, inputs, outputs, initializers: inits, opset });
}

function feedsFor(I: number, T: number, B: number, LD = 0, H = 0, lstm = false): Record<string, Tensor> {
  const f: Record<string, Tensor> = { x: { dims: [T, B, I], data: uniform(r, T * B * I) } };
  if (LD) {
    f.h0 = { dims: [LD, B, H], data: uniform(r, LD * B * H) };
    if (lstm) f.c0 = { dims: [LD, B, H], data: uniform(r, LD * B * H) };
  }
  return f;
}

describe('multi-node graphs vs ONNX Runtime', () => {
  it('fuses a torch-style 2-layer bidirectional LSTM (opset 14) into one 2-layer engine model', async () => {
    const model = stack('LSTM', 2, 3, 5, 2, 14, { states: true });
    const s = await againstOrt(model, feedsFor(3, 6, 2, 4, 5, true), 'bi-LSTM x2');
    expect(sessionPlan(s)).toEqual([{ nodes: ['LSTM_0', 'LSTM_1'], numLayers: 2, prebuilt: true }]);
    s.destroy();
  });

  it('fuses a 3-layer unidirectional GRU with Squeeze(axes attribute) glue (opset 7)', async () => {
    const model = stack('GRU', 3, 4, 7, 1, 7, { attrs: { linear_before_reset: attr.i(1) } });
    const s = await againstOrt(model, feedsFor(4, 5, 3), 'GRU x3 opset 7');
    expect(sessionPlan(s).map((u) => u.numLayers)).toEqual([3]);
    s.destroy();
  });

  it('fuses RNN layers with Squeeze(axes input) glue and per-layer initial states (opset 22)', async () => {
    const model = stack('RNN', 2, 2, 4, 1, 22, { states: true, attrs: { activations: attr.strings(['Relu']) } });
    const s = await againstOrt(model, feedsFor(2, 4, 2, 2, 4), 'RNN x2 opset 22');
    expect(sessionPlan(s).map((u) => u.numLayers)).toEqual([2]);
    s.destroy();
  });

  it('does not fuse layers of different hidden sizes (plan check only: the hn Concat of [2,B,4] and [2,B,6] cannot run)', async () => {
    const session = await loadOnnx(await getTestDevice(), stack('LSTM', 2, 3, 4, 2, 14, { hidden: [4, 6] }));
    expect(sessionPlan(session).map((u) => u.numLayers)).toEqual([1, 1]);
    session.destroy();
  });

  it('embedding Gather + GRU + MatMul/Add + Softmax head, unfused when Y is also a graph output', async () => {
    const V = 11,
      E = 4,
      H = 6,
      C = 5,
      T = 5,
      B = 2;
    const l = layer('GRU', 0, 'emb_t', E, H, 1, { attrs: { linear_before_reset: attr.i(1) } });
    const nodes: NodeDef[] = [
      { opType: 'Gather', inputs: ['emb', 'tokens'], outputs: ['e'] },
      { opType: 'Transpose', inputs: ['e'], outputs: ['emb_t'], attributes: { perm: attr.ints([1, 0, 2]) } },
      l.node,
      { opType: 'Squeeze', inputs: ['Y0', 'one'], outputs: ['seq'] },
      { opType: 'MatMul', inputs: ['seq', 'Wh'], outputs: ['mm'] },
      { opType: 'Add', inputs: ['mm', 'bh'], outputs: ['logits'] },
      { opType: 'Softmax', inputs: ['logits'], outputs: ['probs'], attributes: { axis: attr.i(-1) } },
      { opType: 'Gemm', inputs: ['last', 'Wg', 'bg'], outputs: ['g'], attributes: { transB: attr.i(1), alpha: attr.f(0.5) } },
      { opType: 'Squeeze', inputs: ['Yh0', 'zero'], outputs: ['last'] },
      { opType: 'Sigmoid', inputs: ['g'], outputs: ['gs'] },
      { opType: 'Tanh', inputs: ['g'], outputs: ['gt'] },
      { opType: 'Relu', inputs: ['g'], outputs: ['gr'] },
    ];
    const model = onnxModel({
      nodes,
      inputs: [{ name: 'tokens', elemType: 7, dims: ['B', 'T'] }],
      outputs: [
        { name: 'probs', dims: ['T', 'B', C] },
        { name: 'Y0', dims: ['T', 1, 'B', H] },
        { name: 'gs', dims: ['B', 3] },
        { name: 'gt', dims: ['B', 3] },
        { name: 'gr', dims: ['B', 3] },
      ],
      initializers: [
        ...l.inits,
        { name: 'emb', dims: [V, E], data: uniform(r, V * E) },
        { name: 'one', dims: [1], data: BigInt64Array.from([1n]) },
        { name: 'zero', dims: [1], data: BigInt64Array.from([0n]) },
        { name: 'Wh', dims: [H, C], data: uniform(r, H * C) },
        { name: 'bh', dims: [C], data: uniform(r, C) },
        { name: 'Wg', dims: [3, H], data: uniform(r, 3 * H) },
        { name: 'bg', dims: [3], data: uniform(r, 3) },
      ],
      opset: 22,
    });
    const tokens = Int32Array.from({ length: B * T }, () => Math.floor(r() * V));
    const device = await getTestDevice();
    const s = await loadOnnx(device, model);
    expect(s.inputNames).toEqual(['tokens']);
    const ours = await s.run({ tokens: { dims: [B, T], data: tokens } });
    const theirs = await ortRun(model, {
      tokens: new ort.Tensor(
        'int64',
        BigInt64Array.from(tokens, (v) => BigInt(v)),
        [B, T],
      ),
    });
    for (const name of s.outputNames) compare(ours[name], theirs[name], `head ${name}`);
    stats.ortCases++;
    s.destroy();
  });

  it('runs a node whose weights are graph inputs (built per run) and glue with Shape/Gather/ConstantOfShape/Expand/Cast', async () => {
    const H = 3,
      I = 2,
      T = 4,
      B = 2;
    const nodes: NodeDef[] = [
      { opType: 'Shape', inputs: ['X'], outputs: ['shp'] },
      { opType: 'Gather', inputs: ['shp', 'idx1'], outputs: ['b'], attributes: { axis: attr.i(0) } },
      { opType: 'Unsqueeze', inputs: ['b'], outputs: ['b1'], attributes: { axes: attr.ints([0]) } },
      { opType: 'Concat', inputs: ['one', 'b1', 'hsz'], outputs: ['hshape'], attributes: { axis: attr.i(0) } },
      { opType: 'ConstantOfShape', inputs: ['hshape'], outputs: ['zeros'], attributes: {} },
      { opType: 'Cast', inputs: ['half'], outputs: ['halfc'], attributes: { to: attr.i(1) } },
      { opType: 'Expand', inputs: ['halfc', 'hshape'], outputs: ['h0e'] },
      { opType: 'Add', inputs: ['zeros', 'h0e'], outputs: ['h0'] },
      { opType: 'LSTM', inputs: ['X', 'W', 'R', '', '', 'h0'], outputs: ['Y', 'Y_h'], attributes: { hidden_size: attr.i(H) } },
      { opType: 'Identity', inputs: ['Y_h'], outputs: ['out_h'] },
    ];
    const model = onnxModel({
      nodes,
      inputs: [
        { name: 'X', dims: ['T', 'B', I] },
        { name: 'W', dims: [1, 4 * H, I] },
        { name: 'R', dims: [1, 4 * H, H] },
      ],
      outputs: [
        { name: 'Y', dims: ['T', 1, 'B', H] },
        { name: 'out_h', dims: [1, 'B', H] },
      ],
      initializers: [
        { name: 'idx1', dims: [], data: BigInt64Array.from([1n]) },
        { name: 'one', dims: [1], data: BigInt64Array.from([1n]) },
        { name: 'hsz', dims: [1], data: BigInt64Array.from([BigInt(H)]) },
        { name: 'half', dims: [1], data: Int32Array.from([1]) },
      ],
      opset: 11,
    });
    const feeds = {
      X: { dims: [T, B, I], data: uniform(r, T * B * I) },
      W: { dims: [1, 4 * H, I], data: uniform(r, 4 * H * I) },
      R: { dims: [1, 4 * H, H], data: uniform(r, 4 * H * H) },
    };
    const s = await againstOrt(model, feeds, 'dynamic weights');
    expect(sessionPlan(s)).toEqual([{ nodes: ['LSTM_8'], numLayers: 1, prebuilt: false }]);
    s.destroy();
  });
});

// ---- real torch.onnx.export models (test/fixtures/make_torch_onnx.py) ---------------------------

interface TorchFixture {
  opset: number;
  inputs: Record<string, { dims: number[]; dtype: 'int' | 'float'; data: number[] }>;
  outputs: Record<string, { dims: number[]; data: number[] }>;
}

describe('torch.onnx.export models vs PyTorch and ONNX Runtime', () => {
  const cases: [string, number[]][] = [
    // [fixture, expected recurrent units' layer counts: the stacks are fused]
    ['lstm_bidir_2layer', [2]],
    ['gru_embed_head', [2]],
    ['rnn_relu_embed_head', [3]],
    ['lstm_bidir_embed_head', [2]],
  ];
  it.each(cases)('%s', async (name, layers) => {
    const dir = new URL('../fixtures/onnx/', import.meta.url);
    const model = new Uint8Array(readFileSync(new URL(`${name}.onnx`, dir)));
    const fx = JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as TorchFixture;
    const feeds: Record<string, Tensor> = Object.fromEntries(
      Object.entries(fx.inputs).map(([k, v]) => [
        k,
        { dims: v.dims, data: v.dtype === 'int' ? Int32Array.from(v.data) : Float32Array.from(v.data) },
      ]),
    );
    const device = await getTestDevice();
    const s = await loadOnnx(device, model);
    expect(sessionPlan(s).map((u) => u.numLayers)).toEqual(layers);
    const ours = await s.run(feeds);
    const ortFeeds = Object.fromEntries(
      Object.entries(fx.inputs).map(([k, v]) => [
        k,
        v.dtype === 'int'
          ? new ort.Tensor(
              'int64',
              BigInt64Array.from(v.data, (x) => BigInt(x)),
              v.dims,
            )
          : new ort.Tensor('float32', Float32Array.from(v.data), v.dims),
      ]),
    );
    const theirs = await ortRun(model, ortFeeds);
    for (const [k, want] of Object.entries(fx.outputs)) {
      expect(ours[k].dims, `${name} ${k} dims`).toEqual(want.dims);
      stats.torchMaxErr = Math.max(stats.torchMaxErr, expectClose(ours[k].data, want.data, `${name} ${k} vs torch`));
      stats.torchTensors++;
      compare(ours[k], theirs[k], `${name} ${k} vs ORT`);
    }
    stats.torchModels++;
    stats.ortCases++;
    // A second run with other sizes: the dynamic axes come from the feeds.
    const x = Object.entries(fx.inputs)[0];
    const [k0, v0] = x;
    const dims2 = v0.dtype === 'int' ? [v0.dims[0] + 1, v0.dims[1] + 2] : [v0.dims[0] + 3, ...v0.dims.slice(1)];
    const n2 = dims2.reduce((a, b) => a * b, 1);
    const data2 = v0.dtype === 'int' ? Int32Array.from({ length: n2 }, (_, i) => (i * 7) % 3) : uniform(r, n2);
    const feeds2 = { ...feeds, [k0]: { dims: dims2, data: data2 } };
    const ours2 = await s.run(feeds2);
    const theirs2 = await ortRun(model, {
      ...ortFeeds,
      [k0]:
        v0.dtype === 'int'
          ? new ort.Tensor(
              'int64',
              BigInt64Array.from(data2, (v) => BigInt(v)),
              dims2,
            )
          : new ort.Tensor('float32', data2 as Float32Array, dims2),
    });
    for (const k of s.outputNames) compare(ours2[k], theirs2[k], `${name} ${k} (resized) vs ORT`);
    stats.ortCases++;
    s.destroy();
  });
});

describe('errors', () => {
  const rnnModel = (extra: Partial<NodeDef> = {}, opset = 14) =>
    onnxModel({
      nodes: [{ opType: 'RNN', inputs: ['X', 'W', 'R'], outputs: ['Y'], attributes: { hidden_size: attr.i(2) }, name: 'my_rnn', ...extra }],
      inputs: [{ name: 'X', dims: [2, 1, 1] }],
      outputs: [{ name: 'Y', dims: [2, 1, 1, 2] }],
      initializers: [
        { name: 'W', dims: [1, 2, 1], data: new Float32Array(2) },
        { name: 'R', dims: [1, 2, 2], data: new Float32Array(4) },
      ],
      opset,
    });

  it('an unsupported operator is an UnsupportedError naming op and node', async () => {
    const e = await loadOnnx(await getTestDevice(), rnnModel({ opType: 'Scan' })).catch((x) => x);
    expect(e).toBeInstanceOf(UnsupportedError);
    expect(e.message).toMatch(/Scan/);
    expect(e.message).toMatch(/my_rnn/);
  });

  it('an unknown attribute is an UnsupportedError naming attribute and node', async () => {
    const e = await loadOnnx(await getTestDevice(), rnnModel({ attributes: { hidden_size: attr.i(2), frobnicate: attr.i(1) } })).catch(
      (x) => x,
    );
    expect(e).toBeInstanceOf(UnsupportedError);
    expect(e.message).toMatch(/frobnicate.*my_rnn|my_rnn.*frobnicate/);
  });

  it('opsets outside 7..22 and foreign domains are UnsupportedError', async () => {
    const device = await getTestDevice();
    await expect(loadOnnx(device, rnnModel({}, 6))).rejects.toBeInstanceOf(UnsupportedError);
    await expect(loadOnnx(device, rnnModel({ domain: 'com.microsoft' }))).rejects.toBeInstanceOf(UnsupportedError);
  });

  it('every truncation of a valid model is a FormatError (or a clean load of a shorter valid prefix)', async () => {
    const device = await getTestDevice();
    const bytes = rnnModel();
    for (let n = 0; n < bytes.length; n++) {
      const e = await loadOnnx(device, bytes.subarray(0, n)).then(
        (s) => {
          s.destroy();
          return undefined;
        },
        (x) => x,
      );
      // A cut at a field boundary can leave a shorter valid model (e.g. an opset version of 1): then
      // UnsupportedError is the right answer; anything else must be a FormatError.
      if (e) expect(e instanceof FormatError || e instanceof UnsupportedError, `truncated to ${n}: ${e}`).toBe(true);
    }
  });

  it('a length field larger than the file is a FormatError', async () => {
    const bytes = rnnModel().slice();
    // The graph field (7, wire type 2) follows ir_version and producer_name; point its length past the end.
    const at = bytes.indexOf(0x3a);
    bytes.set([0xff, 0xff, 0xff, 0xff, 0x0f], at + 1);
    await expect(loadOnnx(await getTestDevice(), bytes)).rejects.toBeInstanceOf(FormatError);
  });

  it('bad feeds are InputError', async () => {
    const s = await loadOnnx(await getTestDevice(), rnnModel());
    await expect(s.run({})).rejects.toBeInstanceOf(InputError);
    await expect(s.run({ X: { dims: [2, 1, 2], data: new Float32Array(4) } })).rejects.toBeInstanceOf(InputError);
    await expect(s.run({ X: { dims: [2, 1, 1], data: new Int32Array(2) } })).rejects.toBeInstanceOf(InputError);
    await expect(
      s.run({ X: { dims: [2, 1, 1], data: new Float32Array(2) }, Z: { dims: [1], data: new Float32Array(1) } }),
    ).rejects.toBeInstanceOf(InputError);
    s.destroy();
  });
});

describe('programs per feed combination', () => {
  it('a session fed ten sequence lengths keeps at most eight programs and still computes what ORT does', async () => {
    const model = new Uint8Array(readFileSync(new URL('../fixtures/onnx/gru_embed_head.onnx', import.meta.url)));
    const s = await loadOnnx(await getTestDevice(), model);
    const tokens = (T: number) => Int32Array.from({ length: T }, (_, i) => (i * 3 + 1) % 5);
    for (let T = 1; T <= 10; T++) await s.run({ tokens: { data: tokens(T), dims: [1, T] } });
    expect(sessionDispatches(s).length).toBe(8);
    // T = 1 was evicted and is built again; T = 10 is still cached. Both match ORT.
    for (const T of [1, 10]) {
      const ours = await s.run({ tokens: { data: tokens(T), dims: [1, T] } });
      const ref = await ortRun(model, {
        tokens: new ort.Tensor(
          'int64',
          BigInt64Array.from(tokens(T), (v) => BigInt(v)),
          [1, T],
        ),
      });
      for (const name of Object.keys(ref)) compare(ours[name], ref[name], `T=${T} ${name}`);
    }
    expect(sessionDispatches(s).length).toBe(8);
    s.destroy();
  });
});

describe('If', () => {
  const branch = (op: string, out: string) =>
    attr.graph({ nodes: [{ opType: op, inputs: ['x'], outputs: [out] }], inputs: [], outputs: [{ name: out, dims: [3] }] });
  const ifModel = (condNodes: NodeDef[], inputs: { name: string; dims: number[]; elemType?: number }[]) =>
    onnxModel({
      nodes: [
        ...condNodes,
        {
          opType: 'If',
          inputs: ['cond'],
          outputs: ['y'],
          attributes: { then_branch: branch('Relu', 't'), else_branch: branch('Neg', 'e') },
        },
      ],
      inputs,
      outputs: [{ name: 'y', dims: [3] }],
      opset: 16,
    });

  it('picks its branch from an integer feed, per value, as ORT does (the branches read outer names)', async () => {
    // 0 as an initializer: Greater(n, 0) folds per value of n, on the CPU.
    const withZero = onnxModel({
      nodes: [
        { opType: 'Greater', inputs: ['n', 'zero'], outputs: ['cond'] },
        {
          opType: 'If',
          inputs: ['cond'],
          outputs: ['y'],
          attributes: { then_branch: branch('Relu', 't'), else_branch: branch('Neg', 'e') },
        },
      ],
      inputs: [
        { name: 'x', dims: [3] },
        { name: 'n', dims: [], elemType: 7 },
      ],
      outputs: [{ name: 'y', dims: [3] }],
      initializers: [{ name: 'zero', dims: [], data: BigInt64Array.from([0n]) }],
      opset: 16,
    });
    const s = await loadOnnx(await getTestDevice(), withZero);
    const x = Float32Array.from([-1.5, 0.25, 2]);
    for (const n of [1, -1]) {
      const ours = await s.run({ x: { data: x, dims: [3] }, n: { data: new Int32Array([n]), dims: [] } });
      const ref = await ortRun(withZero, {
        x: new ort.Tensor('float32', x, [3]),
        n: new ort.Tensor('int64', BigInt64Array.from([BigInt(n)]), []),
      });
      compare(ours.y, ref.y, `If n=${n}`);
    }
    expect(sessionDispatches(s)).toEqual([1, 1]); // one program per value of n, each one dispatch
    s.destroy();
  });

  it('a condition computed from float data is an UnsupportedError naming the If', async () => {
    const model = ifModel(
      [{ opType: 'Cast', inputs: ['f'], outputs: ['cond'], attributes: { to: attr.i(9) } }],
      [
        { name: 'x', dims: [3] },
        { name: 'f', dims: [] },
      ],
    );
    const s = await loadOnnx(await getTestDevice(), model);
    await expect(s.run({ x: { data: new Float32Array(3), dims: [3] }, f: { data: new Float32Array([1]), dims: [] } })).rejects.toThrow(
      new UnsupportedError(
        "node 'If_1' (If): its condition is computed on the GPU from float data; the importer chooses If branches before a run, from shapes and integer inputs",
      ),
    );
    s.destroy();
  });
});
