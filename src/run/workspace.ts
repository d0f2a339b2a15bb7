// The workspace of a model's runs: the buffers a run of (seqLen, batch) needs (inputs, projections,
// sequences, states, uniforms, staging), grown to the largest run seen and never shrunk; the table
// of which buffer each WGSL binding name of each kernel aliases (bindingResources); and the bind
// groups, made once per workspace and checked against the kernels' reflected bindings.
import { paddedSize, storageBuffer, Usage, writeArray } from '../gpu/helpers.js';
import { checkBindings } from '../gpu/reflect.js';
import { bindGroupLayout } from '../kernels/pipelines.js';
import { kernelInfo, type KernelName } from '../kernels/sources.js';
import { hasCellState } from '../model/cells.js';
import type { Precision, ResolvedSpec } from '../model/types.js';
import { arrayLengths, projectionGates, runSizes, stateFloats, UNIFORM_BINDING, UNIFORM_SLOT, weightWords } from '../plan/layout.js';

/** The LSTM step kernels that, with a projection, write the unprojected m (bound at h_next) for the projection kernel. */
const PROJECTED_CELL_KERNELS: ReadonlySet<KernelName> = new Set(['lstm_step', 'lstm_direct', 'lstm_direct_quad', 'lstm_subgroup']);
/** The input projection kernels, whose dims are a layer's slot 0 (the step kernels' are slot 1). */
const INPUT_PROJECTION_KERNELS: ReadonlySet<KernelName> = new Set(['input_proj', 'input_gemv', 'input_gemv_quad']);

/** A layer's weight buffers, in the kernels' layouts (pack.ts). */
export interface LayerBuffers {
  wT: GPUBuffer;
  bias: GPUBuffer;
  rStep: GPUBuffer;
  peephole?: GPUBuffer;
  rbh?: GPUBuffer;
  wrT?: GPUBuffer;
}

/** What the workspace binds besides its own buffers: the model's weights and cell data. */
export interface ModelBuffers {
  device: GPUDevice;
  spec: ResolvedSpec;
  precision: Precision;
  layers: LayerBuffers[];
  /** Read-only data the cell's WGSL binds by name (model/cells.ts `buffers`). */
  cellBuffers: Record<string, GPUBuffer>;
  /** The stack kernel's weights, where the model can run it. */
  stack?: { weights: GPUBuffer; aux: GPUBuffer };
}

export interface Workspace {
  seqLen: number;
  batch: number;
  buffers: GPUBuffer[];
  x: GPUBuffer;
  xproj: GPUBuffer;
  /** Sequence outputs: [0], [1] alternate between inner layers; `y` is the last layer's. */
  sequences: GPUBuffer[];
  y: GPUBuffer;
  /** Per layer: the two ping-pong h buffers. */
  h: [GPUBuffer, GPUBuffer][];
  /** LSTM: every layer's c state, then (Depth-Gated LSTM) two c sequences, where cLayout says; one buffer, bound whole as `c`. */
  cAll?: GPUBuffer;
  scratch: GPUBuffer;
  seqLens: GPUBuffer;
  steps: GPUBuffer;
  dims: GPUBuffer;
  staging: GPUBuffer;
  /** Bind groups by `layer|kernel|parity`, made when a plan first needs them. */
  bindGroups: Map<string, GPUBindGroup>;
  /** The stack kernel's packed state for run() (h [L, B, Hout], then c [L, B, H]), where the model has the stack kernel. */
  stackState?: GPUBuffer;
  /** The stack kernel's bind group per state buffer (ws.stackState, or a stream's, bound in place). */
  stackGroups: WeakMap<GPUBuffer, GPUBindGroup>;
}

/** A buffer (range) bound to a WGSL binding; `words` is what the kernel indexes (4-byte words), checked against its size. */
export type Resource = { buffer: GPUBuffer; offset?: number; size?: number; words?: number };

/** A model's workspace and its bind groups. */
export class Workspaces {
  private current: Workspace | undefined;

