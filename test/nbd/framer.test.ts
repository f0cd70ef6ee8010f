// The gateway's NBD framer (server/http/framers/nbd.ts): what the page sends is checked message by
// message, and the server's byte stream comes out cut at NBD message boundaries, however it is
// chunked. Then hostile input from either side, unit by unit, and through a real gateway: garbage
// from the page (4400) and from a backend (4503) closes that WebSocket with a clear reason while
// nbdkit and other connections carry on.
import assert from 'node:assert/strict';
import { type Socket, createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import {
  encodeClientFlags, encodeExportNameReply, encodeGreeting, encodeOption, encodeOptionReply, encodeReply,
  encodeRequest, writeChunkHeader, writeSimpleReplyHeader,
} from '../../shared/nbd/codec.ts';
import { ClientFlag, Cmd, HandshakeFlag, Info, Opt, REQUEST_MAGIC, ReplyFlag } from '../../shared/nbd/constants.ts';
import { NbdClient } from '../../shared/nbd/client.ts';
import { NbdProtocolError } from '../../shared/nbd/errors.ts';
import type { Request } from '../../shared/nbd/messages.ts';
import { webSocketByteStream } from '../../shared/nbd/websocket-stream.ts';
import { writeU32, writeU64 } from '../../shared/nbd/wire.ts';
import type { WebSocketLike } from '../../shared/net/websocket.ts';
import { NbdFramer } from '../../server/http/framers/nbd.ts';
import { closed, openWs, startHttpServe, startWs } from '../support/gateway.ts';
import { startNbdkit } from '../support/nbd.ts';

const NEWSTYLE = ClientFlag.FIXED_NEWSTYLE | ClientFlag.NO_ZEROES;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Feeds the server's stream to the framer in chunks of `size`; returns the messages it cut. */
function cut(f: NbdFramer, stream: Uint8Array, size: number): Uint8Array[] {
  const messages: Uint8Array[] = [];
  let pieces: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += size) {
    f.fromBackend(stream.slice(at, at + size), (piece, last) => {
      pieces.push(piece);
      if (last) { messages.push(concat(pieces)); pieces = []; }
    });
  }
  assert.equal(pieces.length, 0, 'a message was left unfinished');
  return messages;
}

function request(r: Request): Uint8Array {
  return encodeRequest(r);
}

function read(cookie: bigint, length: number): Uint8Array {
  return request({ type: 'READ', flags: 0, cookie, offset: 0n, length });
}

/** A structured OFFSET_DATA chunk of n bytes (value v) for cookie. */
function dataChunk(cookie: bigint, n: number, v: number, done = true): Uint8Array {
  const b = new Uint8Array(20 + 8 + n).fill(v, 28);
  writeChunkHeader(b, 0, done ? ReplyFlag.DONE : 0, 1, cookie, 8 + n);
  writeU64(b, 20, 0n);
  return b;
}

function simple(cookie: bigint, error: number, data?: Uint8Array): Uint8Array {
  const b = new Uint8Array(16 + (data?.length ?? 0));
  writeSimpleReplyHeader(b, 0, error, cookie);
  if (data) b.set(data, 16);
  return b;
}

/** A framer through GO with structured replies (or not), as a client would take it. */
function inTransmission(structured: boolean): NbdFramer {
  const f = new NbdFramer({ maxInFlight: 4, maxBlock: 1 << 20 });
  assert.equal(f.fromPage(encodeClientFlags(NEWSTYLE)), null);
  const server = [encodeGreeting(HandshakeFlag.FIXED_NEWSTYLE | HandshakeFlag.NO_ZEROES)];
  if (structured) {
    assert.equal(f.fromPage(encodeOption({ option: 'STRUCTURED_REPLY' })), null);
    server.push(encodeOptionReply({ reply: 'ACK', option: Opt.STRUCTURED_REPLY }));
  }
  assert.equal(f.fromPage(encodeOption({ option: 'GO', name: '', requests: [] })), null);
  server.push(encodeOptionReply({ reply: 'INFO', option: Opt.GO, info: { info: 'EXPORT', size: 1n << 20n, flags: 1 } }));
  server.push(encodeOptionReply({ reply: 'ACK', option: Opt.GO }));
  assert.equal(cut(f, concat(server), 1000).length, server.length);
  return f;
}

