// A small ONNX model writer (protobuf wire format written by hand from onnx/onnx.proto's field
// numbers), so tests and the benchmark page can build recurrent models without Python.
// Covers what those need: one graph, nodes with typed attributes, initializers, typed inputs and
// outputs with static or symbolic dimensions.

export type Attr =
  | { kind: 'f'; value: number }
  | { kind: 'i'; value: number }
  | { kind: 's'; value: string }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'graph'; value: GraphDef };

export const attr = {
  f: (value: number): Attr => ({ kind: 'f', value }),
  i: (value: number): Attr => ({ kind: 'i', value }),
  s: (value: string): Attr => ({ kind: 's', value }),
  floats: (value: number[]): Attr => ({ kind: 'floats', value }),
  ints: (value: number[]): Attr => ({ kind: 'ints', value }),
  strings: (value: string[]): Attr => ({ kind: 'strings', value }),
  /** A subgraph (If's then_branch / else_branch); it may read the enclosing graph's names. */
  graph: (value: GraphDef): Attr => ({ kind: 'graph', value }),
};

export interface NodeDef {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, Attr>;
  name?: string;
  domain?: string;
}

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;

export interface ValueDef {
  name: string;
  elemType?: number;
  /** number = fixed size, string = symbolic (dynamic) dimension. */
  dims: (number | string)[];
}

export interface InitializerDef {
  name: string;
  dims: number[];
  /** Float32Array (FLOAT), Int32Array (INT32), BigInt64Array (INT64), Uint16Array (FLOAT16 or BFLOAT16 bits). */
  data: Float32Array | Int32Array | BigInt64Array | Uint16Array;
  dataType?: number;
}

export interface GraphDef {
  nodes: NodeDef[];
  inputs: ValueDef[];
  outputs: ValueDef[];
  initializers?: InitializerDef[];
}

export interface ModelDef extends GraphDef {
  opset?: number;
  irVersion?: number;
}

class Writer {
  private bytes: number[] = [];
  varint(v: number | bigint): this {
    let n = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(n & 0x7fn);
      n >>= 7n;
      if (n) b |= 0x80;
      this.bytes.push(b);
    } while (n);
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  int(field: number, v: number | bigint): this {
    return this.tag(field, 0).varint(v);
  }
  float(field: number, v: number): this {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    this.tag(field, 5);
    this.bytes.push(...b);
    return this;
  }
  bytesField(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    for (const x of b) this.bytes.push(x);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytesField(field, new TextEncoder().encode(s));
  }
  message(field: number, build: (w: Writer) => void): this {
    const w = new Writer();
    build(w);
    return this.bytesField(field, w.finish());
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const ATTR_TYPE = { f: 1, i: 2, s: 3, graph: 5, floats: 6, ints: 7, strings: 8 } as const;

function writeAttribute(w: Writer, name: string, a: Attr): void {
  w.string(1, name);
  w.int(20, ATTR_TYPE[a.kind]);
  switch (a.kind) {
    case 'f':
      w.float(2, a.value);
      break;
    case 'i':
      w.int(3, a.value);
      break;
    case 's':
      w.string(4, a.value);
      break;
    case 'floats':
      for (const v of a.value) w.float(7, v);
      break;
    case 'ints':
      for (const v of a.value) w.int(8, v);
      break;
    case 'strings':
      for (const v of a.value) w.string(9, v);
      break;
    case 'graph':
      w.message(6, (g) => writeGraph(g, a.value));
      break;
  }
}

function writeGraph(g: Writer, m: GraphDef): void {
  m.nodes.forEach((n, k) =>
    g.message(1, (node) => {
      for (const i of n.inputs) node.string(1, i);
      for (const o of n.outputs) node.string(2, o);
      node.string(3, n.name ?? `${n.opType}_${k}`);
      node.string(4, n.opType);
      for (const [name, a] of Object.entries(n.attributes ?? {})) node.message(5, (aw) => writeAttribute(aw, name, a));
      if (n.domain) node.string(7, n.domain);
    }),
  );
  g.string(2, 'graph');
  for (const t of m.initializers ?? []) g.bytesField(5, tensorProto(t));
  for (const v of m.inputs) g.message(11, (vw) => writeValueInfo(vw, v));
  for (const v of m.outputs) g.message(12, (vw) => writeValueInfo(vw, v));
}

function writeValueInfo(w: Writer, v: ValueDef): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType ?? DataType.FLOAT);
      tensor.message(2, (shape) => {
        for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

function defaultType(data: InitializerDef['data']): number {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Int32Array) return DataType.INT32;
  if (data instanceof BigInt64Array) return DataType.INT64;
  return DataType.FLOAT16;
}

/** Serializes a TensorProto (raw_data little-endian, as ONNX stores it). */
export function tensorProto(t: InitializerDef): Uint8Array {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.dataType ?? defaultType(t.data));
  w.string(8, t.name);
  w.bytesField(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return w.finish();
}

export function onnxModel(m: ModelDef): Uint8Array {
  const w = new Writer();
  w.int(1, m.irVersion ?? 8);
  w.string(2, 'webgpu-rnn tests');
  w.message(7, (g) => writeGraph(g, m));
  w.message(8, (o) => {
    o.string(1, '');
    o.int(2, m.opset ?? 22);
  });
  return w.finish();
}
