// One-node ONNX models for every CPU operator of the importer (src/onnx/ops.ts), compared with ONNX
// Runtime by test/import/onnx-ops.test.ts. A case names the op, the opset, the node's inputs (values
// or seeded random floats), attributes and output types; a case the importer rejects on purpose
// names the error class and a pattern of its message instead. Models come from common/onnx-writer.ts,
// plus two things it cannot write (TENSOR attributes, graph outputs without a declared shape) spliced
// in at the protobuf wire level below.
import { attr, onnxModel, tensorProto, type Attr, type InitializerDef } from '../../common/onnx-writer.js';
import { rng, uniform } from '../../common/random.js';

export type InputDType = 'float32' | 'int64' | 'int32' | 'bool';
export type DType = InputDType | 'double' | 'uint8';

/** TensorProto.DataType codes. */
export const DTYPE_CODE: Record<DType, number> = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9, double: 11 };

export interface InputSpec {
  name: string;
  dtype: InputDType;
  dims: number[];
  /** The values (bigint for int64 values past 2^53); absent: seeded uniform floats in [-scale, scale]. */
  data?: (number | bigint)[];
  scale?: number;
}

export interface TensorAttr {
  kind: 'tensor';
  dtype: InputDType;
  dims: number[];
  data: number[];
}

export interface OpCase {
  op: string;
  opset: number;
  /** What the case covers (the test title). */
  note: string;
  /** The node's inputs in order; null leaves an optional input out. */
  inputs: (InputSpec | null)[];
  attributes?: Record<string, Attr | TensorAttr>;
  /** Element type of each output of the node (default: one output typed like the first input). */
  outputs?: DType[];
  /** The importer rejects the case: the error class (from the package index) and its message. */
  error?: { type: 'FormatError' | 'UnsupportedError' | 'InputError'; match: RegExp };
  /** A known library bug: the case runs as it.fails; says what goes wrong. */
  bug?: string;
}

// ---- the table ------------------------------------------------------------------------------------

const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;
/** Cast `to` codes. */
const TO = { FLOAT: 1, UINT8: 2, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, DOUBLE: 11 } as const;

const f = (name: string, dims: number[], data?: number[], scale?: number): InputSpec => ({ name, dtype: 'float32', dims, data, scale });
const x = (dims: number[], data?: number[]) => f('x', dims, data);
const ints =
  (dtype: InputDType) =>
  (name: string, data: (number | bigint)[], dims = [data.length]): InputSpec => ({ name, dtype, dims, data });
const i64 = ints('int64');
const i32 = ints('int32');
const bool = ints('bool');
const tensor = (dtype: InputDType, dims: number[], data: number[]): TensorAttr => ({ kind: 'tensor', dtype, dims, data });
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const err = (type: NonNullable<OpCase['error']>['type'], match: RegExp) => ({ error: { type, match } });

function one(op: string, opset: number, note: string, inputs: (InputSpec | null)[], more: Partial<OpCase> = {}): OpCase {
  return { op, opset, note, inputs, ...more };
}

const I64: DType[] = ['int64'];
const BROADCASTS: [string, number[], number[]][] = [
  ['same shape', [2, 3], [2, 3]],
  ['scalar B', [2, 3], []],
  ['scalar A', [], [3]],
  ['[3,1] × [1,4]', [3, 1], [1, 4]],
  ['rank mismatch [2,3,4] × [4]', [2, 3, 4], [4]],
  ['rank mismatch [2,1,4] × [3,1]', [2, 1, 4], [3, 1]],
];
const INT_A = [7, -7, 9, -9, 1, 0];
const INT_B = [2, 2, -4, -4, 3, 5];

const binaryCases = ['Add', 'Sub', 'Mul', 'Div'].flatMap((op): OpCase[] => [
  ...BROADCASTS.map(([note, a, b]) => one(op, 14, `float ${note}`, [f('a', a), f('b', b)])),
  one(op, 7, 'float [2,3] × [3], opset 7', [f('a', [2, 3]), f('b', [3])]),
  one(op, 13, 'int64 same shape (Div truncates toward zero)', [i64('a', INT_A, [2, 3]), i64('b', INT_B, [2, 3])]),
  one(op, 13, 'int64 [2,3] × [3]', [i64('a', INT_A, [2, 3]), i64('b', [2, -3, 5])]),
  one(op, 14, 'rejects shapes that do not broadcast', [f('a', [2, 3]), f('b', [4])], err('FormatError', /do not broadcast/)),
  one(op, 14, 'rejects float mixed with int64', [f('a', [2]), i64('b', [1, 2])], err('FormatError', /mix float and integer/)),
]);

const softmaxCases = ['Softmax', 'LogSoftmax'].flatMap((op): OpCase[] => {
  const axis = (a: number) => ({ attributes: { axis: attr.i(a) } });
  return [
    one(op, 11, 'default axis 1: flattened to 2-D at the axis (opset < 13)', [x([2, 3, 4])]),
    one(op, 11, 'axis 0: one softmax over the whole tensor (opset < 13)', [x([2, 3, 4])], axis(0)),
    one(op, 11, 'axis -1', [x([2, 3, 4])], axis(-1)),
    one(op, 7, 'axis 2 of a rank-4 tensor, opset 7', [x([2, 2, 3, 2])], axis(2)),
    one(op, 13, 'default axis -1', [x([2, 3, 4])]),
    one(op, 13, 'axis 1: along that axis only (opset 13+)', [x([2, 3, 4])], axis(1)),
    one(op, 13, 'axis -3 (negative)', [x([2, 3, 4])], axis(-3)),
    one(op, 13, 'rank 1', [x([5])]),
    one(op, 13, 'large logits stay finite', [x([2, 4], [50, -50, 49, 0, -80, -79, -81, 10])]),
    one(op, 13, 'rejects axis 3 of a rank-3 tensor', [x([2, 3, 4])], { ...axis(3), ...err('FormatError', /axis 3 is out of range/) }),
  ];
});

const SPECIAL = [-30, -5, -1, -0.001, 0, 0.001, 1, 5, 30];
const unaryCases = ['Sigmoid', 'Tanh', 'Relu', 'Exp', 'Neg', 'LeakyRelu'].flatMap((op): OpCase[] => [
  one(op, 13, 'random [2,3,4]', [f('x', [2, 3, 4], undefined, 3)]),
  one(op, 7, 'special values, opset 7', [x([9], SPECIAL)]),
  one(op, 13, 'scalar', [x([], [-0.75])]),
]);

const gemmCase = (note: string, a: number[], b: number[], c: number[] | null, attributes: Record<string, Attr> = {}, opset = 13) =>
  one('Gemm', opset, note, [f('A', a), f('B', b), ...(c ? [f('C', c)] : [])], { attributes });

