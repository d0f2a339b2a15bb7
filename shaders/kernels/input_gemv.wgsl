// input_gemv.wgsl: the input projection of one layer without workgroup memory or barriers, for few
// rows (a streaming step has M = B rows) and for CPU-emulated adapters, where input_proj.wgsl's
// barriers cost more than its shared tiles save:
//   xproj[m, n] = sum_k x[m, k] * w_t[k, n] + bias[n],   m < M = T·B, n < N = D·G·H, k < K = I_k
// The same contract as input_proj.wgsl (bindings by name; w_t is ONNX's W [D, G·H, I_k] transposed
// to [K, NP] with NP = N rounded up to a multiple of 4, zero columns past N; bias the folded
// biases; rows read through the x strides), so either kernel serves a layer.
//
// Grid: x = ceil(quads · ceil(M / TM) / WG) blocks of WG invocations, quads = NP / 4 column quads;
// invocation i takes column quad q = i % quads of row block i / quads (TM = 1 or 4 rows), so every
// invocation of a workgroup has work even when N is small. It computes the TM × 4 block
// xproj[m0 .. m0 + TM - 1, 4q .. 4q + 3]
// in registers: per k one vec4 load of w_t (neighbouring invocations read neighbouring 16-byte
// words) and TM loads of x (the same word for every invocation of the block: a broadcast) feed
// 4·TM multiply-adds. Nothing computes rows or columns that do not exist beyond the last quad.
// Layouts (f32, row-major): x as in input_proj.wgsl; w_t [K, NP] read as vec4 [K, NP / 4];
// bias [N]; xproj [M, N] = [T, B, D, G, H].
// Module: lib/precision_*.wgsl + lib/projection_common.wgsl + this file

// (projection_common.wgsl is prepended: Dims, bindings 0, 1, 3, 4, the overrides K, N, TM.)
// w_t is sized by W_T_LEN (scalars), a const that kernels/sources.ts appends: a fixed length spares CPU
// emulators an arrayLength division per bounds-checked read.
@group(0) @binding(2) var<storage, read> w_t: array<weight4, W_T_LEN / 4u>;

override WG: u32 = 64u;

// Offset of row m of x; rows past the end read row 0 (their sums are computed and dropped).
fn x_row(m: u32) -> u32 {
  return x_row_offset(select(0u, m, m < dims.rows));
}

// Row m of the block: columns 4q .. 4q + 3 of acc plus their biases, where they exist.
fn store_row(m: u32, q: u32, acc: vec4<f32>) {
  if (m >= dims.rows) {
    return;
  }
  for (var c = 0u; c < 4u; c++) {
    let n = 4u * q + c;
    if (n < N) {
      xproj[m * N + n] = acc[c] + bias[n];
    }
  }
}

// Columns 4q .. 4q + 3 of row offset o, summed over k = k0 .. K - 1.
fn row_dot(k0: u32, quads: u32, q: u32, o: u32) -> vec4<f32> {
  var acc = vec4<f32>();
  for (var k = k0; k < K; k++) {
    acc += vec4<f32>(w_t[k * quads + q]) * x[o + k];
  }
  return acc;
}

// The same for the four rows at offsets o (TM = 4), each weight read serving the four.
fn rows_dot(k0: u32, quads: u32, q: u32, o: vec4<u32>) -> mat4x4<f32> {
  var acc = mat4x4<f32>();
  for (var k = k0; k < K; k++) {
    let wv = vec4<f32>(w_t[k * quads + q]);
    acc[0] += wv * x[o.x + k];
    acc[1] += wv * x[o.y + k];
    acc[2] += wv * x[o.z + k];
    acc[3] += wv * x[o.w + k];
  }
  return acc;
}

fn row_offsets(m0: u32) -> vec4<u32> {
  return vec4<u32>(x_row(m0), x_row(m0 + 1u), x_row(m0 + 2u), x_row(m0 + 3u));
}

fn store_rows(m0: u32, q: u32, acc: mat4x4<f32>) {
  store_row(m0, q, acc[0]);
  store_row(m0 + 1u, q, acc[1]);
  store_row(m0 + 2u, q, acc[2]);
  store_row(m0 + 3u, q, acc[3]);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let quads = (N + 3u) / 4u;
  let q = gid.x % quads;
  let m0 = (gid.x / quads) * TM;
  if (m0 >= dims.rows) {
    return;
  }
  if (TM == 1u) {
    store_row(m0, q, row_dot(0u, quads, q, x_row(m0)));
    return;
  }
  store_rows(m0, q, rows_dot(0u, quads, q, row_offsets(m0)));
}
