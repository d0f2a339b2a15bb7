// graph_conv_tile.wgsl: ONNX Conv (one group) as an implicit GEMM, for batched convs (the frames of
// session.scan's split as the batch): each invocation computes a tile of four output channels × four
// output positions, the positions counted over (n, oh, ow) flattened, so a tile spans frames when a
// frame has fewer than four positions:
//   out[n, m, oh, ow] = ACT(bias[m] + Σ_{c < C, kh, kw} x[n, c, ih, iw] · w[m, c, kh, kw])
//   ih = oh·stride_h - pad_top + kh·dil_h,  iw = ow·stride_w - pad_left + kw·dil_w  (outside = 0)
// with x read through PRE_ACT; MAGNITUDE as in graph_conv.wgsl (channels m and m + M of a 2M-channel
// conv, stored as sqrt(re² + im²) in channel m of M).
// Why a tile: on CPU emulators (SwiftShader, the adapter of browsers without a GPU) every storage
// read at a per-invocation address is a bounds-checked gather, and the multiply-adds are cheap SIMD;
// graph_conv.wgsl's POS4 reads 4 x + 1 w per 4 multiply-adds, a 4 × 4 tile 4 x + 4 w per 16 (and
// 4 x + 8 w per 32 with MAGNITUDE). Products are summed in parts of at most 16 taps (× C channels),
// then added: the two-level sum of graph_conv.wgsl, which Silero v4's log(2^20·m + 1) needs.
// Grid: graph_common.wgsl's 1-D grid over ceil(P / 4) · ceil(M / 4) items, P = N · OH · OW; item i
// is position tile i % ceil(P / 4) of channel tile i / ceil(P / 4) (neighbouring invocations share
// their weights and read neighbouring x). Tiles past P or M clamp their reads and skip their stores.
// Params (u32): graph_conv.wgsl's layout ([0] count = N · M · OH · OW, [1] C, [2] H, [3] W, [4] M,
// [5] OH, [6] OW, [7] KH, [8] KW, [9] G (must be 1), [10] stride_h, [11] stride_w, [12] pad_top,
// [13] pad_left, [14] dil_h, [15] dil_w, [16] x_base, [17] out_base, [18] has_bias, [19] MW).
// Layouts: x [N, C, H, W], w [MW, C, KH, KW], bias [MW], out [N, M, OH, OW]; f32, row-major.
// Module: lib/precision_f32.wgsl + lib/graph_common.wgsl + lib/conv_common.wgsl + this file

// (lib/conv_common.wgsl is prepended: the bindings x, w, bias, out and MAGNITUDE, PRE_ACT, C_INNER.)

// Some pad is not 0, so taps may fall outside x and are masked (without it no tap does).
override PADDED: bool = false;

// A tile's sums: c[k] holds channel m0 + k at the four positions (im: the imaginary rows, MAGNITUDE).
struct Tile {
  c0: vec4<f32>,
  c1: vec4<f32>,
  c2: vec4<f32>,
  c3: vec4<f32>,
}

fn x4(i: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(
    activate(PRE_ACT, x[i.x], 0.0, 0.0),
    activate(PRE_ACT, x[i.y], 0.0, 0.0),
    activate(PRE_ACT, x[i.z], 0.0, 0.0),
    activate(PRE_ACT, x[i.w], 0.0, 0.0),
  );
}

fn w4(i: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(w[i.x], w[i.y], w[i.z], w[i.w]);
}

fn add(a: Tile, b: Tile) -> Tile {
  return Tile(a.c0 + b.c0, a.c1 + b.c1, a.c2 + b.c2, a.c3 + b.c3);
}

fn fma_tile(t: Tile, xv: vec4<f32>, wv: vec4<f32>) -> Tile {
  return Tile(t.c0 + xv * wv.x, t.c1 + xv * wv.y, t.c2 + xv * wv.z, t.c3 + xv * wv.w);
}

