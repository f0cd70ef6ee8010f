// The client against servers that misbehave on purpose: a tiny scripted 9P server on 127.0.0.1
// that answers version and attach properly and then does what each test tells it (a reply with
// an unknown tag, the wrong type, a malformed body, a bad size, a hang-up), plus the exact
// Tflush/Rflush orderings that a real server only produces by chance.
import assert from 'node:assert/strict';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import { Client, NinepError, isAbortError } from '../../shared/client/index.ts';
import { FrameReader, QTDIR, type Rmsg, type Tmsg, decode, encode } from '../../shared/ninep/index.ts';
import { dial } from '../../server/net/transport.ts';

interface Conn {
  sock: Socket;
  reply(r: Rmsg): void;
  raw(bytes: Uint8Array): void;
  /** Resolves when the client side has closed the connection. */
  closed: Promise<void>;
}

interface Scripted {
  address: string;
  /** Every connection accepted so far. */
  conns: Conn[];
  close(): Promise<void>;
}

type Handler = (m: Tmsg, c: Conn) => void;

const servers: Server[] = [];
after(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
});

/** Starts a scripted server; version and attach are answered unless `handler` takes them. */
async function scripted(handler: Handler, opts: { msize?: number; version?: string; takeVersion?: boolean } = {}): Promise<Scripted> {
  const conns: Conn[] = [];
  const server = createServer((sock) => {
    let closedResolve!: () => void;
    const conn: Conn = {
      sock,
      reply: (r) => { if (!sock.destroyed) sock.write(encode(r, '9P2000.L')); },
      raw: (b) => { if (!sock.destroyed) sock.write(b); },
      closed: new Promise((r) => { closedResolve = r; }),
    };
    conns.push(conn);
    sock.on('close', () => closedResolve());
    sock.on('error', () => {});
    const reader = new FrameReader(1 << 20);
    sock.on('data', (chunk: Buffer) => {
      reader.push(chunk, (frame) => {
        const m = decode(frame, '9P2000.L') as Tmsg;
        if (m.type === 'Tversion' && !opts.takeVersion) {
          conn.reply({ type: 'Rversion', tag: m.tag, msize: opts.msize ?? 8192, version: opts.version ?? m.version });
        } else if (m.type === 'Tattach' && !opts.takeVersion) {
          conn.reply({ type: 'Rattach', tag: m.tag, qid: { type: QTDIR, vers: 0, path: 1n } });
        } else if (m.type === 'Tclunk') {
          conn.reply({ type: 'Rclunk', tag: m.tag });
        } else {
          handler(m, conn);
        }
      });
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    address: `tcp!127.0.0.1!${port}`,
    conns,
    close: () => new Promise<void>((r) => { for (const c of conns) c.sock.destroy(); server.close(() => r()); }),
  };
}

/** Three pipelined reads that the scripted server will answer (or not) as it likes. */
function threeReads(c: Client): Array<Promise<unknown>> {
  return [0, 1, 2].map((i) => c.rpc({ type: 'Tread', fid: c.rootFid, offset: BigInt(i * 100), count: 100 }));
}

async function allFailWith(calls: Array<Promise<unknown>>, kind: NinepError['kind'], pattern: RegExp): Promise<void> {
  const results = await Promise.allSettled(calls);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    const e = (r as PromiseRejectedResult).reason;
    assert.ok(e instanceof NinepError, String(e));
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, pattern);
  }
}

describe('a server that breaks the protocol', () => {
  test('a reply with an unknown tag fails every pending call and closes', async () => {
    const srv = await scripted((m, c) => {
      // Answer only the last of the three reads, under a tag nobody used.
      if (m.type === 'Tread' && m.offset === 200n) c.reply({ type: 'Rread', tag: 4000, data: new Uint8Array(1) });
    });
    const client = await Client.connect(await dial(srv.address));
    await allFailWith(threeReads(client), 'protocol', /unknown tag 4000/);
    assert.ok(client.closed);
    await srv.conns[0].closed;
    await assert.rejects(client.stat('/'), (e: unknown) => e instanceof NinepError && e.kind === 'protocol');
  });

  test('a reply of the wrong type', async () => {
    const srv = await scripted((m, c) => {
      if (m.type === 'Tread' && m.offset === 0n) c.reply({ type: 'Rwrite', tag: m.tag, count: 0 });
    });
    const client = await Client.connect(await dial(srv.address));
    await allFailWith(threeReads(client), 'protocol', /Rwrite in reply to Tread/);
    await srv.conns[0].closed;
  });

  test('a reply with a malformed body', async () => {
    const srv = await scripted((m, c) => {
      if (m.type !== 'Tread' || m.offset !== 100n) return;
      // Rread claiming 100 bytes of data but carrying 3.
      const f = new Uint8Array([14, 0, 0, 0, 117, m.tag & 0xff, m.tag >> 8, 100, 0, 0, 0, 1, 2, 3]);
      c.raw(f);
    });
    const client = await Client.connect(await dial(srv.address));
    await allFailWith(threeReads(client), 'protocol', /malformed reply/);
    await srv.conns[0].closed;
  });

  test('a frame with an impossible size field', async () => {
    const srv = await scripted((m, c) => {
      if (m.type === 'Tread' && m.offset === 0n) c.raw(new Uint8Array([3, 0, 0, 0, 117, 0, 0]));
    });
    const client = await Client.connect(await dial(srv.address));
    await allFailWith(threeReads(client), 'protocol', /size 3/);
    await srv.conns[0].closed;
  });

  test('a reply larger than msize', async () => {
    const srv = await scripted((m, c) => {
      if (m.type === 'Tread' && m.offset === 0n) c.reply({ type: 'Rread', tag: m.tag, data: new Uint8Array(9000) });
    }, { msize: 8192 });
    const client = await Client.connect(await dial(srv.address));
    assert.equal(client.msize, 8192);
    await allFailWith(threeReads(client), 'protocol', /exceeds msize/);
  });

  test('a T-message from the server', async () => {
    const srv = await scripted((m, c) => {
      if (m.type === 'Tread' && m.offset === 0n) c.raw(encode({ type: 'Tclunk', tag: m.tag, fid: 0 }, '9P2000.L'));
    });
    const client = await Client.connect(await dial(srv.address));
    await allFailWith(threeReads(client), 'protocol', /server sent Tclunk/);
  });

  test('a hang-up fails pending calls', async () => {
    const srv = await scripted((m, c) => {
      if (m.type === 'Tread' && m.offset === 200n) c.sock.destroy();
    });
    const client = await Client.connect(await dial(srv.address));
    await allFailWith(threeReads(client), 'closed', /connection closed/);
  });

  test('version refused, or an msize above the proposal', async () => {
    const unknown = await scripted(() => {}, { version: 'unknown' });
    await assert.rejects(Client.connect(await dial(unknown.address)), /server does not speak 9P2000\.L/);
    const odd = await scripted(() => {}, { version: '9P3000' });
    await assert.rejects(Client.connect(await dial(odd.address)), /answered version '9P3000'/);
    const big = await scripted(() => {}, { msize: 1 << 20 });
    await assert.rejects(Client.connect(await dial(big.address), { msize: 65536 }), /msize 1048576 is above/);
    const lerror = await scripted((m, c) => {
      if (m.type === 'Tversion') c.reply({ type: 'Rlerror', tag: m.tag, ecode: 5 });
    }, { takeVersion: true });
    await assert.rejects(Client.connect(await dial(lerror.address), { version: '9P2000.u' }), /server refused 9P2000\.u/);
  });
});

describe('Tflush', () => {
  test('the call settles at Rflush; a reply that overtook the flush is handed over', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    const srv = await scripted((m, c) => {
      if (m.type === 'Tflush') {
        // The original reply first, then Rflush only when the test says so.
        c.reply({ type: 'Rread', tag: m.oldtag, data: new Uint8Array([42]) });
        void released.then(() => c.reply({ type: 'Rflush', tag: m.tag }));
      }
      // Treads are held: no reply.
    });
    let sawRread!: () => void;
    const rreadSeen = new Promise<void>((r) => { sawRread = r; });
    const client = await Client.connect(await dial(srv.address), {
      trace: (dir, _t, msg) => { if (dir === '->' && msg.type === 'Rread') sawRread(); },
    });
    const ac = new AbortController();
    let settled = false;
    const p = client.rpc({ type: 'Tread', fid: client.rootFid, offset: 0n, count: 10 }, { signal: ac.signal });
    p.catch(() => {}).finally(() => { settled = true; });
    ac.abort();
    await rreadSeen;
    // Let every pending callback run: the call must still wait for Rflush.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.equal(settled, false);
    assert.equal(client.inFlight, 2);
    release();
    await assert.rejects(p, (e: unknown) => isAbortError(e) && e.lateReply?.type === 'Rread');
    assert.equal(client.inFlight, 0);
    client.close();
  });

  test('after Rflush the tags are free and the connection goes on', async () => {
    const srv = await scripted((m, c) => {
      if (m.type === 'Tflush') c.reply({ type: 'Rflush', tag: m.tag });
      if (m.type === 'Tread' && m.offset === 7n) c.reply({ type: 'Rread', tag: m.tag, data: new Uint8Array([7]) });
    });
    const client = await Client.connect(await dial(srv.address));
    const ac = new AbortController();
    const p = client.rpc({ type: 'Tread', fid: client.rootFid, offset: 0n, count: 10 }, { signal: ac.signal });
    ac.abort(new Error('stop'));
    await assert.rejects(p, (e: unknown) => isAbortError(e) && e.lateReply === undefined && /cancelled: stop/.test(e.message));
    const r = await client.rpc({ type: 'Tread', fid: client.rootFid, offset: 7n, count: 10 });
    assert.deepEqual([...r.data], [7]);
    client.close();
  });

  test('a reply to a flushed tag after its Rflush is a protocol error', async () => {
    const srv = await scripted((m, c) => {
      if (m.type === 'Tflush') {
        c.reply({ type: 'Rflush', tag: m.tag });
        c.reply({ type: 'Rread', tag: m.oldtag, data: new Uint8Array(0) });
      }
    });
    const client = await Client.connect(await dial(srv.address));
    const ac = new AbortController();
    const p = client.rpc({ type: 'Tread', fid: client.rootFid, offset: 0n, count: 10 }, { signal: ac.signal });
    const pending = client.rpc({ type: 'Tread', fid: client.rootFid, offset: 1n, count: 10 });
    ac.abort();
    await assert.rejects(p, isAbortError);
    await assert.rejects(pending, (e: unknown) => e instanceof NinepError && e.kind === 'protocol');
    await srv.conns[0].closed;
  });
});

