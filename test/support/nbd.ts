// Real NBD peers for tests, each on a port the kernel picks (or a unix socket in a temp dir), each
// stopped by the test that started it (and killed if the test process exits first):
//
//   const s = await startServeNbd(['--nbd-export', 'mem=memory:1G']);  // styxlab serve --nbd
//   s.uri('mem'); await s.stop();
//   const k = await startNbdkit(['memory', '64M']);                    // nbdkit on 127.0.0.1
//   const q = await startQemuNbd(imagePath);                           // qemu-nbd -b 127.0.0.1
//   const n = await startNbdServer(imagePath);                         // nbd-server on a unix socket
//   const r = await run('nbdinfo', ['--list', s.uri('')]);             // r.code, r.stdout, r.stderr
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listeningPort } from './diod.ts';
import { STYXLAB, startServe, stopProcess } from './styxlab.ts';

/** Debian's python3 (python3-libnbd lives there), first on PATH for nbdsh. */
export const PEER_ENV = { ...process.env, PATH: `/usr/bin:/usr/sbin:/bin:${process.env.PATH ?? ''}` };

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as bytes, when run with raw: true. */
  bytes?: Buffer;
}

/** Runs a command to completion (killed after 120 s so a hung peer fails the test, not the run). */
export function run(cmd: string, args: string[], opts: { input?: Uint8Array; env?: NodeJS.ProcessEnv; raw?: boolean } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: opts.env ?? PEER_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => { out.push(b); });
    p.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    const t = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.once('error', (e) => { clearTimeout(t); reject(e); });
    p.once('close', (code) => {
      clearTimeout(t);
      const bytes = Buffer.concat(out);
      resolve({ code, stdout: bytes.toString('utf8'), stderr, ...(opts.raw ? { bytes } : {}) });
    });
    // A program that never reads its stdin (nbdcopy) may be gone before the end reaches it.
    p.stdin.on('error', () => {});
    p.stdin.end(opts.input ?? new Uint8Array(0));
  });
}

/** Runs `styxlab ARGS`. */
export function styxlab(args: string[], input?: Uint8Array): Promise<RunResult> {
  return run(process.execPath, [STYXLAB, ...args], { input, env: process.env });
}

export interface Peer {
  /** The child process, when the peer is one (nbd-server daemonises). */
  proc?: ChildProcess;
  port: number;
  uri(exportName?: string): string;
  log(): string;
  stop(): Promise<void>;
}

function track(proc: ChildProcess): { log: () => string; stop: () => Promise<void> } {
  let log = '';
  proc.stdout?.setEncoding('utf8').on('data', (s: string) => { log += s; });
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => { log += s; });
  const kill = () => proc.kill('SIGKILL');
  process.once('exit', kill);
  return {
    log: () => log,
    stop: async () => { await stopProcess(proc); process.removeListener('exit', kill); },
  };
}

/** Polls (25 ms, at most 15 s) until f gives a value or the process exits. */
async function waitFor<T>(proc: ChildProcess, f: () => T | undefined, what: string, log: () => string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = f();
    if (v !== undefined) return v;
    if (proc.exitCode !== null || proc.signalCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what} did not start:\n${log()}`);
}

/** `styxlab serve` with NBD on a kernel-chosen port of 127.0.0.1. */
export async function startServeNbd(args: string[] = [], nodeArgs: string[] = []): Promise<Peer & { ninep: string }> {
  const s = await startServe(['--nbd', 'tcp!127.0.0.1!0', ...args], nodeArgs);
  const port = await waitFor(s.proc, () => {
    const m = /NBD on tcp!127\.0\.0\.1!(\d+)/.exec(s.stdout());
    return m ? Number(m[1]) : undefined;
  }, 'styxlab serve --nbd', () => s.stdout() + s.stderr());
  return {
    proc: s.proc, port, ninep: s.address,
    uri: (name = '') => `nbd://127.0.0.1:${port}/${encodeURIComponent(name)}`,
    log: () => s.stdout() + s.stderr(),
    stop: () => s.stop(),
  };
}

/** nbdkit PLUGIN ARGS on 127.0.0.1, port 0 (read back from /proc). */
export async function startNbdkit(pluginArgs: string[]): Promise<Peer> {
  const proc = spawn('nbdkit', ['-f', '--exit-with-parent', '-i', '127.0.0.1', '-p', '0', ...pluginArgs], { env: PEER_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const t = track(proc);
  const port = await waitFor(proc, () => listeningPort(proc.pid!), 'nbdkit', t.log);
  return { proc, port, uri: (name = '') => `nbd://127.0.0.1:${port}/${encodeURIComponent(name)}`, ...t };
}

/** qemu-nbd serving a raw image on 127.0.0.1 (persistent, so it takes many connections). */
export async function startQemuNbd(image: string, exportName = 'img'): Promise<Peer> {
  const proc = spawn('qemu-nbd', ['-f', 'raw', '-b', '127.0.0.1', '-p', '0', '-t', '-e', '8', '-x', exportName, image], { env: PEER_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const t = track(proc);
  const port = await waitFor(proc, () => listeningPort(proc.pid!), 'qemu-nbd', t.log);
  return { proc, port, uri: (name = exportName) => `nbd://127.0.0.1:${port}/${encodeURIComponent(name)}`, ...t };
}

/** nbd-server exporting an image as 'disk' on a unix socket in a temp dir (foreground, no TCP). */
export async function startNbdServer(image: string): Promise<Peer & { socket: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'styxlab-nbd-server-'));
  const socket = join(dir, 'sock');
  const conf = join(dir, 'conf');
  writeFileSync(conf, `[generic]\n  listenaddr = 127.0.0.1\n  allowlist = true\n  unixsock = ${socket}\n[disk]\n  exportname = ${image}\n`);
  const pidFile = join(dir, 'pid');
  // nbd-server daemonises; its pid file names the process to stop.
  const r = await run('nbd-server', ['-C', conf, '-p', pidFile]);
  if (r.code !== 0) throw new Error(`nbd-server: ${r.stderr}`);
  const proc = { pid: 0 };
  for (let i = 0; i < 600 && (!existsSync(socket) || !existsSync(pidFile)); i++) await new Promise((res) => setTimeout(res, 25));
  if (!existsSync(pidFile)) throw new Error('nbd-server did not start');
  proc.pid = Number(readFileSync(pidFile, 'utf8').trim());
  const kill = () => { try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ } };
  process.once('exit', kill);
  return {
    port: 0, socket,
    uri: (name = 'disk') => `nbd+unix:///${encodeURIComponent(name)}?socket=${socket}`,
    log: () => '',
    stop: async () => {
      try { process.kill(proc.pid, 'SIGTERM'); } catch { /* gone */ }
      // Bounded: 200 polls of 25 ms for the daemon to go.
      for (let i = 0; i < 200; i++) {
        try { process.kill(proc.pid, 0); } catch { break; }
        await new Promise((res) => setTimeout(res, 25));
      }
      kill();
      process.removeListener('exit', kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
