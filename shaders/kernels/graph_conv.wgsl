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

@group(0) @binding(1) var<storage, read> x: array<f32, X_LEN>;
@group(0) @binding(2) var<storage, read> w: array<f32, W_LEN>;
@group(0) @binding(3) var<storage, read> bias: array<f32, BIAS_LEN>;
@group(0) @binding(4) var<storage, read_write> out: array<f32, OUT_LEN>;

override MAGNITUDE: bool = false;
// An activation applied to x as it is read (a Relu before the conv, folded in: gpu/fuse.ts); padded
// positions contribute nothing either way.
override PRE_ACT: u32 = 0u;
// Loop order: channels innermost (more channels per group than taps), else taps innermost.
override C_INNER: bool = false;

// Channels mw and mw + M2 (both when PAIR: the magnitude's real and imaginary parts, which read the
// same x) at (n, oh, ow), over the taps that land inside x: the kernel-width range is clipped once
// per row instead of testing every tap (CPU emulators pay for each test and each divergent branch).
fn conv_at(n: u32, mw: u32, M2: u32, oh: u32, ow: u32, PAIR: bool) -> vec2<f32> {
  let C = params[1];
  let H = params[2];
  let W = params[3];
  let KH = params[7];
  let KW = params[8];
  let G = params[9];
  let dil_h = params[14];
  let dil_w = params[15];
  let MW = params[19];
  let cg = C / G;
  let g = mw / (MW / G);
  let has_bias = params[18] != 0u;
  var acc = vec2<f32>(select(0.0, bias[mw], has_bias), 0.0);
  if (PAIR) {
    acc.y = select(0.0, bias[mw + M2], has_bias);
  }
  let h0 = i32(oh * params[10]) - i32(params[12]);
  let w0 = i32(ow * params[11]) - i32(params[13]);
  // Taps kw with 0 <= w0 + kw·dil_w < W.
  var kw_lo = 0u;
  if (w0 < 0) {
    kw_lo = (u32(-w0) + dil_w - 1u) / dil_w;
  }
  var kw_hi = 0u;
  if (i32(W) > w0) {
    kw_hi = min(KW, (u32(i32(W) - w0) + dil_w - 1u) / dil_w);
  }
  let plane = H * W;
  let taps = KH * KW;
  var xc = params[16] + (n * C + g * cg) * plane;
  var wc = mw * cg * taps;
  let wpair = M2 * cg * taps;
  // The products of a row are summed 16 at a time, then the parts added: a two-level tree rounds far
  // less than one long chain (the STFT's 256 taps), which matters where log(2^20·m + 1) follows
  // (Silero v4 magnifies the rounding of near-silent bins a million times).
  if (C_INNER) {
    // Many channels, few taps (Silero's encoder: 129 channels × 3): the channel loop innermost, a long
    // affine loop of two loads and a multiply-add, rather than thousands of 3-tap loops.
    for (var kh = 0u; kh < KH; kh++) {
      let ih = h0 + i32(kh * dil_h);
      if (ih < 0 || ih >= i32(H)) {
        continue;
      }
      for (var kw = kw_lo; kw < kw_hi; kw++) {
        var xi = u32(i32(xc + u32(ih) * W) + w0) + kw * dil_w;
        var wi = wc + kh * KW + kw;
        var part = vec2<f32>(0.0);
        for (var c = 0u; c < cg; c++) {
          let xv = activate(PRE_ACT, x[xi], 0.0, 0.0);
          part.x += xv * w[wi];
          if (PAIR) {
            part.y += xv * w[wi + wpair];
          }
          xi += plane;
          wi += taps;
        }
        acc += part;
      }
    }
    return acc;
  }
  for (var c = 0u; c < cg; c++) {
    for (var kh = 0u; kh < KH; kh++) {
      let ih = h0 + i32(kh * dil_h);
      if (ih < 0 || ih >= i32(H)) {
        continue;
      }
      let xr = u32(i32(xc + u32(ih) * W) + w0);
      let wr = wc + kh * KW;
      // Chunks of at most 16 taps summed apart, then added to acc.
      for (var k0 = kw_lo; k0 < kw_hi; k0 += 16u) {
        var part = vec2<f32>(0.0);
        let k1 = min(k0 + 16u, kw_hi);
        for (var kw = k0; kw < k1; kw++) {
          let xv = activate(PRE_ACT, x[xr + kw * dil_w], 0.0, 0.0);
          part.x += xv * w[wr + kw];
          if (PAIR) {
            part.y += xv * w[wr + wpair + kw];
          }
        }
        acc += part;
      }
    }
    xc += plane;
    wc += taps;
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
    let ri = conv_at(n, m, M, oh, ow, true);
    v = sqrt(ri.x * ri.x + ri.y * ri.y);
  } else {
    v = conv_at(n, m, M, oh, ow, false).x;
  }
  out[params[17] + i] = activate(ACT, v, ACT_ALPHA, ACT_BETA);
}
