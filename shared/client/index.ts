// The isomorphic 9P client.
export { Client, RpcHandle, splitPath, linuxFlags } from './client.ts';
export type { CallOptions, ConnectOptions, FidRef, ReadOptions, ReplyOf, TBody, TraceDirection } from './client.ts';
export { File } from './file.ts';
export type { StreamOptions, TransferOptions } from './file.ts';
export { NinepError, isAbortError } from './errors.ts';
export type { NinepErrorKind } from './errors.ts';
export type { Dir } from './dir.ts';
export { dirFromAttr, dirFromStat, dmToLinuxMode, isDir, linuxModeToDM, modeString, qidTypeToDM } from './dir.ts';
export type { MessageTransport } from './transport.ts';
