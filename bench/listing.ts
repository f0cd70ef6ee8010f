// The listing rows of bench:serve (issue 12: /ram listings were quadratic): diodls, diod's own
// client, lists a directory of ENTRIES files (default 100,000) from styxlab's /ram and from diod's
// export (a tmpfs directory), output to /dev/null, best of RUNS. Each listing is checked once for
// the names it must show; the growth of serve's RSS while the files are created is printed too.
// Run alone (`node --import tsx bench/listing.ts`), it also lists diod's directory with `styxlab 9p
// ls` against diodls: whole commands, wall and CPU seconds (user + sys) and peak RSS from GNU time.
//
// Environment: BENCH_LIST_ENTRIES (default 100000), BENCH_LIST_RUNS (default 3).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { L_O_RDWR, NOFID } from '../shared/ninep/index.ts';
import { startDiod } from '../test/support/diod.ts';
import { STYXLAB, startServe } from '../test/support/styxlab.ts';
import { Wire, expect } from '../test/support/wire.ts';

const ENTRIES = Number(process.env.BENCH_LIST_ENTRIES ?? 100_000);
const RUNS = Number(process.env.BENCH_LIST_RUNS ?? 3);
const DIR = 'listing';
const name = (i: number): string => `entry-${i}`;

/** diodls's output and its wall time. */
function diodls(hostPort: string, aname: string, path: string, keep: boolean): Promise<{ out: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const p = spawn('/usr/sbin/diodls', ['-s', hostPort, '-a', aname, path], { stdio: ['ignore', keep ? 'pipe' : 'ignore', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    p.stdout?.on('data', (b: Buffer) => chunks.push(b));
    p.stderr!.setEncoding('utf8').on('data', (s: string) => { err += s; });
    p.on('error', reject);
    p.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (code !== 0) reject(new Error(`diodls against ${hostPort} failed (${code}): ${err.slice(0, 500)}`));
      else resolve({ out: Buffer.concat(chunks).toString('utf8'), seconds });
    });
  });
}

/** The CPU time a process has used (all its threads), in seconds: less disturbed by a busy machine than wall time. */
function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in USER_HZ (100) ticks
}

/** Resident memory of a process, in bytes. */
function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
}

/** Best wall time of RUNS and the server's mean CPU per listing, after one run whose output must hold every entry once. */
async function timeListing(hostPort: string, aname: string, pid: number): Promise<{ seconds: number; cpu: number }> {
  const { out } = await diodls(hostPort, aname, DIR, true);
  const names = out.split('\n').filter((l) => l.startsWith('entry-'));
  if (names.length !== ENTRIES || new Set(names).size !== ENTRIES) {
    throw new Error(`diodls from ${hostPort} listed ${names.length} entries (${new Set(names).size} distinct), not ${ENTRIES}`);
  }
  let best = Infinity;
  const cpu0 = cpuOf(pid);
  for (let i = 0; i < RUNS; i++) best = Math.min(best, (await diodls(hostPort, aname, DIR, false)).seconds);
  return { seconds: best, cpu: (cpuOf(pid) - cpu0) / RUNS };
}

/** Makes ram/DIR with ENTRIES empty files over 9P2000.L, 64 creates in flight. */
async function fillRam(port: number): Promise<void> {
  const w = await Wire.versioned(port, '9P2000.L');
  try {
    expect(await w.call({ type: 'Tattach', fid: 1, afid: NOFID, uname: 'bench', aname: 'ram', nUname: 0 }), 'Rattach');
    expect(await w.call({ type: 'Tmkdir', dfid: 1, name: DIR, mode: 0o755, gid: 0 }), 'Rmkdir');
    expect(await w.call({ type: 'Twalk', fid: 1, newfid: 2, wnames: [DIR] }), 'Rwalk');
    const create = async (i: number): Promise<void> => {
      const fid = 100 + (i % 64);
      expect(await w.call({ type: 'Twalk', fid: 2, newfid: fid, wnames: [] }), 'Rwalk');
      expect(await w.call({ type: 'Tlcreate', fid, name: name(i), flags: L_O_RDWR, mode: 0o644, gid: 0 }), 'Rlcreate');
      expect(await w.call({ type: 'Tclunk', fid }), 'Rclunk');
    };
    for (let i = 0; i < ENTRIES; i += 64) {
      await Promise.all(Array.from({ length: Math.min(64, ENTRIES - i) }, (_, k) => create(i + k)));
    }
  } finally {
    w.close();
  }
}

