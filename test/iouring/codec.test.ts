// The IOD1 codec against the document's golden bytes (section 19, observed from the original),
// round trips of every message, and hostile input for both sides' framers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ByteQueue, IodError, RequestReader, ResponseReader, ZERO_CAPABILITIES, checkHandshakeResponse, completionText,
  decodeCompletion, decodeHandshakeRequest, decodeHandshakeResponse, decodeRequest, decodeResourceResult,
  decodeStats, decodeSubmitResult, decodeTraceResult, encodeCompletion, encodeHandshakeRequest,
  encodeHandshakeResponse, encodeRequest, encodeResourceResult, encodeStats, encodeSubmitResult,
  encodeTraceResult, handshakeAcceptable, requestText, submitResultText, cPath, checkRequestArgs, IodRejected,
  type Capabilities, type Incoming, type Request,
} from '../../shared/iouring/index.ts';
import { hex, toHex } from './helper.ts';

const CAPS: Capabilities = {
  structSize: 36, features: 0x3ffff, ringEntries: 4, cqEntries: 8, opMask: 0xfff, submitCredits: 3,
  registeredFdSlots: 32, registeredBufferSlots: 1, ioBytesMax: 4096,
};

/** Feeds a whole request stream (after the handshake) through the daemon's reader, byte by byte. */
function readRequests(bytes: Uint8Array, ioBytesMax = 4096, chunk = 1): Request[] {
  const r = new RequestReader(ioBytesMax);
  r.push(encodeHandshakeRequest());
  assert.ok(r.handshake());
  const out: Request[] = [];
  for (let i = 0; i < bytes.length; i += chunk) {
    r.push(bytes.subarray(i, i + chunk));
    for (let f = r.next(); f; f = r.next()) out.push(decodeRequest(f));
  }
  assert.equal(r.buffered, 0);
  return out;
}

test('golden: handshake request and response', () => {
  const req = hex('49 4f 44 31 01 00 0c 00 01 00 0c 00 00 00 00 00');
  assert.deepEqual(encodeHandshakeRequest(), req);
  assert.ok(handshakeAcceptable(decodeHandshakeRequest(req)));
  const rsp = hex(`49 4f 44 31 01 00 0c 00 01 00 0c 00 00 00 00 00
    24 00 00 00 ff ff 03 00 04 00 00 00 08 00 00 00 ff 0f 00 00 03 00 00 00 20 00 00 00 01 00 00 00 00 10 00 00`);
  assert.deepEqual(encodeHandshakeResponse(0, CAPS), rsp);
  assert.deepEqual(checkHandshakeResponse(decodeHandshakeResponse(rsp)), CAPS);
});

test('golden: requests encode to the observed bytes and decode back', () => {
  const vectors: [Request, string][] = [
    [{ kind: 'nop', priority: 'normal' }, '49 4f 44 31 01 00 0c 00 01 00 00 00 00 00 00 00'],
    [{ kind: 'timeout', priority: 'normal', timeoutNsec: 1_000_000n }, '49 4f 44 31 01 00 0c 00 02 00 00 00 00 00 00 00 40 42 0f 00 00 00 00 00'],
    [{ kind: 'cancel', priority: 'normal', target: 42n }, '49 4f 44 31 01 00 0c 00 03 00 00 00 00 00 00 00 2a 00 00 00 00 00 00 00'],
    [{ kind: 'register_fd' }, '49 4f 44 31 01 00 0c 00 00 01 00 00 00 00 00 00'],
    [{ kind: 'sock_read', priority: 'normal', resourceId: 1, length: 5 }, '49 4f 44 31 01 00 0c 00 04 00 00 00 00 00 00 00 01 00 00 00 05 00 00 00'],
    [{ kind: 'get_stats' }, '49 4f 44 31 01 00 0c 00 03 01 00 00 00 00 00 00'],
    [{ kind: 'get_trace', afterSequence: 4n, maxEvents: 1 }, '49 4f 44 31 01 00 0c 00 04 01 00 00 00 00 00 00 04 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00'],
  ];
  for (const [msg, h] of vectors) {
    assert.equal(toHex(encodeRequest(msg)), h, msg.kind);
    assert.deepEqual(readRequests(hex(h)), [msg], msg.kind);
  }
});

