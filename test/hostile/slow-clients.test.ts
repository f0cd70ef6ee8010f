// Clients that hold on to what the server gives them: one that sends reads and never reads its
// socket (9P and /gateway/local), connections that never finish a message (slowloris), ones that
// never send Tversion, idle WebSockets filling every slot, and files in /ram made huge and sparse.
// The server's memory stays bounded and the health client keeps reading meanwhile.
import assert from 'node:assert/strict';
import { type Socket, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../shared/client/index.ts';
import { type Dialect, type Message, encode, nullStat } from '../../shared/ninep/index.ts';
import { dial } from '../../server/net/transport.ts';
import { type HttpServed, closed, eventually, gatewayClient, openWs, startHttpServe } from '../support/gateway.ts';
import { Health, MiB, healthLine, rss } from '../support/health.ts';
import { tversion } from '../support/fuzz.ts';
import { RawConn, as } from '../support/rawconn.ts';

const MSIZE = 1 << 20;

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('error', reject);
    s.once('connect', () => { s.on('error', () => {}); resolve(s); });
  });
}

/** Frames that walk to /dev/zero, open it, and ask `n` reads of a whole msize each. */
function zeroReads(dialect: Dialect, n: number): Buffer {
  const enc = (m: Message) => encode(m, dialect);
  const out: Uint8Array[] = [
    tversion(dialect, MSIZE),
    enc({ type: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'greedy', aname: '', nUname: 0xffffffff }),
    enc({ type: 'Twalk', tag: 2, fid: 0, newfid: 1, wnames: ['dev', 'zero'] }),
    enc(dialect === '9P2000.L' ? { type: 'Tlopen', tag: 3, fid: 1, flags: 0 } : { type: 'Topen', tag: 3, fid: 1, mode: 0 }),
  ];
  for (let i = 0; i < n; i++) out.push(enc({ type: 'Tread', tag: 10 + (i % 60000), fid: 1, offset: 0n, count: MSIZE }));
  return Buffer.concat(out);
}

