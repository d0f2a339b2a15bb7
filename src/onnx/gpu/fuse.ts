// Peephole fusions over a specialised program's steps, after graph.ts has lowered every node (so
// they see dispatches and buffers, not ONNX nodes): chains that would otherwise be separate
// dispatches become one. Each applies only where the intermediate buffers are read by nothing else
// and are not program outputs (`keep`).
// - The STFT magnitude (Silero's front end): a Conv with 2M output channels, then x² of its first
//   and of its last M channels (views of the conv's buffer), their sum, and Sqrt (fused into the
//   sum): the conv computes sqrt(re² + im²) itself (graph_conv.wgsl MAGNITUDE).
// - An activation before a Conv (Silero's decoder Relu): the conv applies it as it reads (PRE_ACT).
import { stridesOf } from '../cpu/op-context.js';
import { ACT_CODES, BINARY_CODES } from './codes.js';
import { NO_TABLE } from './ops.js';
import type { KernelStep, ProgramBuilder } from './program.js';

/** Applies every fusion; `keep` holds the slots whose contents the run reads or carries. */
export function fuseSteps(b: ProgramBuilder, keep: Set<number>): void {
  fuseMagnitude(b, keep);
  fusePreActivation(b, keep);
  convTiles(b);
  convPositionsByFour(b);
}

/**
 * Whether a conv's last output row or column reads past the end of x (a pad after): its last tap
 * lands at (OH - 1)·stride + (K - 1)·dil - pad_begin.
 */
function padsAfter(p: Uint32Array): boolean {
  const [H, W, OH, OW, KH, KW] = [p[2], p[3], p[5], p[6], p[7], p[8]];
  return (OH - 1) * p[10] + (KH - 1) * p[14] - p[12] >= H || (OW - 1) * p[11] + (KW - 1) * p[15] - p[13] >= W;
}

/** Output positions (N · OH · OW) from which a one-group conv runs as tiles (a batch of frames). */
const TILE_POSITIONS = 64;

/**
 * Batched one-group convs compute tiles of four channels × eight positions per invocation
 * (graph_conv_tile.wgsl): 12 reads per 32 multiply-adds where graph_conv makes 5 per 4. Small convs (one frame)
 * keep graph_conv, whose finer grid keeps more invocations busy.
 */
function convTiles(b: ProgramBuilder): void {
  for (const step of b.steps) {
    if (step.kind !== 'kernel' || step.kernel !== 'graph_conv' || step.params[9] !== 1) continue;
    const M = step.params[4];
    const positions = step.params[0] / M;
    if (positions < TILE_POSITIONS) continue;
    const { POS4: _, ...constants } = step.constants;
    const padded = step.params[12] !== 0 || step.params[13] !== 0 || padsAfter(step.params);
    step.kernel = 'graph_conv_tile';
    step.constants = { ...constants, PADDED: padded };
    step.count = Math.ceil(positions / 8) * Math.ceil(M / 4);
  }
}

/**
 * Convs whose output rows hold at least four positions compute four per invocation
 * (graph_conv.wgsl POS4): a quarter of the weight loads and loop trips. Decided after the fusions,
 * which rewrite a conv's element count.
 */
function convPositionsByFour(b: ProgramBuilder): void {
  for (const step of b.steps) {
    if (step.kind !== 'kernel' || step.kernel !== 'graph_conv') continue;
    const OW = step.params[6];
    if (OW < 4) continue;
    step.constants = { ...step.constants, POS4: true };
    step.count = (step.params[0] / OW) * Math.ceil(OW / 4);
  }
}

/** How many steps read each slot (kernel bindings other than `out`, copy sources, recurrent inputs). */
function readers(b: ProgramBuilder): Map<number, number> {
  const n = new Map<number, number>();
  const read = (slot: number | undefined) => {
    if (slot !== undefined) n.set(slot, (n.get(slot) ?? 0) + 1);
  };
  for (const s of b.steps) {
    // A step that binds one slot twice (graph_gather's pad_src defaults to its src) reads it once.
    if (s.kind === 'kernel')
      for (const slot of new Set(Object.entries(s.bindings).flatMap(([k, v]) => (k === 'out' ? [] : [v])))) read(slot);
    if (s.kind === 'copy') read(s.from.slot);
    if (s.kind === 'encode') for (const slot of [s.x, s.initialH, s.initialC]) read(slot);
  }
  return n;
}

