// graph_gather.wgsl: one strided copy that serves every data-movement op of float tensors: Slice (start,
// step), Transpose (permuted strides), Pad (constant, reflect, edge), Expand (stride 0), Gather
// (an index table along one dimension), Concat (each input copied into its region of the output:
// output strides and a base), and a contiguous copy. For each output coordinate o_d:
//   s_d = table[o_d] (where the dimension has a table), else start_d + o_d · step_d
//   out[dst_base + Σ o_d · dst_stride_d] = in[src_base + Σ s_d · src_stride_d]
// where an s_d outside [0, src_extent_d) is padding: PAD_MODE 0 stores pad_src[pad_index] (Pad's
// constant_value, which may be a tensor computed on the GPU), 1 reflects (ONNX 'reflect', the edge
// not repeated), 2 clamps to the edge, 3 wraps around (opset 19 'wrap').
// Grid: graph_common.wgsl's 1-D grid over count = the product of the output extents.
// Params (u32): [0] count, [1] rank, [2] src_base, [3] dst_base, [4] pad_index, then per
// dimension d at 5 + 7d: out_extent, src_stride, dst_stride, start (i32), step (i32), src_extent,
// table (word offset of its indices in params, 0xffffffff = none); the tables follow.
// Layouts: f32; strides in elements.
// Module: lib/precision_f32.wgsl + lib/graph_common.wgsl + this file

@group(0) @binding(1) var<storage, read> src: array<f32, SRC_LEN>;
@group(0) @binding(2) var<storage, read> pad_src: array<f32, PAD_SRC_LEN>;
@group(0) @binding(3) var<storage, read_write> out: array<f32, OUT_LEN>;

override PAD_MODE: u32 = 0u;

fn reflect_index(s: i32, n: i32) -> i32 {
  if (n == 1) {
    return 0;
  }
  let period = 2 * (n - 1);
  var r = s % period;
  if (r < 0) {
    r += period;
  }
  return select(r, period - r, r >= n);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = item_index(gid, nwg);
  if (i >= params[0]) {
    return;
  }
  let rank = params[1];
  var rest = i;
  var si = params[2];
  var di = params[3];
  var outside = false;
  for (var d = rank; d > 0u; d--) {
    let k = 5u + 7u * (d - 1u);
    let extent = params[k];
    let o = rest % extent;
    rest = rest / extent;
    let n = i32(params[k + 5u]);
    var s: i32;
    if (params[k + 6u] != 0xffffffffu) {
      s = param_i32(params[k + 6u] + o);
    } else {
      s = param_i32(k + 3u) + i32(o) * param_i32(k + 4u);
    }
    if (s < 0 || s >= n) {
      switch PAD_MODE {
        case 1u: { s = reflect_index(s, n); }
        case 2u: { s = clamp(s, 0, n - 1); }
        case 3u: { s = ((s % n) + n) % n; }
        default: { outside = true; s = 0; }
      }
    }
    si += u32(s) * params[k + 1u];
    di += o * params[k + 2u];
  }
  if (outside) {
    out[di] = pad_src[params[4]];
  } else {
    out[di] = src[si];
  }
}
