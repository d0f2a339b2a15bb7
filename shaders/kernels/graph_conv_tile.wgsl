// graph_conv_tile.wgsl: ONNX Conv (one group) as an implicit GEMM, for batched convs (the frames of
// session.scan's split as the batch): each invocation computes a tile of four output channels × eight
// output positions, the positions counted over (n, oh, ow) flattened, so a tile spans frames when a
// frame has fewer than eight positions:
//   out[n, m, oh, ow] = ACT(bias[m] + Σ_{c < C, kh, kw} x[n, c, ih, iw] · w[m, c, kh, kw])
//   ih = oh·stride_h - pad_top + kh·dil_h,  iw = ow·stride_w - pad_left + kw·dil_w  (outside = 0)
// with x read through PRE_ACT; MAGNITUDE as in graph_conv.wgsl (channels m and m + M of a 2M-channel
// conv, stored as sqrt(re² + im²) in channel m of M).
// Why a tile: on CPU emulators (SwiftShader, the adapter of browsers without a GPU) each read at a
// per-invocation address is a bounds-checked gather and each loop trip costs its mask bookkeeping;
// graph_conv.wgsl's POS4 reads 4 x + 1 w per 4 multiply-adds, a 4 × 8 tile 8 x + 4 w per 32 (8 x +
// 8 w per 64 with MAGNITUDE). Measured in Node on SwiftShader (Subzero), Silero v5's split over 449
// frames: POS4 2.2 ms per frame, 4 × 4 tiles 0.95, 4 × 8 tiles 0.85 (the STFT barely moved, 114 →
// 110 ms: there the multiply-adds themselves dominate, so larger tiles would only add spills).
// Products are summed in parts of at most 16 taps (× C channels), then added: the two-level sum of
// graph_conv.wgsl, which Silero v4's log(2^20·m + 1) needs.
// Grid: graph_common.wgsl's 1-D grid over ceil(P / 8) · ceil(M / 4) items, P = N · OH · OW; item i
// is position tile i % ceil(P / 8) of channel tile i / ceil(P / 8) (neighbouring invocations share
// their weights and read neighbouring x). Tiles past P or M clamp their reads and skip their stores.
// Params (u32): graph_conv.wgsl's layout ([0] count = N · M · OH · OW, [1] C, [2] H, [3] W, [4] M,
// [5] OH, [6] OW, [7] KH, [8] KW, [9] G (must be 1), [10] stride_h, [11] stride_w, [12] pad_top,
// [13] pad_left, [14] dil_h, [15] dil_w, [16] x_base, [17] out_base, [18] has_bias, [19] MW).
// Layouts: x [N, C, H, W], w [MW, C, KH, KW], bias [MW], out [N, M, OH, OW]; f32, row-major.
// Module: lib/precision_f32.wgsl + lib/graph_common.wgsl + lib/conv_common.wgsl + this file

// (lib/conv_common.wgsl is prepended: the bindings x, w, bias, out and MAGNITUDE, PRE_ACT, C_INNER.)

// Some pad is not 0, so taps may fall outside x and are masked (without it no tap does).
override PADDED: bool = false;

// A tile's sums: a<k> holds channel m0 + k at positions p0 .. p0 + 3, b<k> at p0 + 4 .. p0 + 7.
struct Tile {
  a0: vec4<f32>,
  a1: vec4<f32>,
  a2: vec4<f32>,
  a3: vec4<f32>,
  b0: vec4<f32>,
  b1: vec4<f32>,
  b2: vec4<f32>,
  b3: vec4<f32>,
}

