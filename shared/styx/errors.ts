// The error strings a styx server replies with (Inferno's styxservers and Plan 9's lib9p use the
// same words); Rerror carries them, and .u/.L peers get the errno mapped from them.

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

/** Thrown by Navigators and handlers; its message becomes the Rerror string. */
export class StyxError extends Error {
  override readonly name = 'StyxError';
  /** The errno for .u and .L clients when the message is not one the errno table knows. */
  constructor(message: string, readonly errno = 0) {
    super(message);
  }
}
