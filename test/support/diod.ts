// Starts a real diod (Debian's /usr/sbin/diod) exporting a temporary directory on 127.0.0.1, on a
// port the kernel picks: diod listens on port 0 and the port is read back from /proc, so there
// is no window in which another process can take a port chosen in advance.
//
//   const d = await startDiod();        // d.port, d.address ('tcp!127.0.0.1!PORT'), d.exportDir
//   ... attach with aname = d.exportDir ...
//   await d.stop();                     // SIGTERM (SIGKILL if it lingers); removes the temp dir
//
// Every uname is squashed to the user running the tests (-S -U), so attaching as any user works
// with diod running as root or not. diod is also killed if the test process exits first.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const DIOD = '/usr/sbin/diod';

export interface DiodOptions {
  /** Directory to export; default a fresh temporary directory, removed by stop(). */
  exportDir?: string;
  /** Extra diod flags, e.g. ['-d', '1'] to log every 9P message. */
  args?: string[];
}

export interface Diod {
  port: number;
  /** Dial string for the client: tcp!127.0.0.1!PORT. */
  address: string;
  /** The exported directory; also the aname to attach. */
  exportDir: string;
  proc: ChildProcess;
  /** diod's stderr so far. */
  log(): string;
  /** Stops diod (SIGTERM, then SIGKILL after 5 s) and removes a temporary export. */
  stop(): Promise<void>;
}

function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]);
    } catch {
      // fd closed meanwhile
    }
  }
  return out;
}

/** Process pid's TCP sockets from /proc/net/tcp: state (0A is LISTEN) and local address (hex ip:port). */
function tcpSockets(pid: number): Array<{ state: string; local: string }> {
  const inodes = socketInodes(pid);
  if (inodes.size === 0) return [];
  const out: Array<{ state: string; local: string }> = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    // local_address rem_address st ... inode
    const f = line.trim().split(/\s+/);
    if (f.length >= 10 && inodes.has(f[9])) out.push({ state: f[3], local: f[1] });
  }
  return out;
}

/** The 127.0.0.1 TCP port that process pid listens on, if it does yet. */
export function listeningPort(pid: number): number | undefined {
  for (const s of tcpSockets(pid)) {
    const [ip, port] = s.local.split(':');
    if (s.state === '0A' && ip === '0100007F') return parseInt(port, 16); // 0100007F is 127.0.0.1
  }
  return undefined;
}

/** How many connections process pid has besides its listening sockets. */
function connections(pid: number): number {
  return tcpSockets(pid).filter((s) => s.state !== '0A').length;
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

export async function startDiod(opts: DiodOptions = {}): Promise<Diod> {
  if (!existsSync(DIOD)) throw new Error(`${DIOD} not found: install the Debian package diod`);
  const temp = opts.exportDir === undefined;
  const exportDir = opts.exportDir ?? mkdtempSync(join(tmpdir(), 'styxlab-diod-'));
  const user = userInfo().username;
  // -f foreground, -n no auth, -c /dev/null: ignore the machine's /etc/diod.conf.
  const args = ['-f', '-n', '-c', '/dev/null', '-L', 'stderr', '-S', '-U', user, '-e', exportDir, '-l', '127.0.0.1:0', ...(opts.args ?? [])];
  const proc = spawn(DIOD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (s: string) => { log += s; });
  const killOnExit = () => { proc.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  const cleanup = () => {
    process.removeListener('exit', killOnExit);
    if (temp) rmSync(exportDir, { recursive: true, force: true });
  };
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      // diod 1.0.24 frees its path table on SIGTERM while worker threads may still be finishing a
      // connection's requests; a clunk then locks a NULL mutex and diod dumps core (seen in CI;
      // 17 of 20 stops right after a client sent 400 clunks and closed). Its connections close
      // first, for at most 1 s: a test that stops diod under a live client still stops it.
      for (let i = 0; i < 50 && proc.pid !== undefined && connections(proc.pid) > 0; i++) await new Promise((r) => setTimeout(r, 20));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited(proc);
      clearTimeout(t);
    }
    cleanup();
  };
  try {
    let port: number | undefined;
    // Bounded: 400 polls of 25 ms (10 s) on a busy machine.
    for (let i = 0; i < 400 && port === undefined; i++) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`diod exited at start:\n${log}`);
      await new Promise((r) => setTimeout(r, 25));
      port = proc.pid === undefined ? undefined : listeningPort(proc.pid);
    }
    if (port === undefined) throw new Error(`diod did not start listening:\n${log}`);
    return { port, address: `tcp!127.0.0.1!${port}`, exportDir, proc, log: () => log, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
