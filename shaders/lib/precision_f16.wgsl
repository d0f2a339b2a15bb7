// precision_f16.wgsl: precision 'f16': weights stored as f16 (half the bytes to read per step),
// converted to f32 on load, so every product and sum is still computed in f32. Needs the
// 'shader-f16' feature. See precision_f32.wgsl.
enable f16;
alias weight = f16;
alias weight4 = vec4<f16>;
