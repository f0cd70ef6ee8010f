// styxlab's NBD client against styxlab's NBD server, in memory: the handshake, every command,
// many requests in flight checked against a model, simple replies, errors, and the devices
// (memory, and a 9P namespace file as a disk).
import { test } from 'node:test';
import { userInfo } from 'node:os';
import assert from 'node:assert/strict';
import { Client } from '../../shared/client/index.ts';
import { ramfs } from '../../shared/fs/index.ts';
import { NbdClient } from '../../shared/nbd/client.ts';
import { CmdFlag, State, TxFlag } from '../../shared/nbd/constants.ts';
import type { BlockDevice, Export } from '../../shared/nbd/device.ts';
import { NbdError } from '../../shared/nbd/errors.ts';
import { ClientDecoder, encodeExportNameReply, encodeGreeting, encodeOptionReply, encodeReply } from '../../shared/nbd/index.ts';
import { MemoryDevice } from '../../shared/nbd/memory-device.ts';
import { ServerSession } from '../../shared/nbd/server-session.ts';
import { byteStreamPair } from '../../shared/nbd/stream.ts';
import { OTRUNC, OWRITE } from '../../shared/ninep/index.ts';
import { LinuxAdapter, Session } from '../../shared/styx/index.ts';
import { transportPair } from '../../shared/transport.ts';
import { Namespace } from '../../server/namespace/namespace.ts';
import { namespaceFileDevice } from '../../server/nbd/namespace-file.ts';
import { Rng } from '../support/randmsg.ts';

function serve(exports: Export[], opts: { structured?: boolean; allocation?: boolean; exportName?: string } = {}) {
  const [a, b] = byteStreamPair();
  const logs: string[] = [];
  const session = new ServerSession(b, { id: 't', exports: () => exports, log: (l) => logs.push(l) });
  return { session, logs, connect: () => NbdClient.connect(a, opts), stream: a };
}

test('handshake: GO gives size, flags, block size; structured replies and base:allocation agreed', async () => {
  const dev = new MemoryDevice(1 << 20);
  const s = serve([{ name: 'mem', device: dev }], { exportName: 'mem' });
  const c = await s.connect();
  assert.equal(c.size, 1n << 20n);
  assert.equal(c.structured, true);
  assert.notEqual(c.allocationId, null);
  for (const f of [TxFlag.HAS_FLAGS, TxFlag.SEND_FLUSH, TxFlag.SEND_FUA, TxFlag.SEND_TRIM, TxFlag.SEND_WRITE_ZEROES, TxFlag.SEND_DF, TxFlag.CAN_MULTI_CONN, TxFlag.SEND_FAST_ZERO]) {
    assert.ok(c.can(f), `flag ${f}`);
  }
  assert.equal(c.readOnly, false);
  assert.deepEqual(c.details.blockSize, { minimum: 1, preferred: 4096, maximum: 32 * 1024 * 1024 });
  assert.equal(c.details.description, dev.description);
  await c.disconnect();
  await s.session.done;
});

test('every command, with many requests in flight, matches a model of the disk', async () => {
  const size = 4 << 20;
  const dev = new MemoryDevice(size);
  const model = new Uint8Array(size);
  const s = serve([{ name: '', device: dev }]);
  const c = await s.connect();
  const rng = new Rng(42);
  const slot = 64 * 1024;
  for (let round = 0; round < 20; round++) {
    // Concurrent operations on distinct slots, so their order does not matter.
    const slots = [...Array(size / slot).keys()].sort(() => (rng.u32() & 1) - 0.5).slice(0, 32);
    await Promise.all(slots.map(async (k) => {
      const base = k * slot;
      const off = base + (rng.u32() % (slot / 2));
      const len = 1 + (rng.u32() % (slot / 2 - 1));
      switch (rng.u32() % 4) {
        case 0: {
          const data = Uint8Array.from({ length: len }, () => rng.u32() & 0xff);
          await c.write(off, data, { fua: (rng.u32() & 1) === 1 });
          model.set(data, off);
          break;
        }
        case 1: await c.zero(off, len, { noHole: (rng.u32() & 1) === 1 }); model.fill(0, off, off + len); break;
        case 2: await c.trim(base, slot); model.fill(0, base, base + slot); break;
        default: assert.deepEqual(await c.read(off, len), model.subarray(off, off + len));
      }
    }));
  }
  assert.deepEqual(await c.read(0, size), model);
  await c.flush();
  await c.cache(0, 4096);
  // Block status agrees with the model: a range the model says is zero may be a hole; data is never one.
  let pos = 0;
  while (pos < size) {
    const ext = await c.blockStatus(pos, size - pos);
    for (const e of ext) {
      if (e.flags & State.ZERO) assert.ok(model.subarray(pos, pos + e.length).every((b) => b === 0), `extent at ${pos} claims zero`);
      pos += e.length;
    }
  }
  assert.equal(pos, size);
  const one = await c.blockStatus(0, size, { reqOne: true });
  assert.equal(one.length, 1);
  await c.disconnect();
});

