// Random single-node recurrent ONNX models for the importer tests, each with the equivalent model
// ONNX Runtime can run (layout 0, float32 weights: ORT refuses layout = 1, and mixing float16 weights
// with a float32 X is not a valid ONNX model) and the feeds for both.
import * as ort from 'onnxruntime-node';
import type { Tensor } from '../../src/onnx/session.js';
import { attr, onnxModel, type Attr, type InitializerDef, type NodeDef, type ValueDef } from '../../common/onnx-writer.js';
import { rng, uniform } from '../../common/random.js';

export type Cell = 'lstm' | 'gru' | 'rnn';
const OP: Record<Cell, string> = { lstm: 'LSTM', gru: 'GRU', rnn: 'RNN' };
const G: Record<Cell, number> = { lstm: 4, gru: 3, rnn: 1 };
const PER_DIR: Record<Cell, number> = { lstm: 3, gru: 2, rnn: 1 };

export interface RecurrentCase {
  name: string;
  ours: Uint8Array;
  theirs: Uint8Array;
  feeds: Record<string, Tensor>;
  /** Converts our feeds to ORT's layout-0 feeds, and ORT's outputs back to ours. */
  ortFeeds: Record<string, ort.Tensor>;
  fromOrt(name: string, t: ort.Tensor): Tensor;
  outputs: string[];
}

