// lstm_projection.wgsl: the projection half of an LSTM timestep with projSize (PyTorch proj_size),
// every direction and batch row in one dispatch; runs right after lstm_step with PROJECTED.
// (step_common.wgsl is prepended: bindings 0-2, overrides, recurrent_matvec.)
//
// Grid: x = ceil(OUT / WG) blocks of output units p, y = direction d, z = ceil(batch / BT).
// Invocation (p, d, block of BT rows), for each active row b (t from row_step(d, step.s, b)):
//   h_next[d, b, p] = sum_k wr_t[d, k, p] * m[d, b, k]      (m = o ⊙ h(c) from lstm_step)
//   y[t, b, d, p] = h_next[d, b, p]
// An inactive row (past its length, or masked) keeps its state (h_next = h_prev) and writes
// y = inactive_y(h_prev): 0 past a length, h_prev under a mask.
// It needs the whole m vector of a row, which lstm_step's workgroups produce together; hence a
// second dispatch per step (WebGPU has no grid-wide barrier).
//
// Layouts (f32, row-major): wr_t [D, HIDDEN, OUT] (ONNX-style Wr [D, Hout, H] transposed);
// m [D, B, HIDDEN]; h_prev, h_next [D, B, OUT]; y: y_index.

@group(0) @binding(3) var<storage, read> wr_t: array<f32>;
@group(0) @binding(4) var<storage, read> m: array<f32>;
@group(0) @binding(5) var<storage, read> h_prev: array<f32>;
@group(0) @binding(6) var<storage, read_write> h_next: array<f32>;
@group(0) @binding(7) var<storage, read_write> y: array<f32>;

fn load_vector(d: u32, b: u32, k: u32) -> f32 {
  return m[state_row(d, b) * HIDDEN + k];
}

fn load_weights(d: u32, k: u32, p: u32) -> vec4<f32> {
  return vec4<f32>(wr_t[(d * HIDDEN + k) * OUT + p], 0.0, 0.0, 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let p = wg.x * WG + lid;
  let d = wg.y;
  let b0 = wg.z * BT;
  let s = step.s;

  let acc = recurrent_matvec(d, b0, p, OUT, HIDDEN, lid);
  if (p >= OUT) {
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
      let hp = h_prev[row * OUT + p];
      h_next[row * OUT + p] = hp;
      y[y_index(rs.t, b, d, p)] = inactive_y(hp);
      continue;
    }
    h_next[row * OUT + p] = acc[bb].x;
    y[y_index(rs.t, b, d, p)] = acc[bb].x;
  }
}
