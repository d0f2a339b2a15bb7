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
// Module: lib/precision_f32.wgsl + lib/graph_common.wgsl + lib/conv_common.wgsl + this file

// (lib/conv_common.wgsl is prepended: the bindings x, w, bias, out and MAGNITUDE, PRE_ACT, C_INNER.)

// Four output positions per invocation (conv_at4); the grid is then N · M · OH · ceil(OW / 4).
override POS4: bool = false;

// Channels mw and mw + M2 (both when PAIR: the magnitude's real and imaginary parts, which read the
// same x) at (n, oh, ow), over the taps that land inside x: the kernel-width range is clipped once
// per row instead of testing every tap (CPU emulators pay for each test and each divergent branch).
// Where (n, mw)'s reads start and the geometry the tap loops walk.
struct ConvRead {
  H: u32,
  W: u32,
  KH: u32,
  KW: u32,
  dil_h: u32,
  dil_w: u32,
  cg: u32,      // input channels per group
  plane: u32,   // H · W
  taps: u32,    // KH · KW
  xc: u32,      // x index of (n, the group's first channel, 0, 0)
  wc: u32,      // w index of (mw, 0, 0, 0)
}

fn conv_read(n: u32, mw: u32) -> ConvRead {
  let C = params[1];
  let G = params[9];
  let cg = C / G;
  let g = mw / (params[19] / G);
  let plane = params[2] * params[3];
  let taps = params[7] * params[8];
  return ConvRead(params[2], params[3], params[7], params[8], params[14], params[15], cg, plane, taps,
                  params[16] + (n * C + g * cg) * plane, mw * cg * taps);
}

// The biases of channels mw and (with PAIR) mw + M2, zero without a bias.
fn conv_bias(mw: u32, M2: u32, PAIR: bool) -> vec2<f32> {
  if (params[18] == 0u) {
    return vec2<f32>(0.0);
  }
  return vec2<f32>(bias[mw], select(0.0, bias[mw + M2], PAIR));
}

fn conv_at(n: u32, mw: u32, M2: u32, oh: u32, ow: u32, PAIR: bool) -> vec2<f32> {
  let r = conv_read(n, mw);
  let b = conv_bias(mw, M2, PAIR);
  var acc = b;
  let h0 = i32(oh * params[10]) - i32(params[12]);
  let w0 = i32(ow * params[11]) - i32(params[13]);
  // Taps kw with 0 <= w0 + kw·dil_w < W.
  var kw_lo = 0u;
  if (w0 < 0) {
    kw_lo = (u32(-w0) + r.dil_w - 1u) / r.dil_w;
  }
  var kw_hi = 0u;
  if (i32(r.W) > w0) {
    kw_hi = min(r.KW, (u32(i32(r.W) - w0) + r.dil_w - 1u) / r.dil_w);
  }
  var xc = r.xc;
  var wc = r.wc;
  let wpair = M2 * r.cg * r.taps;
  // The products of a row are summed 16 at a time, then the parts added: a two-level tree rounds far
  // less than one long chain (the STFT's 256 taps), which matters where log(2^20·m + 1) follows
  // (Silero v4 magnifies the rounding of near-silent bins a million times).
  if (C_INNER) {
    // Many channels, few taps (Silero's encoder: 129 channels × 3): the channel loop innermost, a long
    // affine loop of two loads and a multiply-add, rather than thousands of 3-tap loops.
    for (var kh = 0u; kh < r.KH; kh++) {
      let ih = h0 + i32(kh * r.dil_h);
      if (ih < 0 || ih >= i32(r.H)) {
        continue;
      }
      for (var kw = kw_lo; kw < kw_hi; kw++) {
        var xi = u32(i32(xc + u32(ih) * r.W) + w0) + kw * r.dil_w;
        var wi = wc + kh * r.KW + kw;
        var part = vec2<f32>(0.0);
        for (var c = 0u; c < r.cg; c++) {
          let xv = activate(PRE_ACT, x[xi], 0.0, 0.0);
          part.x += xv * w[wi];
          if (PAIR) {
            part.y += xv * w[wi + wpair];
          }
          xi += r.plane;
          wi += r.taps;
        }
        acc += part;
      }
    }
    return acc;
  }
  for (var c = 0u; c < r.cg; c++) {
    for (var kh = 0u; kh < r.KH; kh++) {
      let ih = h0 + i32(kh * r.dil_h);
      if (ih < 0 || ih >= i32(r.H)) {
        continue;
      }
      let xr = u32(i32(xc + u32(ih) * r.W) + w0);
      let wr = wc + kh * r.KW;
      // Chunks of at most 16 taps summed apart, then added to acc.
      for (var k0 = kw_lo; k0 < kw_hi; k0 += 16u) {
        var part = vec2<f32>(0.0);
        let k1 = min(k0 + 16u, kw_hi);
        for (var kw = k0; kw < k1; kw++) {
          let xv = activate(PRE_ACT, x[xr + kw * r.dil_w], 0.0, 0.0);
          part.x += xv * w[wr + kw];
          if (PAIR) {
            part.y += xv * w[wr + wpair + kw];
          }
        }
        acc += part;
      }
    }
    xc += r.plane;
    wc += r.taps;
  }
  return acc;
}

// Four output positions (ow0 .. ow0 + 3 of one row) at once, for POS4: each weight read serves four
// multiply-adds and the loop runs a quarter as often (SwiftShader, the adapter of browsers without a
// GPU, pays per load and per loop trip far more than per arithmetic lane). A tap that falls outside x
// for some of the four reads a clamped in-range element and is masked out.
struct Acc4 {
  re: vec4<f32>,
  im: vec4<f32>,
}

