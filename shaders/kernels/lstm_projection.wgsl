// lstm_projection.wgsl: the projection half of an LSTM timestep with projSize (PyTorch proj_size),
// every direction and batch row in one dispatch; runs right after lstm_step with PROJECTED.
// The files before it give bindings 0-2, overrides and recurrent_matvec:
// Module: lib/precision_*.wgsl + lib/step_common.wgsl + lib/step_matvec.wgsl + this file
//
// Grids: main (tiled): x = ceil(OUT / WG) blocks of output units p, y = direction d,
// z = ceil(batch / BT); main_direct (no barriers): x = ceil(ceil(B / BT)·OUT / WG) blocks of pairs (b0 / BT)·OUT + p.
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

// wr_t, m and h_prev are sized by WR_T_LEN, M_LEN and H_PREV_LEN (scalars), consts that kernels/sources.ts
// appends: a fixed length spares CPU emulators an arrayLength division per bounds-checked read.
@group(0) @binding(3) var<storage, read> wr_t: array<weight, WR_T_LEN>;
@group(0) @binding(4) var<storage, read> m: array<f32, M_LEN>;
@group(0) @binding(5) var<storage, read> h_prev: array<f32, H_PREV_LEN>;
@group(0) @binding(6) var<storage, read_write> h_next: array<f32>;
@group(0) @binding(7) var<storage, read_write> y: array<f32>;

fn load_vector(d: u32, b: u32, k: u32) -> f32 {
  return m[state_row(d, b) * HIDDEN + k];
}

fn load_weights(d: u32, k: u32, p: u32) -> vec4<f32> {
  return vec4<f32>(f32(wr_t[(d * HIDDEN + k) * OUT + p]), 0.0, 0.0, 0.0);
}

// Output unit p of row (d, b) at step s, given its projection acc = sum_k wr_t[d, k, p] m[d, b, k].
fn project_unit(d: u32, b: u32, p: u32, s: u32, acc: f32) {
  let row = state_row(d, b);
  let rs = row_step(d, s, b);
  if (!rs.advances) {
    let hp = h_prev[row * OUT + p];
    h_next[row * OUT + p] = hp;
    y[y_index(rs.t, b, d, p)] = inactive_y(hp);
    return;
  }
  h_next[row * OUT + p] = acc;
  y[y_index(rs.t, b, d, p)] = acc;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let p = wg.x * WG + lid;
  let d = wg.y;
  let b0 = wg.z * BT;

  let acc = recurrent_matvec(d, b0, p, OUT, HIDDEN, lid);
  if (p >= OUT) {
    return;
  }
  for (var bb = 0u; bb < BT; bb++) {
    let b = b0 + bb;
    if (b >= dims.batch) {
      break;
    }
    project_unit(d, b, p, step.s, acc[bb].x);
  }
}

// Without workgroup memory or barriers: x = ceil(ceil(B / BT)·OUT / WG) blocks of (row block,
// output unit) pairs, as main_direct in cell_step.wgsl.
@compute @workgroup_size(WG)
fn main_direct(@builtin(global_invocation_id) gid: vec3<u32>) {
  let d = gid.y;
  let b0 = (gid.x / OUT) * BT;
  let p = gid.x % OUT;
  if (b0 >= dims.batch) {
    return;
  }
  let acc = direct_matvec(d, b0, p, HIDDEN);
  for (var bb = 0u; bb < BT; bb++) {
    if (b0 + bb >= dims.batch) {
      break;
    }
    project_unit(d, b0 + bb, p, step.s, acc[bb].x);
  }
}
