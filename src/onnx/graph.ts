// Specialising a prepared ONNX model (load.ts) for one combination of feed shapes and integer feed
// values: a walk over the units that evaluates every integer and shape computation on the CPU
// (Shape, Equal, Not, Cast of integers, the If conditions: each If inlines the branch its condition
// picks) and turns every float tensor op into GPU steps (gpu/ops.ts) with static shapes, recorded
// into one ProgramBuilder (gpu/program.ts). session.ts caches the result per combination.
//
// Float feeds are GPU values (their data changes from run to run; only their dims are part of the
// combination), except feeds that a recurrent node takes directly as weights: those are read on the
// CPU and the program is rebuilt for every run (`perRun`).
import { FormatError, UnsupportedError } from '../core/errors.js';
import { hasCellState } from '../model/cells.js';
import type { Rnn } from '../run/api.js';
import { createRnn } from '../run/create.js';
import { CPU_OPS } from './cpu/ops.js';
import { GPU_OPS, gpuInput, type Val, type Vals } from './gpu/ops.js';
import type { GpuValue, ProgramBuilder } from './gpu/program.js';
import { Scope, type PreparedGraph, type Unit } from './load.js';
import { framesInOrder, inLastFrame, lastStepOfFrames, sequenceAsFrames, SplitRefused, type SplitWalk } from './split.js';
import { IN, recurrentSpec, recurrentWeights, sequenceLens, type RecurrentNode, type RecurrentWeights } from './recurrent.js';
import { isFloat, type Tensor } from './tensor.js';

export interface Specialized {
  /** The graph outputs, by position: on the GPU (read back by the run) or known on the CPU. */
  outputs: Val[];
  /** Float feeds by name -> their GPU slots. */
  feeds: Map<string, GpuValue>;
  /** Engine models made for this program (recurrent weights that were not constant at load). */
  owned: Rnn[];
}

type RecurrentUnit = Extract<Unit, { kind: 'recurrent' }>;

/** Walks the model's graph with the feeds given (float ones as GPU values, the rest on the CPU). */
export async function specialize(
  device: GPUDevice,
  graph: PreparedGraph,
  feeds: Map<string, Val>,
  b: ProgramBuilder,
  split?: SplitWalk,
): Promise<Specialized> {
  const owned: Rnn[] = [];
  const vals = new Scope<Val>();
  const feedSlots = new Map<string, GpuValue>();
  for (const [name, v] of feeds) {
    vals.set(name, v);
    if (v.gpu) feedSlots.set(name, v.gpu);
    // A scan's batched split: a carried input is its feed (one frame's state) placed in frame 0.
    if (v.gpu && split?.carries(name)) vals.set(name, { gpu: split.carriedInput(b, name, v.gpu) });
  }
  try {
    const outputs = await walk(device, graph, vals, b, owned, new Set(graph.outputs), split);
    return { outputs: split ? split.outputs(b, graph.outputs, outputs) : outputs, feeds: feedSlots, owned };
  } catch (e) {
    for (const r of owned) r.destroy();
    throw e;
  }
}