test('holes and data from block status; zeroing gives pages back', async () => {
  const dev = new MemoryDevice(1 << 20);
  const s = serve([{ name: '', device: dev }]);
  const c = await s.connect();
  assert.deepEqual(await c.blockStatus(0, 1 << 20), [{ length: 1 << 20, flags: State.HOLE | State.ZERO }]);
  await c.write(65536, new Uint8Array(65536).fill(1));
  assert.deepEqual(await c.blockStatus(0, 1 << 20), [
    { length: 65536, flags: 3 }, { length: 65536, flags: 0 }, { length: (1 << 20) - 131072, flags: 3 },
  ]);
  assert.equal(dev.allocated, 65536);
  await c.zero(65536, 65536);
  assert.equal(dev.allocated, 0);
  await c.disconnect();
});

test('structured READs of a sparse device: OFFSET_HOLE for holes, the pages as OFFSET_DATA, one chunk with DF', async () => {
  const dev = new MemoryDevice(1 << 20);
  const [a, b] = byteStreamPair();
  const lines: string[] = [];
  new ServerSession(b, { id: 't', exports: () => [{ name: '', device: dev }], trace: (dir, text) => { if (dir === '->') lines.push(text); } });
  const c = await NbdClient.connect(a);
  const data = Uint8Array.from({ length: 2 * 65536 }, (_, i) => (i % 251) + 1);
  await c.write(65536, data);
  // hole | two pages of data | hole, within one READ.
  const got = await c.read(60000, 200000);
  const want = new Uint8Array(200000);
  want.set(data.subarray(0, 200000 - 5536), 5536);
  assert.deepEqual(got, want);
  assert.deepEqual(lines.slice(-3), [
    'Chunk.OffsetHole(16r2,0,60000,5536)',
    'Chunk.OffsetData(16r2,0,65536,array[131072] of byte)',
    'Chunk.OffsetHole(16r2,DONE,196608,63392)',
  ]);
  // Don't fragment: one chunk, the holes sent as zeroes.
  assert.deepEqual(await c.read(60000, 200000, CmdFlag.DF), want);
  assert.deepEqual(lines.slice(-1), ['Chunk.OffsetData(16r3,DONE,60000,array[200000] of byte)']);
  assert.deepEqual(await c.read(0, 4096), new Uint8Array(4096));
  assert.deepEqual(lines.slice(-1), ['Chunk.OffsetHole(16r4,DONE,0,4096)']);
  await c.disconnect();
});

test('simple replies when the client does not ask for structured ones', async () => {
  const s = serve([{ name: '', device: new MemoryDevice(8192) }], { structured: false });
  const c = await s.connect();
  assert.equal(c.structured, false);
  assert.equal(c.can(TxFlag.SEND_DF), false);
  await c.write(100, new Uint8Array([1, 2, 3]));
  assert.deepEqual(await c.read(99, 5), new Uint8Array([0, 1, 2, 3, 0]));
  await assert.rejects(c.blockStatus(0, 10), NbdError);
  await assert.rejects(c.read(8190, 4), (e: unknown) => e instanceof NbdError && e.errno === 22);
  assert.deepEqual(await c.read(0, 2), new Uint8Array(2), 'the connection is still in step after an error');
  await c.disconnect();
});

test('errors: past the end, read-only exports, devices that throw, unknown exports', async () => {
  const failing: BlockDevice = {
    description: 'fails',
    open: () => ({
      size: () => 4096,
      pread: () => { throw Object.assign(new Error('disk on fire'), { code: 'EIO' }); },
      pwrite: () => { throw Object.assign(new Error('quota'), { code: 'EDQUOT' }); },
    }),
  };
  const exports: Export[] = [
    { name: 'mem', device: new MemoryDevice(4096) },
    { name: 'ro', device: new MemoryDevice(4096), readonly: true },
    { name: 'bad', device: failing },
  ];
  const s1 = serve(exports, { exportName: 'mem' });
  const c = await s1.connect();
  await assert.rejects(c.read(4000, 100), (e: unknown) => e instanceof NbdError && e.errno === 22);
  await assert.rejects(c.write(4000, new Uint8Array(100)), (e: unknown) => e instanceof NbdError && e.errno === 28);
  await assert.rejects(c.blockStatus(0, 0), (e: unknown) => e instanceof NbdError && e.errno === 22);
  await c.disconnect();

  const ro = await serve(exports, { exportName: 'ro' }).connect();
  assert.equal(ro.readOnly, true);
  await assert.rejects(ro.write(0, new Uint8Array(1)), (e: unknown) => e instanceof NbdError && e.errno === 1);
  await assert.rejects(ro.zero(0, 1), (e: unknown) => e instanceof NbdError && e.errno === 1);
  await ro.disconnect();

  const bad = await serve(exports, { exportName: 'bad' }).connect();
  await assert.rejects(bad.read(0, 10), (e: unknown) => e instanceof NbdError && e.errno === 5 && /fire/.test(e.message));
  await assert.rejects(bad.write(0, new Uint8Array(1)), (e: unknown) => e instanceof NbdError && e.errno === 28);
  // No zero() of its own and FAST_ZERO asked: ENOTSUP at once, as the spec wants.
  await assert.rejects(bad.zero(0, 10, { fast: true }), (e: unknown) => e instanceof NbdError && e.errno === 95);
  await bad.disconnect();

  await assert.rejects(serve(exports, { exportName: 'nope' }).connect(), /ERR_UNKNOWN/);
});

