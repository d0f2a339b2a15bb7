// cell_step.wgsl: the two entry points of the cells that need one dispatch per timestep (RNN, LSTM,
// GRU with LINEAR_BEFORE_RESET). kernels.ts prepends step_common.wgsl and this file to
// rnn_step.wgsl, lstm_step.wgsl and gru_step.wgsl, which define the hooks called here:
//   load_vector(d, b, k)            element k of the recurrent vector of row (d, b), for staging
//   load_weights(d, k, j)           up to four gate weights of unit j at column k (unused lanes 0)
//   advance_unit(d, b, j, s, acc, hp)  the cell: unit j of row (d, b) at step s, given the gate
//                                   mat-vecs acc and its previous h; returns the new h (hp if the
//                                   row does not advance) and writes y (and c) itself
//   store_next(row, j, h)           where the new h goes (h_next, or the LSTM's unprojected m)
//   phase1_weights, phase1_unit     main_seq's first phase of a step, for a cell that needs the
//                                   whole of a first vector before its mat-vec (GRU without
//                                   linear_before_reset: r ⊙ h); stubs elsewhere (TWO_PHASE false)
//
// main: one timestep (step.s). Grid x = ceil(HIDDEN / WG) blocks of units j, y = direction d,
//   z = ceil(batch / BT) blocks of rows. The recurrent vector is staged from h_prev by
//   recurrent_matvec; the new h goes to h_next (ping-pong buffers on the host).
// main_seq: the whole sequence in one dispatch, for small layers (OUT <= K_TILE). Grid x = 1,
//   y = direction d, z = ceil(batch / BT): one workgroup owns the recurrences of BT rows of one
//   direction and loops over all dims.seq_len steps, keeping h in workgroup memory (two halves
//   of hbuf, alternating by step parity) with a barrier between steps; invocation lid computes
//   units lid, lid + WG, …. The rows of different workgroups never interact, so no grid-wide
//   barrier is needed. h_prev is read once at the start, h_next written once at the end. With
//   TWO_PHASE each step first computes phase1_unit for every unit into pbuf, then (after a
//   barrier) the main mat-vec runs over pbuf instead of h.

override TWO_PHASE: bool = false;

// main_seq's resident h: hbuf[half * HALF + bb * K_TILE + k], half = step parity. 8 KiB.
const HALF = 1024u;   // K_TILE * BT_MAX
var<workgroup> hbuf: array<f32, 2048>;
// The first phase's output with TWO_PHASE: pbuf[bb * K_TILE + k]. 4 KiB.
var<workgroup> pbuf: array<f32, 1024>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = wg.x * WG + lid;
  let d = wg.y;
  let b0 = wg.z * BT;
  let acc = recurrent_matvec(d, b0, j, HIDDEN, OUT, lid);
  if (j >= HIDDEN) {
    return;
  }
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
  for (var s = 0u; s < dims.seq_len; s++) {
    let cur = (s & 1u) * HALF;
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
  let fin = (dims.seq_len & 1u) * HALF;
  for (var e = lid; e < K_TILE * BT; e += WG) {
    let b = b0 + e / K_TILE;
    let k = e % K_TILE;
    if (k < OUT && b < dims.batch) {
      h_next[state_row(d, b) * OUT + k] = hbuf[fin + e];
    }
  }
}
