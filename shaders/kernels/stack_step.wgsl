// stack_step.wgsl: a whole unidirectional stack in one dispatch (main): every layer's input
// projection, recurrent mat-vec and cell, for every step of the call, with every layer's h resident
// in workgroup memory. A streaming step (Stream.step, seqLen 1) of any depth is then one dispatch
// where the per-layer kernels take two or more per layer. RNN, LSTM (peepholes, input_forget, clip;
// no projection) and GRU (either linear_before_reset), forward or reverse, hidden size <= WG.
// The files before it give bindings 0-2, the shape and activation overrides, row_step, y_index,
// and the cells' arithmetic, shared with the per-layer kernels:
// Module: lib/precision_*.wgsl + lib/step_common.wgsl + lib/cell_math.wgsl + this file
//
// Grid: x = ceil(batch / BT) workgroups of WG >= HIDDEN invocations; workgroup w owns batch rows
// b0 = w·BT .. b0 + BT - 1 and invocation j owns unit j of each (j >= HIDDEN only join barriers).
// Rows never interact, so no grid-wide barrier is needed: the workgroup loops over steps s and,
// inside, over layers l = 0 .. LAYERS - 1 (the persistent idea of cell_step.wgsl's main_seq, taken
// across layers). A dispatch runs at most dims.seq_chunk steps (dispatch_steps): the host records
// one dispatch per chunk, each continuing from the state it finds in `state`. Per (s, l) and
// row b, when the row advances (row_step: t, lengths or mask):
//   v_in = x[t, b, :] (l = 0) or the new h of layer l - 1 (hs), v_h = h of layer l (hs)
//   pre = W_l v_in + bias_l + R_l v_h, gate lanes as in the per-layer kernels, then the cell
//   (cell_math.wgsl): RNN, LSTM (c read and written in `state` by its own invocation) or GRU; a
//   GRU without linear_before_reset first computes r ⊙ h of every unit into rh (one barrier).
// Then a barrier (everyone has read hs[l]), each unit writes its new h into hs[l], a barrier.
// An inactive row keeps its state and the last layer writes y = inactive_y(h), as elsewhere.
// Only the last layer's sequence is written to y; every layer's final h and c go back to `state`.
//
// Layouts (row-major):
//   x        f32 [T, B, INPUT] (or [B, T, INPUT] with BATCH_MAJOR): the model's input
//   stack_w  weight4, per layer l a block of K_l = IN_l + HIDDEN columns (IN_0 = INPUT, else
//            HIDDEN): column k of unit j holds its LANES gate weights (LSTM i, o, f, c; GRU z, r,
//            h, 0: one vec4; RNN: one scalar, 4 per vec4 word), columns k < IN_l from ONNX W and
//            the rest from R; block l starts at float layer_base(l)
//   stack_aux f32 [LAYERS, 8, HIDDEN]: rows 0-3 the folded biases per gate lane (Wb + Rb, GRU with
//            linear_before_reset: Wb alone for h), rows 4-6 the LSTM peepholes (i, o, f), row 7
//            the GRU's Rb_h (linear_before_reset)
//   state    f32: h [LAYERS, B, HIDDEN], then c [LAYERS, B, HIDDEN] (LSTM): read at the start, written
//            at the end (c also in between), so a stream's state never leaves the GPU
//   y        f32, y_index (dims' strides): the last layer's output sequence in the public Y layout

@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> stack_w: array<weight4>;
@group(0) @binding(5) var<storage, read> stack_aux: array<f32>;
@group(0) @binding(6) var<storage, read_write> state: array<f32>;
@group(0) @binding(7) var<storage, read_write> y: array<f32>;

override CELL: u32;                  // 0 RNN, 1 LSTM, 2 GRU
override LAYERS: u32;
override INPUT: u32;                 // input features of layer 0
override BATCH_MAJOR: bool = false;  // x is [B, T, INPUT]

// CELL_RNN, CELL_LSTM, CELL_GRU: the CELL codes, and HS_MAX, the floats of resident h (LAYERS · BT ·
// HIDDEN <= HS_MAX, host-checked), are emitted by the host (kernels/constants.ts, from the registry).

override LANES: u32 = select(4u, 1u, CELL == CELL_RNN);
override TWO_PHASE: bool = CELL == CELL_GRU && !LINEAR_BEFORE_RESET;

// hs[(l · BT + bb) · HIDDEN + k]: element k of layer l's h for row b0 + bb. 8 KiB.
var<workgroup> hs: array<f32, HS_MAX>;
// rh[bb · HIDDEN + k]: r ⊙ h_prev of the layer being stepped (TWO_PHASE). 4 KiB.
var<workgroup> rh: array<f32, BT_MAX * STACK_MAX_HIDDEN>;

