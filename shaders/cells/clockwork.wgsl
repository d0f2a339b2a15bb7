// clockwork.wgsl: the Clockwork RNN's unit_ticks hook for rnn_step.wgsl (Koutník et al. 2014,
// arXiv:1402.3511): the hidden units form g contiguous modules, and module i updates only at the
// steps s with s mod periods[i] = 0, where s counts the steps this direction has processed for the
// row (dims.step0, the steps of a stream's earlier calls, plus the step of this call); a unit that
// does not tick keeps its h. The recurrence from a faster module into a slower one is masked out of
// r_t by the host (pack.ts), so the mat-vec itself is the RNN's.
// No grid of its own: rnn_step.wgsl's entry points (cell_step.wgsl) call unit_ticks.
//
// Layout: unit_period [HIDDEN] u32, the period of each unit's module.

@group(0) @binding(8) var<storage, read> unit_period: array<u32>;

fn unit_ticks(j: u32, s: u32) -> bool {
  return (dims.step0 + s) % unit_period[j] == 0u;
}
