// rnn_step.wgsl: one Elman RNN timestep of one layer, every direction and batch row in one dispatch.
// (step_common.wgsl is prepended: bindings 0-2, overrides, activations, recurrent_matvec.)
//
// Grid: x = ceil(HIDDEN / WG) blocks of hidden units j, y = direction d, z = ceil(batch / BT).
// Invocation (j, d, block of BT rows), for each active row b (t from row_step(d, step.s, b)):
//   h_next[d, b, j] = f(clip(xproj[t, b, d, j] + sum_k r_t[d, k, j] * h_prev[d, b, k]))
//   y[t, b, d, j] = h_next[d, b, j]
// An inactive row (past its length, or masked) keeps its state (h_next = h_prev) and writes
// y = inactive_y(h_prev): 0 past a length, h_prev under a mask.
//
// Layouts (f32, row-major): xproj [T, B, D, HIDDEN] (both biases folded in by input_proj);
// r_t [D, HIDDEN, HIDDEN] (ONNX R [D, H, H] transposed: r_t[d, k, j] = R[d, j, k]);
// h_prev, h_next [D, B, HIDDEN]; y: y_index.

@group(0) @binding(3) var<storage, read> xproj: array<f32>;
@group(0) @binding(4) var<storage, read> r_t: array<f32>;
@group(0) @binding(5) var<storage, read> h_prev: array<f32>;
@group(0) @binding(6) var<storage, read_write> h_next: array<f32>;
@group(0) @binding(7) var<storage, read_write> y: array<f32>;

fn load_vector(d: u32, b: u32, k: u32) -> f32 {
  return h_prev[state_row(d, b) * OUT + k];
}

fn load_weights(d: u32, k: u32, j: u32) -> vec4<f32> {
  return vec4<f32>(r_t[(d * OUT + k) * HIDDEN + j], 0.0, 0.0, 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = wg.x * WG + lid;
  let d = wg.y;
  let b0 = wg.z * BT;
  let s = step.s;

  let acc = recurrent_matvec(d, b0, j, HIDDEN, OUT, lid);
  if (j >= HIDDEN) {
    return;
  }

  for (var bb = 0u; bb < BT; bb++) {
    let b = b0 + bb;
    if (b >= dims.batch) {
      break;
    }
    let row = state_row(d, b);
    let rs = row_step(d, s, b);
    if (!rs.advances) {
      let hp = h_prev[row * OUT + j];
      h_next[row * OUT + j] = hp;
      y[y_index(rs.t, b, d, j)] = inactive_y(hp);
      continue;
    }
    let t = rs.t;
    let h = activation(d, 0u, clip_gate(xproj[((t * dims.batch + b) * DIRS + d) * HIDDEN + j] + acc[bb].x));
    h_next[row * OUT + j] = h;
    y[y_index(t, b, d, j)] = h;
  }
}
