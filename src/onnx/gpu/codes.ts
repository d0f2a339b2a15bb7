// The op codes that shaders/lib/graph_common.wgsl and the graph kernels switch on (their WGSL
// `override` constants ACT and OP): one table per kernel family, keyed by ONNX op type.

/** graph_common.wgsl `activate`: unary ops, applied by any kernel before it stores. */
export const ACT_CODES: Readonly<Record<string, number>> = {
  Identity: 0,
  Relu: 1,
  Sigmoid: 2,
  Tanh: 3,
  Exp: 4,
  Log: 5,
  Sqrt: 6,
  Neg: 7,
  Abs: 8,
  LeakyRelu: 9,
  Clip: 10,
  Reciprocal: 11,
  Floor: 12,
  Ceil: 13,
  Elu: 14,
  HardSigmoid: 15,
  Softplus: 16,
  Softsign: 17,
  Sin: 18,
  Cos: 19,
  Round: 20,
  Sign: 21,
  HardSwish: 23,
  // Cast of float data: to an integer type (toward zero), to bool (v != 0).
  CastInt: 24,
  CastBool: 25,
};

/** graph_elementwise.wgsl `binary_op`. */
export const BINARY_CODES: Readonly<Record<string, number>> = {
  Add: 0,
  Sub: 1,
  Mul: 2,
  Div: 3,
  Pow: 4,
  Max: 5,
  Min: 6,
  PRelu: 7,
  Mod: 8,
  // Variadic Sum is a chain of Adds; Mean adds, then scales.
  Sum: 0,
  Mean: 0,
};

/** graph_reduce.wgsl. */
export const REDUCE_CODES: Readonly<Record<string, number>> = {
  ReduceSum: 0,
  ReduceMean: 1,
  ReduceMax: 2,
  ReduceMin: 3,
  ReduceProd: 4,
  ReduceL1: 5,
  ReduceL2: 6,
  ReduceSumSquare: 7,
  ReduceLogSum: 8,
  ReduceLogSumExp: 9,
};