fn conv_at4(n: u32, mw: u32, M2: u32, oh: u32, ow0: u32, PAIR: bool) -> Acc4 {
  let r = conv_read(n, mw);
  let b = conv_bias(mw, M2, PAIR);
  var acc = Acc4(vec4<f32>(b.x), vec4<f32>(b.y));
  let h0 = i32(oh * params[10]) - i32(params[12]);
  let stride_w = i32(params[11]);
  let w0 = vec4<i32>(i32(ow0)) * stride_w + vec4<i32>(0, 1, 2, 3) * stride_w - vec4<i32>(i32(params[13]));
  // Taps that land inside x for at least one of the four positions: the last starts furthest right, so
  // it has the fewest taps cut off on the left; the first the fewest on the right.
  var kw_lo = 0u;
  if (w0.w < 0) {
    kw_lo = (u32(-w0.w) + r.dil_w - 1u) / r.dil_w;
  }
  var kw_hi = 0u;
  if (i32(r.W) > w0.x) {
    kw_hi = min(r.KW, (u32(i32(r.W) - w0.x) + r.dil_w - 1u) / r.dil_w);
  }
  var xc = r.xc;
  var wc = r.wc;
  let wpair = M2 * r.cg * r.taps;
  let zero = vec4<f32>(0.0);
  if (C_INNER) {
    for (var kh = 0u; kh < r.KH; kh++) {
      let ih = h0 + i32(kh * r.dil_h);
      if (ih < 0 || ih >= i32(r.H)) {
        continue;
      }
      for (var kw = kw_lo; kw < kw_hi; kw++) {
        let iw = w0 + vec4<i32>(i32(kw * r.dil_w));
        let inside = (iw >= vec4<i32>(0)) & (iw < vec4<i32>(i32(r.W)));
        var xi = vec4<u32>(select(vec4<i32>(0), iw, inside)) + vec4<u32>(xc + u32(ih) * r.W);
        var wi = wc + kh * r.KW + kw;
        var re = zero;
        var im = zero;
        for (var c = 0u; c < r.cg; c++) {
          let xv = vec4<f32>(
            activate(PRE_ACT, x[xi.x], 0.0, 0.0),
            activate(PRE_ACT, x[xi.y], 0.0, 0.0),
            activate(PRE_ACT, x[xi.z], 0.0, 0.0),
            activate(PRE_ACT, x[xi.w], 0.0, 0.0),
          );
          re += xv * w[wi];
          if (PAIR) {
            im += xv * w[wi + wpair];
          }
          xi += vec4<u32>(r.plane);
          wi += r.taps;
        }
        acc.re += select(zero, re, inside);
        acc.im += select(zero, im, inside);
      }
    }
    return acc;
  }
  for (var c = 0u; c < r.cg; c++) {
    for (var kh = 0u; kh < r.KH; kh++) {
      let ih = h0 + i32(kh * r.dil_h);
      if (ih < 0 || ih >= i32(r.H)) {
        continue;
      }
      let xr = xc + u32(ih) * r.W;
      let wr = wc + kh * r.KW;
      for (var k0 = kw_lo; k0 < kw_hi; k0 += 16u) {
        var re = zero;
        var im = zero;
        let k1 = min(k0 + 16u, kw_hi);
        for (var kw = k0; kw < k1; kw++) {
          let iw = w0 + vec4<i32>(i32(kw * r.dil_w));
          let inside = (iw >= vec4<i32>(0)) & (iw < vec4<i32>(i32(r.W)));
          let xi = vec4<u32>(select(vec4<i32>(0), iw, inside)) + vec4<u32>(xr);
          let xv = select(
            zero,
            vec4<f32>(
              activate(PRE_ACT, x[xi.x], 0.0, 0.0),
              activate(PRE_ACT, x[xi.y], 0.0, 0.0),
              activate(PRE_ACT, x[xi.z], 0.0, 0.0),
              activate(PRE_ACT, x[xi.w], 0.0, 0.0),
            ),
            inside,
          );
          re += xv * w[wr + kw];
          if (PAIR) {
            im += xv * w[wr + wpair + kw];
          }
        }
        acc.re += re;
        acc.im += im;
      }
    }
    xc += r.plane;
    wc += r.taps;
  }
  return acc;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = item_index(gid, nwg);
  let M = params[4];
  let OH = params[5];
  let OW = params[6];
  if (POS4) {
    let Q = (OW + 3u) / 4u;
    if (i >= params[0] / OW * Q) {
      return;
    }
    let ow0 = (i % Q) * 4u;
    let oh = (i / Q) % OH;
    let m = (i / (Q * OH)) % M;
    let n = i / (Q * OH * M);
    var v: vec4<f32>;
    if (MAGNITUDE) {
      let ri = conv_at4(n, m, M, oh, ow0, true);
      v = sqrt(ri.re * ri.re + ri.im * ri.im);
    } else {
      v = conv_at4(n, m, M, oh, ow0, false).re;
    }
    let o = params[17] + ((n * M + m) * OH + oh) * OW + ow0;
    for (var j = 0u; j < 4u; j++) {
      if (ow0 + j < OW) {
        out[o + j] = activate(ACT, v[j], ACT_ALPHA, ACT_BETA);
      }
    }
    return;
  }
  if (i >= params[0]) {
    return;
  }
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
