// Reads ONNX models and TensorProto files with protobufjs, from a schema subset written here from
// the field numbers of onnx/onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto).
import protobuf from 'protobufjs';

const SCHEMA = `
syntax = "proto2";
package onnx;
message AttributeProto {
  optional string name = 1; optional float f = 2; optional int64 i = 3; optional bytes s = 4;
  optional TensorProto t = 5; repeated float floats = 7; repeated int64 ints = 8; repeated bytes strings = 9;
  optional int32 type = 20;
}
message NodeProto {
  repeated string input = 1; repeated string output = 2; optional string name = 3; optional string op_type = 4;
  repeated AttributeProto attribute = 5; optional string domain = 7;
}
message ValueInfoProto { optional string name = 1; }
message TensorProto {
  repeated int64 dims = 1; optional int32 data_type = 2; repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true]; repeated int64 int64_data = 7 [packed = true];
  optional string name = 8; optional bytes raw_data = 9; repeated double double_data = 10 [packed = true];
}
message GraphProto {
  repeated NodeProto node = 1; optional string name = 2; repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12;
}
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message ModelProto { optional int64 ir_version = 1; optional GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8; }
`;

const root = protobuf.parse(SCHEMA, { keepCase: true }).root;
const ModelProto = root.lookupType('onnx.ModelProto');
const TensorProto = root.lookupType('onnx.TensorProto');

export interface OnnxTensor {
  name: string;
  dims: number[];
  data: Float32Array | Int32Array;
}

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, number | string | number[] | string[]>;
}

const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;

export function decodeTensor(bytes: Uint8Array): OnnxTensor {
  const t = TensorProto.toObject(TensorProto.decode(bytes), { longs: Number, bytes: Uint8Array }) as {
    name?: string;
    dims?: number[];
    data_type: number;
    float_data?: number[];
    int32_data?: number[];
    int64_data?: number[];
    raw_data?: Uint8Array;
  };
  const dims = t.dims ?? [];
  const raw = t.raw_data?.length ? t.raw_data : undefined;
  // Copy: protobufjs may hand out a Node Buffer view into a shared pool.
  const copy = (bytesPer: number) => Uint8Array.from(raw!.subarray(0, raw!.length - (raw!.length % bytesPer))).buffer;
  let data: Float32Array | Int32Array;
  if (t.data_type === FLOAT) data = raw ? new Float32Array(copy(4)) : Float32Array.from(t.float_data ?? []);
  else if (t.data_type === INT32) data = raw ? new Int32Array(copy(4)) : Int32Array.from(t.int32_data ?? []);
  else if (t.data_type === INT64) data = raw ? Int32Array.from(new BigInt64Array(copy(8)), Number) : Int32Array.from(t.int64_data ?? []);
  else throw new Error(`tensor ${t.name}: data_type ${t.data_type} not handled by the test reader`);
  return { name: t.name ?? '', dims, data };
}

export function decodeSingleNodeModel(bytes: Uint8Array): { node: OnnxNode; inputs: string[]; outputs: string[]; opset: number } {
  const m = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Uint8Array }) as {
    graph: {
      node: { input?: string[]; output?: string[]; op_type: string; attribute?: Record<string, unknown>[] }[];
      input?: { name: string }[];
      output?: { name: string }[];
    };
    opset_import?: { domain?: string; version: number }[];
  };
  const n = m.graph.node[0];
  const attributes: OnnxNode['attributes'] = {};
  for (const a of n.attribute ?? []) {
    const name = a.name as string;
    const dec = (s: Uint8Array) => new TextDecoder().decode(s);
    if (a.floats && (a.floats as number[]).length) attributes[name] = a.floats as number[];
    else if (a.ints && (a.ints as number[]).length) attributes[name] = a.ints as number[];
    else if (a.strings && (a.strings as Uint8Array[]).length) attributes[name] = (a.strings as Uint8Array[]).map(dec);
    else if (a.s !== undefined) attributes[name] = dec(a.s as Uint8Array);
    else if (a.f !== undefined && a.type === 1) attributes[name] = a.f as number;
    else attributes[name] = (a.i as number | undefined) ?? (a.f as number);
  }
  return {
    node: { opType: n.op_type, inputs: n.input ?? [], outputs: n.output ?? [], attributes },
    inputs: (m.graph.input ?? []).map((i) => i.name),
    outputs: (m.graph.output ?? []).map((o) => o.name),
    opset: (m.opset_import ?? []).find((o) => !o.domain)?.version ?? 0,
  };
}
