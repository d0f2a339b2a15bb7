// gru_step.wgsl: the GRU cell: a timestep (LINEAR_BEFORE_RESET = true: all of it, or through
// main_seq the whole sequence; false: its second half, after gru_reset), every direction and batch
// row in one dispatch.
// (step_common.wgsl, step_matvec.wgsl, cell_math.wgsl and cell_step.wgsl are prepended: bindings
// 0-2, overrides, activations, the mat-vec helpers, the cell arithmetic, and
// the entry points main (one step) and main_seq (the whole sequence), which call the hooks below;
// without LINEAR_BEFORE_RESET main_seq runs gru_reset's work as its first phase, TWO_PHASE.)
//
// Grids: see cell_step.wgsl. Unit j of row (d, b) at step s, when the row advances (t from row_step),
// x_g = xproj[t, b, d, g, j], hp = h_prev[d, b, j]:
//   LINEAR_BEFORE_RESET (PyTorch, Keras reset_after):   a_g = sum_k r_t[d, k, g, j] h_prev[d, b, k], g in z, r, h
//     z = f(clip(x_z + a_z)), r = f(clip(x_r + a_r)), n = g(clip(x_h + r (a_h + rbh[d, j])))
//   otherwise (ONNX default):                            a_h = sum_k r_t[d, k, 0, j] gate_tmp[d, b, 1, k]
//     z = gate_tmp[d, b, 0, j], n = g(clip(x_h + a_h))      (gate_tmp[d, b, 1, :] = r ⊙ h_prev from gru_reset)
//   h_next[d, b, j] = (1 - z) n + z hp;  y[t, b, d, j] = h_next[d, b, j]
// An inactive row (past its length, or masked) keeps its state (h_next = h_prev) and writes
// y = inactive_y(h_prev): 0 past a length, h_prev under a mask.
//
// Layouts (f32, row-major): xproj [T, B, D, 3, HIDDEN] (z, r, h; folded biases: Wb + Rb for z and r,
// and for h only Wbh when LINEAR_BEFORE_RESET, since Rbh sits inside r ⊙ (…), else Wbh + Rbh);
// r_t [D, HIDDEN, HIDDEN] of vec4 (z, r, h, 0): R transposed with a unit's gate weights side by side
// (one 16-byte load per column; without LINEAR_BEFORE_RESET the second phase uses h only);
// rbh [D, HIDDEN] (Rbh; zeros and unused without LINEAR_BEFORE_RESET); gate_tmp [D, B, 2, HIDDEN]
// (z and r ⊙ h_prev; unused with LINEAR_BEFORE_RESET); h_prev, h_next [D, B, HIDDEN]; y: y_index.

// r_t, h_prev and gate_tmp are sized by R_T_LEN, H_PREV_LEN and GATE_TMP_LEN (scalars), consts that
// kernels/sources.ts appends: a fixed length spares CPU emulators an arrayLength division per
// bounds-checked read.
@group(0) @binding(3) var<storage, read> xproj: array<f32>;
@group(0) @binding(4) var<storage, read> r_t: array<weight4, R_T_LEN / 4u>;
@group(0) @binding(5) var<storage, read> rbh: array<f32>;
@group(0) @binding(6) var<storage, read_write> gate_tmp: array<f32, GATE_TMP_LEN>;
@group(0) @binding(7) var<storage, read> h_prev: array<f32, H_PREV_LEN>;
@group(0) @binding(8) var<storage, read_write> h_next: array<f32>;
@group(0) @binding(9) var<storage, read_write> y: array<f32>;

fn load_vector(d: u32, b: u32, k: u32) -> f32 {
  if (LINEAR_BEFORE_RESET) {
    return h_prev[state_row(d, b) * OUT + k];
  }
  return gate_tmp[(state_row(d, b) * 2u + 1u) * HIDDEN + k];
}

// (z, r, h) weights of unit j at column k with LINEAR_BEFORE_RESET, else (0, 0, h).
// Components are read one by one, not as a vec4: a CPU emulator then loads only the words used.
fn load_weights(d: u32, k: u32, j: u32) -> vec4<f32> {
  let i = (d * OUT + k) * HIDDEN + j;
  if (LINEAR_BEFORE_RESET) {
    return vec4<f32>(f32(r_t[i].x), f32(r_t[i].y), f32(r_t[i].z), 0.0);
  }
  return vec4<f32>(0.0, 0.0, f32(r_t[i].z), 0.0);
}

// main_seq's first phase without LINEAR_BEFORE_RESET (what gru_reset does per step): z and r of
// unit j; z goes to gate_tmp, read back by this same invocation in advance_unit, and r ⊙ h is
// returned for the second phase's mat-vec, which needs it for every unit.
fn phase1_weights(d: u32, k: u32, j: u32) -> vec4<f32> {
  let i = (d * OUT + k) * HIDDEN + j;
  return vec4<f32>(f32(r_t[i].x), f32(r_t[i].y), 0.0, 0.0);
}

fn phase1_unit(d: u32, b: u32, j: u32, s: u32, acc: vec4<f32>, hp: f32) -> f32 {
  let rs = row_step(d, s, b);
  if (!rs.advances) {
    return 0.0;
  }
  let xo = ((rs.t * dims.batch + b) * DIRS + d) * 3u * HIDDEN + j;
  let zr = gru_gates(d, xproj[xo] + acc.x, xproj[xo + HIDDEN] + acc.y);
  gate_tmp[(state_row(d, b) * 2u) * HIDDEN + j] = zr.x;
  return zr.y * hp;
}

// main_direct_phase1's r ⊙ h_prev goes where load_vector reads it without LINEAR_BEFORE_RESET
// (gru_reset's layout); z was written by phase1_unit itself.
fn store_phase1(row: u32, j: u32, v: f32) {
  gate_tmp[(row * 2u + 1u) * HIDDEN + j] = v;
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
  let xo = ((rs.t * dims.batch + b) * DIRS + d) * 3u * HIDDEN + j;
  var h: f32;
  if (LINEAR_BEFORE_RESET) {
    let zr = gru_gates(d, xproj[xo] + acc.x, xproj[xo + HIDDEN] + acc.y);
    h = gru_output(d, zr.x, xproj[xo + 2u * HIDDEN] + zr.y * (acc.z + rbh[d * HIDDEN + j]), hp);
  } else {
    h = gru_output(d, gate_tmp[(state_row(d, b) * 2u) * HIDDEN + j], xproj[xo + 2u * HIDDEN] + acc.z, hp);
  }
  y[y_index(rs.t, b, d, j)] = h;
  return h;
}