export const OP_CASES: OpCase[] = [
  one('Identity', 13, 'float tensor', [x([2, 3])]),
  one('Identity', 16, 'int64 tensor', [i64('x', [3, -1, 7])]),
  one('Identity', 7, 'scalar, opset 7', [x([], [1.5])]),

  one('Dropout', 7, 'ratio attribute, output only', [x([2, 3])], { attributes: { ratio: attr.f(0.3) } }),
  // No mask below opset 12: ORT's Dropout-7..11 kernel (IdentityOp) returns an all-false mask, where
  // the ONNX reference, ORT's Dropout-12+ and the importer return all true (nothing was dropped).
  one('Dropout', 10, 'ratio attribute, opset 10', [x([2, 3])], { attributes: { ratio: attr.f(0.5) } }),
  one('Dropout', 13, 'the bool mask (all true)', [x([2, 3])], { outputs: ['float32', 'bool'] }),
  one(
    'Dropout',
    12,
    'ratio and training_mode=false inputs, seed attribute, mask',
    [x([3, 2]), f('ratio', [], [0.25]), bool('t', [0], [])],
    {
      attributes: { seed: attr.i(3) },
      outputs: ['float32', 'bool'],
    },
  ),
  one('Dropout', 22, 'no ratio, mask', [x([4])], { outputs: ['float32', 'bool'] }),

  one('Constant', 13, 'value: float tensor', [], { attributes: { value: tensor('float32', [2, 3], [1, -2, 3.5, 0, 1e-3, -7]) } }),
  one('Constant', 13, 'value: int64 tensor', [], { attributes: { value: tensor('int64', [3], [1, -2, 3]) }, outputs: I64 }),
  one('Constant', 22, 'value: int32 tensor', [], { attributes: { value: tensor('int32', [2, 2], [4, 3, 2, -1]) }, outputs: ['int32'] }),
  one('Constant', 9, 'value: scalar float tensor, opset 9', [], { attributes: { value: tensor('float32', [], [2.25]) } }),
  one('Constant', 13, 'value_float', [], { attributes: { value_float: attr.f(2.5) } }),
  one('Constant', 13, 'value_floats', [], { attributes: { value_floats: attr.floats([1, -0.5, 3]) } }),
  one('Constant', 13, 'value_int', [], { attributes: { value_int: attr.i(-7) }, outputs: I64 }),
  one('Constant', 13, 'value_ints', [], { attributes: { value_ints: attr.ints([4, 0, -3]) }, outputs: I64 }),
  one('Constant', 13, 'rejects value_string', [], {
    attributes: { value_string: attr.s('hi') },
    ...err('UnsupportedError', /value_string/),
  }),
  one('Constant', 13, 'rejects value_strings', [], {
    attributes: { value_strings: attr.strings(['a', 'b']) },
    ...err('UnsupportedError', /value_strings/),
  }),
  one('Constant', 13, 'rejects a Constant without a value', [], err('FormatError', /no value attribute/)),

  ...(
    [
      [13, 'rank-3 float input', [x([2, 3, 4])], {}],
      [13, 'int64 input', [i64('x', range(6), [3, 2])], {}],
      [13, 'scalar input: empty shape', [x([], [1])], {}],
      [15, 'start=1', [x([2, 3, 4, 5])], { start: attr.i(1) }],
      [15, 'start=-2 (negative)', [x([2, 3, 4, 5])], { start: attr.i(-2) }],
      [15, 'end=-1 (negative)', [x([2, 3, 4, 5])], { end: attr.i(-1) }],
      [15, 'start=1, end=3', [x([2, 3, 4, 5])], { start: attr.i(1), end: attr.i(3) }],
      [15, 'start=-10, end=10: clamped', [x([2, 3, 4])], { start: attr.i(-10), end: attr.i(10) }],
      [15, 'start after end: empty', [x([2, 3, 4])], { start: attr.i(2), end: attr.i(1) }],
    ] as [number, string, InputSpec[], Record<string, Attr>][]
  ).map(([opset, note, inputs, attributes]) => one('Shape', opset, note, inputs, { attributes, outputs: I64 })),

  one('Size', 13, 'rank-3 float input', [x([2, 3, 4])], { outputs: I64 }),
  one('Size', 13, 'int64 scalar', [i64('x', [5], [])], { outputs: I64 }),
  one('Size', 19, 'empty tensor', [x([0, 3], [])], { outputs: I64 }),
  one('Size', 7, 'opset 7', [x([4, 1])], { outputs: I64 }),

  one('Gather', 13, 'axis 0 (default), 2-D indices with negative ones', [x([5, 3]), i64('i', [0, -1, 4, -5], [2, 2])]),
  one('Gather', 13, 'axis 1', [x([2, 4, 3]), i64('i', [3, 0, -2])], { attributes: { axis: attr.i(1) } }),
  one('Gather', 13, 'axis -1 (negative), scalar index', [x([2, 3, 4]), i64('i', [-1], [])], { attributes: { axis: attr.i(-1) } }),
  one('Gather', 11, 'scalar index on axis 0 (an embedding row)', [x([5, 3]), i64('i', [2], [])]),
  one('Gather', 11, 'int64 data (an element of a Shape)', [i64('x', [7, 2, 5, 3]), i64('i', [1], [])]),
  one('Gather', 7, 'int32 indices, opset 7', [x([4, 2]), i32('i', [3, 1, 1])]),
  one('Gather', 13, 'empty indices', [x([4, 2]), i64('i', [], [0])]),
  one('Gather', 13, 'rejects an index past the axis', [x([5, 3]), i64('i', [5])], err('InputError', /index 5 is out of range/)),
  one('Gather', 13, 'rejects axis 2 of a rank-2 tensor', [x([5, 3]), i64('i', [0])], {
    attributes: { axis: attr.i(2) },
    ...err('FormatError', /axis 2 is out of range/),
  }),

  ...(
    [
      [[3, 4], [0]],
      [[3, 4], [-1]],
      [
        [2, 3],
        [3, 0],
      ],
      [[], [0]],
    ] as [number[], number[]][]
  ).map(([dims, axes]) =>
    one('Unsqueeze', 11, `axes attribute [${axes}] on [${dims}]`, [x(dims, dims.length ? undefined : [3])], {
      attributes: { axes: attr.ints(axes) },
    }),
  ),
  ...(
    [
      [[2, 3], [1]],
      [
        [2, 3],
        [-1, 0],
      ],
      [
        [2, 3],
        [4, 1, -5],
      ],
    ] as [number[], number[]][]
  ).map(([dims, axes]) => one('Unsqueeze', 13, `axes input [${axes}] on [${dims}]`, [x(dims), i64('axes', axes)])),
  one('Unsqueeze', 21, 'int64 data, axes input', [i64('x', [4, 5]), i64('axes', [0])]),
  one('Unsqueeze', 13, 'rejects a repeated axis', [x([2, 3]), i64('axes', [1, 1])], err('FormatError', /repeated axis/)),
  one('Unsqueeze', 13, 'rejects an axis past the output rank', [x([2, 3]), i64('axes', [3])], err('FormatError', /axis 3 is out of range/)),
  one('Unsqueeze', 11, 'rejects a node without axes', [x([2, 3])], err('FormatError', /needs axes/)),

  one('Squeeze', 11, 'axes attribute [0]', [x([1, 3, 1, 2])], { attributes: { axes: attr.ints([0]) } }),
  one('Squeeze', 11, 'axes attribute [-2] (negative)', [x([1, 3, 1, 2])], { attributes: { axes: attr.ints([-2]) } }),
  one('Squeeze', 11, 'no axes: every size-1 axis', [x([1, 3, 1, 2])]),
  one('Squeeze', 13, 'axes input [0, 2]', [x([1, 3, 1, 2]), i64('axes', [0, 2])]),
  one('Squeeze', 13, 'axes input [-1] (negative)', [x([2, 3, 1]), i64('axes', [-1])]),
  one('Squeeze', 13, 'no axes input: every size-1 axis', [x([1, 3, 1, 1])]),
  one('Squeeze', 13, 'int64 data to a scalar', [i64('x', [9], [1]), i64('axes', [0])]),
  one('Squeeze', 13, 'rejects an axis of size 3', [x([2, 3]), i64('axes', [1])], err('FormatError', /cannot squeeze axis 1 of size 3/)),

  one('Concat', 13, 'axis 0', [f('a', [2, 3]), f('b', [1, 3])], { attributes: { axis: attr.i(0) } }),
  one('Concat', 13, 'axis 1, three inputs', [f('a', [2, 1, 4]), f('b', [2, 3, 4]), f('c', [2, 2, 4])], { attributes: { axis: attr.i(1) } }),
  one('Concat', 13, 'axis -1 (negative)', [f('a', [2, 3]), f('b', [2, 2])], { attributes: { axis: attr.i(-1) } }),
  one('Concat', 11, 'axis -2 (negative), opset 11', [f('a', [2, 3, 2]), f('b', [2, 1, 2])], { attributes: { axis: attr.i(-2) } }),
  one('Concat', 7, 'axis 1, opset 7', [f('a', [2, 2]), f('b', [2, 3])], { attributes: { axis: attr.i(1) } }),
  one('Concat', 13, 'int64 shape pieces', [i64('a', [1]), i64('b', [5]), i64('c', [3, -1])], { attributes: { axis: attr.i(0) } }),
  one('Concat', 13, 'a single input', [f('a', [2, 2])], { attributes: { axis: attr.i(1) } }),
  one('Concat', 13, 'an empty input', [f('a', [2, 0], []), f('b', [2, 2])], { attributes: { axis: attr.i(1) } }),
  one('Concat', 13, 'rejects shapes that differ outside the axis', [f('a', [2, 3]), f('b', [3, 3])], {
    attributes: { axis: attr.i(1) },
    ...err('FormatError', /differ outside axis 1/),
  }),
  one('Concat', 13, 'rejects float mixed with int64', [f('a', [2]), i64('b', [1])], {
    attributes: { axis: attr.i(0) },
    ...err('FormatError', /mix float and integer/),
  }),

  one('Slice', 9, 'starts/ends attributes, no axes', [x([4, 5])], { attributes: { starts: attr.ints([1]), ends: attr.ints([3]) } }),
  one('Slice', 9, 'attributes with axes, a negative start and an end past the axis', [x([4, 5])], {
    attributes: { starts: attr.ints([0, -3]), ends: attr.ints([2, 1000]), axes: attr.ints([0, 1]) },
  }),
  one('Slice', 10, 'starts/ends inputs, no axes', [x([4, 5]), i64('s', [1]), i64('e', [3])]),
  one('Slice', 10, 'axes [1] and steps [2]', [x([4, 5]), i64('s', [0]), i64('e', [5]), i64('a', [1]), i64('p', [2])]),
  one('Slice', 11, 'reversed: step -1 from -1 to INT64_MIN', [
    x([4, 3]),
    i64('s', [-1]),
    i64('e', [I64_MIN]),
    i64('a', [0]),
    i64('p', [-1]),
  ]),
  one('Slice', 13, 'axes [-1] (negative), ends [-1]', [x([2, 3, 5]), i64('s', [1]), i64('e', [-1]), i64('a', [-1])]),
  one('Slice', 13, 'step -2 from 4 to 0', [x([6]), i64('s', [4]), i64('e', [0]), i64('a', [0]), i64('p', [-2])]),
  one('Slice', 13, 'start -2 to INT64_MAX', [x([3, 4]), i64('s', [-2]), i64('e', [I64_MAX]), i64('a', [1])]),
  one('Slice', 13, 'steps without axes', [x([4, 5]), i64('s', [0, 1]), i64('e', [3, 4]), null, i64('p', [2, 1])]),
  one('Slice', 13, 'starts/ends far outside are clamped', [x([4, 2]), i64('s', [-100]), i64('e', [100]), i64('a', [0])]),
  one('Slice', 13, 'start after end: empty result', [x([4, 2]), i64('s', [3]), i64('e', [1]), i64('a', [0])]),
  one('Slice', 13, 'two axes out of order with steps', [
    x([4, 3, 5]),
    i64('s', [1, 0]),
    i64('e', [4, 4]),
    i64('a', [2, 0]),
    i64('p', [1, 2]),
  ]),
  one('Slice', 13, 'negative step from past the end to before the start', [
    x([7]),
    i64('s', [100]),
    i64('e', [-100]),
    null,
    i64('p', [-3]),
  ]),
  one('Slice', 13, 'int64 data (the tail of a shape)', [i64('x', [2, 7, 3, 5]), i64('s', [1]), i64('e', [I64_MAX])]),
  one(
    'Slice',
    13,
    'rejects a step of 0',
    [x([4]), i64('s', [0]), i64('e', [4]), i64('a', [0]), i64('p', [0])],
    err('FormatError', /step is 0/),
  ),
  one('Slice', 13, 'rejects an axis sliced twice', [x([4, 4]), i64('s', [0, 1]), i64('e', [2, 3]), i64('a', [1, -1])], {
    ...err('FormatError', /sliced twice/),
  }),
  one('Slice', 9, 'rejects Slice-1 without starts', [x([4])], {
    attributes: { ends: attr.ints([2]) },
    ...err('FormatError', /needs starts and ends/),
  }),

  one('Transpose', 13, 'default perm: axes reversed', [x([2, 3, 4])]),
  one('Transpose', 13, 'perm [1, 0, 2]', [x([2, 3, 4])], { attributes: { perm: attr.ints([1, 0, 2]) } }),
  one('Transpose', 13, 'perm [0, 2, 3, 1] of a rank-4 tensor', [x([2, 3, 4, 5])], { attributes: { perm: attr.ints([0, 2, 3, 1]) } }),
  one('Transpose', 21, 'int64 data', [i64('x', range(6), [2, 3])], { attributes: { perm: attr.ints([1, 0]) } }),
  one('Transpose', 7, 'default perm, opset 7', [x([3, 2])]),
  one('Transpose', 13, 'rejects a perm that is not a permutation', [x([2, 3, 4])], {
    attributes: { perm: attr.ints([0, 0, 1]) },
    ...err('FormatError', /not a permutation/),
  }),

  ...(
    [
      [13, [2, 3, 4], [4, 6]],
      [13, [2, 3, 4], [0, -1]],
      [13, [2, 3, 4], [-1]],
      [13, [2, 3, 4], [2, 0, 2, 2]],
      [7, [2, 3, 4], [1, -1, 1, 3]],
    ] as [number, number[], number[]][]
  ).map(([opset, dims, shape]) => one('Reshape', opset, `[${dims}] to [${shape}]`, [x(dims), i64('shape', shape)])),
  one('Reshape', 13, 'int64 data', [i64('x', range(6), [2, 3]), i64('shape', [3, 2])]),
  one('Reshape', 14, 'allowzero=1: a 0 is a zero-size dimension', [x([0, 4], []), i64('shape', [4, 0])], {
    attributes: { allowzero: attr.i(1) },
  }),
  one('Reshape', 14, 'allowzero=0: a 0 copies the input dimension', [x([2, 3]), i64('shape', [0, 3])], {
    attributes: { allowzero: attr.i(0) },
  }),
  one('Reshape', 13, 'rejects two -1', [x([2, 3]), i64('shape', [-1, -1])], err('FormatError', /more than one -1/)),
  one('Reshape', 13, 'rejects a different element count', [x([2, 3]), i64('shape', [4, 2])], err('FormatError', /cannot reshape/)),
  one('Reshape', 13, 'rejects a 0 past the input rank', [x([6]), i64('shape', [6, 0])], err('FormatError', /shape entry 1 is 0/)),

  ...(
    [
      [13, undefined],
      [13, 0],
      [13, 3],
      [13, -1],
      [13, -3],
      [9, 2],
    ] as [number, number | undefined][]
  ).map(([opset, axis]) =>
    one('Flatten', opset, axis === undefined ? 'default axis 1' : `axis ${axis}`, [x([2, 3, 4])], {
      attributes: axis === undefined ? {} : { axis: attr.i(axis) },
    }),
  ),
  one('Flatten', 13, 'int64 data', [i64('x', range(8), [2, 2, 2])], { attributes: { axis: attr.i(2) } }),
  one('Flatten', 13, 'rejects axis 4 of a rank-3 tensor', [x([2, 3, 4])], {
    attributes: { axis: attr.i(4) },
    ...err('FormatError', /axis 4 is out of range/),
  }),

  one('ConstantOfShape', 9, 'no value: float zeros', [i64('shape', [2, 3])], { outputs: ['float32'] }),
  one('ConstantOfShape', 9, 'float value', [i64('shape', [3, 1, 2])], {
    attributes: { value: tensor('float32', [1], [1.5]) },
    outputs: ['float32'],
  }),
  one('ConstantOfShape', 13, 'int64 value', [i64('shape', [4])], { attributes: { value: tensor('int64', [1], [7]) }, outputs: I64 }),
  one('ConstantOfShape', 20, 'int32 value', [i64('shape', [2, 2])], {
    attributes: { value: tensor('int32', [1], [-3]) },
    outputs: ['int32'],
  }),
  one('ConstantOfShape', 21, 'bool value', [i64('shape', [3])], { attributes: { value: tensor('bool', [1], [1]) }, outputs: ['bool'] }),
  one('ConstantOfShape', 13, 'an empty shape: a scalar', [i64('shape', [], [0])], { outputs: ['float32'] }),
  one('ConstantOfShape', 13, 'a zero-size dimension', [i64('shape', [2, 0])], { outputs: ['float32'] }),
  one('ConstantOfShape', 13, 'rejects a value of two elements', [i64('shape', [2])], {
    attributes: { value: tensor('float32', [2], [1, 2]) },
    outputs: ['float32'],
    ...err('FormatError', /exactly one element/),
  }),

  ...(
    [
      [
        [3, 1],
        [3, 4],
      ],
      [
        [3, 1],
        [2, 1, 4],
      ],
      [[2, 3], [1]],
      [
        [2, 3],
        [2, 1],
      ],
      [[], [2, 2]],
    ] as [number[], number[]][]
  ).map(([dims, shape]) =>
    one('Expand', 13, `[${dims}] by shape [${shape}]`, [x(dims, dims.length ? undefined : [0.5]), i64('shape', shape)]),
  ),
  one('Expand', 8, 'int64 data, opset 8', [i64('x', [1, 2, 3], [1, 3]), i64('shape', [2, 1])]),
  one('Expand', 13, 'rejects shapes that do not broadcast', [x([3]), i64('shape', [4])], err('FormatError', /do not broadcast/)),

  ...(
    [
      ['float to int64 (toward zero)', x([8], [-2.7, -0.5, 0, 0.5, 1.9, 3.2, 100.99, -100.99]), TO.INT64, 'int64'],
      ['float to int32', x([4], [-3.9, 3.9, 0.2, 65536.5]), TO.INT32, 'int32'],
      ['float to bool', x([5], [0, -0, 0.1, -3, 1e-30]), TO.BOOL, 'bool'],
      ['float to double', x([2, 3]), TO.DOUBLE, 'double'],
      ['float to float', x([2, 3]), TO.FLOAT, 'float32'],
      ['float to uint8 (in range)', x([3], [0, 7.5, 255]), TO.UINT8, 'uint8'],
      ['int64 to float', i64('x', [-3, 0, 5, 123456]), TO.FLOAT, 'float32'],
      ['int64 to int32', i64('x', [-3, 0, 5, 123456]), TO.INT32, 'int32'],
      ['int64 to bool', i64('x', [-2, 0, 3, 0]), TO.BOOL, 'bool'],
      ['int64 to double', i64('x', [-2, 9], [2, 1]), TO.DOUBLE, 'double'],
      ['int32 to int64', i32('x', [-1, 2, 1 << 30]), TO.INT64, 'int64'],
      ['bool to float', bool('x', [1, 0, 1]), TO.FLOAT, 'float32'],
      ['bool to int64', bool('x', [0, 1]), TO.INT64, 'int64'],
    ] as [string, InputSpec, number, DType][]
  ).map(([note, input, to, out]) => one('Cast', 13, note, [input], { attributes: { to: attr.i(to) }, outputs: [out] })),
  one('Cast', 7, 'float to int64, opset 7', [x([3], [1.5, -1.5, 2])], { attributes: { to: attr.i(TO.INT64) }, outputs: I64 }),
  one('Cast', 19, 'saturate=1 (only affects float8 targets)', [x([3], [1.5, -1.5, 2])], {
    attributes: { to: attr.i(TO.INT64), saturate: attr.i(1) },
    outputs: I64,
  }),
  one('Cast', 13, 'rejects to=STRING', [x([2])], {
    attributes: { to: attr.i(TO.STRING) },
    ...err('UnsupportedError', /Cast to STRING is not supported/),
  }),
  one('Cast', 13, "rejects a Cast without 'to'", [x([2])], err('FormatError', /needs a 'to' attribute/)),

  ...(
    [
      [13, [3, 4], [4, 5]],
      [13, [4], [4, 5]],
      [13, [3, 4], [4]],
      [13, [4], [4]],
      [13, [2, 3, 4], [4, 5]],
      [13, [2, 1, 3, 4], [5, 4, 2]],
      [13, [2, 3, 4], [2, 4, 2]],
      [13, [4], [2, 4, 3]],
      [13, [2, 3, 4], [4]],
      [9, [1, 2, 3], [3, 2]],
    ] as [number, number[], number[]][]
  ).map(([opset, a, b]) => one('MatMul', opset, `[${a}] × [${b}]`, [f('A', a), f('B', b)])),
  one(
    'MatMul',
    13,
    'rejects int64 inputs',
    [i64('A', [1, 2]), i64('B', [3, 4])],
    err('UnsupportedError', /integer MatMul is not supported/),
  ),
  one('MatMul', 13, 'rejects different inner dimensions', [f('A', [2, 3]), f('B', [4, 2])], err('FormatError', /inner dimensions differ/)),
  one('MatMul', 13, 'rejects batch dimensions that do not broadcast', [f('A', [2, 3, 4]), f('B', [3, 4, 5])], {
    ...err('FormatError', /do not broadcast/),
  }),

  gemmCase('C [3,5]', [3, 4], [4, 5], [3, 5]),
  gemmCase('alpha 0.5, beta 2, C [5]', [3, 4], [4, 5], [5], { alpha: attr.f(0.5), beta: attr.f(2) }),
  gemmCase('transA', [4, 3], [4, 5], [3, 5], { transA: attr.i(1) }),
  gemmCase('transB, C [1,5]', [3, 4], [5, 4], [1, 5], { transB: attr.i(1) }),
  gemmCase('transA and transB, C [3,1]', [4, 3], [5, 4], [3, 1], { transA: attr.i(1), transB: attr.i(1) }),
  gemmCase('scalar C', [3, 4], [4, 5], [], { beta: attr.f(-1) }),
  gemmCase('no C (opset 11+)', [3, 4], [4, 5], null, { alpha: attr.f(-1.5) }, 11),
  gemmCase('beta 0 ignores C', [3, 4], [4, 5], [3, 5], { beta: attr.f(0) }),
  gemmCase('alpha, beta, C [2,3], opset 7', [2, 4], [4, 3], [2, 3], { alpha: attr.f(2), beta: attr.f(0.25) }, 7),
  one('Gemm', 13, 'rejects a rank-3 A', [f('A', [1, 3, 4]), f('B', [4, 5])], err('FormatError', /must be 2-D/)),
  one('Gemm', 13, 'rejects a C that does not broadcast to [M, N]', [f('A', [3, 4]), f('B', [4, 5]), f('C', [2, 5])], {
    ...err('FormatError', /do not broadcast/),
  }),
  one(
    'Gemm',
    13,
    'rejects int64 inputs',
    [i64('A', [1], [1, 1]), i64('B', [1], [1, 1])],
    err('UnsupportedError', /integer Gemm is not supported/),
  ),
  one('Gemm', 13, "rejects the legacy 'broadcast' attribute", [f('A', [3, 4]), f('B', [4, 5])], {
    attributes: { broadcast: attr.i(1) },
    ...err('UnsupportedError', /attribute 'broadcast' is not supported/),
  }),

  ...binaryCases,
  one('Div', 13, 'rejects an int64 division by zero', [i64('a', [1, 2]), i64('b', [1, 0])], {
    ...err('InputError', /division by zero/),
  }),

  ...softmaxCases,

  ...unaryCases,
  one('LeakyRelu', 13, 'alpha 0.2', [x([9], SPECIAL)], { attributes: { alpha: attr.f(0.2) } }),
  one('LeakyRelu', 16, 'alpha 0', [x([2, 3])], { attributes: { alpha: attr.f(0) } }),
  one('LeakyRelu', 7, 'alpha 1.5', [x([2, 3])], { attributes: { alpha: attr.f(1.5) } }),
  one('Sigmoid', 13, 'extreme inputs stay finite', [x([4], [-100, -88, 88, 100])]),
  one('Neg', 13, 'rejects an int64 input', [i64('x', [1, -2])], err('UnsupportedError', /integer Neg is not supported/)),
  one('Relu', 14, 'rejects an int32 input', [i32('x', [1, -2])], err('UnsupportedError', /integer Relu is not supported/)),
  one('Relu', 13, 'rejects an attribute it does not take', [x([2])], {
    attributes: { alpha: attr.f(0.1) },
    ...err('UnsupportedError', /attribute 'alpha' is not supported.*takes no attributes/),
  }),
];

