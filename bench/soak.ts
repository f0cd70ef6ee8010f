// `npm run bench:soak`: the long version of test/hostile. Against one `styxlab serve`:
//   1. a million hostile frames (random, mutated, cut, lying sizes) in all three dialects, over
//      TCP connections that hang up abruptly, and a share over /gateway/local;
//   2. a mixed load for SOAK_SECONDS (default 60): honest clients writing, reading and listing
//      /ram, a client that never reads its socket, slowloris connections, fuzzers, WebSockets.
// Throughout, a health client reads /hellofs/hello every 20 ms. Printed: crashes (serve exiting),
// hangs (health reads that failed or took over 10 s), health latency (max, p99) and serve's RSS
// idle, at its peak and after each phase.
//
// Environment: SOAK_FRAMES (default 1000000), SOAK_SECONDS (default 60).
import { type Socket, connect } from 'node:net';
import { Client } from '../shared/client/index.ts';
import { DIALECTS, type Dialect, encode } from '../shared/ninep/index.ts';
import { dial } from '../server/net/transport.ts';
import { fuzzTcp, hostileFrame, tversion } from '../test/support/fuzz.ts';
import { closed, openWs, startHttpServe } from '../test/support/gateway.ts';
import { Health, MiB, healthLine, rss } from '../test/support/health.ts';
import { Rng } from '../test/support/randmsg.ts';

const FRAMES = Number(process.env.SOAK_FRAMES ?? 1_000_000);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const PER_CONN = 250;

const g = await startHttpServe(['--max-connections', '64', '--idle-timeout', '2000', '--max-websockets', '16'], { nodeArgs: process.env.STYXLAB_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.STYXLAB_CPU_PROF] : [] });
const pid = g.proc.pid!;
let crashed = false;
let stopping = false;
g.proc.once('exit', (code, sig) => {
  if (stopping) return;
  crashed = true;
  console.log(`serve exited: ${code ?? sig}`);
});
let peak = 0;
const sampler = setInterval(() => { if (!crashed) peak = Math.max(peak, rss(pid)); }, 100);
const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;

// Warm: the first reads compile serve's code paths.
{
  const c = await Client.connect(await dial(g.address), { uname: 'warm' });
  for (let i = 0; i < 50; i++) await c.readFile('/hellofs/hello');
  await c.end();
}
await new Promise((r) => setTimeout(r, 500));
const idle = rss(pid);
console.log(`serve RSS idle: ${mib(idle)}`);

// ---- 1. a million hostile frames
{
  const health = await Health.start(g.address);
  const r = new Rng(0x50a4);
  const t0 = performance.now();
  let sent = 0;
  let wsFrames = 0;
  const lanes = 4;
  let lastShown = 0;
  await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
    for (let k = 0; sent < FRAMES && !crashed; k++) {
      const dialect = DIALECTS[(k + lane) % 3];
      if (lane === 0 && k % 10 === 0) {
        // One in forty connections is a WebSocket to /gateway/local.
        const ws = await openWs(g.ws('/gateway/local')).catch(() => null);
        if (!ws) continue;
        const gone = closed(ws);
        ws.send(tversion(dialect));
        for (let i = 0; i < 50 && ws.readyState === ws.OPEN; i++, sent++, wsFrames++) ws.send(hostileFrame(r, dialect, true));
        ws.terminate();
        await gone;
        continue;
      }
      await fuzzTcp(g.port, r, dialect, PER_CONN);
      sent += PER_CONN;
      if (sent - lastShown >= 100_000) {
        lastShown = sent;
        process.stderr.write(`  ${sent} frames, ${((performance.now() - t0) / 1000).toFixed(0)} s\r`);
      }
    }
  }));
  const h = await health.stop();
  const secs = (performance.now() - t0) / 1000;
  console.log(`\n1. ${sent} hostile frames (${wsFrames} over /gateway/local) in ${secs.toFixed(1)} s: ${crashed ? 'CRASHED' : '0 crashes'}, ${h.failures.length} hangs`);
  console.log(`   ${healthLine('fuzz', h)}`);
  await new Promise((r2) => setTimeout(r2, 1000));
  if (!crashed) console.log(`   serve RSS after: ${mib(rss(pid))}, peak ${mib(peak)}`);
}

