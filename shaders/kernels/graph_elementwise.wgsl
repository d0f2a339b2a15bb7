// graph_elementwise.wgsl: ONNX's broadcast binary ops and unary ops, one output element per invocation:
//   out[i] = ACT(OP(a[ia(i)], b[ib(i)]))   (BINARY), or   out[i] = ACT(a[ia(i)])
// where ia, ib follow numpy broadcasting: the output's coordinates times each input's strides
// (0 along a broadcast dimension).
// Grid: graph_common.wgsl's 1-D grid over count = the output's element count.
// Params (u32): [0] count, [1] rank, [2] a_base, [3] b_base, [4] out_base (element offsets into the
// bound buffers), then per dimension d (outermost first) at 5 + 3d: out_extent, a_stride, b_stride.
// Layouts: f32, row-major.
// Module: lib/precision_f32.wgsl + lib/graph_common.wgsl + this file

@group(0) @binding(1) var<storage, read> a: array<f32, A_LEN>;
@group(0) @binding(2) var<storage, read> b: array<f32, B_LEN>;
@group(0) @binding(3) var<storage, read_write> out: array<f32, OUT_LEN>;

override BINARY: bool = true;
// Binary op codes (src/onnx/gpu/codes.ts): 0 Add, 1 Sub, 2 Mul, 3 Div, 4 Pow, 5 Max, 6 Min, 7 PRelu, 8 Mod (fmod).
override OP: u32 = 0u;

// ONNX Pow as ONNX Runtime computes it (std::pow): a negative base with an integral exponent is
// defined (its sign from the exponent's parity); WGSL's pow is undefined for a negative base.
fn onnx_pow(x: f32, y: f32) -> f32 {
  if (y == 2.0) {
    return x * x;
  }
  if (y == 1.0) {
    return x;
  }
  if (y == 0.0) {
    return 1.0;
  }
  if (x >= 0.0) {
    if (x == 0.0) {
      return select(0.0, f32_from_bits(0x7f800000u), y < 0.0);
    }
    return pow(x, y);
  }
  if (y != floor(y)) {
    return f32_from_bits(0x7fc00000u);
  }
  let m = pow(-x, y);
  let odd = abs(y - 2.0 * floor(y / 2.0)) == 1.0;
  return select(m, -m, odd);
}

fn binary_op(x: f32, y: f32) -> f32 {
  switch OP {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 3u: { return x / y; }
    case 4u: { return onnx_pow(x, y); }
    case 5u: { return max(x, y); }
    case 6u: { return min(x, y); }
    case 7u: { return select(x * y, x, x >= 0.0); }
    case 8u: { return x - y * trunc(x / y); }
    default: { return x; }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = item_index(gid, nwg);
  if (i >= params[0]) {
    return;
  }
  let rank = params[1];
  var rest = i;
  var ia = params[2];
  var ib = params[3];
  for (var d = rank; d > 0u; d--) {
    let k = 5u + 3u * (d - 1u);
    let extent = params[k];
    let c = rest % extent;
    rest = rest / extent;
    ia += c * params[k + 1u];
    ib += c * params[k + 2u];
  }
  var v = a[ia];
  if (BINARY) {
    v = binary_op(v, b[ib]);
  }
  out[params[4] + i] = activate(ACT, v, ACT_ALPHA, ACT_BETA);
}