// ---- values and models ----------------------------------------------------------------------------

/** An input's values, stored as ONNX Runtime takes them (int64 as BigInt64Array, bool as Uint8Array). */
export interface Value {
  name: string;
  dtype: InputDType;
  dims: number[];
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

// ---- the float tensor ops of the GPU graph executor (src/onnx/gpu/ops.ts), and the comparisons and
// logic ops of If conditions (CPU). Fed float inputs run on the GPU; folded ones too where the op
// has no CPU implementation (Conv, Pad, the reductions, ...), from constants uploaded at load.

/** Deterministic positive values for Log, Sqrt and Pow bases. */
const pos = (name: string, dims: number[]) =>
  f(
    name,
    dims,
    range(dims.reduce((a, b) => a * b, 1)).map((i) => 0.05 + ((i * 37) % 17) / 4),
  );
const newUnary: [string, InputSpec][] = [
  ['Log', pos('x', [2, 3, 4])],
  ['Sqrt', pos('x', [2, 3, 4])],
  ['Abs', f('x', [2, 3, 4], undefined, 3)],
  ['Reciprocal', pos('x', [2, 3])],
  ['Floor', f('x', [2, 3, 4], undefined, 3)],
  ['Ceil', f('x', [2, 3, 4], undefined, 3)],
  ['Round', x([8], [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.4, -3.7])],
  ['Sign', x([5], [-3, -0.001, 0, 0.5, 7])],
  ['Softplus', f('x', [2, 3, 4], undefined, 20)],
  ['Softsign', f('x', [2, 3, 4], undefined, 3)],
  ['Sin', f('x', [2, 3, 4], undefined, 3)],
  ['Cos', f('x', [2, 3, 4], undefined, 3)],
  ['HardSwish', f('x', [2, 3, 4], undefined, 5)],
];
const reduceOps = [
  'ReduceSum',
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceSumSquare',
  'ReduceLogSum',
  'ReduceLogSumExp',
];
const reduceCases = reduceOps.flatMap((op): OpCase[] => {
  const data = op === 'ReduceLogSum' ? pos('x', [2, 3, 4]) : f('x', [2, 3, 4]);
  const axesAttr = (axes: number[], keepdims = 1) => ({ attributes: { axes: attr.ints(axes), keepdims: attr.i(keepdims) } });
  const inputAxes = op === 'ReduceSum' ? 13 : 18;
  return [
    one(op, 13, 'axes [1], keepdims (attribute)', [data], op === 'ReduceSum' ? {} : axesAttr([1])),
    one(op, 11, 'axes [0, 2], keepdims 0, opset 11', [data], axesAttr([0, 2], 0)),
    one(op, 11, 'negative axis -1', [data], axesAttr([-1])),
    one(op, 13, 'no axes: every axis', [data]),
    one(op, inputAxes, `axes as an input [2, 0], keepdims 0 (opset ${inputAxes})`, [data, i64('axes', [2, 0])], {
      attributes: { keepdims: attr.i(0) },
    }),
    one(op, inputAxes, 'noop_with_empty_axes: no axes is the identity', [data], { attributes: { noop_with_empty_axes: attr.i(1) } }),
  ];
});
const conv = (
  note: string,
  xDims: number[],
  wDims: number[],
  bias: boolean,
  attributes: Record<string, Attr> = {},
  more: Partial<OpCase> = {},
  opset = 11,
) => one('Conv', opset, note, [f('x', xDims), f('w', wDims), ...(bias ? [f('b', [wDims[0]])] : [])], { attributes, ...more });
const padCase = (note: string, opset: number, mode: string, pads: number[], dims = [2, 5], value?: number) =>
  opset < 11
    ? one('Pad', opset, note, [x(dims)], {
        attributes: { mode: attr.s(mode), pads: attr.ints(pads), ...(value !== undefined ? { value: attr.f(value) } : {}) },
      })
    : one('Pad', opset, note, [x(dims), i64('pads', pads), ...(value !== undefined ? [f('v', [], [value])] : [])], {
        attributes: { mode: attr.s(mode) },
      });

const graphCases: OpCase[] = [
  ...newUnary.flatMap(([op, input]): OpCase[] => [
    one(op, op === 'HardSwish' ? 14 : 13, 'values', [input]),
    one(op, op === 'HardSwish' ? 14 : op === 'Round' ? 11 : op === 'Sign' ? 9 : 7, 'scalar', [x([], [0.75])]),
  ]),
  one('Elu', 7, 'default alpha', [f('x', [2, 3, 4], undefined, 3)]),
  one('Elu', 7, 'alpha 0.5', [f('x', [2, 3, 4], undefined, 3)], { attributes: { alpha: attr.f(0.5) } }),
  one('HardSigmoid', 7, 'default alpha and beta', [f('x', [2, 3, 4], undefined, 5)]),
  one('HardSigmoid', 7, 'alpha 0.3, beta 0.4', [f('x', [2, 3, 4], undefined, 5)], {
    attributes: { alpha: attr.f(0.3), beta: attr.f(0.4) },
  }),
  one('Clip', 7, 'min and max attributes (opset 7)', [f('x', [2, 3, 4], undefined, 3)], {
    attributes: { min: attr.f(-0.5), max: attr.f(1) },
  }),
  one('Clip', 11, 'min and max inputs', [f('x', [2, 3, 4], undefined, 3), f('lo', [], [-1]), f('hi', [], [0.25])]),
  one('Clip', 13, 'only min (max absent)', [f('x', [2, 3, 4], undefined, 3), f('lo', [], [0])]),
  one('Clip', 13, 'only max (min left out)', [f('x', [2, 3, 4], undefined, 3), null, f('hi', [], [0.5])]),
  one('Clip', 13, 'no bounds', [f('x', [6], undefined, 3)]),
  one('Clip', 13, 'rejects a min that is not a scalar', [f('x', [4]), f('lo', [2], [0, 1])], err('FormatError', /min must be a scalar/)),
  ...BROADCASTS.map(([note, a, b]) => one('Pow', 15, `positive base, ${note}`, [pos('a', a), f('b', b)])),
  one('Pow', 13, 'negative base, integral exponents (sign from parity)', [
    x([6], [-2, -2, -3, -0.5, -1.5, 2]),
    f('y', [6], [2, 3, 3, -2, 0, 0.5]),
  ]),
  one('Pow', 7, 'exponent 0.5 and 2, opset 7', [pos('a', [2, 3]), f('y', [1], [0.5])]),
  one('PRelu', 16, 'slope per channel [3,1]', [f('x', [2, 3, 4]), f('slope', [3, 1])]),
  one('PRelu', 9, 'scalar slope, opset 9', [f('x', [2, 3]), f('slope', [1], [0.1])]),
  one('Mod', 13, 'fmod = 1 (sign of the dividend)', [x([6], [5.5, -5.5, 5.5, -5.5, 7, 0.5]), f('y', [6], [2, 2, -2, -2, 2.5, 3])], {
    attributes: { fmod: attr.i(1) },
  }),
  one('Mod', 13, 'rejects float Mod without fmod', [x([2]), f('y', [2], [1, 2])], err('FormatError', /fmod = 1/)),
  ...['Max', 'Min', 'Sum', 'Mean'].flatMap((op): OpCase[] => [
    one(op, 13, 'three inputs, broadcast', [f('a', [2, 3]), f('b', [3]), f('c', [2, 1])]),
    one(op, 8, 'two inputs, opset 8', [f('a', [2, 3]), f('b', [2, 3])]),
    one(op, 13, 'one input', [f('a', [4])]),
  ]),
  ...reduceCases,
  conv('1-D, no bias', [1, 2, 9], [3, 2, 3], false),
  conv('1-D with bias, stride 2, pads 1', [2, 3, 10], [4, 3, 3], true, { strides: attr.ints([2]), pads: attr.ints([1, 1]) }),
  conv('1-D dilation 2, asymmetric pads', [1, 2, 12], [2, 2, 3], true, { dilations: attr.ints([2]), pads: attr.ints([2, 0]) }),
  // Channels outnumber taps (the channel loop innermost), pads and dilation clip different taps for
  // each of the four positions an invocation computes, and 11 positions leave a partial group of four.
  conv('1-D, 8 channels, 2 taps, dilation 3, pads [4, 1]', [2, 8, 9], [3, 8, 2], true, {
    dilations: attr.ints([3]),
    pads: attr.ints([4, 1]),
  }),
  conv('1-D depthwise (group = channels)', [1, 4, 8], [4, 1, 5], true, { group: attr.i(4), pads: attr.ints([2, 2]) }),
  conv('1-D grouped, 2 groups of 2 channels to 3 each', [1, 4, 7], [6, 2, 3], true, { group: attr.i(2) }),
  conv('1-D STFT-like: 1 channel, 16 taps, stride 8', [1, 1, 64], [10, 1, 16], false, {
    strides: attr.ints([8]),
    kernel_shape: attr.ints([16]),
  }),
  conv('2-D with bias, pads 1', [1, 2, 5, 6], [3, 2, 3, 3], true, { pads: attr.ints([1, 1, 1, 1]) }),
  // At 64 output positions or more a one-group conv runs as tiles of 4 channels × 4 positions
  // (graph_conv_tile.wgsl); channel counts that are not a multiple of 4 and position counts that
  // are not leave partial tiles, and a tile spans frames where a frame has fewer than 4 positions.
  conv('tiles: 70 frames, taps innermost, stride 2, pads [1, 2], 5 channels', [70, 3, 10], [5, 3, 3], true, {
    strides: attr.ints([2]),
    pads: attr.ints([1, 2]),
  }),
  conv('tiles: 33 frames of 2 positions, channels innermost, pads 1', [33, 9, 2], [6, 9, 3], true, { pads: attr.ints([1, 1]) }),
  conv('tiles: STFT-like without pads, 80 frames, 16 taps, stride 8', [80, 1, 40], [7, 1, 16], false, { strides: attr.ints([8]) }),
  conv('tiles: 20 taps (two parts of the sum), dilation 2, no pads', [30, 2, 50], [3, 2, 20], true, { dilations: attr.ints([2]) }),
  conv('tiles: 2-D, strides [2, 1], dilations [1, 2], pads [1, 0, 1, 1]', [5, 2, 6, 7], [3, 2, 3, 2], true, {
    strides: attr.ints([2, 1]),
    dilations: attr.ints([1, 2]),
    pads: attr.ints([1, 0, 1, 1]),
  }),
  conv('2-D strides [2, 1], dilations [1, 2]', [2, 3, 7, 8], [2, 3, 3, 2], false, {
    strides: attr.ints([2, 1]),
    dilations: attr.ints([1, 2]),
  }),
  conv('2-D auto_pad SAME_UPPER, stride 2', [1, 2, 7, 7], [2, 2, 4, 4], true, {
    auto_pad: attr.s('SAME_UPPER'),
    strides: attr.ints([2, 2]),
  }),
  conv('2-D auto_pad SAME_LOWER', [1, 1, 6, 5], [1, 1, 2, 3], false, { auto_pad: attr.s('SAME_LOWER') }),
  conv('2-D auto_pad VALID', [1, 1, 6, 5], [2, 1, 3, 3], false, { auto_pad: attr.s('VALID') }),
  conv('1-D, opset 7', [1, 2, 6], [1, 2, 2], false, {}, {}, 7),
  conv(
    'rejects weights whose channels do not match the group',
    [1, 4, 8],
    [2, 3, 3],
    false,
    {},
    err('FormatError', /group 1 does not fit/),
  ),
  conv('rejects a 3-D convolution', [1, 1, 3, 3, 3], [1, 1, 2, 2, 2], false, {}, err('UnsupportedError', /1-D and 2-D/)),
  padCase('constant 0, opset 11', 11, 'constant', [1, 2, 0, 3]),
  padCase('constant value 1.5 (input)', 13, 'constant', [0, 1, 2, 2], [2, 5], 1.5),
  padCase('reflect', 13, 'reflect', [1, 2, 1, 3]),
  padCase('reflect on the last axis only, Silero style', 18, 'reflect', [0, 0, 0, 4]),
  padCase('edge', 13, 'edge', [2, 1, 0, 3]),
  padCase('negative pads crop', 13, 'constant', [0, -1, -1, 2]),
  padCase('attributes, opset 7, value 2', 7, 'constant', [1, 0, 0, 1], [2, 5], 2),
  padCase('reflect, opset 7 (attributes)', 7, 'reflect', [0, 1, 0, 2]),
  one('Pad', 18, 'axes input: only axis -1', [x([2, 3, 4]), i64('pads', [1, 2]), null, i64('axes', [-1])]),
  padCase('wrap (opset 19)', 19, 'wrap', [2, 1, 1, 3]),
  { ...padCase('rejects an unknown mode', 13, 'mirror', [0, 1, 0, 1]), ...err('FormatError', /not one of constant, reflect, edge/) },
  {
    ...padCase('rejects a reflect pad as large as the axis', 13, 'reflect', [0, 5, 0, 0]),
    ...err('FormatError', /smaller than the padded axis/),
  },
  { ...padCase('rejects pads of the wrong length', 13, 'constant', [1, 1]), ...err('FormatError', /pads has 2 entries/) },
  // Comparisons and logic (If conditions): on the CPU, over integer and bool tensors.
  ...['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual'].flatMap((op): OpCase[] => [
    one(op, 13, 'int64 [2,3] × [3]', [i64('a', INT_A, [2, 3]), i64('b', [7, 2, 9])], { outputs: ['bool'] }),
    one(
      op,
      op.endsWith('Equal') && op !== 'Equal' ? 16 : 11,
      'int64 scalar against [1] (Silero: Equal(sr, 16000))',
      [i64('a', [16000], []), i64('b', [16000])],
      { outputs: ['bool'] },
    ),
  ]),
  ...['And', 'Or', 'Xor'].map((op) =>
    one(op, 7, 'bool broadcast [2,2] × [2]', [bool('a', [1, 0, 1, 1], [2, 2]), bool('b', [0, 1])], { outputs: ['bool'] }),
  ),
  one('Not', 7, 'bool tensor', [bool('a', [1, 0, 0, 1])], { outputs: ['bool'] }),
  one('Not', 7, 'bool scalar', [bool('a', [0], [])], { outputs: ['bool'] }),
  one('Where', 16, 'int64, broadcast condition', [bool('c', [1, 0, 1]), i64('a', INT_A, [2, 3]), i64('b', [0])], { outputs: I64 }),
];

const numelOf = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

function typed(dtype: InputDType, data: (number | bigint)[]): Value['data'] {
  if (dtype === 'float32') return Float32Array.from(data, Number);
  if (dtype === 'int64') return BigInt64Array.from(data, (v) => BigInt(v));
  if (dtype === 'int32') return Int32Array.from(data, Number);
  return Uint8Array.from(data, (v) => (v ? 1 : 0));
}

OP_CASES.push(...graphCases);

/** The inputs of a case with their values; random floats come from `seed`. */
export function caseValues(c: OpCase, seed: number): (Value | null)[] {
  const r = rng(seed);
  return c.inputs.map((s) => {
    if (!s) return null;
    const n = numelOf(s.dims);
    if (!s.data && s.dtype !== 'float32') throw new Error(`${c.op} ${c.note}: integer input '${s.name}' needs data`);
    const data = s.data ?? Array.from(uniform(r, n, s.scale ?? 2));
    if (data.length !== n) throw new Error(`${c.op} ${c.note}: input '${s.name}' has ${data.length} values for dims [${s.dims}]`);
    return { name: s.name, dtype: s.dtype, dims: s.dims, data: typed(s.dtype, data) };
  });
}

/** Element types of the case's outputs. */
export function outputTypes(c: OpCase): DType[] {
  return c.outputs ?? [c.inputs.find((s) => s)?.dtype ?? 'float32'];
}

/**
 * The one-node model of a case. constant = false: every input is a graph input (fed at run time);
 * true: every input is an initializer, so the importer folds the node at load time.
 */
export function caseModel(c: OpCase, values: (Value | null)[], constant: boolean): Uint8Array {
  const given = values.filter((v): v is Value => v !== null);
  const outs = outputTypes(c);
  const plain: Record<string, Attr> = {};
  const tensors: [string, TensorAttr][] = [];
  for (const [k, a] of Object.entries(c.attributes ?? {})) {
    if (a.kind === 'tensor') tensors.push([k, a]);
    else plain[k] = a;
  }
  const model = onnxModel({
    nodes: [{ opType: c.op, inputs: values.map((v) => v?.name ?? ''), outputs: outs.map((_, k) => `y${k}`), attributes: plain }],
    inputs: constant ? [] : given.map((v) => ({ name: v.name, elemType: DTYPE_CODE[v.dtype], dims: v.dims })),
    outputs: outs.map((t, k) => ({ name: `y${k}`, elemType: DTYPE_CODE[t], dims: [] })),
    // The writer copies the array's bytes as raw_data; dataType says how to read them (bool: 1 byte each).
    initializers: constant
      ? given.map((v) => ({ name: v.name, dims: v.dims, data: v.data as InitializerDef['data'], dataType: DTYPE_CODE[v.dtype] }))
      : [],
    opset: c.opset,
  });
  return spliceModel(model, tensors);
}

// ---- protobuf wire surgery ------------------------------------------------------------------------
// onnx.proto field numbers: ModelProto.graph 7; GraphProto.node 1, output 12; NodeProto.attribute 5;
// AttributeProto name 1, t 5, type 20 (TENSOR = 4); ValueInfoProto.type 2; TypeProto.tensor_type 1;
// TypeProto.Tensor.shape 2.

interface Field {
  no: number;
  wire: number;
  /** The value's bytes: a varint or fixed value as written, or the payload of a length-delimited field. */
  value: Uint8Array;
}

function varint(v: number): number[] {
  const out: number[] = [];
  do {
    out.push((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
    v = Math.floor(v / 0x80);
  } while (v);
  return out;
}

function fields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  let p = 0;
  const read = () => {
    let v = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = b[p++];
      v += (byte & 0x7f) * scale;
      scale *= 0x80;
    } while (byte & 0x80);
    return v;
  };
  while (p < b.length) {
    const key = read();
    const wire = key & 7;
    let start = p;
    if (wire === 0) read();
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const len = read();
      start = p;
      p += len;
    } else throw new Error(`unexpected protobuf wire type ${wire}`);
    out.push({ no: Math.floor(key / 8), wire, value: b.subarray(start, p) });
  }
  return out;
}

