// Random round trips: every message the codec encodes decodes to itself, also when the byte
// stream carrying it is cut into random pieces (down to single bytes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CMD_NAMES, ClientDecoder, type ClientMessage, type ClientOption, type OptionReply, type Reply,
  type Request, ServerDecoder, type ServerMessage, decodeOption, encodeClientFlags, encodeOption,
  encodeOptionReply, encodeReply, encodeRequest, requestText, replyText, optionText, optionReplyText,
} from '../../shared/nbd/index.ts';
import { Rng } from '../support/randmsg.ts';

const rng = new Rng(0x5eed);
const int = (n: number) => rng.u32() % n;
const u64 = () => (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
const bytes = (n: number) => Uint8Array.from({ length: n }, () => rng.u32() & 0xff);
const CHARS = ['a', 'é', '€', '😀', 'Z', '/', ':'];
const str = () => Array.from({ length: int(12) }, () => CHARS[int(CHARS.length)]).join('');

function randomOption(): ClientOption {
  switch (int(7)) {
    case 0: return { option: 'EXPORT_NAME', name: str() };
    case 1: return { option: (['ABORT', 'LIST', 'STARTTLS', 'STRUCTURED_REPLY'] as const)[int(4)] };
    case 2: return { option: int(2) ? 'INFO' : 'GO', name: str(), requests: Array.from({ length: int(5) }, () => int(5)) };
    case 3: return { option: int(2) ? 'LIST_META_CONTEXT' : 'SET_META_CONTEXT', name: str(), queries: Array.from({ length: int(4) }, str) };
    default: return { option: 'unknown', code: 11 + int(1000), data: bytes(int(20)) };
  }
}

function randomOptionReply(): OptionReply {
  const option = 1 + int(10);
  switch (int(5)) {
    case 0: return { reply: 'ACK', option };
    case 1: return { reply: 'SERVER', option, name: str(), description: str() };
    case 2: {
      const infos = [
        { info: 'EXPORT' as const, size: u64(), flags: int(0x10000) },
        { info: 'NAME' as const, name: str() },
        { info: 'DESCRIPTION' as const, description: str() },
        { info: 'BLOCK_SIZE' as const, minimum: rng.u32(), preferred: rng.u32(), maximum: rng.u32() },
        { info: 'unknown' as const, code: 4 + int(100), data: bytes(int(10)) },
      ];
      return { reply: 'INFO', option, info: infos[int(infos.length)] };
    }
    case 3: return { reply: 'META_CONTEXT', option, id: rng.u32(), name: str() };
    default: return { reply: 'ERROR', option, type: 0x80000001 + int(9), message: str() };
  }
}

function randomRequest(): Request {
  const head = { flags: int(32), cookie: u64(), offset: u64() };
  const t = int(CMD_NAMES.length + 1);
  if (t === CMD_NAMES.length) return { ...head, type: 'unknown', code: 8 + int(100), length: rng.u32() };
  const type = CMD_NAMES[t];
  if (type === 'WRITE') { const data = bytes(int(300)); return { ...head, type, length: data.length, data }; }
  return { ...head, type, length: rng.u32() };
}

function randomReply(): Reply {
  const cookie = u64();
  const flags = int(2);
  switch (int(7)) {
    case 0: return { kind: 'chunk', flags: 1, cookie, chunk: { type: 'NONE' } };
    case 1: return { kind: 'chunk', flags, cookie, chunk: { type: 'OFFSET_DATA', offset: u64(), data: bytes(1 + int(300)) } };
    case 2: return { kind: 'chunk', flags, cookie, chunk: { type: 'OFFSET_HOLE', offset: u64(), length: 1 + int(1 << 30) } };
    case 3: return { kind: 'chunk', flags, cookie, chunk: { type: 'BLOCK_STATUS', contextId: rng.u32(), extents: Array.from({ length: 1 + int(20) }, () => ({ length: rng.u32(), flags: rng.u32() })) } };
    case 4: return { kind: 'chunk', flags, cookie, chunk: { type: 'ERROR', error: 1 + int(120), message: str() } };
    case 5: return { kind: 'chunk', flags, cookie, chunk: { type: 'ERROR_OFFSET', error: 1 + int(120), message: str(), offset: u64() } };
    default: return { kind: 'simple', error: int(3) ? 0 : 1 + int(120), cookie };
  }
}

/** Cuts bytes into pieces of 1..max bytes (fresh arrays, as sockets deliver them). */
function cut(b: Uint8Array, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length;) {
    const n = 1 + int(max);
    out.push(b.slice(i, i + n));
    i += n;
  }
  return out;
}