async function walk(
  device: GPUDevice,
  g: PreparedGraph,
  vals: Scope<Val>,
  b: ProgramBuilder,
  owned: Rnn[],
  graphOutputs: Set<string>,
  split?: SplitWalk,
): Promise<Val[]> {
  const lookup = (name: string, user: string): Val => {
    const v = vals.get(name);
    if (v) return v;
    const t = g.constants.get(name);
    if (t) return { cpu: t };
    throw new FormatError(`${user}: value '${name}' is used before it is computed (an optional output that was not produced)`);
  };
  for (const u of g.units) {
    if (u.kind === 'if') {
      const cond = lookup(u.node.inputs[0], u.label);
      if (!cond.cpu)
        throw new UnsupportedError(
          `${u.label}: its condition is computed on the GPU from float data; the importer chooses If branches before a run, from shapes and integer inputs`,
        );
      if (cond.cpu.data.length !== 1)
        throw new FormatError(`${u.label}: the condition must hold one element, got shape [${cond.cpu.dims.join(', ')}]`);
      const branch = cond.cpu.data[0] !== 0 ? u.thenBranch : u.elseBranch;
      const inner = new Scope<Val>(vals);
      const outs = await walk(device, branch, inner, b, owned, new Set(branch.outputs), split);
      u.node.outputs.forEach((o, k) => {
        if (o) vals.set(o, outs[k]);
        if (o) split?.alias(branch.outputs[k], o);
      });
      continue;
    }
    if (u.kind === 'recurrent') {
      await lowerRecurrent(device, u, (n, who) => lookup(n, who), vals, b, owned, split);
      continue;
    }
    const x: Vals = u.node.inputs.map((n) => (n ? lookup(n, u.ctx.label) : undefined));
    const op = u.node.opType;
    let outs: Vals;
    if (x.every((v) => !v || v.cpu) && Object.hasOwn(CPU_OPS, op)) {
      outs = CPU_OPS[op]
        .run(
          u.ctx,
          x.map((v) => v?.cpu),
        )
        .map((t) => (t ? { cpu: t } : undefined));
    } else if (Object.hasOwn(GPU_OPS, op)) {
      const gop = GPU_OPS[op];
      // An activation whose input is the whole output of a kernel that can apply it, and nothing
      // else reads: applied by that kernel (Conv+Relu, Conv+Sigmoid, MatMul+Tanh: one dispatch).
      const input = x[0];
      const only = u.node.inputs[0] && g.consumers.get(u.node.inputs[0]) === 1 && !graphOutputs.has(u.node.inputs[0]);
      const act = gop.activation && input?.gpu && only ? gop.activation(u.ctx, x) : undefined;
      if (act && input?.gpu && b.fuseActivation(input.gpu, act)) outs = [input];
      else outs = gop.lower(u.ctx, b, x);
    } else {
      const onGpu = u.node.inputs.filter((n, i) => n && x[i]?.gpu);
      throw new UnsupportedError(
        `${u.ctx.label}: ${op} of a float tensor computed on the GPU (${onGpu.map((n) => `'${n}'`).join(', ')}) is not supported; the importer runs it on the CPU only on values known before the run`,
      );
    }
    split?.op(u.ctx, x, outs);
    u.node.outputs.forEach((o, k) => {
      const v = outs[k];
      if (o && v) vals.set(o, v);
    });
  }
  return g.outputs.map((o) => lookup(o, 'the graph output'));
}