describe('NBD framer: cutting', () => {
  it('cuts a whole conversation at message boundaries, whatever the chunking', () => {
    const greeting = encodeGreeting(HandshakeFlag.FIXED_NEWSTYLE | HandshakeFlag.NO_ZEROES);
    const server = [
      greeting,
      encodeOptionReply({ reply: 'ACK', option: Opt.STRUCTURED_REPLY }),
      encodeOptionReply({ reply: 'META_CONTEXT', option: Opt.SET_META_CONTEXT, id: 1, name: 'base:allocation' }),
      encodeOptionReply({ reply: 'ACK', option: Opt.SET_META_CONTEXT }),
      encodeOptionReply({ reply: 'INFO', option: Opt.GO, info: { info: 'EXPORT', size: 1n << 30n, flags: 1 } }),
      encodeOptionReply({ reply: 'ACK', option: Opt.GO }),
      // Out of order, a READ in two chunks, errors, block status.
      simple(2n, 0),
      dataChunk(1n, 3000, 0xaa, false),
      encodeReply({ kind: 'chunk', flags: ReplyFlag.DONE, cookie: 1n, chunk: { type: 'OFFSET_HOLE', offset: 3000n, length: 1096 } }),
      encodeReply({ kind: 'chunk', flags: ReplyFlag.DONE, cookie: 3n, chunk: { type: 'BLOCK_STATUS', contextId: 1, extents: [{ length: 4096, flags: 3 }] } }),
      simple(4n, 22),
      dataChunk(5n, 0, 0),
    ];
    for (const size of [1, 3, 7, 19, 64, 4096, 1 << 20]) {
      const f = new NbdFramer();
      const sent = [
        encodeClientFlags(NEWSTYLE), encodeOption({ option: 'STRUCTURED_REPLY' }),
        encodeOption({ option: 'SET_META_CONTEXT', name: '', queries: ['base:allocation'] }),
        encodeOption({ option: 'GO', name: '', requests: [Info.BLOCK_SIZE] }),
      ];
      const stream = concat(server);
      // The page's options go out before their replies come in, as a client may pipeline them.
      for (const m of sent) assert.equal(f.fromPage(m), null);
      const handshake = cut(f, stream.subarray(0, server.slice(0, 6).reduce((n, m) => n + m.length, 0)), size);
      assert.equal(handshake.length, 6);
      for (const m of [read(1n, 4096), request({ type: 'WRITE', flags: 0, cookie: 2n, offset: 0n, length: 5, data: new Uint8Array(5) }),
        request({ type: 'BLOCK_STATUS', flags: 0, cookie: 3n, offset: 0n, length: 4096 }), read(4n, 1 << 30), read(5n, 0)]) {
        assert.equal(f.fromPage(m), null);
      }
      const replies = cut(f, stream.subarray(handshake.reduce((n, m) => n + m.length, 0)), size);
      assert.deepEqual([...handshake, ...replies], server, `chunks of ${size}`);
    }
  });

  it('passes a message inside one chunk as one view of it (no copy)', () => {
    const f = inTransmission(true);
    assert.equal(f.fromPage(read(9n, 65536)), null);
    const chunk = dataChunk(9n, 65536, 7);
    const pieces: Uint8Array[] = [];
    f.fromBackend(chunk, (p, last) => { pieces.push(p); assert.ok(last); });
    assert.equal(pieces.length, 1);
    assert.equal(pieces[0].buffer, chunk.buffer);
    assert.equal(pieces[0].length, chunk.length);
  });

  it('follows simple replies that carry READ data, and EXPORT_NAME answers with and without zeroes', () => {
    const f = inTransmission(false);
    assert.equal(f.fromPage(read(1n, 10)), null);
    assert.equal(f.fromPage(read(2n, 10)), null);
    const data = new Uint8Array(10).fill(5);
    const stream = concat([simple(2n, 5), simple(1n, 0, data)]);
    assert.deepEqual(cut(f, stream, 3), [simple(2n, 5), simple(1n, 0, data)]);
    for (const zeroes of [false, true]) {
      const g = new NbdFramer();
      assert.equal(g.fromPage(encodeClientFlags(zeroes ? ClientFlag.FIXED_NEWSTYLE : NEWSTYLE)), null);
      assert.equal(g.fromPage(encodeOption({ option: 'EXPORT_NAME', name: 'disk' })), null);
      assert.equal(g.fromPage(read(1n, 4)), null, 'requests may follow EXPORT_NAME at once');
      const answer = encodeExportNameReply(1n << 20n, 1, zeroes);
      const reply = simple(1n, 0, new Uint8Array(4));
      const s = concat([encodeGreeting(HandshakeFlag.FIXED_NEWSTYLE), answer, reply]);
      assert.deepEqual(cut(g, s, 5), [s.subarray(0, 18), answer, reply]);
    }
  });
});

