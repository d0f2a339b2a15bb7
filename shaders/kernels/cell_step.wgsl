// cell_step.wgsl: the entry points every cell shares (RNN, LSTM, GRU): a tiled step (main), the
// whole sequence with h in workgroup memory (main_seq), a barrier-free step (main_direct, with
// main_direct_phase1 for the GRU's first half) and the whole sequence one invocation per row
// (main_rows); cell_subgroup.wgsl adds the split-K step. The cell's hook files (shaders/cells/,
// listed by the registry) follow this file and define the hooks called here (the cells'
// arithmetic itself is cell_math.wgsl's):
// Module: lib/precision_*.wgsl + lib/step_common.wgsl + lib/step_matvec.wgsl + lib/cell_math.wgsl + this file + <cell hooks>
//   load_vector(d, b, k)            element k of the recurrent vector of row (d, b), for staging
//   load_weights(d, k, j)           up to four gate weights of unit j at column k (unused lanes 0)
//   advance_unit(d, b, j, s, acc, hp)  the cell: unit j of row (d, b) at step s, given the gate
//                                   mat-vecs acc and its previous h; returns the new h (hp if the
//                                   row does not advance) and writes y (and c) itself
//   store_next(row, j, h)           where the new h goes (h_next, or the LSTM's unprojected m)
//   phase1_weights, phase1_unit     the first phase of a step, for a cell that needs the
//                                   whole of a first vector before its mat-vec (GRU without
//                                   linear_before_reset: r ⊙ h); stubs elsewhere (TWO_PHASE false)
//   store_phase1(row, j, v)         where main_direct_phase1 leaves the first phase's unit j
//
// main: one timestep (step.s). Grid x = ceil(HIDDEN / WG) blocks of units j, y = direction d,
//   z = ceil(batch / BT) blocks of rows. The recurrent vector is staged from h_prev by
//   recurrent_matvec; the new h goes to h_next (ping-pong buffers on the host).
// main_seq: the whole sequence in one dispatch, for small layers (OUT <= K_TILE). Grid x = 1,
//   y = direction d, z = ceil(batch / BT): one workgroup owns the recurrences of BT rows of one
//   direction and loops over the steps of its dispatch (dispatch_steps: at most dims.seq_chunk
//   of them; the host records one dispatch per chunk), keeping h in workgroup memory (two halves
//   of hbuf, alternating by step parity) with a barrier between steps; invocation lid computes
//   units lid, lid + WG, …. The rows of different workgroups never interact, so no grid-wide
//   barrier is needed. h_prev is read once at the start, h_next written once at the end. With
//   TWO_PHASE each step first computes phase1_unit for every unit into pbuf, then (after a
//   barrier) the main mat-vec runs over pbuf instead of h.
// main_direct: one timestep with no workgroup memory and no barrier. Grid x = ceil(ceil(B / BT) ·
//   HIDDEN / WG) blocks of (row block, unit) pairs p = (b0 / BT)·HIDDEN + j, y = direction d;
//   invocation p computes unit j of rows (d, b0 .. b0 + BT - 1) alone (BT = 1 or 4), reading the
//   recurrent vector from storage (direct_matvec). For TWO_PHASE cells main_direct_phase1 runs
//   the first phase on the same grid as a dispatch of its own, before main_direct, and stores it
//   with store_phase1 where the cell's load_vector reads it.
// main_rows: the whole sequence in one dispatch with no workgroup memory and no barrier, for tiny
//   layers with many rows. Grid x = ceil(B / WG) blocks of rows b, y = direction d: invocation
//   (d, b) runs every step of its dispatch (dispatch_steps, as main_seq) for every unit. The vector of step s is the row's own output
//   of its previous step, read back from y (h_prev at the first step; with TWO_PHASE the first
//   phase's vector, through load_vector), so nothing is shared between invocations; the final h
//   goes to h_next. Only rows whose length has run out skip the mat-vecs.

override TWO_PHASE: bool = false;

// main_seq's resident h: hbuf[half * HALF + bb * K_TILE + k], half = step parity. 8 KiB.
const HALF = K_TILE * BT_MAX;
var<workgroup> hbuf: array<f32, 2u * HALF>;
// The first phase's output with TWO_PHASE: pbuf[bb * K_TILE + k]. 4 KiB.
var<workgroup> pbuf: array<f32, HALF>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = wg.x * WG + lid;
  let d = wg.y;
  let b0 = wg.z * BT;
  let acc = recurrent_matvec(d, b0, j, HIDDEN, OUT, lid);
  if (j >= HIDDEN) {
    return;
  }
  advance_rows(d, b0, j, acc);
}

// The cell for unit j of rows b0 .. b0 + BT - 1 of direction d at this step, given their mat-vecs
// (main and main_direct).
fn advance_rows(d: u32, b0: u32, j: u32, acc: array<vec4<f32>, BT_MAX>) {
  for (var bb = 0u; bb < BT; bb++) {
    let b = b0 + bb;
    if (b >= dims.batch) {
      break;
    }
    let row = state_row(d, b);
    // With an LSTM projection OUT < HIDDEN is possible and units j >= OUT have no h_prev; their
    // advance_unit then never uses hp (lstm_projection carries the state of inactive rows).
    let hp = select(0.0, h_prev[row * OUT + min(j, OUT - 1u)], j < OUT);
    store_next(row, j, advance_unit(d, b, j, step.s, acc[bb], hp));
  }
}

