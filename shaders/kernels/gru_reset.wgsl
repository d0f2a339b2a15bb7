// gru_reset.wgsl: first half of a GRU timestep with linear_before_reset = 0 (the ONNX default),
// every direction and batch row in one dispatch; gru_step (LINEAR_BEFORE_RESET = false) follows.
// The files before it give bindings 0-2, overrides, activations, recurrent_matvec and gru_gates:
// Module: lib/precision_*.wgsl + lib/step_common.wgsl + lib/step_matvec.wgsl + lib/cell_math.wgsl + this file
//
// Grid: x = ceil(HIDDEN / WG) blocks of hidden units j, y = direction d, z = ceil(batch / BT).
// Invocation (j, d, block of BT rows), for each active row b (t from row_step(d, step.s, b)):
//   z = f(clip(xproj[t, b, d, 0, j] + sum_k r_t[d, k, j].x h_prev[d, b, k]))
//   r = f(clip(xproj[t, b, d, 1, j] + sum_k r_t[d, k, j].y h_prev[d, b, k]))
//   gate_tmp[d, b, 0, j] = z;  gate_tmp[d, b, 1, j] = r * h_prev[d, b, j]
// The candidate needs (r ⊙ h_prev) · Rhᵀ, i.e. r of every unit of the row, which this dispatch's
// workgroups produce together: hence the second dispatch (WebGPU has no grid-wide barrier).
// Inactive rows are skipped; gru_step keeps their state.
//
// Layouts (f32, row-major): xproj [T, B, D, 3, HIDDEN] (gate blocks z, r, h; all biases folded in);
// r_t [D, HIDDEN, HIDDEN] of vec4 (z, r, h, 0; see gru_step.wgsl; this kernel reads z and r);
// h_prev [D, B, HIDDEN];
// gate_tmp [D, B, 2, HIDDEN].

// r_t, h_prev and gate_tmp are sized by R_T_LEN, H_PREV_LEN and GATE_TMP_LEN (scalars), consts that
// kernels/sources.ts appends: a fixed length spares CPU emulators an arrayLength division per
// bounds-checked read.
@group(0) @binding(3) var<storage, read> xproj: array<f32>;
@group(0) @binding(4) var<storage, read> r_t: array<weight4, R_T_LEN / 4u>;
@group(0) @binding(5) var<storage, read> h_prev: array<f32, H_PREV_LEN>;
@group(0) @binding(6) var<storage, read_write> gate_tmp: array<f32, GATE_TMP_LEN>;

fn load_vector(d: u32, b: u32, k: u32) -> f32 {
  return h_prev[state_row(d, b) * OUT + k];
}

// Gates z, r of unit j at column k.
fn load_weights(d: u32, k: u32, j: u32) -> vec4<f32> {
  let i = (d * OUT + k) * HIDDEN + j;
  return vec4<f32>(f32(r_t[i].x), f32(r_t[i].y), 0.0, 0.0);
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
    let rs = row_step(d, s, b);
    if (!rs.advances) {
      continue;
    }
    let row = state_row(d, b);
    let t = rs.t;
    let xo = ((t * dims.batch + b) * DIRS + d) * 3u * HIDDEN + j;
    let zr = gru_gates(d, xproj[xo] + acc[bb].x, xproj[xo + HIDDEN] + acc[bb].y);
    gate_tmp[(row * 2u) * HIDDEN + j] = zr.x;
    gate_tmp[(row * 2u + 1u) * HIDDEN + j] = zr.y * h_prev[row * OUT + j];
  }
}
