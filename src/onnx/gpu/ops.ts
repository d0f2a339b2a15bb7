// The ONNX graph executor's GPU operators: how each float tensor op becomes graph kernel dispatches
// (shaders/kernels/graph_*.wgsl) once the shapes are known. graph.ts calls an op's `lower` when at
// least one of its inputs lives on the GPU (else the CPU op of ../cpu/ runs, at load or per feed
// combination); shape arguments (axes, pads, starts, perm, Reshape's shape, Gather's indices) must
// be known on the CPU by then, which exported models satisfy. Ops that only rename a tensor
// (Reshape, Squeeze, Unsqueeze, Flatten, Identity, a float Cast) return a view: no dispatch.
// Semantics are ONNX's as ONNX Runtime implements them (see each op); errors name the node.
import { FormatError, UnsupportedError } from '../../core/errors.js';
import { axesOf, axisOf, prod, stridesOf, type OpContext } from '../cpu/op-context.js';
import { broadcastDims } from '../cpu/elementwise.js';
import {
  concatDims,
  flattenDims,
  gatherIndices,
  reshapeDims,
  shapeOf,
  sliceRange,
  squeezeDims,
  transposePerm,
  unsqueezeDims,
} from '../cpu/tensor-ops.js';
import { DT, intValues, isFloat, isFloatType, isIntType, saturate, typeName, type Tensor } from '../tensor.js';
import { ACT_CODES, BINARY_CODES, REDUCE_CODES } from './codes.js';
import type { GpuValue, ProgramBuilder } from './program.js';

/** A value while graph.ts specialises: known on the CPU, or a float tensor on the GPU. */
export type Val = { cpu: Tensor; gpu?: undefined } | { gpu: GpuValue; cpu?: undefined };

export type Vals = (Val | undefined)[];

export interface GpuOp {
  attributes: readonly string[];
  lower(c: OpContext, b: ProgramBuilder, x: Vals): Vals;
  /** Unary ops: the activation code and parameters, for fusing into the producer's store. */
  activation?(c: OpContext, x: Vals): Activation;
}

export interface Activation {
  code: number;
  alpha?: number;
  beta?: number;
}

export const dimsOf = (v: Val): number[] => (v.gpu ? v.gpu.dims : v.cpu!.dims);

function needVal(c: OpContext, x: Vals, i: number): Val {
  const v = x[i];
  if (!v) throw new FormatError(`${c.label}: input ${i} is required`);
  return v;
}

/**
 * Input i as a GPU float tensor (a CPU float tensor is uploaded as a constant). Integer tensors on
 * the GPU (Casts of float data) only pass through data movement (`moves`): arithmetic on them is
 * integer work, which the importer does on the CPU before a run.
 */
export function gpuInput(c: OpContext, b: ProgramBuilder, x: Vals, i: number, moves = false): GpuValue {
  const v = needVal(c, x, i);
  if (v.gpu?.int && !moves)
    throw new UnsupportedError(
      `${c.label}: input ${i} is an integer tensor cast from float data on the GPU; integer ${c.node.opType} runs on the CPU only on values known before the run`,
    );
  if (v.gpu) return v.gpu;
  if (!isFloat(v.cpu!))
    throw new FormatError(
      `${c.label}: input ${i} is an integer tensor where a float one is expected (inputs mix float and integer tensors)`,
    );
  return b.constant(v.cpu!.data, v.cpu!.dims);
}

/** Input i, which must be known on the CPU (a shape argument). */
export function cpuInput(c: OpContext, x: Vals, i: number, what: string): Tensor | undefined {
  const v = x[i];
  if (!v) return undefined;
  if (!v.cpu) {
    throw new UnsupportedError(
      `${c.label}: ${what} (input ${i}) is computed on the GPU from float data; the importer needs it known before the run (a constant, or computed from shapes and integer inputs)`,
    );
  }
  return v.cpu;
}

const gpu = (v: GpuValue): Val => ({ gpu: v });

/** A view of the same elements with other dims (Reshape and friends). */
const view = (v: GpuValue, dims: number[]): Val => gpu({ ...v, dims });

// ---- elementwise ----

/** Strides of `inDims` broadcast onto `outDims` (0 along broadcast dimensions). */
function broadcastStrides(outDims: readonly number[], inDims: readonly number[]): number[] {
  const s = stridesOf(inDims);
  const lead = outDims.length - inDims.length;
  return outDims.map((_, i) => (i < lead || inDims[i - lead] === 1 ? 0 : s[i - lead]));
}

/** out = ACT(OP(a, b)) broadcast (or ACT(a) without b); returns the output. */
export function elementwise(
  b: ProgramBuilder,
  label: string,
  a: GpuValue,
  other: GpuValue | undefined,
  op: number,
  act: Activation,
  outDims?: number[],
): GpuValue {
  const dims = outDims ?? (other ? broadcastDimsPlain(label, a.dims, other.dims) : a.dims);
  const out = b.temp(dims);
  const sa = broadcastStrides(dims, a.dims);
  const sb = other ? broadcastStrides(dims, other.dims) : sa;
  const params = [prod(dims), dims.length, a.offset, (other ?? a).offset, 0];
  dims.forEach((d, i) => params.push(d, sa[i], sb[i]));
  b.kernel(
    label,
    'graph_elementwise',
    prod(dims),
    params,
    { a: a.slot, b: (other ?? a).slot, out: out.slot },
    {
      BINARY: other !== undefined,
      OP: op,
      ACT: act.code,
      ACT_ALPHA: act.alpha ?? 0,
      ACT_BETA: act.beta ?? 0,
    },
  );
  return out;
}