@compute @workgroup_size(WG)
fn main_seq(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let d = wg.y;
  let b0 = wg.z * BT;
  for (var e = lid; e < K_TILE * BT; e += WG) {
    let b = b0 + e / K_TILE;
    let k = e % K_TILE;
    var v = 0.0;
    if (k < OUT && b < dims.batch) {
      v = h_prev[state_row(d, b) * OUT + k];
    }
    hbuf[e] = v;
    hbuf[HALF + e] = 0.0;
  }
  workgroupBarrier();
  let steps = dispatch_steps();
  for (var s = steps.x; s < steps.y; s++) {
    let cur = ((s - steps.x) & 1u) * HALF;
    let nxt = HALF - cur;
    if (TWO_PHASE) {
      for (var j = lid; j < HIDDEN; j += WG) {
        var acc = array<vec4<f32>, BT_MAX>();
        for (var k = 0u; k < OUT; k++) {
          let w = phase1_weights(d, k, j);
          for (var bb = 0u; bb < BT; bb++) {
            acc[bb] += w * hbuf[cur + bb * K_TILE + k];
          }
        }
        for (var bb = 0u; bb < BT; bb++) {
          let b = b0 + bb;
          if (b < dims.batch) {
            pbuf[bb * K_TILE + j] = phase1_unit(d, b, j, s, acc[bb], hbuf[cur + bb * K_TILE + j]);
          }
        }
      }
      workgroupBarrier();
    }
    for (var j = lid; j < HIDDEN; j += WG) {
      // Explicitly zeroed: an initializer-less var in a loop was seen to keep its value from the
      // previous iteration on Dawn + lavapipe.
      var acc = array<vec4<f32>, BT_MAX>();
      for (var k = 0u; k < OUT; k++) {
        let w = load_weights(d, k, j);
        for (var bb = 0u; bb < BT; bb++) {
          acc[bb] += w * select(hbuf[cur + bb * K_TILE + k], pbuf[bb * K_TILE + k], TWO_PHASE);
        }
      }
      for (var bb = 0u; bb < BT; bb++) {
        let b = b0 + bb;
        if (b < dims.batch) {
          hbuf[nxt + bb * K_TILE + j] = advance_unit(d, b, j, s, acc[bb], hbuf[cur + bb * K_TILE + j]);
        }
      }
    }
    workgroupBarrier();
  }
  let fin = ((steps.y - steps.x) & 1u) * HALF;
  for (var e = lid; e < K_TILE * BT; e += WG) {
    let b = b0 + e / K_TILE;
    let k = e % K_TILE;
    if (k < OUT && b < dims.batch) {
      h_next[state_row(d, b) * OUT + k] = hbuf[fin + e];
    }
  }
}

@compute @workgroup_size(WG)
fn main_direct(@builtin(global_invocation_id) gid: vec3<u32>) {
  let d = gid.y;
  let b0 = (gid.x / HIDDEN) * BT;
  let j = gid.x % HIDDEN;
  if (b0 >= dims.batch) {
    return;
  }
  advance_rows(d, b0, j, direct_matvec(d, b0, j, OUT));
}

@compute @workgroup_size(WG)
fn main_direct_phase1(@builtin(global_invocation_id) gid: vec3<u32>) {
  let d = gid.y;
  let b0 = (gid.x / HIDDEN) * BT;
  let j = gid.x % HIDDEN;
  for (var bb = 0u; bb < BT; bb++) {
    let b = b0 + bb;
    if (b >= dims.batch) {
      break;
    }
    let row = state_row(d, b);
    var acc = vec4<f32>();
    for (var k = 0u; k < OUT; k++) {
      acc += phase1_weights(d, k, j) * h_prev[row * OUT + k];
    }
    store_phase1(row, j, phase1_unit(d, b, j, step.s, acc, h_prev[row * OUT + j]));
  }
}

// main_rows' view of h_{s-1}: element k of the row's output at its previous step (time t_prev),
// or of h_prev before the first step.
fn row_h(d: u32, b: u32, k: u32, t_prev: u32, started: bool) -> f32 {
  if (started) {
    return y[y_index(t_prev, b, d, k)];
  }
  return h_prev[state_row(d, b) * OUT + k];
}

@compute @workgroup_size(WG)
fn main_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let d = gid.y;
  let b = gid.x;
  if (b >= dims.batch) {
    return;
  }
  let row = state_row(d, b);
  var t_prev = 0u;
  var started = false;
  let steps = dispatch_steps();
  for (var s = steps.x; s < steps.y; s++) {
    let rs = row_step(d, s, b);
    if (rs.advances) {
      if (TWO_PHASE) {
        for (var j = 0u; j < HIDDEN; j++) {
          var acc = vec4<f32>();
          for (var k = 0u; k < OUT; k++) {
            acc += phase1_weights(d, k, j) * row_h(d, b, k, t_prev, started);
          }
          store_phase1(row, j, phase1_unit(d, b, j, s, acc, row_h(d, b, j, t_prev, started)));
        }
      }
      for (var j = 0u; j < HIDDEN; j++) {
        var acc = vec4<f32>();
        for (var k = 0u; k < OUT; k++) {
          var v: f32;
          if (TWO_PHASE) {
            v = load_vector(d, b, k);
          } else {
            v = row_h(d, b, k, t_prev, started);
          }
          acc += load_weights(d, k, j) * v;
        }
        advance_unit(d, b, j, s, acc, row_h(d, b, j, t_prev, started));
      }
    } else {
      // Past the row's length (y = 0) or masked (y = h carried): advance_unit writes y only.
      for (var j = 0u; j < HIDDEN; j++) {
        advance_unit(d, b, j, s, vec4<f32>(), row_h(d, b, j, t_prev, started));
      }
    }
    // y[rs.t] now holds h_s, except past a length, where the state stays at the last valid step.
    if (rs.advances || MASKED) {
      t_prev = rs.t;
      started = true;
    }
  }
  for (var k = 0u; k < OUT; k++) {
    h_next[row * OUT + k] = row_h(d, b, k, t_prev, started);
  }
}