async function lowerRecurrent(
  device: GPUDevice,
  u: RecurrentUnit,
  lookup: (name: string, user: string) => Val,
  vals: Scope<Val>,
  b: ProgramBuilder,
  owned: Rnn[],
  split?: SplitWalk,
): Promise<void> {
  const first = u.layers[0];
  const last = u.layers[u.layers.length - 1];
  const L = u.layers.length;
  const D = first.directions;
  const opt = (r: RecurrentNode, i: number) => (r.input(i) ? lookup(r.input(i), r.label) : undefined);
  let weights = u.weights;
  let rnn = u.rnn;
  if (!weights || !rnn) {
    weights = u.layers.map((r) => recurrentWeights(r, (n) => cpuWeight(r, n, lookup(n, r.label))));
    rnn = await createRnn(
      device,
      recurrentSpec(first, weights[0], L),
      weights.map((w) => w.weights),
    );
    owned.push(rnn);
  }
  const w0: RecurrentWeights = weights[0];
  const H = w0.hiddenSize;
  const ctx = { label: first.label, node: first.node } as Parameters<typeof gpuInput>[0];
  const x = gpuInput(ctx, b, [opt(first, IN.X)], 0);
  const want = first.batchMajor ? '[batch, seq_length, input_size]' : '[seq_length, batch, input_size]';
  if (x.dims.length !== 3 || x.dims[2] !== w0.inputSize)
    throw new FormatError(`${first.label}: X has shape [${x.dims.join(', ')}], expected ${want} with input_size ${w0.inputSize}`);
  const [T, B] = first.batchMajor ? [x.dims[1], x.dims[0]] : [x.dims[0], x.dims[1]];
  const seq = opt(first, IN.SEQ);
  if (seq && !seq.cpu) throw new UnsupportedError(`${first.label}: sequence_lens computed on the GPU is not supported`);
  const lens = seq ? sequenceLens(first, seq.cpu, B) : undefined;
  if (split) {
    if (lens?.some((n) => n !== T)) throw new SplitRefused(`${first.label} has sequence_lens shorter than its frames`);
    encodeOverFrames(u, rnn, x, T, B, H, opt, vals, b, split);
    return;
  }
  const stateDims = first.batchMajor ? [B, D, H] : [D, B, H];
  const per = D * B * H;
  // Initial states: each layer's, checked, gathered into the engine's [L·D, B, H] (absent ones stay zero).
  const initial = (k: number, what: string): number | undefined => {
    const parts = u.layers.map((r) => opt(r, k));
    if (parts.every((p) => !p)) return undefined;
    const values = parts.map((p, l) => {
      if (!p) return undefined;
      const dims = p.gpu ? p.gpu.dims : p.cpu!.dims;
      if (p.cpu && !isFloat(p.cpu)) throw new FormatError(`${u.layers[l].label}: ${what} must be a float tensor`);
      if (dims.length !== 3 || dims.some((d, i) => d !== stateDims[i]))
        throw new FormatError(`${u.layers[l].label}: ${what} has shape [${dims.join(', ')}], expected [${stateDims.join(', ')}]`);
      return gpuInput(ctx, b, [p], 0);
    });
    if (L === 1) return b.whole(values[0]!);
    const all = b.temp([L * D, B, H]);
    values.forEach((v, l) => {
      if (v) b.copy(v, { ...all, offset: l * per }, per);
    });
    return all.slot;
  };
  const initialH = initial(IN.H0, 'initial_h');
  const initialC = hasCellState(first) ? initial(IN.C0, 'initial_c') : undefined;
  const Y = b.temp(first.batchMajor ? [B, T, D, H] : [T, D, B, H]);
  const Y_h = b.temp(L === 1 ? stateDims : [L * D, B, H]);
  const Y_c = hasCellState(first) ? b.temp(L === 1 ? stateDims : [L * D, B, H]) : undefined;
  b.encode({
    label: first.label,
    rnn,
    seqLen: T,
    batch: B,
    sequenceLens: lens,
    x: b.whole(x),
    initialH,
    initialC,
    Y: Y.slot,
    Y_h: Y_h.slot,
    Y_c: Y_c?.slot,
  });
  if (last.output(0)) vals.set(last.output(0), { gpu: Y });
  u.layers.forEach((r, l) => {
    const part = (v: GpuValue): Val => ({ gpu: { slot: v.slot, offset: l * per, dims: stateDims } });
    if (r.output(1)) vals.set(r.output(1), part(Y_h));
    if (r.output(2) && Y_c) vals.set(r.output(2), part(Y_c));
  });
}

/**
 * A scan's batched split (split.ts): the unit runs the B = F frames of X as one sequence of F·T
 * steps of batch 1, from frame 0 of the carried initial states; its outputs take the batched
 * graph's shapes (Y for every frame, the last layer's Y_h as each frame's last step, the other
 * final states in the last frame only).
 */
