// graph_conv.wgsl: ONNX Conv, 1-D and 2-D (a 1-D conv is a 2-D one of height 1), with groups, strides,
// pads and dilations, bias, and an activation applied before the store; one output element per
// invocation:
//   out[n, m, oh, ow] = ACT(bias[m] + Σ_{c < C/G, kh, kw} x[n, g·C/G + c, ih, iw] · w[m, c, kh, kw])
//   ih = oh·stride_h - pad_top + kh·dil_h,  iw = ow·stride_w - pad_left + kw·dil_w  (outside = 0)
// with g = m / (M/G) (x read through PRE_ACT). MAGNITUDE (the STFT front end of Silero VAD: a conv whose output channels
// are the real parts, then the imaginary parts, followed by Slice, Pow 2, Add and Sqrt) computes
// channels m and m + M of a 2M-channel conv and stores sqrt(re² + im²) as channel m of M.
// Grid: graph_common.wgsl's 1-D grid over count = N · M · OH · OW (M the stored channels).
// Params (u32): [0] count, [1] C, [2] H, [3] W, [4] M (stored channels), [5] OH, [6] OW, [7] KH,
// [8] KW, [9] G, [10] stride_h, [11] stride_w, [12] pad_top, [13] pad_left, [14] dil_h, [15] dil_w,
// [16] x_base, [17] out_base, [18] has_bias (0/1), [19] MW (channels of w: M, or 2M with MAGNITUDE).
// Layouts: x [N, C, H, W], w [MW, C/G, KH, KW], bias [MW], out [N, M, OH, OW]; f32, row-major.
// Module: lib/precision_f32.wgsl + lib/graph_common.wgsl + this file

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

override MAGNITUDE: bool = false;
// An activation applied to x as it is read (a Relu before the conv, folded in: gpu/fuse.ts); padded
// positions contribute nothing either way.
override PRE_ACT: u32 = 0u;

// One output channel mw (of w's MW) at (n, oh, ow).
fn conv_at(n: u32, mw: u32, oh: u32, ow: u32) -> f32 {
  let C = params[1];
  let H = params[2];
  let W = params[3];
  let KH = params[7];
  let KW = params[8];
  let G = params[9];
  let MW = params[19];
  let cg = C / G;
  let g = mw / (MW / G);
  var acc = select(0.0, bias[mw], params[18] != 0u);
  let h0 = i32(oh * params[10]) - i32(params[12]);
  let w0 = i32(ow * params[11]) - i32(params[13]);
  for (var c = 0u; c < cg; c++) {
    let xc = params[16] + (n * C + g * cg + c) * H * W;
    let wc = (mw * cg + c) * KH * KW;
    for (var kh = 0u; kh < KH; kh++) {
      let ih = h0 + i32(kh * params[14]);
      if (ih < 0 || ih >= i32(H)) {
        continue;
      }
      let xr = xc + u32(ih) * W;
      let wr = wc + kh * KW;
      for (var kw = 0u; kw < KW; kw++) {
        let iw = w0 + i32(kw * params[15]);
        if (iw >= 0 && iw < i32(W)) {
          acc += activate(PRE_ACT, x[xr + u32(iw)], 0.0, 0.0) * w[wr + kw];
        }
      }
    }
  }
  return acc;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = item_index(gid, nwg);
  if (i >= params[0]) {
    return;
  }
  let M = params[4];
  let OH = params[5];
  let OW = params[6];
  let ow = i % OW;
  let oh = (i / OW) % OH;
  let m = (i / (OW * OH)) % M;
  let n = i / (OW * OH * M);
  var v: f32;
  if (MAGNITUDE) {
    let re = conv_at(n, m, oh, ow);
    let im = conv_at(n, m + M, oh, ow);
    v = sqrt(re * re + im * im);
  } else {
    v = conv_at(n, m, oh, ow);
  }
  out[params[17] + i] = activate(ACT, v, ACT_ALPHA, ACT_BETA);
}
