// Builds the playground if stale, then starts `styxlab serve` with 9P and HTTP on ports the
// kernel picks (port 0), reads the addresses it prints, and hands them to the specs through the
// environment. The returned function (the global teardown) stops it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The watchdog's deadline for page-hosted servers; short, so the endless-loop spec is quick. */
export const DEADLINE_MS = 3000;

function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'web.js')], { stdio: 'inherit', cwd: ROOT });
  if (build.status !== 0) throw new Error('building web/dist failed');

  const proc = spawn(process.execPath, [
    join(ROOT, 'bin', 'styxlab.js'), 'serve',
    '--listen', 'tcp!127.0.0.1!0',
    '--http', '127.0.0.1:0',
    '--deadline', String(DEADLINE_MS),
  ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = () => proc.kill('SIGKILL');
  process.once('exit', kill);
  let out = '';
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
    if (process.env.STYXLAB_E2E_LOG) process.stderr.write(s);
  });
  const addrs = await new Promise<{ ninep: string; http: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`styxlab serve did not start in 20 s:\n${out}\n${err}`)), 20_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`styxlab serve exited (${code}):\n${out}\n${err}`));
    });
    proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const ninep = /9P on tcp!127\.0\.0\.1!(\d+)/.exec(out);
      const http = /playground on (http:\/\/\S+?)\/?(\s|$)/.exec(out);
      if (ninep && http) {
        clearTimeout(timer);
        resolve({ ninep: `127.0.0.1:${ninep[1]}`, http: http[1] });
      }
    });
  });
  process.env.STYXLAB_E2E_URL = addrs.http;
  process.env.STYXLAB_E2E_9P = addrs.ninep;
  process.env.STYXLAB_E2E_DEADLINE = String(DEADLINE_MS);
  return async () => {
    await stop(proc);
    process.removeListener('exit', kill);
  };
}
