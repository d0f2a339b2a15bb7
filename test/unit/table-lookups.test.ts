// The loaders look names up in their tables (ONNX op types, PyTorch modes) as own properties only:
// a name that happens to be an Object.prototype member ('constructor', 'toString') is unknown and
// gets the library's error, not a TypeError from an inherited function.
import { describe, expect, it } from 'vitest';
import { onnxModel } from '../../common/onnx-writer.js';
import { SpecError, UnsupportedError, fromTorch } from '../../src/index.js';
import { prepareOnnx } from '../../src/onnx/load.js';

describe.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('the name %s', (name) => {
  it('as an ONNX op type is an UnsupportedError naming the operator', () => {
    const model = onnxModel({
      nodes: [{ opType: name, inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', elemType: 1, dims: [2] }],
      outputs: [{ name: 'y', elemType: 1, dims: [2] }],
      opset: 17,
    });
    expect(() => prepareOnnx(model)).toThrow(UnsupportedError);
    expect(() => prepareOnnx(model)).toThrow(new RegExp(`operator '${name}' is not supported`));
  });

  it('as a PyTorch mode is a SpecError listing the modes', () => {
    expect(() => fromTorch({}, { mode: name })).toThrow(SpecError);
    expect(() => fromTorch({}, { mode: name })).toThrow(/config.mode must be 'LSTM', 'GRU' or 'RNN'/);
  });
});