function join(fs: Field[]): Uint8Array {
  const out: number[] = [];
  for (const f of fs) {
    out.push(...varint(f.no * 8 + f.wire));
    if (f.wire === 2) out.push(...varint(f.value.length));
    out.push(...f.value);
  }
  return Uint8Array.from(out);
}

/** Rewrites every length-delimited field `no` of a message; `fn` returning undefined drops the field. */
function edit(b: Uint8Array, no: number, fn: (payload: Uint8Array) => Uint8Array | undefined): Uint8Array {
  return join(
    fields(b).flatMap((f) => {
      if (f.no !== no || f.wire !== 2) return [f];
      const value = fn(f.value);
      return value ? [{ ...f, value }] : [];
    }),
  );
}

const bytesField = (no: number, value: Uint8Array): Field => ({ no, wire: 2, value });

/** Appends TENSOR attributes to the (single) node and drops the shapes declared for graph outputs. */
function spliceModel(model: Uint8Array, tensors: [string, TensorAttr][]): Uint8Array {
  const attributes = tensors.map(([name, t]) =>
    bytesField(
      5,
      join([
        bytesField(1, new TextEncoder().encode(name)),
        bytesField(
          5,
          tensorProto({ name: '', dims: t.dims, data: typed(t.dtype, t.data) as InitializerDef['data'], dataType: DTYPE_CODE[t.dtype] }),
        ),
        { no: 20, wire: 0, value: Uint8Array.of(4) },
      ]),
    ),
  );
  const extra = join(attributes);
  const withoutShape = (valueInfo: Uint8Array) =>
    edit(valueInfo, 2, (type) => edit(type, 1, (tensorType) => edit(tensorType, 2, () => undefined)));
  return edit(model, 7, (graph) =>
    edit(
      edit(graph, 1, (node) => Uint8Array.from([...node, ...extra])),
      12,
      withoutShape,
    ),
  );
}