test('options and requests survive the client->server stream in random pieces', () => {
  for (const max of [1, 7, 64, 100000]) {
    const options = Array.from({ length: 60 }, randomOption);
    const requests = Array.from({ length: 200 }, randomRequest);
    const stream = new Uint8Array(Buffer.concat([encodeClientFlags(1), ...options.map(encodeOption), ...requests.map(encodeRequest)]));
    const d = new ClientDecoder({ maxOption: 1 << 20, maxWrite: 1 << 20 });
    const got: ClientMessage[] = [];
    let opts = 0;
    for (const piece of cut(stream, max)) {
      d.push(piece, (m) => {
        got.push(m);
        if (m.kind === 'option' && ++opts === options.length) d.transmission();
        else if (m.kind === 'option') d.options();
      });
    }
    const gotOptions = got.filter((m) => m.kind === 'option').map((m) => m.kind === 'option' && decodeOption(m.code, m.data));
    assert.deepEqual(gotOptions, options);
    // Decoding stops after a DISC, as the server closes then.
    const disc = requests.findIndex((r) => r.type === 'DISC');
    const want = disc < 0 ? requests : requests.slice(0, disc + 1);
    if (disc < 0) assert.equal(d.buffered, 0);
    assert.deepEqual(got.filter((m) => m.kind === 'request').map((m) => m.kind === 'request' && m.request), want);
    for (const r of want) assert.match(requestText(r), /^Cmd\.\w+\(16r[0-9a-f]+,/);
    for (const o of options) assert.match(optionText(o), /^Opt\.\w+\(/);
  }
});

test('option replies and transmission replies survive the server->client stream in random pieces', () => {
  for (const max of [1, 5, 50, 100000]) {
    const optReplies = Array.from({ length: 80 }, randomOptionReply);
    // Simple replies to READs carry data: the decoder learns their lengths from the cookies in flight.
    const replies = Array.from({ length: 200 }, randomReply);
    const readData = new Map<bigint, Uint8Array>();
    for (const r of replies) if (r.kind === 'simple' && r.error === 0 && int(2)) { r.data = bytes(1 + int(100)); readData.set(r.cookie, r.data); }
    const greeting = Buffer.from('4e42444d4147494349484156454f50540003', 'hex');
    const stream = new Uint8Array(Buffer.concat([greeting, ...optReplies.map(encodeOptionReply), ...replies.map(encodeReply)]));
    const d = new ServerDecoder({ maxPayload: 1 << 20, simpleDataLength: (c) => readData.get(c)?.length ?? 0 });
    const got: ServerMessage[] = [];
    let n = 0;
    for (const piece of cut(stream, max)) {
      d.push(piece, (m) => {
        got.push(m);
        if (m.kind === 'option-reply' && ++n === optReplies.length) d.transmission();
      });
    }
    assert.equal(d.buffered, 0);
    assert.deepEqual(got[0], { kind: 'greeting', flags: 3 });
    assert.deepEqual(got.filter((m) => m.kind === 'option-reply').map((m) => m.kind === 'option-reply' && m.reply), optReplies);
    const gotReplies = got.filter((m) => m.kind === 'reply').map((m) => m.kind === 'reply' && m.reply);
    assert.deepEqual(gotReplies, replies.map((r) => (r.kind === 'simple' && r.error === 0 && !r.data ? { ...r } : r)));
    for (const r of replies) assert.match(replyText(r), /^(Reply|Chunk)\.\w+\(16r/);
    for (const r of optReplies) assert.match(optionReplyText(r), /^Rep\.\w+\(/);
  }
});

test('a message inside one chunk is handed out as a view of it, not a copy', () => {
  const data = bytes(4096);
  const frame = encodeRequest({ type: 'WRITE', flags: 0, cookie: 1n, offset: 0n, length: data.length, data });
  const d = new ClientDecoder();
  d.push(encodeClientFlags(1), () => {});
  d.push(encodeOption({ option: 'GO', name: '', requests: [] }), () => d.transmission());
  let seen: Uint8Array | null = null;
  d.push(frame, (m) => { if (m.kind === 'request' && m.request.type === 'WRITE') seen = m.request.data; });
  assert.ok(seen);
  assert.equal((seen as Uint8Array).buffer, frame.buffer);
  assert.deepEqual(seen, data);
});