test('golden: results and completions', () => {
  const sub = (h: string, taskId: bigint, res: number, credits: number): void => {
    assert.deepEqual(decodeSubmitResult(hex(h)), { taskId, res, credits });
    assert.equal(toHex(encodeSubmitResult({ taskId, res, credits })), h);
  };
  sub('01 00 00 00 00 00 00 00 00 00 00 00 02 00 00 00', 1n, 0, 2);
  sub('03 00 00 00 00 00 00 00 00 00 00 00 03 00 00 00', 3n, 0, 3);
  sub('00 00 00 00 00 00 00 00 ea ff ff ff 03 00 00 00', 0n, -22, 3);
  const rr = '01 00 00 00 00 00 00 00 1f 00 00 00 00 00 00 00';
  assert.deepEqual(decodeResourceResult(hex(rr)), { resourceId: 1, res: 0, available: 31 });
  assert.equal(toHex(encodeResourceResult({ resourceId: 1, res: 0, available: 31 })), rr);
  const cmp = (h: string, taskId: bigint, res: number, taskKind: number, payload = ''): void => {
    const c = decodeCompletion(hex(h));
    assert.deepEqual({ ...c, payload: Buffer.from(c.payload).toString() }, { taskId, res, taskKind, payload });
    assert.equal(toHex(encodeCompletion({ taskId, res, taskKind, payload: new TextEncoder().encode(payload) })), h);
  };
  cmp('49 4f 44 31 01 00 0c 00 01 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00', 1n, 0, 1);
  cmp('49 4f 44 31 01 00 0c 00 02 00 00 00 00 00 00 00 c2 ff ff ff 02 00 00 00', 2n, -62, 2);
  cmp('49 4f 44 31 01 00 0c 00 03 00 00 00 00 00 00 00 fe ff ff ff 03 00 00 00', 3n, -2, 3);
  cmp('49 4f 44 31 01 00 0c 00 04 00 00 00 00 00 00 00 05 00 00 00 04 00 05 00 68 65 6c 6c 6f', 4n, 5, 4, 'hello');
  const tr = hex(`01 00 00 00 00 00 00 00 0a 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00
    05 00 00 00 00 00 00 00 11 22 33 44 55 66 77 08 03 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 03 00 00 00 01 00 03 00 00 00 00 00 00 00 00 00`);
  const t = decodeTraceResult(tr, 1);
  assert.equal(t.oldestSequence, 1n);
  assert.equal(t.latestSequence, 10n);
  assert.deepEqual(t.events, [{
    sequence: 5n, timestampNsec: 0x0877665544332211n, taskId: 3n, resourceId: 0, res: 0, credits: 3,
    eventKind: 1, taskKind: 3, clientSlot: 0, priority: 0,
  }]);
  assert.deepEqual(encodeTraceResult(t), tr);
});

