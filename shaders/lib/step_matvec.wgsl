// step_matvec.wgsl: the recurrent mat-vec helpers of the per-cell step kernels (cell_step.wgsl's
// entry points, gru_reset, lstm_projection); kernels/sources.ts prepends it after step_common.wgsl. Each
// module that includes it defines the two hooks these helpers call:
//   load_vector(d, b, k)   element k of the recurrent vector of row (d, b)
//   load_weights(d, k, j)  up to four gate weights of unit j at column k (unused lanes 0)
// The fused stack kernel (stack_step.wgsl) has its own loops and does not include this file.

// K_TILE (emitted by the host, kernels/constants.ts PERSISTENT_MAX_OUT): vector elements staged per pass
// through workgroup memory.

// The recurrent vector (h_prev, r ⊙ h_prev or the unprojected LSTM output) of BT batch rows,
// elements [k0, k0 + K_TILE) of each: vtile[bb * K_TILE + kk]. 4 KiB of workgroup memory.
// Staged by stage_vector, consumed by recurrent_matvec.
var<workgroup> vtile: array<f32, K_TILE * BT_MAX>;

// Fills vtile for batch rows b0 .. b0 + BT - 1 with elements k0 .. k0 + K_TILE - 1 of a vector of
// `width` elements, zero past either end. `load_vector(d, b, k)` is defined by each kernel.
// Callers follow it with workgroupBarrier().
fn stage_vector(d: u32, b0: u32, k0: u32, width: u32, lid: u32) {
  for (var e = lid; e < K_TILE * BT; e += WG) {
    let b = b0 + e / K_TILE;
    let k = k0 + e % K_TILE;
    var v = 0.0;
    if (k < width && b < dims.batch) {
      v = load_vector(d, b, k);
    }
    vtile[e] = v;
  }
}

// The mat-vec at the heart of every step kernel: for unit `unit` (< units) and each of the BT
// batch rows b0 + bb, acc[bb] = sum_k load_weights(d, k, unit) * vector_b[k] over k < width, where
// vector_b = load_vector(d, b, ·). load_weights returns up to four gate weights (unused lanes 0),
// both hooks are defined by each kernel. Every invocation of the workgroup must call this (it
// contains barriers); invocations with unit >= units only help stage the vector.
fn recurrent_matvec(d: u32, b0: u32, unit: u32, units: u32, width: u32, lid: u32) -> array<vec4<f32>, BT_MAX> {
  var acc: array<vec4<f32>, BT_MAX>;
  for (var k0 = 0u; k0 < width; k0 += K_TILE) {
    stage_vector(d, b0, k0, width, lid);
    workgroupBarrier();
    if (unit < units) {
      let kn = min(K_TILE, width - k0);
      for (var kk = 0u; kk < kn; kk++) {
        let w = load_weights(d, k0 + kk, unit);
        for (var bb = 0u; bb < BT; bb++) {
          acc[bb] += w * vtile[bb * K_TILE + kk];
        }
      }
    }
    workgroupBarrier();
  }
  return acc;
}

// The same mat-vec without workgroup memory or barriers, for batch rows b0 .. b0 + BT - 1 (BT = 1
// or 4): the recurrent vector is read straight from storage (neighbouring invocations of one row
// read the same word, which a GPU broadcasts), so nothing waits for the rest of the workgroup. CPU
// emulators turn every barrier into a switch between invocations; real GPUs keep every invocation
// busy. With BT = 4 each weight read serves four rows; rows past the batch repeat row b0 and are
// dropped by the caller. Used by main_direct.
fn direct_matvec(d: u32, b0: u32, unit: u32, width: u32) -> array<vec4<f32>, BT_MAX> {
  if (BT == 1u) {
    return array<vec4<f32>, BT_MAX>(direct_matvec_row(d, b0, unit, width), vec4<f32>(), vec4<f32>(), vec4<f32>());
  }
  let b1 = select(b0, b0 + 1u, b0 + 1u < dims.batch);
  let b2 = select(b0, b0 + 2u, b0 + 2u < dims.batch);
  let b3 = select(b0, b0 + 3u, b0 + 3u < dims.batch);
  var a0 = vec4<f32>();
  var a1 = vec4<f32>();
  var a2 = vec4<f32>();
  var a3 = vec4<f32>();
  for (var k = 0u; k < width; k++) {
    let w = load_weights(d, k, unit);
    a0 += w * load_vector(d, b0, k);
    a1 += w * load_vector(d, b1, k);
    a2 += w * load_vector(d, b2, k);
    a3 += w * load_vector(d, b3, k);
  }
  return array<vec4<f32>, BT_MAX>(a0, a1, a2, a3);
}

// direct_matvec of one row, unrolled by four with two accumulators.
fn direct_matvec_row(d: u32, b: u32, unit: u32, width: u32) -> vec4<f32> {
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  let k4 = width & ~3u;
  for (var k = 0u; k < k4; k += 4u) {
    acc0 += load_weights(d, k, unit) * load_vector(d, b, k);
    acc1 += load_weights(d, k + 1u, unit) * load_vector(d, b, k + 1u);
    acc0 += load_weights(d, k + 2u, unit) * load_vector(d, b, k + 2u);
    acc1 += load_weights(d, k + 3u, unit) * load_vector(d, b, k + 3u);
  }
  for (var k = k4; k < width; k++) {
    acc0 += load_weights(d, k, unit) * load_vector(d, b, k);
  }
  return acc0 + acc1;
}
