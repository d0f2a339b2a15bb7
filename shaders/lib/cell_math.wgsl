// cell_math.wgsl: the arithmetic of each cell, apart from where its inputs and outputs live, so that
// the per-layer step kernels (rnn_step, lstm_step, gru_step, gru_reset) and the fused stack kernel
// (stack_step) compute exactly the same thing. kernels/sources.ts prepends it after step_common.wgsl (whose
// activation() and clip_gate() it uses). Pure functions of their arguments: no bindings, no grid.
// Formulas: the ONNX RNN, LSTM and GRU operators as ONNX Runtime computes them
// (../shared/reference/rnn-semantics.md): clip applies to every gate pre-activation, never inside
// the LSTM's output activation h(c).

override INPUT_FORGET: bool = false;         // LSTM (ONNX input_forget): f = 1 - i
override LINEAR_BEFORE_RESET: bool = false;  // GRU: the reset gate multiplies R_h h + Rb_h, not h

// RNN: h = f(clip(pre)), pre = W x + R h_prev + Wb + Rb.
fn rnn_cell(d: u32, pre: f32) -> f32 {
  return activation(d, 0u, clip_gate(pre));
}

// LSTM: pre = the gate pre-activations (i, o, f, c) without peepholes, peep = the unit's peephole
// weights (i, o, f), c_prev its previous cell state, from_below the Depth-Gated LSTM's d ⊙ c_below
// (0 otherwise). Returns (c', m):
//   i = f(clip(pre_i + P_i c)),  f = 1 - i (INPUT_FORGET) or f(clip(pre_f + P_f c)),
//   c' = from_below + f c + i g(clip(pre_c)),  o = f(clip(pre_o + P_o c')),  m = o h(c')
fn lstm_cell(d: u32, pre: vec4<f32>, peep: vec3<f32>, c_prev: f32, from_below: f32) -> vec2<f32> {
  let i = activation(d, 0u, clip_gate(pre.x + peep.x * c_prev));
  var f = 1.0 - i;
  if (!INPUT_FORGET) {
    f = activation(d, 0u, clip_gate(pre.z + peep.z * c_prev));
  }
  let c_new = from_below + f * c_prev + i * activation(d, 1u, clip_gate(pre.w));
  let o = activation(d, 0u, clip_gate(pre.y + peep.y * c_new));
  return vec2<f32>(c_new, o * activation(d, 2u, c_new));
}

// GRU update and reset gates from their pre-activations: (z, r) = f(clip(pre)).
fn gru_gates(d: u32, pre_z: f32, pre_r: f32) -> vec2<f32> {
  return vec2<f32>(activation(d, 0u, clip_gate(pre_z)), activation(d, 0u, clip_gate(pre_r)));
}

// GRU output from z, the candidate's pre-activation and h_prev: h = (1 - z) g(clip(pre_n)) + z h_prev.
// pre_n = x_h + r (R_h h_prev + Rb_h) with LINEAR_BEFORE_RESET, else x_h + R_h (r ⊙ h_prev).
fn gru_output(d: u32, z: f32, pre_n: f32, hp: f32) -> f32 {
  let n = activation(d, 1u, clip_gate(pre_n));
  return (1.0 - z) * n + z * hp;
}
