// Decodes the subset of onnx.proto that an importer of recurrent models needs into plain objects.
// Field numbers are onnx/onnx.proto's; fields not listed are skipped as protobuf allows (doc strings,
// metadata, training info). A known field with the wrong wire type is a FormatError. Nothing here
// interprets the model: that is tensor.ts (TensorProto payloads) and load.ts (the graph).
import { WIRE_I32, WIRE_LEN, WIRE_VARINT, WireReader } from './wire.js';

export interface TensorProtoData {
  name: string;
  dims: number[];
  dataType: number;
  raw?: Uint8Array;
  floats: number[];
  int32s: number[];
  int64s: number[];
  doubles: number[];
  /** Storage we do not read (external data, segments, strings, uint64): named for the error. */
  unsupportedStorage?: string;
}

export interface AttributeData {
  name: string;
  /** AttributeProto.AttributeType; 0 when the (old) file leaves it out. */
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProtoData;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
  /** A subgraph (If's then_branch / else_branch). */
  g?: GraphData;
  /** graphs, tensors, sparse tensors, type protos: present but never read. */
  other?: string;
}

export interface NodeData {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: AttributeData[];
}

export interface ValueInfoData {
  name: string;
  /** 'tensor' with elemType/dims, or the name of another TypeProto kind we do not run. */
  kind: string;
  elemType?: number;
  /** undefined = no shape recorded; per dim a size, a symbolic name, or undefined (unknown). */
  dims?: (number | string | undefined)[];
}

export interface GraphData {
  name: string;
  nodes: NodeData[];
  initializers: TensorProtoData[];
  inputs: ValueInfoData[];
  outputs: ValueInfoData[];
  hasSparseInitializers: boolean;
}

export interface ModelData {
  irVersion: number;
  graph: GraphData;
  opsets: { domain: string; version: number }[];
}

export function decodeTensorProto(r: WireReader): TensorProtoData {
  const t: TensorProtoData = { name: '', dims: [], dataType: 0, floats: [], int32s: [], int64s: [], doubles: [] };
  while (!r.done()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1:
        r.varints(wire, t.dims, 'TensorProto.dims');
        break;
      case 2:
        r.expect(WIRE_VARINT, wire, 'TensorProto.data_type');
        t.dataType = r.varint();
        break;
      case 3:
        t.unsupportedStorage = 'segment';
        r.skip(wire);
        break;
      case 4:
        r.fixed(wire, t.floats, 'TensorProto.float_data', 4);
        break;
      case 5:
        r.varints(wire, t.int32s, 'TensorProto.int32_data');
        break;
      case 6:
        t.unsupportedStorage = 'string_data';
        r.skip(wire);
        break;
      case 7:
        r.varints(wire, t.int64s, 'TensorProto.int64_data');
        break;
      case 8:
        r.expect(WIRE_LEN, wire, 'TensorProto.name');
        t.name = r.string();
        break;
      case 9:
        r.expect(WIRE_LEN, wire, 'TensorProto.raw_data');
        t.raw = r.bytesField();
        break;
      case 10:
        r.fixed(wire, t.doubles, 'TensorProto.double_data', 8);
        break;
      case 11:
        t.unsupportedStorage = 'uint64_data';
        r.skip(wire);
        break;
      case 13:
        t.unsupportedStorage = 'external_data';
        r.skip(wire);
        break;
      case 14: {
        r.expect(WIRE_VARINT, wire, 'TensorProto.data_location');
        if (r.varint() !== 0) t.unsupportedStorage = 'external data (data_location = EXTERNAL)';
        break;
      }
      default:
        r.skip(wire);
    }
  }
  return t;
}

