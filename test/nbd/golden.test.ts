// Golden bytes written by hand from NetworkBlockDevice/nbd doc/proto.md: every message is spelled
// out field by field (big-endian), and the codec must produce and accept exactly these bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClientDecoder, Info, NbdProtocolError, ServerDecoder, decodeChunk, decodeGreeting, decodeOption,
  decodeOptionReply, decodeRequest, encodeClientFlags, encodeExportNameReply, encodeGreeting, encodeOption,
  encodeOptionReply, encodeReply, encodeRequest, errorOf, toWireErrno, NbdError,
} from '../../shared/nbd/index.ts';
import { parseNbdUri } from '../../shared/nbd/uri.ts';

/** Hex with spaces and comments allowed: "4e42444d 41474943 # NBDMAGIC". */
function hex(s: string): Uint8Array {
  const clean = s.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

const ascii = (s: string): string => Buffer.from(s).toString('hex');

test('greeting: NBDMAGIC, IHAVEOPT, FIXED_NEWSTYLE|NO_ZEROES', () => {
  const g = hex('4e42444d41474943 49484156454f5054 0003');
  assert.deepEqual(encodeGreeting(3), g);
  assert.deepEqual(decodeGreeting(g), { flags: 3 });
  // An oldstyle server sends cliserv_magic where IHAVEOPT would be.
  assert.throws(() => decodeGreeting(hex('4e42444d41474943 0000420281861253 0000')), NbdProtocolError);
});

test('client flags: 32 bits', () => {
  assert.deepEqual(encodeClientFlags(3), hex('00000003'));
});

test('options: EXPORT_NAME, GO with info requests, SET_META_CONTEXT, LIST, ABORT', () => {
  assert.deepEqual(encodeOption({ option: 'EXPORT_NAME', name: 'disk' }), hex(`
    49484156454f5054  # IHAVEOPT
    00000001          # NBD_OPT_EXPORT_NAME
    00000004          # length
    ${ascii('disk')}`));
  const go = hex(`
    49484156454f5054 00000007 0000000e  # GO, 14 bytes
    00000004 ${ascii('disk')}          # name
    0002 0003 0001                     # 2 requests: BLOCK_SIZE, NAME`);
  assert.deepEqual(encodeOption({ option: 'GO', name: 'disk', requests: [Info.BLOCK_SIZE, Info.NAME] }), go);
  assert.deepEqual(decodeOption(7, go.subarray(16)), { option: 'GO', name: 'disk', requests: [3, 1] });
  const meta = hex(`
    49484156454f5054 0000000a 0000001b  # SET_META_CONTEXT, 27 bytes
    00000000                           # export name length 0 (the default export)
    00000001                           # one query
    0000000f ${ascii('base:allocation')}`);
  assert.deepEqual(encodeOption({ option: 'SET_META_CONTEXT', name: '', queries: ['base:allocation'] }), meta);
  assert.deepEqual(decodeOption(10, meta.subarray(16)), { option: 'SET_META_CONTEXT', name: '', queries: ['base:allocation'] });
  assert.deepEqual(encodeOption({ option: 'LIST' }), hex('49484156454f5054 00000003 00000000'));
  assert.deepEqual(encodeOption({ option: 'ABORT' }), hex('49484156454f5054 00000002 00000000'));
  assert.deepEqual(encodeOption({ option: 'STRUCTURED_REPLY' }), hex('49484156454f5054 00000008 00000000'));
  // LIST with data is invalid (the server answers ERR_INVALID).
  assert.throws(() => decodeOption(3, hex('00')), NbdProtocolError);
  assert.deepEqual(decodeOption(99, hex('0102')), { option: 'unknown', code: 99, data: hex('0102') });
});

test('option replies: INFO EXPORT, BLOCK_SIZE, SERVER, META_CONTEXT, ACK, ERR_UNKNOWN', () => {
  const info = hex(`
    0003e889045565a9 00000007 00000003 0000000c  # magic, GO, NBD_REP_INFO, 12
    0000 0000000040000000 014d                   # NBD_INFO_EXPORT, 1 GiB, flags`);
  assert.deepEqual(encodeOptionReply({ reply: 'INFO', option: 7, info: { info: 'EXPORT', size: 1n << 30n, flags: 0x14d } }), info);
  assert.deepEqual(decodeOptionReply(7, 3, info.subarray(20)), { reply: 'INFO', option: 7, info: { info: 'EXPORT', size: 1n << 30n, flags: 0x14d } });
  assert.deepEqual(encodeOptionReply({ reply: 'INFO', option: 7, info: { info: 'BLOCK_SIZE', minimum: 1, preferred: 4096, maximum: 33554432 } }), hex(`
    0003e889045565a9 00000007 00000003 0000000e  0003 00000001 00001000 02000000`));
  assert.deepEqual(encodeOptionReply({ reply: 'SERVER', option: 3, name: 'a', description: 'bc' }), hex(`
    0003e889045565a9 00000003 00000002 00000007  00000001 61 6263`));
  assert.deepEqual(encodeOptionReply({ reply: 'META_CONTEXT', option: 10, id: 1, name: 'base:allocation' }), hex(`
    0003e889045565a9 0000000a 00000004 00000013  00000001 ${ascii('base:allocation')}`));
  assert.deepEqual(encodeOptionReply({ reply: 'ACK', option: 8 }), hex('0003e889045565a9 00000008 00000001 00000000'));
  const err = hex(`0003e889045565a9 00000007 80000006 00000002 6e6f`);
  assert.deepEqual(encodeOptionReply({ reply: 'ERROR', option: 7, type: 0x80000006, message: 'no' }), err);
  assert.deepEqual(decodeOptionReply(7, 0x80000006, err.subarray(20)), { reply: 'ERROR', option: 7, type: 0x80000006, message: 'no' });
});

test('EXPORT_NAME reply: size, flags, then 124 zeroes unless NO_ZEROES', () => {
  assert.deepEqual(encodeExportNameReply(512n, 1, false), hex('0000000000000200 0001'));
  const z = encodeExportNameReply(512n, 1, true);
  assert.equal(z.length, 134);
  assert.ok(z.subarray(10).every((b) => b === 0));
});

test('requests: READ, WRITE with data, WRITE_ZEROES with NO_HOLE|FAST_ZERO, BLOCK_STATUS REQ_ONE, DISC', () => {
  const read = hex(`
    25609513 0000 0000          # magic, flags, NBD_CMD_READ
    0000000000000001            # cookie
    0000000000001000            # offset 4096
    00000200                    # length 512`);
  assert.deepEqual(encodeRequest({ type: 'READ', flags: 0, cookie: 1n, offset: 4096n, length: 512 }), read);
  assert.deepEqual(decodeRequest(read), { type: 'READ', flags: 0, cookie: 1n, offset: 4096n, length: 512 });
  const write = hex('25609513 0001 0001 00000000000000ff 0000000000000000 00000003 616263');
  assert.deepEqual(encodeRequest({ type: 'WRITE', flags: 1, cookie: 255n, offset: 0n, length: 3, data: hex('616263') }), write);
  const w = decodeRequest(write);
  assert.equal(w.type, 'WRITE');
  if (w.type === 'WRITE') assert.equal(w.data.buffer, write.buffer, 'WRITE data is a view of the frame');
  assert.deepEqual(encodeRequest({ type: 'WRITE_ZEROES', flags: 0x12, cookie: 2n, offset: 0n, length: 65536 }),
    hex('25609513 0012 0006 0000000000000002 0000000000000000 00010000'));
  assert.deepEqual(encodeRequest({ type: 'BLOCK_STATUS', flags: 8, cookie: 3n, offset: 0n, length: 1 << 20 }),
    hex('25609513 0008 0007 0000000000000003 0000000000000000 00100000'));
  assert.deepEqual(encodeRequest({ type: 'DISC', flags: 0, cookie: 4n, offset: 0n, length: 0 }),
    hex('25609513 0000 0002 0000000000000004 0000000000000000 00000000'));
  assert.deepEqual(decodeRequest(hex('25609513 0000 0063 0000000000000004 0000000000000000 00000000')),
    { type: 'unknown', code: 99, flags: 0, cookie: 4n, offset: 0n, length: 0 });
  assert.throws(() => decodeRequest(hex('25609514 0000 0000 0000000000000001 0000000000001000 00000200')), NbdProtocolError);
});

test('simple reply: magic, error, cookie (+ READ data)', () => {
  assert.deepEqual(encodeReply({ kind: 'simple', error: 0, cookie: 1n, data: hex('aabb') }), hex('67446698 00000000 0000000000000001 aabb'));
  assert.deepEqual(encodeReply({ kind: 'simple', error: 22, cookie: 9n }), hex('67446698 00000016 0000000000000009'));
});

test('structured chunks: OFFSET_DATA, OFFSET_HOLE, BLOCK_STATUS, ERROR, ERROR_OFFSET, NONE', () => {
  const data = hex(`
    668e33ef 0001 0001 0000000000000005 0000000b  # magic, DONE, OFFSET_DATA, cookie 5, 11 bytes
    0000000000000200 010203                      # offset 512, 3 bytes of data`);
  assert.deepEqual(encodeReply({ kind: 'chunk', flags: 1, cookie: 5n, chunk: { type: 'OFFSET_DATA', offset: 512n, data: hex('010203') } }), data);
  const d = decodeChunk(data);
  assert.equal(d.kind === 'chunk' && d.chunk.type === 'OFFSET_DATA' && d.chunk.data.buffer, data.buffer, 'OFFSET_DATA data is a view');
  const hole = hex('668e33ef 0000 0002 0000000000000005 0000000c  0000000000001000 00002000');
  assert.deepEqual(encodeReply({ kind: 'chunk', flags: 0, cookie: 5n, chunk: { type: 'OFFSET_HOLE', offset: 4096n, length: 8192 } }), hole);
  assert.deepEqual(decodeChunk(hole), { kind: 'chunk', flags: 0, cookie: 5n, chunk: { type: 'OFFSET_HOLE', offset: 4096n, length: 8192 } });
  const bs = hex(`
    668e33ef 0001 0005 0000000000000006 00000014  # BLOCK_STATUS, 20 bytes
    00000001                                     # context id
    00010000 00000000  000f0000 00000003         # 64K data, 960K hole|zero`);
  const bsm = { kind: 'chunk' as const, flags: 1, cookie: 6n, chunk: { type: 'BLOCK_STATUS' as const, contextId: 1, extents: [{ length: 65536, flags: 0 }, { length: 0xf0000, flags: 3 }] } };
  assert.deepEqual(encodeReply(bsm), bs);
  assert.deepEqual(decodeChunk(bs), bsm);
  const err = hex('668e33ef 0001 8001 0000000000000007 00000008  00000005 0002 6f68');
  assert.deepEqual(encodeReply({ kind: 'chunk', flags: 1, cookie: 7n, chunk: { type: 'ERROR', error: 5, message: 'oh' } }), err);
  const erro = hex('668e33ef 0000 8002 0000000000000007 0000000e  0000001c 0000 0000000000000200');
  assert.deepEqual(decodeChunk(erro), { kind: 'chunk', flags: 0, cookie: 7n, chunk: { type: 'ERROR_OFFSET', error: 28, message: '', offset: 512n } });
  assert.deepEqual(encodeReply({ kind: 'chunk', flags: 1, cookie: 8n, chunk: { type: 'NONE' } }), hex('668e33ef 0001 0000 0000000000000008 00000000'));
  // Zero-sized holes and BLOCK_STATUS without descriptors break the spec's MUSTs.
  assert.throws(() => decodeChunk(hex('668e33ef 0000 0002 0000000000000005 0000000c 0000000000001000 00000000')), NbdProtocolError);
  assert.throws(() => decodeChunk(hex('668e33ef 0001 0005 0000000000000006 00000004 00000001')), NbdProtocolError);
});

test('framing hands whole messages out of a stream cut anywhere', () => {
  const stream = Buffer.concat([
    hex('00000003'),
    encodeOption({ option: 'GO', name: 'x', requests: [] }),
    encodeRequest({ type: 'WRITE', flags: 0, cookie: 1n, offset: 0n, length: 3, data: hex('010203') }),
    encodeRequest({ type: 'DISC', flags: 0, cookie: 2n, offset: 0n, length: 0 }),
  ]);
  const d = new ClientDecoder();
  const seen: string[] = [];
  for (const b of stream) {
    d.push(new Uint8Array([b]), (m) => {
      seen.push(m.kind === 'request' ? m.request.type : m.kind);
      // After the option, the server decides: transmission.
      if (m.kind === 'option') d.transmission();
    });
  }
  assert.deepEqual(seen, ['flags', 'option', 'WRITE', 'DISC']);

  // A client reading simple replies must know which cookie is a READ of how many bytes.
  const sd = new ServerDecoder({ simpleDataLength: (c) => (c === 1n ? 2 : c === 2n ? 0 : undefined) });
  sd.transmission();
  const replies: unknown[] = [];
  sd.push(hex('67446698 00000000 0000000000000001 aabb 67446698 00000000 0000000000000002'), (m) => replies.push(m));
  assert.equal(replies.length, 2);
  assert.throws(() => sd.push(hex('67446698 00000000 0000000000000003'), () => {}), NbdProtocolError);
});

test('errno mapping: whatever a device throws becomes one of the eight NBD values', () => {
  assert.equal(toWireErrno(30), 1);   // EROFS -> EPERM
  assert.equal(toWireErrno(122), 28); // EDQUOT -> ENOSPC
  assert.equal(toWireErrno(27), 28);  // EFBIG -> ENOSPC
  assert.equal(toWireErrno(2), 5);    // ENOENT -> EIO
  assert.equal(toWireErrno(38), 95);  // ENOSYS -> ENOTSUP
  assert.deepEqual(errorOf(Object.assign(new Error('full'), { code: 'ENOSPC' })), { errno: 28, message: 'full' });
  assert.deepEqual(errorOf(new NbdError(22, 'bad')), { errno: 22, message: 'bad' });
  assert.equal(errorOf('weird').errno, 5);
});

test('NBD URIs as libnbd writes them', () => {
  assert.deepEqual(parseNbdUri('nbd://127.0.0.1:10810/disk'), { target: { kind: 'tcp', host: '127.0.0.1', port: 10810 }, exportName: 'disk' });
  assert.deepEqual(parseNbdUri('nbd://localhost'), { target: { kind: 'tcp', host: 'localhost', port: 10809 }, exportName: '' });
  assert.deepEqual(parseNbdUri('nbd://[::1]:99/a%20b'), { target: { kind: 'tcp', host: '::1', port: 99 }, exportName: 'a b' });
  assert.deepEqual(parseNbdUri('nbd+unix:///mem?socket=/tmp/s.sock'), { target: { kind: 'unix', path: '/tmp/s.sock' }, exportName: 'mem' });
  assert.throws(() => parseNbdUri('nbds://host/x'), /TLS/);
  assert.throws(() => parseNbdUri('nbd+unix:///x'), /socket/);
  assert.throws(() => parseNbdUri('http://x/'), /scheme/);
});
