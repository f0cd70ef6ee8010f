// `npm run bench:serve`: `styxlab serve` and diod side by side, driven by the same clients (diod's
// own diodload and diodcat) in the same run:
//
//   diodload, read/write mode: 16 threads each read an iounit of zero and write it to null (aname
//     "ctl": diod's control file system; styxlab answers it with its dev mount)
//   diodload, getattr mode: 16 threads getattr null
//   diodload, read/write mode with 128 threads (connections), where one core is serve's limit.
//     diod listens with a backlog of 5, so a few of diodload's connections, all made at once, can
//     be reset (more often the more there are: at 256, most runs), and now and then a run never
//     ends: such a run is made again
//   diodcat: reads a 256 MiB file (styxlab: from ram, written there first over 9P; diod: from a
//     tmpfs directory under /dev/shm)
//   writing 64 MiB into ram and into diod's directory over 9P2000.L, with the writes the clients
//     make at diod's 64 KiB msize (msize - IOHDRSZ bytes each, 8 in flight); the 256 MiB file is
//     put into ram the same way, so a slow path for small writes shows in both
//   diodls: lists a directory of 100,000 files (bench/listing.ts)
//
// Each figure is printed for both servers with the ratio styxlab/diod (above 1: styxlab is faster).
// The server CPU time per operation is printed too: it is less disturbed than throughput when
// other work shares the machine.
//
// Environment: BENCH_SECONDS (diodload run time, default 5), BENCH_THREADS (default 16),
// BENCH_MANY (threads of the many-connection row, default 128),
// BENCH_MB (diodcat file size, default 256), BENCH_CAT_RUNS (default 3), BENCH_WRITE_MB (default 64),
// STYXLAB_CPU_PROF=DIR (run styxlab serve under node --cpu-prof, profiles written to DIR at exit).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IOHDRSZ, L_O_RDWR, NOFID } from '../shared/ninep/index.ts';
import { startDiod } from '../test/support/diod.ts';
import { startServe } from '../test/support/styxlab.ts';
import { Wire, expect } from '../test/support/wire.ts';
import { listingRows } from './listing.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const THREADS = Number(process.env.BENCH_THREADS ?? 16);
const MANY = Number(process.env.BENCH_MANY ?? 128);
const MB = Number(process.env.BENCH_MB ?? 256);
const CAT_RUNS = Number(process.env.BENCH_CAT_RUNS ?? 3);
const WRITE_MB = Number(process.env.BENCH_WRITE_MB ?? 64);
/** diod's msize (it caps there), at which diodcat and Linux v9fs talk to both servers. */
const MSIZE = 65536;
const PROF = process.env.STYXLAB_CPU_PROF;
const BIN = '/usr/sbin';

interface Load { ops: number; rMB: number; wMB: number; cpuUsPerOp: number }