// Where four positions read: x index of their frame's (c = 0, ih = 0, iw = 0) row start, first input
// row and column; and where they store: out index of channel 0 (channel m adds m · OH · OW).
struct Quad {
  xb: vec4<i32>,
  h0: vec4<i32>,
  w0: vec4<i32>,
  ob: vec4<u32>,
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

fn zero_tile() -> Tile {
  let z = vec4<f32>(0.0);
  return Tile(z, z, z, z, z, z, z, z);
}

fn add(s: Tile, t: Tile) -> Tile {
  return Tile(s.a0 + t.a0, s.a1 + t.a1, s.a2 + t.a2, s.a3 + t.a3, s.b0 + t.b0, s.b1 + t.b1, s.b2 + t.b2, s.b3 + t.b3);
}

// t += x (at the eight positions) × w (of the four channels).
fn fma_tile(t: Tile, xa: vec4<f32>, xb: vec4<f32>, wv: vec4<f32>) -> Tile {
  return Tile(t.a0 + xa * wv.x, t.a1 + xa * wv.y, t.a2 + xa * wv.z, t.a3 + xa * wv.w,
              t.b0 + xb * wv.x, t.b1 + xb * wv.y, t.b2 + xb * wv.z, t.b3 + xb * wv.w);
}

fn bias_tile(m: vec4<u32>) -> Tile {
  if (params[18] == 0u) {
    return zero_tile();
  }
  let b = vec4<f32>(bias[m.x], bias[m.y], bias[m.z], bias[m.w]);
  return Tile(vec4<f32>(b.x), vec4<f32>(b.y), vec4<f32>(b.z), vec4<f32>(b.w),
              vec4<f32>(b.x), vec4<f32>(b.y), vec4<f32>(b.z), vec4<f32>(b.w));
}

// Positions p0 .. p0 + 3 (clamped to P - 1: a tile past the end reads valid data and stores nothing).
fn quad(p0: u32, P: u32, C: u32, plane: u32, M: u32, OH: u32, OW: u32) -> Quad {
  var q: Quad;
  for (var j = 0u; j < 4u; j++) {
    let p = min(p0 + j, P - 1u);
    let ow = p % OW;
    let oh = (p / OW) % OH;
    let n = p / (OW * OH);
    q.xb[j] = i32(params[16] + n * C * plane);
    q.h0[j] = i32(oh * params[10]) - i32(params[12]);
    q.w0[j] = i32(ow * params[11]) - i32(params[13]);
    q.ob[j] = params[17] + (n * M * OH + oh) * OW + ow;
  }
  return q;
}

fn in_range(v: vec4<i32>, n: u32) -> vec4<bool> {
  return (v >= vec4<i32>(0)) & (v < vec4<i32>(i32(n)));
}

fn store_quad(v: vec4<f32>, q: Quad, p0: u32, P: u32, m: u32, OH: u32, OW: u32) {
  for (var j = 0u; j < 4u; j++) {
    if (p0 + j < P) {
      out[q.ob[j] + m * OH * OW] = activate(ACT, v[j], ACT_ALPHA, ACT_BETA);
    }
  }
}

fn magnitude(re: vec4<f32>, im: vec4<f32>) -> vec4<f32> {
  return sqrt(re * re + im * im);
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
  let PQ = (P + 7u) / 8u;
  if (i >= PQ * ((M + 3u) / 4u)) {
    return;
  }
  let p0 = (i % PQ) * 8u;
  let m0 = (i / PQ) * 4u;
  let plane = H * W;
  let qa = quad(p0, P, C, plane, M, OH, OW);
  let qb = quad(p0 + 4u, P, C, plane, M, OH, OW);
  let m = min(vec4<u32>(m0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(M - 1u));
  let taps = KH * KW;
  let wrow = m * (C * taps);
  let wpair = vec4<u32>(M * C * taps);
  let zero = vec4<f32>(0.0);
  var re = bias_tile(m);
  var im = re;
  if (MAGNITUDE) {
    im = bias_tile(m + vec4<u32>(M));
  }

  if (C_INNER) {
    // Many channels, few taps (Silero's encoder: 129 channels × 3): the channel loop innermost.
    for (var kh = 0u; kh < KH; kh++) {
      let iha = qa.h0 + vec4<i32>(i32(kh * dil_h));
      let ihb = qb.h0 + vec4<i32>(i32(kh * dil_h));
      let row_a = in_range(iha, H);
      let row_b = in_range(ihb, H);
      if (!any(row_a) && !any(row_b)) {
        continue;
      }
      let xra = qa.xb + iha * i32(W);
      let xrb = qb.xb + ihb * i32(W);
      for (var k0 = 0u; k0 < KW; k0 += 16u) {
        var part_re = zero_tile();
        var part_im = part_re;
        let k1 = min(k0 + 16u, KW);
        for (var kw = k0; kw < k1; kw++) {
          let iwa = qa.w0 + vec4<i32>(i32(kw * dil_w));
          let iwb = qb.w0 + vec4<i32>(i32(kw * dil_w));
          let ina = row_a & in_range(iwa, W);
          let inb = row_b & in_range(iwb, W);
          // Outside positions read a clamped element and are zeroed.
          var xia = vec4<u32>(select(vec4<i32>(0), xra + iwa, ina));
          var xib = vec4<u32>(select(vec4<i32>(0), xrb + iwb, inb));
          var wi = wrow + vec4<u32>(kh * KW + kw);
          for (var c = 0u; c < C; c++) {
            let xa = select(zero, x4(xia), ina);
            let xb = select(zero, x4(xib), inb);
            part_re = fma_tile(part_re, xa, xb, w4(wi));
            if (MAGNITUDE) {
              part_im = fma_tile(part_im, xa, xb, w4(wi + wpair));
            }
            xia += vec4<u32>(plane);
            xib += vec4<u32>(plane);
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
        let iha = qa.h0 + vec4<i32>(i32(kh * dil_h));
        let ihb = qb.h0 + vec4<i32>(i32(kh * dil_h));
        let row_a = in_range(iha, H);
        let row_b = in_range(ihb, H);
        if (PADDED && !any(row_a) && !any(row_b)) {
          continue;
        }
        let xra = qa.xb + i32(c * plane) + iha * i32(W);
        let xrb = qb.xb + i32(c * plane) + ihb * i32(W);
        for (var k0 = 0u; k0 < KW; k0 += 16u) {
          var part_re = zero_tile();
          var part_im = part_re;
          let k1 = min(k0 + 16u, KW);
          var wi = wrow + vec4<u32>((c * KH + kh) * KW + k0);
          for (var kw = k0; kw < k1; kw++) {
            let iwa = qa.w0 + vec4<i32>(i32(kw * dil_w));
            let iwb = qb.w0 + vec4<i32>(i32(kw * dil_w));
            var xa: vec4<f32>;
            var xb: vec4<f32>;
            if (PADDED) {
              let ina = row_a & in_range(iwa, W);
              let inb = row_b & in_range(iwb, W);
              xa = select(zero, x4(vec4<u32>(select(vec4<i32>(0), xra + iwa, ina))), ina);
              xb = select(zero, x4(vec4<u32>(select(vec4<i32>(0), xrb + iwb, inb))), inb);
            } else {
              xa = x4(vec4<u32>(xra + iwa));
              xb = x4(vec4<u32>(xrb + iwb));
            }
            part_re = fma_tile(part_re, xa, xb, w4(wi));
            if (MAGNITUDE) {
              part_im = fma_tile(part_im, xa, xb, w4(wi + wpair));
            }
            wi += vec4<u32>(1u);
          }
          re = add(re, part_re);
          im = add(im, part_im);
        }
      }
    }
  }

  var ra = array<vec4<f32>, 4>(re.a0, re.a1, re.a2, re.a3);
  var rb = array<vec4<f32>, 4>(re.b0, re.b1, re.b2, re.b3);
  if (MAGNITUDE) {
    ra = array<vec4<f32>, 4>(magnitude(re.a0, im.a0), magnitude(re.a1, im.a1), magnitude(re.a2, im.a2), magnitude(re.a3, im.a3));
    rb = array<vec4<f32>, 4>(magnitude(re.b0, im.b0), magnitude(re.b1, im.b1), magnitude(re.b2, im.b2), magnitude(re.b3, im.b3));
  }
  for (var k = 0u; k < 4u; k++) {
    if (m0 + k >= M) {
      break;
    }
    store_quad(ra[k], qa, p0, P, m0 + k, OH, OW);
    store_quad(rb[k], qb, p0 + 4u, P, m0 + k, OH, OW);
  }
}