fn bias_tile(m: vec4<u32>) -> Tile {
  if (params[18] == 0u) {
    return Tile(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  }
  return Tile(vec4<f32>(bias[m.x]), vec4<f32>(bias[m.y]), vec4<f32>(bias[m.z]), vec4<f32>(bias[m.w]));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = item_index(gid, nwg);
  let C = params[1];
  let H = params[2];
  let W = params[3];
  let M = params[4];
  let OH = params[5];
  let OW = params[6];
  let KH = params[7];
  let KW = params[8];
  let dil_h = params[14];
  let dil_w = params[15];
  let P = params[0] / M;
  let PQ = (P + 3u) / 4u;
  if (i >= PQ * ((M + 3u) / 4u)) {
    return;
  }
  let p0 = (i % PQ) * 4u;
  let m0 = (i / PQ) * 4u;

  // Per position: where its frame's x starts, its first input row and column, its output index.
  let plane = H * W;
  var xb: vec4<i32>;
  var h0: vec4<i32>;
  var w0: vec4<i32>;
  var ob: vec4<u32>;
  for (var j = 0u; j < 4u; j++) {
    let p = min(p0 + j, P - 1u);
    let ow = p % OW;
    let oh = (p / OW) % OH;
    let n = p / (OW * OH);
    xb[j] = i32(params[16] + n * C * plane);
    h0[j] = i32(oh * params[10]) - i32(params[12]);
    w0[j] = i32(ow * params[11]) - i32(params[13]);
    ob[j] = params[17] + (n * M * OH + oh) * OW + ow;
  }
  let m = min(vec4<u32>(m0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(M - 1u));
  let taps = KH * KW;
  let wrow = m * (C * taps);
  let wpair = M * C * taps;
  let zero = vec4<f32>(0.0);
  var re = bias_tile(m);
  var im = re;
  if (MAGNITUDE) {
    im = bias_tile(m + vec4<u32>(M));
  }

  if (C_INNER) {
    // Many channels, few taps (Silero's encoder: 129 channels × 3): the channel loop innermost.
    for (var kh = 0u; kh < KH; kh++) {
      let ih = h0 + vec4<i32>(i32(kh * dil_h));
      let row_in = (ih >= vec4<i32>(0)) & (ih < vec4<i32>(i32(H)));
      if (!any(row_in)) {
        continue;
      }
      let xrow = xb + ih * i32(W);
      for (var k0 = 0u; k0 < KW; k0 += 16u) {
        var part_re = Tile(zero, zero, zero, zero);
        var part_im = part_re;
        let k1 = min(k0 + 16u, KW);
        for (var kw = k0; kw < k1; kw++) {
          let iw = w0 + vec4<i32>(i32(kw * dil_w));
          let inside = row_in & (iw >= vec4<i32>(0)) & (iw < vec4<i32>(i32(W)));
          // Outside positions read a clamped element and are zeroed.
          var xi = vec4<u32>(select(vec4<i32>(0), xrow + iw, inside));
          var wi = wrow + vec4<u32>(kh * KW + kw);
          for (var c = 0u; c < C; c++) {
            let xv = select(zero, x4(xi), inside);
            part_re = fma_tile(part_re, xv, w4(wi));
            if (MAGNITUDE) {
              part_im = fma_tile(part_im, xv, w4(wi + vec4<u32>(wpair)));
            }
            xi += vec4<u32>(plane);
            wi += vec4<u32>(taps);
          }
        }
        re = add(re, part_re);
        im = add(im, part_im);
      }
    }
  } else {
    // Few channels, many taps (the STFT: one channel × 256): the tap loop innermost, and without
    // PADDED (every pad 0, so every tap of a valid position is inside x) no masks at all.
    for (var c = 0u; c < C; c++) {
      for (var kh = 0u; kh < KH; kh++) {
        let ih = h0 + vec4<i32>(i32(kh * dil_h));
        let row_in = (ih >= vec4<i32>(0)) & (ih < vec4<i32>(i32(H)));
        if (PADDED && !any(row_in)) {
          continue;
        }
        let xrow = xb + i32(c * plane) + ih * i32(W);
        for (var k0 = 0u; k0 < KW; k0 += 16u) {
          var part_re = Tile(zero, zero, zero, zero);
          var part_im = part_re;
          let k1 = min(k0 + 16u, KW);
          var wi = wrow + vec4<u32>((c * KH + kh) * KW + k0);
          for (var kw = k0; kw < k1; kw++) {
            let iw = w0 + vec4<i32>(i32(kw * dil_w));
            var xv: vec4<f32>;
            if (PADDED) {
              let inside = row_in & (iw >= vec4<i32>(0)) & (iw < vec4<i32>(i32(W)));
              xv = select(zero, x4(vec4<u32>(select(vec4<i32>(0), xrow + iw, inside))), inside);
            } else {
              xv = x4(vec4<u32>(xrow + iw));
            }
            part_re = fma_tile(part_re, xv, w4(wi));
            if (MAGNITUDE) {
              part_im = fma_tile(part_im, xv, w4(wi + vec4<u32>(wpair)));
            }
            wi += vec4<u32>(1u);
          }
          re = add(re, part_re);
          im = add(im, part_im);
        }
      }
    }
  }

  var rows = array<vec4<f32>, 4>(re.c0, re.c1, re.c2, re.c3);
  if (MAGNITUDE) {
    rows = array<vec4<f32>, 4>(
      sqrt(re.c0 * re.c0 + im.c0 * im.c0),
      sqrt(re.c1 * re.c1 + im.c1 * im.c1),
      sqrt(re.c2 * re.c2 + im.c2 * im.c2),
      sqrt(re.c3 * re.c3 + im.c3 * im.c3),
    );
  }
  let ostride = OH * OW;
  for (var k = 0u; k < 4u; k++) {
    if (m0 + k >= M) {
      break;
    }
    for (var j = 0u; j < 4u; j++) {
      if (p0 + j < P) {
        out[ob[j] + (m0 + k) * ostride] = activate(ACT, rows[k][j], ACT_ALPHA, ACT_BETA);
      }
    }
  }
}
