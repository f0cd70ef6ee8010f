// Loads the native addon (native/iouring.c, built by node-gyp at install). When it is missing or
// cannot load, callers get one line saying why; the rest of styxlab never imports it.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';

/** An opaque ring or watch handle (a Node-API external). */
export type Handle = { readonly __handle: unique symbol };

export interface IouringAddon {
  listenUnix(path: string, backlog: number): [fd: number, step: number, errno: number];
  acceptConn(fd: number): number;
  socketUnix(): number;
  recvFds(fd: number, buf: Uint8Array, out: Int32Array): number;
  sendBytes(fd: number, buf: Uint8Array, passFd?: number): number;
  closeFd(fd: number): number;
  unlinkPath(path: string): number;
  strerror(errno: number): string;
  addressOf(buf: Uint8Array): number;
  watch(fd: number, readable: boolean, writable: boolean, cb: (status: number, events: number) => void): Handle;
  watchSet(h: Handle, readable: boolean, writable: boolean): void;
  unwatch(h: Handle): void;
  ringCreate(entries: number): [ring: Handle | null, errno: number, stage: number, sq: number, cq: number, features: number, opMask: number];
  ringRegisterFiles(ring: Handle, n: number): number;
  ringUpdateFile(ring: Handle, slot: number, fd: number): number;
  ringRegisterBuffers(ring: Handle, mem: Uint8Array, count: number, size: number): number;
  ringPrep(ring: Handle, kind: number, userData: number, fd: number, fixed: boolean, buf: Uint8Array | null,
    len: number, arg: number, ioprio: number, aux: number): number;
  ringSubmit(ring: Handle): number;
  ringStart(ring: Handle, out: Float64Array, cb: (n: number) => void): number;
  ringReap(ring: Handle): void;
  ringClose(ring: Handle): void;
}

/** STYXLAB_IOURING_ADDON overrides where the addon is looked for (tests use it to see the no-addon path). */
export const ADDON_PATH = process.env.STYXLAB_IOURING_ADDON ||
  join(PACKAGE_ROOT, 'native', 'build', 'Release', 'iouring.node');

export type AddonLoad = { ok: true; addon: IouringAddon } | { ok: false; reason: string };

let cached: AddonLoad | undefined;

export function loadAddon(): AddonLoad {
  if (cached) return cached;
  if (process.platform !== 'linux') return (cached = { ok: false, reason: 'io_uring needs Linux' });
  if (!existsSync(ADDON_PATH)) {
    return (cached = {
      ok: false,
      reason: `native addon not built (${ADDON_PATH} is missing; needs liburing-dev, a C compiler and Node headers, then npm run build:addon)`,
    });
  }
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as IouringAddon;
    return (cached = { ok: true, addon });
  } catch (e) {
    return (cached = { ok: false, reason: `native addon failed to load: ${(e as Error).message.split('\n')[0]}` });
  }
}

// Used when the addon is missing, so the documented start-up messages still read as the C library's.
const STRERROR: Readonly<Record<number, string>> = {
  1: 'Operation not permitted', 2: 'No such file or directory', 13: 'Permission denied',
  22: 'Invalid argument', 38: 'Function not implemented', 12: 'Cannot allocate memory',
};
export function strerror(errno: number): string {
  const a = cached?.ok ? cached.addon : undefined;
  return a ? a.strerror(errno) : (STRERROR[errno] ?? `Unknown error ${errno}`);
}