test('round trip: every request kind, in one stream, at every chunk size', () => {
  const reqs: Request[] = [
    { kind: 'nop', priority: 'high' },
    { kind: 'timeout', priority: 'low', timeoutNsec: (1n << 64n) - 1n },
    { kind: 'cancel', priority: 'normal', target: 7n },
    { kind: 'sock_read', priority: 'normal', resourceId: 3, length: 4096 },
    { kind: 'sock_write', priority: 'high', resourceId: 3, data: hex('01 02 03') },
    { kind: 'sock_read_fixed', priority: 'normal', resourceId: 1, bufferId: 2, length: 9 },
    { kind: 'sock_write_fixed', priority: 'low', resourceId: 1, bufferId: 2, length: 9 },
    { kind: 'file_read', priority: 'normal', resourceId: 8, length: 1 },
    { kind: 'file_write', priority: 'normal', resourceId: 8, data: new Uint8Array(4096).fill(7) },
    { kind: 'poll', priority: 'normal', resourceId: 2, pollMask: 0x5 },
    { kind: 'connect', priority: 'normal', resourceId: 2, sockaddr: hex('01 00 2f 74 00') },
    { kind: 'accept', priority: 'normal', resourceId: 2, sockaddrLength: 110 },
    { kind: 'openat', priority: 'normal', flags: 0x80000, mode: 0o644, path: cPath('/tmp/x') },
    { kind: 'close', priority: 'high', resourceId: 4 },
    { kind: 'register_fd' },
    { kind: 'release_resource', resourceId: 9, reserved2: 0 },
    { kind: 'register_buffer', data: hex('aa bb') },
    { kind: 'register_buffer', data: new Uint8Array(0) },
    { kind: 'get_stats' },
    { kind: 'get_trace', afterSequence: 12n, maxEvents: 256 },
  ];
  const stream = Uint8Array.from(Buffer.concat(reqs.map((r) => encodeRequest(r))));
  for (const chunk of [1, 3, 16, 1000, stream.length]) assert.deepEqual(readRequests(stream, 4096, chunk), reqs);
  for (const r of reqs) assert.match(requestText(r), /^Req\.\w+\(/);
});

test('round trip: responses and completions through the client reader, byte by byte', () => {
  const stats = {
    activeClients: 2, outstandingTasks: 3, outstandingCreditTasks: 2, availableCredits: 1, registeredFiles: 4,
    registeredBuffers: 1, acceptedSubmits: 10n, rejectedSubmits: 2n, completions: 9n, perClientCreditLimit: 3,
    clientsAtCreditLimit: 0,
  };
  assert.deepEqual(decodeStats(encodeStats(stats)), stats);
  const trace = { oldestSequence: 1n, latestSequence: 2n, events: [] };
  const stream = Buffer.concat([
    encodeHandshakeResponse(0, CAPS),
    encodeSubmitResult({ taskId: 1n, res: 0, credits: 2 }),
    encodeCompletion({ taskId: 1n, res: 3, taskKind: 8, payload: hex('61 62 63') }),
    encodeResourceResult({ resourceId: 0, res: -16, available: 0 }),
    encodeStats(stats),
    encodeTraceResult(trace),
  ]);
  const r = new ResponseReader();
  r.expect('handshake');
  r.expect('submit');
  r.expect('resource');
  r.expect('stats');
  r.expect('trace', 4);
  const got: Incoming[] = [];
  for (let i = 0; i < stream.length; i++) r.push(stream.subarray(i, i + 1), (m) => got.push(m));
  assert.deepEqual(got.map((m) => m.type), ['handshake', 'submit', 'completion', 'resource', 'stats', 'trace']);
  const c = got[2];
  assert.ok(c.type === 'completion');
  assert.equal(completionText(c.completion), 'Cmp.FileRead(1,3,array[3] of byte)');
  assert.ok(got[4].type === 'stats' && got[4].result.completions === 9n);
  assert.equal(submitResultText({ taskId: 1n, res: 0, credits: 2 }), 'Rsp.Submit(1,0,2)');
});

test('zero-copy: a request inside one chunk decodes to views of it', () => {
  const chunk = encodeRequest({ kind: 'file_write', priority: 'normal', resourceId: 1, data: new Uint8Array(100) });
  const r = new RequestReader(4096);
  r.push(encodeHandshakeRequest());
  r.handshake();
  r.push(chunk);
  const req = decodeRequest(r.next()!);
  assert.ok(req.kind === 'file_write');
  assert.equal(req.data.buffer, chunk.buffer);
});

test('linear: a large stream fed in small chunks', () => {
  const one = encodeRequest({ kind: 'nop', priority: 'normal' });
  const n = 20000;
  const stream = new Uint8Array(one.length * n);
  for (let i = 0; i < n; i++) stream.set(one, i * one.length);
  assert.equal(readRequests(stream, 4096, 5).length, n);
  const q = new ByteQueue();
  for (let i = 0; i < n; i++) q.push(one);
  for (let i = 0; i < n; i++) q.take(16);
  assert.equal(q.length, 0);
});

/** Runs hostile bytes through the daemon's reader; returns the IodError code it stopped with. */
function violation(bytes: Uint8Array, ioBytesMax = 4096): string {
  const r = new RequestReader(ioBytesMax);
  r.push(encodeHandshakeRequest());
  r.handshake();
  try {
    for (let i = 0; i < bytes.length; i++) {
      r.push(bytes.subarray(i, i + 1));
      for (let f = r.next(); f; f = r.next()) decodeRequest(f);
    }
  } catch (e) {
    assert.ok(e instanceof IodError, String(e));
    return e.code;
  }
  return 'none';
}

test('hostile requests: each violation of 5.3 is a typed error', () => {
  const nop = encodeRequest({ kind: 'nop', priority: 'normal' });
  const badMagic = nop.slice(); badMagic[0] = 0x48;
  assert.equal(violation(badMagic), 'bad-magic');
  const badMajor = nop.slice(); badMajor[4] = 2;
  assert.equal(violation(badMajor), 'bad-version');
  const badMinor = nop.slice(); badMinor[6] = 11;
  assert.equal(violation(badMinor), 'bad-version');
  assert.equal(violation(encodeRequest({ kind: 'nop', priority: 'normal' }, { reserved1: 1 })), 'bad-reserved');
  assert.equal(violation(encodeRequest({ kind: 'timeout', priority: 'normal', timeoutNsec: 1n }, { priorityField: 3 })), 'bad-priority');
  assert.equal(violation(encodeRequest({ kind: 'get_stats' }, { priorityField: 1 })), 'bad-priority');
  const k99 = nop.slice(); k99[8] = 99;
  assert.equal(violation(k99), 'bad-kind');
  for (const k of [0, 15, 255, 261]) {
    const b = nop.slice(); new DataView(b.buffer).setUint16(8, k, true);
    assert.equal(violation(b), 'bad-kind', `kind ${k}`);
  }
  // malformed timeout: the header then EOF leaves a request half read, no error yet
  const half = new RequestReader(4096);
  half.push(encodeHandshakeRequest()); half.handshake();
  half.push(encodeRequest({ kind: 'timeout', priority: 'normal', timeoutNsec: 1n }).subarray(0, 16));
  assert.equal(half.next(), null);
  assert.ok(half.midRequest);
  // lengths over io_bytes_max
  assert.equal(violation(encodeRequest({ kind: 'file_write', priority: 'normal', resourceId: 1, data: new Uint8Array(129) }), 128), 'bad-length');
  assert.equal(violation(encodeRequest({ kind: 'register_buffer', data: new Uint8Array(129) }), 128), 'bad-length');
  assert.equal(violation(encodeRequest({ kind: 'openat', priority: 'normal', flags: 0, mode: 0, path: new Uint8Array(129) }), 128), 'bad-length');
  assert.equal(violation(encodeRequest({ kind: 'connect', priority: 'normal', resourceId: 1, sockaddr: new Uint8Array(129) }), 128), 'bad-length');
  assert.equal(violation(encodeRequest({ kind: 'accept', priority: 'normal', resourceId: 1, sockaddrLength: 129 }), 128), 'bad-length');
  assert.equal(violation(encodeRequest({ kind: 'get_trace', afterSequence: 0n, maxEvents: 257 })), 'bad-length');
  // an oversized read length is not a violation: the daemon rejects it at dispatch
  assert.equal(violation(encodeRequest({ kind: 'file_read', priority: 'normal', resourceId: 1, length: 5000 })), 'none');
  // zero-length write, reserved2 fields, OPENAT without a final NUL
  const w0 = encodeRequest({ kind: 'file_write', priority: 'normal', resourceId: 1, data: new Uint8Array(0) });
  assert.equal(violation(w0), 'bad-length');
  assert.equal(violation(encodeRequest({ kind: 'poll', priority: 'normal', resourceId: 1, pollMask: 1 }, { reserved2: 1 })), 'bad-reserved');
  assert.equal(violation(encodeRequest({ kind: 'close', priority: 'normal', resourceId: 1 }, { reserved2: 1 })), 'bad-reserved');
  assert.equal(violation(encodeRequest({ kind: 'get_trace', afterSequence: 0n, maxEvents: 1 }, { reserved2: 1 })), 'bad-reserved');
  assert.equal(violation(encodeRequest({ kind: 'openat', priority: 'normal', flags: 0, mode: 0, path: hex('2f 78') })), 'bad-path');
  // RELEASE_RESOURCE reserved2 is not checked
  assert.equal(violation(encodeRequest({ kind: 'release_resource', resourceId: 1, reserved2: 5 })), 'none');
});

test('hostile handshakes: the daemon rule', () => {
  assert.ok(!handshakeAcceptable(decodeHandshakeRequest(encodeHandshakeRequest({ magic: 0x32444f49 }))));
  assert.ok(!handshakeAcceptable(decodeHandshakeRequest(encodeHandshakeRequest({ versionMajor: 2 }))));
  assert.ok(!handshakeAcceptable(decodeHandshakeRequest(encodeHandshakeRequest({ versionMinor: 13 }))));
  assert.ok(!handshakeAcceptable(decodeHandshakeRequest(encodeHandshakeRequest({ abiMinor: 11 }))));
  assert.ok(!handshakeAcceptable(decodeHandshakeRequest(encodeHandshakeRequest({ reserved: 1 }))));
  const rej = encodeHandshakeResponse(1, CAPS);
  assert.deepEqual(rej.subarray(16), new Uint8Array(36), 'a reject carries zero capabilities');
  assert.deepEqual(decodeHandshakeResponse(rej).capabilities, ZERO_CAPABILITIES);
});

test('hostile responses: the client rules of 16.1 and 16.2', () => {
  const bad = (over: Partial<Capabilities>, status = 0): void => {
    assert.throws(() => checkHandshakeResponse(decodeHandshakeResponse(encodeHandshakeResponse(status, { ...CAPS, ...over }))),
      (e: unknown) => e instanceof IodError && e.errno === 71, JSON.stringify(over));
  };
  bad({}, 1);
  bad({}, 2);
  bad({ structSize: 35 });
  bad({ ringEntries: 0 });
  bad({ cqEntries: 0 });
  bad({ opMask: 0 });
  bad({ opMask: 0x1fff });
  bad({ submitCredits: 0 });
  bad({ submitCredits: 5 });
  bad({ registeredFdSlots: 0 });
  bad({ ioBytesMax: 0 });
  bad({ registeredBufferSlots: 0 });
  checkHandshakeResponse(decodeHandshakeResponse(encodeHandshakeResponse(0, { ...CAPS, opMask: 0x1f, registeredBufferSlots: 0 })));
  const reserved = encodeHandshakeResponse(0, CAPS); reserved[14] = 1;
  assert.throws(() => checkHandshakeResponse(decodeHandshakeResponse(reserved)), IodError);
  // submit results: neither accept nor reject
  for (const h of ['00 00 00 00 00 00 00 00 00 00 00 00 03 00 00 00', '01 00 00 00 00 00 00 00 fe ff ff ff 03 00 00 00',
    'f0 ff ff ff ff ff ff ff 00 00 00 00 03 00 00 00']) {
    assert.throws(() => decodeSubmitResult(hex(h)), IodError, h);
  }
  assert.throws(() => decodeResourceResult(hex('01 00 00 00 00 00 00 00 1f 00 00 00 01 00 00 00')), IodError);
  assert.throws(() => decodeResourceResult(hex('00 00 00 00 00 00 00 00 1f 00 00 00 00 00 00 00')), IodError);
  // completions: task id 0 or reserved, bad kinds, payload rules
  const c = (taskId: bigint, res: number, taskKind: number, len: number): Uint8Array => {
    const b = encodeCompletion({ taskId, res, taskKind, payload: new Uint8Array(len) });
    return b;
  };
  for (const [b, why] of [
    [c(0n, 0, 1, 0), 'task id 0'], [c((1n << 64n) - 16n, 0, 1, 0), 'reserved id'], [c(1n, 0, 15, 0), 'kind 15'],
    [c(1n, 0, 0, 0), 'kind 0'], [c(1n, 5, 8, 4), 'read payload != res'], [c(1n, -5, 8, 1), 'error with payload'],
    [c(1n, 0, 12, 0), 'accept res 0'], [c(1n, 0, 1, 1), 'nop with payload'],
  ] as const) assert.throws(() => decodeCompletion(b), IodError, why);
  // trace: over capacity is EOVERFLOW, a bad event is EPROTO
  const tr = encodeTraceResult({ oldestSequence: 1n, latestSequence: 2n, events: [
    { sequence: 1n, timestampNsec: 0n, taskId: 0n, resourceId: 1, res: 0, credits: 3, eventKind: 4, taskKind: 0, clientSlot: 0, priority: 0 },
    { sequence: 2n, timestampNsec: 0n, taskId: 0n, resourceId: 1, res: 0, credits: 3, eventKind: 6, taskKind: 0, clientSlot: 0, priority: 0 },
  ] });
  assert.throws(() => decodeTraceResult(tr, 1), (e: unknown) => e instanceof IodError && e.errno === 75);
  assert.throws(() => decodeTraceResult(tr, 2), (e: unknown) => e instanceof IodError && e.errno === 71);
  // bytes when nothing is expected
  const r = new ResponseReader();
  assert.throws(() => r.push(encodeSubmitResult({ taskId: 1n, res: 0, credits: 1 }), () => {}), IodError);
});

test('client argument checks (16.3) reject before sending', () => {
  const einval = (req: Request): void => assert.throws(() => checkRequestArgs(req), (e: unknown) => e instanceof IodRejected && e.errno === 22, req.kind);
  einval({ kind: 'file_read', priority: 'normal', resourceId: 0, length: 1 });
  einval({ kind: 'file_read', priority: 'normal', resourceId: 1, length: 0 });
  einval({ kind: 'poll', priority: 'normal', resourceId: 1, pollMask: 0 });
  einval({ kind: 'connect', priority: 'normal', resourceId: 1, sockaddr: new Uint8Array(0) });
  einval({ kind: 'accept', priority: 'normal', resourceId: 1, sockaddrLength: 65536 });
  einval({ kind: 'openat', priority: 'normal', flags: 0, mode: 0, path: new Uint8Array(4097) });
  einval({ kind: 'register_buffer', data: new Uint8Array(4097) });
});
