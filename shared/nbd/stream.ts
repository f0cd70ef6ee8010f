// A byte stream in both directions: what NBD runs over. A TCP or unix socket in Node, a WebSocket
// carrying binary chunks in the page, or two in-memory ends in tests all fit this shape.

export interface ByteStream {
  /**
   * Queues bytes for sending. Without `written` the stream may keep the array for good. With it,
   * the stream calls `written` once the bytes are copied out (to the kernel) and the array may be
   * reused; a stream that hands the array itself to the peer never calls it.
   */
  write(bytes: Uint8Array, written?: () => void): void;
  /** Registers the receiver of incoming bytes (one receiver). */
  onData(cb: (chunk: Uint8Array) => void): void;
  /** Called once when the stream closes; err says why when it was not a clean close. */
  onClose(cb: (err?: Error) => void): void;
  /** Sends what is queued, then closes. */
  end(): void;
  /** Closes at once, dropping what is queued (a hard disconnect). */
  destroy(): void;
  /** Stop / restart delivering incoming bytes (backpressure toward the peer). */
  pause(): void;
  resume(): void;
  /** Bytes written but not yet handed to the peer. */
  readonly backlog: number;
  /** Called once when the backlog has drained after having been high. */
  onDrain(cb: () => void): void;
}

/** One end of an in-memory pair; delivery is asynchronous, as on a socket. */
class MemoryByteStream implements ByteStream {
  peer!: MemoryByteStream;
  private receiver: (c: Uint8Array) => void = () => {};
  private closer: ((err?: Error) => void) | undefined;
  private closed = false;
  private paused = false;
  private held: Uint8Array[] = [];
  readonly backlog = 0;

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    queueMicrotask(() => this.peer.deliver(bytes));
  }
  onData(cb: (chunk: Uint8Array) => void): void { this.receiver = cb; }
  onClose(cb: (err?: Error) => void): void {
    if (this.closed) cb();
    else this.closer = cb;
  }
  end(): void {
    // Behind the writes already queued, like a FIN.
    queueMicrotask(() => { this.peer.finish(); this.finish(); });
  }
  destroy(): void {
    this.finish();
    queueMicrotask(() => this.peer.finish());
  }
  pause(): void { this.paused = true; }
  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const c of held) this.deliver(c);
  }
  onDrain(cb: () => void): void { queueMicrotask(cb); }
  private deliver(c: Uint8Array): void {
    if (this.closed) return;
    if (this.paused) this.held.push(c);
    else this.receiver(c);
  }
  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    const cb = this.closer;
    this.closer = undefined;
    cb?.();
  }
}

/** Two byte streams connected back to back in memory. */
export function byteStreamPair(): [ByteStream, ByteStream] {
  const a = new MemoryByteStream();
  const b = new MemoryByteStream();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
