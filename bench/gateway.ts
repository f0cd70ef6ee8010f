// `npm run bench:gateway`: reading one big file from a real diod (the file on tmpfs, /dev/shm) with
// shared/client, directly over TCP and through styxlab serve's WebSocket gateway (/gateway/diod,
// the ws package as the page's WebSocket), in the same run. Prints MB/s for each and the ratio
// (goal: the gateway at 0.8x of direct or better). BENCH_MB sets the size (default 256), BENCH_RUNS
// the rounds (default 5; the two ways alternate, and the best and the median of each are
// reported, the machine being shared), BENCH_DEPTH the reads in flight (default: the client's
// pipeline).
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Client, type MessageTransport } from '../shared/client/index.ts';
import { dial } from '../server/net/transport.ts';
import { startDiod } from '../test/support/diod.ts';
import { gatewayClient, startHttpServe } from '../test/support/gateway.ts';

const MB = Number(process.env.BENCH_MB ?? 256);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DEPTH = process.env.BENCH_DEPTH ? Number(process.env.BENCH_DEPTH) : undefined;
const SIZE = MB * 1024 * 1024;
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : '/tmp', 'styxlab-bench-gw-'));

/** Writes SIZE bytes of a random pattern (1 MiB of random data repeated, each copy stamped). */
function makeFile(path: string): string {
  const block = randomBytes(1024 * 1024);
  const h = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < MB; i++) {
      block.writeUInt32LE(i, 0);
      writeSync(fd, block);
      h.update(block);
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/**
 * Reads the whole file. The first round of each way also hashes what it reads (sha256, checked);
 * the others only count, so that the hash's CPU (as much as the transport's) does not blur the
 * comparison on a machine with two cores.
 */
async function readAll(client: Client, hash: boolean): Promise<{ seconds: number; sha: string | null; bytes: number }> {
  const h = hash ? createHash('sha256') : null;
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  const f = await client.open('big.bin');
  try {
    for await (const chunk of f.stream({ depth: DEPTH })) {
      h?.update(chunk);
      bytes += chunk.length;
    }
  } finally {
    await f.close();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, sha: h ? h.digest('hex') : null, bytes };
}

const fmt = (x: number) => x.toFixed(1).padStart(7);

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    // Fields after the parenthesised command name: utime is the 12th, stime the 13th.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // clock ticks; USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

async function main(): Promise<void> {
  const want = makeFile(join(dir, 'big.bin'));
  const diod = await startDiod({ exportDir: dir });
  const g = await startHttpServe(['--backend', `diod=9p:${diod.address}`]);
  const opts = { aname: dir, uname: 'nobody' };
  const speeds: Record<'direct' | 'gateway', number[]> = { direct: [], gateway: [] };
  // CPU per round, a figure the other load on a shared machine disturbs less than MB/s does.
  const cpu: Record<'direct' | 'gateway', { self: number[]; diod: number[]; serve: number[] }> = {
    direct: { self: [], diod: [], serve: [] }, gateway: { self: [], diod: [], serve: [] },
  };
  try {
    console.log(`bench:gateway: ${MB} MiB from diod (${dir}), a checked round (sha256) then ${RUNS} timed rounds`);
    for (let r = -1; r < RUNS; r++) {
      for (const how of ['direct', 'gateway'] as const) {
        let client: Client;
        if (how === 'direct') {
          const t: MessageTransport = await dial(diod.address);
          client = await Client.connect(t, opts);
        } else {
          client = (await gatewayClient(g.ws('/gateway/diod'), opts)).client;
        }
        try {
          const c0 = { self: process.cpuUsage(), diod: cpuSeconds(diod.proc.pid!), serve: cpuSeconds(g.proc.pid!) };
          const res = await readAll(client, r < 0);
          const dself = process.cpuUsage(c0.self);
          const used = { self: (dself.user + dself.system) / 1e6, diod: cpuSeconds(diod.proc.pid!) - c0.diod, serve: cpuSeconds(g.proc.pid!) - c0.serve };
          if (res.bytes !== SIZE || (res.sha !== null && res.sha !== want)) throw new Error(`${how}: read ${res.bytes} bytes, sha256 ${res.sha}; want ${SIZE}, ${want}`);
          if (r < 0) {
            console.log(`  checked ${how.padEnd(7)} ${SIZE} bytes, sha256 ${res.sha?.slice(0, 16)}... as written`);
            continue;
          }
          const mbs = SIZE / 1e6 / res.seconds;
          speeds[how].push(mbs);
          for (const k of ['self', 'diod', 'serve'] as const) cpu[how][k].push(used[k]);
          const c = cpu[how];
          const last = (xs: number[]) => xs[xs.length - 1].toFixed(2);
          console.log(`  round ${r + 1} ${how.padEnd(7)} ${fmt(mbs)} MB/s  (${res.seconds.toFixed(2)} s, msize ${client.msize}, depth ${DEPTH ?? client.pipeline}; CPU s: client ${last(c.self)}, serve ${last(c.serve)}, diod ${last(c.diod)})`);
        } finally {
          await client.end();
        }
      }
    }
    const best = (xs: number[]) => Math.max(...xs);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`            best       median`);
    console.log(`direct  ${fmt(best(speeds.direct))} MB/s ${fmt(median(speeds.direct))} MB/s`);
    console.log(`gateway ${fmt(best(speeds.gateway))} MB/s ${fmt(median(speeds.gateway))} MB/s`);
    const ratio = median(speeds.gateway) / median(speeds.direct);
    const cpuLine = (how: 'direct' | 'gateway') => `client ${median(cpu[how].self).toFixed(2)} s, serve ${median(cpu[how].serve).toFixed(2)} s, diod ${median(cpu[how].diod).toFixed(2)} s`;
    console.log(`CPU per ${MB} MiB (median): direct: ${cpuLine('direct')}; gateway: ${cpuLine('gateway')}`);
    console.log(`ratio   ${(best(speeds.gateway) / best(speeds.direct)).toFixed(2)}x      ${ratio.toFixed(2)}x direct (goal >= 0.80x)${ratio >= 0.8 ? '' : '  BELOW GOAL'}`);
  } finally {
    await g.stop();
    await diod.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