test('LIST and INFO without entering transmission', async () => {
  const exports: Export[] = [{ name: 'a', device: new MemoryDevice(512, 'first') }, { name: 'b', device: new MemoryDevice(1024) }];
  const [x, y] = byteStreamPair();
  const session = new ServerSession(y, { id: 'l', exports: () => exports });
  assert.deepEqual(await NbdClient.list(x), [{ name: 'a', description: 'first' }, { name: 'b', description: 'memory, 1024 bytes' }]);
  await session.done;
  const [p, q] = byteStreamPair();
  new ServerSession(q, { id: 'i', exports: () => exports });
  const info = await NbdClient.info(p, { exportName: 'b' });
  assert.equal(info.size, 1024n);
  assert.deepEqual(info.contexts, ['base:allocation']);
});

test('a file of the 9P namespace as a disk: NBD writes land in the file', async () => {
  const ns = new Namespace();
  ns.mount('ram', 'builtin', 'builtin', ramfs({ maxFileSize: 1 << 22 }));
  // Make /ram/disk.img of 256 KiB through 9P.
  const [t1, t2] = transportPair();
  new Session(t2, new LinuxAdapter(ns.connect()), { id: 'setup' });
  // As the user the server attaches as: the file is then writable over NBD.
  const ninep = await Client.connect(t1, { uname: userInfo().username });
  const f = await ninep.create('/ram/disk.img', 0o644, OWRITE | OTRUNC);
  for (let off = 0; off < 256 * 1024; off += 8192) await f.write(off, new Uint8Array(8192));
  await f.close();

  const s = serve([{ name: 'ram', device: namespaceFileDevice(ns, '/ram/disk.img') }]);
  const c = await s.connect();
  assert.equal(c.size, 256n * 1024n);
  const data = Uint8Array.from({ length: 100000 }, (_, i) => i & 0xff);
  await c.write(5000, data);
  assert.deepEqual(await c.read(5000, data.length), data);
  await c.disconnect();
  const g = await ninep.open('/ram/disk.img');
  assert.deepEqual(await g.read(5000, 100), data.subarray(0, 100));
  await g.close();
  // Someone else's file (mode 0644) is served, but read-only.
  const [t3, t4] = transportPair();
  new Session(t4, new LinuxAdapter(ns.connect()), { id: 'other' });
  const other = await Client.connect(t3, { uname: 'someone-else' });
  const h = await other.create('/ram/theirs.img', 0o644, OWRITE | OTRUNC);
  await h.write(0, new Uint8Array(4096));
  await h.close();
  const ro = await serve([{ name: 'theirs', device: namespaceFileDevice(ns, '/ram/theirs.img') }]).connect();
  assert.equal(ro.readOnly, true);
  assert.equal((await ro.read(0, 4096)).length, 4096);
  await ro.disconnect();
  await other.end();
  await ninep.end();
});

test('an old server without GO or structured replies: the client falls back to EXPORT_NAME', async () => {
  // A server written here with the codec: every option but EXPORT_NAME gets ERR_UNSUP; then
  // simple replies only, with the 124 zero bytes after the export (no NO_ZEROES offered).
  const [a, b] = byteStreamPair();
  const d = new ClientDecoder();
  const disk = new Uint8Array(8192).fill(9);
  b.onData((chunk) => d.push(chunk, (m) => {
    if (m.kind === 'option') {
      if (m.code === 1) {
        b.write(encodeExportNameReply(8192n, TxFlag.HAS_FLAGS | TxFlag.SEND_FLUSH, true));
        d.transmission();
      } else {
        b.write(encodeOptionReply({ reply: 'ERROR', option: m.code, type: 0x80000001, message: '' }));
        d.options();
      }
    } else if (m.kind === 'request') {
      const r = m.request;
      if (r.type === 'READ') b.write(encodeReply({ kind: 'simple', error: 0, cookie: r.cookie, data: disk.subarray(Number(r.offset), Number(r.offset) + r.length) }));
      else if (r.type !== 'DISC') b.write(encodeReply({ kind: 'simple', error: 0, cookie: r.cookie }));
    }
  }));
  b.onClose(() => {});
  b.write(encodeGreeting(1));
  const c = await NbdClient.connect(a, { exportName: 'old' });
  assert.equal(c.structured, false);
  assert.equal(c.size, 8192n);
  assert.deepEqual(await c.read(100, 4), new Uint8Array([9, 9, 9, 9]));
  await c.flush();
  await c.disconnect();
});
