// `styxlab serve` with the playground for e2e specs and benchmarks: 9P and HTTP on ports the
// kernel picks (port 0), read back from what the server prints. Build web/dist first
// (scripts/web.js) for the page to be there.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, STYXLAB, stopProcess } from './styxlab.ts';

export interface Playground {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT of the 9P listener. */
  ninep: string;
  proc: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

export const WEB_DIST = join(ROOT, 'web', 'dist');

export async function startPlayground(args: string[] = [], opts: { echoStderr?: boolean } = {}): Promise<Playground> {
  // NBD stays off unless asked: its default port 10809 would be raced for between tests.
  const nbd = args.includes('--nbd') ? [] : ['--nbd', 'off'];
  const proc = spawn(process.execPath, [STYXLAB, 'serve', '--listen', 'tcp!127.0.0.1!0', '--http', '127.0.0.1:0', ...nbd, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = () => proc.kill('SIGKILL');
  process.once('exit', kill);
  let out = '';
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
    if (opts.echoStderr) process.stderr.write(s);
  });
  try {
    const addrs = await new Promise<{ ninep: string; url: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`styxlab serve did not start in 20 s:\n${out}\n${err}`)), 20_000);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`styxlab serve exited (${code}):\n${out}\n${err}`));
      });
      proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        const ninep = /9P on tcp!127\.0\.0\.1!(\d+)/.exec(out);
        const http = /playground on (http:\/\/[^\s/]+)/.exec(out);
        if (ninep && http) {
          clearTimeout(timer);
          resolve({ ninep: `127.0.0.1:${ninep[1]}`, url: http[1] });
        }
      });
    });
    return {
      ...addrs,
      proc,
      stderr: () => err,
      async stop() {
        await stopProcess(proc);
        process.removeListener('exit', kill);
      },
    };
  } catch (e) {
    await stopProcess(proc);
    process.removeListener('exit', kill);
    throw e;
  }
}
