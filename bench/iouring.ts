// `npm run bench:iouring`: io_uring in styxlab, three ways, each against Node's own I/O in the same run.
//   1. NOP round trips per second through `styxlab iouringd` at queue depth 1 and 64.
//   2. FILE_READ of 4 KiB through the daemon at depth 32 (the protocol always reads at offset 0),
//      against the same reads with Node's fs.
//   3. The addon's ring alone: 4 KiB random reads at depth 32 on a 1 GiB file (O_DIRECT where the
//      file system allows it, else the page cache), against fs.read on the libuv pool at depth 32.
// BENCH_MS sets each measurement's length (default 2000). BENCH_DIR sets where the 1 GiB file goes.
import { closeSync, constants as C, fstatSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { read as fsRead } from 'node:fs';
import { open as openPromise } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAddon } from '../server/iouring/addon.ts';
import { startDaemon } from '../test/iouring/helper.ts';
import type { IodClient } from '../shared/iouring/index.ts';

const MS = Number(process.env.BENCH_MS ?? 2000);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

/** Runs `depth` workers, each looping `op` until the time is up; returns operations per second. */
async function rate(depth: number, op: () => Promise<unknown>): Promise<number> {
  const end = performance.now() + MS;
  let n = 0;
  await Promise.all(Array.from({ length: depth }, async () => {
    while (performance.now() < end) { await op(); n++; }
  }));
  return (n * 1000) / MS;
}

async function throughDaemon(dir: string): Promise<void> {
  const file = join(dir, 'small.bin');
  const fd = openSync(file, 'w');
  writeSync(fd, Buffer.alloc(4096, 7));
  closeSync(fd);
  // --ring-entries 64 is the largest the protocol allows: 63 credits, so depth 64 keeps one waiting.
  const d = await startDaemon(['--ring-entries', '64']);
  let c: IodClient | undefined;
  try {
    c = await d.connect();
    const cl = c;
    await rate(8, () => cl.nop()); // warm-up
    const qd1 = await rate(1, () => cl.nop());
    const qd64 = await rate(64, () => cl.nop());
    console.log(`NOP round trips through iouringd   QD1 ${fmt(qd1)}/s   QD64 ${fmt(qd64)}/s (63 credits; the client waits for the 64th)`);
    const id = (await cl.openat(file, C.O_RDONLY)).res;
    if (id <= 0) throw new Error(`openat gave ${id}`);
    const viaDaemon = await rate(32, async () => {
      const r = await cl.fileRead(id, 4096);
      if (r.res !== 4096) throw new Error(`read gave ${r.res}`);
    });
    const fh = await openPromise(file, 'r');
    const bufs = Array.from({ length: 32 }, () => Buffer.alloc(4096));
    let k = 0;
    const viaFs = await rate(32, () => fh.read(bufs[k++ % 32], 0, 4096, 0));
    await fh.close();
    console.log(`FILE_READ 4 KiB QD32 (offset 0)   iouringd ${fmt(viaDaemon)}/s   node fs.promises ${fmt(viaFs)}/s   ratio ${ratio(viaDaemon, viaFs)}`);
    console.log('  (the original iouringd is not built on this machine, so its figure is not measured here)');
  } finally {
    c?.close();
    await d.stop();
  }
}

async function ringAlone(dir: string): Promise<void> {
  const load = loadAddon();
  if (!load.ok) { console.log(`ring alone: skipped (${load.reason})`); return; }
  const a = load.addon;
  const SIZE = 1 << 30;
  const BLOCK = 4096;
  const QD = 32;
  const file = join(dir, 'big.bin');
  {
    const fd = openSync(file, 'w');
    const chunk = Buffer.alloc(8 << 20);
    for (let i = 0; i < chunk.length; i += 8) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
    for (let off = 0; off < SIZE; off += chunk.length) writeSync(fd, chunk, 0, chunk.length, off);
    closeSync(fd);
  }
  let mode = 'O_DIRECT';
  let fd: number;
  try {
    fd = openSync(file, C.O_RDONLY | C.O_DIRECT);
  } catch {
    mode = 'page cache (O_DIRECT refused by this file system)';
    fd = openSync(file, C.O_RDONLY);
  }
  // O_DIRECT needs block-aligned memory: one slab, cut at a 4096-byte boundary.
  const slab = Buffer.alloc(QD * BLOCK + BLOCK);
  const skew = (BLOCK - (a.addressOf(slab) % BLOCK)) % BLOCK;
  const bufs = Array.from({ length: QD }, (_, i) => slab.subarray(skew + i * BLOCK, skew + (i + 1) * BLOCK));
  const blocks = fstatSync(fd).size / BLOCK;
  let seed = 12345;
  const randomOffset = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed % blocks) * BLOCK;
  };

  // io_uring: 32 reads in flight; each batch of completions is refilled with one submit.
  const [ring, errno] = a.ringCreate(64);
  if (!ring) { console.log(`ring alone: io_uring setup failed (errno ${errno})`); closeSync(fd); return; }
  const out = new Float64Array(512);
  let done = 0;
  let errors = 0;
  let stop = false;
  let finish!: () => void;
  const finished = new Promise<void>((r) => { finish = r; });
  let inFlight = 0;
  a.ringStart(ring, out, (n) => {
    for (let i = 0; i < n; i++) {
      inFlight--;
      if (out[2 * i + 1] !== BLOCK) errors++;
      done++;
      if (!stop) {
        const slot = out[2 * i];
        a.ringPrep(ring, 8, slot, fd, false, bufs[slot], BLOCK, randomOffset(), 0, 0);
        inFlight++;
      }
    }
    if (!stop) a.ringSubmit(ring);
    else if (inFlight === 0) finish();
  });
  const t0 = performance.now();
  for (let s = 0; s < QD; s++) { a.ringPrep(ring, 8, s, fd, false, bufs[s], BLOCK, randomOffset(), 0, 0); inFlight++; }
  a.ringSubmit(ring);
  await new Promise((r) => setTimeout(r, MS));
  stop = true;
  const uringOps = (done * 1000) / (performance.now() - t0);
  await finished;
  a.ringClose(ring);
  if (errors) console.log(`  (${errors} io_uring reads did not return ${BLOCK} bytes)`);

  // Node: fs.read on the libuv pool, 32 reads outstanding.
  const fsOps = await rate(QD, () => new Promise<void>((resolve, reject) => {
    const b = bufs[Math.floor(Math.random() * QD)];
    fsRead(fd, b, 0, BLOCK, randomOffset(), (err) => (err ? reject(err) : resolve()));
  }));
  closeSync(fd);
  const pool = process.env.UV_THREADPOOL_SIZE ?? '4 (default)';
  console.log(`ring alone: 4 KiB random reads QD32, 1 GiB file, ${mode}`);
  console.log(`  addon io_uring ${fmt(uringOps)}/s   node fs.read (libuv pool ${pool}) ${fmt(fsOps)}/s   ratio ${ratio(uringOps, fsOps)} (goal >= 1.5x)`);
}

const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'iouring-bench-'));
try {
  await throughDaemon(dir);
  if (!process.env.BENCH_SKIP_RING) await ringAlone(dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
