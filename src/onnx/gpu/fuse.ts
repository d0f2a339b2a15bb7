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
import type { KernelStep, ProgramBuilder } from './program.js';

/** Applies every fusion; `keep` holds the slots whose contents the run reads or carries. */
export function fuseSteps(b: ProgramBuilder, keep: Set<number>): void {
  fuseMagnitude(b, keep);
  fusePreActivation(b, keep);
  convPositionsByFour(b);
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
    if (s.kind === 'kernel') for (const [name, slot] of Object.entries(s.bindings)) if (name !== 'out') read(slot);
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
    const [re, im] = squares as NonNullable<ReturnType<typeof elementwise>>[];
    const src = re.step.bindings.a;
    if (im.step.bindings.a !== src) continue;
    const conv = producerOf(b, src);
    if (!conv || conv.kernel !== 'graph_conv' || conv.constants.MAGNITUDE || Number(conv.constants.ACT ?? 0) !== 0) continue;
    // The conv's output, one batch row: channels [0, M/2) and [M/2, M) are the two halves.
    const half = add.count;
    if (conv.params[0] !== 2 * half || conv.params[4] % 2 !== 0 || conv.params[17] !== 0) continue;
    const offsets = [re.aBase, im.aBase].sort((p, q) => p - q);
    if (offsets[0] !== 0 || offsets[1] !== half) continue;
    const r = readers(b);
    const only = (slot: number, n: number) => (r.get(slot) ?? 0) === n && !keep.has(slot);
    if (!only(src, 2) || !only(re.step.bindings.out, 1) || !only(im.step.bindings.out, 1)) continue;
    // Real parts first: swap if the sum read the imaginary half as its first operand (the sum is symmetric).
    conv.params = conv.params.slice();
    conv.params[0] = half;
    conv.params[4] = conv.params[4] / 2;
    conv.constants = { ...conv.constants, MAGNITUDE: true };
    conv.count = half;
    conv.bindings = { ...conv.bindings, out: add.step.bindings.out };
    remove(b, [re.step, im.step, add.step]);
  }
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
