// lstm_step.wgsl: the LSTM cell: one timestep of one layer (or, through main_seq, the whole sequence),
// every direction and batch row in one dispatch.
// (step_common.wgsl, step_matvec.wgsl, cell_math.wgsl and cell_step.wgsl are prepended: bindings
// 0-2, overrides, activations, the mat-vec helpers, the cell arithmetic, and
// the entry points main (one step) and main_seq (the whole sequence), which call the hooks below.)
//
// Grids: see cell_step.wgsl. Unit j of row (d, b) at step s, when the row advances (t from row_step):
//   g = xproj[t, b, d, :, j] + sum_k r_t[d, k, :, j] * h_prev[d, b, k]      gate blocks i, o, f, c
//   i = f(clip(g_i + P_i c)),  f = 1 - i (INPUT_FORGET) or f(clip(g_f + P_f c)),
//   c' = f c + i g(clip(g_c)),  o = f(clip(g_o + P_o c')),  m = o h(c')     (no clip inside h: ORT)
//   c[d, b, j] = c' (in place: no other invocation reads or writes c[d, b, j] in this dispatch)
//   without PROJECTED: h_next[d, b, j] = m and y[t, b, d, j] = m;
//   with PROJECTED: the host binds the m buffer [D, B, HIDDEN] as h_next, and lstm_projection then
//   computes h = Wr m (it also writes y and handles rows past their length).
// An inactive row (past its length, or masked: row_step) keeps its state (h copied, c untouched)
// and writes y = inactive_y(h_prev), so every element of y is written exactly once per run.
// Depth-Gated LSTM (DEPTH_GATED; Yao et al. 2015, arXiv:1508.03790): a layer above the first adds
// d ⊙ c_below to c', with c_below the layer below's c' at the same (t, b, d), read from the c
// sequence it wrote, and d = f(clip(xproj gate 4 (Wd x + Bd) + Pd0 c + Pd1 c_below)); every layer
// but the last writes its own c' sequence for the layer above. Which layer this is comes from dims:
// c_seq_read (NONE on the first layer) and c_seq_write (NONE on the last).
// The h_prev vectors of the BT rows pass through workgroup memory K_TILE elements at a time, so
// each r_t element read serves BT batch rows.
//
// Layouts (f32, row-major): xproj [T, B, D, XG, HIDDEN] (both biases folded in by input_proj; XG = 4,
// or 5 above the first layer of a depth-gated model: gate 4 is Wd x + Bd);
// r_t [D, OUT, HIDDEN] of vec4 (i, o, f, c): ONNX R [D, 4H, Hout] transposed with the four gate
// weights of a unit side by side, so one 16-byte load per column serves a unit and neighbouring
// invocations read neighbouring words; peephole [D, PEEP_ROWS, HIDDEN] (i, o, f, then with DEPTH_GATED
// Pd0, Pd1; zeros where the model has none); h_prev, h_next [D, B, OUT] (h_next: [D, B, HIDDEN] with
// PROJECTED); c: every layer's state [L, D, B, HIDDEN] (this layer's at dims.c_base), then with
// DEPTH_GATED two c sequences [T, B, D, HIDDEN] (at dims.c_seq_read / c_seq_write); y: y_index.

// r_t and h_prev are sized by R_T_LEN and H_PREV_LEN (scalars), consts that kernels/sources.ts appends: a
// fixed length spares CPU emulators an arrayLength division per bounds-checked read.
@group(0) @binding(3) var<storage, read> xproj: array<f32>;
@group(0) @binding(4) var<storage, read> r_t: array<weight4, R_T_LEN / 4u>;
@group(0) @binding(5) var<storage, read> peephole: array<f32>;
@group(0) @binding(6) var<storage, read> h_prev: array<f32, H_PREV_LEN>;
@group(0) @binding(7) var<storage, read_write> h_next: array<f32>;
@group(0) @binding(8) var<storage, read_write> c: array<f32>;
@group(0) @binding(9) var<storage, read_write> y: array<f32>;

override PROJECTED: bool = false;
override DEPTH_GATED: bool = false;
override PEEP_ROWS: u32 = select(3u, 5u, DEPTH_GATED);
// NONE (0xffffffff, emitted by the host: kernels/constants.ts NO_C_SEQUENCE): a layer reads or writes no c sequence.

fn load_vector(d: u32, b: u32, k: u32) -> f32 {
  return h_prev[state_row(d, b) * OUT + k];
}

// Gates i, o, f, c of unit j at column k.
fn load_weights(d: u32, k: u32, j: u32) -> vec4<f32> {
  return vec4<f32>(r_t[(d * OUT + k) * HIDDEN + j]);
}

// Without PROJECTED: h_next; with it, the unprojected m [D, B, HIDDEN] bound at h_next.
fn store_next(row: u32, j: u32, h: f32) {
  if (PROJECTED) {
    h_next[row * HIDDEN + j] = h;
  } else {
    h_next[row * OUT + j] = h;
  }
}

fn advance_unit(d: u32, b: u32, j: u32, s: u32, acc: vec4<f32>, hp: f32) -> f32 {
  let rs = row_step(d, s, b);
  if (!rs.advances) {
    if (!PROJECTED) {
      y[y_index(rs.t, b, d, j)] = inactive_y(hp);
    }
    return hp;
  }
  let row = state_row(d, b);
  let below = DEPTH_GATED && dims.c_seq_read != NONE;
  let xo = ((rs.t * dims.batch + b) * DIRS + d) * select(4u, 5u, below) * HIDDEN + j;
  let pre = acc + vec4<f32>(xproj[xo], xproj[xo + HIDDEN], xproj[xo + 2u * HIDDEN], xproj[xo + 3u * HIDDEN]);
  let ci = dims.c_base + row * HIDDEN + j;
  let c_prev = c[ci];
  let p = d * PEEP_ROWS * HIDDEN + j;
  let peep = vec3<f32>(peephole[p], peephole[p + HIDDEN], peephole[p + 2u * HIDDEN]);
  // The sequence element of (t, b, d, j) in the c sequences.
  let cs = ((rs.t * dims.batch + b) * DIRS + d) * HIDDEN + j;
  var from_below = 0.0;
  if (below) {
    let c_below = c[dims.c_seq_read + cs];
    let gate = activation(d, 0u, clip_gate(xproj[xo + 4u * HIDDEN] + peephole[p + 3u * HIDDEN] * c_prev + peephole[p + 4u * HIDDEN] * c_below));
    from_below = gate * c_below;
  }
  let cm = lstm_cell(d, pre, peep, c_prev, from_below);
  let c_new = cm.x;
  let m = cm.y;
  c[ci] = c_new;
  if (DEPTH_GATED && dims.c_seq_write != NONE) {
    c[dims.c_seq_write + cs] = c_new;
  }
  if (!PROJECTED) {
    y[y_index(rs.t, b, d, j)] = m;
  }
  return m;
}

// No first phase: cell_step.wgsl's TWO_PHASE is false for this cell.
fn phase1_weights(d: u32, k: u32, j: u32) -> vec4<f32> {
  return vec4<f32>();
}

fn phase1_unit(d: u32, b: u32, j: u32, s: u32, acc: vec4<f32>, hp: f32) -> f32 {
  return 0.0;
}

fn store_phase1(row: u32, j: u32, v: f32) {
}