  constructor(private readonly m: ModelBuffers) {}

  drop(): void {
    if (!this.current) return;
    for (const b of this.current.buffers) b.destroy();
    this.current = undefined;
  }

  /** The workspace for (seqLen, batch): grows to the largest run seen, never shrinks, never leaks. */
  ensure(T: number, B: number): Workspace {
    const cur = this.current;
    if (cur && cur.seqLen >= T && cur.batch >= B) return cur;
    const seqLen = Math.max(T, cur?.seqLen ?? 0);
    const batch = Math.max(B, cur?.batch ?? 0);
    this.drop();
    const s = this.m.spec;
    const { numLayers: L } = s;
    const sizes = runSizes(s, seqLen, batch);
    // The step kernels declare the state arrays for lengthRows(batch) rows (plan/layout.ts arrayLengths).
    const declared = arrayLengths(s, 0, batch);
    const buffers: GPUBuffer[] = [];
    const storage = (label: string, floats: number) => {
      const b = storageBuffer(this.m.device, `${s.cell}|${label}`, floats);
      buffers.push(b);
      return b;
    };
    const other = (label: string, bytes: number, usage: number) => {
      const b = this.m.device.createBuffer({ label: `${s.cell}|${label}`, size: paddedSize(bytes), usage });
      buffers.push(b);
      return b;
    };
    const steps = other('steps', seqLen * UNIFORM_SLOT, Usage.UNIFORM | Usage.COPY_DST);
    const stepData = new Uint32Array((seqLen * UNIFORM_SLOT) / 4);
    for (let t = 0; t < seqLen; t++) stepData[(t * UNIFORM_SLOT) / 4] = t;
    writeArray(this.m.device.queue, steps, stepData);
    const stagingFloats = sizes.sequence + L * sizes.h + (hasCellState(s) ? L * sizes.c : 0);
    const ws: Workspace = {
      seqLen,
      batch,
      buffers,
      steps,
      x: storage('x', sizes.x),
      xproj: storage('xproj', sizes.xproj),
      sequences: Array.from({ length: Math.min(L - 1, 2) }, (_, i) => storage(`sequence${i}`, sizes.sequence)),
      y: storage('y', sizes.sequence),
      h: Array.from(
        { length: L },
        (_, l) => [storage(`L${l}|h0`, declared.h_prev), storage(`L${l}|h1`, declared.h_prev)] as [GPUBuffer, GPUBuffer],
      ),
      cAll: hasCellState(s) ? storage('c', sizes.cAll) : undefined,
      scratch: storage('scratch', Math.max(sizes.scratch, declared.gate_tmp, declared.m)),
      seqLens: storage('seq_lens', seqLen * batch), // [B] lengths or a [T, B] mask
      dims: other('dims', L * 2 * UNIFORM_SLOT, Usage.UNIFORM | Usage.COPY_DST),
      staging: other('staging', stagingFloats * 4, Usage.MAP_READ | Usage.COPY_DST),
      bindGroups: new Map(),
      stackState: this.m.stack && storage('stack_state', stateFloats(this.m.spec, batch)),
      stackGroups: new WeakMap(),
    };
    this.current = ws;
    return ws;
  }