describe('tags', () => {
  test('65535 requests in flight use every tag but NOTAG; the next waits for a free one', { timeout: 120_000 }, async () => {
    const held: number[] = [];
    const seen = new Set<number>();
    let extraTag = -1;
    const srv = await scripted((m, c) => {
      if (m.type !== 'Tread') return;
      if (m.offset === 999_999n) {
        extraTag = m.tag;
        c.reply({ type: 'Rread', tag: m.tag, data: new Uint8Array([2]) });
        return;
      }
      assert.ok(!seen.has(m.tag), `tag ${m.tag} in flight twice`);
      seen.add(m.tag);
      held.push(m.tag);
      // All tags taken: free one, so that the waiting request can go.
      if (held.length === 0xffff) c.reply({ type: 'Rread', tag: held[1234], data: new Uint8Array([1]) });
    });
    const client = await Client.connect(await dial(srv.address));
    const calls = Array.from({ length: 0xffff }, (_, i) =>
      client.rpc({ type: 'Tread', fid: client.rootFid, offset: BigInt(i), count: 1 }));
    for (const p of calls) p.catch(() => {});
    const extra = await client.rpc({ type: 'Tread', fid: client.rootFid, offset: 999_999n, count: 1 });
    assert.deepEqual([...extra.data], [2]);
    assert.equal(seen.size, 0xffff);
    assert.ok(!seen.has(0xffff), 'NOTAG is never used for a request');
    assert.equal(extraTag, held[1234], 'the freed tag is the one reused');
    assert.deepEqual([...(await calls[1234]).data], [1]);
    client.close();
    const results = await Promise.allSettled(calls);
    assert.equal(results.filter((r) => r.status === 'rejected').length, 0xffff - 1);
  });
});

