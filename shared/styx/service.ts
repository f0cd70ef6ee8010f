// The contract between a connection's wire session and what serves it. Requests arrive in the
// canonical vocabulary: 9P2000 messages with the .u fields, plus Treaddir for .L directory reads;
// the session translates the other .L operations into these (see dialect.ts).
import type { Dialect, Rmsg, Tmsg } from '../ninep/index.ts';

export interface Service {
  /** A Tversion was accepted: forget every fid and serve this dialect from now on. */
  version(dialect: Dialect, msize: number): void;
  /** Answers one request. The signal aborts when the client flushes it. Never rejects. */
  request(t: Tmsg, signal: AbortSignal): Promise<Rmsg>;
  /** The connection is gone: release every fid and pending request. */
  close(): void;
  /** Fids held now, the service's own included (for leak checks and status pages). */
  readonly fidCount?: number;
}

/** Something that can serve many connections: each gets its own Service (its own fid space). */
export interface FileServer {
  connect(): Service;
}
