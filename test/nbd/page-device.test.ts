// Page-hosted block devices through a real `styxlab serve`: this process plays the page (the
// playground's own example programs, evaluated as the runner worker does, answering the device RPC
// over /mount?kind=nbd), and real NBD clients (nbdinfo, nbdcopy) and styxlab's client read the
// export. Then hostile pages: every malformed or missing reply fails the NBD request with EIO and
// closes the page's socket with a clear code, and the server keeps serving everything else.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WebSocket } from 'ws';
import { NbdClient } from '../../shared/nbd/client.ts';
import { NbdErrno, State } from '../../shared/nbd/constants.ts';
import type { BlockDevice } from '../../shared/nbd/device.ts';
import { NbdError } from '../../shared/nbd/errors.ts';
import {
  type RpcRequest, REPLY_HEADER, decodeRequest, encodeError, encodeExtentsReply, encodeOpenReply, replyFrame,
} from '../../shared/nbd/page-rpc.ts';
import { webSocketByteStream } from '../../shared/nbd/websocket-stream.ts';
import type { WebSocketLike } from '../../shared/net/websocket.ts';
import { dialByteStream } from '../../server/nbd/socket-stream.ts';
import { runDeviceChecks, sectorDiskChecks } from '../../web/src/nbd-checks.ts';
import { run } from '../support/nbd.ts';
import { startWs } from '../support/gateway.ts';
import { type PageServed, deviceFromExample, deviceFromSource, hostDevice, mountPath, startPageServe } from '../support/page-device.ts';
import { exampleSource } from '../web/programs.ts';

const MiB = 1024 * 1024;
const DEADLINE_MS = 1000;
const SECTORS = { size: 8 * MiB, dataEnd: 4 * MiB };

