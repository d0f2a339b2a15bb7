// The cost model behind the defaults on CPU-emulated adapters: whether a layer's recurrence runs
// fastest as one dispatch per step ('direct'), as the persistent kernel (one dispatch per 1024
// steps, one workgroup per direction and block of rows looping over the steps) or as the rows
// kernel (one dispatch per 1024 steps, one invocation per direction and row, no barrier). Pure.
//
//   direct      T · (dispatches per step · dispatch + reads / threads · directRead)
//   persistent  chunks · (dispatch + persistentSetup) + T · ⌈workgroups / threads⌉ · (persistentStep + G·H·Hout · persistentRead)
//   rows        chunks · dispatch + T · ⌈D·B / threads⌉ · G·H·Hout · rowsRead
//
// where reads = D · ⌈B / bt⌉ · G·H·Hout recurrent weights read per step (bt = 4 rows share each read
// in the direct kernel when B > 1) and a persistent workgroup reads G·H·Hout per step whatever its
// rows. An emulator runs each workgroup on one CPU thread, so the direct kernel's many workgroups
// spread over the threads while one persistent workgroup serialises its recurrence, with a
// barrier per step; the dispatch is what the persistent kernel saves.
import type { DeviceCaps, Emulator } from '../gpu/adapter.js';
import { BATCH_TILE_MAX } from '../kernels/constants.js';
import type { ResolvedSpec } from '../model/types.js';
import { batchTile } from './layer.js';
import { sequenceChunks } from './segments.js';

/**
 * µs per dispatch, per recurrent weight read (direct, persistent, rows), per persistent step's
 * barriers, and per persistent dispatch's setup (h staged into workgroup memory and back).
 */
export interface EmulatorCosts {
  dispatch: number;
  persistentSetup: number;
  directRead: number;
  persistentStep: number;
  persistentRead: number;
  rowsRead: number;
}

/**
 * Fitted to Node medians on 2 vCPUs (2026-12-07, `--config defaults`, README "Defaults by sequence
 * length"): direct and persistent µs per step of GRU 16 (B = 1), LSTM 64 (B = 2) and BiLSTM 128
 * (B = 1). lavapipe: direct 143, 98, 170, persistent 5, 38, 149, rows 3.5, 60, 305; SwiftShader:
 * direct 78, 144, persistent 22, 281, rows 36, 480 (one invocation computes a row's every unit, so
 * rows wins only tiny layers). The persistent dispatch's setup shows over a step or ten: on
 * SwiftShader a GRU 16 over 1 step took 0.69 ms persistent, 0.51 direct, 0.42 rows (over 10:
 * 1.12, 1.06, 0.74; medians of 30). They also order the earlier measurements in choose.ts (RNNoise GRU 96,
 * LSTM 20 × B 128, the Silero-like LSTM 128, LSTM 128 over 2 steps) as measured. Another emulator
 * (WARP, softpipe) takes SwiftShader's, whose direct step was the default everywhere before.
 */
const COSTS: Record<Emulator, EmulatorCosts> = {
  lavapipe: { dispatch: 80, persistentSetup: 10, directRead: 1.26e-3, persistentStep: 3, persistentRead: 2.3e-3, rowsRead: 4.6e-3 },
  swiftshader: { dispatch: 37, persistentSetup: 280, directRead: 13e-3, persistentStep: 10, persistentRead: 16.4e-3, rowsRead: 40e-3 },
  other: { dispatch: 37, persistentSetup: 280, directRead: 13e-3, persistentStep: 10, persistentRead: 16.4e-3, rowsRead: 40e-3 },
};

/** The model's estimate in µs of a layer's recurrence over (T, B) on an emulated adapter. */
export function recurrenceMicros(
  s: ResolvedSpec,
  step: 'direct' | 'persistent' | 'rows',
  T: number,
  B: number,
  dispatchesPerStep: number,
  caps: Pick<DeviceCaps, 'emulator' | 'threads'>,
): number {
  const c = COSTS[caps.emulator ?? 'other'];
  const reads = s.gates * s.hiddenSize * s.outputSize;
  const threads = Math.max(1, caps.threads);
  if (step === 'direct') {
    const blocks = Math.ceil(B / (B === 1 ? 1 : BATCH_TILE_MAX));
    return T * (dispatchesPerStep * c.dispatch + ((s.directions * blocks * reads) / threads) * c.directRead);
  }
  if (step === 'rows') return sequenceChunks(T) * c.dispatch + T * Math.ceil((s.directions * B) / threads) * reads * c.rowsRead;
  const workgroups = s.directions * Math.ceil(B / batchTile(B));
  return (
    sequenceChunks(T) * (c.dispatch + c.persistentSetup) +
    T * Math.ceil(workgroups / threads) * (c.persistentStep + reads * c.persistentRead)
  );
}
