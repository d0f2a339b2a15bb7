// graph_softmax.wgsl: ONNX Softmax and LogSoftmax over one axis of extent L (opset 13+), or over the
// flattened trailing dimensions (opsets 1-12: the host passes inner = 1 and L = their product);
// one invocation per (outer, inner) pair, three passes over the L elements:
//   out = exp(x - max) / Σ exp(x - max)     or, LOG,   x - max - log Σ exp(x - max)
// Grid: graph_common.wgsl's 1-D grid over count = outer · inner.
// Params (u32): [0] count, [1] L, [2] inner, [3] src_base, [4] dst_base.
// Layouts: f32 [outer, L, inner] row-major.
// Module: lib/precision_f32.wgsl + lib/graph_common.wgsl + this file

@group(0) @binding(1) var<storage, read> src: array<f32, SRC_LEN>;
@group(0) @binding(2) var<storage, read_write> out: array<f32, OUT_LEN>;

override LOG: bool = false;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = item_index(gid, nwg);
  if (i >= params[0]) {
    return;
  }
  let L = params[1];
  let inner = params[2];
  let base = (i / inner) * L * inner + i % inner;
  var top = f32_from_bits(0xff800000u);
  for (var l = 0u; l < L; l++) {
    top = max(top, src[params[3] + base + l * inner]);
  }
  var sum = 0.0;
  for (var l = 0u; l < L; l++) {
    sum += exp(src[params[3] + base + l * inner] - top);
  }
  let log_sum = log(sum);
  for (var l = 0u; l < L; l++) {
    let v = src[params[3] + base + l * inner] - top;
    out[params[4] + base + l * inner] = select(exp(v) / sum, v - log_sum, LOG);
  }
}
