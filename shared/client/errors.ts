// The client's one error type. Server errors, local misuse, protocol violations, a closed
// connection and cancellation all arrive as NinepError so callers test one class and read errno.
import { Errno, errnoToString, stringToErrno } from '../ninep/index.ts';
import type { Rmsg } from '../ninep/index.ts';

export type NinepErrorKind =
  /** The server answered Rerror/Rlerror. */
  | 'remote'
  /** The request was cancelled through its AbortSignal (after Rflush). */
  | 'abort'
  /** The server broke the protocol; the connection has been closed. */
  | 'protocol'
  /** The connection is closed (or was closed while the request was pending). */
  | 'closed'
  /** Refused locally before anything was sent (bad argument, message too large, ...). */
  | 'local';

export class NinepError extends Error {
  override name = 'NinepError';
  /**
   * For kind 'abort': the reply that arrived between Tflush and Rflush, which the request's
   * effects (a fid made by Twalk, a file made by Tcreate) may need to be undone from.
   */
  declare lateReply?: Rmsg;

  constructor(
    message: string,
    readonly errno: number,
    readonly kind: NinepErrorKind = 'remote',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    // Generic code recognises cancellation by name, as with fetch().
    if (kind === 'abort') this.name = 'AbortError';
  }

  /** From an Rerror (9P2000: string only; .u: string and errno) or an Rlerror (.L: errno only). */
  static fromReply(m: Rmsg): NinepError {
    if (m.type === 'Rlerror') return new NinepError(errnoToString(m.ecode), m.ecode);
    if (m.type === 'Rerror') return new NinepError(m.ename, m.errno || stringToErrno(m.ename));
    return new NinepError(`unexpected ${m.type}`, Errno.EPROTO, 'protocol');
  }

  static local(message: string, errno: number = Errno.EINVAL): NinepError {
    return new NinepError(message, errno, 'local');
  }
}

/** True for the error a cancelled call rejects with. */
export function isAbortError(e: unknown): e is NinepError {
  return e instanceof NinepError && e.kind === 'abort';
}