/** IEEE half bits of x, round to nearest even. */
export function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (exp << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

export function fromHalf(h: number): number {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Permutes a row-major tensor: out dims = perm.map(p => dims[p]). */
export function permute(data: ArrayLike<number>, dims: number[], perm: number[]): Float32Array {
  const outDims = perm.map((p) => dims[p]);
  const strides = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(data.length);
  const idx = new Array(dims.length).fill(0);
  for (let i = 0; i < out.length; i++) {
    let off = 0;
    for (let d = 0; d < perm.length; d++) off += idx[d] * strides[perm[d]];
    out[i] = data[off];
    for (let d = perm.length - 1; d >= 0; d--) {
      if (++idx[d] < outDims[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

const ACTS = [
  'Relu',
  'Tanh',
  'Sigmoid',
  'Affine',
  'LeakyRelu',
  'ThresholdedRelu',
  'ScaledTanh',
  'HardSigmoid',
  'Elu',
  'Softsign',
  'Softplus',
];
const BOUNDED = ['Tanh', 'Sigmoid', 'HardSigmoid', 'Softsign', 'ScaledTanh'];

export interface CaseOptions {
  cell: Cell;
  direction: 'forward' | 'reverse' | 'bidirectional';
  hidden: number;
  input: number;
  T: number;
  B: number;
  opset: number;
  layout: 0 | 1;
  float16: boolean;
  /** Which optional pieces to include. */
  bias: boolean;
  peepholes: boolean;
  seqLens: 'none' | 'input' | 'int32-initializer';
  initialH: boolean;
  initialC: boolean;
  clip?: number;
  inputForget?: boolean;
  linearBeforeReset?: boolean;
  activations?: string[];
  alpha?: number[];
  beta?: number[];
  hiddenSizeAttr: boolean;
  /** Leave Y (or Y_h) unrequested. */
  dropY: boolean;
}

/** Draws a random case from a seed, covering the attribute space. */
export function randomOptions(seed: number): CaseOptions {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const cell = pick(['lstm', 'gru', 'rnn'] as const);
  const direction = pick(['forward', 'reverse', 'bidirectional'] as const);
  const opset = pick([7, 14, 22]);
  const o: CaseOptions = {
    cell,
    direction,
    opset,
    hidden: pick([1, 3, 5, 7, 16, 33]),
    input: pick([1, 2, 4, 9]),
    T: pick([1, 2, 5, 7]),
    B: pick([1, 2, 3]),
    layout: opset >= 14 && r() < 0.3 ? 1 : 0,
    float16: r() < 0.25,
    bias: r() < 0.8,
    peepholes: cell === 'lstm' && r() < 0.5,
    seqLens: pick(['none', 'input', 'int32-initializer'] as const),
    initialH: r() < 0.6,
    initialC: cell === 'lstm' && r() < 0.6,
    hiddenSizeAttr: r() < 0.9,
    dropY: r() < 0.15,
  };
  if (r() < 0.3) o.clip = pick([0.5, 1.5, 3]);
  if (cell === 'lstm' && r() < 0.3) o.inputForget = true;
  if (cell === 'gru') o.linearBeforeReset = r() < 0.5;
  if (r() < 0.5) {
    const D = direction === 'bidirectional' ? 2 : 1;
    // Gates (f) bounded so states stay finite over the steps; g/h anything.
    const one = () => Array.from({ length: PER_DIR[cell] }, (_, k) => (k === 0 && cell !== 'rnn' ? pick(BOUNDED) : pick(ACTS)));
    const dirs = D === 2 && r() < 0.3 ? one() : Array.from({ length: D }, one).flat();
    o.activations = dirs.map((a) => (r() < 0.2 ? a.toLowerCase() : a));
    const params = dirs.length;
    if (r() < 0.7) o.alpha = Array.from({ length: Math.floor(r() * params) + 1 }, () => Math.round((0.2 + r()) * 100) / 100);
    if (r() < 0.5) o.beta = Array.from({ length: Math.floor(r() * params) + 1 }, () => Math.round(r() * 50) / 100);
  }
  return o;
}

export function describe(o: CaseOptions): string {
  const bits = [o.cell, o.direction, `H${o.hidden}`, `I${o.input}`, `T${o.T}`, `B${o.B}`, `opset${o.opset}`];
  if (o.layout) bits.push('layout1');
  if (o.float16) bits.push('f16');
  if (!o.bias) bits.push('noB');
  if (o.peepholes) bits.push('P');
  if (o.seqLens !== 'none') bits.push(`lens:${o.seqLens}`);
  if (o.initialH) bits.push('h0');
  if (o.initialC) bits.push('c0');
  if (o.clip) bits.push(`clip${o.clip}`);
  if (o.inputForget) bits.push('if');
  if (o.linearBeforeReset) bits.push('lbr');
  if (o.activations) bits.push(o.activations.join('/'));
  if (o.alpha) bits.push(`a[${o.alpha}]`);
  if (o.beta) bits.push(`b[${o.beta}]`);
  if (!o.hiddenSizeAttr) bits.push('noHattr');
  if (o.dropY) bits.push('noY');
  return bits.join(' ');
}

export function buildCase(o: CaseOptions, seed: number): RecurrentCase {
  const r = rng(seed * 7919 + 1);
  const D = o.direction === 'bidirectional' ? 2 : 1;
  const H = o.hidden;
  const GH = G[o.cell] * H;
  const weight = (n: number) => uniform(r, n, 1 / Math.sqrt(H));
  const tensors: Record<string, { dims: number[]; data: Float32Array }> = {
    W: { dims: [D, GH, o.input], data: weight(D * GH * o.input) },
    R: { dims: [D, GH, H], data: weight(D * GH * H) },
  };
  if (o.bias) tensors.B = { dims: [D, 2 * GH], data: weight(D * 2 * GH) };
  if (o.peepholes) tensors.P = { dims: [D, 3 * H], data: weight(D * 3 * H) };
  // float16 models: round the weights once; ORT then gets the same values as float32.
  const halves: Record<string, Uint16Array> = {};
  if (o.float16) {
    for (const [k, t] of Object.entries(tensors)) {
      halves[k] = Uint16Array.from(t.data, toHalf);
      t.data = Float32Array.from(halves[k], fromHalf);
    }
  }
  const lens = Int32Array.from({ length: o.B }, () => Math.floor(r() * (o.T + 1)));
  if (o.B > 1 && r() < 0.5) lens[0] = o.T;
  const x = uniform(r, o.T * o.B * o.input);
  const h0 = uniform(r, D * o.B * H);
  const c0 = uniform(r, D * o.B * H);

  const attributes: Record<string, Attr> = {};
  if (o.hiddenSizeAttr) attributes.hidden_size = attr.i(H);
  if (o.direction !== 'forward' || r() < 0.3) attributes.direction = attr.s(o.direction);
  if (o.clip !== undefined) attributes.clip = attr.f(o.clip);
  if (o.inputForget) attributes.input_forget = attr.i(1);
  if (o.linearBeforeReset !== undefined) attributes.linear_before_reset = attr.i(o.linearBeforeReset ? 1 : 0);
  if (o.activations) attributes.activations = attr.strings(o.activations);
  if (o.alpha) attributes.activation_alpha = attr.floats(o.alpha);
  if (o.beta) attributes.activation_beta = attr.floats(o.beta);

  const build = (ourSide: boolean): Uint8Array => {
    const batchMajor = ourSide && o.layout === 1;
    const attrs = { ...attributes };
    // ORT needs hidden_size, and 3 LSTM activations per direction (the engine repeats one direction's list).
    if (!ourSide) {
      attrs.hidden_size = attr.i(H);
      if (o.activations && o.activations.length === PER_DIR[o.cell] && D === 2)
        attrs.activations = attr.strings([...o.activations, ...o.activations]);
    }
    if (ourSide && o.opset >= 14 && (o.layout === 1 || r() < 0.2)) attrs.layout = attr.i(o.layout);
    const inputs = ['X', 'W', 'R', o.bias ? 'B' : '', o.seqLens !== 'none' ? 'lens' : '', o.initialH ? 'h0' : ''];
    if (o.cell === 'lstm') inputs.push(o.initialC ? 'c0' : '', o.peepholes ? 'P' : '');
    while (inputs[inputs.length - 1] === '') inputs.pop();
    const outputs = [o.dropY ? '' : 'Y', 'Y_h'];
    if (o.cell === 'lstm') outputs.push('Y_c');
    const node: NodeDef = { opType: OP[o.cell], inputs, outputs, attributes: attrs, name: 'rec' };
    const initializers: InitializerDef[] = Object.entries(tensors).map(([name, t]) =>
      ourSide && o.float16 ? { name, dims: t.dims, data: halves[name], dataType: 10 } : { name, dims: t.dims, data: t.data },
    );
    const gin: ValueDef[] = [{ name: 'X', dims: batchMajor ? ['batch', 'seq', o.input] : ['seq', 'batch', o.input] }];
    if (o.seqLens === 'input') gin.push({ name: 'lens', elemType: 6, dims: ['batch'] });
    if (o.seqLens === 'int32-initializer') initializers.push({ name: 'lens', dims: [o.B], data: lens });
    const state = batchMajor ? ['batch', D, H] : [D, 'batch', H];
    if (o.initialH) gin.push({ name: 'h0', dims: state });
    if (o.initialC) gin.push({ name: 'c0', dims: state });
    const gout: ValueDef[] = outputs
      .filter(Boolean)
      .map((name) => ({ name, dims: name === 'Y' ? (batchMajor ? ['seq', 'batch', D, H] : ['seq', D, 'batch', H]) : state }));
    return onnxModel({ nodes: [node], inputs: gin, outputs: gout, initializers, opset: o.opset });
  };

  const bm = o.layout === 1;
  const feeds: Record<string, Tensor> = {
    X: bm ? { dims: [o.B, o.T, o.input], data: permute(x, [o.T, o.B, o.input], [1, 0, 2]) } : { dims: [o.T, o.B, o.input], data: x },
  };
  const ortFeeds: Record<string, ort.Tensor> = { X: new ort.Tensor('float32', x, [o.T, o.B, o.input]) };
  if (o.seqLens === 'input') {
    feeds.lens = { dims: [o.B], data: lens };
    ortFeeds.lens = new ort.Tensor('int32', lens, [o.B]);
  }
  for (const [name, v, on] of [
    ['h0', h0, o.initialH],
    ['c0', c0, o.initialC],
  ] as const) {
    if (!on) continue;
    feeds[name] = bm ? { dims: [o.B, D, H], data: permute(v, [D, o.B, H], [1, 0, 2]) } : { dims: [D, o.B, H], data: v };
    ortFeeds[name] = new ort.Tensor('float32', v, [D, o.B, H]);
  }
  const fromOrt = (name: string, t: ort.Tensor): Tensor => {
    const data = t.data as Float32Array;
    const dims = [...t.dims];
    if (!bm) return { dims, data };
    if (name === 'Y') return { dims: [dims[2], dims[0], dims[1], dims[3]], data: permute(data, dims, [2, 0, 1, 3]) };
    return { dims: [dims[1], dims[0], dims[2]], data: permute(data, dims, [1, 0, 2]) };
  };
  const outputs = [o.dropY ? '' : 'Y', 'Y_h', ...(o.cell === 'lstm' ? ['Y_c'] : [])].filter(Boolean);
  return { name: describe(o), ours: build(true), theirs: build(false), feeds, ortFeeds, fromOrt, outputs };
}
