// graph_reduce.wgsl: ONNX's Reduce* ops, one output element per invocation, looping over the reduced
// elements:
//   out[i] = FINISH(FOLD over r of x[base(i) + offset(r)])
// base(i) from i's coordinates over the kept dimensions and their input strides, offset(r) from r's
// coordinates over the reduced ones (kept or not in the output's shape, keepdims only changes dims).
// Grid: graph_common.wgsl's 1-D grid over count = the number of output elements.
// Params (u32): [0] count, [1] kept rank, [2] reduced rank, [3] src_base, [4] dst_base,
// [5] reduced count, then (extent, stride) per kept dimension, then per reduced dimension.
// Layouts: f32, row-major; strides in elements of the input.
// Module: lib/precision_f32.wgsl + lib/graph_common.wgsl + this file

@group(0) @binding(1) var<storage, read> src: array<f32, SRC_LEN>;
@group(0) @binding(2) var<storage, read_write> out: array<f32, OUT_LEN>;

// 0 Sum, 1 Mean, 2 Max, 3 Min, 4 Prod, 5 L1, 6 L2, 7 SumSquare, 8 LogSum, 9 LogSumExp (codes.ts).
override OP: u32 = 0u;

// The input offset of reduced element r: base plus r's coordinates over the reduced dimensions
// (their (extent, stride) pairs start at word r0) times their strides.
fn reduced_offset(base: u32, r: u32, r0: u32, red: u32) -> u32 {
  var rr = r;
  var off = base;
  for (var d = red; d > 0u; d--) {
    let k = r0 + 2u * (d - 1u);
    off += (rr % params[k]) * params[k + 1u];
    rr = rr / params[k];
  }
  return off;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = item_index(gid, nwg);
  if (i >= params[0]) {
    return;
  }
  let kept = params[1];
  let red = params[2];
  let n = params[5];
  var rest = i;
  var base = params[3];
  for (var d = kept; d > 0u; d--) {
    let k = 6u + 2u * (d - 1u);
    base += (rest % params[k]) * params[k + 1u];
    rest = rest / params[k];
  }
  let r0 = 6u + 2u * kept;
  // LogSumExp subtracts the maximum first, as ONNX Runtime does, so that large inputs do not overflow.
  var shift = 0.0;
  if (OP == 9u) {
    shift = f32_from_bits(0xff800000u);
    for (var r = 0u; r < n; r++) {
      shift = max(shift, src[reduced_offset(base, r, r0, red)]);
    }
    if (shift == f32_from_bits(0xff800000u)) {
      shift = 0.0;
    }
  }
  var acc: f32;
  switch OP {
    case 2u: { acc = f32_from_bits(0xff800000u); }
    case 3u: { acc = f32_from_bits(0x7f800000u); }
    case 4u: { acc = 1.0; }
    default: { acc = 0.0; }
  }
  for (var r = 0u; r < n; r++) {
    let v = src[reduced_offset(base, r, r0, red)];
    switch OP {
      case 2u: { acc = max(acc, v); }
      case 3u: { acc = min(acc, v); }
      case 4u: { acc *= v; }
      case 5u: { acc += abs(v); }
      case 6u, 7u: { acc += v * v; }
      case 9u: { acc += exp(v - shift); }
      default: { acc += v; }
    }
  }
  switch OP {
    case 1u: { acc = acc / f32(n); }
    case 6u: { acc = sqrt(acc); }
    case 8u: { acc = log(acc); }
    case 9u: { acc = log(acc) + shift; }
    default: {}
  }
  out[params[4] + i] = acc;
}
