// bench:client: reading 256 MiB from a real diod (file on tmpfs), in one run:
//   1. `styxlab 9p read` against `diodcat`, both straight from diod (whole commands, process start
//      included), and the client library alone (in this process, no start-up);
//   2. `diodcat` through a styxlab mount of diod against `diodcat` straight from diod.
// Prints MB/s for each and the ratios. Usage: npm run bench:client [-- --mib N --runs N]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

/** Runs a command with stdout counted and discarded; resolves with seconds taken and bytes seen. */
function timed(cmd: string, args: string[]): Promise<{ s: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let err = '';
    p.stdout.on('data', (b: Buffer) => { bytes += b.length; });
    p.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    p.once('error', reject);
    p.once('close', (code) => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err}`));
      else resolve({ s, bytes });
    });
  });
}

async function best(label: string, f: () => Promise<{ s: number; bytes: number }>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const r = await f();
    if (r.bytes !== SIZE) throw new Error(`${label}: read ${r.bytes} bytes, expected ${SIZE}`);
    min = Math.min(min, r.s);
  }
  const mbs = SIZE / 1e6 / min;
  console.log(`${label.padEnd(52)} ${min.toFixed(3)} s  ${mbs.toFixed(0).padStart(6)} MB/s`);
  return mbs;
}

const dir = mkdtempSync('/dev/shm/styxlab-bench-');
chmodSync(dir, 0o755);
writeFileSync(join(dir, 'big'), randomBytes(SIZE));
const diod = await startDiod({ exportDir: dir });
const serve = await startServe(['--mount', `diod=${diod.address},aname=${dir}`]);
await serve.logged(/at \/diod/);
try {
  console.log(`reading ${MIB} MiB, best of ${RUNS} runs; diod on ${diod.address}, styxlab on ${serve.address}`);
  const diodcat = await best('diodcat from diod', () => timed('diodcat', ['-s', `127.0.0.1:${diod.port}`, '-a', dir, 'big']));
  const cli = await best('styxlab 9p read from diod (process included)', () =>
    timed(process.execPath, [STYXLAB, '9p', '-a', diod.address, '-A', dir, '-u', 'nobody', 'read', '/big']));
  const lib = await best('styxlab client library from diod (in process)', async () => {
    const c = await Client.connect(await dial(diod.address), { aname: dir, uname: 'nobody', msize: 65536 });
    const t0 = process.hrtime.bigint();
    let bytes = 0;
    const f = await c.open('/big');
    for await (const chunk of f.stream()) bytes += chunk.length;
    await f.close();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    await c.end();
    return { s, bytes };
  });
  const mounted = await best('diodcat through a styxlab mount of diod', () => timed('diodcat', ['-s', serve.hostPort, '-a', 'diod', 'big']));
  console.log('');
  console.log(`ratio styxlab 9p read / diodcat:                ${(cli / diodcat).toFixed(2)}x (goal >= 1.0x)`);
  console.log(`ratio client library / diodcat:                 ${(lib / diodcat).toFixed(2)}x`);
  console.log(`ratio through styxlab mount / direct (diodcat): ${(mounted / diodcat).toFixed(2)}x (goal >= 0.8x)`);
} finally {
  await serve.stop();
  await diod.stop();
  rmSync(dir, { recursive: true, force: true });
}
