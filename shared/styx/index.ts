// The server framework in the style of Inferno's styxservers.
export * from './errors.ts';
export * from './dir.ts';
export type { Navigator } from './navigator.ts';
export { Fid } from './fid.ts';
export { type DirCursor, advanceDir, seekDir } from './dircursor.ts';
export { readStr, readBytes } from './read.ts';
export type { Service, FileServer, Cancellation, AbortWatcher } from './service.ts';
export { CANCELLED, Cancel } from './service.ts';
export {
  Styxserver, styxFileServer, openError, permits, nameError, DEFAULT_MAX_FIDS,
  type Request, type RequestOf, type StyxOptions, type ServeLoop, type ServeHandler, type Opening, type Creating,
  type Removing,
} from './styxserver.ts';
export { Session, DEFAULT_MAX_UNSENT, type SessionOptions, type TraceEvent } from './session.ts';
export { LinuxAdapter } from './dialect/server.ts';
export { attrToStat, dmToLinuxMode, linuxModeToDM, statTime, statToAttr } from './dialect/convert.ts';
export { Tree, Node, DEFAULT_MAX_FILE_SIZE, type TreeOptions, type Content, type Device, type DeviceRequest } from './tree.ts';
