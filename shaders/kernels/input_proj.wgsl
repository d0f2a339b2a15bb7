// input_proj.wgsl: the input projection of one layer for all timesteps and both directions, one tiled GEMM:
//   xproj[m, n] = sum_k x[m, k] * w_t[k, n] + bias[n],   m in [0, M = T·B), n in [0, N = D·G·H), k in [0, K = I_k)
// w_t is ONNX's W [D, G·H, I_k] read as [N, K] and transposed to [K, NP], NP = N rounded up to a
// multiple of 4 (zero columns; pack.ts transposeInput), shared with input_gemv.wgsl; bias holds the biases that can be folded into the
// projection (rnn-semantics.md §9: Wb + Rb of every gate, except a linear_before_reset GRU's h gate, which folds only Wbh
// because Rbh sits inside r ⊙ (…); the host computes them). This is the parallel bulk of a layer's work.
//
// Grid: x = ceil(N / 64), y = ceil(M / (16·TM)). Workgroup 16 × 16 invocations; each computes a TM × 4
// block of the workgroup's (16·TM) × 64 output tile, from x and w tiles staged through workgroup
// memory 16 columns of K at a time (2 × 4 KiB). TM = 4 normally; TM = 1 when M is small (a streaming
// step has M = B), where 64-row tiles would compute up to 64 times the useful rows.
// Rows of x are read through the strides (projection_common.wgsl, x_row_offset).
// Layouts (f32, row-major): x [T, B, I], [B, T, I] or [T, B, D·Hout]; w_t [K, NP]; bias [N]; xproj [M, N] = [T, B, D, G, H].
// Module: lib/precision_*.wgsl + lib/projection_common.wgsl + this file

// (projection_common.wgsl is prepended: Dims, bindings 0, 1, 3, 4, the overrides K, N, TM, x_row_offset.)
// w_t is sized by W_T_LEN (scalars), a const that kernels/sources.ts appends: a fixed length spares CPU
// emulators an arrayLength division per bounds-checked read.
@group(0) @binding(2) var<storage, read> w_t: array<weight, W_T_LEN>;

// TILE (emitted by the host, kernels/constants.ts GEMM_TILE): output columns per workgroup, and the x_tile row stride
const TK = 16u;     // K columns staged per pass

var<workgroup> x_tile: array<f32, TK * TILE>;   // [TK][TILE]: rows 0 .. 16·TM - 1 used
var<workgroup> w_tile: array<f32, TK * TILE>;   // [TK][TILE]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let m0 = wg.y * 16u * TM;
  let n0 = wg.x * TILE;
  var acc: array<vec4<f32>, 4>;   // acc[r][c]: row m0 + TM lid.y + r (r < TM), column n0 + 4 lid.x + c

  for (var k0 = 0u; k0 < K; k0 += TK) {
    for (var e = li; e < TILE * TK; e += 256u) {
      let r = e / TK;
      let kk = e % TK;
      let k = k0 + kk;
      if (r < 16u * TM) {
        let m = m0 + r;
        var xv = 0.0;
        if (m < dims.rows && k < K) {
          xv = x[x_row_offset(m) + k];
        }
        x_tile[kk * TILE + r] = xv;
      }
      // Staged transposed: element e reads column n0 + e % TILE of row k0 + e / TILE of w_t, so
      // neighbouring invocations read neighbouring words.
      let wn = n0 + e % TILE;
      let wk = k0 + e / TILE;
      var wv = 0.0;
      if (wn < N && wk < K) {
        wv = f32(w_t[wk * ((N + 3u) & ~3u) + wn]);
      }
      w_tile[e] = wv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let xo = kk * TILE + lid.y * TM;
      let wo = kk * TILE + lid.x * 4u;
      let wv = vec4<f32>(w_tile[wo], w_tile[wo + 1u], w_tile[wo + 2u], w_tile[wo + 3u]);
      for (var r = 0u; r < TM; r++) {
        acc[r] += x_tile[xo + r] * wv;
      }
    }
    workgroupBarrier();
  }

  for (var r = 0u; r < TM; r++) {
    let m = m0 + lid.y * TM + r;
    if (m >= dims.rows) {
      break;
    }
    for (var c = 0u; c < 4u; c++) {
      let n = n0 + lid.x * 4u + c;
      if (n < N) {
        xproj[m * N + n] = acc[r][c] + bias[n];
      }
    }
  }
}