/** An elementwise step with its parameter words decoded (graph_elementwise.wgsl's layout). */
function elementwise(s: KernelStep | undefined) {
  if (!s || s.kernel !== 'graph_elementwise') return undefined;
  const p = s.params;
  const rank = p[1];
  const dims = Array.from({ length: rank }, (_, d) => p[5 + 3 * d]);
  const plain = stridesOf(dims);
  return {
    step: s,
    count: p[0],
    aBase: p[2],
    bBase: p[3],
    outBase: p[4],
    aContiguous: dims.every((_, d) => p[6 + 3 * d] === plain[d] || dims[d] === 1),
    bContiguous: dims.every((_, d) => p[7 + 3 * d] === plain[d] || dims[d] === 1),
    binary: s.constants.BINARY === true,
    op: Number(s.constants.OP ?? 0),
    act: Number(s.constants.ACT ?? 0),
  };
}

function producerOf(b: ProgramBuilder, slot: number): KernelStep | undefined {
  let found: KernelStep | undefined;
  for (const s of b.steps) if (s.kind === 'kernel' && s.bindings.out === slot) found = s;
  return found;
}

function remove(b: ProgramBuilder, steps: KernelStep[]): void {
  for (const s of steps) b.steps.splice(b.steps.indexOf(s), 1);
}

function fuseMagnitude(b: ProgramBuilder, keep: Set<number>): void {
  for (const step of [...b.steps]) {
    const add = elementwise(step.kind === 'kernel' ? step : undefined);
    if (!add || !add.binary || add.op !== BINARY_CODES.Add || add.act !== ACT_CODES.Sqrt) continue;
    if (add.aBase !== 0 || add.bBase !== 0 || add.outBase !== 0 || !add.aContiguous || !add.bContiguous) continue;
    const squares = [add.step.bindings.a, add.step.bindings.b].map((slot) => elementwise(producerOf(b, slot)));
    const isSquare = (q: ReturnType<typeof elementwise>) => {
      if (!q || !q.binary || q.op !== BINARY_CODES.Pow || q.act !== 0 || !q.aContiguous || q.outBase !== 0 || q.count !== add.count)
        return false;
      const exponent = b.slots[q.step.bindings.b].data;
      return exponent?.length === 1 && exponent[0] === 2 && q.bBase === 0;
    };
    if (!squares.every(isSquare)) continue;
    const [re, im] = (squares as NonNullable<ReturnType<typeof elementwise>>[]).map((q) => halfOf(b, q.step.bindings.a, q.aBase));
    if (!re || !im || re.conv !== im.conv) continue;
    const conv = re.conv;
    if (conv.constants.MAGNITUDE || Number(conv.constants.ACT ?? 0) !== 0) continue;
    // Channels [0, M/2) and [M/2, M) of the conv's output are the two halves, each read once.
    const half = add.count;
    if (conv.params[0] !== 2 * half || conv.params[4] % 2 !== 0 || conv.params[17] !== 0) continue;
    if (re.half === im.half) continue;
    const r = readers(b);
    const only = (slot: number, n: number) => (r.get(slot) ?? 0) === n && !keep.has(slot);
    if (!only(conv.bindings.out, 2) || !squares.every((q) => only(q!.step.bindings.out, 1))) continue;
    if (re.slice && !only(re.slice.bindings.out, 1)) continue;
    if (im.slice && !only(im.slice.bindings.out, 1)) continue;
    // (The sum is symmetric: which operand read the real half does not matter.)
    conv.params = conv.params.slice();
    conv.params[0] = half;
    conv.params[4] = conv.params[4] / 2;
    conv.constants = { ...conv.constants, MAGNITUDE: true };
    conv.count = half;
    conv.bindings = { ...conv.bindings, out: add.step.bindings.out };
    remove(b, [...[re.slice, im.slice].filter((g) => g !== undefined), ...squares.map((q) => q!.step), add.step]);
  }
}

