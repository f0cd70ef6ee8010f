// Proves the Linux-under-QEMU harness against real peers: Debian's kernel v9fs client mounts a real
// diod (9P2000.L) over TCP on 127.0.0.1, lists, reads and writes, and the host sees the writes.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { outputSection, prepareLinux, runInLinux } from '../support/linuxvm.ts';

const DIOD = '/usr/sbin/diod';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

interface Diod { proc: ChildProcess; port: number; log: () => string }

/** Starts diod on a free port and waits until it accepts connections. */
async function startDiod(exportDir: string): Promise<Diod> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    // -c /dev/null: ignore the machine's /etc/diod.conf. -d 1: trace 9P, to check what the kernel sent.
    const proc = spawn(DIOD, ['-f', '-n', '-c', '/dev/null', '-d', '1', '-L', 'stderr', '-e', exportDir, '-l', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    proc.stderr?.setEncoding('utf8').on('data', (s: string) => { log += s; });
    let exited = false;
    proc.once('exit', () => { exited = true; });
    for (let i = 0; i < 100 && !exited; i++) {
      if (await canConnect(port)) return { proc, port, log: () => log };
      await new Promise((r) => setTimeout(r, 100));
    }
    await stop(proc);
    // Lost the port to another process between probing and binding: try another one.
    if (!/Address already in use/.test(log)) throw new Error(`diod did not start:\n${log}`);
  }
  throw new Error('diod: no free port after 5 attempts');
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

/** QEMU processes that are children of this process: none may outlive a run. */
function qemuChildren(): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid ...
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (m && m[1].startsWith('qemu-system') && Number(m[2]) === process.pid) out.push(Number(pid));
    } catch { /* the process ended meanwhile */ }
  }
  return out;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('Linux v9fs client (QEMU) against diod', () => {
  let dir: string;
  let exportDir: string;
  let diod: Diod | undefined;

  before(async () => {
    await prepareLinux();
    dir = mkdtempSync(join(tmpdir(), 'styxlab-diod-kernel-'));
    // The kernel's first attach is as uname "nobody", whom diod (run as root) becomes for it:
    // mkdtemp's 0700 would stop that user at the parent directory (EACCES at mount).
    chmodSync(dir, 0o755);
    exportDir = join(dir, 'export');
    mkdirSync(exportDir);
    diod = await startDiod(exportDir);
  });

  after(async () => {
    if (diod) await stop(diod.proc);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('mounts, lists, reads, writes and unmounts', async () => {
    assert.ok(diod);
    const big = randomBytes(300_000); // several Rreads at diod's msize of 64 KiB
    writeFileSync(join(exportDir, 'hello.txt'), 'Hello from the host\n');
    writeFileSync(join(exportDir, 'big.bin'), big);
    mkdirSync(join(exportDir, 'sub'));
    writeFileSync(join(exportDir, 'sub', 'deep.txt'), 'deep\n');

    const script = `
set -e
mount9p /mnt version=9p2000.L aname=${exportDir}
echo "== mounts"; grep ' /mnt ' /proc/mounts
echo "== ls"; ls -l /mnt
echo "== cat"; cat /mnt/hello.txt
echo "== deep"; cat /mnt/sub/deep.txt
echo "== md5"; md5sum /mnt/big.bin
echo "written by the guest" > /mnt/from-guest.txt
dd if=/dev/urandom of=/tmp/r bs=1000 count=200 2>/dev/null
cp /tmp/r /mnt/guest.bin
echo "== guestmd5"; md5sum /tmp/r
umount /mnt
echo "== after"; grep -c ' /mnt ' /proc/mounts || true
`;
    const r = await runInLinux({ port: diod.port, script });
    const ctx = `output:\n${r.output}\nconsole:\n${r.console}`;
    assert.equal(r.code, 0, ctx);

    const section = (name: string): string => outputSection(r, name, ctx);
    assert.match(section('mounts'), /^\S+ \/mnt 9p .*trans=fd/m);
    const ls = section('ls');
    assert.match(ls, /^-\S+\s+1\s+\S+\s+\S+\s+20\s.*\shello\.txt$/m, ctx);
    assert.match(ls, /^-\S+\s+1\s+\S+\s+\S+\s+300000\s.*\sbig\.bin$/m, ctx);
    assert.match(ls, /^d\S+\s.*\ssub$/m, ctx);
    assert.equal(section('cat'), 'Hello from the host\n');
    assert.equal(section('deep'), 'deep\n');
    assert.equal(section('md5').split(/\s+/)[0], md5(big));
    assert.equal(section('after').trim(), '0', 'still mounted after umount');

    // What the guest wrote is on the host, byte for byte.
    assert.equal(readFileSync(join(exportDir, 'from-guest.txt'), 'utf8'), 'written by the guest\n');
    const guestBin = readFileSync(join(exportDir, 'guest.bin'));
    assert.equal(guestBin.length, 200_000);
    assert.equal(md5(guestBin), section('guestmd5').split(/\s+/)[0]);

    // It was the kernel client speaking: diod traced its 9P2000.L session.
    const log = diod.log();
    assert.match(log, /P9_TVERSION tag \d+ msize \d+ version '9P2000\.L'/, log);
    assert.match(log, new RegExp(`P9_TATTACH .*aname '${exportDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`), log);
  });

  it('returns the exit status and stderr of the script', async () => {
    const r = await runInLinux({ script: 'echo to-stdout; echo to-stderr >&2; printf no-newline; exit 7' });
    assert.equal(r.code, 7);
    assert.equal(r.output, 'to-stdout\nto-stderr\nno-newline');
  });

  it('fails clearly on timeout and leaves no QEMU behind', async () => {
    await assert.rejects(runInLinux({ script: 'sleep 600', timeoutMs: 15_000 }), /timed out after 15000 ms; QEMU killed/);
    // The kill is delivered; give the kernel a moment to reap it (bounded).
    for (let i = 0; i < 50 && qemuChildren().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(qemuChildren(), []);
  });
});

