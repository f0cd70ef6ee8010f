// A .L client's Tread, Twrite, Tclunk and Tgetattr through a mount of a real diod pass as bytes
// (RemoteView.forward over a TagMux): only tag and fid are rewritten. Between the mount and diod
// sits a proxy that counts what reaches diod and, when a test asks, spoils or withholds one of
// diod's replies, so the checks a forwarded reply must pass are tried against a remote that lies.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../shared/client/index.ts';
import {
  Errno, FrameReader, L_O_RDONLY, L_O_RDWR, type Message, MsgType, NOFID, NONUNAME, TagMux, frameTag, frameType,
  setFrameTag, setFrameU32,
} from '../../shared/ninep/index.ts';
import { Namespace } from '../../server/namespace/namespace.ts';
import { RemoteFileServer } from '../../server/namespace/remote-fs.ts';
import { dial } from '../../server/net/transport.ts';
import { type Diod, startDiod } from '../support/diod.ts';
import { runInLinux } from '../support/linuxvm.ts';
import { RawConn, as } from '../support/rawconn.ts';
import { type InProcess, startListener } from '../support/styxlab.ts';

/** What the proxy does with the next reply of a type: change it, or withhold it (null). */
type Spoil = (frame: Uint8Array) => Uint8Array | null;

/** A TCP proxy in front of diod that frames both directions. */
class Proxy {
  /** Type numbers of the requests that reached diod. */
  readonly sent: number[] = [];
  private spoil: { type: number; f: Spoil } | null = null;
  private readonly socks = new Set<Socket>();
  private constructor(readonly server: Server, readonly port: number) {}