// First float of layer l's weight block.
fn layer_base(l: u32) -> u32 {
  if (l == 0u) {
    return 0u;
  }
  return ((INPUT + HIDDEN) + (l - 1u) * 2u * HIDDEN) * HIDDEN * LANES;
}

// The gate weights of unit j at column k of the block starting at float `base` (unused lanes 0).
fn gate_weights(base: u32, k: u32, j: u32) -> vec4<f32> {
  if (CELL == CELL_RNN) {
    let f = base + k * HIDDEN + j;
    return vec4<f32>(f32(stack_w[f / 4u][f % 4u]), 0.0, 0.0, 0.0);
  }
  let w = stack_w[base / 4u + k * HIDDEN + j];
  if (CELL == CELL_GRU) {
    // Components one by one: a CPU emulator then loads only the three words used.
    return vec4<f32>(f32(w.x), f32(w.y), f32(w.z), 0.0);
  }
  return vec4<f32>(w);
}

fn hs_index(l: u32, bb: u32, k: u32) -> u32 {
  return (l * BT + bb) * HIDDEN + k;
}

// W_l v_in for unit j of a single row (BT = 1): v_in = x from offset x0 (layer 0) or layer l - 1's h.
fn input_sums_one_row(l: u32, w_base: u32, in_size: u32, x0: u32, j: u32) -> vec4<f32> {
  var a = vec4<f32>();
  if (l == 0u) {
    for (var k = 0u; k < in_size; k++) {
      a += gate_weights(w_base, k, j) * x[x0 + k];
    }
    return a;
  }
  let h0 = hs_index(l - 1u, 0u, 0u);
  for (var k = 0u; k < in_size; k++) {
    a += gate_weights(w_base, k, j) * hs[h0 + k];
  }
  return a;
}

// R_l h_l for unit j of a single row (BT = 1).
fn recurrent_sums_one_row(l: u32, r_base: u32, j: u32) -> vec4<f32> {
  var a = vec4<f32>();
  let h0 = hs_index(l, 0u, 0u);
  for (var k = 0u; k < HIDDEN; k++) {
    a += gate_weights(r_base, k, j) * hs[h0 + k];
  }
  return a;
}

fn x_row(t: u32, b: u32) -> u32 {
  if (BATCH_MAJOR) {
    return (b * dims.seq_len + t) * INPUT;
  }
  return (t * dims.batch + b) * INPUT;
}

fn c_index(l: u32, b: u32, j: u32) -> u32 {
  return (LAYERS * dims.batch + l * dims.batch + b) * HIDDEN + j;
}

