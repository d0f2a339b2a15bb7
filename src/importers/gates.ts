// Weight-layout helpers shared by the importers: gate-block permutations and transposes that map
// other frameworks' layouts onto ONNX's (../shared/reference/rnn-semantics.md §7-8: ONNX stores W and R as [out, in]
// with LSTM blocks i,o,f,c and GRU z,r,h; Keras and TF1 store [in, out], so they are transposed, and every framework's
// block order is permuted onto ONNX's as in GATE_PERM).

/** Gate perms onto ONNX order (dst block k := src block perm[k]). */
export const GATE_PERM = {
  /** PyTorch LSTM i,f,g,o -> ONNX i,o,f,c */
  torchLstm: [0, 3, 1, 2],
  /** PyTorch GRU r,z,n -> ONNX z,r,h */
  torchGru: [1, 0, 2],
  /** Keras / TF.js LSTM i,f,c,o -> ONNX i,o,f,c */
  kerasLstm: [0, 3, 1, 2],
  /** TF1 BasicLSTMCell i,j,f,o -> ONNX i,o,f,c */
  tf1Lstm: [0, 3, 2, 1],
  identity3: [0, 1, 2],
  identity1: [0],
} as const;

/** dst block k := src block perm[k]; `w` is [G·hidden, cols] row-major (cols = 1 for a bias). */
export function permuteGateBlocks(w: Float32Array, hidden: number, cols: number, perm: readonly number[]): Float32Array {
  const out = new Float32Array(w.length);
  const size = hidden * cols;
  perm.forEach((src, dst) => out.set(w.subarray(src * size, (src + 1) * size), dst * size));
  return out;
}

/** [rows, cols] -> [cols, rows], row-major. */
export function transpose2d(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}
