// Reading and rewriting a frame's fixed fields in place, for a server that passes a message on
// without decoding it: size[4] type[1] tag[2], then for the requests forwarded as bytes fid[4]
// at offset 7 (Tread, Twrite, Tclunk, Tgetattr; see schema.ts). A reply is checked against the
// request it answers before it is trusted: its type, and its size against what it says it holds.
import { HEADER_SIZE, MsgType } from './constants.ts';

/** Offset of the fid in the requests forwarded as bytes, and of Tread's count. */
export const FID_OFFSET = HEADER_SIZE;
/** Tread's and Twrite's count: after fid[4] offset[8]. */
const COUNT_OFFSET = 19;
/** Frame sizes of the fixed-size messages forwarded as bytes; Twrite's header before its data. */
const TREAD_SIZE = 23;
const TWRITE_HEADER = 23;
const TCLUNK_SIZE = 11;
const TGETATTR_SIZE = 19;
/** valid[8] qid[13] mode uid gid[4 each] nlink rdev size blksize blocks[8 each] 4 times[16] gen data_version[8 each]. */
const RGETATTR_SIZE = HEADER_SIZE + 8 + 13 + 12 + 40 + 64 + 16;
const RLERROR_SIZE = HEADER_SIZE + 4;

export function frameType(f: Uint8Array): number { return f[4]; }
export function frameTag(f: Uint8Array): number { return f[5] | (f[6] << 8); }
export function setFrameTag(f: Uint8Array, tag: number): void {
  f[5] = tag & 0xff;
  f[6] = tag >>> 8;
}
export function frameU32(f: Uint8Array, off: number): number {
  return (f[off] | (f[off + 1] << 8) | (f[off + 2] << 16) | (f[off + 3] << 24)) >>> 0;
}
export function setFrameU32(f: Uint8Array, off: number, v: number): void {
  f[off] = v & 0xff;
  f[off + 1] = (v >>> 8) & 0xff;
  f[off + 2] = (v >>> 16) & 0xff;
  f[off + 3] = v >>> 24;
}

/**
 * For a request that may be forwarded as bytes (Tread, Twrite, Tclunk, Tgetattr) and is well
 * formed: the bytes it may hold or be answered with (a Twrite's data, a Tread's count, else 0).
 * -1 for any other frame, which is decoded as usual (and refused there if it is malformed).
 */
export function forwardableCost(f: Uint8Array): number {
  switch (f[4]) {
    case MsgType.Tread: return f.length === TREAD_SIZE ? frameU32(f, COUNT_OFFSET) : -1;
    case MsgType.Twrite: return f.length >= TWRITE_HEADER && frameU32(f, COUNT_OFFSET) === f.length - TWRITE_HEADER ? f.length - TWRITE_HEADER : -1;
    case MsgType.Tclunk: return f.length === TCLUNK_SIZE ? 0 : -1;
    case MsgType.Tgetattr: return f.length === TGETATTR_SIZE ? 0 : -1;
    default: return -1;
  }
}

/** Lowers a Tread's count to at most max, in place. */
export function capReadCount(f: Uint8Array, max: number): void {
  if (frameU32(f, COUNT_OFFSET) > max) setFrameU32(f, COUNT_OFFSET, max);
}

/** A Tread's count, or a Twrite's data length: the most a reply may say it read or wrote. */
export function requestedBytes(f: Uint8Array): number {
  return f[4] === MsgType.Tread ? frameU32(f, COUNT_OFFSET) : f.length - TWRITE_HEADER;
}

/**
 * What is wrong with `r` as the reply to a forwarded request of type `t` that asked for or wrote
 * `bytes`, or null: it must be t's reply or Rlerror, sized as its fields say, and a count no
 * larger than the request's.
 */
export function forwardedReplyProblem(r: Uint8Array, t: number, bytes: number): string | null {
  const type = r[4];
  const size = r.length;
  if (type === MsgType.Rlerror) return size === RLERROR_SIZE ? null : `Rlerror of ${size} bytes`;
  if (type !== t + 1) return `message type ${type} in reply to type ${t}`;
  switch (type) {
    case MsgType.Rread: {
      if (size < HEADER_SIZE + 4) return `Rread of ${size} bytes`;
      const n = frameU32(r, HEADER_SIZE);
      if (size !== HEADER_SIZE + 4 + n) return `Rread of ${size} bytes says it holds ${n}`;
      return n > bytes ? `Rread of ${n} bytes to a Tread of ${bytes}` : null;
    }
    case MsgType.Rwrite: {
      if (size !== HEADER_SIZE + 4) return `Rwrite of ${size} bytes`;
      const n = frameU32(r, HEADER_SIZE);
      return n > bytes ? `Rwrite of ${n} bytes to a Twrite of ${bytes}` : null;
    }
    case MsgType.Rclunk: return size === HEADER_SIZE ? null : `Rclunk of ${size} bytes`;
    case MsgType.Rgetattr: return size === RGETATTR_SIZE ? null : `Rgetattr of ${size} bytes`;
    default: return `message type ${type} is not forwarded as bytes`;
  }
}
