// Little-endian primitives over Uint8Array with bounds checks that raise ProtocolError.
import { ProtocolError } from './errors.ts';
import type { Qid } from './messages.ts';

// ignoreBOM keeps a leading U+FEFF: it is part of the string, not a byte-order mark to strip.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

// 64-bit fields go through one 8-byte scratch DataView: its native BigInt conversions cost a
// fraction of composing a bigint from two halves. Encode and decode are synchronous, so one
// scratch per module instance is never shared by two calls at once.
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

/** Bytes needed to encode s as UTF-8 (lone surrogates count as U+FFFD, as TextEncoder writes them). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { n += 4; i++; } else n += 3;
    } else n += 3;
  }
  return n;
}

export class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
  }

  need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw new ProtocolError('truncated', `${what}: needs ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  remaining(): number { return this.end - this.pos; }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const b = this.buf, p = this.pos;
    this.pos = p + 2;
    return b[p] | (b[p + 1] << 8);
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const b = this.buf, p = this.pos;
    this.pos = p + 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 0x1000000;
  }

  u64(what = 'u64'): bigint {
    this.need(8, what);
    const b = this.buf, p = this.pos, t = scratchBytes;
    this.pos = p + 8;
    t[0] = b[p]; t[1] = b[p + 1]; t[2] = b[p + 2]; t[3] = b[p + 3];
    t[4] = b[p + 4]; t[5] = b[p + 5]; t[6] = b[p + 6]; t[7] = b[p + 7];
    return scratch.getBigUint64(0, true);
  }

  str(what = 'string'): string {
    const n = this.u16(what);
    this.need(n, what);
    const b = this.buf, p = this.pos;
    this.pos = p + n;
    // Short ASCII strings (names, most of 9P) skip the decoder; the shortest are built by
    // concatenation, which beats a subarray plus fromCharCode.apply at that size.
    if (n <= 12) {
      let s = '';
      let i = p;
      for (; i < p + n; i++) {
        const c = b[i];
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (i === p + n) return s;
    } else if (n <= 64) {
      let ascii = true;
      for (let i = p; i < p + n; i++) if (b[i] >= 0x80) { ascii = false; break; }
      if (ascii) return String.fromCharCode.apply(null, b.subarray(p, p + n) as unknown as number[]);
    }
    try {
      return utf8Decoder.decode(b.subarray(p, p + n));
    } catch {
      throw new ProtocolError('bad-string', `${what}: invalid UTF-8`);
    }
  }

  /** count[4] followed by count bytes, returned as a view of the frame (no copy). */
  data(what = 'data'): Uint8Array {
    const n = this.u32(what);
    this.need(n, what);
    const p = this.pos;
    this.pos = p + n;
    return this.buf.subarray(p, p + n);
  }

  qid(): Qid {
    this.need(13, 'qid');
    const type = this.buf[this.pos++];
    const vers = this.u32();
    const path = this.u64();
    return { type, vers, path };
  }
}

const U64_MAX = 0xffffffffffffffffn;

/** The encoder's refusal of a value its field cannot hold (negative, fractional, too big, not a number). */
function outOfRange(v: unknown, bits: number, what: string | undefined): ProtocolError {
  const shown = typeof v === 'bigint' ? `${v}n` : String(v);
  return new ProtocolError('bad-value', `${what ?? `u${bits}`}: ${shown} does not fit in an unsigned ${bits}-bit field`);
}

/**
 * Writes fields into a buffer of the right size. Every number is checked against its field (one
 * compare each): a value out of range throws ProtocolError('bad-value') instead of being wrapped.
 */
export class Writer {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  u8(v: number, what?: string): void {
    if ((v & 0xff) !== v) throw outOfRange(v, 8, what);
    this.buf[this.pos++] = v;
  }

  u16(v: number, what?: string): void {
    if ((v & 0xffff) !== v) throw outOfRange(v, 16, what);
    const b = this.buf, p = this.pos;
    b[p] = v; b[p + 1] = v >>> 8;
    this.pos = p + 2;
  }

  u32(v: number, what?: string): void {
    if (v >>> 0 !== v) throw outOfRange(v, 32, what);
    const b = this.buf, p = this.pos;
    b[p] = v; b[p + 1] = v >>> 8; b[p + 2] = v >>> 16; b[p + 3] = v >>> 24;
    this.pos = p + 4;
  }

  u64(v: bigint, what?: string): void {
    // typeof first: a number here would compare fine with bigints and then fail in setBigUint64.
    if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw outOfRange(v, 64, what);
    scratch.setBigUint64(0, v, true);
    const b = this.buf, p = this.pos, t = scratchBytes;
    b[p] = t[0]; b[p + 1] = t[1]; b[p + 2] = t[2]; b[p + 3] = t[3];
    b[p + 4] = t[4]; b[p + 5] = t[5]; b[p + 6] = t[6]; b[p + 7] = t[7];
    this.pos = p + 8;
  }

  /** Writes len[2] and the UTF-8 bytes; byteLength must be utf8Length(s), which sizing checked (strLen). */
  str(s: string, byteLength: number): void {
    const b = this.buf;
    let p = this.pos;
    b[p++] = byteLength; b[p++] = byteLength >>> 8;
    if (byteLength === s.length) {
      for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    } else {
      utf8Encoder.encodeInto(s, b.subarray(p, p + byteLength));
      p += byteLength;
    }
    this.pos = p;
  }

  bytes(data: Uint8Array): void {
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  qid(q: Qid): void {
    this.u8(q.type, 'qid type');
    this.u32(q.vers, 'qid version');
    this.u64(q.path, 'qid path');
  }
}