/** utime + stime of a process (all its threads), in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // fields 14 and 15, in clock ticks (USER_HZ 100)
}

function run(cmd: string, args: string[], stdoutFd?: number, limitSeconds = SECONDS + 120): Promise<{ code: number | null; out: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const p = spawn(cmd, args, { stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'] });
    let out = '';
    p.stdout?.setEncoding('utf8').on('data', (s: string) => { out += s; });
    p.stderr!.setEncoding('utf8').on('data', (s: string) => { out += s; });
    const timer = setTimeout(() => p.kill('SIGKILL'), limitSeconds * 1000);
    p.on('error', (e) => { clearTimeout(timer); reject(e); });
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, seconds: Number(process.hrtime.bigint() - start) / 1e9 });
    });
  });
}

async function diodload(hostPort: string, serverPid: number, getattr: boolean, threads = THREADS): Promise<Load> {
  let cpu0 = cpuSeconds(serverPid);
  const args = ['-s', hostPort, '-n', String(threads), '-r', String(SECONDS), ...(getattr ? ['-g'] : [])];
  const limit = SECONDS + 30;
  let r = await run(`${BIN}/diodload`, args, undefined, limit);
  // A connection reset while connecting (a full listen backlog, see above): that run had fewer
  // threads. A run killed at its time limit (code null) measured nothing.
  const failed = () => r.code === null || r.out.includes('error negotiating protocol with server: Connection reset by peer');
  for (let again = 0; again < 3 && failed(); again++) {
    cpu0 = cpuSeconds(serverPid);
    r = await run(`${BIN}/diodload`, args, undefined, limit);
  }
  const cpu = cpuSeconds(serverPid) - cpu0;
  const all = [...r.out.matchAll(/diodload: (\d+) ops\/s, (\d+) rMB\/s, (\d+) wMB\/s/g)];
  const m = all[all.length - 1];
  const errors = r.out.replace(/diodload: \d+ ops\/s, \d+ rMB\/s, \d+ wMB\/s/g, '').trim();
  if (r.code !== 0 || !m || errors) throw new Error(`diodload against ${hostPort} failed (${r.code}): ${r.out.trim().slice(0, 2000)}`);
  const ops = Number(m[1]);
  return { ops, rMB: Number(m[2]), wMB: Number(m[3]), cpuUsPerOp: ops > 0 ? (cpu * 1e6) / (ops * SECONDS) : NaN };
}

/** Seconds for diodcat to read the file to /dev/null (best of CAT_RUNS), and the server CPU of that run. */
async function diodcat(hostPort: string, serverPid: number, aname: string, file: string): Promise<{ seconds: number; cpu: number }> {
  let best = { seconds: Infinity, cpu: 0 };
  const devnull = openSync('/dev/null', 'w');
  try {
    for (let i = 0; i < CAT_RUNS; i++) {
      const cpu0 = cpuSeconds(serverPid);
      const r = await run(`${BIN}/diodcat`, ['-s', hostPort, '-a', aname, file], devnull);
      const cpu = cpuSeconds(serverPid) - cpu0;
      if (r.code !== 0) throw new Error(`diodcat against ${hostPort} failed (${r.code}): ${r.out}`);
      if (r.seconds < best.seconds) best = { seconds: r.seconds, cpu };
    }
  } finally {
    closeSync(devnull);
  }
  return best;
}

/** diodcat's output, once, compared with the file's bytes (a fast run of wrong bytes proves nothing). */
async function checkCat(hostPort: string, aname: string, file: string, want: Buffer, scratch: string): Promise<void> {
  const out = join(scratch, `check-${hostPort.replace(/\W/g, '_')}`);
  const fd = openSync(out, 'w');
  try {
    const r = await run(`${BIN}/diodcat`, ['-s', hostPort, '-a', aname, file], fd);
    if (r.code !== 0) throw new Error(`diodcat against ${hostPort} failed: ${r.out}`);
  } finally {
    closeSync(fd);
  }
  const got = readFileSync(out);
  rmSync(out);
  if (!got.equals(want)) throw new Error(`diodcat from ${hostPort}: ${got.length} bytes, not the ${want.length} written`);
}

/**
 * Creates aname/NAME over 9P2000.L at msize 64 KiB and writes data into it as the clients do:
 * msize - IOHDRSZ bytes per Twrite, 8 in flight. Resolves with the seconds from the first Twrite
 * to the last Rwrite.
 */
