// step_common.wgsl: declarations shared by every recurrence kernel (the cells' rnn_step, lstm_step
// and gru_step modules with all their entry points, lstm_projection, gru_reset, and the fused
// stack kernel stack_step). kernels/sources.ts prepends this file to each of them, unchanged (WGSL has no
// #include); it is not a kernel on its own.
//
// Grid convention of the tiled step kernels (main): x = blocks of WG units (hidden or output
// units), y = direction d (0 forward, 1 backward), z = blocks of BT batch rows. The barrier-free
// kernels (main_direct) flatten (row, unit) pairs into x instead: x = blocks of WG pairs
// p = b·units + j, y = direction d (no BT: one invocation, one row).
//
// Bindings 0-2 are the same in every step kernel:
//   step      the step index s; the host writes s into 256-byte slot s of one uniform buffer once and
//             selects the slot with a dynamic offset, so a whole sequence is encoded without any
//             per-step writeBuffer (writeBuffer would run before all of the deferred dispatches).
//   dims      the run's batch size, sequence length, the strides of the sequence output y (see y_index),
//             step0, the steps a stream's earlier calls processed (0 for run()), and seq_chunk, the
//             most steps one dispatch of a sequence kernel runs (dispatch_steps).
//   seq_lens  [B] valid length of each batch row (ONNX sequence_lens; T when absent), or with
//             MASKED a [T, B] mask (TF.js / Keras masking), see row_step.
// State buffers are [D, B, width] row-major; a row (d, b) starts at (d * batch + b) * width.

struct Step {
  s: u32,
}

struct Dims {
  batch: u32,
  seq_len: u32,
  y_stride_t: u32,
  y_stride_b: u32,
  y_stride_d: u32,
  step0: u32,     // steps each row processed in earlier calls (a stream's); 0 for run()
  c_base: u32,    // LSTM: where this layer's c state starts in the c binding
  c_seq_read: u32,   // Depth-Gated LSTM: the layer below's c sequence in the c binding (0xffffffff: none)
  c_seq_write: u32,  // Depth-Gated LSTM: this layer's c sequence, for the layer above (0xffffffff: none)
  seq_chunk: u32,    // sequence kernels: the most steps one dispatch runs (dispatch_steps)
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> dims: Dims;
@group(0) @binding(2) var<storage, read> seq_lens: array<u32>;

override HIDDEN: u32;             // H: hidden units of a cell
override OUT: u32;                // Hout: width of h (projSize when projecting, else H)
override DIRS: u32;               // D: 1 or 2
override REVERSE: bool = false;   // direction 0 runs backwards (ONNX direction = "reverse")
override WG: u32 = 64u;           // invocations per workgroup (x)
override BT: u32 = 1u;            // batch rows per workgroup, 1 <= BT <= BT_MAX
override MASKED: bool = false;    // seq_lens holds a [T, B] mask instead of [B] lengths
override HAS_CLIP: bool = false;  // ONNX clip: clamp gate pre-activations to [-CLIP, CLIP]
override CLIP: f32 = 0.0;

// BT_MAX (emitted by the host, kernels/constants.ts BATCH_TILE_MAX): the most batch rows one invocation or
// workgroup serves (the BT override's upper bound).

// The time index direction d processes at step s of a row of length len (s < len): forward
// t = s; backward t = len - 1 - s, so a reversed row starts at its own last valid step (ORT).
fn time_index(d: u32, s: u32, len: u32) -> u32 {
  if (d == 1u || REVERSE) {
    return len - 1u - s;
  }
  return s;
}

// The steps [x, y) one dispatch of a sequence kernel (main_seq, main_rows, stack_step) runs: from
// step.s (its dynamic offset selects slot step.s) for at most dims.seq_chunk steps. The host splits
// a long sequence into dispatches of seq_chunk steps, so that no one dispatch runs for seconds (a
// driver watchdog, e.g. Windows TDR, resets a GPU after 2 s by default); each one reads the state
// the previous one left (h_prev) and leaves its own (h_next).
fn dispatch_steps() -> vec2<u32> {
  return vec2<u32>(step.s, min(step.s + dims.seq_chunk, dims.seq_len));
}

struct RowStep {
  t: u32,          // the time index row b of direction d reads and writes at this step
  advances: bool,  // whether the row advances its state
}

// Where row b of direction d is at step s, and whether it advances.
// Lengths (ONNX, default): active while s < len_b, at time_index(d, s, len_b); an inactive row is
//   padding at time s, where it writes y = 0 and keeps its state.
// Mask (MASKED; TF.js / Keras): every row runs all T steps, direction 1 from T - 1 down (like
//   go_backwards); a step whose mask is 0 keeps the state and repeats the previous output.
fn row_step(d: u32, s: u32, b: u32) -> RowStep {
  if (MASKED) {
    let t = time_index(d, s, dims.seq_len);
    return RowStep(t, seq_lens[t * dims.batch + b] != 0u);
  }
  let len = seq_lens[b];
  if (s >= len) {
    return RowStep(s, false);
  }
  return RowStep(time_index(d, s, len), true);
}

// y of an inactive row: 0 past an ONNX length, the carried output (= h_prev) under a mask.
fn inactive_y(h_prev_value: f32) -> f32 {
  return select(0.0, h_prev_value, MASKED);
}

// Offset of y[t, b, d, j]; the strides let one kernel write ONNX's [T, D, B, Hout], the batch-major
// [B, T, D, Hout] and the [T, B, D·Hout] that the next layer's input projection reads.
fn y_index(t: u32, b: u32, d: u32, j: u32) -> u32 {
  return t * dims.y_stride_t + b * dims.y_stride_b + d * dims.y_stride_d + j;
}

fn state_row(d: u32, b: u32) -> u32 {
  return d * dims.batch + b;
}

fn clip_gate(x: f32) -> f32 {
  if (HAS_CLIP) {
    return clamp(x, -CLIP, CLIP);
  }
  return x;
}

// ---- Activations -------------------------------------------------------------------------------
// Codes match src/activations.ts. Slot = direction * 3 + k, k = 0 (f), 1 (g), 2 (h): the ONNX
// activation list, one triple per direction (GRU and RNN leave the unused slots at any value).
const ACT_RELU = 0u;
const ACT_TANH = 1u;
const ACT_SIGMOID = 2u;
const ACT_AFFINE = 3u;
const ACT_LEAKY_RELU = 4u;
const ACT_THRESHOLDED_RELU = 5u;
const ACT_SCALED_TANH = 6u;
const ACT_HARD_SIGMOID = 7u;
const ACT_ELU = 8u;
const ACT_SOFTSIGN = 9u;
const ACT_SOFTPLUS = 10u;

override ACT_0: u32;
override ACT_1: u32;
override ACT_2: u32;
override ACT_3: u32;
override ACT_4: u32;
override ACT_5: u32;
override ALPHA_0: f32 = 0.0;
override ALPHA_1: f32 = 0.0;
override ALPHA_2: f32 = 0.0;
override ALPHA_3: f32 = 0.0;
override ALPHA_4: f32 = 0.0;
override ALPHA_5: f32 = 0.0;
override BETA_0: f32 = 0.0;
override BETA_1: f32 = 0.0;
override BETA_2: f32 = 0.0;
override BETA_3: f32 = 0.0;
override BETA_4: f32 = 0.0;
override BETA_5: f32 = 0.0;
// Both directions use the same activations (always with one direction): activation() then needs no
// per-direction choice, which a CPU emulator would evaluate for every case of the switch.
override SAME_DIRS: bool = ACT_0 == ACT_3 && ACT_1 == ACT_4 && ACT_2 == ACT_5 && ALPHA_0 == ALPHA_3 && ALPHA_1 == ALPHA_4
  && ALPHA_2 == ALPHA_5 && BETA_0 == BETA_3 && BETA_1 == BETA_4 && BETA_2 == BETA_5;

// Logistic sigmoid from exp(-|x|), which never overflows: exact 0 and 1 far out, never NaN.
fn sigmoid_stable(x: f32) -> f32 {
  let e = exp(-abs(x));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, x >= 0.0);
}

