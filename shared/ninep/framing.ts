// A byte stream in, whole messages out. Chunks are queued, not concatenated, until a whole frame
// is present, so a frame fed one byte at a time costs one copy in all; a frame that lies inside a
// single chunk is handed out as a view of it.
import { HEADER_SIZE } from './constants.ts';
import { ProtocolError } from './errors.ts';

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
        const size = this.peekSize();
        if (size < HEADER_SIZE) throw new ProtocolError('bad-size', `message size ${size} is below ${HEADER_SIZE}`);
        if (size > this.maxSize) throw new ProtocolError('too-large', `message size ${size} exceeds msize ${this.maxSize}`);
        this.need = size;
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
