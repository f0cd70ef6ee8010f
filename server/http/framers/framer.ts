// What the gateway knows of a backend's protocol: one framer per backend kind, so that `relay`
// only moves bytes and applies backpressure. A framer checks each page message before it reaches
// the backend, and cuts the backend's byte stream into WebSocket messages (one protocol message
// each), so the page never reassembles and a malformed stream is stopped at the gateway.
import type { BackendKind } from '../backends.ts';
import { IouringFramer } from './iouring.ts';
import { NbdFramer } from './nbd.ts';
import { NinepFramer } from './ninep.ts';

export interface Framer {
  /** The protocol's name in log lines and close reasons: '9P', 'NBD', 'IOD1'. */
  readonly protocol: string;
  /**
   * True when fromBackend may keep views of a chunk after it returns (a partial message queued by
   * reference): the gateway then never reuses a chunk's memory.
   */
  readonly retainsChunks: boolean;
  /** Checks one page message; returns why it is refused, or null to pass it on. */
  fromPage(msg: Uint8Array): string | null;
  /**
   * Cuts backend bytes into messages: each piece is a view of the chunk where possible, and the
   * last piece of a message says so. Throws (a typed protocol error) on malformed input.
   */
  fromBackend(chunk: Uint8Array, onPiece: (piece: Uint8Array, last: boolean) => void): void;
}

export function framerFor(kind: BackendKind): Framer {
  switch (kind) {
    case '9p': return new NinepFramer();
    case 'nbd': return new NbdFramer();
    case 'iouring': return new IouringFramer();
  }
}
