// cell_subgroup.wgsl: the step kernels that use subgroup operations (main_direct_quad and
// main_direct_phase1_quad are at the end).
// main_subgroup, the split-K step kernel: one timestep with each unit's dot products spread over
// the invocations of a subgroup and summed with subgroupAdd. For large hidden sizes and few rows on
// GPUs, where one invocation per unit (main_direct) leaves most of the machine idle and runs a long
// serial loop (a 512-unit LSTM step: 512 invocations of 2048 multiply-adds each). No workgroup memory and no barrier.
// Module: lib/subgroup_enable.wgsl + lib/precision_*.wgsl + lib/step_common.wgsl + lib/step_matvec.wgsl + lib/cell_math.wgsl + kernels/cell_step.wgsl + <cell hooks> + this file
// (kernels/sources.ts), so the cell's hooks (load_weights, load_vector, advance_unit, store_next)
// serve here unchanged.
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

// main_direct_quad: main_direct (cell_step.wgsl) for one row per invocation (BT = 1), with the
// recurrent vector shared within each quad (four consecutive lanes of a subgroup): per four
// columns, each lane reads one element and quadBroadcast hands it to the other three. On CPU
// emulators every per-lane storage read is a gather, so this does a quarter of the vector's reads
// (the weights' reads remain); on GPUs those reads were broadcasts from cache anyway.
// Grid and mapping as main_direct with BT = 1: invocation p = b·HIDDEN + j. Needs HIDDEN % 4 == 0,
// so that a quad never straddles two rows (rows start at multiples of HIDDEN; quads at multiples of
// four, as subgroups are contiguous ranges of local_invocation_index, see above; whole quads leave
// together at the batch's end), and OUT % 4 == 0 (four columns per pass). plan/layer.ts checks both.
@compute @workgroup_size(WG)
fn main_direct_quad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let d = gid.y;
  let b = gid.x / HIDDEN;
  let j = gid.x % HIDDEN;
  if (b >= dims.batch) {
    return;
  }
  let q = lane & 3u;
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  for (var k = 0u; k < OUT; k += 4u) {
    let mine = load_vector(d, b, k + q);
    acc0 += load_weights(d, k, j) * quadBroadcast(mine, 0u);
    acc1 += load_weights(d, k + 1u, j) * quadBroadcast(mine, 1u);
    acc0 += load_weights(d, k + 2u, j) * quadBroadcast(mine, 2u);
    acc1 += load_weights(d, k + 3u, j) * quadBroadcast(mine, 3u);
  }
  advance_rows(d, b, j, array<vec4<f32>, BT_MAX>(acc0 + acc1, vec4<f32>(), vec4<f32>(), vec4<f32>()));
}

// main_direct_phase1_quad: main_direct_phase1 (cell_step.wgsl), the first phase of a TWO_PHASE cell
// (the GRU's z and r without linear_before_reset), with h_prev's reads shared within quads as in
// main_direct_quad; same grid and the same conditions (BT = 1, HIDDEN % 4 == 0, OUT % 4 == 0).
@compute @workgroup_size(WG)
fn main_direct_phase1_quad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let d = gid.y;
  let b = gid.x / HIDDEN;
  let j = gid.x % HIDDEN;
  if (b >= dims.batch) {
    return;
  }
  let row = state_row(d, b);
  let q = lane & 3u;
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  for (var k = 0u; k < OUT; k += 4u) {
    let mine = h_prev[row * OUT + k + q];
    acc0 += phase1_weights(d, k, j) * quadBroadcast(mine, 0u);
    acc1 += phase1_weights(d, k + 1u, j) * quadBroadcast(mine, 1u);
    acc0 += phase1_weights(d, k + 2u, j) * quadBroadcast(mine, 2u);
    acc1 += phase1_weights(d, k + 3u, j) * quadBroadcast(mine, 3u);
  }
  store_phase1(row, j, phase1_unit(d, b, j, step.s, acc0 + acc1, h_prev[row * OUT + j]));
}
