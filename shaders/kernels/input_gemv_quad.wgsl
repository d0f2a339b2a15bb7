// input_gemv_quad.wgsl: input_gemv.wgsl's main with the reads of x shared within quads (four
// consecutive lanes of a subgroup), for devices with the 'subgroups' feature:
//   xproj[m, n] = sum_k x[m, k] * w_t[k, n] + bias[n]    (the same contract, bindings and layouts)
// Module: lib/subgroup_enable.wgsl + lib/precision_*.wgsl + lib/projection_common.wgsl + kernels/input_gemv.wgsl + this file
// so w_t, WG and the helpers (x_row, row_offsets, row_dot, rows_dot, store_row(s)) are
// input_gemv.wgsl's.
//
// Why: the four lanes of a quad compute neighbouring column quads of the same TM rows, so in main
// they read the same x words. On CPU emulators every such read is a per-lane gather, and x (sized
// by T·B, so runtime-sized) also pays its arrayLength bounds clamp each time: here, per four
// columns k, each lane reads x[m, k + lane % 4] for its TM rows and quadBroadcast hands the values
// to the other three, a quarter of main's reads of x. On GPUs those reads were cache broadcasts.
//
// Grid and mapping: main's (invocation i takes column quad q = i % quads of row block i / quads).
// Needs quads % 4 == 0 (plan/layer.ts gemvQuadApplies): a quad of lanes then never straddles two row
// blocks, so its lanes share rows and leave together past the last row (WGSL's uniformity analysis
// cannot see that; subgroup_enable.wgsl turns its subgroup_uniformity diagnostic off). Columns
// past the last multiple of four of K run main's loop.

// x[o + k + lane % 4] for this quad's four columns k .. k + 3, shared: element c is x[o + k + c].
fn shared_x(o: u32, k: u32, q: u32) -> vec4<f32> {
  let mine = x[o + k + q];
  return vec4<f32>(quadBroadcast(mine, 0u), quadBroadcast(mine, 1u), quadBroadcast(mine, 2u), quadBroadcast(mine, 3u));
}

// w_t's column quad q at the four rows k .. k + 3, as the columns of a matrix: times shared_x's
// four values it gives their contribution to the four columns.
fn quad_weights(k: u32, quads: u32, q: u32) -> mat4x4<f32> {
  return mat4x4<f32>(
    vec4<f32>(w_t[k * quads + q]),
    vec4<f32>(w_t[(k + 1u) * quads + q]),
    vec4<f32>(w_t[(k + 2u) * quads + q]),
    vec4<f32>(w_t[(k + 3u) * quads + q]),
  );
}

@compute @workgroup_size(WG)
fn main_quad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let quads = (N + 3u) / 4u;
  let q = gid.x % quads;
  let m0 = (gid.x / quads) * TM;
  if (m0 >= dims.rows) {
    return;
  }
  let ql = lane & 3u;
  // The columns past the last multiple of four run main's loop (row_dot, rows_dot).
  let k4 = K & ~3u;
  if (TM == 1u) {
    let o = x_row(m0);
    var acc = vec4<f32>();
    for (var k = 0u; k < k4; k += 4u) {
      acc += quad_weights(k, quads, q) * shared_x(o, k, ql);
    }
    store_row(m0, q, acc + row_dot(k4, quads, q, o));
    return;
  }
  let o = row_offsets(m0);
  var acc = mat4x4<f32>();
  for (var k = 0u; k < k4; k += 4u) {
    // Each weight read serves the four rows.
    let w = quad_weights(k, quads, q);
    acc[0] += w * shared_x(o.x, k, ql);
    acc[1] += w * shared_x(o.y, k, ql);
    acc[2] += w * shared_x(o.z, k, ql);
    acc[3] += w * shared_x(o.w, k, ql);
  }
  store_rows(m0, q, acc + rows_dot(k4, quads, q, o));
}