function broadcastDimsPlain(label: string, a: readonly number[], b: readonly number[]): number[] {
  return broadcastDims({ label } as OpContext, a, b);
}

function binaryOp(code: number): GpuOp {
  return {
    attributes: [],
    lower(c, b, x) {
      const a = gpuInput(c, b, x, 0);
      const o = gpuInput(c, b, x, 1);
      return [gpu(elementwise(b, c.label, a, o, code, { code: 0 }, broadcastDims(c, a.dims, o.dims)))];
    },
  };
}

/** Variadic Sum, Max, Min, Mean: a chain of binary dispatches (Mean then scales by 1/n). */
function variadic(name: string): GpuOp {
  return {
    attributes: [],
    lower(c, b, x) {
      const parts = x.map((_, i) => gpuInput(c, b, x, i));
      if (parts.length === 0) throw new FormatError(`${c.label}: ${name} needs at least one input`);
      let acc = parts[0];
      for (let i = 1; i < parts.length; i++) {
        acc = elementwise(b, c.label, acc, parts[i], BINARY_CODES[name], { code: 0 }, broadcastDims(c, acc.dims, parts[i].dims));
      }
      if (name === 'Mean' && parts.length > 1) {
        acc = elementwise(b, c.label, acc, b.constant(new Float32Array([1 / parts.length]), []), BINARY_CODES.Mul, { code: 0 });
      }
      if (parts.length === 1) acc = elementwise(b, c.label, acc, undefined, 0, { code: 0 });
      return [gpu(acc)];
    },
  };
}

function unaryOp(
  name: string,
  attributes: readonly string[] = [],
  params?: (c: OpContext, x: Vals) => { alpha?: number; beta?: number },
): GpuOp {
  const activation = (c: OpContext, x: Vals): Activation => ({ code: ACT_CODES[name], ...params?.(c, x) });
  return {
    attributes,
    activation,
    lower(c, b, x) {
      const a = gpuInput(c, b, x, 0);
      return [gpu(elementwise(b, c.label, a, undefined, 0, activation(c, x)))];
    },
  };
}

/** A float scalar known on the CPU (Clip's min and max inputs, Pad's constant_value). */
function cpuScalar(c: OpContext, x: Vals, i: number, what: string, fallback: number): number {
  const t = cpuInput(c, x, i, what);
  if (!t || t.data.length === 0) return fallback;
  if (t.data.length !== 1) throw new FormatError(`${c.label}: ${what} must be a scalar, got shape [${t.dims.join(', ')}]`);
  return t.data[0];
}

const F32_MAX = 3.4028234663852886e38;

// ---- data movement (graph_gather.wgsl) ----

interface GatherDim {
  extent: number;
  srcStride: number;
  dstStride: number;
  start: number;
  step: number;
  srcExtent: number;
  table?: number[];
}

/** graph_gather's table word for a dimension without an index table. */
export const NO_TABLE = 0xffffffff;

function gatherStep(
  b: ProgramBuilder,
  label: string,
  src: GpuValue,
  dst: GpuValue,
  dstBase: number,
  dims: GatherDim[],
  pad: Padding = { mode: 0 },
): void {
  const head = [0, dims.length, src.offset, dst.offset + dstBase, pad.value?.offset ?? 0];
  const perDim: number[] = [];
  const tables: number[] = [];
  const tableBase = head.length + 7 * dims.length;
  for (const d of dims) {
    const at = d.table ? tableBase + tables.length : NO_TABLE;
    if (d.table) tables.push(...d.table.map((v) => v | 0));
    perDim.push(d.extent, d.srcStride, d.dstStride, d.start | 0, d.step | 0, d.srcExtent, at);
  }
  const n = prod(dims.map((d) => d.extent));
  head[0] = n;
  b.kernel(
    label,
    'graph_gather',
    n,
    [...head, ...perDim, ...tables],
    { src: src.slot, pad_src: (pad.value ?? src).slot, out: dst.slot },
    { PAD_MODE: pad.mode },
  );
}

/** How graph_gather pads: PAD_MODE, and for constant padding the element that holds the value. */
interface Padding {
  mode: number;
  value?: GpuValue;
}

export function f32Bits(v: number): number {
  return new Uint32Array(new Float32Array([v]).buffer)[0];
}

