// The client against fake daemons (no process): its handshake checks, completion matching, the
// credit gate, and what a malformed record from the peer does to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Errno, IodClient, IodError, encodeCompletion, encodeHandshakeResponse, encodeSubmitResult,
  type ByteStream, type Capabilities,
} from '../../shared/iouring/index.ts';

const CAPS: Capabilities = {
  structSize: 36, features: 0, ringEntries: 4, cqEntries: 8, opMask: 0xfff, submitCredits: 3,
  registeredFdSlots: 32, registeredBufferSlots: 1, ioBytesMax: 4096,
};

/** A scripted peer: `sent` collects what the client writes; `reply` delivers bytes to it. */
function fakePeer(): { stream: ByteStream; sent: Uint8Array[]; reply(b: Uint8Array): void; end(): void; closed(): boolean } {
  let data: (b: Uint8Array) => void = () => {};
  let close: (e?: Error) => void = () => {};
  let isClosed = false;
  const sent: Uint8Array[] = [];
  return {
    sent,
    stream: {
      write: (b) => { sent.push(b); },
      onData: (cb) => { data = cb; },
      onClose: (cb) => { close = cb; },
      close: () => { if (!isClosed) { isClosed = true; close(); } },
    },
    reply: (b) => queueMicrotask(() => data(b)),
    end: () => queueMicrotask(() => { isClosed = true; close(); }),
    closed: () => isClosed,
  };
}

async function connected(): Promise<{ client: IodClient; peer: ReturnType<typeof fakePeer> }> {
  const peer = fakePeer();
  const p = IodClient.connect(peer.stream);
  peer.reply(encodeHandshakeResponse(0, CAPS));
  return { client: await p, peer };
}

test('handshake: EOF is EPIPE, a bad descriptor is EPROTO', async () => {
  const eof = fakePeer();
  const p1 = IodClient.connect(eof.stream);
  eof.end();
  await assert.rejects(p1, (e: unknown) => (e as { errno?: number }).errno === Errno.EPIPE);
  const bad = fakePeer();
  const p2 = IodClient.connect(bad.stream);
  bad.reply(encodeHandshakeResponse(0, { ...CAPS, submitCredits: 0 }));
  await assert.rejects(p2, (e: unknown) => e instanceof IodError && e.errno === Errno.EPROTO);
  assert.ok(bad.closed());
});

test('completions are matched by task id, whatever their order, and a completion can come first in a chunk', async () => {
  const { client, peer } = await connected();
  const a = client.submit({ kind: 'nop', priority: 'normal' });
  const b = client.submit({ kind: 'nop', priority: 'normal' });
  peer.reply(Buffer.concat([encodeSubmitResult({ taskId: 7n, res: 0, credits: 2 }), encodeSubmitResult({ taskId: 8n, res: 0, credits: 1 }),
    encodeCompletion({ taskId: 8n, res: 0, taskKind: 1, payload: new Uint8Array(0) })]));
  assert.equal((await a).taskId, 7n);
  assert.equal((await b).taskId, 8n);
  assert.equal((await client.completion(8n)).taskId, 8n);
  const late = client.completion(7n);
  peer.reply(encodeCompletion({ taskId: 7n, res: 0, taskKind: 1, payload: new Uint8Array(0) }));
  assert.equal((await late).taskId, 7n);
});

test('credits: the client holds back a request beyond ring_entries - 1 until a completion', async () => {
  const { client, peer } = await connected();
  const runs = [1, 2, 3, 4].map(() => client.run({ kind: 'nop', priority: 'normal' }));
  await new Promise((r) => setImmediate(r));
  assert.equal(peer.sent.length, 1 + 3, 'handshake and three requests, the fourth waits');
  peer.reply(Buffer.concat([1n, 2n, 3n].map((id) => encodeSubmitResult({ taskId: id, res: 0, credits: 3 - Number(id) }))));
  peer.reply(encodeCompletion({ taskId: 1n, res: 0, taskKind: 1, payload: new Uint8Array(0) }));
  await runs[0];
  await new Promise((r) => setImmediate(r));
  assert.equal(peer.sent.length, 5, 'the fourth went out after the first completion');
  peer.reply(encodeSubmitResult({ taskId: 4n, res: 0, credits: 0 }));
  for (const id of [2n, 3n, 4n]) peer.reply(encodeCompletion({ taskId: id, res: 0, taskKind: 1, payload: new Uint8Array(0) }));
  assert.deepEqual((await Promise.all(runs)).map((c) => c.taskId), [1n, 2n, 3n, 4n]);
});

test('a malformed record from the peer fails every waiter with EPROTO and closes', async () => {
  const { client, peer } = await connected();
  const a = client.submit({ kind: 'nop', priority: 'normal' });
  peer.reply(encodeSubmitResult({ taskId: 1n, res: 0, credits: 2 }));
  await a;
  const done = client.completion(1n);
  const next = client.submit({ kind: 'nop', priority: 'normal' });
  // task id 0 in a completion is invalid (16.2)
  peer.reply(encodeCompletion({ taskId: 0n, res: 0, taskKind: 1, payload: new Uint8Array(0) }));
  await assert.rejects(next, (e: unknown) => e instanceof IodError && e.errno === Errno.EPROTO);
  assert.ok(client.closed && peer.closed());
  await assert.rejects(done, IodError, 'a completion still awaited fails too');
  await assert.rejects(client.submit({ kind: 'nop', priority: 'normal' }), IodError);
});

test('a completion for a task id this connection never got is EPROTO', async () => {
  const { client, peer } = await connected();
  const a = client.submit({ kind: 'nop', priority: 'normal' });
  peer.reply(encodeSubmitResult({ taskId: 5n, res: 0, credits: 2 }));
  await a;
  const done = client.completion(5n);
  peer.reply(encodeCompletion({ taskId: 6n, res: 0, taskKind: 1, payload: new Uint8Array(0) }));
  await assert.rejects(done, (e: unknown) => e instanceof IodError && e.errno === Errno.EPROTO);
  assert.ok(client.closed);
});
