// `styxlab serve --iouringd`: a daemon of serve's own, as a child process on a unix socket in a
// private temporary directory, offered as the gateway backend `iouring`. A child (not in-process)
// because the daemon owns its signals and exit status as the original does.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';

// The compiled command (dist/node through bin/), even when serve itself runs from its sources: it
// starts in milliseconds where a TypeScript loader took seconds.
const STYXLAB = join(PACKAGE_ROOT, 'bin', 'styxlab.js');
/** A file in the daemon's working directory, for the page's lesson. */
export const HELLO = 'Hello from io_uring!\n';

export type IouringdChild =
  | { ok: true; socketPath: string; stop(): Promise<void> }
  | { ok: false; reason: string };

export async function startIouringdChild(flags: string[] = []): Promise<IouringdChild> {
  const dir = mkdtempSync(join(tmpdir(), 'styxlab-iouringd-'));
  const socketPath = join(dir, 'iouringd.sock');
  // The daemon works in its directory: OPENAT of a relative path (the page's lesson opens
  // hello.txt) resolves there, never in the user's tree.
  writeFileSync(join(dir, 'hello.txt'), HELLO);
  const proc = spawn(process.execPath, [STYXLAB, 'iouringd', ...flags, socketPath], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const ended = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await ended;
    clearTimeout(t);
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready once the socket file exists (bounded: 15 s of 20 ms checks).
  for (let i = 0; i < 750; i++) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      await stop();
      return { ok: false, reason: err.trim().split('\n')[0] || `iouringd exited ${proc.exitCode ?? proc.signalCode}` };
    }
    if (existsSync(socketPath)) return { ok: true, socketPath, stop };
    await new Promise((r) => setTimeout(r, 20));
  }
  await stop();
  return { ok: false, reason: 'iouringd did not start listening' };
}