describe('NBD framer: hostile page', () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['flags of the wrong length', new Uint8Array(8), /4-byte NBD client flags/],
    ['unknown client flags', encodeClientFlags(0x80), /not known/],
  ];
  for (const [what, msg, why] of cases) {
    it(`refuses ${what}`, () => assert.match(new NbdFramer().fromPage(msg) ?? '', why));
  }

  function inOptions(): NbdFramer {
    const f = new NbdFramer({ maxOptions: 2 });
    assert.equal(f.fromPage(encodeClientFlags(NEWSTYLE)), null);
    return f;
  }
  const option = encodeOption({ option: 'LIST' });
  const optionCases: Array<[string, Uint8Array, RegExp]> = [
    ['an option without IHAVEOPT', (() => { const b = option.slice(); b[0] ^= 1; return b; })(), /IHAVEOPT/],
    ['an option shorter than its header', option.subarray(0, 10), /IHAVEOPT/],
    ['two options in one message', concat([option, option]), /exactly one NBD option/],
    ['an option whose length lies', (() => { const b = option.slice(); writeU32(b, 12, 4); return b; })(), /exactly one/],
    ['a huge option length', (() => { const b = option.slice(); writeU32(b, 12, 0xffffffff); return b; })(), /over 65536/],
    ['STARTTLS', encodeOption({ option: 'STARTTLS' }), /STARTTLS is not relayed/],
    ['extended headers', encodeOption({ option: 'unknown', code: 11, data: new Uint8Array(0) }), /extended headers/],
    ['a request before GO was accepted', read(1n, 512), /IHAVEOPT/],
  ];
  for (const [what, msg, why] of optionCases) {
    it(`refuses ${what}`, () => assert.match(inOptions().fromPage(msg) ?? '', why));
  }
  it('refuses more options than its limit unanswered', () => {
    const f = inOptions();
    assert.equal(f.fromPage(option), null);
    assert.equal(f.fromPage(option), null);
    assert.match(f.fromPage(option) ?? '', /more than 2 NBD options/);
  });

  const write = (n: number, declared = n) => {
    const b = request({ type: 'WRITE', flags: 0, cookie: 7n, offset: 0n, length: n, data: new Uint8Array(n) });
    writeU32(b, 24, declared);
    return b;
  };
  const requestCases: Array<[string, Uint8Array, RegExp]> = [
    ['a request without its magic', (() => { const b = read(1n, 512); b[3] ^= 1; return b; })(), /request magic/],
    ['a truncated request', read(1n, 512).subarray(0, 27), /request magic/],
    ['two requests in one message', concat([read(1n, 512), read(2n, 512)]), /exactly one NBD request/],
    ['a WRITE short of its data', write(100).subarray(0, 100), /with its data/],
    ['a WRITE with more than its data', write(100, 99), /with its data/],
    ['a WRITE over the limit', write(16, (1 << 20) + 1), /over 1048576/],
    ['an option after GO', option, /request magic/],
  ];
  for (const [what, msg, why] of requestCases) {
    it(`refuses ${what}`, () => assert.match(inTransmission(true).fromPage(msg) ?? '', why));
  }
  it('refuses a cookie already in flight, more requests than its limit, and anything after DISC', () => {
    const f = inTransmission(true);
    assert.equal(f.fromPage(read(1n, 512)), null);
    assert.match(f.fromPage(read(1n, 512)) ?? '', /cookie 1 is already in flight/);
    for (const c of [2n, 3n, 4n]) assert.equal(f.fromPage(read(c, 512)), null);
    assert.match(f.fromPage(read(5n, 512)) ?? '', /more than 4 NBD requests/);
    assert.equal(f.fromPage(request({ type: 'DISC', flags: 0, cookie: 6n, offset: 0n, length: 0 })), null);
    assert.match(f.fromPage(read(7n, 512)) ?? '', /nothing may follow/);
  });
});

