// input_proj.wgsl: the input projection of one layer for all timesteps and both directions, one tiled GEMM:
//   xproj[m, n] = sum_k x[m, k] * w[n, k] + bias[n],   m in [0, M = T·B), n in [0, N = D·G·H), k in [0, K = I_k)
// w is ONNX's W [D, G·H, I_k] read as [N, K]; bias holds the biases that can be folded into the
// projection (rnn-semantics.md §9; the host computes them). This is the parallel bulk of a layer's work.
//
// Grid: x = ceil(N / 64), y = ceil(M / 64). Workgroup 16 × 16 invocations; each computes a 4 × 4 block of
// the workgroup's 64 × 64 output tile, from x and w tiles staged through workgroup memory 16 columns
// of K at a time (2 × 4 KiB).
// Row m = t·B + b of x is read at t·dims.x_stride_t + b·dims.x_stride_b (k contiguous), so one kernel
// reads the time-major input [T, B, I], the batch-major input [B, T, I] and the previous layer's
// output [T, B, D·Hout] alike.
// Layouts (f32, row-major): x as above; w [N, K]; bias [N]; xproj [M, N] = [T, B, D, G, H].

struct Dims {
  rows: u32,
  batch: u32,
  x_stride_t: u32,
  x_stride_b: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> xproj: array<f32>;

override K: u32;
override N: u32;

const TILE = 64u;   // output rows and columns per workgroup
const TK = 16u;     // K columns staged per pass

var<workgroup> x_tile: array<f32, 1024>;   // [TK][TILE]
var<workgroup> w_tile: array<f32, 1024>;   // [TK][TILE]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let m0 = wg.y * TILE;
  let n0 = wg.x * TILE;
  var acc: array<vec4<f32>, 4>;   // acc[r][c]: row m0 + 4 lid.y + r, column n0 + 4 lid.x + c

  for (var k0 = 0u; k0 < K; k0 += TK) {
    for (var e = li; e < TILE * TK; e += 256u) {
      let r = e / TK;
      let kk = e % TK;
      let k = k0 + kk;
      let m = m0 + r;
      var xv = 0.0;
      if (m < dims.rows && k < K) {
        xv = x[(m / dims.batch) * dims.x_stride_t + (m % dims.batch) * dims.x_stride_b + k];
      }
      x_tile[kk * TILE + r] = xv;
      let n = n0 + r;
      var wv = 0.0;
      if (n < N && k < K) {
        wv = w[n * K + k];
      }
      w_tile[kk * TILE + r] = wv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let xo = kk * TILE + lid.y * 4u;
      let wo = kk * TILE + lid.x * 4u;
      let wv = vec4<f32>(w_tile[wo], w_tile[wo + 1u], w_tile[wo + 2u], w_tile[wo + 3u]);
      acc[0] += x_tile[xo] * wv;
      acc[1] += x_tile[xo + 1u] * wv;
      acc[2] += x_tile[xo + 2u] * wv;
      acc[3] += x_tile[xo + 3u] * wv;
    }
    workgroupBarrier();
  }

  for (var r = 0u; r < 4u; r++) {
    let m = m0 + lid.y * 4u + r;
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
