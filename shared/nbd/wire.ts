// Big-endian primitives over Uint8Array. Reads are bounds-checked and raise NbdProtocolError;
// writes go into buffers sized up front by the encoder.
import { MAX_STRING } from './constants.ts';
import { NbdProtocolError } from './errors.ts';

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

// One 8-byte scratch for 64-bit fields: DataView's BigInt conversions beat composing halves.
// Encode and decode are synchronous, so the scratch is never shared by two calls at once.
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

export function utf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** Decodes a protocol string: valid UTF-8, no NUL, at most 4096 bytes. */
export function decodeString(b: Uint8Array, what: string): string {
  if (b.length > MAX_STRING) throw new NbdProtocolError('bad-string', `${what}: ${b.length} bytes, over ${MAX_STRING}`);
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 0) throw new NbdProtocolError('bad-string', `${what}: contains NUL`);
    if (c >= 0x80) ascii = false;
  }
  if (ascii && b.length <= 256) return String.fromCharCode.apply(null, b as unknown as number[]);
  try {
    return utf8Decoder.decode(b);
  } catch {
    throw new NbdProtocolError('bad-string', `${what}: invalid UTF-8`);
  }
}

export function readU16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

export function readU32(b: Uint8Array, p: number): number {
  return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
}

export function readU64(b: Uint8Array, p: number): bigint {
  const t = scratchBytes;
  t[0] = b[p]; t[1] = b[p + 1]; t[2] = b[p + 2]; t[3] = b[p + 3];
  t[4] = b[p + 4]; t[5] = b[p + 5]; t[6] = b[p + 6]; t[7] = b[p + 7];
  return scratch.getBigUint64(0, false);
}

export function writeU16(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 8; b[p + 1] = v;
}

export function writeU32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24; b[p + 1] = v >>> 16; b[p + 2] = v >>> 8; b[p + 3] = v;
}

/** Writes v modulo 2^64. */
export function writeU64(b: Uint8Array, p: number, v: bigint): void {
  scratch.setBigUint64(0, BigInt.asUintN(64, v), false);
  const t = scratchBytes;
  b[p] = t[0]; b[p + 1] = t[1]; b[p + 2] = t[2]; b[p + 3] = t[3];
  b[p + 4] = t[4]; b[p + 5] = t[5]; b[p + 6] = t[6]; b[p + 7] = t[7];
}

/** A cursor over one message's payload. */
export class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly what: string) {}

  remaining(): number { return this.buf.length - this.pos; }

  need(n: number, field: string): void {
    if (this.buf.length - this.pos < n) {
      throw new NbdProtocolError('truncated', `${this.what}: ${field} needs ${n} bytes, ${this.buf.length - this.pos} left`);
    }
  }

  u16(field: string): number { this.need(2, field); const v = readU16(this.buf, this.pos); this.pos += 2; return v; }
  u32(field: string): number { this.need(4, field); const v = readU32(this.buf, this.pos); this.pos += 4; return v; }
  u64(field: string): bigint { this.need(8, field); const v = readU64(this.buf, this.pos); this.pos += 8; return v; }

  /** n bytes as a view of the message (no copy). */
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A string whose length came earlier (u32 or u16 prefix, or "the rest"). */
  string(n: number, field: string): string {
    return decodeString(this.bytes(n, field), `${this.what}: ${field}`);
  }

  rest(): Uint8Array { return this.bytes(this.remaining(), 'rest'); }

  end(): void {
    if (this.pos !== this.buf.length) {
      throw new NbdProtocolError('trailing', `${this.what}: ${this.buf.length - this.pos} bytes after the last field`);
    }
  }
}

/** A cursor writing into a buffer sized up front. */
export class Writer {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  u16(v: number): void { writeU16(this.buf, this.pos, v); this.pos += 2; }
  u32(v: number): void { writeU32(this.buf, this.pos, v); this.pos += 4; }
  u64(v: bigint): void { writeU64(this.buf, this.pos, v); this.pos += 8; }
  bytes(b: Uint8Array): void { this.buf.set(b, this.pos); this.pos += b.length; }
}
