// The codec's one error type, and the errno <-> error-string table used by Rerror (.u carries
// both), Rlerror (errno only) and 9P2000 Rerror (string only).

export type ProtocolErrorCode =
  | 'bad-size'        // size field below 7 or not matching the frame
  | 'too-large'       // size field above the negotiated msize
  | 'truncated'       // a field runs past the end of the frame
  | 'trailing'        // bytes left over after the last field
  | 'unknown-type'    // type number not defined by the connection's dialect
  | 'bad-string'      // invalid UTF-8, or a string too long to encode
  | 'too-many-names'  // nwname or nwqid above MAXWELEM
  | 'bad-value'       // a value that cannot be encoded (out of range)
  | 'bad-reply';      // a well-formed reply that does not answer its request

/** Raised for every malformed frame; decoding throws nothing else. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    /** The tag of the offending message when the header was readable, so a server can reply. */
    readonly tag?: number,
    readonly msgType?: number,
  ) {
    super(message);
  }
}

/** Linux errno numbers (the ones 9P servers use). */
export const Errno = {
  EPERM: 1, ENOENT: 2, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, EBADF: 9, EAGAIN: 11, ENOMEM: 12,
  EACCES: 13, EFAULT: 14, EBUSY: 16, EEXIST: 17, EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21,
  EINVAL: 22, ENFILE: 23, EMFILE: 24, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30, EMLINK: 31,
  ERANGE: 34, ENAMETOOLONG: 36, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40, ENODATA: 61, EPROTO: 71,
  EOVERFLOW: 75, EBADMSG: 74, EMSGSIZE: 90, EOPNOTSUPP: 95, ECONNRESET: 104, ENOBUFS: 105,
  ESHUTDOWN: 108, ETIMEDOUT: 110, ESTALE: 116, ECONNREFUSED: 111, EHOSTDOWN: 112, ECANCELED: 125,
} as const;

// errno -> the string Plan 9 / Inferno servers use for it (first entry wins for errno -> string;
// every entry is accepted for string -> errno).
const TABLE: ReadonlyArray<readonly [number, string]> = [
  [Errno.ENOENT, 'file does not exist'],
  [Errno.ENOENT, 'file not found'],
  [Errno.ENOENT, 'no such file or directory'],
  // diod's clients go on without authentication only when Tauth fails with ENOENT.
  [Errno.ENOENT, 'authentication not required'],
  [Errno.EPERM, 'operation not permitted'],
  [Errno.EACCES, 'permission denied'],
  [Errno.EEXIST, 'file already exists'],
  [Errno.ENOTDIR, 'not a directory'],
  [Errno.EISDIR, 'is a directory'],
  [Errno.ENOTEMPTY, 'directory not empty'],
  [Errno.EBADF, 'unknown fid'],
  [Errno.EBADF, 'bad fid'],
  [Errno.EBADF, 'fid not open for read'],
  [Errno.EBADF, 'fid not open for write'],
  [Errno.EBADF, 'fid not open'],
  [Errno.EBUSY, 'fid already in use'],
  [Errno.EBUSY, 'fid already open'],
  [Errno.EBUSY, 'duplicate fid'],
  [Errno.EBUSY, 'duplicate tag'],
  [Errno.EINVAL, 'bad argument'],
  [Errno.EINVAL, 'invalid argument'],
  [Errno.EINVAL, 'bad offset in directory read'],
  [Errno.EIO, 'i/o error'],
  [Errno.EROFS, 'read-only file system'],
  [Errno.ENOSPC, 'no space left on device'],
  [Errno.EFBIG, 'file too large'],
  [Errno.ENAMETOOLONG, 'file name too long'],
  [Errno.EOPNOTSUPP, 'operation not supported'],
  [Errno.ENOSYS, 'function not implemented'],
  [Errno.EXDEV, 'cross-device link'],
  [Errno.EINTR, 'interrupted'],
  [Errno.ENOMEM, 'out of memory'],
  [Errno.EPROTO, 'protocol error'],
  [Errno.EMSGSIZE, 'message too long'],
  [Errno.ETIMEDOUT, 'timed out'],
  [Errno.ECONNRESET, 'connection reset'],
  [Errno.EHOSTDOWN, 'mount is not connected'],
  [Errno.ESTALE, 'the mount was reconnected: walk again'],
  [Errno.ECANCELED, 'cancelled'],
  [Errno.ENODATA, 'no data available'],
  [Errno.ELOOP, 'too many levels of symbolic links'],
  [Errno.ENXIO, 'no such device or address'],
  [Errno.EMFILE, 'too many open files'],
  [Errno.ESHUTDOWN, 'shut down'],
  [Errno.EAGAIN, 'resource temporarily unavailable'],
  [Errno.E2BIG, 'argument list too long'],
  [Errno.EFAULT, 'bad address'],
  [Errno.ENODEV, 'no such device'],
  [Errno.ENFILE, 'too many open files in system'],
  [Errno.ESPIPE, 'illegal seek'],
  [Errno.EMLINK, 'too many links'],
  [Errno.ERANGE, 'result out of range'],
  [Errno.EOVERFLOW, 'value too large for defined data type'],
  [Errno.EBADMSG, 'bad message'],
  [Errno.ENOBUFS, 'no buffer space available'],
  [Errno.ECONNREFUSED, 'connection refused'],
];

const byErrno = new Map<number, string>();
const byString = new Map<string, number>();
for (const [errno, text] of TABLE) {
  if (!byErrno.has(errno)) byErrno.set(errno, text);
  byString.set(text, errno);
}

/** The error string for an errno; unknown numbers read "errno N". */
export function errnoToString(errno: number): string {
  return byErrno.get(errno) ?? `errno ${errno}`;
}

/** The errno for an error string (case-insensitive); unknown strings map to EIO. */
export function stringToErrno(text: string): number {
  const known = byString.get(text.toLowerCase());
  if (known !== undefined) return known;
  const m = /^errno (\d+)$/.exec(text);
  return m ? Number(m[1]) : Errno.EIO;
}
