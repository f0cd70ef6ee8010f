// The error strings a styx server replies with (Inferno's styxservers and Plan 9's lib9p use the
// same words); Rerror carries them, and .u/.L peers get the errno mapped from them.
import { Errno, type Rmsg, errnoToString, stringToErrno } from '../ninep/index.ts';
import { errText } from '../errtext.ts';

export const Enotfound = 'file does not exist';
export const Eperm = 'permission denied';
export const Eexist = 'file already exists';
export const Enotdir = 'not a directory';
export const Eisdir = 'is a directory';
export const Ebadfid = 'unknown fid';
export const Einuse = 'fid already in use';
export const Eopen = 'fid already open';
export const Enotopen = 'fid not open';
export const Ebadarg = 'bad argument';
export const Enotempty = 'directory not empty';
export const Eoffset = 'bad offset in directory read';
export const Enoauth = 'authentication not required';
export const Eunsupported = 'operation not supported';
export const Edupetag = 'duplicate tag';
export const Etoomanyfids = 'too many fids';
export const Einterrupted = 'interrupted';
/** A mount whose server is away (a remote being redialed, a closed page). */
export const Edown = 'mount is not connected';

/**
 * The one error of the server path, from a handler or Navigator to the wire: its message becomes
 * the Rerror string (9P2000, .u) and its errno the .u errno or the Rlerror code (.L).
 */
export class StyxError extends Error {
  override readonly name = 'StyxError';
  readonly errno: number;
  /** errno 0: the errno the table gives the message (EIO for one it does not know). */
  constructor(message: string, errno = 0) {
    super(message);
    this.errno = errno || stringToErrno(message);
  }

  /** The error a failed reply (Rerror, Rlerror) stands for, its errno kept. */
  static fromReply(r: Rmsg): StyxError {
    if (r.type === 'Rerror') return new StyxError(r.ename, r.errno);
    if (r.type === 'Rlerror') return new StyxError(errnoToString(r.ecode), r.ecode);
    return new StyxError(`unexpected ${r.type}`, Errno.EPROTO);
  }
}

/** The Rerror for anything thrown while answering a request (a .L session makes it an Rlerror). */
export function errorReply(tag: number, e: unknown): Rmsg {
  const ename = errText(e);
  return { type: 'Rerror', tag, ename, errno: e instanceof StyxError ? e.errno : stringToErrno(ename) };
}
