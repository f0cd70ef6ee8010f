// `styxlab iouringd` through the client over a real unix socket, against one daemon with the
// default flags: the operations, registered files and buffers, stats, trace, and hostile bytes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants as C, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import {
  Errno, IodClient, IodRejected, Op, encodeHandshakeRequest, encodeRequest, decodeHandshakeResponse, traceEvents,
} from '../../shared/iouring/index.ts';
import { type Daemon, addon, sendUntilClose, skipReason, startDaemon } from './helper.ts';

const O_CLOEXEC = 0x80000;

/** Stops Node reading a socket (pause() does not stop libuv at once), so the daemon gets its bytes. */
function handOver(s: net.Socket): void {
  (s as unknown as { _handle: { readStop(): number } })._handle.readStop();
}

function fdOf(s: net.Socket): number {
  return (s as unknown as { _handle: { fd: number } })._handle.fd;
}

/** A connected pair of unix sockets in this process: [ours, peer]. */
async function socketPair(dir: string, name: string): Promise<[net.Socket, net.Socket, net.Server]> {
  const path = join(dir, name);
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(path, r));
  const peer = new Promise<net.Socket>((r) => srv.once('connection', r));
  const ours = net.connect(path);
  await new Promise((r) => ours.once('connect', r));
  return [ours, await peer, srv];
}

