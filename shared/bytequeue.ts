// Received chunks of a byte stream, queued rather than concatenated, for the codecs whose messages
// are not length-prefixed (NBD, iouringd): a decoder peeks at a header, learns how many bytes the
// message needs, and takes them. A message inside one chunk comes out as a view of it; one split
// across chunks costs one copy.

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private ci = 0;
  private head = 0;
  private pending = 0;

  get length(): number { return this.pending; }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.pending += chunk.length;
  }

  /**
   * The first n bytes (n <= length) without consuming them: a view when they lie in one chunk,
   * else copied into scratch (at least n bytes; a new array when none is given).
   */
  peek(n: number, scratch?: Uint8Array): Uint8Array {
    const first = this.chunks[this.ci];
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = scratch ?? new Uint8Array(n);
    let got = 0;
    for (let i = this.ci, off = this.head; got < n; i++, off = 0) {
      const c = this.chunks[i];
      const k = Math.min(c.length - off, n - got);
      out.set(c.subarray(off, off + k), got);
      got += k;
    }
    return out.subarray(0, n);
  }

  /** Removes and returns the first n bytes (n <= length): a view when they lie in one chunk. */
  take(n: number): Uint8Array {
    const first = this.chunks[this.ci];
    let out: Uint8Array;
    if (first.length - this.head >= n) {
      out = first.subarray(this.head, this.head + n);
      this.advance(first, n);
    } else {
      out = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const c = this.chunks[this.ci];
        const k = Math.min(c.length - this.head, n - got);
        out.set(c.subarray(this.head, this.head + k), got);
        got += k;
        this.advance(c, k);
      }
    }
    this.pending -= n;
    if (this.pending === 0) { this.chunks = []; this.ci = 0; this.head = 0; }
    // Drop consumed chunks now and then, so a long stream of small chunks stays linear.
    else if (this.ci > 1024 && this.ci * 2 > this.chunks.length) { this.chunks = this.chunks.slice(this.ci); this.ci = 0; }
    return out;
  }

  private advance(c: Uint8Array, k: number): void {
    this.head += k;
    if (this.head === c.length) { this.ci++; this.head = 0; }
  }
}