/**
 * Which half of a conv's output channels `slot` (from element `base`) holds, if it is one: a view of
 * the conv's buffer (one frame: the halves are its two contiguous halves), or a Slice of it along the
 * channels (a batch of frames: graph_gather copying [N, M/2, OH·OW] out of [N, M, OH·OW]).
 */
function halfOf(b: ProgramBuilder, slot: number, base: number): { conv: KernelStep; half: 0 | 1; slice?: KernelStep } | undefined {
  const direct = producerOf(b, slot);
  if (direct?.kernel === 'graph_conv') {
    const p = direct.params;
    if (p[0] / p[4] !== p[5] * p[6]) return undefined; // one frame only
    const half = p[0] / 2;
    return base === 0 ? { conv: direct, half: 0 } : base === half ? { conv: direct, half: 1 } : undefined;
  }
  if (direct?.kernel !== 'graph_gather' || base !== 0 || Number(direct.constants.PAD_MODE ?? 0) !== 0) return undefined;
  const conv = producerOf(b, direct.bindings.src);
  if (conv?.kernel !== 'graph_conv') return undefined;
  const g = direct.params;
  const rank = g[1];
  if (g[2] !== 0 || g[3] !== 0) return undefined;
  const dims = Array.from({ length: rank }, (_, d) => {
    const at = 5 + 7 * d;
    return { extent: g[at], srcStride: g[at + 1], dstStride: g[at + 2], start: g[at + 3] | 0, step: g[at + 4] | 0, table: g[at + 6] };
  });
  const plain = stridesOf(dims.map((d) => d.extent));
  if (dims.some((d, k) => d.table !== NO_TABLE || d.step !== 1 || d.start < 0 || (d.dstStride !== plain[k] && d.extent > 1)))
    return undefined;
  // The copy as (extent, source stride) runs, merged where contiguous, against [N, M/2, OH·OW] read
  // with the conv's strides [M·OH·OW, OH·OW, 1] from channel 0 or M/2.
  const M = conv.params[4];
  const Q = conv.params[5] * conv.params[6];
  const N = conv.params[0] / (M * Q);
  const offset = dims.reduce((o, d) => o + d.start * d.srcStride, 0);
  const half = offset === 0 ? 0 : offset === (M / 2) * Q ? 1 : undefined;
  if (half === undefined) return undefined;
  const runs = (pairs: [number, number][]) => {
    const out: [number, number][] = [];
    for (const [e, st] of pairs) {
      if (e === 1) continue;
      const last = out[out.length - 1];
      if (last && last[1] === st * e) {
        last[0] *= e;
        last[1] = st;
      } else out.push([e, st]);
    }
    return JSON.stringify(out);
  };
  const expected = runs([
    [N, M * Q],
    [M / 2, Q],
    [Q, 1],
  ]);
  return runs(dims.map((d) => [d.extent, d.srcStride])) === expected ? { conv, half, slice: direct } : undefined;
}

function fusePreActivation(b: ProgramBuilder, keep: Set<number>): void {
  for (const step of [...b.steps]) {
    if (step.kind !== 'kernel' || step.kernel !== 'graph_conv' || Number(step.constants.PRE_ACT ?? 0) !== 0) continue;
    const act = elementwise(producerOf(b, step.bindings.x));
    if (!act || act.binary || act.act !== ACT_CODES.Relu || !act.aContiguous || act.outBase !== 0) continue;
    const r = readers(b);
    if ((r.get(step.bindings.x) ?? 0) !== 1 || keep.has(step.bindings.x)) continue;
    // The activation's input must still hold the same values when the conv runs: nothing between writes it.
    const from = b.steps.indexOf(act.step);
    const to = b.steps.indexOf(step);
    const src = act.step.bindings.a;
    if (
      b.steps
        .slice(from + 1, to)
        .some(
          (s) =>
            (s.kind === 'kernel' && s.bindings.out === src) ||
            (s.kind === 'copy' && s.to.slot === src) ||
            (s.kind === 'encode' && [s.Y, s.Y_h, s.Y_c].includes(src)),
        )
    )
      continue;
    step.params = step.params.slice();
    step.params[16] = step.params[16] + act.aBase;
    step.constants = { ...step.constants, PRE_ACT: ACT_CODES.Relu };
    step.bindings = { ...step.bindings, x: src };
    remove(b, [act.step]);
  }
}