test('a connect cancelled while the server says nothing', async () => {
  const srv = await scripted(() => {}, { takeVersion: true });
  const ac = new AbortController();
  const p = Client.connect(await dial(srv.address), { signal: ac.signal });
  for (let i = 0; i < 1000 && srv.conns.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  ac.abort();
  await assert.rejects(p, isAbortError);
  await srv.conns[0].closed;
});

describe('pipelined transfers when replies come out of order', () => {
  // The server answers requests two at a time, the later one first. It holds a lone request only
  // while another is bound to follow: the first read and the last write are answered at once, as
  // are reads at or past the end, so the exchange cannot stall.
  test('reads: bytes come out in file order', async () => {
    const size = 300_000;
    const file = new Uint8Array(size).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
    let held: Extract<Tmsg, { type: 'Tread' }> | undefined;
    let reversed = 0;
    const srv = await scripted((m, c) => {
      if (m.type === 'Tlopen') { c.reply({ type: 'Rlopen', tag: m.tag, qid: { type: 0, vers: 0, path: 2n }, iounit: 0 }); return; }
      if (m.type === 'Twalk') { c.reply({ type: 'Rwalk', tag: m.tag, qids: m.wnames.map(() => ({ type: 0, vers: 0, path: 2n })) }); return; }
      if (m.type !== 'Tread') return;
      const answer = (r: typeof m) => {
        const at = Number(r.offset);
        c.reply({ type: 'Rread', tag: r.tag, data: file.subarray(Math.min(at, size), Math.min(at + r.count, size)) });
      };
      if (m.offset === 0n || m.offset >= BigInt(size)) { answer(m); return; }
      if (!held) { held = m; return; }
      answer(m);
      answer(held);
      held = undefined;
      reversed++;
    }, { msize: 8192 });
    const client = await Client.connect(await dial(srv.address), { msize: 8192, pipeline: 8 });
    const got = await client.readFile('/f');
    assert.ok(reversed >= 5, `replies reordered ${reversed} times`);
    assert.equal(got.length, size);
    assert.ok(Buffer.from(got).equals(Buffer.from(file)), 'bytes in file order');
    await client.end();
  });

  test('writes: every byte lands at its offset', async () => {
    const size = 250_000;
    const data = new Uint8Array(size).map((_, i) => (i * 13 + (i >> 9)) & 0xff);
    const file = new Uint8Array(size);
    let held: Extract<Tmsg, { type: 'Twrite' }> | undefined;
    let reversed = 0;
    const srv = await scripted((m, c) => {
      if (m.type === 'Tlopen') { c.reply({ type: 'Rlopen', tag: m.tag, qid: { type: 0, vers: 0, path: 2n }, iounit: 0 }); return; }
      if (m.type === 'Twalk') { c.reply({ type: 'Rwalk', tag: m.tag, qids: m.wnames.map(() => ({ type: 0, vers: 0, path: 2n })) }); return; }
      if (m.type !== 'Twrite') return;
      const answer = (w: typeof m) => {
        file.set(w.data, Number(w.offset));
        c.reply({ type: 'Rwrite', tag: w.tag, count: w.data.length });
      };
      if (Number(m.offset) + m.data.length === size) { answer(m); return; }
      if (!held) { held = m; return; }
      answer(m);
      answer(held);
      held = undefined;
      reversed++;
    }, { msize: 8192 });
    const client = await Client.connect(await dial(srv.address), { msize: 8192, pipeline: 8 });
    const f = await client.open('/f', 1);
    await f.writeAt(0, data);
    await f.close();
    assert.ok(reversed >= 5, `replies reordered ${reversed} times`);
    assert.ok(Buffer.from(file).equals(Buffer.from(data)), 'file matches what was written');
    await client.end();
  });
});
