// graph_common.wgsl: what every ONNX graph kernel (shaders/kernels/graph_*.wgsl) shares: its parameter
// words, the flat element index of an invocation, and the activations a kernel may apply to what
// it stores (so Conv+Relu, Conv+Sigmoid and a binary op followed by a unary one are one dispatch).
//
// Grid (every graph kernel): 1-D work of `count` items in workgroups of 64, laid out over x and y
// (x at most 65,535 workgroups) so that more than 4 Mi items still fit: item = (y · nx + x) · 64 + lx.
// Parameters: `params`, an array of u32 words that the host writes once per dispatch when it plans
// the graph (shapes are static by then); each kernel documents its words. Floats travel as their bits.
// Every storage array is sized by a host-appended NAME_LEN const (kernels/sources.ts): the shapes
// are fixed per program, and a runtime-sized array would cost CPU emulators an arrayLength division
// on every bounds-checked access (on SwiftShader that made Silero v5 13.7 ms per frame).

@group(0) @binding(0) var<storage, read> params: array<u32, PARAMS_LEN>;

fn item_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.y * nwg.x * 64u + gid.x;
}

fn param_i32(k: u32) -> i32 {
  return bitcast<i32>(params[k]);
}

fn param_f32(k: u32) -> f32 {
  return bitcast<f32>(params[k]);
}

// The activation a kernel applies before it stores (ACT, with ACT_ALPHA and ACT_BETA), ONNX's
// definitions. Codes match src/onnx/gpu/codes.ts.
override ACT: u32 = 0u;
override ACT_ALPHA: f32 = 0.0;
override ACT_BETA: f32 = 0.0;

fn sigmoid_stable(v: f32) -> f32 {
  if (v >= 0.0) {
    return 1.0 / (1.0 + exp(-v));
  }
  let e = exp(v);
  return e / (1.0 + e);
}

fn activate(code: u32, v: f32, alpha: f32, beta: f32) -> f32 {
  switch code {
    case 0u: { return v; }
    case 1u: { return max(v, 0.0); }
    case 2u: { return sigmoid_stable(v); }
    case 3u: { return tanh(clamp(v, -15.0, 15.0)); }
    case 4u: { return exp(v); }
    case 5u: { return log(v); }
    case 6u: { return sqrt(v); }
    case 7u: { return -v; }
    case 8u: { return abs(v); }
    case 9u: { return select(alpha * v, v, v >= 0.0); }             // LeakyRelu
    case 10u: { return min(max(v, alpha), beta); }                  // Clip [alpha, beta]
    case 11u: { return 1.0 / v; }                                   // Reciprocal
    case 12u: { return floor(v); }
    case 13u: { return ceil(v); }
    case 14u: { return select(alpha * (exp(v) - 1.0), v, v >= 0.0); } // Elu
    case 15u: { return clamp(alpha * v + beta, 0.0, 1.0); }         // HardSigmoid
    case 16u: { return select(log(1.0 + exp(v)), v + log(1.0 + exp(-v)), v > 0.0); } // Softplus
    case 17u: { return v / (1.0 + abs(v)); }                        // Softsign
    case 18u: { return sin(v); }
    case 19u: { return cos(v); }
    case 20u: { return round(v); }                                  // half to even, as ONNX
    case 21u: { return sign(v); }
    case 22u: { return v * sigmoid_stable(v); }                     // x·sigmoid(x) (HardSwish is 23)
    case 23u: { return v * clamp(v / 6.0 + 0.5, 0.0, 1.0); }        // HardSwish
    case 24u: { return clamp(trunc(v), -2147483648.0, 2147483648.0); } // Cast to an integer (the host saturates)
    case 25u: { return select(0.0, 1.0, v != 0.0); }                // Cast to bool (NaN is true)
    default: { return v; }
  }
}

// Infinities and NaN: WGSL refuses them as constant expressions, so they come from a runtime value
// (params[0] & 0 is 0, but not at compile time).
fn f32_from_bits(bits: u32) -> f32 {
  return bitcast<f32>(bits | (params[0] & 0u));
}
