// bench:client: reading 256 MiB from a real diod (file on tmpfs), in one run:
//   1. `styxlab 9p read` against `diodcat`, both straight from diod at the same msize (64 KiB,
//      where diod caps it), whole commands with process start included, output to /dev/null;
//      and the client library alone (in this process, no start-up);
//   2. `diodcat` through a styxlab mount of diod against `diodcat` straight from diod;
//   3. a larger msize, which diod does not offer: `styxlab 9p read` at 1 MiB against diodcat at
//      64 KiB, both from styxlab serve's ram.
// Each command's output is checked once (through a pipe, untimed); the timed runs write to
// /dev/null, so neither side pays for a consumer. Prints MB/s for each and the ratios; for the
// commands also CPU seconds (user + sys) and peak RSS from GNU time, which a busy machine
// disturbs less than wall time.
// Usage: npm run bench:client [-- --mib N --runs N]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '../shared/client/index.ts';
import { dial } from '../server/net/transport.ts';
import { startDiod } from '../test/support/diod.ts';
import { STYXLAB, startServe } from '../test/support/styxlab.ts';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, runs: { type: 'string', default: '3' } } });
const MIB = Number(values.mib);
const RUNS = Number(values.runs);
const SIZE = MIB * 1024 * 1024;
/** diod's msize, and diodcat's default. */
const MSIZE = 65536;
const BIG_MSIZE = (1 << 20) + 24;

interface Run {
  s: number;
  bytes: number;
  /** User + system CPU seconds and peak RSS in bytes, for commands (run under GNU time). */
  cpu?: number;
  rss?: number;
}

const TIME = '/usr/bin/time';

/** Runs a command under GNU time with stdout to fd (a pipe counted by us when fd is 'pipe'). */
function run(cmd: string, args: string[], fd: number | 'pipe'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(TIME, ['-f', 'rusage %U %S %M', cmd, ...args], { stdio: ['ignore', fd, 'pipe'] });
    let bytes = 0;
    let err = '';
    p.stdout?.on('data', (b: Buffer) => { bytes += b.length; });
    p.stderr!.setEncoding('utf8').on('data', (s: string) => { err += s; });
    p.once('error', reject);
    p.once('close', (code) => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      const u = /rusage ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(err);
      if (code !== 0 || !u) reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err}`));
      else resolve({ s, bytes, cpu: Number(u[1]) + Number(u[2]), rss: Number(u[3]) * 1024 });
    });
  });
}

const devnull = openSync('/dev/null', 'w');

const checked = new Set<string>();

/** A command, timed with its output to /dev/null; its first run is through a pipe, untimed, to count the bytes. */
async function command(cmd: string, args: string[]): Promise<Run> {
  const key = [cmd, ...args].join(' ');
  if (!checked.has(key)) {
    const check = await run(cmd, args, 'pipe');
    if (check.bytes !== SIZE) return check;
    checked.add(key);
  }
  return { ...(await run(cmd, args, devnull)), bytes: SIZE };
}

/** MB/s of the best wall time of RUNS, and (for commands) the least CPU seconds and largest peak RSS. */
async function best(label: string, f: () => Promise<Run>): Promise<{ mbs: number; cpu: number }> {
  let min = Infinity;
  let cpu = Infinity;
  let rss = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = await f();
    if (r.bytes !== SIZE) throw new Error(`${label}: read ${r.bytes} bytes, expected ${SIZE}`);
    min = Math.min(min, r.s);
    cpu = Math.min(cpu, r.cpu ?? Infinity);
    rss = Math.max(rss, r.rss ?? 0);
  }
  const mbs = SIZE / 1e6 / min;
  const usage = rss ? `  cpu ${cpu.toFixed(2)} s  max RSS ${(rss / 2 ** 20).toFixed(0).padStart(4)} MiB` : '';
  console.log(`${label.padEnd(60)} ${min.toFixed(3)} s  ${mbs.toFixed(0).padStart(6)} MB/s${usage}`);
  return { mbs, cpu };
}

const dir = mkdtempSync('/dev/shm/styxlab-bench-');
chmodSync(dir, 0o755);
const data = randomBytes(SIZE);
writeFileSync(join(dir, 'big'), data);
const diod = await startDiod({ exportDir: dir });
const budget = String(4 * SIZE);
const serve = await startServe(['--mount', `diod=${diod.address},aname=${dir}`, '--ram-budget', budget, '--max-file-size', budget]);
await serve.logged(/at \/diod/);
try {
  {
    const c = await Client.connect(await dial(serve.address), { aname: 'ram', uname: 'bench' });
    await c.writeFile('/big', data);
    await c.end();
  }
  console.log(`reading ${MIB} MiB, best of ${RUNS} runs, output to /dev/null; diod on ${diod.address}, styxlab serve on ${serve.address}`);
  console.log(`at msize ${MSIZE} (diod's cap, diodcat's default):`);
  const diodcat = await best('diodcat from diod', () => command('diodcat', ['-s', `127.0.0.1:${diod.port}`, '-m', String(MSIZE), '-a', dir, 'big']));
  const cli = await best('styxlab 9p read from diod (process included)', () =>
    command(process.execPath, [STYXLAB, '9p', '-a', diod.address, '-A', dir, '-u', 'nobody', '-m', String(MSIZE), 'read', '/big']));
  const lib = await best('styxlab client library from diod (in process)', async () => {
    // As the command reads: one receive buffer, one ring of reads.
    const c = await Client.connect(await dial(diod.address, { receiveBuffer: 1 << 20 }), { aname: dir, uname: 'nobody', msize: MSIZE });
    const t0 = process.hrtime.bigint();
    let bytes = 0;
    const f = await c.open('/big');
    for await (const chunk of f.stream({ reuse: true })) bytes += chunk.length;
    await f.close();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    await c.end();
    return { s, bytes };
  });
  const mounted = await best('diodcat through a styxlab mount of diod', () => command('diodcat', ['-s', serve.hostPort, '-m', String(MSIZE), '-a', 'diod', 'big']));
  console.log(`from styxlab serve's ram:`);
  const ramCat = await best(`diodcat, msize ${MSIZE}`, () => command('diodcat', ['-s', serve.hostPort, '-m', String(MSIZE), '-a', 'ram', 'big']));
  const ramCli = await best(`styxlab 9p read, msize ${BIG_MSIZE}`, () =>
    command(process.execPath, [STYXLAB, '9p', '-a', serve.address, '-A', 'ram', '-m', String(BIG_MSIZE), 'read', '/big']));
  console.log('');
  console.log(`ratio styxlab 9p read / diodcat, same msize:              ${(cli.mbs / diodcat.mbs).toFixed(2)}x (goal >= 1.0x)`);
  console.log(`  CPU seconds, diodcat / styxlab 9p read:                 ${(diodcat.cpu / cli.cpu).toFixed(2)}x`);
  console.log(`ratio client library / diodcat, same msize:               ${(lib.mbs / diodcat.mbs).toFixed(2)}x`);
  console.log(`ratio through styxlab mount / direct (diodcat):           ${(mounted.mbs / diodcat.mbs).toFixed(2)}x (goal >= 0.8x)`);
  console.log(`ratio styxlab 9p read at 1 MiB / diodcat at 64 KiB (ram): ${(ramCli.mbs / ramCat.mbs).toFixed(2)}x`);
} finally {
  closeSync(devnull);
  await serve.stop();
  await diod.stop();
  rmSync(dir, { recursive: true, force: true });
}
