// Constants that the host and the WGSL share, with the host as their one source: kernels/sources.ts
// declares `const NAME: u32 = value;` in a module for each of these it uses (after its directive and
// precision files; the WGSL declares none of them, and sizes its workgroup arrays from them), so
// the two sides cannot drift apart.
import { CELL_TYPES, CELLS } from '../model/cells.js';

/** Output columns per workgroup of the tiled input projection (input_proj.wgsl's TILE). */
export const GEMM_TILE = 64;

/** The most batch rows a step invocation or workgroup serves (the BT override's bound; step_common.wgsl's BT_MAX). */
export const BATCH_TILE_MAX = 4;

/** The resident h of the persistent kernel holds K_TILE floats per row (step_matvec.wgsl's K_TILE). */
export const PERSISTENT_MAX_OUT = 256;

/** The fused stack kernel keeps LAYERS · BT · H floats of h per workgroup (stack_step.wgsl's HS_MAX). */
export const STACK_RESIDENT_FLOATS = 2048;

/** The largest hidden size of the stack kernel: one invocation per unit, and its rh holds BT · H <= BT_MAX · this. */
export const STACK_MAX_HIDDEN = 256;

/** Dims.c_seq_read / c_seq_write when a layer reads or writes no c sequence (lstm_step.wgsl's NONE). */
export const NO_C_SEQUENCE = 0xffffffff;

/**
 * Every shared constant by its WGSL name: the above, and the stack kernel's cell codes
 * (CELL_LSTM, …, from the registry's stackCode).
 */
export const SHARED_CONSTANTS: Readonly<Record<string, number>> = {
  TILE: GEMM_TILE,
  BT_MAX: BATCH_TILE_MAX,
  K_TILE: PERSISTENT_MAX_OUT,
  HS_MAX: STACK_RESIDENT_FLOATS,
  STACK_MAX_HIDDEN,
  NONE: NO_C_SEQUENCE,
  ...Object.fromEntries(
    CELL_TYPES.filter((c) => CELLS[c].stackCode !== undefined).map((c) => [`CELL_${c.toUpperCase()}`, CELLS[c].stackCode!]),
  ),
};
