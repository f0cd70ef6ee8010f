// iouringd's start-up sequence (document section 14): the ring, its registered files and
// buffers, then the socket, each failure with the original's one-line message and exit code.
// IOURINGD_TEST_FAULT simulates kernel refusals so each path is testable.
import { Buffer } from 'node:buffer';
import { loadAddon, strerror } from './addon.ts';
import { IouringDaemon } from './daemon.ts';
import type { DaemonOptions } from './flags.ts';

export type Startup =
  | { ok: true; daemon: IouringDaemon }
  | { ok: false; message: string; exitCode: 1 | 2 };

const fault = (): string | undefined => process.env.IOURINGD_TEST_FAULT;
const fail = (message: string, exitCode: 1 | 2 = 1): Startup => ({ ok: false, message, exitCode });
const failed = (what: string, errno: number): Startup => fail(`iouringd: ${what} failed: ${strerror(errno)}`);

function setupError(errno: number): Startup {
  if (errno === 38) return fail('iouringd: io_uring setup is unavailable on this kernel (ENOSYS)');
  if (errno === 1 || errno === 13) return fail(`iouringd: io_uring setup blocked by kernel policy or sandbox (${strerror(errno)})`);
  return fail(`iouringd: io_uring initialization failed: ${strerror(errno)}`);
}

export function startDaemon(o: DaemonOptions): Startup {
  // 3. the ring (the fault hook stands in for the kernel's answers)
  if (fault() === 'setup_enosys') return setupError(38);
  if (fault() === 'setup_eperm') return setupError(1);
  const load = loadAddon();
  if (!load.ok) return fail(`iouringd: io_uring is not available in styxlab: ${load.reason}`);
  const a = load.addon;
  const [ring, errno, , sq, cq, features, opMask] = a.ringCreate(o.ringEntries);
  if (!ring) return setupError(errno);
  if (fault() === 'probe_eperm') { a.ringClose(ring); return setupError(1); }
  if ((opMask & 0xfff) === 0) { a.ringClose(ring); return fail('iouringd: io_uring probe reported no supported operations (ENOTSUP)'); }
  // 4. the granted size
  if (sq < 2 || sq > 64) { a.ringClose(ring); return fail(`iouringd: io_uring ring capacity ${sq} is outside the supported range`); }
  // 5. registered files and buffers for every connection slot
  let bufMem: Uint8Array;
  try {
    bufMem = Buffer.alloc(o.maxClients * o.registeredBuffers * o.ioBytesMax);
  } catch {
    a.ringClose(ring);
    return failed('allocating registered buffer storage', 12);
  }
  let rc = a.ringRegisterFiles(ring, o.maxClients * o.registeredFds);
  if (rc < 0) { a.ringClose(ring); return failed('registering fixed file table', -rc); }
  rc = a.ringRegisterBuffers(ring, bufMem, o.maxClients * o.registeredBuffers, o.ioBytesMax);
  if (rc < 0) { a.ringClose(ring); return failed('registering fixed buffers', -rc); }
  // 6, 7. the socket
  if (Buffer.byteLength(o.socketPath) >= 108) { a.ringClose(ring); return fail('iouringd: socket path is too long', 2); }
  const [fd, step, err] = a.listenUnix(o.socketPath, o.maxClients);
  if (fd < 0) {
    a.ringClose(ring);
    const what = ['', 'creating server socket', 'setting server socket CLOEXEC', 'setting server socket nonblocking',
      'binding server socket', 'listening on server socket'][step];
    return failed(what, err);
  }
  const daemon = new IouringDaemon(a, o, { ring, sqEntries: sq, cqEntries: cq, features, opMask: opMask & 0xfff }, bufMem, fault);
  daemon.start(fd);
  return { ok: true, daemon };
}