// Layer l at step s for the `rows` rows from b0: returns each row's new h of unit j (its old h when
// the row does not advance), and writes c and, for the last layer, y. Every invocation calls it
// (TWO_PHASE has a barrier); only j < HIDDEN computes.
fn layer_step(l: u32, s: u32, b0: u32, rows: u32, j: u32) -> array<f32, BT_MAX> {
  // Where each row is (row_step), as two arrays: the time index and whether it advances.
  var ts = array<u32, BT_MAX>();
  var adv = array<bool, BT_MAX>();
  for (var bb = 0u; bb < BT; bb++) {
    let rs = row_step(0u, s, min(b0 + bb, dims.batch - 1u));
    ts[bb] = rs.t;
    adv[bb] = rs.advances;
  }
  let w_base = layer_base(l);
  let in_size = select(HIDDEN, INPUT, l == 0u);
  let r_base = w_base + in_size * HIDDEN * LANES;
  // Explicitly zeroed (see main_seq in cell_step.wgsl).
  var ax = array<vec4<f32>, BT_MAX>();
  var ah = array<vec4<f32>, BT_MAX>();
  if (j < HIDDEN && BT == 1u) {
    // One row: plain accumulators. A CPU emulator keeps a per-row array in memory and would load and
    // store it at every multiply-add (SwiftShader measured ~2x slower that way).
    ax[0] = input_sums_one_row(l, w_base, in_size, x_row(ts[0], b0), j);
    ah[0] = recurrent_sums_one_row(l, r_base, j);
  } else if (j < HIDDEN) {
    if (l == 0u) {
      var xo: array<u32, BT_MAX>;
      for (var bb = 0u; bb < BT; bb++) {
        xo[bb] = x_row(ts[bb], min(b0 + bb, dims.batch - 1u));
      }
      for (var k = 0u; k < INPUT; k++) {
        let w = gate_weights(w_base, k, j);
        for (var bb = 0u; bb < BT; bb++) {
          ax[bb] += w * x[xo[bb] + k];
        }
      }
    } else {
      for (var k = 0u; k < HIDDEN; k++) {
        let w = gate_weights(w_base, k, j);
        for (var bb = 0u; bb < BT; bb++) {
          ax[bb] += w * hs[hs_index(l - 1u, bb, k)];
        }
      }
    }
    for (var k = 0u; k < HIDDEN; k++) {
      let w = gate_weights(r_base, k, j);
      for (var bb = 0u; bb < BT; bb++) {
        ah[bb] += w * hs[hs_index(l, bb, k)];
      }
    }
  }
  let aux = l * 8u * HIDDEN + j;
  var bias = vec4<f32>();
  if (j < HIDDEN) {
    bias = vec4<f32>(stack_aux[aux], stack_aux[aux + HIDDEN], stack_aux[aux + 2u * HIDDEN], stack_aux[aux + 3u * HIDDEN]);
  }
  var z = array<f32, BT_MAX>();
  if (TWO_PHASE) {
    // The candidate needs R_h (r ⊙ h_prev) over every unit: r of all units first.
    if (j < HIDDEN) {
      for (var bb = 0u; bb < rows; bb++) {
        let zr = gru_gates(0u, ax[bb].x + bias.x + ah[bb].x, ax[bb].y + bias.y + ah[bb].y);
        z[bb] = zr.x;
        rh[bb * HIDDEN + j] = zr.y * hs[hs_index(l, bb, j)];
      }
    }
    workgroupBarrier();
    if (j < HIDDEN) {
      var an = array<f32, BT_MAX>();
      for (var k = 0u; k < HIDDEN; k++) {
        let w = f32(stack_w[r_base / 4u + k * HIDDEN + j].z);
        for (var bb = 0u; bb < BT; bb++) {
          an[bb] += w * rh[bb * HIDDEN + k];
        }
      }
      for (var bb = 0u; bb < BT; bb++) {
        ah[bb].z = an[bb];
      }
    }
  }
  var hn = array<f32, BT_MAX>();
  if (j < HIDDEN) {
    for (var bb = 0u; bb < rows; bb++) {
      let b = b0 + bb;
      let hp = hs[hs_index(l, bb, j)];
      var h = hp;
      if (adv[bb]) {
        let pre = ax[bb] + bias;
        let a = ah[bb];
        if (CELL == CELL_RNN) {
          h = rnn_cell(0u, pre.x + a.x);
        } else if (CELL == CELL_LSTM) {
          let p = l * 8u * HIDDEN + 4u * HIDDEN + j;
          let ci = c_index(l, b, j);
          let cm = lstm_cell(0u, pre + a, vec3<f32>(stack_aux[p], stack_aux[p + HIDDEN], stack_aux[p + 2u * HIDDEN]), state[ci], 0.0);
          state[ci] = cm.x;
          h = cm.y;
        } else if (TWO_PHASE) {
          h = gru_output(0u, z[bb], pre.z + a.z, hp);
        } else {
          let zr = gru_gates(0u, pre.x + a.x, pre.y + a.y);
          h = gru_output(0u, zr.x, pre.z + zr.y * (a.z + stack_aux[l * 8u * HIDDEN + 7u * HIDDEN + j]), hp);
        }
      }
      if (l == LAYERS - 1u) {
        var out = h;
        if (!adv[bb]) {
          out = inactive_y(hp);
        }
        y[y_index(ts[bb], b, 0u, j)] = out;
      }
      hn[bb] = h;
    }
  }
  return hn;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b0 = wg.x * BT;
  let rows = min(BT, dims.batch - b0);
  let j = lid;
  for (var e = lid; e < LAYERS * BT * HIDDEN; e += WG) {
    let l = e / (BT * HIDDEN);
    let bb = (e / HIDDEN) % BT;
    var v = 0.0;
    if (bb < rows) {
      v = state[(l * dims.batch + b0 + bb) * HIDDEN + e % HIDDEN];
    }
    hs[e] = v;
  }
  workgroupBarrier();
  // The steps of this dispatch (dispatch_steps): the host splits a long call into chunks.
  let steps = dispatch_steps();
  for (var s = steps.x; s < steps.y; s++) {
    for (var l = 0u; l < LAYERS; l++) {
      let hn = layer_step(l, s, b0, rows, j);
      workgroupBarrier();
      if (j < HIDDEN) {
        for (var bb = 0u; bb < rows; bb++) {
          hs[hs_index(l, bb, j)] = hn[bb];
        }
      }
      workgroupBarrier();
    }
  }
  for (var e = lid; e < LAYERS * BT * HIDDEN; e += WG) {
    let l = e / (BT * HIDDEN);
    let bb = (e / HIDDEN) % BT;
    if (bb < rows) {
      state[(l * dims.batch + b0 + bb) * HIDDEN + e % HIDDEN] = hs[e];
    }
  }
}
