// styxlab's NBD client and `styxlab nbd` against real servers: nbdkit (memory, file, and with
// structured replies switched off), qemu-nbd (-b 127.0.0.1) and nbd-server (on a unix socket).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NbdClient } from '../../shared/nbd/client.ts';
import { State, TxFlag } from '../../shared/nbd/constants.ts';
import { parseNbdUri } from '../../shared/nbd/uri.ts';
import { dialByteStream } from '../../server/nbd/socket-stream.ts';
import { type Peer, run, startNbdServer, startNbdkit, startQemuNbd, styxlab } from '../support/nbd.ts';
import { Rng } from '../support/randmsg.ts';

let dir: string;
const peers: Peer[] = [];

before(() => { dir = mkdtempSync(join(tmpdir(), 'styxlab-nbd-peers-')); });
after(async () => {
  for (const p of peers) await p.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(uri: string, opts: { structured?: boolean } = {}): Promise<NbdClient> {
  const u = parseNbdUri(uri);
  return NbdClient.connect(await dialByteStream(u.target), { exportName: u.exportName, ...opts });
}

function image(name: string, size: number, fill: (b: Buffer) => void): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  const b = Buffer.alloc(size);
  fill(b);
  writeSync(fd, b, 0, size, 0);
  closeSync(fd);
  return path;
}

/** Many requests in flight on distinct slots, checked against a model of the disk. */
async function exercise(c: NbdClient, size: number, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const model = new Uint8Array(await c.read(0, size));
  const slot = size / 64;
  for (let round = 0; round < 6; round++) {
    await Promise.all([...Array(64).keys()].map(async (k) => {
      const off = k * slot + (rng.u32() % (slot / 2));
      const len = 1 + (rng.u32() % (slot / 2 - 1));
      switch (rng.u32() % 3) {
        case 0: {
          const d = Uint8Array.from({ length: len }, () => rng.u32() & 0xff);
          await c.write(off, d);
          model.set(d, off);
          break;
        }
        case 1:
          if (c.can(TxFlag.SEND_WRITE_ZEROES)) { await c.zero(off, len); model.fill(0, off, off + len); }
          break;
        default:
          assert.ok(Buffer.from(await c.read(off, len)).equals(model.subarray(off, off + len)), `read at ${off}+${len}`);
      }
    }));
  }
  await c.flush();
  assert.ok(Buffer.from(await c.read(0, size)).equals(model), 'the whole disk matches the model');
}

test('nbdkit memory: pipelined requests, block status, and the CLI', async () => {
  const k = await startNbdkit(['memory', '8M']);
  peers.push(k);
  const c = await connect(k.uri());
  assert.equal(c.size, 8n << 20n);
  assert.ok(c.structured);
  await exercise(c, 8 << 20, 1);
  const ext = await c.blockStatus(0, 8 << 20);
  assert.equal(ext.reduce((n, e) => n + e.length, 0), 8 << 20);
  await c.disconnect();

  const info = await styxlab(['nbd', 'info', k.uri()]);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /size: 8388608 \(8M\)/);
  assert.match(info.stdout, /contexts: base:allocation/);
  const list = await styxlab(['nbd', 'list', k.uri()]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /\(default\)/);
  const w = await styxlab(['nbd', 'write', k.uri(), '1M'], Buffer.from('written by styxlab'));
  assert.equal(w.code, 0, w.stderr);
  const r = await styxlab(['nbd', 'read', k.uri(), '1M', '18']);
  assert.equal(r.stdout, 'written by styxlab');
  const d = await styxlab(['nbd', 'dump', k.uri(), '1M', '32']);
  assert.match(d.stdout, /^00100000  77 72 69 74 74 65 6e 20  62 79 20 73 74 79 78 6c  \|written by styxl\|$/m);
  const past = await styxlab(['nbd', 'read', k.uri(), '8M', '1']);
  assert.notEqual(past.code, 0);
});

test('nbdkit with structured replies off: simple replies', async () => {
  const k = await startNbdkit(['--no-sr', 'memory', '1M']);
  peers.push(k);
  const c = await connect(k.uri());
  assert.equal(c.structured, false);
  assert.equal(c.allocationId, null);
  await exercise(c, 1 << 20, 2);
  await c.disconnect();
  const m = await styxlab(['nbd', 'map', k.uri()]);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /^\s+0\s+1048576\s+0\s+data$/m, 'without base:allocation everything is data');
});

test('nbdkit file and styxlab nbd copy both ways, holes skipped', async () => {
  const src = image('file.img', 4 << 20, (b) => { for (let i = 0; i < (1 << 20); i++) b[(2 << 20) + i] = (i * 7) & 0xff; });
  const k = await startNbdkit(['file', src]);
  peers.push(k);
  const out = join(dir, 'copied.img');
  const r = await styxlab(['nbd', 'copy', k.uri(), out]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readFileSync(out).equals(readFileSync(src)));
  // And back into an nbdkit memory disk; the map shows the hole before the data.
  const mem = await startNbdkit(['memory', '4M']);
  peers.push(mem);
  const back = await styxlab(['nbd', 'copy', out, mem.uri()]);
  assert.equal(back.code, 0, back.stderr);
  const c = await connect(mem.uri());
  assert.ok(Buffer.from(await c.read(0, 4 << 20)).equals(readFileSync(src)));
  const ext = await c.blockStatus(0, 4 << 20);
  assert.ok((ext[0].flags & State.ZERO) !== 0 && ext[0].length >= 2 << 20, JSON.stringify(ext));
  await c.disconnect();
});

test('qemu-nbd -b 127.0.0.1', async () => {
  const img = image('qemu.img', 2 << 20, (b) => b.fill(0x5a, 0, 4096));
  const q = await startQemuNbd(img, 'img');
  peers.push(q);
  const c = await connect(q.uri());
  assert.equal(c.size, 2n << 20n);
  assert.equal(c.details.name, 'img');
  assert.ok(Buffer.from(await c.read(0, 4096)).equals(Buffer.alloc(4096, 0x5a)));
  await exercise(c, 2 << 20, 3);
  await c.disconnect();
  const info = await styxlab(['nbd', 'info', q.uri()]);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /export: "img"/);
});

test('nbd-server over a unix socket', async () => {
  const img = image('nbd-server.img', 1 << 20, (b) => b.write('nbd-server was here', 512));
  const n = await startNbdServer(img);
  peers.push(n);
  const c = await connect(n.uri());
  assert.equal(c.size, 1n << 20n);
  assert.equal(Buffer.from(await c.read(512, 19)).toString(), 'nbd-server was here');
  await exercise(c, 1 << 20, 4);
  await c.disconnect();
  const r = await styxlab(['nbd', 'read', n.uri(), '512', '19']);
  assert.equal(r.code, 0, r.stderr);
});

test('styxlab nbd info names the file system on an export (mkfs.ext4 image behind nbdkit file)', async () => {
  const img = join(dir, 'ext4.img');
  const mk = await run('mkfs.ext4', ['-q', '-F', '-L', 'styxdisk', img, '4096k']);
  assert.equal(mk.code, 0, mk.stderr);
  const k = await startNbdkit(['--readonly', 'file', img]);
  peers.push(k);
  const info = await styxlab(['nbd', 'info', k.uri()]);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /^read-only: true$/m);
  assert.match(info.stdout, /^file system: ext4 "styxdisk" \(4M\)$/m);
});
