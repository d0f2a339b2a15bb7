// A strict protobuf wire-format reader (https://protobuf.dev/programming-guides/encoding/), just
// enough for the ONNX messages we decode. Every length is checked against the bytes that remain
// before anything is sliced or allocated, so a corrupt or truncated file is a FormatError and never
// a RangeError, a hang or a huge allocation.
import { FormatError } from '../core/errors.js';

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class WireReader {
  pos: number;
  private readonly view: DataView;

  /** Reads bytes[start, end); `what` names the message in error texts. */
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
    readonly what: string,
  ) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  static of(bytes: Uint8Array, what: string): WireReader {
    return new WireReader(bytes, 0, bytes.length, what);
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  fail(why: string): never {
    throw new FormatError(`ONNX file is corrupt or truncated: ${this.what} at byte ${this.pos}: ${why}`);
  }

  /**
   * A varint as a signed 64-bit integer converted to a JS number (exact up to 2^53; beyond that it
   * is rounded, which only matters for int64 tensor values and those are saturated later anyway).
   */
  varint(): number {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('varint runs past the end of its message');
      const b = this.bytes[this.pos++];
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (!(b & 0x80)) {
        if (i === 9 && b > 1) this.fail('varint longer than 64 bits');
        lo >>>= 0;
        if (hi & 0x80000000) return -((~hi >>> 0) * 4294967296 + (~lo >>> 0) + 1);
        return (hi >>> 0) * 4294967296 + lo;
      }
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** A varint that must be a non-negative count or size no larger than `max`. */
  size(max: number, what: string): number {
    const v = this.varint();
    if (v < 0 || v > max) this.fail(`${what} ${v} is out of range (at most ${max})`);
    return v;
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number } {
    const v = this.varint();
    const field = Math.floor(v / 8);
    const wire = v & 7;
    if (v < 0 || field === 0 || field > 536870911) this.fail(`invalid field tag ${v}`);
    if (wire !== WIRE_VARINT && wire !== WIRE_I64 && wire !== WIRE_LEN && wire !== WIRE_I32) {
      this.fail(`unsupported wire type ${wire} (groups are not used by ONNX)`);
    }
    return { field, wire };
  }

  /** A length-delimited field's bounds [start, end), checked against the enclosing message. */
  lengthDelimited(): { start: number; end: number } {
    const len = this.size(this.end - this.pos, 'length field');
    const start = this.pos;
    this.pos += len;
    return { start, end: start + len };
  }

  sub(what: string): WireReader {
    const { start, end } = this.lengthDelimited();
    return new WireReader(this.bytes, start, end, `${this.what} > ${what}`);
  }

  bytesField(): Uint8Array {
    const { start, end } = this.lengthDelimited();
    return this.bytes.subarray(start, end);
  }

  string(): string {
    const b = this.bytesField();
    try {
      return utf8.decode(b);
    } catch {
      return this.fail('string is not valid UTF-8');
    }
  }

  float32(): number {
    if (this.end - this.pos < 4) this.fail('fixed32 runs past the end of its message');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  float64(): number {
    if (this.end - this.pos < 8) this.fail('fixed64 runs past the end of its message');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Skips a field we do not read (ONNX has many: doc strings, metadata, ...). */
  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_I64) this.float64();
    else if (wire === WIRE_I32) this.float32();
    else this.lengthDelimited();
  }

  expect(wire: number, got: number, field: string): void {
    if (wire !== got) this.fail(`field ${field} has wire type ${got}, expected ${wire}`);
  }

  /** Repeated varints, packed (one length-delimited run) or one per tag. */
  varints(wire: number, out: number[], field: string): void {
    if (wire === WIRE_LEN) {
      const { start, end } = this.lengthDelimited();
      const r = new WireReader(this.bytes, start, end, `${this.what} > ${field}`);
      while (!r.done()) out.push(r.varint());
      return;
    }
    this.expect(WIRE_VARINT, wire, field);
    out.push(this.varint());
  }

  /** Repeated fixed-size numbers (float32 or float64), packed or one per tag. */
  fixed(wire: number, out: number[], field: string, width: 4 | 8): void {
    const single = width === 4 ? WIRE_I32 : WIRE_I64;
    if (wire === WIRE_LEN) {
      const { start, end } = this.lengthDelimited();
      if ((end - start) % width !== 0) this.fail(`packed ${field} has ${end - start} bytes, not a multiple of ${width}`);
      for (let p = start; p < end; p += width) out.push(width === 4 ? this.view.getFloat32(p, true) : this.view.getFloat64(p, true));
      return;
    }
    this.expect(single, wire, field);
    out.push(width === 4 ? this.float32() : this.float64());
  }
}
