// Untrusted input. Decoders fed garbage throw NbdProtocolError and nothing else; a real listener
// fed bad magic, unknown options, requests past the end, lengths over the limits and clients that
// hang up mid-transfer stays up, and a well-behaved client beside them is unaffected.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { type Socket, connect } from 'node:net';
import {
  ClientDecoder, NbdProtocolError, ServerDecoder, type ServerMessage, decodeChunk, decodeOption,
  decodeOptionReply, decodeRequest, encodeClientFlags, encodeOption, encodeOptionReply, encodeReply,
  encodeRequest, writeRequestHeader,
} from '../../shared/nbd/index.ts';
import { NbdClient } from '../../shared/nbd/client.ts';
import { MemoryDevice } from '../../shared/nbd/memory-device.ts';
import { NbdListener } from '../../server/nbd/listener.ts';
import { dialByteStream } from '../../server/nbd/socket-stream.ts';
import { Rng } from '../support/randmsg.ts';

const rng = new Rng(7);

function onlyProtocolErrors(f: () => unknown, what: string): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof NbdProtocolError)) assert.fail(`${what}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

test('decoders given garbage or mutated messages throw only NbdProtocolError', () => {
  const valid = [
    encodeOption({ option: 'GO', name: 'disk', requests: [1, 3] }),
    encodeOption({ option: 'SET_META_CONTEXT', name: 'x', queries: ['base:allocation', 'a:b'] }),
    encodeOptionReply({ reply: 'INFO', option: 7, info: { info: 'BLOCK_SIZE', minimum: 1, preferred: 2, maximum: 3 } }),
    encodeRequest({ type: 'WRITE', flags: 1, cookie: 1n, offset: 0n, length: 4, data: new Uint8Array(4) }),
    encodeReply({ kind: 'chunk', flags: 1, cookie: 1n, chunk: { type: 'BLOCK_STATUS', contextId: 1, extents: [{ length: 1, flags: 2 }] } }),
    encodeReply({ kind: 'chunk', flags: 1, cookie: 1n, chunk: { type: 'ERROR_OFFSET', error: 5, message: 'x', offset: 9n } }),
  ];
  for (let i = 0; i < 3000; i++) {
    const base = valid[i % valid.length];
    const b = i % 3 === 0 ? Uint8Array.from({ length: rng.u32() % 64 }, () => rng.u32() & 0xff) : base.slice();
    if (i % 3 !== 0) for (let k = 0; k < 1 + (rng.u32() % 4); k++) b[rng.u32() % b.length] = rng.u32() & 0xff;
    onlyProtocolErrors(() => decodeOption(rng.u32() % 12, b.subarray(16)), 'decodeOption');
    onlyProtocolErrors(() => decodeOptionReply(7, rng.u32() % 5, b.subarray(20)), 'decodeOptionReply');
    onlyProtocolErrors(() => decodeRequest(b), 'decodeRequest');
    onlyProtocolErrors(() => decodeChunk(b), 'decodeChunk');
    const cd = new ClientDecoder({ maxOption: 1 << 16, maxWrite: 1 << 16 });
    onlyProtocolErrors(() => cd.push(b, (m) => { if (m.kind === 'option') cd.transmission(); }), 'ClientDecoder');
    const sd = new ServerDecoder({ simpleDataLength: () => rng.u32() % 8 });
    onlyProtocolErrors(() => sd.push(b, () => sd.transmission()), 'ServerDecoder');
  }
});

test('lengths over the limits are refused from the header, before any allocation', () => {
  const cd = new ClientDecoder({ maxWrite: 1 << 20 });
  cd.push(encodeClientFlags(1), () => {});
  cd.push(encodeOption({ option: 'GO', name: '', requests: [] }), () => cd.transmission());
  const huge = new Uint8Array(28);
  writeRequestHeader(huge, 0, 1, 0, 1n, 0n, 0xffffffff);
  assert.throws(() => cd.push(huge, () => {}), (e: unknown) => e instanceof NbdProtocolError && e.code === 'too-large');
  const od = new ClientDecoder();
  od.push(encodeClientFlags(1), () => {});
  const opt = encodeOption({ option: 'unknown', code: 99, data: new Uint8Array(0) });
  new DataView(opt.buffer).setUint32(12, 0x7fffffff);
  assert.throws(() => od.push(opt, () => {}), (e: unknown) => e instanceof NbdProtocolError && e.code === 'too-large');
});

// ---- a real listener ----

const logs: string[] = [];
const dev = new MemoryDevice(1 << 20);
const listener = new NbdListener(() => [{ name: 'mem', device: dev }], {
  maxConnections: 8, limits: { maxBlock: 1 << 20, handshakeMs: 2000 }, log: (l) => logs.push(l),
});
const [address] = await listener.listen(['tcp!127.0.0.1!0']);
const port = Number(address.split('!')[2]);
after(() => listener.close());

/** A raw connection: send bytes, read server messages, see the close. */
function raw(): { sock: Socket; send: (b: Uint8Array) => void; next: () => Promise<ServerMessage | 'closed'>; decoder: ServerDecoder } {
  const sock = connect({ host: '127.0.0.1', port });
  const queue: Array<ServerMessage | 'closed'> = [];
  const waiters: Array<(m: ServerMessage | 'closed') => void> = [];
  const put = (m: ServerMessage | 'closed') => { const w = waiters.shift(); if (w) w(m); else queue.push(m); };
  const decoder = new ServerDecoder({ simpleDataLength: () => 0 });
  sock.on('data', (c) => { try { decoder.push(c, put); } catch { put('closed'); } });
  sock.on('close', () => put('closed'));
  sock.on('error', () => {});
  return {
    sock, decoder,
    send: (b) => { if (!sock.destroyed) sock.write(b); },
    next: () => { const m = queue.shift(); return m ? Promise.resolve(m) : new Promise((r) => waiters.push(r)); },
  };
}

/** A well-behaved client doing real work: what must keep working beside the hostile ones. */
async function goodClientWorks(): Promise<void> {
  const c = await NbdClient.connect(await dialByteStream({ kind: 'tcp', host: '127.0.0.1', port }), { exportName: 'mem' });
  const data = Uint8Array.from({ length: 3000 }, (_, i) => i % 251);
  await c.write(7000, data);
  assert.ok(Buffer.from(await c.read(7000, 3000)).equals(data), "the good client reads back what it wrote");
  await c.disconnect();
}

async function handshake(r: ReturnType<typeof raw>): Promise<void> {
  assert.equal((await r.next() as ServerMessage).kind, 'greeting');
  r.send(encodeClientFlags(3));
}

test('bad magic in an option: that connection is dropped, the server stays up', async () => {
  const r = raw();
  await handshake(r);
  r.send(new Uint8Array(16).fill(0x41));
  assert.equal(await r.next(), 'closed');
  await goodClientWorks();
  assert.ok(logs.some((l) => /bad-magic/.test(l)), logs.join('\n'));
});

test('unknown client flags, and EXPORT_NAME of an unknown export, close the connection', async () => {
  const r = raw();
  assert.equal((await r.next() as ServerMessage).kind, 'greeting');
  r.send(encodeClientFlags(0x80));
  assert.equal(await r.next(), 'closed');
  const e = raw();
  await handshake(e);
  e.send(encodeOption({ option: 'EXPORT_NAME', name: 'nope' }));
  assert.equal(await e.next(), 'closed');
  await goodClientWorks();
});

test('unknown options get ERR_UNSUP, bad option data ERR_INVALID, and the handshake goes on', async () => {
  const r = raw();
  await handshake(r);
  r.send(encodeOption({ option: 'unknown', code: 4242, data: new Uint8Array(3) }));
  const m = await r.next() as ServerMessage;
  assert.ok(m.kind === 'option-reply' && m.reply.reply === 'ERROR' && m.reply.type === 0x80000001);
  // LIST with data, and a GO whose name length runs past the option.
  const list = encodeOption({ option: 'unknown', code: 3, data: new Uint8Array(1) });
  r.send(list);
  const m2 = await r.next() as ServerMessage;
  assert.ok(m2.kind === 'option-reply' && m2.reply.reply === 'ERROR' && m2.reply.type === 0x80000003);
  r.send(encodeOption({ option: 'unknown', code: 7, data: new Uint8Array([0, 0, 1, 0, 0, 0]) }));
  const m3 = await r.next() as ServerMessage;
  assert.ok(m3.kind === 'option-reply' && m3.reply.reply === 'ERROR' && m3.reply.type === 0x80000003);
  // Still in step: a GO now works.
  r.send(encodeOption({ option: 'GO', name: 'mem', requests: [] }));
  const info = await r.next() as ServerMessage;
  assert.ok(info.kind === 'option-reply' && info.reply.reply === 'INFO');
  const ack = await r.next() as ServerMessage;
  assert.ok(ack.kind === 'option-reply' && ack.reply.reply === 'ACK');
  r.sock.destroy();
});

async function transmission(): Promise<ReturnType<typeof raw>> {
  const r = raw();
  await handshake(r);
  r.send(encodeOption({ option: 'GO', name: 'mem', requests: [] }));
  await r.next();
  await r.next();
  r.decoder.transmission();
  return r;
}

test('requests past the end, unknown commands and bad flags get errors; the connection stays in step', async () => {
  const r = await transmission();
  const req = (type: number, flags: number, cookie: bigint, offset: bigint, length: number) => {
    const b = new Uint8Array(28);
    writeRequestHeader(b, 0, type, flags, cookie, offset, length);
    r.send(b);
  };
  req(4, 0, 1n, (1n << 20n) - 10n, 100);             // TRIM past the end
  req(0, 0, 2n, 0xfffffffffffffff0n, 32);            // READ with an offset near 2^64
  req(99, 0, 3n, 0n, 0);                             // unknown command
  req(3, 0x4000, 4n, 0n, 0);                         // FLUSH with an undefined flag
  req(0, 0, 5n, 0n, (1 << 20) + 1);                  // READ over the block limit
  req(7, 0, 6n, 0n, 512);                            // BLOCK_STATUS with no context selected
  const errors = new Map<bigint, number>();
  for (let i = 0; i < 6; i++) {
    const m = await r.next();
    if (m === 'closed' || m.kind !== 'reply' || m.reply.kind !== 'simple') assert.fail(`reply ${i}: ${m === 'closed' ? m : m.kind}`);
    errors.set(m.reply.cookie, m.reply.error);
  }
  assert.deepEqual([...errors.entries()].sort((a, b) => Number(a[0] - b[0])), [[1n, 22], [2n, 22], [3n, 22], [4n, 22], [5n, 22], [6n, 22]]);
  r.sock.destroy();
  await goodClientWorks();
});

test('a WRITE longer than the limit drops the connection without reading a byte of it', async () => {
  const r = await transmission();
  const b = new Uint8Array(28);
  writeRequestHeader(b, 0, 1, 0, 1n, 0n, 0xfffffff0);
  r.send(b);
  assert.equal(await r.next(), 'closed');
  await goodClientWorks();
});

test('a client that hangs up in the middle of a WRITE, or with reads in flight, hurts no one', async () => {
  for (let i = 0; i < 5; i++) {
    const r = await transmission();
    const b = new Uint8Array(28 + 1000);
    writeRequestHeader(b, 0, 1, 0, 1n, 0n, 65536);
    r.send(b);                                        // 1000 of 65536 payload bytes
    const reads = new Uint8Array(28 * 20);
    for (let k = 0; k < 20; k++) writeRequestHeader(reads, 28 * k, 0, 0, BigInt(k + 2), 0n, 65536);
    const other = await transmission();
    other.send(reads);
    r.sock.destroy();
    other.sock.destroy();
  }
  await goodClientWorks();
});

test('connections over the limit are refused; the ones inside it keep working', async () => {
  const held = await Promise.all(Array.from({ length: 8 }, () => transmission()));
  const extra = raw();
  assert.equal(await extra.next(), 'closed');
  for (const h of held) h.sock.destroy();
  // Bounded wait for the server to notice the closes.
  for (let i = 0; i < 200 && listener.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(listener.stats.refused >= 1);
  await goodClientWorks();
});

test('backpressure: 128 reads of 1 MiB in flight on one connection all get answered', { timeout: 120_000 }, async () => {
  // The server pauses reading at 64 in flight and while 16 MiB wait to be sent; it must resume
  // when the backlog drains, whichever limit made it pause (this once hung).
  const c = await NbdClient.connect(await dialByteStream({ kind: 'tcp', host: '127.0.0.1', port }), { exportName: 'mem', maxInFlight: 128 });
  // Rounds: the requests of a later round arrive after the server paused in an earlier one.
  for (let round = 0; round < 3; round++) {
    const reads = await Promise.all(Array.from({ length: 128 }, () => c.read(0, 1 << 20)));
    assert.ok(reads.every((r) => r.length === 1 << 20));
  }
  await c.disconnect();
});

test('a client that connects and never chooses an export is dropped after the handshake deadline', async () => {
  const r = raw();
  await handshake(r);
  // Nothing more is sent; the server (handshakeMs 2000 here) hangs up on its own.
  assert.equal(await r.next(), 'closed');
  assert.ok(logs.some((l) => /no export chosen/.test(l)), logs.join('\n'));
  await goodClientWorks();
});