// ---- 2. a mixed load
if (!crashed) {
  peak = 0;
  const health = await Health.start(g.address);
  const until = Date.now() + SECONDS * 1000;
  const r = new Rng(0x111);
  let honestOps = 0;
  const honest = async (i: number) => {
    const c = await Client.connect(await dial(g.address), { uname: `honest${i}`, version: DIALECTS[i % 3] });
    const data = new Uint8Array(256 * 1024).fill(i);
    try {
      while (Date.now() < until && !crashed) {
        await c.writeFile(`/ram/soak${i}`, data);
        await c.readFile(`/ram/soak${i}`);
        await c.readdir('/ram');
        honestOps += 3;
      }
      await c.remove(`/ram/soak${i}`);
    } finally {
      await c.end();
    }
  };
  const greedy = async () => {
    // Reads of /dev/zero, never read back; a new one every few seconds.
    while (Date.now() < until && !crashed) {
      const s: Socket = connect({ host: '127.0.0.1', port: g.port });
      s.on('error', () => {});
      await new Promise((res) => s.once('connect', res));
      s.pause();
      const d: Dialect = '9P2000.u';
      const frames = [tversion(d, 1 << 20),
        encode({ type: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'g', aname: '', nUname: 0 }, d),
        encode({ type: 'Twalk', tag: 2, fid: 0, newfid: 1, wnames: ['dev', 'zero'] }, d),
        encode({ type: 'Topen', tag: 3, fid: 1, mode: 0 }, d)];
      for (let i = 0; i < 2000; i++) frames.push(encode({ type: 'Tread', tag: 10 + i, fid: 1, offset: 0n, count: 1 << 20 }, d));
      s.write(Buffer.concat(frames));
      await new Promise((res) => setTimeout(res, 3000));
      s.destroy();
    }
  };
  const slowloris = async () => {
    const held: Socket[] = [];
    while (Date.now() < until && !crashed) {
      const s = connect({ host: '127.0.0.1', port: g.port });
      s.on('error', () => {});
      s.write(Buffer.from([0x40, 0, 0]));
      held.push(s);
      if (held.length > 40) held.shift()!.destroy();
      await new Promise((res) => setTimeout(res, 100));
    }
    for (const s of held) s.destroy();
  };
  const fuzzer = async () => {
    for (let k = 0; Date.now() < until && !crashed; k++) await fuzzTcp(g.port, r, DIALECTS[k % 3], 100);
  };
  await Promise.all([honest(0), honest(1), honest(2), greedy(), slowloris(), fuzzer()]);
  const h = await health.stop();
  console.log(`2. ${SECONDS} s mixed load (3 honest clients: ${honestOps} ops; a client that never reads; slowloris; fuzz): ${crashed ? 'CRASHED' : '0 crashes'}, ${h.failures.length} hangs`);
  console.log(`   ${healthLine('mixed', h)}`);
  await new Promise((r2) => setTimeout(r2, 2000));
  if (!crashed) {
    console.log(`   serve RSS: idle ${mib(idle)}, peak ${mib(peak)}, after ${mib(rss(pid))} (${((rss(pid) / idle - 1) * 100).toFixed(0)}% over idle)`);
    // V8 gives back heap it grew under load only after a while of idling (its memory reducer).
    await new Promise((r2) => setTimeout(r2, 15_000));
    console.log(`   serve RSS 15 s later: ${mib(rss(pid))} (${((rss(pid) / idle - 1) * 100).toFixed(0)}% over idle)`);
    const st = await g.status() as unknown as { memory: Record<string, number>; eventLoopDelayMs: { max: number; p99: number } };
    const m = st.memory;
    console.log(`   serve memory after: heap used ${mib(m.heapUsed)} of ${mib(m.heapTotal)}, array buffers ${mib(m.arrayBuffers)}`);
    console.log(`   serve's event loop delay since start: max ${st.eventLoopDelayMs.max.toFixed(1)} ms, p99 ${st.eventLoopDelayMs.p99.toFixed(1)} ms`);
  }
}

clearInterval(sampler);
stopping = true;
await g.stop();
process.exitCode = crashed ? 1 : 0;