/** Fills both servers' directories and prints the row through `row` (label, styxlab, diod, digits, ratio). */
export async function listingRows(
  styx: { port: number; hostPort: string; proc: ChildProcess },
  diod: { hostPort: string; exportDir: string; proc: ChildProcess },
  row: (label: string, s: number, d: number, digits?: number, ratio?: number) => void,
): Promise<void> {
  const rss0 = rssOf(styx.proc.pid!);
  await fillRam(styx.port);
  const rssPerFile = (rssOf(styx.proc.pid!) - rss0) / ENTRIES;
  mkdirSync(join(diod.exportDir, DIR));
  for (let i = 0; i < ENTRIES; i++) writeFileSync(join(diod.exportDir, DIR, name(i)), '');
  const s = await timeListing(styx.hostPort, 'ram', styx.proc.pid!);
  const d = await timeListing(diod.hostPort, diod.exportDir, diod.proc.pid!);
  row(`diodls ${ENTRIES.toLocaleString('en-US')} entries seconds`, s.seconds, d.seconds, 3, d.seconds / s.seconds);
  row('  server CPU seconds', s.cpu, d.cpu, 3, d.cpu / s.cpu);
  console.log(`  styxlab serve RSS per /ram file: ${Math.round(rssPerFile)} bytes (growth while creating them)`);
}

/** A listing command under GNU time, output to /dev/null: wall seconds, CPU seconds, peak RSS. */
function timed(cmd: string, args: string[]): Promise<{ seconds: number; cpu: number; rss: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const p = spawn('/usr/bin/time', ['-f', 'rusage %U %S %M', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.setEncoding('utf8').on('data', (s: string) => { err += s; });
    p.on('error', reject);
    p.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const u = /rusage ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(err);
      if (code !== 0 || !u) reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err.slice(0, 500)}`));
      else resolve({ seconds, cpu: Number(u[1]) + Number(u[2]), rss: Number(u[3]) * 1024 });
    });
  });
}

/** `styxlab 9p ls` against diodls, both listing diod's DIR; best wall and CPU of RUNS, largest RSS. */
async function cliRows(diod: { address: string; hostPort: string; exportDir: string }): Promise<void> {
  const cli = [STYXLAB, '9p', '-a', diod.address, '-A', diod.exportDir, '-u', 'nobody', 'ls', `/${DIR}`];
  const check = await new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, cli, { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => chunks.push(b));
    p.on('error', reject);
    p.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
  const names = check.split('\n').filter((l) => l.startsWith('entry-'));
  if (names.length !== ENTRIES) throw new Error(`styxlab 9p ls listed ${names.length} entries, not ${ENTRIES}`);
  const bestOf = async (cmd: string, args: string[]) => {
    const b = { seconds: Infinity, cpu: Infinity, rss: 0 };
    for (let i = 0; i < RUNS; i++) {
      const r = await timed(cmd, args);
      b.seconds = Math.min(b.seconds, r.seconds);
      b.cpu = Math.min(b.cpu, r.cpu);
      b.rss = Math.max(b.rss, r.rss);
    }
    return b;
  };
  const s = await bestOf(process.execPath, cli);
  const d = await bestOf('/usr/sbin/diodls', ['-s', diod.hostPort, '-a', diod.exportDir, DIR]);
  const row = (label: string, a: number, b: number, digits: number) =>
    console.log(`${label.padEnd(40)}${a.toFixed(digits).padStart(10)}${b.toFixed(digits).padStart(10)}${(b / a).toFixed(2).padStart(8)}`);
  console.log(`styxlab 9p ls vs diodls, both from diod (process included), best of ${RUNS}`);
  row(`ls ${ENTRIES.toLocaleString('en-US')} entries seconds`, s.seconds, d.seconds, 3);
  row('  client CPU seconds', s.cpu, d.cpu, 3);
  row('  client max RSS MiB', s.rss / 2 ** 20, d.rss / 2 ** 20, 1);
}

if (process.argv[1]?.endsWith('listing.ts')) {
  const scratch = mkdtempSync(join('/dev/shm', 'styxlab-bench-list-'));
  const styx = await startServe([]);
  const diod = await startDiod({ exportDir: scratch });
  try {
    console.log(`styxlab serve vs diod, diodls, best of ${RUNS}; server CPU per listing (ratio: diod / styxlab, above 1: styxlab ahead)`);
    await listingRows(styx, { hostPort: `127.0.0.1:${diod.port}`, exportDir: scratch, proc: diod.proc }, (label, s, d, digits = 3, ratio = d / s) => {
      console.log(`${label.padEnd(40)}${s.toFixed(digits).padStart(10)}${d.toFixed(digits).padStart(10)}${ratio.toFixed(2).padStart(8)}`);
    });
    await cliRows({ address: `tcp!127.0.0.1!${diod.port}`, hostPort: `127.0.0.1:${diod.port}`, exportDir: scratch });
  } finally {
    await Promise.all([styx.stop(), diod.stop()]);
    rmSync(scratch, { recursive: true, force: true });
  }
}
