// readStr and readBytes: answer a Tread from a whole string or byte array, honouring the request's
// offset and count (Inferno's styxservers->readstr and readbytes).
import type { Rread, Tread } from '../ninep/index.ts';

const encoder = new TextEncoder();

export function readBytes(m: Tread, data: Uint8Array): Rread {
  const len = BigInt(data.length);
  const start = m.offset >= len ? data.length : Number(m.offset);
  const end = Math.min(data.length, start + m.count);
  return { type: 'Rread', tag: m.tag, data: data.subarray(start, end) };
}

export function readStr(m: Tread, s: string): Rread {
  return readBytes(m, encoder.encode(s));
}
