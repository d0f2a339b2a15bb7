// The batched split of session.scan: a stateful model's graph specialised once for a whole chunk of
// F frames, with the frame axis as the model's batch axis, except that its recurrent nodes run the
// F frames as one sequence of F·T steps (batch 1) from the carried state. Everything before them
// (Silero's STFT and encoder) and after them (its decoder) then runs in one dispatch per op for all
// frames; only the recurrence is sequential. graph.ts walks the graph; this file is what it asks
// in split mode: how values flow from the carried inputs and into the carried outputs, and the
// recurrent nodes' lowering.
//
// When it is right. Fed as a batch ([F, ...] rows with a state of batch F) the model computes F
// independent streams. Running it so is correct for a scan only if the state is nothing but the
// recurrent nodes' initial and final states: frame f+1's initial states must be exactly frame f's
// final states. That is proved here, per program, by following every element: each value that
// holds state (the carried inputs, the recurrent final states) carries a provenance code per
// element, computed by running the data-movement ops (Gather, Slice, Squeeze, Concat, ...) on the
// CPU over the codes. A code names a source element and the frame (batch index) it is valid for:
//  - a carried input holds the real state only in frame 0 (the chunk's first): it is uploaded there;
//  - a recurrent node's final c (and the final h of a stacked unit's inner layers) exists only for
//    the last frame, where the engine writes it; the last layer's h is valid for every frame (each
//    frame's last step of the sequence's Y);
// and the walk refuses (SplitRefused: scan takes the loop path and scanPlan says why) when a value
// that is not valid for every frame reaches arithmetic, a recurrent X, or a non-carried output;
// when a recurrent initial state is not frame 0 of a carried input; or when a carried output, in the
// last frame, is not the final state that the matching initial state starts from.
import { CPU_OPS } from './cpu/ops.js';
import { prod, type OpContext } from './cpu/op-context.js';
import { copyInto, type Val, type Vals } from './gpu/ops.js';
import type { GpuValue, ProgramBuilder } from './gpu/program.js';
import type { RecurrentNode } from './recurrent.js';
import type { Tensor } from './tensor.js';

/** Why a model cannot take the batched split (scan falls back to the loop path with this reason). */
export class SplitRefused extends Error {
  override readonly name = 'SplitRefused';
}

/** A batched program over this many frames would pass the memory bound: `frames` would fit. */
export class SplitTooLarge extends Error {
  override readonly name = 'SplitTooLarge';
  constructor(readonly frames: number) {
    super(`the batched program needs fewer frames per chunk (${frames} fit)`);
  }
}

/** A carried input of a split program: its per-frame dims and which of them is the batch axis. */
export interface SplitCarry {
  input: string;
  output: string;
  frameDims: number[];
  batchAxis: number;
}

export interface SplitSetup {
  /** Frames in this chunk: the batch of every op outside the recurrent nodes. */
  frames: number;
  carried: SplitCarry[];
}

/** Ops that only move elements: state may pass through them (their provenance codes follow it). */
const MOVES: Readonly<Record<string, 'first' | 'all'>> = {
  Identity: 'first',
  Dropout: 'first',
  Cast: 'first',
  Reshape: 'first',
  Flatten: 'first',
  Squeeze: 'first',
  Unsqueeze: 'first',
  Gather: 'first',
  Slice: 'first',
  Transpose: 'first',
  Expand: 'first',
  Concat: 'all',
};

/** Where a source element is valid: frame 0 only, the last frame only, or every frame. */
type Validity = 'first' | 'last' | 'all';

interface Source {
  base: number;
  size: number;
  /** Batched dims and batch axis, to turn a flat index into (per-frame element, frame). */
  dims: number[];
  batchAxis: number;
  valid: Validity;
  what: string;
}

interface Decoded {
  source: number;
  element: number;
  frame: number;
}

/** One recurrent state the engine starts from: where it must come from and the final state it becomes. */
interface StateLink {
  final: number;
  /** Per-frame element -> the code of the carried element it starts from. */
  from: Int32Array;
  what: string;
}

