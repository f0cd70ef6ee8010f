// The NBD codec's typed errors, and the errno mapping: any errno a device raises becomes one of
// the eight values NBD allows on the wire.
import { NbdErrno } from './constants.ts';

export type NbdProtocolErrorCode =
  | 'bad-magic'     // a magic number that is not the one this position wants
  | 'truncated'     // a field runs past the end of its message
  | 'trailing'      // bytes left over after the last field
  | 'too-large'     // a length above the negotiated or configured limit
  | 'bad-flags'     // client flags we did not offer
  | 'bad-string'    // invalid UTF-8, a NUL, or longer than 4096 bytes
  | 'bad-value'     // a value out of range for its field
  | 'unexpected';   // a message this side does not expect now (e.g. a reply with an unknown cookie)

/** Every malformed input raises this and nothing else. */
export class NbdProtocolError extends Error {
  override readonly name = 'NbdProtocolError';
  constructor(readonly code: NbdProtocolErrorCode, message: string) {
    super(message);
  }
}

/** An error a block device (or a server) reports for one request: an errno and a text. */
export class NbdError extends Error {
  override readonly name = 'NbdError';
  constructor(readonly errno: number, message?: string) {
    super(message ?? errnoText(errno));
  }
}

const TEXT: Record<number, string> = {
  [NbdErrno.EPERM]: 'operation not permitted',
  [NbdErrno.EIO]: 'input/output error',
  [NbdErrno.ENOMEM]: 'cannot allocate memory',
  [NbdErrno.EINVAL]: 'invalid argument',
  [NbdErrno.ENOSPC]: 'no space left on device',
  [NbdErrno.EOVERFLOW]: 'value too large',
  [NbdErrno.ENOTSUP]: 'operation not supported',
  [NbdErrno.ESHUTDOWN]: 'server is shutting down',
};

export function errnoText(errno: number): string {
  return TEXT[errno] ?? `errno ${errno}`;
}

export function errnoName(errno: number): string {
  for (const [k, v] of Object.entries(NbdErrno)) if (v === errno) return k;
  return String(errno);
}

// Linux errno numbers that have a natural NBD value other than EIO.
const TO_WIRE: Record<number, number> = {
  1: NbdErrno.EPERM,      // EPERM
  13: NbdErrno.EPERM,     // EACCES
  30: NbdErrno.EPERM,     // EROFS: a write to a read-only export
  12: NbdErrno.ENOMEM,
  22: NbdErrno.EINVAL,
  28: NbdErrno.ENOSPC,
  27: NbdErrno.ENOSPC,    // EFBIG (the spec says so)
  122: NbdErrno.ENOSPC,   // EDQUOT (the spec says so)
  75: NbdErrno.EOVERFLOW,
  95: NbdErrno.ENOTSUP,   // EOPNOTSUPP == ENOTSUP on Linux
  38: NbdErrno.ENOTSUP,   // ENOSYS
  108: NbdErrno.ESHUTDOWN,
};

// Node's error codes for the same errno names, for errors thrown by node:fs.
const CODE_TO_ERRNO: Record<string, number> = {
  EPERM: 1, EACCES: 13, EROFS: 30, ENOMEM: 12, EINVAL: 22, ENOSPC: 28, EFBIG: 27, EDQUOT: 122,
  EOVERFLOW: 75, ENOTSUP: 95, EOPNOTSUPP: 95, ENOSYS: 38, ESHUTDOWN: 108,
};

/** The NBD error value for a Linux errno: one of the eight the protocol allows (EIO otherwise). */
export function toWireErrno(errno: number): number {
  return TO_WIRE[errno] ?? NbdErrno.EIO;
}

/** The NBD error value and text for anything a device threw. */
export function errorOf(e: unknown): { errno: number; message: string } {
  if (e instanceof NbdError) return { errno: toWireErrno(e.errno), message: e.message };
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const errno = typeof code === 'string' ? CODE_TO_ERRNO[code] : undefined;
    return { errno: errno === undefined ? NbdErrno.EIO : toWireErrno(errno), message: e.message };
  }
  return { errno: NbdErrno.EIO, message: String(e) };
}