/** A strided copy of `src` into a new tensor of `outDims` (each output dim reads src dim `from[d]`). */
export function copyInto(
  b: ProgramBuilder,
  label: string,
  src: GpuValue,
  outDims: number[],
  per: (d: number) => { from: number; start: number; step: number; table?: number[] },
  pad?: Padding,
): GpuValue {
  const out: GpuValue = { ...b.temp(outDims), int: src.int };
  const ss = stridesOf(src.dims);
  const ds = stridesOf(outDims);
  gatherStep(
    b,
    label,
    src,
    out,
    0,
    outDims.map((extent, d) => {
      const p = per(d);
      return {
        extent,
        srcStride: ss[p.from] ?? 0,
        dstStride: ds[d],
        start: p.start,
        step: p.step,
        srcExtent: src.dims[p.from] ?? 1,
        table: p.table,
      };
    }),
    pad,
  );
  return out;
}

const PAD_MODES: Record<string, number> = { constant: 0, reflect: 1, edge: 2, wrap: 3 };

function lowerPad(c: OpContext, b: ProgramBuilder, x: Vals): Vals {
  const a = gpuInput(c, b, x, 0, true);
  const rank = a.dims.length;
  const mode = c.attrs.string('mode', 'constant');
  if (!Object.hasOwn(PAD_MODES, mode) || (mode === 'wrap' && c.opset < 19))
    throw new FormatError(`${c.label}: Pad mode '${mode}' is not one of constant, reflect, edge${c.opset >= 19 ? ', wrap' : ''}`);
  let pads: number[];
  let value: GpuValue;
  if (c.opset < 11) {
    pads = c.attrs.ints('pads') ?? [];
    value = b.constant(new Float32Array([c.attrs.float('value', 0)]), []);
  } else {
    const p = cpuInput(c, x, 1, 'pads');
    if (!p) throw new FormatError(`${c.label}: Pad needs its pads input`);
    pads = intValues(p, `${c.label} pads`);
    value = x[2] ? gpuInput(c, b, x, 2) : b.constant(new Float32Array([0]), []);
    if (x[2] && prod(value.dims) !== 1)
      throw new FormatError(`${c.label}: constant_value must be a scalar, got shape [${value.dims.join(', ')}]`);
  }
  const axesT = c.opset >= 18 ? cpuInput(c, x, 3, 'axes') : undefined;
  const axes = axesT ? intValues(axesT, `${c.label} axes`).map((ax) => axisOf(c, ax, rank)) : a.dims.map((_, i) => i);
  if (pads.length !== 2 * axes.length)
    throw new FormatError(`${c.label}: pads has ${pads.length} entries, expected ${2 * axes.length} (begin and end for each axis)`);
  const before = new Array<number>(rank).fill(0);
  const after = new Array<number>(rank).fill(0);
  axes.forEach((ax, k) => {
    before[ax] = pads[k];
    after[ax] = pads[k + axes.length];
  });
  const outDims = a.dims.map((d, i) => d + before[i] + after[i]);
  if (outDims.some((d) => d < 0))
    throw new FormatError(`${c.label}: pads [${pads.join(', ')}] remove more than the input's [${a.dims.join(', ')}]`);
  a.dims.forEach((d, i) => {
    if (mode === 'reflect' && (before[i] > 0 || after[i] > 0) && (before[i] >= d || after[i] >= d))
      throw new FormatError(
        `${c.label}: reflect pads [${pads.join(', ')}] must be smaller than the padded axis (${d}) of [${a.dims.join(', ')}]`,
      );
    if (mode !== 'constant' && d === 0 && (before[i] > 0 || after[i] > 0))
      throw new FormatError(`${c.label}: ${mode} padding of an empty axis`);
  });
  return [gpu(copyInto(b, c.label, a, outDims, (d) => ({ from: d, start: -before[d], step: 1 }), { mode: PAD_MODES[mode], value }))];
}

