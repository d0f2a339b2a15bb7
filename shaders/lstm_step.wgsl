// lstm_step.wgsl: one LSTM timestep of one layer, every direction and batch row in one dispatch.
// (step_common.wgsl is prepended: bindings 0-2, overrides, activations, recurrent_matvec.)
//
// Grid: x = ceil(HIDDEN / WG) blocks of hidden units j, y = direction d, z = ceil(batch / BT).
// Invocation (j, d, block of BT batch rows), for each active row b (t from row_step(d, step.s, b)):
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
// r_t [D, OUT, 4, HIDDEN] (ONNX R [D, 4H, Hout] transposed so neighbouring invocations read
// neighbouring words); peephole [D, 3, HIDDEN] (i, o, f; zeros when the model has none);
// h_prev, h_next [D, B, OUT] (h_next: [D, B, HIDDEN] with PROJECTED); c [D, B, HIDDEN]; y: y_index.

@group(0) @binding(3) var<storage, read> xproj: array<f32>;
@group(0) @binding(4) var<storage, read> r_t: array<f32>;
@group(0) @binding(5) var<storage, read> peephole: array<f32>;
@group(0) @binding(6) var<storage, read> h_prev: array<f32>;
@group(0) @binding(7) var<storage, read_write> h_next: array<f32>;
@group(0) @binding(8) var<storage, read_write> c: array<f32>;
@group(0) @binding(9) var<storage, read_write> y: array<f32>;

override INPUT_FORGET: bool = false;
override PROJECTED: bool = false;

fn load_vector(d: u32, b: u32, k: u32) -> f32 {
  return h_prev[state_row(d, b) * OUT + k];
}

// Gates i, o, f, c of unit j at column k.
fn load_weights(d: u32, k: u32, j: u32) -> vec4<f32> {
  let base = (d * OUT + k) * 4u * HIDDEN + j;
  return vec4<f32>(r_t[base], r_t[base + HIDDEN], r_t[base + 2u * HIDDEN], r_t[base + 3u * HIDDEN]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = wg.x * WG + lid;
  let d = wg.y;
  let b0 = wg.z * BT;
  let s = step.s;

  // acc[bb] = R h_prev for the four gates of unit j, batch row b0 + bb.
  let acc = recurrent_matvec(d, b0, j, HIDDEN, OUT, lid);
  if (j >= HIDDEN) {
    return;
  }

  let p_i = peephole[(d * 3u) * HIDDEN + j];
  let p_o = peephole[(d * 3u + 1u) * HIDDEN + j];
  let p_f = peephole[(d * 3u + 2u) * HIDDEN + j];
  for (var bb = 0u; bb < BT; bb++) {
    let b = b0 + bb;
    if (b >= dims.batch) {
      break;
    }
    let row = state_row(d, b);
    let rs = row_step(d, s, b);
    if (!rs.advances) {
      if (!PROJECTED) {
        let hp = h_prev[row * OUT + j];
        h_next[row * OUT + j] = hp;
        y[y_index(rs.t, b, d, j)] = inactive_y(hp);
      }
      continue;
    }
    let t = rs.t;
    let xo = ((t * dims.batch + b) * DIRS + d) * 4u * HIDDEN + j;
    let pre = acc[bb] + vec4<f32>(xproj[xo], xproj[xo + HIDDEN], xproj[xo + 2u * HIDDEN], xproj[xo + 3u * HIDDEN]);
    let c_prev = c[row * HIDDEN + j];
    let i = activation(d, 0u, clip_gate(pre.x + p_i * c_prev));
    var f = 1.0 - i;
    if (!INPUT_FORGET) {
      f = activation(d, 0u, clip_gate(pre.z + p_f * c_prev));
    }
    let c_new = f * c_prev + i * activation(d, 1u, clip_gate(pre.w));
    let o = activation(d, 0u, clip_gate(pre.y + p_o * c_new));
    let m = o * activation(d, 2u, c_new);
    c[row * HIDDEN + j] = c_new;
    if (PROJECTED) {
      h_next[row * HIDDEN + j] = m;
    } else {
      h_next[row * OUT + j] = m;
      y[y_index(t, b, d, j)] = m;
    }
  }
}