async function writeFile(port: number, aname: string, name: string, data: Uint8Array): Promise<number> {
  const chunk = MSIZE - IOHDRSZ;
  const w = await Wire.versioned(port, '9P2000.L', MSIZE);
  try {
    expect(await w.call({ type: 'Tattach', fid: 1, afid: NOFID, uname: 'bench', aname, nUname: 0 }), 'Rattach');
    expect(await w.call({ type: 'Tlcreate', fid: 1, name, flags: L_O_RDWR, mode: 0o644, gid: 0 }), 'Rlcreate');
    const t0 = process.hrtime.bigint();
    const inflight: Array<Promise<unknown>> = [];
    for (let off = 0; off < data.length; off += chunk) {
      const part = data.subarray(off, Math.min(data.length, off + chunk));
      inflight.push(w.call({ type: 'Twrite', fid: 1, offset: BigInt(off), data: part }).then((r) => {
        if (expect(r, 'Rwrite').count !== part.length) throw new Error('short write');
      }));
      if (inflight.length >= 8) await inflight.shift();
    }
    await Promise.all(inflight);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    expect(await w.call({ type: 'Tclunk', fid: 1 }), 'Rclunk');
    return seconds;
  } finally {
    w.close();
  }
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function row(label: string, s: number, d: number, digits = 0, ratio = s / d): void {
  console.log(`${label.padEnd(34)}${fmt(s, digits).padStart(12)}${fmt(d, digits).padStart(12)}${ratio.toFixed(2).padStart(9)}`);
}

async function main(): Promise<void> {
  for (const t of ['diod', 'diodload', 'diodcat']) {
    if (!existsSync(`${BIN}/${t}`)) throw new Error(`${BIN}/${t} is missing: install Debian's diod package`);
  }
  const shm = existsSync('/dev/shm') ? '/dev/shm' : undefined;
  const scratch = mkdtempSync(join(shm ?? '/tmp', 'styxlab-bench-'));
  const data = randomBytes(MB << 20);
  writeFileSync(join(scratch, 'big'), data);
  // Room for both files with growth to spare; the limits are round numbers, not the file's size.
  const budget = String(Math.max(1, 4 * (MB + WRITE_MB)) << 20);
  // Connection slots to spare for the many-connection row (diod has no such limit).
  const styx = await startServe(['--ram-budget', budget, '--max-file-size', budget, '--max-connections', String(MANY + 64)],
    PROF ? ['--cpu-prof', '--cpu-prof-dir', PROF] : []);
  // diodload attaches "ctl", diod's control file system, which must be exported too.
  const diod = await startDiod({ exportDir: scratch, args: ['-e', 'ctl'] });
  try {
    const sPid = styx.proc.pid!;
    const dPid = diod.proc.pid!;
    await writeFile(styx.port, 'ram', 'big', data);
    await checkCat(styx.hostPort, 'ram', 'big', data, scratch);
    await checkCat(`127.0.0.1:${diod.port}`, scratch, 'big', data, scratch);

    console.log(`styxlab serve vs diod (diodload: ${THREADS} threads, ${SECONDS} s per run; diodcat: ${MB} MiB, best of ${CAT_RUNS})`);
    console.log(`${''.padEnd(34)}${'styxlab'.padStart(12)}${'diod'.padStart(12)}${'ratio'.padStart(9)}`);
    for (const getattr of [false, true]) {
      const s = await diodload(styx.hostPort, sPid, getattr);
      const d = await diodload(`127.0.0.1:${diod.port}`, dPid, getattr);
      const mode = getattr ? 'getattr' : 'read/write';
      row(`diodload ${mode} ops/s`, s.ops, d.ops);
      if (!getattr) {
        row('  read MB/s', s.rMB, d.rMB);
        row('  write MB/s', s.wMB, d.wMB);
      }
      row(`  server CPU us/op`, s.cpuUsPerOp, d.cpuUsPerOp, 1, d.cpuUsPerOp / s.cpuUsPerOp);
    }
    const sm = await diodload(styx.hostPort, sPid, false, MANY);
    const dm = await diodload(`127.0.0.1:${diod.port}`, dPid, false, MANY);
    row(`diodload read/write, ${MANY} conns`, sm.ops, dm.ops);
    row(`  server CPU us/op`, sm.cpuUsPerOp, dm.cpuUsPerOp, 1, dm.cpuUsPerOp / sm.cpuUsPerOp);
    const sc = await diodcat(styx.hostPort, sPid, 'ram', 'big');
    const dc = await diodcat(`127.0.0.1:${diod.port}`, dPid, scratch, 'big');
    row(`diodcat ${MB} MiB seconds`, sc.seconds, dc.seconds, 3, dc.seconds / sc.seconds);
    row('  MB/s', (MB * 1.048576) / sc.seconds, (MB * 1.048576) / dc.seconds);
    row('  server CPU seconds', sc.cpu, dc.cpu, 2, dc.cpu / sc.cpu);
    const wdata = data.subarray(0, WRITE_MB << 20);
    const sw = await writeFile(styx.port, 'ram', 'written', wdata);
    const dw = await writeFile(diod.port, scratch, 'written', wdata);
    await checkCat(styx.hostPort, 'ram', 'written', wdata, scratch);
    await checkCat(`127.0.0.1:${diod.port}`, scratch, 'written', wdata, scratch);
    row(`write ${WRITE_MB} MiB, 64 KiB writes, s`, sw, dw, 3, dw / sw);
    row('  MB/s', (WRITE_MB * 1.048576) / sw, (WRITE_MB * 1.048576) / dw);
    await listingRows(styx, { hostPort: `127.0.0.1:${diod.port}`, exportDir: scratch, proc: diod.proc }, row);
    console.log('(ratio: styxlab/diod throughput; for seconds and CPU, diod/styxlab, so above 1 is always styxlab ahead)');
  } finally {
    await Promise.all([styx.stop(), diod.stop()]);
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
