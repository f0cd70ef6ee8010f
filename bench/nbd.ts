// `npm run bench:nbd`: `styxlab serve --nbd` against `nbdkit memory`, same work, same run.
//
//   nbdcopy: reads a 1 GiB export to null: (libnbd's nbdcopy, its default connections and
//     requests in flight). Both exports are first filled with the same non-zero data from
//     `nbdkit pattern`, so every byte is really read (holes would be skipped).
//   random 4 KiB reads at queue depth 16: styxlab's own NBD client (the same for both servers)
//     keeps 16 reads in flight at random 4 KiB-aligned offsets for BENCH_SECONDS, best of BENCH_RUNS.
//   the page's path: styxlab's NBD client over the WebSocket gateway (/gateway/kit, the ws
//     package standing in for the browser, in a process of its own: bench/nbd-page.ts) reads
//     256 MiB of an nbdkit memory export, 1 MiB requests, 16 in flight; against nbdcopy reading
//     the same export directly.
//
// Each figure is printed for both with the ratio styxlab/nbdkit (above 1: styxlab is faster), and
// the server's CPU time: it is less disturbed than throughput when other work shares the machine.
// Environment: BENCH_RUNS (nbdcopy runs each, default 3; the best counts), BENCH_SECONDS (default 5),
// BENCH_ONLY (a comma-separated choice of copy, random, gateway; default all three), BENCH_PROFILE
// (a directory: styxlab serve runs with --cpu-prof and writes its profile there on exit).
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { NbdClient } from '../shared/nbd/client.ts';
import type { PageRead } from './nbd-page.ts';
import { startHttpServe } from '../test/support/gateway.ts';
import { parseNbdUri } from '../shared/nbd/uri.ts';
import { dialByteStream } from '../server/nbd/socket-stream.ts';
import { startNbdkit, startServeNbd } from '../test/support/nbd.ts';
import { stopProcess } from '../test/support/styxlab.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'copy,random,gateway').split(','));
const NODE_ARGS = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];

/** CPU seconds (user + system) of a process; with children, those of its children it waited for. */
function cpuSeconds(pid: number | 'self', children = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return children ? (Number(f[13]) + Number(f[14])) / 100 : (Number(f[11]) + Number(f[12])) / 100;
}

function nbdcopy(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const p = spawn('nbdcopy', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) reject(new Error(`nbdcopy ${args.join(' ')}: ${err}`));
      else resolve(Number(process.hrtime.bigint() - start) / 1e9);
    });
  });
}

