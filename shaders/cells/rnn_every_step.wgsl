// rnn_every_step.wgsl: the plain RNN's unit_ticks hook for rnn_step.wgsl: every unit updates at
// every step. (The Clockwork RNN's clockwork.wgsl defines it from the units' periods instead.)
// No bindings, no grid of its own: rnn_step.wgsl's entry points (cell_step.wgsl) call it.

fn unit_ticks(j: u32, s: u32) -> bool {
  return true;
}
