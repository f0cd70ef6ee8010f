// The device RPC between serve and a page (shared/nbd/page-rpc.ts): every request round-trips,
// malformed frames raise typed errors, and the page's host answers what its device does (and an
// error, never a crash, for what it cannot).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NbdErrno } from '../../shared/nbd/constants.ts';
import type { BlockDevice } from '../../shared/nbd/device.ts';
import { NbdProtocolError } from '../../shared/nbd/errors.ts';
import { MemoryDevice } from '../../shared/nbd/memory-device.ts';
import {
  type RpcRequest, REPLY_HEADER, RpcCap, RpcHas, RpcStatus, decodeErrorBody, decodeExtentsReply, decodeOpenReply,
  decodeReply, decodeRequest, encodeRequest, hostBlockDevice,
} from '../../shared/nbd/page-rpc.ts';

const requests: RpcRequest[] = [
  { op: 'HELLO', id: 0, handle: 0, name: 'disk ü' },
  { op: 'OPEN', id: 1, handle: 7, exportName: 'disk', readonly: true },
  { op: 'CLOSE', id: 2, handle: 7 },
  { op: 'FLUSH', id: 3, handle: 7 },
  { op: 'PREAD', id: 4, handle: 7, offset: (1n << 40n) + 3n, length: 65536 },
  { op: 'EXTENTS', id: 5, handle: 7, offset: 0n, length: 0xffffffff },
  { op: 'CACHE', id: 6, handle: 7, offset: 512n, length: 512 },
  { op: 'PWRITE', id: 7, handle: 7, offset: 4096n, fua: true, data: new Uint8Array([1, 2, 3]) },
  { op: 'TRIM', id: 8, handle: 7, offset: 0n, length: 4096, fua: false },
  { op: 'ZERO', id: 0xffffffff, handle: 0xffffffff, offset: 9n, length: 1, fua: true, mayTrim: false },
];

test('every request round-trips through encode and decode', () => {
  for (const r of requests) assert.deepEqual(decodeRequest(encodeRequest(r)), r);
});

test('malformed frames raise NbdProtocolError: a lying size, truncation, trailing bytes, unknown ops and statuses', () => {
  const bad = (b: Uint8Array, code: string) => assert.throws(() => decodeRequest(b), (e: unknown) => e instanceof NbdProtocolError && e.code === code);
  const pread = encodeRequest(requests[4]);
  const lying = pread.slice();
  new DataView(lying.buffer).setUint32(0, pread.length + 1, true);
  bad(lying, 'bad-value');
  bad(new Uint8Array([1, 0]), 'truncated');
  const short = pread.slice(0, pread.length - 1);
  new DataView(short.buffer).setUint32(0, short.length, true);
  bad(short, 'truncated');
  const flush = encodeRequest(requests[3]);
  const long = new Uint8Array(flush.length + 1);
  long.set(flush);
  new DataView(long.buffer).setUint32(0, long.length, true);
  bad(long, 'trailing');
  const unknown = flush.slice();
  unknown[4] = 200;
  bad(unknown, 'bad-value');
  const reply = new Uint8Array(REPLY_HEADER);
  new DataView(reply.buffer).setUint32(0, REPLY_HEADER, true);
  reply[4] = 7;
  assert.throws(() => decodeReply(reply), /reply status 7/);
  // An extent count that the frame cannot hold is refused before anything is allocated for it.
  assert.throws(() => decodeExtentsReply(new Uint8Array([0xff, 0xff, 0xff, 0xff])), (e: unknown) => e instanceof NbdProtocolError && e.code === 'truncated');
});

/** The host over a loop: requests in, replies out, in order of completion. */
function host(device: BlockDevice = new MemoryDevice(1 << 20)) {
  let deliver: (f: Uint8Array) => void = () => {};
  const replies: Uint8Array[] = [];
  const waiters: Array<() => void> = [];
  const hellos: string[] = [];
  hostBlockDevice(device, {
    send: (f) => { replies.push(f); waiters.shift()?.(); },
    onMessage: (cb) => { deliver = cb; },
  }, { onHello: (n) => hellos.push(n), log: () => {} });
  return {
    hellos,
    async call(r: RpcRequest) {
      const got = new Promise<void>((resolve) => waiters.push(resolve));
      deliver(encodeRequest(r));
      await got;
      return decodeReply(replies.shift()!);
    },
    send: (b: Uint8Array) => deliver(b),
    replies,
  };
}

test('the host opens the device per handle and answers with its size, callbacks and capabilities', async () => {
  const h = host();
  h.send(encodeRequest(requests[0]));
  assert.deepEqual(h.hellos, ['disk ü']);
  const open = await h.call({ op: 'OPEN', id: 1, handle: 3, exportName: 'disk', readonly: false });
  assert.equal(open.status, RpcStatus.OK);
  const o = decodeOpenReply(open.body);
  assert.equal(o.size, 1n << 20n);
  assert.equal(o.has, RpcHas.PWRITE | RpcHas.FLUSH | RpcHas.TRIM | RpcHas.ZERO | RpcHas.EXTENTS | RpcHas.CACHE);
  assert.equal(o.caps, RpcCap.MULTI_CONN | RpcCap.FAST_ZERO);
  assert.equal(o.blockSize, null);
  assert.equal((await h.call({ op: 'PWRITE', id: 2, handle: 3, offset: 70000n, fua: false, data: new Uint8Array([9, 8, 7]) })).status, RpcStatus.OK);
  const read = await h.call({ op: 'PREAD', id: 3, handle: 3, offset: 69999n, length: 5 });
  assert.deepEqual([...read.body], [0, 9, 8, 7, 0]);
  const ex = decodeExtentsReply((await h.call({ op: 'EXTENTS', id: 4, handle: 3, offset: 0n, length: 1 << 20 })).body);
  assert.deepEqual(ex.map((e) => [Number(e.length), e.flags]), [[65536, 3], [65536, 0], [(1 << 20) - 131072, 3]]);
});

test('the host answers errors, not crashes: unknown handles, offsets past 2^53, a device that throws; bad frames are dropped', async () => {
  const h = host({ open: () => ({ size: () => 4096, pread: () => { throw Object.assign(new Error('disk on fire'), { code: 'ENOSPC' }); } }) });
  const e1 = await h.call({ op: 'PREAD', id: 1, handle: 99, offset: 0n, length: 1 });
  assert.equal(e1.status, RpcStatus.ERROR);
  assert.match(decodeErrorBody(e1.body).message, /no open connection h99/);
  await h.call({ op: 'OPEN', id: 2, handle: 1, exportName: '', readonly: false });
  const e2 = await h.call({ op: 'PREAD', id: 3, handle: 1, offset: 1n << 60n, length: 1 });
  assert.match(decodeErrorBody(e2.body).message, /beyond 2\^53/);
  const e3 = await h.call({ op: 'PREAD', id: 4, handle: 1, offset: 0n, length: 1 });
  assert.deepEqual(decodeErrorBody(e3.body), { errno: NbdErrno.ENOSPC, message: 'disk on fire' });
  const e4 = await h.call({ op: 'PWRITE', id: 5, handle: 1, offset: 0n, fua: false, data: new Uint8Array(1) });
  assert.match(decodeErrorBody(e4.body).message, /read-only/);
  h.send(new Uint8Array([3, 0, 0, 0]));
  assert.equal(h.replies.length, 0);
});
