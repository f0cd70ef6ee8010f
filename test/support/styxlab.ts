// Starting styxlab's 9P server for tests, two ways:
//
//   const s = await startServe(['-d']);       // `styxlab serve` as a child process on 127.0.0.1
//   s.port; s.address; s.stderr();           // its trace (with -d) and log lines so far
//   await s.stop();                           // SIGTERM (SIGKILL if it lingers)
//
//   const l = await startListener(fs, opts);  // a NinepListener in this process
//   l.port; l.listener.stats; await l.close();
//
// Both take a free port by binding 127.0.0.1:0 and releasing it (dial strings cannot say port 0);
// if another process takes it in between, they try again with another.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileServer } from '../../shared/styx/index.ts';
import { type ListenerOptions, NinepListener } from '../../server/ninep/listener.ts';
import { ensureBuild } from '../../scripts/build.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const STYXLAB = join(ROOT, 'bin', 'styxlab.js');

// bin/styxlab.js runs the compiled dist/node: rebuild it when a source changed, so that a test
// run on its own (node --test one.test.ts) never exercises stale code.
ensureBuild();

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = a && typeof a === 'object' ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface Served {
  port: number;
  /** tcp!127.0.0.1!PORT */
  address: string;
  /** HOST:PORT, as diod's clients want it. */
  hostPort: string;
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr matches re (a remote mount coming up, say); rejects after 15 s. */
  logged(re: RegExp): Promise<void>;
  stop(): Promise<void>;
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited(proc);
  clearTimeout(t);
}

/** Runs `styxlab serve` with extra flags (e.g. -d) on a free port; resolves once it listens. */
export async function startServe(args: string[] = [], nodeArgs: string[] = []): Promise<Served> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const address = `tcp!127.0.0.1!${port}`;
    // No HTTP unless the test asks: the default port 5680 would collide between tests.
    const http = args.includes('--http') ? [] : ['--http', 'off'];
    // Nor NBD: its default port 10809 would be raced for too.
    if (!args.includes('--nbd')) http.push('--nbd', 'off');
    const proc = spawn(process.execPath, [...nodeArgs, STYXLAB, 'serve', '--listen', address, ...http, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout!.setEncoding('utf8').on('data', (s: string) => { out += s; });
    proc.stderr!.setEncoding('utf8').on('data', (s: string) => { err += s; });
    const killOnExit = () => { proc.kill('SIGKILL'); };
    process.once('exit', killOnExit);
    const stop = async () => {
      await stopProcess(proc);
      process.removeListener('exit', killOnExit);
    };
    // Bounded: 600 polls of 25 ms (15 s, for a loaded machine).
    let up = false;
    for (let i = 0; i < 600 && !up; i++) {
      if (proc.exitCode !== null || proc.signalCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
      up = out.includes(`9P on ${address}`);
    }
    if (up) {
      const logged = async (re: RegExp) => {
        for (let i = 0; i < 600 && !re.test(err); i++) await new Promise((r) => setTimeout(r, 25));
        if (!re.test(err)) throw new Error(`styxlab serve never logged ${re}:\n${err}`);
      };
      return {
        port, address, hostPort: `127.0.0.1:${port}`, proc, stop, logged,
        stdout: () => out, stderr: () => err,
      };
    }
    await stop();
    if (!/EADDRINUSE/.test(err)) throw new Error(`styxlab serve did not start:\n${out}\n${err}`);
  }
  throw new Error('styxlab serve: no free port after 5 attempts');
}

export interface InProcess {
  port: number;
  address: string;
  listener: NinepListener;
  close(): Promise<void>;
}

/** A NinepListener over fs on a free port of 127.0.0.1, in this process. */
export async function startListener(fs: FileServer, opts: ListenerOptions = {}): Promise<InProcess> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const listener = new NinepListener(fs, opts);
    try {
      const [address] = await listener.listen([`tcp!127.0.0.1!${port}`]);
      return { port, address, listener, close: () => listener.close() };
    } catch (e) {
      await listener.close();
      if (attempt >= 4 || !(e instanceof Error && /EADDRINUSE/.test(e.message))) throw e;
    }
  }
}
