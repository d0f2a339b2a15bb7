// rnn_step.wgsl: the Elman RNN cell, and with clockwork.wgsl the Clockwork RNN: one timestep of one
// layer (or, through main_seq, the whole sequence), every direction and batch row in one dispatch.
// The cell's last file defines unit_ticks(j, s): whether unit j updates at step s
// (rnn_every_step.wgsl: always; clockwork.wgsl: when its module's period divides s).
// (step_common.wgsl, step_matvec.wgsl, cell_math.wgsl and cell_step.wgsl are prepended: bindings
// 0-2, overrides, activations, the mat-vec helpers, the cell arithmetic, and
// the entry points main (one step) and main_seq (the whole sequence), which call the hooks below.)
//
// Grids: see cell_step.wgsl. Unit j of row (d, b) at step s, when the row advances (t from row_step):
//   h_next[d, b, j] = f(clip(xproj[t, b, d, j] + sum_k r_t[d, k, j] * h_prev[d, b, k]))
//   y[t, b, d, j] = h_next[d, b, j]
// An inactive row (past its length, or masked) keeps its state (h_next = h_prev) and writes
// y = inactive_y(h_prev): 0 past a length, h_prev under a mask.
//
// Layouts (f32, row-major): xproj [T, B, D, HIDDEN] (both biases folded in by input_proj);
// r_t [D, HIDDEN, HIDDEN] (ONNX R [D, H, H] transposed: r_t[d, k, j] = R[d, j, k]);
// h_prev, h_next [D, B, HIDDEN]; y: y_index.

// r_t and h_prev are sized by R_T_LEN and H_PREV_LEN (scalars), consts that kernels/sources.ts appends: a
// fixed length spares CPU emulators an arrayLength division per bounds-checked read.
@group(0) @binding(3) var<storage, read> xproj: array<f32>;
@group(0) @binding(4) var<storage, read> r_t: array<weight, R_T_LEN>;
@group(0) @binding(5) var<storage, read> h_prev: array<f32, H_PREV_LEN>;
@group(0) @binding(6) var<storage, read_write> h_next: array<f32>;
@group(0) @binding(7) var<storage, read_write> y: array<f32>;

fn load_vector(d: u32, b: u32, k: u32) -> f32 {
  return h_prev[state_row(d, b) * OUT + k];
}

fn load_weights(d: u32, k: u32, j: u32) -> vec4<f32> {
  return vec4<f32>(f32(r_t[(d * OUT + k) * HIDDEN + j]), 0.0, 0.0, 0.0);
}

fn store_next(row: u32, j: u32, h: f32) {
  h_next[row * OUT + j] = h;
}

fn advance_unit(d: u32, b: u32, j: u32, s: u32, acc: vec4<f32>, hp: f32) -> f32 {
  let rs = row_step(d, s, b);
  if (!rs.advances) {
    y[y_index(rs.t, b, d, j)] = inactive_y(hp);
    return hp;
  }
  // A unit whose module does not tick at this step keeps its h (Clockwork RNN; always ticks otherwise).
  if (!unit_ticks(j, s)) {
    y[y_index(rs.t, b, d, j)] = hp;
    return hp;
  }
  let h = rnn_cell(d, xproj[((rs.t * dims.batch + b) * DIRS + d) * HIDDEN + j] + acc.x);
  y[y_index(rs.t, b, d, j)] = h;
  return h;
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
