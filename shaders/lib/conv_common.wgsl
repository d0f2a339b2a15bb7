// conv_common.wgsl: what the two ONNX Conv kernels (kernels/graph_conv.wgsl, one output element or
// four positions per invocation, and kernels/graph_conv_tile.wgsl, tiles of 4 channels × 8
// positions) share: their bindings and the overrides of the conv itself. Their parameter words are
// graph_conv.wgsl's. Layouts: x [N, C, H, W], w [MW, C/G, KH, KW], bias [MW], out [N, M, OH, OW].

@group(0) @binding(1) var<storage, read> x: array<f32, X_LEN>;
@group(0) @binding(2) var<storage, read> w: array<f32, W_LEN>;
@group(0) @binding(3) var<storage, read> bias: array<f32, BIAS_LEN>;
@group(0) @binding(4) var<storage, read_write> out: array<f32, OUT_LEN>;

// Channels m and m + M of a 2M-channel conv are the real and imaginary parts of an STFT; stored as
// sqrt(re² + im²) in channel m of M (gpu/fuse.ts fuses Silero's Slice, Pow, Add, Sqrt chain here).
override MAGNITUDE: bool = false;
// An activation applied to x as it is read (a Relu before the conv, folded in: gpu/fuse.ts); padded
// positions contribute nothing either way.
override PRE_ACT: u32 = 0u;
// Loop order: channels innermost (more channels per group than taps), else taps innermost.
override C_INNER: bool = false;
