// cell_subgroup.wgsl: main_subgroup, the split-K step kernel: one timestep with each unit's dot
// products spread over the invocations of a subgroup and summed with subgroupAdd. For large hidden
// sizes and few rows on GPUs, where one invocation per unit (main_direct) leaves most of the
// machine idle and runs a long serial loop (a 512-unit LSTM step: 512 invocations of 2048
// multiply-adds each). No workgroup memory and no barrier.
// kernels.ts builds the module as subgroup_enable.wgsl + step_common.wgsl + cell_step.wgsl + the
// cell's file + this file, so the cell's hooks (load_weights, load_vector, advance_unit,
// store_next) serve here unchanged.
//
// Grid: x = ceil(B·HIDDEN / UNITS) blocks of UNITS (row, unit) pairs p = b·HIDDEN + j, y =
// direction d; workgroup WG invocations. The subgroups of a workgroup take its pairs in turn
// (subgroup i: pairs i, i + n, …, n = subgroups per workgroup). For a pair, lane l of a subgroup
// of S lanes sums columns k = l, l + S, …: the recurrent vector reads are contiguous across lanes
// and each lane reads a unit's gate weights as one vec4 (r_t [D, OUT, HIDDEN] of vec4); then
// subgroupAdd, and the first lane applies the cell.
// Assumes, as every known implementation does for a one-dimensional workgroup, that a subgroup is
// a contiguous range of local_invocation_index; its index is taken from its first lane, so the
// lanes of one subgroup always agree on their pair, and the GPU sweep checks the coverage.

override UNITS: u32 = 8u;   // (row, unit) pairs per workgroup

@compute @workgroup_size(WG)
fn main_subgroup(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
                 @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) sg_size: u32) {
  let d = wg.y;
  let lanes = min(sg_size, WG);
  let groups = (WG + lanes - 1u) / lanes;
  let first = subgroupBroadcastFirst(lid / lanes);
  for (var u = first; u < UNITS; u += groups) {
    let p = wg.x * UNITS + u;
    let b = p / HIDDEN;
    let j = p % HIDDEN;
    if (b >= dims.batch) {
      break;
    }
    var acc = vec4<f32>();
    for (var k = lane; k < OUT; k += lanes) {
      acc += load_weights(d, k, j) * load_vector(d, b, k);
    }
    acc = subgroupAdd(acc);
    if (lane == 0u) {
      let row = state_row(d, b);
      // As in main: with an LSTM projection, units j >= OUT have no h_prev and do not use it.
      let hp = select(0.0, h_prev[row * OUT + min(j, OUT - 1u)], j < OUT);
      store_next(row, j, advance_unit(d, b, j, step.s, acc, hp));
    }
  }
}