function lowerSlice(c: OpContext, b: ProgramBuilder, x: Vals): Vals {
  const a = gpuInput(c, b, x, 0, true);
  let starts: number[];
  let ends: number[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (c.opset < 10) {
    const s = c.attrs.ints('starts');
    const e = c.attrs.ints('ends');
    if (!s || !e) throw new FormatError(`${c.label}: Slice-1 needs starts and ends attributes`);
    starts = s.map(saturate);
    ends = e.map(saturate);
    axes = c.attrs.ints('axes');
  } else {
    const ints = (i: number, what: string) => {
      const t = cpuInput(c, x, i, what);
      return t ? intValues(t, `${c.label} ${what}`) : undefined;
    };
    starts = ints(1, 'starts') ?? [];
    ends = ints(2, 'ends') ?? [];
    axes = ints(3, 'axes');
    steps = ints(4, 'steps');
  }
  const r = sliceRange(c, a.dims, starts, ends, axes, steps);
  const offset = contiguousRange(a.dims, r);
  if (offset !== undefined) return [view({ ...a, offset: a.offset + offset }, r.dims)];
  return [gpu(copyInto(b, c.label, a, r.dims, (d) => ({ from: d, start: r.begin[d], step: r.step[d] })))];
}

/**
 * Where a slice is one contiguous run of its input (full inner dimensions, one partial dimension
 * taken with step 1, only size-1 dimensions outside it), the element offset where it starts: the
 * slice is then a view (Silero's real and imaginary halves of the STFT's channels).
 */
function contiguousRange(dims: readonly number[], r: { begin: number[]; step: number[]; dims: number[] }): number | undefined {
  const strides = stridesOf(dims);
  let partial = -1;
  for (let d = 0; d < dims.length; d++) {
    if (r.dims[d] === dims[d] && (r.step[d] === 1 || dims[d] <= 1)) continue;
    if (partial >= 0 || (r.step[d] !== 1 && r.dims[d] > 1)) return undefined;
    partial = d;
  }
  if (partial >= 0 && dims.slice(0, partial).some((n) => n !== 1)) return undefined;
  return r.dims.some((n) => n === 0) ? 0 : r.begin.reduce((off, v, d) => off + v * strides[d], 0);
}

function lowerConcat(c: OpContext, b: ProgramBuilder, x: Vals): Vals {
  const parts = x.filter((v): v is Val => v !== undefined).map((_, i) => gpuInput(c, b, x, i, true));
  if (parts.some((p) => !!p.int !== !!parts[0].int)) throw new FormatError(`${c.label}: inputs mix float and integer tensors`);
  const { axis, dims } = concatDims(
    c,
    parts.map((p) => p.dims),
  );
  const out: GpuValue = { ...b.temp(dims), int: parts[0].int };
  const ds = stridesOf(dims);
  let at = 0;
  // Nothing outside the axis: the output is the inputs one after another, buffer copies (no dispatch).
  if (prod(dims.slice(0, axis)) === 1) {
    for (const p of parts) {
      b.copy(p, { ...out, offset: at * ds[axis] }, prod(p.dims));
      at += p.dims[axis];
    }
    return [gpu(out)];
  }
  for (const p of parts) {
    const ss = stridesOf(p.dims);
    gatherStep(
      b,
      c.label,
      p,
      out,
      at * ds[axis],
      p.dims.map((extent, d) => ({ extent, srcStride: ss[d], dstStride: ds[d], start: 0, step: 1, srcExtent: extent })),
    );
    at += p.dims[axis];
  }
  return [gpu(out)];
}

function lowerGather(c: OpContext, b: ProgramBuilder, x: Vals): Vals {
  const a = gpuInput(c, b, x, 0, true);
  const indices = cpuInput(c, x, 1, 'indices');
  if (!indices) throw new FormatError(`${c.label}: Gather needs indices`);
  const { axis, idx } = gatherIndices(c, a.dims, indices);
  const outDims = [...a.dims.slice(0, axis), ...indices.dims, ...a.dims.slice(axis + 1)];
  const inner = prod(a.dims.slice(axis + 1));
  // One index, no leading dims: a view of that row (Silero's h and c out of its state).
  if (idx.length === 1 && prod(a.dims.slice(0, axis)) === 1) return [view({ ...a, offset: a.offset + idx[0] * inner }, outDims)];
  // Else a copy with the indices as a table along the gathered axis ([outer, n, inner] -> [outer, k, inner]).
  const outer = prod(a.dims.slice(0, axis));
  const flat = { ...a, dims: [outer, a.dims[axis], inner] };
  const out = copyInto(b, c.label, flat, [outer, idx.length, inner], (d) =>
    d === 1 ? { from: 1, start: 0, step: 0, table: idx } : { from: d, start: 0, step: 1 },
  );
  return [view(out, outDims)];
}

function lowerTranspose(c: OpContext, b: ProgramBuilder, x: Vals): Vals {
  const a = gpuInput(c, b, x, 0, true);
  const perm = transposePerm(c, a.dims.length);
  return [
    gpu(
      copyInto(
        b,
        c.label,
        a,
        perm.map((p) => a.dims[p]),
        (d) => ({ from: perm[d], start: 0, step: 1 }),
      ),
    ),
  ];
}

function lowerExpand(c: OpContext, b: ProgramBuilder, x: Vals): Vals {
  const a = gpuInput(c, b, x, 0);
  const shape = cpuInput(c, x, 1, 'shape');
  if (!shape) throw new FormatError(`${c.label}: Expand needs a shape`);
  const dims = broadcastDims(c, a.dims, intValues(shape, `${c.label} shape`));
  const out = b.temp(dims);
  const ss = broadcastStrides(dims, a.dims);
  const ds = stridesOf(dims);
  gatherStep(
    b,
    c.label,
    a,
    out,
    0,
    dims.map((extent, d) => ({
      extent,
      srcStride: ss[d],
      dstStride: ds[d],
      start: 0,
      step: ss[d] === 0 ? 0 : 1,
      srcExtent: Math.max(extent, 1),
    })),
  );
  return [gpu(out)];
}

// ---- Conv, reductions, MatMul/Gemm, Softmax ----

export interface ConvPlan {
  N: number;
  C: number;
  H: number;
  W: number;
  M: number;
  OH: number;
  OW: number;
  KH: number;
  KW: number;
  G: number;
  strides: [number, number];
  padBegin: [number, number];
  dilations: [number, number];
}

/** Conv's geometry from its attributes (auto_pad included), 1-D as 2-D of height 1. */
export function convPlan(c: OpContext, xDims: number[], wDims: number[]): ConvPlan {
  const rank = xDims.length;
  if (rank !== 3 && rank !== 4)
    throw new UnsupportedError(`${c.label}: Conv of a rank-${rank} input; 1-D and 2-D convolutions are supported`);
  if (wDims.length !== rank) throw new FormatError(`${c.label}: weights [${wDims.join(', ')}] do not match input rank ${rank}`);
  const sp = rank - 2;
  const G = c.attrs.int('group', 1);
  const [N, C] = xDims;
  const M = wDims[0];
  if (!(G >= 1) || C % G !== 0 || M % G !== 0 || wDims[1] * G !== C)
    throw new FormatError(`${c.label}: group ${G} does not fit input channels ${C} and weights [${wDims.join(', ')}]`);
  const kernel = c.attrs.ints('kernel_shape') ?? wDims.slice(2);
  if (kernel.length !== sp || kernel.some((k, i) => k !== wDims[2 + i]))
    throw new FormatError(`${c.label}: kernel_shape [${kernel.join(', ')}] does not match the weights [${wDims.join(', ')}]`);
  const strides = c.attrs.ints('strides') ?? new Array(sp).fill(1);
  const dil = c.attrs.ints('dilations') ?? new Array(sp).fill(1);
  if (strides.length !== sp || dil.length !== sp || [...strides, ...dil].some((v) => !(v >= 1)))
    throw new FormatError(`${c.label}: strides and dilations must be ${sp} positive values`);
  const autoPad = c.attrs.string('auto_pad', 'NOTSET');
  const inSp = xDims.slice(2);
  let pads = c.attrs.ints('pads') ?? new Array(2 * sp).fill(0);
  if (autoPad !== 'NOTSET') {
    if (autoPad === 'VALID') pads = new Array(2 * sp).fill(0);
    else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      pads = new Array(2 * sp).fill(0);
      inSp.forEach((d, i) => {
        const out = Math.ceil(d / strides[i]);
        const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - d);
        const small = Math.floor(total / 2);
        pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
        pads[i + sp] = total - pads[i];
      });
    } else throw new FormatError(`${c.label}: auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  }
  if (pads.length !== 2 * sp || pads.some((p) => p < 0)) throw new FormatError(`${c.label}: pads must be ${2 * sp} non-negative values`);
  const outSp = inSp.map((d, i) => Math.floor((d + pads[i] + pads[i + sp] - ((kernel[i] - 1) * dil[i] + 1)) / strides[i]) + 1);
  if (outSp.some((o) => o < 1))
    throw new FormatError(`${c.label}: the kernel [${kernel.join(', ')}] is larger than the padded input [${xDims.join(', ')}]`);
  const two = (v: number[], fill: number): [number, number] => (sp === 1 ? [fill, v[0]] : [v[0], v[1]]);
  const [OH, OW] = two(outSp, 1);
  const [H, W] = two(inSp, 1);
  const [KH, KW] = two(kernel, 1);
  return { N, C, H, W, M, OH, OW, KH, KW, G, strides: two(strides, 1), padBegin: two(pads.slice(0, sp), 0), dilations: two(dil, 1) };
}

/** The Conv dispatch; `magnitude` stores sqrt(re² + im²) of channel pairs (m, m + M/2). */
export function convStep(
  b: ProgramBuilder,
  label: string,
  p: ConvPlan,
  x: GpuValue,
  w: GpuValue,
  bias: GpuValue | undefined,
  outDims: number[],
  magnitude = false,
): GpuValue {
  const M = magnitude ? p.M / 2 : p.M;
  const out = b.temp(outDims);
  const n = p.N * M * p.OH * p.OW;
  const params = [
    n,
    p.C,
    p.H,
    p.W,
    M,
    p.OH,
    p.OW,
    p.KH,
    p.KW,
    p.G,
    p.strides[0],
    p.strides[1],
    p.padBegin[0],
    p.padBegin[1],
    p.dilations[0],
    p.dilations[1],
    x.offset,
    0,
    bias ? 1 : 0,
    p.M,
  ];
  if (w.offset !== 0 || (bias && bias.offset !== 0)) throw new UnsupportedError(`${label}: Conv weights must start their buffers`);
  b.kernel(
    label,
    'graph_conv',
    n,
    params,
    { x: x.slot, w: w.slot, bias: (bias ?? w).slot, out: out.slot },
    { MAGNITUDE: magnitude, ACT: 0, C_INNER: p.C / p.G > p.KW },
  );
  return out;
}

function lowerConv(c: OpContext, b: ProgramBuilder, x: Vals): Vals {
  const xv = gpuInput(c, b, x, 0);
  const w = gpuInput(c, b, x, 1);
  const bias = x[2] ? gpuInput(c, b, x, 2) : undefined;
  const p = convPlan(c, xv.dims, w.dims);
  if (bias && (bias.dims.length !== 1 || bias.dims[0] !== p.M))
    throw new FormatError(`${c.label}: bias has shape [${bias.dims.join(', ')}], expected [${p.M}]`);
  const outDims = xv.dims.length === 3 ? [p.N, p.M, p.OW] : [p.N, p.M, p.OH, p.OW];
  return [gpu(convStep(b, c.label, p, xv, w, bias, outDims))];
}

const IDENTITY_ON_ONE = new Set(['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd']);

function reduceOp(name: string): GpuOp {
  return {
    attributes: ['axes', 'keepdims', 'noop_with_empty_axes'],
    lower(c, b, x) {
      const a = gpuInput(c, b, x, 0);
      const rank = a.dims.length;
      const axesInput = name === 'ReduceSum' ? c.opset >= 13 : c.opset >= 18;
      let axes: number[] | undefined;
      if (axesInput) {
        const t = cpuInput(c, x, 1, 'axes');
        axes = t ? intValues(t, `${c.label} axes`) : undefined;
      } else axes = c.attrs.ints('axes');
      const keep = c.attrs.int('keepdims', 1) !== 0;
      // No axes: every axis, or none with noop_with_empty_axes (then each element is reduced alone,
      // which still applies ReduceL1's abs, ReduceSumSquare's square and so on, as ONNX Runtime does).
      if (!axes || axes.length === 0) axes = c.attrs.int('noop_with_empty_axes', 0) !== 0 ? [] : a.dims.map((_, i) => i);
      const red = new Set(axes.map((ax) => axisOf(c, ax, rank)));
      const outDimsOf = (keepDims: boolean) =>
        keepDims ? a.dims.map((d, i) => (red.has(i) ? 1 : d)) : a.dims.filter((_, i) => !red.has(i));
      // Reducing single elements by a sum, mean, max, min or product leaves them as they are: a view.
      if (IDENTITY_ON_ONE.has(name) && [...red].every((i) => a.dims[i] === 1)) return [view(a, outDimsOf(keep))];
      const strides = stridesOf(a.dims);
      const kept = a.dims.map((_, i) => i).filter((i) => !red.has(i));
      const reduced = [...red].sort((p, q) => p - q);
      const outDims = outDimsOf(keep);
      const out = b.temp(outDims);
      const n = prod(kept.map((i) => a.dims[i]));
      const params = [n, kept.length, reduced.length, a.offset, 0, prod(reduced.map((i) => a.dims[i]))];
      for (const i of kept) params.push(a.dims[i], strides[i]);
      for (const i of reduced) params.push(a.dims[i], strides[i]);
      b.kernel(c.label, 'graph_reduce', n, params, { src: a.slot, out: out.slot }, { OP: REDUCE_CODES[name] });
      return [gpu(out)];
    },
  };
}

function lowerMatMul(c: OpContext, b: ProgramBuilder, x: Vals): Vals {
  const a = gpuInput(c, b, x, 0);
  const m = gpuInput(c, b, x, 1);
  const ad = a.dims.length === 1 ? [1, a.dims[0]] : a.dims;
  const bd = m.dims.length === 1 ? [m.dims[0], 1] : m.dims;
  const [M, K] = ad.slice(-2);
  const [K2, N] = bd.slice(-2);
  if (ad.length < 2 || bd.length < 2 || K !== K2)
    throw new FormatError(`${c.label}: inner dimensions differ: cannot multiply [${a.dims.join(', ')}] by [${m.dims.join(', ')}]`);
  const batch = broadcastDims(c, ad.slice(0, -2), bd.slice(0, -2));
  const outFull = [...batch, M, N];
  const outDims = [...batch, ...(a.dims.length === 1 ? [] : [M]), ...(m.dims.length === 1 ? [] : [N])];
  const sa = broadcastStrides(batch, ad.slice(0, -2)).map((s) => s * M * K);
  const sb = broadcastStrides(batch, bd.slice(0, -2)).map((s) => s * K * N);
  return [gpu(matmulStep(b, c.label, { M, N, K, a, m, aM: K, aK: 1, bK: N, bN: 1, alpha: 1, batch, sa, sb }, outFull, outDims))];
}

interface MatmulArgs {
  M: number;
  N: number;
  K: number;
  a: GpuValue;
  m: GpuValue;
  aM: number;
  aK: number;
  bK: number;
  bN: number;
  alpha: number;
  batch: number[];
  sa: number[];
  sb: number[];
  c?: { v: GpuValue; sM: number; sN: number; beta: number };
}

function matmulStep(b: ProgramBuilder, label: string, g: MatmulArgs, fullDims: number[], outDims: number[]): GpuValue {
  const out = b.temp(outDims);
  const n = prod(fullDims);
  const params = [
    n,
    g.M,
    g.N,
    g.K,
    g.batch.length,
    g.a.offset,
    g.m.offset,
    g.c?.v.offset ?? 0,
    0,
    g.aM,
    g.aK,
    g.bK,
    g.bN,
    g.c?.sM ?? 0,
    g.c?.sN ?? 0,
    g.c ? 1 : 0,
    f32Bits(g.alpha),
    f32Bits(g.c?.beta ?? 0),
  ];
  g.batch.forEach((d, i) => params.push(d, g.sa[i], g.sb[i]));
  b.kernel(label, 'graph_matmul', n, params, { ma: g.a.slot, mb: g.m.slot, mc: (g.c?.v ?? g.a).slot, out: out.slot }, { ACT: 0 });
  return out;
}

function lowerGemm(c: OpContext, b: ProgramBuilder, x: Vals): Vals {
  const a = gpuInput(c, b, x, 0);
  const m = gpuInput(c, b, x, 1);
  if (a.dims.length !== 2 || m.dims.length !== 2)
    throw new FormatError(`${c.label}: A and B must be 2-D, got [${a.dims.join(', ')}] and [${m.dims.join(', ')}]`);
  const tA = c.attrs.int('transA', 0) !== 0;
  const tB = c.attrs.int('transB', 0) !== 0;
  const [M, K] = tA ? [a.dims[1], a.dims[0]] : a.dims;
  const [K2, N] = tB ? [m.dims[1], m.dims[0]] : m.dims;
  if (K !== K2) throw new FormatError(`${c.label}: inner dimensions differ (${K} and ${K2})`);
  const g: MatmulArgs = {
    M,
    N,
    K,
    a,
    m,
    aM: tA ? 1 : K,
    aK: tA ? M : 1,
    bK: tB ? 1 : N,
    bN: tB ? K : 1,
    alpha: c.attrs.float('alpha', 1),
    batch: [],
    sa: [],
    sb: [],
  };
  if (x[2]) {
    const cv = gpuInput(c, b, x, 2);
    const cd = cv.dims;
    if (cd.length > 2 || broadcastDims(c, [M, N], cd).some((d, i) => d !== [M, N][i]))
      throw new FormatError(`${c.label}: C of shape [${cd.join(', ')}] does not broadcast to [${M}, ${N}]`);
    const s = broadcastStrides([M, N], cd);
    g.c = { v: cv, sM: s[0], sN: s[1], beta: c.attrs.float('beta', 1) };
  }
  return [gpu(matmulStep(b, c.label, g, [M, N], [M, N]))];
}

function softmaxOp(log: boolean): GpuOp {
  return {
    attributes: ['axis'],
    lower(c, b, x) {
      const a = gpuInput(c, b, x, 0);
      const rank = a.dims.length;
      const axis = axisOf(c, c.attrs.int('axis', c.opset >= 13 ? -1 : 1), rank);
      const L = c.opset >= 13 ? a.dims[axis] : prod(a.dims.slice(axis));
      const inner = c.opset >= 13 ? prod(a.dims.slice(axis + 1)) : 1;
      const out = b.temp(a.dims);
      const n = prod(a.dims) / Math.max(L, 1);
      if (L > 0) b.kernel(c.label, 'graph_softmax', n, [n, L, inner, a.offset, 0], { src: a.slot, out: out.slot }, { LOG: log });
      return [gpu(out)];
    },
  };
}

/** Clip: one activation where the bounds are known on the CPU, else Max and Min against the bound tensors. */
function clipOp(): GpuOp {
  const known = (c: OpContext, x: Vals) => c.opset < 11 || ((!x[1] || !!x[1].cpu) && (!x[2] || !!x[2].cpu));
  const bounds = (c: OpContext, x: Vals): Activation =>
    c.opset < 11
      ? { code: ACT_CODES.Clip, alpha: c.attrs.float('min', -F32_MAX), beta: c.attrs.float('max', F32_MAX) }
      : { code: ACT_CODES.Clip, alpha: cpuScalar(c, x, 1, 'min', -F32_MAX), beta: cpuScalar(c, x, 2, 'max', F32_MAX) };
  return {
    attributes: ['min', 'max'],
    activation: (c, x) => (known(c, x) ? bounds(c, x) : { code: -1 }),
    lower(c, b, x) {
      let v = gpuInput(c, b, x, 0);
      if (known(c, x)) return [gpu(elementwise(b, c.label, v, undefined, 0, bounds(c, x)))];
      for (const [i, op, what] of [
        [1, 'Max', 'min'],
        [2, 'Min', 'max'],
      ] as const) {
        if (!x[i]) continue;
        const bound = gpuInput(c, b, x, i);
        if (prod(bound.dims) !== 1) throw new FormatError(`${c.label}: ${what} must be a scalar, got shape [${bound.dims.join(', ')}]`);
        v = elementwise(b, c.label, v, { ...bound, dims: [] }, BINARY_CODES[op], { code: 0 }, v.dims);
      }
      return [gpu(v)];
    },
  };
}

// ---- the table ----

const alias = (attributes: readonly string[], dims: (c: OpContext, v: GpuValue, x: Vals) => number[]): GpuOp => ({
  attributes,
  lower(c, b, x) {
    const v = gpuInput(c, b, x, 0, true);
    return [view(v, dims(c, v, x))];
  },
});

/** Squeeze's and Unsqueeze's axes, as the CPU ops read them (the input, else the attribute); the input must be known on the CPU. */
const axesArg = (c: OpContext, x: Vals) => axesOf(c, [undefined, cpuInput(c, x, 1, 'axes')]);

function castTo(c: OpContext): number {
  const to = c.attrs.int('to');
  if (to === undefined) throw new FormatError(`${c.label}: Cast needs a 'to' attribute`);
  return to;
}

export const GPU_OPS: Readonly<Record<string, GpuOp>> = {
  Identity: alias([], (_c, v) => v.dims),
  Dropout: {
    attributes: ['ratio', 'seed', 'is_test'],
    lower(c, b, x) {
      const v = gpuInput(c, b, x, 0);
      // Inference: the input passes through and the optional mask is all true.
      return [gpu(v), { cpu: { dims: v.dims, data: new Int32Array(prod(v.dims)).fill(1) } }];
    },
  },
  Cast: {
    attributes: ['to', 'saturate'],
    lower(c, b, x) {
      const v = gpuInput(c, b, x, 0, true);
      const to = castTo(c);
      if (isFloatType(to)) {
        if (v.int) throw new UnsupportedError(`${c.label}: Cast to float of an integer tensor computed on the GPU is not supported`);
        return [gpu(v)];
      }
      if (!isIntType(to)) throw new UnsupportedError(`${c.label}: Cast to ${typeName(to)} is not supported`);
      if (v.int && to !== DT.BOOL) return [gpu(v)];
      const code = to === DT.BOOL ? ACT_CODES.CastBool : ACT_CODES.CastInt;
      return [gpu({ ...elementwise(b, c.label, v, undefined, 0, { code }), int: true })];
    },
  },
  Shape: { attributes: ['start', 'end'], lower: (c, _b, x) => [{ cpu: shapeOf(c, dimsOf(needVal(c, x, 0))) }] },
  Size: { attributes: [], lower: (c, _b, x) => [{ cpu: { dims: [], data: new Int32Array([prod(dimsOf(needVal(c, x, 0)))]) } }] },
  Reshape: {
    attributes: ['allowzero'],
    lower(c, b, x) {
      const v = gpuInput(c, b, x, 0, true);
      const shape = cpuInput(c, x, 1, 'shape');
      if (!shape) throw new FormatError(`${c.label}: Reshape needs a shape`);
      return [view(v, reshapeDims(c, v.dims, intValues(shape, `${c.label} shape`), c.attrs.int('allowzero', 0) !== 0))];
    },
  },
  Flatten: alias(['axis'], (c, v) => flattenDims(c, v.dims)),
  Squeeze: alias(['axes'], (c, v, x) => squeezeDims(c, v.dims, axesArg(c, x))),
  Unsqueeze: alias(['axes'], (c, v, x) => unsqueezeDims(c, v.dims, axesArg(c, x))),
  Slice: { attributes: ['starts', 'ends', 'axes'], lower: lowerSlice },
  Concat: { attributes: ['axis'], lower: lowerConcat },
  Gather: { attributes: ['axis'], lower: lowerGather },
  Transpose: { attributes: ['perm'], lower: lowerTranspose },
  Expand: { attributes: [], lower: lowerExpand },
  Pad: { attributes: ['mode', 'pads', 'value'], lower: lowerPad },
  Conv: { attributes: ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'], lower: lowerConv },
  MatMul: { attributes: [], lower: lowerMatMul },
  Gemm: { attributes: ['alpha', 'beta', 'transA', 'transB'], lower: lowerGemm },
  Softmax: softmaxOp(false),
  LogSoftmax: softmaxOp(true),
  ...Object.fromEntries(Object.keys(REDUCE_CODES).map((n) => [n, reduceOp(n)])),
  Add: binaryOp(BINARY_CODES.Add),
  Sub: binaryOp(BINARY_CODES.Sub),
  Mul: binaryOp(BINARY_CODES.Mul),
  Div: binaryOp(BINARY_CODES.Div),
  Pow: binaryOp(BINARY_CODES.Pow),
  PRelu: binaryOp(BINARY_CODES.PRelu),
  Mod: {
    attributes: ['fmod'],
    lower(c, b, x) {
      if (c.attrs.int('fmod', 0) !== 1) throw new FormatError(`${c.label}: Mod of float tensors needs fmod = 1`);
      return binaryOp(BINARY_CODES.Mod).lower(c, b, x);
    },
  },
  Sum: variadic('Sum'),
  Mean: variadic('Mean'),
  Max: variadic('Max'),
  Min: variadic('Min'),
  Relu: unaryOp('Relu'),
  Sigmoid: unaryOp('Sigmoid'),
  Tanh: unaryOp('Tanh'),
  Exp: unaryOp('Exp'),
  Log: unaryOp('Log'),
  Sqrt: unaryOp('Sqrt'),
  Neg: unaryOp('Neg'),
  Abs: unaryOp('Abs'),
  Reciprocal: unaryOp('Reciprocal'),
  Floor: unaryOp('Floor'),
  Ceil: unaryOp('Ceil'),
  Softplus: unaryOp('Softplus'),
  Softsign: unaryOp('Softsign'),
  Sin: unaryOp('Sin'),
  Cos: unaryOp('Cos'),
  Round: unaryOp('Round'),
  Sign: unaryOp('Sign'),
  HardSwish: unaryOp('HardSwish'),
  LeakyRelu: unaryOp('LeakyRelu', ['alpha'], (c) => ({ alpha: c.attrs.float('alpha', 0.01) })),
  Elu: unaryOp('Elu', ['alpha'], (c) => ({ alpha: c.attrs.float('alpha', 1) })),
  HardSigmoid: unaryOp('HardSigmoid', ['alpha', 'beta'], (c) => ({ alpha: c.attrs.float('alpha', 0.2), beta: c.attrs.float('beta', 0.5) })),
  Clip: clipOp(),
};