let g: PageServed;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'styxlab-page-nbd-'));
  g = await startPageServe(['--deadline', String(DEADLINE_MS), '--nbd-export', 'mem=memory:16M']);
});
after(async () => {
  await g?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function ok(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stderr}\nserver:\n${g.stderr()}`);
  return r.stdout;
}

async function listed(): Promise<string[]> {
  const out = JSON.parse(await ok('nbdinfo', ['--list', '--json', g.nbdUri()])) as { exports: Array<{ 'export-name': string }> };
  return out.exports.map((e) => e['export-name']);
}

/** styxlab's NBD client over TCP to the export. */
function connect(name: string): Promise<NbdClient> {
  return dialByteStream({ kind: 'tcp', host: '127.0.0.1', port: g.nbdPort }).then((s) => NbdClient.connect(s, { exportName: name }));
}

/** The sector disk's expected bytes. */
function sectorBytes(): Uint8Array {
  const b = new Uint8Array(SECTORS.size);
  for (let n = 0; n * 512 < SECTORS.dataEnd; n++) b.set(new TextEncoder().encode(`sector ${n}\n`), n * 512);
  return b;
}

/** Waits (bounded, 200 polls) until the server's export list agrees. */
async function untilListed(name: string, present: boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await g.status() as unknown as { blockDevices: string[] }).blockDevices.includes(name) === present) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`${name} never became ${present ? 'listed' : 'unlisted'}`);
}

describe('a page-hosted block device (the sectors example)', () => {
  let page: ReturnType<typeof hostDevice>;
  before(async () => {
    page = hostDevice(g.ws(mountPath('sectors')), deviceFromExample('sectors'));
    assert.equal(await page.listed, 'sectors');
  });
  after(() => page.ws.close());

  it('is listed by nbdinfo --list beside the built-in export, with its size and flags', async () => {
    assert.deepEqual((await listed()).sort(), ['mem', 'sectors']);
    const info = JSON.parse(await ok('nbdinfo', ['--json', g.nbdUri('sectors')])) as { exports: Array<Record<string, unknown>> };
    const e = info.exports[0];
    assert.equal(e['export-size'], SECTORS.size);
    assert.equal(e.is_read_only, true);
    assert.equal(e.can_multi_conn, true);
    assert.match(String(e.description), /page-hosted/);
  });

  it('nbdinfo --map shows the data and the hole; nbdcopy reads every byte', async () => {
    const map = JSON.parse(await ok('nbdinfo', ['--map', '--json', g.nbdUri('sectors')])) as Array<{ offset: number; length: number; type: number }>;
    assert.deepEqual(map.map((m) => [m.offset, m.length, m.type]), [[0, SECTORS.dataEnd, 0], [SECTORS.dataEnd, SECTORS.size - SECTORS.dataEnd, State.HOLE | State.ZERO]]);
    const out = join(dir, 'sectors.img');
    await ok('nbdcopy', [g.nbdUri('sectors'), out]);
    assert.ok(Buffer.from(sectorBytes()).equals(readFileSync(out)), 'nbdcopy read other bytes');
  });

  it('a write to it is refused (EPERM: read-only)', async () => {
    const c = await connect('sectors');
    await assert.rejects(c.write(0, new Uint8Array(512)), (e: unknown) => e instanceof NbdError && e.errno === NbdErrno.EPERM);
    await c.disconnect();
  });

  it('the lesson checks pass on the example and fail on the lesson\'s starting code, through the local-nbd gateway', async () => {
    const dial = async () => webSocketByteStream(startWs(g.ws('/gateway/local-nbd')).ws as unknown as WebSocketLike);
    const client = await NbdClient.connect(await dial(), { exportName: 'sectors' });
    const results = await runDeviceChecks(sectorDiskChecks(SECTORS), { client, exportName: 'sectors', dial });
    await client.disconnect();
    assert.deepEqual(results.filter((r) => !r.ok), []);

    const starter = hostDevice(g.ws(mountPath('lesson3')), deviceFromSource(exampleSource('lesson-sectors')));
    await starter.listed;
    const c2 = await NbdClient.connect(await dial(), { exportName: 'lesson3' });
    const r2 = await runDeviceChecks(sectorDiskChecks(SECTORS), { client: c2, exportName: 'lesson3', dial });
    await c2.disconnect();
    starter.ws.close();
    assert.deepEqual(r2.map((r) => r.ok), [true, true, false, false, false]);
    assert.match(r2[2].detail, /expected byte 0 \(sector 0\) to be 115, the sector to start "sector 0\\n", got 0/);
    assert.match(r2[4].detail, /expected 0\+4194304 data; 4194304\+4194304 hole,zero, got 0\+8388608 data/);
  });
});

/** A device whose every byte is `fill`. */
function constant(fill: number, size = MiB): BlockDevice {
  return { open: () => ({ size: () => size, pread: (buf) => { buf.fill(fill); } }) };
}

describe('live reload and the tab going away', () => {
  it('a connection open across a live reload reads the new page\'s device; a size change is EIO', async () => {
    const v1 = hostDevice(g.ws(mountPath('live')), constant(0xaa));
    await v1.listed;
    const c = await connect('live');
    assert.equal((await c.read(0, 4))[0], 0xaa);
    const v2 = hostDevice(g.ws(mountPath('live', { replace: true })), constant(0xbb));
    await v2.listed;
    assert.equal((await v1.closed).code, 4001);
    assert.deepEqual([...await c.read(4096, 4)], [0xbb, 0xbb, 0xbb, 0xbb]);
    const v3 = hostDevice(g.ws(mountPath('live', { replace: true })), constant(0xcc, 2 * MiB));
    await v3.listed;
    await assert.rejects(c.read(0, 4), (e: unknown) => e instanceof NbdError && e.errno === NbdErrno.EIO && /reconnect/.test(e.message));
    await c.disconnect();
    v2.ws.close();
    v3.ws.close();
  });

  it('another key cannot replace the export; a built-in export\'s name cannot be taken', async () => {
    const v1 = hostDevice(g.ws(mountPath('owned')), constant(1));
    await v1.listed;
    const thief = hostDevice(g.ws(mountPath('owned', { replace: true, key: 'x'.repeat(24) })), constant(2));
    const c = await thief.closed;
    assert.equal(c.code, 4409);
    assert.match(c.reason, /alone may replace it/);
    const builtin = hostDevice(g.ws(mountPath('mem')), constant(3));
    assert.equal((await builtin.closed).code, 4409);
    v1.ws.close();
  });

  it('when the tab closes the export leaves the list, open connections get EIO, and the server goes on', async () => {
    const page = hostDevice(g.ws(mountPath('gone')), constant(7));
    await page.listed;
    const c = await connect('gone');
    assert.equal((await c.read(0, 1))[0], 7);
    page.ws.close();
    await untilListed('gone', false);
    await assert.rejects(c.read(0, 1), (e: unknown) => e instanceof NbdError && e.errno === NbdErrno.EIO && /gone/.test(e.message));
    await c.disconnect();
    assert.deepEqual(await listed(), ['mem']);
    const r = await run('nbdinfo', ['--size', g.nbdUri('gone')]);
    assert.notEqual(r.code, 0);
    assert.equal((await ok('nbdinfo', ['--size', g.nbdUri('mem')])).trim(), String(16 * MiB));
  });
});

/**
 * A hostile page: it answers OPEN like an honest 1 MiB device (with extents) unless told
 * otherwise, and whatever else with answer(r), which returns the frame to send (or a string for a
 * text frame, or null for silence).
 */
function hostilePage(name: string, answer: (r: RpcRequest) => Uint8Array | string | null, open?: (r: RpcRequest) => Uint8Array) {
  const { ws } = startWs(g.ws(mountPath(name)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
  });
  const listedP = new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer) => {
      const r = decodeRequest(new Uint8Array(data.buffer, data.byteOffset, data.length));
      if (r.op === 'HELLO') { resolve(); return; }
      const out = r.op === 'OPEN'
        ? (open ?? ((q) => encodeOpenReply(q.id, { size: BigInt(MiB), has: 16, caps: 0, blockSize: null })))(r)
        : r.op === 'CLOSE' ? replyFrame(r.id, 0) : answer(r);
      if (out !== null) send(ws, out);
    });
  });
  return { ws, closed, listed: listedP };
}

function send(ws: WebSocket, out: Uint8Array | string): void {
  if (ws.readyState === ws.OPEN) ws.send(out);
}

const eio = (e: unknown) => e instanceof NbdError && e.errno === NbdErrno.EIO;

describe('pacing', () => {
  it('the page gets at most 8 requests at once, however many the clients send; the rest wait at the server', async () => {
    let outstanding = 0;
    let most = 0;
    const p = hostilePage('paced', (r) => {
      outstanding++;
      most = Math.max(most, outstanding);
      const b = replyFrame(r.id, (r as { length: number }).length);
      b.fill(0x5a, REPLY_HEADER);
      // Answered a turn later, so that whatever else was sent arrives first.
      setImmediate(() => { outstanding--; send(p.ws, b); });
      return null;
    });
    await p.listed;
    const clients = await Promise.all([connect('paced'), connect('paced')]);
    const reads = await Promise.all(clients.flatMap((c) => Array.from({ length: 20 }, (_, i) => c.read(i * 4096, 4096))));
    assert.ok(reads.every((b) => b.length === 4096 && b.every((x) => x === 0x5a)));
    assert.ok(most >= 2 && most <= 8, `the page had ${most} requests at once`);
    for (const c of clients) await c.disconnect();
    p.ws.close();
  });
});

describe('hostile pages: bad replies fail requests with EIO and close the page, the server stays up', () => {
  after(async () => {
    // Everything else still works.
    assert.deepEqual(await listed(), ['mem']);
    const c = await connect('mem');
    await c.write(0, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...await c.read(0, 3)], [1, 2, 3]);
    await c.disconnect();
    assert.equal(g.proc.exitCode, null);
  });

  const cases: Array<{ what: string; answer: (r: RpcRequest) => Uint8Array | string | null; code: number; reason: RegExp }> = [
    { what: 'a READ reply one byte short', answer: (r) => replyFrame(r.id, (r as { length: number }).length - 1), code: 4400, reason: /PREAD reply has \d+ bytes/ },
    { what: 'a READ reply one byte long', answer: (r) => replyFrame(r.id, (r as { length: number }).length + 1), code: 4400, reason: /PREAD reply has/ },
    { what: 'a reply to a request not in flight', answer: (r) => replyFrame(r.id + 1000, 0), code: 4400, reason: /not in flight/ },
    {
      what: 'a frame whose size field lies', answer: (r) => {
        const b = replyFrame(r.id, 8);
        new DataView(b.buffer).setUint32(0, 9999, true);
        return b;
      }, code: 4400, reason: /exactly one/,
    },
    { what: 'a reply status that does not exist', answer: (r) => { const b = replyFrame(r.id, 0); b[4] = 9; return b; }, code: 4400, reason: /reply status 9/ },
    { what: 'a text frame', answer: () => 'hello', code: 4400, reason: /text/ },
    {
      what: 'an error text over the limit', answer: (r) => replyFrame(r.id, 4 + 5000, 1), code: 4400, reason: /error text/,
    },
    { what: 'silence past the deadline', answer: () => null, code: 4408, reason: /watchdog: the page did not answer PREAD within 1000 ms/ },
  ];
  for (const [i, c] of cases.entries()) {
    it(`${c.what}: EIO, closed with ${c.code}`, async () => {
      const p = hostilePage(`bad${i}`, c.answer);
      await p.listed;
      const client = await connect(`bad${i}`);
      await assert.rejects(client.read(0, 4096), eio);
      const cl = await p.closed;
      assert.equal(cl.code, c.code, cl.reason);
      assert.match(cl.reason, c.reason);
      await untilListed(`bad${i}`, false);
      await client.disconnect();
    });
  }

  it('an errno from the page reaches the client (ENOSPC) and the page stays', async () => {
    const p = hostilePage('errno', (r) => encodeError(r.id, 28, 'full'));
    await p.listed;
    const client = await connect('errno');
    await assert.rejects(client.read(0, 512), (e: unknown) => e instanceof NbdError && e.errno === NbdErrno.ENOSPC);
    assert.equal((await client.read(0, 512).catch((e: NbdError) => e.errno)), NbdErrno.ENOSPC);
    await client.disconnect();
    p.ws.close();
    await untilListed('errno', false);
  });

  it('extents: a count beyond the frame, or an empty extent, is EIO and 4400', async () => {
    for (const [name, bad, reason] of [
      ['ext-count', (r: RpcRequest) => { const b = encodeExtentsReply(r.id, [{ length: 512, flags: 0 }]); new DataView(b.buffer).setUint32(REPLY_HEADER, 0xffffffff, true); return b; }, /EXTENTS reply/],
      ['ext-empty', (r: RpcRequest) => encodeExtentsReply(r.id, [{ length: 0, flags: 0 }]), /an extent of 0 bytes/],
      ['ext-flags', (r: RpcRequest) => encodeExtentsReply(r.id, [{ length: 512, flags: 8 }]), /extent flags 8/],
    ] as const) {
      const p = hostilePage(name, bad);
      await p.listed;
      const client = await connect(name);
      await assert.rejects(client.blockStatus(0, 4096), eio);
      const cl = await p.closed;
      assert.equal(cl.code, 4400, cl.reason);
      assert.match(cl.reason, reason);
      await client.disconnect();
    }
  });

  it('an OPEN reply with a size over 2^53 or bad block sizes: the export cannot be opened, 4400', async () => {
    for (const [name, open, reason] of [
      ['huge', (r: RpcRequest) => encodeOpenReply(r.id, { size: 1n << 60n, has: 0, caps: 0, blockSize: null }), /over 2\^53/],
      ['blocks', (r: RpcRequest) => encodeOpenReply(r.id, { size: 4096n, has: 0, caps: 0, blockSize: { minimum: 3, preferred: 4096, maximum: 4096 } }), /minimum block size of 3/],
      ['short', (r: RpcRequest) => replyFrame(r.id, 3), /OPEN reply/],
    ] as const) {
      const p = hostilePage(name, () => null, open);
      await p.listed;
      const r = await run('nbdinfo', ['--size', g.nbdUri(name)]);
      assert.notEqual(r.code, 0, `nbdinfo opened ${name}`);
      const cl = await p.closed;
      assert.equal(cl.code, 4400, cl.reason);
      assert.match(cl.reason, reason);
    }
  });

  it('requests in flight when the page stalls all fail, none hangs', async () => {
    const p = hostilePage('stall', () => null);
    await p.listed;
    const client = await connect('stall');
    const all = await Promise.allSettled([client.read(0, 512), client.read(512, 512), client.read(MiB - 512, 512)]);
    assert.deepEqual(all.map((a) => a.status === 'rejected' && eio(a.reason)), [true, true, true]);
    assert.equal((await p.closed).code, 4408);
    await client.disconnect();
  });
});