describe('clients that never read, never finish, never speak', () => {
  let g: HttpServed;
  let idle = 0;
  before(async () => {
    g = await startHttpServe([
      '--max-connections', '12', '--idle-timeout', '400', '--version-timeout', '1500',
      '--max-websockets', '4', '--max-unsent', String(4 * MiB),
    ]);
    idle = rss(g.proc.pid!);
  });
  after(async () => { await g?.stop(); });

  it('a 9P client that sends 3,000 reads of 1 MiB from /dev/zero and never reads grows serve by < 64 MiB', async () => {
    const health = await Health.start(g.address);
    const s = await rawSocket(g.port);
    s.pause(); // never read: the kernel's buffers fill, then serve's
    s.write(zeroReads('9P2000.L', 3000)); // 69 KB of requests
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 100));
      peak = Math.max(peak, rss(g.proc.pid!));
    }
    const h = await health.stop();
    console.log(healthLine('a client that never reads', h));
    console.log(`serve RSS: idle ${(idle / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB with the greedy client`);
    assert.deepEqual(h.failures, []);
    assert.ok(peak - idle < 64 * MiB, `serve grew by ${((peak - idle) / MiB).toFixed(1)} MiB`);
    s.destroy();
    // Once it is gone, serve reads others as before.
    const c = await Client.connect(await dial(g.address), { uname: 'after' });
    assert.equal(new TextDecoder().decode(await c.readFile('/hellofs/hello')), 'Hello, World!\n');
    await c.end();
  });

  it('the same through /gateway/local: 1,000 reads never read', async () => {
    const ws = await openWs(g.ws('/gateway/local'));
    const before = rss(g.proc.pid!);
    // ws has no way to stop reading a socket: pause the one under it.
    (ws as unknown as { _socket: Socket })._socket.pause();
    const frames = zeroReads('9P2000.u', 1000);
    for (let p = 0; p < frames.length;) {
      const size = frames.readUInt32LE(p);
      ws.send(frames.subarray(p, p + size));
      p += size;
    }
    let peak = 0;
    for (let i = 0; i < 15; i++) {
      await new Promise((r) => setTimeout(r, 100));
      peak = Math.max(peak, rss(g.proc.pid!));
    }
    console.log(`serve RSS: before ${(before / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB with a WebSocket that never reads`);
    assert.ok(peak - before < 64 * MiB, `serve grew by ${((peak - before) / MiB).toFixed(1)} MiB`);
    ws.terminate();
  });

  it('slowloris: 12 connections that send 3 bytes hold no slot once idle; a new client gets in', async () => {
    const health = await Health.start(g.address); // one slot of the 12
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 11; i++) {
        const s = await rawSocket(g.port);
        s.write(Buffer.from([0x13, 0, 0]));
        held.push(s);
      }
      // Every slot is taken now; past --idle-timeout a newcomer evicts the idlest of them.
      await new Promise((r) => setTimeout(r, 500));
      const c = await Client.connect(await dial(g.address), { uname: 'newcomer' });
      assert.equal(new TextDecoder().decode(await c.readFile('/hellofs/hello')), 'Hello, World!\n');
      await c.end();
      const h = await health.stop();
      console.log(healthLine('slowloris', h));
      assert.deepEqual(h.failures, [], 'the busy health connection must never be the one evicted');
    } finally {
      for (const s of held) s.destroy();
    }
  });

  it('a connection that never sends Tversion is closed after --version-timeout', async () => {
    const s = await rawSocket(g.port);
    const t0 = Date.now();
    await new Promise<void>((resolve) => s.once('close', () => resolve()));
    const waited = Date.now() - t0;
    assert.ok(waited >= 1000, `closed after ${waited} ms, before the deadline`);
    await g.logged(/no Tversion within 1500 ms/);
  });

  it('idle WebSockets filling every slot (--max-websockets 4) do not lock out the playground', async () => {
    assert.ok(await eventually(async () => (await g.status()).websockets === 0));
    const idleOnes = await Promise.all([0, 1, 2, 3].map(() => openWs(g.ws('/gateway/local'))));
    const first = closed(idleOnes[0]);
    await new Promise((r) => setTimeout(r, 500));
    const { client } = await gatewayClient(g.ws('/gateway/local'), { uname: 'page' });
    assert.equal(new TextDecoder().decode(await client.readFile('hellofs/hello')), 'Hello, World!\n');
    await client.end();
    assert.equal((await first).code, 4429);
    for (const w of idleOnes) w.terminate();
  });

  it('/ram: 50 files made 64 MiB long by one byte and a truncate stay sparse', async () => {
    const health = await Health.start(g.address);
    const before = rss(g.proc.pid!);
    const conn = await RawConn.open(g.port, '127.0.0.1', '9P2000.u');
    const req = (m: Message) => conn.request(m);
    as(await req({ type: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000.u' }), 'Rversion');
    as(await req({ type: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'big', aname: 'ram', nUname: 0 }), 'Rattach');
    let refused = 0;
    for (let i = 0; i < 50; i++) {
      as(await req({ type: 'Twalk', tag: 2, fid: 0, newfid: 1, wnames: [] }), 'Rwalk');
      as(await req({ type: 'Tcreate', tag: 3, fid: 1, name: `sparse${i}`, perm: 0o644, mode: 2, extension: '' }), 'Rcreate');
      const w = await req({ type: 'Twrite', tag: 4, fid: 1, offset: BigInt(64 * MiB - 1), data: new Uint8Array([1]) });
      const t = await req({ type: 'Twstat', tag: 5, fid: 1, stat: { ...nullStat(), length: BigInt(64 * MiB - 2) } });
      if (w.type !== 'Rwrite' || t.type !== 'Rwstat') refused++;
      as(await req({ type: 'Tclunk', tag: 6, fid: 1 }), 'Rclunk');
    }
    const grown = rss(g.proc.pid!) - before;
    const h = await health.stop();
    console.log(healthLine('50 sparse 64 MiB files in /ram', h));
    console.log(`serve grew by ${(grown / MiB).toFixed(1)} MiB for 50 x 64 MiB sparse files (${refused} refused by the budget)`);
    assert.deepEqual(h.failures, []);
    assert.ok(grown < 64 * MiB, `serve grew by ${(grown / MiB).toFixed(1)} MiB`);
    for (let i = 0; i < 50; i++) {
      const r = await req({ type: 'Twalk', tag: 7, fid: 0, newfid: 2, wnames: [`sparse${i}`] });
      if (r.type === 'Rwalk') await req({ type: 'Tremove', tag: 8, fid: 2 });
    }
    conn.close();
  });
});
