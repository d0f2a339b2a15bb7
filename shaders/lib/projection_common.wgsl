// projection_common.wgsl: what the two input-projection kernels share (input_proj.wgsl, the tiled
// GEMM, and input_gemv.wgsl); kernels/sources.ts prepends it to each (WGSL has no #include). The run's row
// count, batch and x strides, the bindings other than w_t (binding 2, declared by each kernel: the
// GEMM reads it as scalars into its tile, gemv as vec4), the shape overrides, and where row m of x
// starts. Row m = t·B + b of x is read at t·x_stride_t + b·x_stride_b (k contiguous), so one kernel
// reads the time-major input [T, B, I], the batch-major input [B, T, I] and the previous layer's
// output [T, B, D·Hout] alike.

struct Dims {
  rows: u32,
  batch: u32,
  x_stride_t: u32,
  x_stride_b: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> xproj: array<f32>;

override K: u32;                  // input features of the layer
override N: u32;                  // D·G·H output columns
override TM: u32 = 4u;            // output rows per invocation: 4, or 1 for few rows

// Offset of row m (< dims.rows) of x.
fn x_row_offset(m: u32) -> u32 {
  return (m / dims.batch) * dims.x_stride_t + (m % dims.batch) * dims.x_stride_b;
}