export class SplitWalk {
  readonly frames: number;
  private readonly ids = new Map<string, Int32Array>();
  private readonly sources: Source[] = [];
  private readonly links: StateLink[] = [];
  private readonly carriedSource = new Map<string, number>();
  private next = 1;
  private recurrentSeen = false;

  constructor(private readonly setup: SplitSetup) {
    this.frames = setup.frames;
  }

  /**
   * A carried input as the batched graph sees it, [..., F, ...] along its batch axis: the stream's
   * per-frame value (the feed slot) copied into frame 0; the other frames are never read.
   */
  carriedInput(b: ProgramBuilder, name: string, feed: GpuValue): GpuValue {
    const c = this.setup.carried.find((x) => x.input === name)!;
    const dims = c.frameDims.map((d, i) => (i === c.batchAxis ? this.frames : d));
    const batched = b.temp(dims);
    const outer = prod(c.frameDims.slice(0, c.batchAxis));
    const inner = prod(c.frameDims.slice(c.batchAxis + 1));
    for (let o = 0; o < outer; o++) b.copy({ ...feed, offset: o * inner }, { ...batched, offset: o * this.frames * inner }, inner);
    this.ids.set(name, this.source(dims, c.batchAxis, 'first', `carried input '${name}'`));
    this.carriedSource.set(name, this.sources.length - 1);
    return batched;
  }

  /** Codes for a new source of `dims`: base + flat index. */
  private source(dims: number[], batchAxis: number, valid: Validity, what: string): Int32Array {
    const size = prod(dims);
    const base = this.next;
    this.next += size;
    this.sources.push({ base, size, dims, batchAxis, valid, what });
    return Int32Array.from({ length: size }, (_, i) => base + i);
  }

  private decode(code: number): Decoded {
    const source = this.sources.findIndex((s) => code >= s.base && code < s.base + s.size);
    const s = this.sources[source];
    const flat = code - s.base;
    const inner = prod(s.dims.slice(s.batchAxis + 1));
    const F = s.dims[s.batchAxis];
    const outerIndex = Math.floor(flat / (inner * F));
    const frame = Math.floor(flat / inner) % F;
    return { source, element: outerIndex * inner + (flat % inner), frame };
  }

  /** The source of the first code in `ids` that is not valid in every frame. */
  private partial(ids: Int32Array): { what: string } | undefined {
    for (const code of ids) {
      if (code === 0) continue;
      const s = this.sources[this.decode(code).source];
      if (s.valid !== 'all') return s;
    }
    return undefined;
  }

  private refuseIfPartial(name: string | undefined, where: string): void {
    const ids = name ? this.ids.get(name) : undefined;
    const p = ids && this.partial(ids);
    if (p) throw new SplitRefused(`${p.what} reaches ${where}, so the state does not only pass from recurrent node to recurrent node`);
  }

  /** After an If: its outputs are its branch's outputs. */
  alias(from: string, to: string): void {
    const ids = this.ids.get(from);
    if (ids) this.ids.set(to, ids);
  }

  /** After an op: data movement carries the codes along; anything else must see only whole values. */
  op(ctx: OpContext, x: Vals, outs: Vals): void {
    const node = ctx.node;
    const carrying = node.inputs.some((n) => n && this.ids.has(n));
    // Ops whose results are known on the CPU (Shape, Size) read no elements.
    if (!carrying || outs.every((v) => !v?.gpu)) return;
    const moves = MOVES[node.opType];
    if (!moves) {
      for (const n of node.inputs) this.refuseIfPartial(n, `${node.opType} ${ctx.label}`);
      return;
    }
    const inputs = node.inputs.map((n, i): Tensor | undefined => {
      const v = x[i];
      if (!v) return undefined;
      const data = i === 0 || moves === 'all';
      if (!data) return v.cpu;
      const dims = v.gpu ? v.gpu.dims : v.cpu!.dims;
      return { dims, data: this.ids.get(n) ?? new Int32Array(prod(dims)) };
    });
    const codes = node.opType === 'Cast' || node.opType === 'Dropout' ? [inputs[0]] : CPU_OPS[node.opType].run(ctx, inputs);
    node.outputs.forEach((o, k) => {
      const t = codes[k];
      if (o && t && outs[k]?.gpu && k === 0) this.ids.set(o, t.data instanceof Int32Array ? t.data : Int32Array.from(t.data));
    });
  }