  static async start(diodPort: number): Promise<Proxy> {
    let p!: Proxy;
    const server = createServer((down) => {
      const up = connect({ host: '127.0.0.1', port: diodPort });
      p.socks.add(down).add(up);
      const fromClient = new FrameReader(1 << 20);
      const fromDiod = new FrameReader(1 << 20);
      /** Tags of requests diod has not answered yet. */
      const pending = new Set<number>();
      let downClosed = false;
      // diod 1.0.24 can crash when a connection goes while its workers still answer on it (see
      // test/support/diod.ts): once the mount's side is gone, diod's side is closed only when diod
      // has answered what it was sent (or after 1 s: a flushed request may never be answered).
      const closeUp = () => { if (downClosed && pending.size === 0) up.end(); };
      down.on('close', () => {
        downClosed = true;
        closeUp();
        setTimeout(() => up.destroy(), 1000).unref();
      });
      up.on('close', () => down.destroy());
      down.on('data', (b) => fromClient.push(b, (f) => { p.sent.push(frameType(f)); pending.add(frameTag(f)); up.write(f); }));
      up.on('data', (b) => fromDiod.push(b, (f) => {
        pending.delete(frameTag(f));
        closeUp();
        const s = p.spoil;
        if (s && frameType(f) === s.type) {
          p.spoil = null;
          const out = s.f(Uint8Array.from(f));
          if (out) down.write(out);
          return;
        }
        down.write(f);
      }));
      down.on('error', () => {});
      up.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const a = server.address();
    p = new Proxy(server, typeof a === 'object' && a ? a.port : 0);
    return p;
  }

  /** The next reply of this type goes through f. */
  spoilNext(type: number, f: Spoil): void { this.spoil = { type, f }; }

  count(type: number): number { return this.sent.filter((t) => t === type).length; }

  async close(): Promise<void> {
    for (const s of this.socks) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A namespace with diod (through the proxy) mounted at /d over a TagMux, served on a listener. */
async function mountVia(proxy: Proxy, exportDir: string, deadlineMs = 0) {
  const mux = new TagMux(await dial(`tcp!127.0.0.1!${proxy.port}`));
  /** Types of the requests the mount's Client sent (not the ones forwarded as bytes). */
  const viaClient: string[] = [];
  const remote = await Client.connect(mux.clientEnd, {
    version: '9P2000.L', aname: exportDir, uname: 'nobody', msize: 65536,
    trace: (dir, _text, m) => { if (dir === '<-') viaClient.push(m.type); },
  });
  const ns = new Namespace();
  const fs = new RemoteFileServer(remote, { deadlineMs }, mux);
  ns.mount('d', 'remote', 'diod', fs);
  // A guest kernel under load may send Tversion long after QEMU connects.
  const srv: InProcess = await startListener(ns, { versionTimeoutMs: 170_000 });
  return {
    ns, remote, srv, viaClient,
    async close() { await srv.close(); remote.close(); },
  };
}

/** A .L connection attached straight to the mount (aname d) as fid 0. */
async function attach(port: number): Promise<{ c: RawConn; rpc: (m: object) => Promise<Message> }> {
  const c = await RawConn.open(port, '127.0.0.1', '9P2000.L', 65536);
  as(await c.request({ type: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000.L' }), 'Rversion');
  const rpc = (m: object) => c.request({ ...m, tag: c.tag() } as Message);
  as(await rpc({ type: 'Tattach', fid: 0, afid: NOFID, uname: 'nobody', aname: 'd', nUname: NONUNAME }), 'Rattach');
  return { c, rpc };
}

async function openFile(rpc: (m: object) => Promise<Message>, fid: number, name: string, flags = L_O_RDONLY): Promise<void> {
  as(await rpc({ type: 'Twalk', fid: 0, newfid: fid, wnames: [name] }), 'Rwalk');
  as(await rpc({ type: 'Tlopen', fid, flags }), 'Rlopen');
}

describe('the byte path through a mount of diod', () => {
  let diod: Diod;
  let proxy: Proxy;
  const a = randomBytes(200_000);
  const b = randomBytes(70_000);

  before(async () => {
    diod = await startDiod();
    chmodSync(diod.exportDir, 0o777);
    writeFileSync(join(diod.exportDir, 'a'), a);
    writeFileSync(join(diod.exportDir, 'b'), b);
    writeFileSync(join(diod.exportDir, 'w'), '');
    chmodSync(join(diod.exportDir, 'w'), 0o666);
    proxy = await Proxy.start(diod.port);
  });

  after(async () => {
    await proxy?.close();
    await diod?.stop();
  });

  it('passes reads of two files, interleaved, as bytes and each reply to its own request', async () => {
    const m = await mountVia(proxy, diod.exportDir);
    const { c, rpc } = await attach(m.srv.port);
    try {
      await openFile(rpc, 1, 'a');
      await openFile(rpc, 2, 'b');
      const before = proxy.count(MsgType.Tread);
      const chunk = 16_000;
      const reads: Array<Promise<Message>> = [];
      for (let off = 0; off < a.length; off += chunk) reads.push(rpc({ type: 'Tread', fid: 1, offset: BigInt(off), count: chunk }));
      for (let off = 0; off < b.length; off += chunk) reads.push(rpc({ type: 'Tread', fid: 2, offset: BigInt(off), count: chunk }));
      const got = (await Promise.all(reads)).map((r) => as(r, 'Rread').data);
      const na = Math.ceil(a.length / chunk);
      assert.deepEqual(Buffer.concat(got.slice(0, na)), a);
      assert.deepEqual(Buffer.concat(got.slice(na)), b);
      assert.equal(proxy.count(MsgType.Tread) - before, reads.length);
      assert.ok(!m.viaClient.includes('Tread'), 'the mount\'s client sent no Tread: they went as bytes');
      assert.deepEqual(c.stray, []);
    } finally {
      c.close();
      await m.close();
    }
  });

  it('passes writes and getattr as bytes', async () => {
    const m = await mountVia(proxy, diod.exportDir);
    const { c, rpc } = await attach(m.srv.port);
    try {
      await openFile(rpc, 1, 'w', L_O_RDWR);
      const data = randomBytes(30_000);
      const w = as(await rpc({ type: 'Twrite', fid: 1, offset: 0n, data }), 'Rwrite');
      assert.equal(w.count, data.length);
      assert.deepEqual(readFileSync(join(diod.exportDir, 'w')), data);
      const g = as(await rpc({ type: 'Tgetattr', fid: 1, requestMask: 0x7ffn }), 'Rgetattr');
      assert.equal(g.attr.size, BigInt(data.length));
      assert.ok(!m.viaClient.includes('Twrite') && !m.viaClient.includes('Tgetattr'));
    } finally {
      c.close();
      await m.close();
    }
  });

  it("carries the mount's own Twrite (head and data sent apart) on the shared tags", async () => {
    const m = await mountVia(proxy, diod.exportDir);
    // A 9P2000 client's requests are translated, so they go out through the mount's Client.
    const c = await RawConn.open(m.srv.port, '127.0.0.1', '9P2000', 65536);
    const rpc = (msg: object) => c.request({ ...msg, tag: c.tag() } as Message);
    try {
      as(await c.request({ type: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000' }), 'Rversion');
      as(await rpc({ type: 'Tattach', fid: 0, afid: NOFID, uname: 'nobody', aname: 'd', nUname: NONUNAME }), 'Rattach');
      as(await rpc({ type: 'Twalk', fid: 0, newfid: 1, wnames: ['w'] }), 'Rwalk');
      as(await rpc({ type: 'Topen', fid: 1, mode: 1 }), 'Ropen');
      const data = randomBytes(40_000);
      const writes = await Promise.all([0, 1].map((i) => rpc({ type: 'Twrite', fid: 1, offset: BigInt(i * 20_000), data: data.subarray(i * 20_000, (i + 1) * 20_000) })));
      for (const w of writes) assert.equal(as(w, 'Rwrite').count, 20_000);
      assert.ok(m.viaClient.includes('Twrite'));
      assert.deepEqual(readFileSync(join(diod.exportDir, 'w')).subarray(0, data.length), data);
    } finally {
      c.close();
      await m.close();
    }
  });

  it('keeps fids apart between connections and frees them on clunk', async () => {
    const m = await mountVia(proxy, diod.exportDir);
    const one = await attach(m.srv.port);
    const two = await attach(m.srv.port);
    try {
      const base = m.ns.fidCount;
      // The same local fid number in both connections names a different remote fid.
      await openFile(one.rpc, 5, 'a');
      await openFile(two.rpc, 5, 'b');
      const ra = as(await one.rpc({ type: 'Tread', fid: 5, offset: 0n, count: 100 }), 'Rread');
      const rb = as(await two.rpc({ type: 'Tread', fid: 5, offset: 0n, count: 100 }), 'Rread');
      assert.deepEqual(Buffer.from(ra.data), a.subarray(0, 100));
      assert.deepEqual(Buffer.from(rb.data), b.subarray(0, 100));
      const clunks = proxy.count(MsgType.Tclunk);
      as(await one.rpc({ type: 'Tclunk', fid: 5 }), 'Rclunk');
      assert.equal(proxy.count(MsgType.Tclunk), clunks + 1);
      assert.ok(!m.viaClient.includes('Tclunk'));
      // Gone in the namespace and in the mount: a read fails, the number can be walked again.
      const r = as(await one.rpc({ type: 'Tread', fid: 5, offset: 0n, count: 10 }), 'Rlerror');
      assert.equal(r.ecode, Errno.EBADF);
      assert.equal(m.ns.fidCount, base + 2);
      await openFile(one.rpc, 5, 'b');
      const again = as(await one.rpc({ type: 'Tread', fid: 5, offset: 0n, count: 100 }), 'Rread');
      assert.deepEqual(Buffer.from(again.data), b.subarray(0, 100));
      // The other connection's fid 5 is untouched.
      as(await two.rpc({ type: 'Tread', fid: 5, offset: 100n, count: 10 }), 'Rread');
    } finally {
      one.c.close();
      two.c.close();
      await m.close();
    }
  });

  /** One forwarded Tread whose reply the proxy spoils: the local client must get EPROTO. */
  async function spoiledRead(spoil: Spoil): Promise<void> {
    const m = await mountVia(proxy, diod.exportDir);
    const { c, rpc } = await attach(m.srv.port);
    try {
      await openFile(rpc, 1, 'a');
      proxy.spoilNext(MsgType.Rread, spoil);
      const r = as(await rpc({ type: 'Tread', fid: 1, offset: 0n, count: 1000 }), 'Rlerror');
      assert.equal(r.ecode, Errno.EPROTO);
      assert.deepEqual(c.stray, []);
      // The local connection is intact: the namespace still answers on it.
      as(await rpc({ type: 'Tattach', fid: 9, afid: NOFID, uname: 'nobody', aname: '', nUname: NONUNAME }), 'Rattach');
      // The mount's connection, which can no longer be trusted, is closed.
      assert.ok(m.remote.closed);
    } finally {
      c.close();
      await m.close();
    }
  }

  it('refuses an Rread whose count disagrees with its size', () => spoiledRead((f) => {
    setFrameU32(f, 7, f.length); // says more than it holds
    return f;
  }));

  it('refuses a reply of the wrong type', () => spoiledRead((f) => {
    f[4] = MsgType.Rwrite;
    return f;
  }));

  it('refuses a reply with a tag no request has', () => spoiledRead((f) => {
    setFrameTag(f, (frameTag(f) + 1000) % 0xffff);
    return f;
  }));

  it('refuses an Rread holding more than was asked', () => spoiledRead((f) => {
    const n = f.length - 11 + 500;
    const big = new Uint8Array(11 + n);
    big.set(f);
    setFrameU32(big, 0, big.length);
    setFrameU32(big, 7, n);
    return big;
  }));

  it('flushes a forwarded read at the remote when the local client flushes it', async () => {
    const m = await mountVia(proxy, diod.exportDir);
    const { c, rpc } = await attach(m.srv.port);
    try {
      await openFile(rpc, 1, 'a');
      proxy.spoilNext(MsgType.Rread, () => null); // diod's answer never arrives
      const flushes = proxy.count(MsgType.Tflush);
      const tag = c.tag();
      const read = c.request({ type: 'Tread', tag, fid: 1, offset: 0n, count: 100 });
      read.catch(() => {});
      as(await rpc({ type: 'Tflush', oldtag: tag }), 'Rflush');
      // The remote hears of it; its Rflush settles the request and frees its wire tag.
      while (proxy.count(MsgType.Tflush) === flushes) await new Promise((r) => setImmediate(r));
      const again = as(await rpc({ type: 'Tread', fid: 1, offset: 0n, count: 100 }), 'Rread');
      assert.deepEqual(Buffer.from(again.data), a.subarray(0, 100));
      assert.ok(!m.remote.closed);
    } finally {
      c.close();
      await m.close();
    }
  });

  it('answers ETIMEDOUT when the remote does not answer a forwarded read by its deadline', async () => {
    const m = await mountVia(proxy, diod.exportDir, 300);
    const { c, rpc } = await attach(m.srv.port);
    try {
      await openFile(rpc, 1, 'a');
      proxy.spoilNext(MsgType.Rread, () => null);
      const flushes = proxy.count(MsgType.Tflush);
      const r = as(await rpc({ type: 'Tread', fid: 1, offset: 0n, count: 100 }), 'Rlerror');
      assert.equal(r.ecode, Errno.ETIMEDOUT);
      assert.equal(proxy.count(MsgType.Tflush), flushes + 1);
      as(await rpc({ type: 'Tread', fid: 1, offset: 0n, count: 100 }), 'Rread');
    } finally {
      c.close();
      await m.close();
    }
  });

  it('serves Linux v9fs attached straight to the mount, its reads and writes passed as bytes', async () => {
    const m = await mountVia(proxy, diod.exportDir);
    try {
      const big = randomBytes(3 << 20);
      writeFileSync(join(diod.exportDir, 'big'), big);
      const reads = proxy.count(MsgType.Tread);
      const r = await runInLinux({
        ports: [m.srv.port],
        timeoutMs: 180_000,
        script: [
          'set -e',
          'mount9p /a version=9p2000.L aname=d msize=65560',
          'echo "md5: $(md5sum < /a/big)"',
          'echo "size: $(stat -c %s /a/big)"',
          'head -c 200000 /a/big > /a/copy',
          'umount /a',
          'echo done',
        ].join('\n'),
      });
      assert.equal(r.code, 0, r.output + r.console.slice(-2000));
      assert.match(r.output, new RegExp(`^md5: ${createHash('md5').update(big).digest('hex')}`, 'm'));
      assert.match(r.output, new RegExp(`^size: ${big.length}$`, 'm'));
      assert.deepEqual(readFileSync(join(diod.exportDir, 'copy')), big.subarray(0, 200000));
      assert.ok(proxy.count(MsgType.Tread) - reads >= (3 << 20) / 65536);
      assert.ok(!m.viaClient.includes('Tread') && !m.viaClient.includes('Twrite'), 'reads and writes went as bytes');
    } finally {
      await m.close();
    }
  });
});