function encodeOverFrames(
  u: RecurrentUnit,
  rnn: Rnn,
  x: GpuValue,
  T: number,
  F: number,
  H: number,
  opt: (r: RecurrentNode, i: number) => Val | undefined,
  vals: Scope<Val>,
  b: ProgramBuilder,
  split: SplitWalk,
): void {
  const first = u.layers[0];
  const L = u.layers.length;
  const bm = first.batchMajor;
  split.recurrentInput(first, first.input(IN.X));
  if (F !== split.frames) throw new SplitRefused(`${first.label} has a batch of ${F}, not the ${split.frames} frames`);
  const stateDims = bm ? [F, 1, H] : [1, F, H];
  const initial = (k: number, what: string) => {
    for (const r of u.layers) {
      const v = opt(r, k)?.gpu;
      if (v && v.dims.join() !== stateDims.join())
        throw new FormatError(`${r.label}: ${what} has shape [${v.dims.join(', ')}], expected [${stateDims.join(', ')}]`);
    }
    const parts = u.layers.map((r) => split.initialState(r, r.input(k) || undefined, opt(r, k)?.gpu, H, what));
    if (L === 1) return { slot: b.whole(parts[0].value), links: [parts[0].link] };
    const all = b.temp([L, 1, H]);
    parts.forEach((p, l) => b.copy(p.value, { ...all, offset: l * H }, H));
    return { slot: all.slot, links: parts.map((p) => p.link) };
  };
  const h0 = initial(IN.H0, 'initial_h');
  const c0 = hasCellState(first) ? initial(IN.C0, 'initial_c') : undefined;
  const steps = F * T;
  const Y = b.temp([steps, 1, 1, H]);
  const Y_h = b.temp([L, 1, H]);
  const Y_c = c0 ? b.temp([L, 1, H]) : undefined;
  b.encode({
    label: first.label,
    rnn,
    seqLen: steps,
    batch: 1,
    x: b.whole(framesInOrder(b, first.label, x, bm)),
    initialH: h0.slot,
    initialC: c0?.slot,
    Y: Y.slot,
    Y_h: Y_h.slot,
    Y_c: Y_c?.slot,
  });
  const last = u.layers[L - 1];
  if (last.output(0)) vals.set(last.output(0), { gpu: sequenceAsFrames(b, first.label, Y, { T, F, H, batchMajor: bm }) });
  const batchAxis = bm ? 0 : 1;
  const dims = stateDims;
  u.layers.forEach((r, l) => {
    const hName = r.output(1);
    if (l === L - 1) {
      const hv = lastStepOfFrames(b, first.label, Y, { T, F, H, batchMajor: bm });
      if (hName) vals.set(hName, { gpu: hv });
      split.finalState(hName, dims, batchAxis, 'all', `the final h of ${r.label}`, h0.links[l]);
    } else {
      if (hName) vals.set(hName, { gpu: inLastFrame(b, { ...Y_h, offset: l * H, dims: [1, H] }, F, H, bm) });
      split.finalState(hName, dims, batchAxis, 'last', `the final h of ${r.label}`, h0.links[l]);
    }
    if (c0 && Y_c) {
      const cName = r.output(2);
      if (cName) vals.set(cName, { gpu: inLastFrame(b, { ...Y_c, offset: l * H, dims: [1, H] }, F, H, bm) });
      split.finalState(cName, dims, batchAxis, 'last', `the final c of ${r.label}`, c0.links[l]);
    }
  });
}

/** A recurrent weight that was not constant at load: it must still be known on the CPU (a fed weight). */
function cpuWeight(r: RecurrentNode, name: string, v: Val): Tensor {
  if (v.cpu) return v.cpu;
  throw new UnsupportedError(
    `${r.label}: weight '${name}' is computed on the GPU; recurrent weights must be constants, folded from constants, or fed directly as graph inputs`,
  );
}

/** The float graph inputs that recurrent nodes take directly as weights (read on the CPU, per run). */
export function weightFeeds(g: PreparedGraph, inputs: Set<string>): Set<string> {
  const out = new Set<string>();
  const visit = (pg: PreparedGraph) => {
    for (const u of pg.units) {
      if (u.kind === 'if') {
        visit(u.thenBranch);
        visit(u.elseBranch);
      } else if (u.kind === 'recurrent' && !u.weights) {
        for (const r of u.layers) for (const k of [IN.W, IN.R, IN.B, IN.P]) if (inputs.has(r.input(k))) out.add(r.input(k));
      }
    }
  };
  visit(g);
  return out;
}

/** Every recurrent unit of the model, branches included (session.ts prebuilds their engine models). */
export function recurrentUnits(g: PreparedGraph): RecurrentUnit[] {
  return g.units.flatMap((u) =>
    u.kind === 'recurrent' ? [u] : u.kind === 'if' ? [...recurrentUnits(u.thenBranch), ...recurrentUnits(u.elseBranch)] : [],
  );
}