async function randomReads(uri: string): Promise<number> {
  const u = parseNbdUri(uri);
  const c = await NbdClient.connect(await dialByteStream(u.target), { exportName: u.exportName });
  const blocks = Number(c.size) / 4096;
  let ops = 0;
  let x = 12345;
  const end = Date.now() + SECONDS * 1000;
  const lane = async () => {
    // Bounded by the clock: each lane stops once the time is up.
    while (Date.now() < end) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      await c.read((x % blocks) * 4096, 4096);
      ops++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
  await c.disconnect();
  return ops / SECONDS;
}

function line(what: string, s: number, k: number, unit: string, digits = 2): void {
  console.log(`${what.padEnd(34)} styxlab ${s.toFixed(digits).padStart(9)} ${unit}   nbdkit ${k.toFixed(digits).padStart(9)} ${unit}   ratio ${(s / k).toFixed(2)}x`);
}

const peers: Array<{ stop(): Promise<void> }> = [];
try {
  if (ONLY.has('copy') || ONLY.has('random')) await serverRows();
  if (ONLY.has('gateway')) await gatewayRow();
} finally {
  for (const p of peers.reverse()) await p.stop();
}

async function serverRows(): Promise<void> {
  const styx = await startServeNbd(['--nbd-export', 'mem=memory:1G'], NODE_ARGS);
  peers.push(styx);
  const kit = await startNbdkit(['memory', '1G']);
  peers.push(kit);
  const pattern = await startNbdkit(['pattern', '1G']);
  peers.push(pattern);
  const targets = [{ name: 'styxlab', uri: styx.uri('mem'), pid: styx.proc!.pid! }, { name: 'nbdkit', uri: kit.uri(), pid: kit.proc!.pid! }];
  for (const t of targets) await nbdcopy([pattern.uri(), t.uri]);
  if (ONLY.has('copy')) await copyRows(targets);
  if (!ONLY.has('random')) return;
  console.log(`random 4 KiB reads, queue depth 16, ${SECONDS} s each, best of ${RUNS} (styxlab's client for both)`);
  // Alternating, best of RUNS: one round trip per read makes this row the most sensitive to
  // whatever else the shared machine is running at that moment.
  let rs = 0;
  let rk = 0;
  for (let i = 0; i < RUNS; i++) {
    rs = Math.max(rs, await randomReads(targets[0].uri));
    rk = Math.max(rk, await randomReads(targets[1].uri));
  }
  line('  reads per second', rs, rk, 'op/s', 0);
}

async function copyRows(targets: Array<{ name: string; uri: string; pid: number }>): Promise<void> {
  // One unmeasured read each: styxlab's first pays for the JIT and for filling its buffer pool.
  for (const t of targets) await nbdcopy([t.uri, 'null:']);
  console.log(`nbdcopy of 1 GiB to null:, best of ${RUNS} (nbdcopy's defaults; exports filled from nbdkit pattern)`);
  const best: Record<string, { sec: number; cpu: number }> = {};
  for (let i = 0; i < RUNS; i++) {
    for (const t of targets) {
      const cpu0 = cpuSeconds(t.pid);
      const sec = await nbdcopy([t.uri, 'null:']);
      const cpu = cpuSeconds(t.pid) - cpu0;
      if (!best[t.name] || sec < best[t.name].sec) best[t.name] = { sec, cpu };
    }
  }
  line('  throughput', 1 / best.styxlab.sec, 1 / best.nbdkit.sec, 'GiB/s');
  line('  server CPU per GiB (lower wins)', best.styxlab.cpu, best.nbdkit.cpu, 's');
}

async function gatewayRow(): Promise<void> {
  const small = await startNbdkit(['memory', '256M']);
  peers.push(small);
  const pattern256 = await startNbdkit(['pattern', '256M']);
  peers.push(pattern256);
  await nbdcopy([pattern256.uri(), small.uri()]);
  const g = await startHttpServe(['--backend', `kit=nbd:tcp!127.0.0.1!${small.port}`], { nodeArgs: NODE_ARGS });
  peers.push(g);
  const page = startPage(g.ws('/gateway/kit'));
  peers.push(page);
  console.log(`reading 256 MiB of nbdkit memory: styxlab's client through the gateway vs nbdcopy direct, best of ${RUNS}`);
  let viaGateway = Infinity;
  let direct = Infinity;
  // CPU seconds of the best runs: the page's side (client + gateway) against nbdcopy's own.
  let cpuGateway = { client: 0, gateway: 0 };
  let cpuDirect = 0;
  for (let i = 0; i < RUNS; i++) {
    const g0 = cpuSeconds(g.proc.pid!);
    const r = await page.read();
    if (r.sec < viaGateway) {
      viaGateway = r.sec;
      cpuGateway = { client: r.cpu, gateway: cpuSeconds(g.proc.pid!) - g0 };
    }
    const c0 = cpuSeconds('self', true);
    const d = await nbdcopy([small.uri(), 'null:']);
    if (d < direct) { direct = d; cpuDirect = cpuSeconds('self', true) - c0; }
  }
  console.log(`  throughput                       gateway ${(256 / viaGateway).toFixed(0).padStart(6)} MiB/s   nbdcopy direct ${(256 / direct).toFixed(0).padStart(6)} MiB/s   ratio ${(direct / viaGateway).toFixed(2)}x`);
  console.log(`  client CPU (lower wins)          client ${cpuGateway.client.toFixed(2)} s + gateway ${cpuGateway.gateway.toFixed(2)} s   nbdcopy ${cpuDirect.toFixed(2)} s`);
}

/** The page's client in its own process (bench/nbd-page.ts); read() is one timed read of the export. */
function startPage(url: string): { read(): Promise<PageRead>; stop(): Promise<void> } {
  const proc = fork(new URL('./nbd-page.ts', import.meta.url).pathname, [url], { execArgv: [...process.execArgv, ...NODE_ARGS] });
  return {
    read: () => new Promise((resolve, reject) => {
      const fail = () => reject(new Error('the page client exited'));
      proc.once('exit', fail);
      proc.once('message', (m) => { proc.off('exit', fail); resolve(m as PageRead); });
      proc.send('read');
    }),
    // A disconnect lets it exit by itself (and write its --cpu-prof profile); a signal if it lingers.
    stop: async () => {
      if (proc.connected) proc.disconnect();
      await Promise.race([once(proc, 'exit'), new Promise((r) => setTimeout(r, 5000).unref())]);
      await stopProcess(proc);
    },
  };
}