  /**
   * The buffer behind each WGSL binding name of `kernel` in layer l; `parity` selects which h buffer
   * is h_prev. `words` is what the kernel indexes (4-byte words), checked against the buffer's size.
   */
  private resources(ws: Workspace, l: number, parity: number, kernel: KernelName): Record<string, Resource> {
    const s = this.m.spec;
    const w = this.m.layers[l];
    const sizes = runSizes(s, ws.seqLen, ws.batch);
    // The kernels' length-sized arrays (plan/layout.ts arrayLengths) get buffers of exactly these sizes.
    const lengths = arrayLengths(s, l, ws.batch);
    const { directions: D, hiddenSize: H, outputSize: Hout } = s;
    const I = l === 0 ? s.inputSize : D * Hout;
    const res: Record<string, Resource> = {
      step: { buffer: ws.steps, offset: 0, size: UNIFORM_BINDING },
      // Slot 0 of a layer holds the input projection's dims, slot 1 the step kernels'.
      dims: {
        buffer: ws.dims,
        offset: (l * 2 + (INPUT_PROJECTION_KERNELS.has(kernel) ? 0 : 1)) * UNIFORM_SLOT,
        size: UNIFORM_BINDING,
      },
      seq_lens: { buffer: ws.seqLens, words: ws.seqLen * ws.batch },
      x: { buffer: l === 0 ? ws.x : ws.sequences[(l - 1) % 2], words: ws.seqLen * ws.batch * I },
      w_t: { buffer: w.wT, words: weightWords(this.m.precision, lengths.w_t) },
      bias: { buffer: w.bias, words: D * projectionGates(s, l) * H },
      xproj: { buffer: ws.xproj, words: sizes.xproj },
      r_t: { buffer: w.rStep, words: weightWords(this.m.precision, lengths.r_t) },
      h_prev: { buffer: ws.h[l][parity], words: lengths.h_prev },
      h_next: { buffer: ws.h[l][1 - parity], words: sizes.h },
      y: { buffer: l === s.numLayers - 1 ? ws.y : ws.sequences[l % 2], words: sizes.sequence },
      m: { buffer: ws.scratch, words: lengths.m },
      gate_tmp: { buffer: ws.scratch, words: lengths.gate_tmp },
    };
    if (hasCellState(s)) {
      res.c = { buffer: ws.cAll!, words: sizes.cAll };
      res.peephole = { buffer: w.peephole!, words: D * (s.depthGated ? 5 : 3) * H };
      // With a projection, the cell's h_next is the unprojected m that the projection kernel reads.
      if (s.projected && PROJECTED_CELL_KERNELS.has(kernel)) res.h_next = { buffer: ws.scratch, words: sizes.c };
    }
    if (w.rbh) res.rbh = { buffer: w.rbh, words: D * H };
    for (const [name, buffer] of Object.entries(this.m.cellBuffers)) res[name] = { buffer, words: buffer.size / 4 };
    if (w.wrT) res.wr_t = { buffer: w.wrT, words: weightWords(this.m.precision, lengths.wr_t) };
    return res;
  }

  /** Layer l's bind group for `kernel` (h_prev = h[parity]), made once per workspace. */
  bindGroup(ws: Workspace, l: number, parity: number, kernel: KernelName): GPUBindGroup {
    const key = `${l}|${kernel}|${parity}`;
    let group = ws.bindGroups.get(key);
    if (!group) {
      group = this.makeBindGroup(ws, l, parity, kernel);
      ws.bindGroups.set(key, group);
    }
    return group;
  }

  makeBindGroup(ws: Workspace, l: number, parity: number, kernel: KernelName, replace: Record<string, Resource> = {}): GPUBindGroup {
    const info = kernelInfo(kernel, this.m.precision);
    const res = { ...this.resources(ws, l, parity, kernel), ...replace };
    const bound = Object.fromEntries(info.bindings.map((b) => [b.name, res[b.name]]));
    checkBindings(
      info,
      Object.fromEntries(
        info.bindings
          .filter((b) => bound[b.name])
          .map((b) => {
            const r = bound[b.name];
            return [b.name, { size: r.size ?? r.buffer.size - (r.offset ?? 0), words: r.words }];
          }),
      ),
      `layer ${l}`,
    );
    return this.m.device.createBindGroup({
      label: `${kernel}|L${l}|p${parity}`,
      layout: bindGroupLayout(this.m.device, kernel, this.m.precision),
      entries: info.bindings.map((b) => ({
        binding: b.binding,
        resource: { buffer: bound[b.name].buffer, offset: bound[b.name].offset ?? 0, size: bound[b.name].size },
      })),
    });
  }
}