describe('NBD framer: hostile server', () => {
  const greeting = encodeGreeting(HandshakeFlag.FIXED_NEWSTYLE);
  /** A fresh framer from make() refuses bytes, fed one at a time and whole: the check must not depend on the cut. */
  function throwsOn(make: () => NbdFramer, bytes: Uint8Array, why: RegExp): void {
    for (const size of [1, bytes.length]) {
      assert.throws(() => cut(make(), bytes, size), (e: unknown) => e instanceof NbdProtocolError && why.test(e.message), `chunks of ${size}`);
    }
  }
  function afterFlags(...options: Uint8Array[]): NbdFramer {
    const f = new NbdFramer();
    f.fromPage(encodeClientFlags(NEWSTYLE));
    for (const o of options) assert.equal(f.fromPage(o), null);
    cut(f, greeting, 18);
    return f;
  }

  it('refuses a greeting without NBDMAGIC, and an oldstyle server', () => {
    const bad = greeting.slice();
    bad[0] = 0;
    throwsOn(() => new NbdFramer(), bad, /NBDMAGIC/);
    const old = greeting.slice();
    writeU64(old, 8, 0x00420281861253n);
    throwsOn(() => new NbdFramer(), old, /not a newstyle server/);
  });
  it('refuses option replies nobody asked for, for another option, or too long', () => {
    const listing = () => afterFlags(encodeOption({ option: 'LIST' }));
    throwsOn(() => afterFlags(), encodeOptionReply({ reply: 'ACK', option: Opt.GO }), /no option was sent/);
    throwsOn(listing, encodeOptionReply({ reply: 'ACK', option: Opt.GO }), /reply to option 7 while option 3/);
    const long = encodeOptionReply({ reply: 'SERVER', option: Opt.LIST, name: 'x', description: '' });
    writeU32(long, 16, 1 << 24);
    throwsOn(listing, long, /over 65536/);
    const magic = encodeOptionReply({ reply: 'ACK', option: Opt.LIST });
    magic[7] ^= 1;
    throwsOn(listing, magic, /option reply magic/);
  });
  it('refuses anything after the answer to ABORT', () => {
    const aborted = () => {
      const f = afterFlags(encodeOption({ option: 'ABORT' }));
      cut(f, encodeOptionReply({ reply: 'ACK', option: Opt.ABORT }), 100);
      return f;
    };
    throwsOn(aborted, new Uint8Array(1), /after the answer to NBD_OPT_ABORT/);
  });
  it('refuses a bad reply magic, an unknown cookie, a huge chunk and data in a simple reply after structured', () => {
    const reading = () => {
      const f = inTransmission(true);
      assert.equal(f.fromPage(read(1n, 512)), null);
      return f;
    };
    const bad = simple(1n, 0);
    writeU32(bad, 0, REQUEST_MAGIC);
    throwsOn(reading, bad, /reply magic 0x25609513/);
    throwsOn(reading, simple(2n, 0), /cookie 2, which is not in flight/);
    throwsOn(reading, dataChunk(2n, 1, 0), /cookie 2, which is not in flight/);
    const huge = dataChunk(1n, 1, 0);
    writeU32(huge, 16, 0xffffffff);
    throwsOn(reading, huge, /over 1048584/);
    throwsOn(reading, simple(1n, 0, new Uint8Array(512)), /simple reply with data after structured/);
    // A cookie is done after its DONE chunk or simple reply: a second reply is refused.
    const flushed = () => {
      const g = inTransmission(false);
      assert.equal(g.fromPage(request({ type: 'FLUSH', flags: 0, cookie: 3n, offset: 0n, length: 0 })), null);
      cut(g, simple(3n, 0), 16);
      return g;
    };
    throwsOn(flushed, simple(3n, 0), /cookie 3, which is not in flight/);
  });
});