  carries(input: string): boolean {
    return this.setup.carried.some((c) => c.input === input);
  }

  /** A recurrent unit's X must hold whole values (no state). */
  recurrentInput(r: RecurrentNode, name: string): void {
    this.recurrentSeen = true;
    if (r.options.direction !== 'forward')
      throw new SplitRefused(`${r.label} runs ${r.options.direction}, and only a forward recurrence continues from frame to frame`);
    this.refuseIfPartial(name, `the input X of ${r.label}`);
  }

  /**
   * Layer l's initial state ([D, F, H] or batch-major [F, D, H], D = 1): frame 0 of a carried input,
   * element by element; returns its frame-0 part (the first H elements) as the engine's [1, 1, H],
   * and the number that finalState() links the final state to.
   */
  initialState(
    r: RecurrentNode,
    name: string | undefined,
    v: GpuValue | undefined,
    H: number,
    what: string,
  ): { link: number; value: GpuValue } {
    const ids = name ? this.ids.get(name) : undefined;
    if (!ids || !v)
      throw new SplitRefused(`${what} of ${r.label} is not taken from a carried input, so each frame would start the recurrence afresh`);
    const from = ids.slice(0, H);
    for (const code of from) {
      const d = code === 0 ? undefined : this.decode(code);
      if (!d || this.sources[d.source].valid !== 'first' || d.frame !== 0)
        throw new SplitRefused(`${what} of ${r.label} is not, element by element, the carried state`);
    }
    this.links.push({ final: -1, from, what: `${what} of ${r.label}` });
    return { link: this.links.length - 1, value: { slot: v.slot, offset: v.offset, dims: [1, 1, H] } };
  }

  /**
   * Registers a final state the engine computes (batched dims, batch axis, where it is valid) under
   * the value `name`, and, where `link` is given, as what that initial state (initialState's
   * number) becomes.
   */
  finalState(name: string, dims: number[], batchAxis: number, valid: Validity, what: string, link?: number): void {
    const ids = this.source(dims, batchAxis, valid, what);
    if (name) this.ids.set(name, ids);
    if (link !== undefined) this.links[link].final = this.sources.length - 1;
  }

  /**
   * The graph's outputs: non-carried ones must be whole values; each carried one is cut to its last
   * frame (a per-frame value, what the stream keeps) after checking that, element by element, it is
   * the final state that the matching initial state came from.
   */
  outputs(b: ProgramBuilder, names: string[], outputs: Val[]): Val[] {
    if (!this.recurrentSeen) throw new SplitRefused('the graph has no recurrent node to run over the frames');
    return outputs.map((v, i) => {
      const name = names[i];
      const carry = this.setup.carried.find((c) => c.output === name);
      if (!carry) {
        this.refuseIfPartial(name, `the output '${name}'`);
        // scan stacks a batched output as [F, 1, ...]: its rows must be the frames.
        if (!v.gpu || v.gpu.dims[0] !== this.frames)
          throw new SplitRefused(`the output '${name}' does not lead with the frames (its first axis is not the batch)`);
        return v;
      }
      if (!v.gpu) throw new SplitRefused(`the carried output '${name}' is not computed on the GPU`);
      const batched = carry.frameDims.map((d, k) => (k === carry.batchAxis ? this.frames : d));
      if (v.gpu.dims.join() !== batched.join())
        throw new SplitRefused(
          `the carried output '${name}' has shape [${v.gpu.dims.join(', ')}] over the frames, not [${batched.join(', ')}]`,
        );
      this.checkCarried(carry, this.ids.get(name) ?? new Int32Array(prod(batched)));
      const last = copyInto(b, `scan: '${name}' of the last frame`, v.gpu, carry.frameDims, (d) => ({
        from: d,
        start: d === carry.batchAxis ? this.frames - 1 : 0,
        step: 1,
      }));
      return { gpu: last };
    });
  }

