// precision_f32.wgsl: the storage type of the weight buffers (w_t, r_t, wr_t) for createRnn's
// default precision 'f32'. kernels/sources.ts puts this file, or precision_f16.wgsl, before every kernel
// (after any directives): the kernels declare their weights as `weight` / `weight4` and convert
// every load to f32, so one source serves both precisions. Activations, states, biases and
// peepholes stay f32.
alias weight = f32;
alias weight4 = vec4<f32>;