describe('NBD framer: through the gateway', () => {
  const peers: Array<{ stop(): Promise<void> }> = [];
  after(async () => { for (const p of peers.reverse()) await p.stop(); });

  it('closes garbage from the page (4400) or a backend (4503); nbdkit and other connections carry on', async () => {
    // A backend that answers every connection with a non-NBD greeting.
    const conns = new Set<Socket>();
    const liar = createServer((s) => { conns.add(s); s.end('HTTP/1.1 400 Bad Request\r\n\r\n'); });
    await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
    peers.push({ stop: () => new Promise((r) => { for (const s of conns) s.destroy(); liar.close(() => r()); }) });
    const liarPort = (liar.address() as { port: number }).port;
    const kit = await startNbdkit(['memory', '8M']);
    peers.push(kit);
    const g = await startHttpServe(['--backend', `kit=nbd:tcp!127.0.0.1!${kit.port}`, '--backend', `liar=nbd:tcp!127.0.0.1!${liarPort}`]);
    peers.push(g);

    // A well-behaved client stays connected through all of it.
    // startWs, not openWs: the client must listen before the greeting can arrive.
    const good = await NbdClient.connect(webSocketByteStream(startWs(g.ws('/gateway/kit')).ws as unknown as WebSocketLike));
    await good.write(0, new Uint8Array(4096).fill(9));

    const garbage: Array<[string, Uint8Array[], RegExp]> = [
      ['flags', [new Uint8Array(3)], /client flags/],
      ['an option', [encodeClientFlags(NEWSTYLE), new Uint8Array(40).fill(0x41)], /IHAVEOPT/],
      ['a truncated option', [encodeClientFlags(NEWSTYLE), encodeOption({ option: 'GO', name: 'x', requests: [] }).subarray(0, 20)], /exactly one NBD option/],
    ];
    for (const [what, msgs, why] of garbage) {
      const ws = await openWs(g.ws('/gateway/kit'));
      const c = closed(ws);
      for (const m of msgs) ws.send(m);
      const r = await c;
      assert.equal(r.code, 4400, what);
      assert.match(r.reason, why, what);
    }
    // A request that claims a huge WRITE, after a real handshake.
    const raw = startWs(g.ws('/gateway/kit')).ws;
    const rawClosed = closed(raw);
    const c = await NbdClient.connect(webSocketByteStream(raw as unknown as WebSocketLike));
    const huge = new Uint8Array(28);
    new DataView(huge.buffer).setUint32(0, REQUEST_MAGIC);
    new DataView(huge.buffer).setUint16(6, Cmd.WRITE);
    new DataView(huge.buffer).setUint32(24, 0xffffffff);
    raw.send(huge);
    const r = await rawClosed;
    assert.equal(r.code, 4400);
    assert.match(r.reason, /WRITE of 4294967295 bytes/);
    await c.closed();

    // A page that hangs up in the middle of reads: nothing else notices.
    const q = startWs(g.ws('/gateway/kit')).ws;
    const quitter = await NbdClient.connect(webSocketByteStream(q as unknown as WebSocketLike));
    const reads = Array.from({ length: 8 }, (_, i) => quitter.read(i << 20, 1 << 20).catch(() => null));
    q.terminate();
    await Promise.all(reads);

    const lie = await openWs(g.ws('/gateway/liar'));
    const lieClosed = closed(lie);
    lie.send(encodeClientFlags(NEWSTYLE));
    const l = await lieClosed;
    assert.equal(l.code, 4503);
    assert.match(l.reason, /backend 'liar' sent bad NBD: the greeting does not start with NBDMAGIC/);

    const back = await good.read(0, 4096);
    assert.ok(back.every((b) => b === 9));
    await good.disconnect();
  });
});