  private checkCarried(carry: SplitCarry, ids: Int32Array): void {
    const inputSource = this.carriedSource.get(carry.input)!;
    const inner = prod(carry.frameDims.slice(carry.batchAxis + 1));
    const F = this.frames;
    // The last frame's code of each per-frame element of the carried output.
    const last = (j: number) => ids[(Math.floor(j / inner) * F + F - 1) * inner + (j % inner)];
    const n = prod(carry.frameDims);
    for (let j = 0; j < n; j++) {
      const code = last(j);
      if (code === 0) continue;
      const d = this.decode(code);
      const s = this.sources[d.source];
      if (s.valid === 'first' || d.frame !== F - 1)
        throw new SplitRefused(`the carried output '${carry.output}' takes ${s.what} from another frame than the last`);
    }
    for (const link of this.links)
      link.from.forEach((code, e) => {
        const d = this.decode(code);
        if (d.source !== inputSource) return;
        const got = last(d.element);
        const g = got === 0 ? undefined : this.decode(got);
        if (!g || g.source !== link.final || g.element !== e)
          throw new SplitRefused(
            `${link.what} starts from element ${d.element} of '${carry.input}', but '${carry.output}' does not put that state's final value there`,
          );
      });
  }
}

/** A recurrent unit's sequence in a split: F frames of T steps each, H units, its layout. */
export interface FrameSequence {
  T: number;
  F: number;
  H: number;
  batchMajor: boolean;
}

/** Time-major X [T, F, I] -> the sequence order [F, T, I] (frame after frame); batch-major X is that already. */
export function framesInOrder(b: ProgramBuilder, label: string, x: GpuValue, batchMajor: boolean): GpuValue {
  const [T, F, I] = x.dims;
  if (batchMajor || T === 1) return x;
  return copyInto(b, `${label}: frames in order`, x, [F, T, I], (d) => ({ from: [1, 0, 2][d], start: 0, step: 1 }));
}

/**
 * The engine's output over the sequence of F·T steps ([F·T, 1, 1, H]) as the batched graph's Y:
 * time-major [T, 1, F, H] (a transpose when T > 1), batch-major [F, T, 1, H] (the same memory).
 */
export function sequenceAsFrames(b: ProgramBuilder, label: string, y: GpuValue, seq: FrameSequence): GpuValue {
  const { T, F, H, batchMajor } = seq;
  if (batchMajor) return { ...y, dims: [F, T, 1, H] };
  if (T === 1) return { ...y, dims: [1, 1, F, H] };
  const asFrames = { ...y, dims: [F, T, H] };
  const out = copyInto(b, `${label}: steps by frame`, asFrames, [T, F, H], (d) => ({ from: [1, 0, 2][d], start: 0, step: 1 }));
  return { ...out, dims: [T, 1, F, H] };
}

/** Each frame's last step of the sequence's Y: the last layer's Y_h for every frame, [1, F, H] (batch-major [F, 1, H]). */
export function lastStepOfFrames(b: ProgramBuilder, label: string, y: GpuValue, seq: FrameSequence): GpuValue {
  const { T, F, H, batchMajor } = seq;
  const dims = batchMajor ? [F, 1, H] : [1, F, H];
  if (T === 1) return { ...y, dims };
  const asFrames = { ...y, dims: [F, T, H] };
  const out = copyInto(b, `${label}: last step of each frame`, asFrames, [F, 1, H], (d) => ({
    from: d,
    start: d === 1 ? T - 1 : 0,
    step: 1,
  }));
  return { ...out, dims };
}

/** A final state the engine wrote ([1, H] at `at`) placed in the last frame of a batched [1, F, H] (batch-major [F, 1, H]). */
export function inLastFrame(b: ProgramBuilder, at: GpuValue, F: number, H: number, batchMajor: boolean): GpuValue {
  const out = b.temp(batchMajor ? [F, 1, H] : [1, F, H]);
  b.copy(at, { ...out, offset: (F - 1) * H }, H);
  return out;
}