function decodeAttribute(r: WireReader, depth: number): AttributeData {
  const a: AttributeData = { name: '', type: 0, floats: [], ints: [], strings: [] };
  while (!r.done()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1:
        r.expect(WIRE_LEN, wire, 'AttributeProto.name');
        a.name = r.string();
        break;
      case 2:
        r.expect(WIRE_I32, wire, 'AttributeProto.f');
        a.f = r.float32();
        break;
      case 3:
        r.expect(WIRE_VARINT, wire, 'AttributeProto.i');
        a.i = r.varint();
        break;
      case 4:
        r.expect(WIRE_LEN, wire, 'AttributeProto.s');
        a.s = r.bytesField();
        break;
      case 5:
        r.expect(WIRE_LEN, wire, 'AttributeProto.t');
        a.t = decodeTensorProto(r.sub('t'));
        break;
      case 6:
        r.expect(WIRE_LEN, wire, 'AttributeProto.g');
        a.g = decodeGraph(r.sub('g'), depth + 1);
        break;
      case 7:
        r.fixed(wire, a.floats, 'AttributeProto.floats', 4);
        break;
      case 8:
        r.varints(wire, a.ints, 'AttributeProto.ints');
        break;
      case 9:
        r.expect(WIRE_LEN, wire, 'AttributeProto.strings');
        a.strings.push(r.bytesField());
        break;
      case 10:
        a.other = 'tensors';
        r.skip(wire);
        break;
      case 11:
        a.other = 'graphs';
        r.skip(wire);
        break;
      case 20:
        r.expect(WIRE_VARINT, wire, 'AttributeProto.type');
        a.type = r.varint();
        break;
      case 21:
        a.other = 'a function reference (ref_attr_name)';
        r.skip(wire);
        break;
      case 22:
      case 23:
        a.other = 'a sparse tensor';
        r.skip(wire);
        break;
      default:
        r.skip(wire);
    }
  }
  return a;
}

function decodeNode(r: WireReader, depth: number): NodeData {
  const n: NodeData = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [] };
  while (!r.done()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1:
        r.expect(WIRE_LEN, wire, 'NodeProto.input');
        n.inputs.push(r.string());
        break;
      case 2:
        r.expect(WIRE_LEN, wire, 'NodeProto.output');
        n.outputs.push(r.string());
        break;
      case 3:
        r.expect(WIRE_LEN, wire, 'NodeProto.name');
        n.name = r.string();
        break;
      case 4:
        r.expect(WIRE_LEN, wire, 'NodeProto.op_type');
        n.opType = r.string();
        break;
      case 5:
        r.expect(WIRE_LEN, wire, 'NodeProto.attribute');
        n.attributes.push(decodeAttribute(r.sub('attribute'), depth));
        break;
      case 7:
        r.expect(WIRE_LEN, wire, 'NodeProto.domain');
        n.domain = r.string();
        break;
      default:
        r.skip(wire);
    }
  }
  return n;
}

function decodeShape(r: WireReader): (number | string | undefined)[] {
  const dims: (number | string | undefined)[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field !== 1) {
      r.skip(wire);
      continue;
    }
    r.expect(WIRE_LEN, wire, 'TensorShapeProto.dim');
    const d = r.sub('dim');
    let dim: number | string | undefined;
    while (!d.done()) {
      const t = d.tag();
      if (t.field === 1) {
        d.expect(WIRE_VARINT, t.wire, 'Dimension.dim_value');
        dim = d.varint();
      } else if (t.field === 2) {
        d.expect(WIRE_LEN, t.wire, 'Dimension.dim_param');
        dim = d.string() || undefined;
      } else d.skip(t.wire);
    }
    dims.push(dim);
  }
  return dims;
}