describe('iouringd integration (default flags)', { skip: skipReason || false }, () => {
  let d: Daemon;
  let c: IodClient;
  before(async () => {
    d = await startDaemon();
    c = await d.connect();
  });
  after(async () => {
    c?.close();
    const end = await d?.stop();
    assert.equal(end?.signal, 'SIGTERM');
  });

  test('handshake: the default capabilities', () => {
    const k = c.capabilities;
    assert.equal(k.structSize, 36);
    assert.equal(k.ringEntries, 4);
    assert.equal(k.cqEntries, 8);
    assert.equal(k.opMask, 0xfff);
    assert.equal(k.submitCredits, 3);
    assert.equal(k.registeredFdSlots, 32);
    assert.equal(k.registeredBufferSlots, 1);
    assert.equal(k.ioBytesMax, 4096);
    assert.ok(k.opMask & Op.NOP);
  });

  test('NOP: accepted, consecutive ids, completions match', async () => {
    const a = await c.submit({ kind: 'nop', priority: 'normal' });
    const b = await c.submit({ kind: 'nop', priority: 'normal' });
    assert.equal(a.res, 0);
    assert.equal(b.taskId, a.taskId + 1n);
    const [ca, cb] = await Promise.all([c.completion(a.taskId), c.completion(b.taskId)]);
    assert.deepEqual([ca.taskId, ca.taskKind, ca.res], [a.taskId, 1, 0]);
    assert.deepEqual([cb.taskId, cb.taskKind, cb.res], [b.taskId, 1, 0]);
  });

  test('TIMEOUT: 1 ms completes with -ETIME; 0 fires at once', async () => {
    const t = await c.timeout(1_000_000n);
    assert.equal((await t.done).res, -Errno.ETIME);
    assert.equal((await (await c.timeout(0n)).done).res, -Errno.ETIME);
  });

  test('CANCEL: target 0 rejected with -EINVAL, unknown id -ENOENT, another connection\'s timeout cancelled', async () => {
    const r0 = await c.submit({ kind: 'cancel', priority: 'normal', target: 0n });
    assert.deepEqual(r0, { taskId: 0n, res: -Errno.EINVAL, credits: 3 });
    assert.equal((await c.cancel(424242n)).res, -Errno.ENOENT);
    const other = await d.connect();
    try {
      const t = await other.timeout(5_000_000_000n);
      const cancel = await c.cancel(t.taskId);
      assert.equal(cancel.res, 0);
      assert.equal((await t.done).res, -Errno.ECANCELED);
    } finally {
      other.close();
    }
  });

  test('OPENAT, FILE_READ, FILE_WRITE, CLOSE on a real file', async () => {
    const file = join(d.dir, 'data.txt');
    writeFileSync(file, 'hello, io_uring');
    const open = await c.openat(file, C.O_RDWR | O_CLOEXEC);
    assert.ok(open.res > 0, `openat gave ${open.res}`);
    const id = open.res;
    const r1 = await c.fileRead(id, 64);
    assert.equal(Buffer.from(r1.payload).toString(), 'hello, io_uring');
    // reads are at offset 0 every time (a quirk clients rely on)
    assert.equal(Buffer.from((await c.fileRead(id, 5)).payload).toString(), 'hello');
    assert.equal((await c.fileWrite(id, new TextEncoder().encode('HELLO'))).res, 5);
    assert.equal(readFileSync(file, 'utf8'), 'HELLO, io_uring');
    assert.equal((await c.closeResource(id)).res, 0);
    const after = await c.submit({ kind: 'file_read', priority: 'normal', resourceId: id, length: 4 });
    assert.equal(after.res, -Errno.ENOENT);
    assert.equal((await c.release(id).catch((e) => e)).res, -Errno.ENOENT);
    // a missing file: the completion carries -ENOENT
    assert.equal((await c.openat(join(d.dir, 'missing'), C.O_RDONLY)).res, -Errno.ENOENT);
  });

  test('OPENAT result ids share the per-connection counter; a read over io_bytes_max is rejected', async () => {
    const own = await d.connect();
    try {
      const file = join(d.dir, 'ids.txt');
      writeFileSync(file, 'x');
      const fd = openSync(file, 'r');
      assert.equal((await own.registerFd(fd)).resourceId, 1);
      closeSync(fd);
      assert.equal((await own.openat(file, C.O_RDONLY)).res, 2);
      assert.equal((await own.openat(join(d.dir, 'nope'), C.O_RDONLY)).res, -Errno.ENOENT);
      const fd2 = openSync(file, 'r');
      assert.equal((await own.registerFd(fd2)).resourceId, 4);
      closeSync(fd2);
      const big = await own.submit({ kind: 'file_read', priority: 'normal', resourceId: 1, length: 4097 });
      assert.equal(big.res, -Errno.EINVAL);
    } finally {
      own.close();
    }
  });

  test('REGISTER_FD (SCM_RIGHTS): read a registered file, release, then -ENOENT', async () => {
    const file = join(d.dir, 'reg.txt');
    writeFileSync(file, 'registered');
    const fd = openSync(file, 'r');
    const reg = await c.registerFd(fd);
    closeSync(fd); // the daemon holds its own copy
    assert.equal(reg.res, 0);
    assert.ok(reg.resourceId > 0);
    assert.equal(Buffer.from((await c.fileRead(reg.resourceId, 100)).payload).toString(), 'registered');
    const rel = await c.release(reg.resourceId);
    assert.equal(rel.resourceId, reg.resourceId);
    const r = await c.submit({ kind: 'file_read', priority: 'normal', resourceId: reg.resourceId, length: 1 });
    assert.equal(r.res, -Errno.ENOENT);
  });

  test('sockets: SOCK_WRITE reaches the peer, SOCK_READ and POLL, release of a busy resource is -EBUSY', async () => {
    const [ours, peer, srv] = await socketPair(d.dir, 'pair.sock');
    try {
      handOver(ours); // the daemon reads this socket, not us
      const reg = await c.registerFd(fdOf(ours));
      const id = reg.resourceId;
      const got = new Promise<Buffer>((r) => peer.once('data', r));
      const w = await c.run({ kind: 'sock_write', priority: 'high', resourceId: id, data: new TextEncoder().encode('ping') });
      assert.equal(w.res, 4);
      assert.equal((await got).toString(), 'ping');
      const read = await c.start({ kind: 'sock_read', priority: 'normal', resourceId: id, length: 5 });
      const busy = await c.release(id);
      assert.deepEqual([busy.resourceId, busy.res], [0, -Errno.EBUSY]);
      peer.write('hello');
      const rc = await read.done;
      assert.equal(rc.res, 5);
      assert.equal(Buffer.from(rc.payload).toString(), 'hello');
      const poll = await c.start({ kind: 'poll', priority: 'normal', resourceId: id, pollMask: 0x1 });
      peer.write('x');
      assert.ok((await poll.done).res & 0x1);
      assert.equal((await c.release(id)).res, 0);
    } finally {
      ours.destroy();
      peer.destroy();
      srv.close();
    }
  });

  test('registered buffers: READ_FIXED fills it, WRITE_FIXED sends it, a second buffer is -EAGAIN', async () => {
    const own = await d.connect();
    const [ours, peer, srv] = await socketPair(d.dir, 'buf.sock');
    try {
      handOver(ours);
      const file = (await own.registerFd(fdOf(ours))).resourceId;
      const buf = await own.registerBuffer(new Uint8Array(0));
      assert.deepEqual([buf.res, buf.available], [0, 0]);
      assert.equal((await own.registerBuffer(new Uint8Array(1))).res, -Errno.EAGAIN);
      const tooLong = await own.submit({ kind: 'sock_write_fixed', priority: 'normal', resourceId: file, bufferId: buf.resourceId, length: 1 });
      assert.equal(tooLong.res, -Errno.EINVAL, 'write beyond the valid length');
      const rd = await own.start({ kind: 'sock_read_fixed', priority: 'normal', resourceId: file, bufferId: buf.resourceId, length: 16 });
      peer.write('fixed');
      const rc = await rd.done;
      assert.equal(rc.res, 5);
      assert.equal(Buffer.from(rc.payload).toString(), 'fixed');
      const got = new Promise<Buffer>((r) => peer.once('data', r));
      const wr = await own.run({ kind: 'sock_write_fixed', priority: 'normal', resourceId: file, bufferId: buf.resourceId, length: 5 });
      assert.equal(wr.res, 5);
      assert.equal((await got).toString(), 'fixed');
      const wrongKind = await own.submit({ kind: 'file_read', priority: 'normal', resourceId: buf.resourceId, length: 1 });
      assert.equal(wrongKind.res, -Errno.ENOENT, 'a buffer id is not a file');
    } finally {
      own.close();
      ours.destroy();
      peer.destroy();
      srv.close();
    }
  });

  test('ACCEPT on a registered listener: the new socket is a resource, the payload its peer address', async () => {
    if (!addon.ok) return;
    const own = await d.connect();
    const path = join(d.dir, 'accept.sock');
    // A listener Node does not watch, so only the daemon accepts on it.
    const [lfd] = addon.addon.listenUnix(path, 4);
    assert.ok(lfd >= 0);
    let peer: net.Socket | undefined;
    try {
      const reg = await own.registerFd(lfd);
      const acc = await own.start({ kind: 'accept', priority: 'normal', resourceId: reg.resourceId, sockaddrLength: 110 });
      peer = net.connect(path);
      const done = await acc.done;
      assert.ok(done.res > reg.resourceId, `accept gave ${done.res}`);
      assert.equal(done.payload.length, 2, 'an unbound peer: the family only');
      assert.deepEqual([...done.payload], [1, 0]);
      const got = new Promise<Buffer>((r) => peer!.once('data', r));
      assert.equal((await own.run({ kind: 'sock_write', priority: 'normal', resourceId: done.res, data: new TextEncoder().encode('hi') })).res, 2);
      assert.equal((await got).toString(), 'hi');
    } finally {
      own.close();
      peer?.destroy();
      addon.addon.closeFd(lfd);
    }
  });

  test('CONNECT a registered socket: the client\'s own fd ends up connected', async () => {
    if (!addon.ok) return;
    const own = await d.connect();
    const path = join(d.dir, 'connect.sock');
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(path, r));
    const accepted = new Promise<net.Socket>((r) => srv.once('connection', r));
    const fd = addon.addon.socketUnix();
    assert.ok(fd >= 0);
    try {
      const id = (await own.registerFd(fd)).resourceId;
      const p = Buffer.from(path);
      const sockaddr = new Uint8Array(2 + p.length + 1);
      sockaddr[0] = 1; // AF_UNIX, host order
      sockaddr.set(p, 2);
      const c = await own.run({ kind: 'connect', priority: 'normal', resourceId: id, sockaddr });
      assert.equal(c.res, 0);
      const peer = await accepted;
      // The daemon's copy shares the open file description: our fd is connected too.
      const got = new Promise<Buffer>((r) => peer.once('data', r));
      assert.equal(addon.addon.sendBytes(fd, new TextEncoder().encode('mine')), 4);
      assert.equal((await got).toString(), 'mine');
      peer.destroy();
    } finally {
      own.close();
      addon.addon.closeFd(fd);
      srv.close();
    }
  });

  test('stats and trace: register, poll, completion, release read back in order', async () => {
    const own = await d.connect();
    const [ours, peer, srv] = await socketPair(d.dir, 'trace.sock');
    try {
      handOver(ours);
      const before = await own.trace(0n, 0);
      const latest = before.latestSequence;
      assert.ok(latest > 0n);
      const id = (await own.registerFd(fdOf(ours))).resourceId;
      const poll = await own.start({ kind: 'poll', priority: 'low', resourceId: id, pollMask: 1 });
      const mid = await own.stats();
      assert.ok(mid.outstandingCreditTasks >= 1);
      assert.equal(mid.perClientCreditLimit, 3);
      peer.write('!');
      await poll.done;
      await own.release(id);
      const t = await own.trace(latest, 256);
      const mine = t.events.filter((e) => e.resourceId === id || e.taskId === poll.taskId);
      assert.deepEqual(mine.map((e) => e.eventKind), [4, 1, 3, 5]);
      assert.equal(mine[1].priority, 1);
      assert.equal(t.latestSequence, t.events[t.events.length - 1].sequence);
      const last2 = await own.trace(t.latestSequence - 2n, 256);
      assert.equal(last2.events.length, 2);
      const s = await own.stats();
      assert.ok(s.acceptedSubmits > 0n && s.completions > 0n);
      assert.equal(s.activeClients, 2);
    } finally {
      own.close();
      ours.destroy();
      peer.destroy();
      srv.close();
    }
  });

  test('traceEvents: the trace as a stream of new events', async () => {
    const start = (await c.trace(0n, 0)).latestSequence;
    const ac = new AbortController();
    const seen: number[] = [];
    const reading = (async () => {
      for await (const e of traceEvents(c, { after: start, intervalMs: 20, signal: ac.signal })) {
        seen.push(e.eventKind);
        if (seen.length === 4) ac.abort();
      }
    })();
    await c.nop();
    await c.nop();
    await reading;
    assert.deepEqual(seen, [1, 3, 1, 3]);
  });

  test('hostile requests: the daemon closes without a byte', async () => {
    const nop = encodeRequest({ kind: 'nop', priority: 'normal' });
    const cases: [string, Uint8Array][] = [
      ['bad magic', (() => { const b = nop.slice(); b[0] = 0; return b; })()],
      ['major mismatch', (() => { const b = nop.slice(); b[4] = 2; return b; })()],
      ['priority 3', encodeRequest({ kind: 'timeout', priority: 'normal', timeoutNsec: 1n }, { priorityField: 3 })],
      ['reserved1', encodeRequest({ kind: 'nop', priority: 'normal' }, { reserved1: 1 })],
      ['kind 99', (() => { const b = nop.slice(); b[8] = 99; return b; })()],
      ['write over io_bytes_max', encodeRequest({ kind: 'file_write', priority: 'normal', resourceId: 1, data: new Uint8Array(4097) })],
      ['fd with a NOP', nop],
    ];
    for (const [why, bytes] of cases) {
      const s = await d.raw();
      const hs = await new Promise<Buffer>((resolve) => {
        s.once('data', resolve);
        s.write(encodeHandshakeRequest());
      });
      assert.equal(decodeHandshakeResponse(hs).status, 0);
      let got: Buffer;
      if (why === 'fd with a NOP') {
        // an fd may only ride on REGISTER_FD: anything else is a violation
        const closed = sendUntilClose(s);
        const fd = openSync(d.dir, 'r');
        assert.equal(addon.ok && addon.addon.sendBytes(fdOf(s), bytes, fd), 16);
        closeSync(fd);
        got = await closed;
      } else got = await sendUntilClose(s, bytes);
      assert.equal(got.length, 0, why);
      s.destroy();
    }
  });

  test('requests sent before a half-close are all answered, then the daemon closes', async () => {
    const s = await d.raw();
    const nop = encodeRequest({ kind: 'nop', priority: 'normal' });
    const got = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      s.on('data', (b: Buffer) => chunks.push(b));
      s.on('close', () => resolve(Buffer.concat(chunks)));
      s.end(Buffer.concat([encodeHandshakeRequest(), nop, nop, nop]));
    });
    assert.equal(got.length, 52 + 3 * (16 + 24), 'the handshake, three submit results, three completions');
  });

  test('hostile: a malformed timeout and a partial cancel target, then EOF', async () => {
    for (const part of [
      encodeRequest({ kind: 'timeout', priority: 'normal', timeoutNsec: 1n }).subarray(0, 16),
      encodeRequest({ kind: 'cancel', priority: 'normal', target: 1n }).subarray(0, 23),
    ]) {
      const s = await d.raw();
      const got = await new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        s.on('data', (b: Buffer) => chunks.push(b));
        s.on('close', () => resolve(Buffer.concat(chunks)));
        s.write(encodeHandshakeRequest());
        s.end(part);
      });
      assert.equal(got.length, 52, 'only the handshake answer');
    }
  });

  test('a rejected handshake (reserved 1): status REJECT, zero capabilities, then EOF; the client reports EPROTO', async () => {
    // As the original's test: the NOP goes after the answer is read (sent together, the daemon's
    // close with unread bytes resets the connection, and Node may drop the answer with it).
    const s = await d.raw();
    const chunks: Buffer[] = [];
    const closed = new Promise<void>((r) => s.on('close', () => r()));
    s.on('error', () => {});
    await new Promise<void>((r) => {
      s.on('data', (b: Buffer) => { chunks.push(b); if (Buffer.concat(chunks).length >= 52) r(); });
      s.write(encodeHandshakeRequest({ reserved: 1 }));
    });
    s.write(encodeRequest({ kind: 'nop', priority: 'normal' }));
    await closed;
    const got = Buffer.concat(chunks);
    assert.equal(got.length, 52);
    const r = decodeHandshakeResponse(got);
    assert.equal(r.status, 1);
    assert.deepEqual(got.subarray(16), Buffer.alloc(36));
    const s2 = await d.raw();
    const { unixStream } = await import('../../server/iouring/unixstream.ts');
    const stream = unixStream(s2);
    const orig = stream.write;
    stream.write = (b) => orig(b.length === 16 && b[8] === 1 && b[9] === 0 && b[12] === 0 ? encodeHandshakeRequest({ reserved: 1 }) : b);
    await assert.rejects(IodClient.connect(stream), (e: unknown) => (e as { errno?: number }).errno === Errno.EPROTO);
  });

  test('client waits for credits instead of failing: 8 timeouts through 3 credits', async () => {
    const all = await Promise.all(Array.from({ length: 8 }, () => c.run({ kind: 'timeout', priority: 'normal', timeoutNsec: 1_000_000n })));
    assert.deepEqual(all.map((x) => x.res), new Array(8).fill(-Errno.ETIME));
    await assert.rejects(c.run({ kind: 'close', priority: 'normal', resourceId: 999 }), (e: unknown) => e instanceof IodRejected && e.errno === Errno.ENOENT);
  });
});
