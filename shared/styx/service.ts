// The contract between a connection's wire session and what serves it. A file system serves the
// canonical vocabulary: 9P2000 messages with the .u fields, plus Treaddir for .L directory reads;
// a LinuxAdapter in front of it (placed where connections are set up) translates the other .L
// operations into these (see dialect/server.ts).
import type { Dialect, Rmsg, Tmsg } from '../ninep/index.ts';

/**
 * How a request learns that the client flushed it: `signal` aborts then. An AbortController is
 * one. Making an AbortSignal costs microseconds (more than answering a getattr), and Node makes a
 * controller's signal only when it is first read, so the hot path hands this along and only code
 * that actually waits on something reads `signal`.
 */
export interface Cancellation {
  readonly signal: AbortSignal;
  /**
   * Where offered, a cheaper way to learn of the flush than listening on `signal`: `w.aborted()`
   * is called once then (at once if it already was). One watcher; a later one replaces it.
   */
  watch?(w: AbortWatcher): void;
}

export interface AbortWatcher {
  aborted(): void;
}

/** A request's Cancellation as a session makes it: the AbortController is made only if asked for. */
export class Cancel implements Cancellation {
  private ctrl: AbortController | null = null;
  private watcher: AbortWatcher | null = null;
  private done = false;

  get signal(): AbortSignal {
    if (!this.ctrl) {
      this.ctrl = new AbortController();
      if (this.done) this.ctrl.abort();
    }
    return this.ctrl.signal;
  }

  watch(w: AbortWatcher): void {
    if (this.done) w.aborted();
    else this.watcher = w;
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    this.ctrl?.abort();
    const w = this.watcher;
    this.watcher = null;
    w?.aborted();
  }
}

export interface Service {
  /** A Tversion was accepted: forget every fid and serve this dialect from now on. */
  version(dialect: Dialect, msize: number): void;
  /** Answers one request; cancel.signal aborts when the client flushes it. Never rejects. */
  call(t: Tmsg, cancel: Cancellation): Promise<Rmsg>;
  /**
   * Whether the service answers this 9P2000.L request itself (a mount of a .L remote, for a .L
   * client): a LinuxAdapter then passes it through instead of translating it.
   */
  native?(t: Tmsg): boolean;
  /**
   * Takes a request as its frame, undecoded (a Tread, Twrite, Tclunk or Tgetattr whose layout the
   * session has checked, see forwardableCost), when the service can pass it on as bytes: answers
   * with the reply's frame (whatever its tag; the session sets it) or a message. null: not this
   * one, decode it and call. The frame is the service's once it is taken; until then it is
   * left as it was.
   */
  forward?(frame: Uint8Array, cancel: Cancellation): Promise<Rmsg | Uint8Array> | null;
  /** The connection is gone: release every fid and pending request. */
  close(): void;
  /** Fids held now, the service's own included (for leak checks and status pages). */
  readonly fidCount?: number;
}

let aborted: AbortSignal | undefined;
/** For requests nobody will wait for (a fire-and-forget clunk): already cancelled. */
export const CANCELLED: Cancellation = {
  get signal() { return (aborted ??= AbortSignal.abort()); },
};

/** Something that can serve many connections: each gets its own Service (its own fid space). */
export interface FileServer {
  connect(): Service;
}