// tanh from exp(-2|x|) (no overflow for |x| = 1e4, unlike a naive (e^x - e^-x) / (e^x + e^-x) or
// some builtin tanh implementations); a Taylor polynomial near 0 avoids the cancellation in 1 - e.
// Both forms are computed and one selected: no branch, which SIMD lanes would diverge on.
fn tanh_stable(x: f32) -> f32 {
  let ax = abs(x);
  let x2 = x * x;
  let taylor = x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0))));
  let e = exp(-2.0 * ax);
  return select(sign(x) * (1.0 - e) / (1.0 + e), taylor, ax < 0.0625);
}

fn apply_activation(code: u32, x: f32, alpha: f32, beta: f32) -> f32 {
  switch code {
    case ACT_RELU: { return max(x, 0.0); }
    case ACT_TANH: { return tanh_stable(x); }
    case ACT_SIGMOID: { return sigmoid_stable(x); }
    case ACT_AFFINE: { return alpha * x + beta; }
    case ACT_LEAKY_RELU: { return select(alpha * x, x, x >= 0.0); }
    case ACT_THRESHOLDED_RELU: { return select(0.0, x, x >= alpha); }
    case ACT_SCALED_TANH: { return alpha * tanh_stable(beta * x); }
    case ACT_HARD_SIGMOID: { return clamp(alpha * x + beta, 0.0, 1.0); }
    case ACT_ELU: { return select(alpha * (exp(min(x, 0.0)) - 1.0), x, x >= 0.0); }
    case ACT_SOFTSIGN: { return x / (1.0 + abs(x)); }
    case ACT_SOFTPLUS: { return max(x, 0.0) + log(1.0 + exp(-abs(x))); }
    default: { return x; }
  }
}

// Activation k (0 = f, 1 = g, 2 = h) of direction d.
fn activation(d: u32, k: u32, x: f32) -> f32 {
  switch select(d * 3u + k, k, SAME_DIRS) {
    case 0u: { return apply_activation(ACT_0, x, ALPHA_0, BETA_0); }
    case 1u: { return apply_activation(ACT_1, x, ALPHA_1, BETA_1); }
    case 2u: { return apply_activation(ACT_2, x, ALPHA_2, BETA_2); }
    case 3u: { return apply_activation(ACT_3, x, ALPHA_3, BETA_3); }
    case 4u: { return apply_activation(ACT_4, x, ALPHA_4, BETA_4); }
    default: { return apply_activation(ACT_5, x, ALPHA_5, BETA_5); }
  }
}
