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
// The h_prev vectors of the BT rows pass through workgroup memory K_TILE elements at a time, so
// each r_t element read serves BT batch rows.
//
// Layouts (f32, row-major): xproj [T, B, D, 4, HIDDEN] (both biases folded in by input_proj);
// r_t [D, OUT, HIDDEN] of vec4 (i, o, f, c): ONNX R [D, 4H, Hout] transposed with the four gate
// weights of a unit side by side, so one 16-byte load per column serves a unit and neighbouring
// invocations read neighbouring words; peephole [D, 3, HIDDEN] (i, o, f; zeros when the model has none);
// h_prev, h_next [D, B, OUT] (h_next: [D, B, HIDDEN] with PROJECTED); c [D, B, HIDDEN]; y: y_index.

@group(0) @binding(3) var<storage, read> xproj: array<f32>;
@group(0) @binding(4) var<storage, read> r_t: array<weight4>;
@group(0) @binding(5) var<storage, read> peephole: array<f32>;
@group(0) @binding(6) var<storage, read> h_prev: array<f32>;
@group(0) @binding(7) var<storage, read_write> h_next: array<f32>;
@group(0) @binding(8) var<storage, read_write> c: array<f32>;
@group(0) @binding(9) var<storage, read_write> y: array<f32>;

override PROJECTED: bool = false;

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
  let xo = ((rs.t * dims.batch + b) * DIRS + d) * 4u * HIDDEN + j;
  let pre = acc + vec4<f32>(xproj[xo], xproj[xo + HIDDEN], xproj[xo + 2u * HIDDEN], xproj[xo + 3u * HIDDEN]);
  let c_prev = c[row * HIDDEN + j];
  let peep = vec3<f32>(peephole[(d * 3u) * HIDDEN + j], peephole[(d * 3u + 1u) * HIDDEN + j], peephole[(d * 3u + 2u) * HIDDEN + j]);
  let cm = lstm_cell(d, pre, peep, c_prev);
  let c_new = cm.x;
  let m = cm.y;
  c[row * HIDDEN + j] = c_new;
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
