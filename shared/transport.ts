// One 9P message per unit, in both directions. A TCP or unix socket (framed with FrameReader), a
// WebSocket (one binary message per 9P message) and a Worker MessagePort all fit this shape.

export interface MessageTransport {
  /** Sends one whole 9P message. */
  send(frame: Uint8Array): void;
  /** Registers the receiver of whole messages (one receiver). */
  onMessage(cb: (frame: Uint8Array) => void): void;
  /** Called once when the transport closes; err says why when it was not a clean close. */
  onClose(cb: (err?: Error) => void): void;
  close(reason?: string): void;
  /** Stop / restart delivering messages (backpressure); optional for transports that cannot. */
  pause?(): void;
  resume?(): void;
}

/** Two transports connected back to back in memory: what one sends, the other receives. */
export function transportPair(): [MessageTransport, MessageTransport] {
  const make = () => {
    let receiver: (f: Uint8Array) => void = () => {};
    let closer: (err?: Error) => void = () => {};
    let closed = false;
    return {
      deliver: (f: Uint8Array) => { if (!closed) receiver(f); },
      end: (err?: Error) => { if (!closed) { closed = true; closer(err); } },
      t: null as unknown as MessageTransport,
      set(peer: { deliver(f: Uint8Array): void; end(err?: Error): void }) {
        this.t = {
          send: (f) => { if (!closed) queueMicrotask(() => peer.deliver(f)); },
          onMessage: (cb) => { receiver = cb; },
          onClose: (cb) => { closer = cb; },
          close: () => { queueMicrotask(() => peer.end()); this.end(); },
        };
      },
    };
  };
  const a = make();
  const b = make();
  a.set(b);
  b.set(a);
  return [a.t, b.t];
}
