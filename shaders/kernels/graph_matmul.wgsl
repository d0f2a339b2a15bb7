// graph_matmul.wgsl: ONNX MatMul (numpy batch broadcasting) and Gemm (transposes, alpha, beta, a
// broadcast C), one output element per invocation:
//   out[b, m, n] = ACT(alpha · Σ_k A[a_off(b) + m·a_m + k·a_k] · B[b_off(b) + k·b_k + n·b_n]
//                      + beta · C[c_base + m·c_m + n·c_n])       (the C term where has_c)
// Transposes are strides (a_m, a_k, b_k, b_n); broadcast batch dimensions have stride 0.
// Grid: graph_common.wgsl's 1-D grid over count = batch · M · N.
// Params (u32): [0] count, [1] M, [2] N, [3] K, [4] batch rank, [5] a_base, [6] b_base, [7] c_base,
// [8] out_base, [9] a_m, [10] a_k, [11] b_k, [12] b_n, [13] c_m, [14] c_n, [15] has_c,
// [16] alpha (f32 bits), [17] beta (f32 bits), then per batch dimension at 18 + 3d: extent,
// a_stride, b_stride.
// Layouts: f32; out [batch…, M, N] row-major.
// Module: lib/precision_f32.wgsl + lib/graph_common.wgsl + this file

@group(0) @binding(1) var<storage, read> ma: array<f32, MA_LEN>;
@group(0) @binding(2) var<storage, read> mb: array<f32, MB_LEN>;
@group(0) @binding(3) var<storage, read> mc: array<f32, MC_LEN>;
@group(0) @binding(4) var<storage, read_write> out: array<f32, OUT_LEN>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = item_index(gid, nwg);
  if (i >= params[0]) {
    return;
  }
  let M = params[1];
  let N = params[2];
  let K = params[3];
  let n = i % N;
  let m = (i / N) % M;
  var rest = i / (N * M);
  var ao = params[5];
  var bo = params[6];
  for (var d = params[4]; d > 0u; d--) {
    let k = 18u + 3u * (d - 1u);
    let c = rest % params[k];
    rest = rest / params[k];
    ao += c * params[k + 1u];
    bo += c * params[k + 2u];
  }
  ao += m * params[9];
  bo += n * params[12];
  var acc = 0.0;
  for (var k = 0u; k < K; k++) {
    acc += ma[ao + k * params[10]] * mb[bo + k * params[11]];
  }
  var v = param_f32(16u) * acc;
  if (params[15] != 0u) {
    v += param_f32(17u) * mc[params[7] + m * params[13] + n * params[14]];
  }
  out[params[8] + i] = activate(ACT, v, ACT_ALPHA, ACT_BETA);
}