function decodeValueInfo(r: WireReader): ValueInfoData {
  const v: ValueInfoData = { name: '', kind: 'unknown' };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      r.expect(WIRE_LEN, wire, 'ValueInfoProto.name');
      v.name = r.string();
      continue;
    }
    if (field !== 2) {
      r.skip(wire);
      continue;
    }
    r.expect(WIRE_LEN, wire, 'ValueInfoProto.type');
    const type = r.sub('type');
    while (!type.done()) {
      const t = type.tag();
      if (t.field === 6) {
        type.skip(t.wire);
        continue;
      } // denotation
      if (t.field !== 1) {
        const kinds: Record<number, string> = { 4: 'sequence', 5: 'map', 8: 'sparse tensor', 9: 'optional' };
        v.kind = kinds[t.field] ?? `TypeProto field ${t.field}`;
        type.skip(t.wire);
        continue;
      }
      type.expect(WIRE_LEN, t.wire, 'TypeProto.tensor_type');
      v.kind = 'tensor';
      const tt = type.sub('tensor_type');
      while (!tt.done()) {
        const u = tt.tag();
        if (u.field === 1) {
          tt.expect(WIRE_VARINT, u.wire, 'Tensor.elem_type');
          v.elemType = tt.varint();
        } else if (u.field === 2) {
          tt.expect(WIRE_LEN, u.wire, 'Tensor.shape');
          v.dims = decodeShape(tt.sub('shape'));
        } else tt.skip(u.wire);
      }
    }
  }
  return v;
}

/** Subgraphs nest (If branches in If branches); deeper than this is a FormatError, not a stack overflow. */
const MAX_GRAPH_DEPTH = 32;

function decodeGraph(r: WireReader, depth: number): GraphData {
  if (depth > MAX_GRAPH_DEPTH) return r.fail(`subgraphs are nested more than ${MAX_GRAPH_DEPTH} deep`);
  const g: GraphData = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], hasSparseInitializers: false };
  while (!r.done()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1:
        r.expect(WIRE_LEN, wire, 'GraphProto.node');
        g.nodes.push(decodeNode(r.sub(`node ${g.nodes.length}`), depth));
        break;
      case 2:
        r.expect(WIRE_LEN, wire, 'GraphProto.name');
        g.name = r.string();
        break;
      case 5:
        r.expect(WIRE_LEN, wire, 'GraphProto.initializer');
        g.initializers.push(decodeTensorProto(r.sub('initializer')));
        break;
      case 11:
        r.expect(WIRE_LEN, wire, 'GraphProto.input');
        g.inputs.push(decodeValueInfo(r.sub('input')));
        break;
      case 12:
        r.expect(WIRE_LEN, wire, 'GraphProto.output');
        g.outputs.push(decodeValueInfo(r.sub('output')));
        break;
      case 15:
        g.hasSparseInitializers = true;
        r.skip(wire);
        break;
      default:
        r.skip(wire); // value_info (13), doc_string, quantization annotations
    }
  }
  return g;
}

/** Decodes a ModelProto; only structural problems are reported here (FormatError). */
export function decodeModel(bytes: Uint8Array): ModelData {
  const r = WireReader.of(bytes, 'ModelProto');
  let irVersion = 0;
  let graph: GraphData | undefined;
  const opsets: ModelData['opsets'] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      r.expect(WIRE_VARINT, wire, 'ModelProto.ir_version');
      irVersion = r.varint();
    } else if (field === 7) {
      r.expect(WIRE_LEN, wire, 'ModelProto.graph');
      graph = decodeGraph(r.sub('graph'), 0);
    } else if (field === 8) {
      r.expect(WIRE_LEN, wire, 'ModelProto.opset_import');
      const o = r.sub('opset_import');
      const entry = { domain: '', version: 0 };
      while (!o.done()) {
        const t = o.tag();
        if (t.field === 1) {
          o.expect(WIRE_LEN, t.wire, 'OperatorSetIdProto.domain');
          entry.domain = o.string();
        } else if (t.field === 2) {
          o.expect(WIRE_VARINT, t.wire, 'OperatorSetIdProto.version');
          entry.version = o.varint();
        } else o.skip(t.wire);
      }
      opsets.push(entry);
    } else r.skip(wire);
  }
  if (!graph) return r.fail('the model has no graph (ModelProto.graph, field 7); is this an ONNX model file?');
  return { irVersion, graph, opsets };
}
