// One 9P message per unit, in both directions. A TCP or unix socket (framed with FrameReader), a
// WebSocket (one binary message per 9P message) and a Worker MessagePort all fit this shape.

export interface MessageTransport {
  /** Sends one whole 9P message. */
  send(frame: Uint8Array): void;
  /**
   * Byte-stream transports only: sends one message as its head (encodeHead) and then its data,
   * without joining them. The data must not change until the reply has come.
   */
  sendSplit?(head: Uint8Array, data: Uint8Array): void;
  /** Registers the receiver of whole messages (one receiver). */
  onMessage(cb: (frame: Uint8Array) => void): void;
  /**
   * True when a frame given to onMessage lives in a buffer that the transport reuses: it is valid
   * only until the callback returns, and a receiver copies what it keeps.
   */
  readonly transientFrames?: boolean;
  /** Called once when the transport closes; err says why when it was not a clean close. */
  onClose(cb: (err?: Error) => void): void;
  close(reason?: string): void;
  /** Stop / restart delivering messages (backpressure); optional for transports that cannot. */
  pause?(): void;
  resume?(): void;
  /** Bytes given to send and not yet handed to the network: a peer that does not read grows it. */
  backlog?(): number;
}

/** One end of an in-memory pair: what it is given to deliver, it hands to its receiver. */
class MemoryEnd implements MessageTransport {
  peer!: MemoryEnd;
  private receiver: (f: Uint8Array) => void = () => {};
  private closer: (err?: Error) => void = () => {};
  private closed = false;

  send(frame: Uint8Array): void {
    if (this.closed) return;
    // Asynchronous, as a socket is: a reply never arrives inside the call that sent the request.
    queueMicrotask(() => this.peer.deliver(frame));
  }
  onMessage(cb: (frame: Uint8Array) => void): void { this.receiver = cb; }
  onClose(cb: (err?: Error) => void): void { this.closer = cb; }
  close(): void {
    queueMicrotask(() => this.peer.end());
    this.end();
  }
  private deliver(frame: Uint8Array): void {
    if (!this.closed) this.receiver(frame);
  }
  private end(): void {
    if (this.closed) return;
    this.closed = true;
    this.closer();
  }
}

/** Two transports connected back to back in memory: what one sends, the other receives. */
export function transportPair(): [MessageTransport, MessageTransport] {
  const a = new MemoryEnd();
  const b = new MemoryEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
