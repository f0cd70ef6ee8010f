// A byte stream in, whole messages out. Chunks are queued, not concatenated, until a whole frame
// is present, so a frame fed one byte at a time costs one copy in all; a frame that lies inside a
// single chunk is handed out as a view of it.
import { HEADER_SIZE } from './constants.ts';
import { ProtocolError } from './errors.ts';

/** A frame's size field, checked: throws ProtocolError below the header or above msize. */
function checkSize(size: number, maxSize: number): number {
  if (size < HEADER_SIZE) throw new ProtocolError('bad-size', `message size ${size} is below ${HEADER_SIZE}`);
  if (size > maxSize) throw new ProtocolError('too-large', `message size ${size} exceeds msize ${maxSize}`);
  return size;
}

export class FrameReader {
  private chunks: Uint8Array[] = [];
  /** Index of the first chunk with pending bytes, and the offset of its first pending byte. */
  private ci = 0;
  private head = 0;
  private pending = 0;
  /** Size of the frame being assembled, once its 4-byte size field has arrived. */
  private need = 0;

  constructor(public maxSize: number) {}

  /** Bytes received but not yet handed out as frames. */
  get buffered(): number { return this.pending; }

  /** Feeds bytes; calls onFrame for every complete frame. Throws ProtocolError on a bad size. */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.pending += chunk.length;
    for (;;) {
      if (this.need === 0) {
        if (this.pending < 4) return;
        this.need = checkSize(this.peekSize(), this.maxSize);
      }
      if (this.pending < this.need) return;
      const frame = this.take(this.need);
      this.need = 0;
      onFrame(frame);
    }
  }

  private peekSize(): number {
    let v = 0;
    let got = 0;
    let i = this.ci;
    let off = this.head;
    while (got < 4) {
      const c = this.chunks[i];
      while (off < c.length && got < 4) v += c[off++] * 2 ** (8 * got++);
      i++;
      off = 0;
    }
    return v;
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[this.ci];
    let frame: Uint8Array;
    if (first.length - this.head >= n) {
      frame = first.subarray(this.head, this.head + n);
      this.advance(first, n);
    } else {
      frame = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const c = this.chunks[this.ci];
        const k = Math.min(c.length - this.head, n - got);
        frame.set(c.subarray(this.head, this.head + k), got);
        got += k;
        this.advance(c, k);
      }
    }
    this.pending -= n;
    if (this.pending === 0) { this.chunks = []; this.ci = 0; this.head = 0; }
    else if (this.ci > 1024 && this.ci * 2 > this.chunks.length) { this.chunks = this.chunks.slice(this.ci); this.ci = 0; }
    return frame;
  }

  private advance(c: Uint8Array, k: number): void {
    this.head += k;
    if (this.head === c.length) { this.ci++; this.head = 0; }
  }
}

/**
 * FrameReader for a receiver that reads every chunk into one reused buffer: nothing here refers to
 * a chunk after push returns, and a frame is valid only during its onFrame call. A frame inside a
 * chunk is a view of it; one split across chunks is assembled in a buffer kept here and reused,
 * so a stream of any length allocates at most one buffer of the largest split frame.
 */
export class TransientFrameReader {
  private partial = new Uint8Array(4);
  /** Bytes of the split frame held in `partial`, and its size once the size field is complete. */
  private have = 0;
  private need = 0;

  constructor(public maxSize: number) {}

  get buffered(): number { return this.have; }

  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): void {
    let at = 0;
    if (this.have > 0) {
      while (this.have < 4 && at < chunk.length) this.partial[this.have++] = chunk[at++];
      if (this.have < 4) return;
      if (this.need === 0) this.need = this.sized(this.partial);
      const k = Math.min(this.need - this.have, chunk.length - at);
      this.partial.set(chunk.subarray(at, at + k), this.have);
      this.have += k;
      at += k;
      if (this.have < this.need) return;
      const n = this.need;
      this.have = this.need = 0;
      onFrame(this.partial.subarray(0, n));
    }
    while (chunk.length - at >= 4) {
      const size = checkSize(u32(chunk, at), this.maxSize);
      if (chunk.length - at < size) break;
      onFrame(chunk.subarray(at, at + size));
      at += size;
    }
    if (at < chunk.length) {
      const rest = chunk.subarray(at);
      this.partial.set(rest.subarray(0, 4));
      this.have = Math.min(rest.length, 4);
      if (this.have === 4) {
        this.need = this.sized(this.partial);
        this.partial.set(rest, 0);
        this.have = rest.length;
      }
    }
  }

  /** The checked size of the frame whose first 4 bytes are in `partial`, grown to hold it. */
  private sized(head: Uint8Array): number {
    const size = checkSize(u32(head, 0), this.maxSize);
    if (this.partial.length < size) {
      const grown = new Uint8Array(size);
      grown.set(this.partial.subarray(0, 4));
      this.partial = grown;
    }
    return size;
  }
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000;
}
