// Typed, strict access to a node's attributes. Each operator declares the attributes it knows; any
// other attribute is an UnsupportedError naming it and the node, because silently ignoring an
// attribute (say a `layout` or `clip`) would give wrong numbers.
import { FormatError, UnsupportedError } from '../core/errors.js';
import type { AttributeData, GraphData, NodeData } from './proto.js';
import { tensorFromProto, type Tensor } from './tensor.js';

/** AttributeProto.AttributeType codes. */
const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;
const AT_NAMES: Record<number, string> = {
  1: 'FLOAT',
  2: 'INT',
  3: 'STRING',
  4: 'TENSOR',
  5: 'GRAPH',
  6: 'FLOATS',
  7: 'INTS',
  8: 'STRINGS',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** "node 'name' (OpType)" for messages. */
export function nodeLabel(n: NodeData): string {
  return `node '${n.name || n.outputs[0] || '?'}' (${n.opType})`;
}

export class Attrs {
  private readonly byName = new Map<string, AttributeData>();

  constructor(
    private readonly node: NodeData,
    known: readonly string[],
  ) {
    const label = nodeLabel(node);
    for (const a of node.attributes) {
      if (this.byName.has(a.name)) throw new FormatError(`${label}: attribute '${a.name}' appears twice`);
      if (!known.includes(a.name)) {
        throw new UnsupportedError(
          `${label}: attribute '${a.name}' is not supported by the ONNX importer` +
            (known.length ? ` (${node.opType} supports ${known.join(', ')})` : ` (${node.opType} takes no attributes here)`),
        );
      }
      if (a.other) throw new UnsupportedError(`${label}: attribute '${a.name}' holds ${a.other}, which the importer does not read`);
      this.byName.set(a.name, a);
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  private get(name: string, type: number): AttributeData | undefined {
    const a = this.byName.get(name);
    if (!a) return undefined;
    // Old files may leave `type` out; then the field that is set decides.
    const actual = a.type || inferType(a);
    if (actual !== type) {
      throw new FormatError(
        `${nodeLabel(this.node)}: attribute '${name}' has type ${AT_NAMES[actual] ?? actual}, expected ${AT_NAMES[type]}`,
      );
    }
    return a;
  }

  int(name: string, fallback: number): number;
  int(name: string): number | undefined;
  int(name: string, fallback?: number): number | undefined {
    const a = this.get(name, AT.INT);
    return a ? (a.i ?? 0) : fallback;
  }

  float(name: string, fallback: number): number;
  float(name: string): number | undefined;
  float(name: string, fallback?: number): number | undefined {
    const a = this.get(name, AT.FLOAT);
    return a ? (a.f ?? 0) : fallback;
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const a = this.get(name, AT.STRING);
    return a ? decode(a.s ?? new Uint8Array(0), this.node, name) : fallback;
  }

  ints(name: string): number[] | undefined {
    return this.get(name, AT.INTS)?.ints;
  }

  floats(name: string): number[] | undefined {
    return this.get(name, AT.FLOATS)?.floats;
  }

  strings(name: string): string[] | undefined {
    return this.get(name, AT.STRINGS)?.strings.map((s) => decode(s, this.node, name));
  }

  graph(name: string): GraphData | undefined {
    const a = this.get(name, AT.GRAPH);
    if (a && !a.g) throw new FormatError(`${nodeLabel(this.node)}: attribute '${name}' has type GRAPH but no graph`);
    return a?.g;
  }

  tensor(name: string): Tensor | undefined {
    const a = this.get(name, AT.TENSOR);
    if (!a) return undefined;
    if (!a.t) throw new FormatError(`${nodeLabel(this.node)}: attribute '${name}' has type TENSOR but no tensor`);
    return tensorFromProto(a.t, `${nodeLabel(this.node)} attribute '${name}'`);
  }
}

function inferType(a: AttributeData): number {
  if (a.t) return AT.TENSOR;
  if (a.g) return AT.GRAPH;
  if (a.s !== undefined) return AT.STRING;
  if (a.floats.length) return AT.FLOATS;
  if (a.ints.length) return AT.INTS;
  if (a.strings.length) return AT.STRINGS;
  if (a.f !== undefined) return AT.FLOAT;
  return AT.INT;
}

function decode(b: Uint8Array, node: NodeData, name: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new FormatError(`${nodeLabel(node)}: attribute '${name}' is not valid UTF-8`);
  }
}
