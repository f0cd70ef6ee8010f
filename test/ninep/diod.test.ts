// The codec against a real 9P2000.L server: Debian's diod on 127.0.0.1, spoken to over a plain
// socket with FrameReader, no client library in between.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Errno, GETATTR_BASIC, GETATTR_SIZE, L_O_DIRECTORY, L_O_RDONLY, NOFID, NOTAG, QTDIR, QTFILE, S_IFMT,
  S_IFREG, unpackDirents,
} from '../../shared/ninep/index.ts';
import { type Diod, startDiod } from '../support/diod.ts';
import { RawConn, as } from '../support/rawconn.ts';

const MSIZE = 65536;
const CONTENT = new TextEncoder().encode('Hello, diod!\nUTF-8: héllo 日本 😀\n');
const BIG = Uint8Array.from({ length: 150_000 }, (_, i) => (i * 31 + 7) & 0xff);
const NAMES = ['hello.txt', 'big.bin', 'sub', 'ünïcode name'];

let diod: Diod | undefined;
let conn: RawConn | undefined;
let dir = '';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

before(async () => {
  // diod -f -n -e <temp dir> -l 127.0.0.1:<kernel-picked port>, users squashed to ours (see diod.ts).
  diod = await startDiod();
  dir = diod.exportDir;
  await writeFile(join(dir, 'hello.txt'), CONTENT);
  await writeFile(join(dir, 'big.bin'), BIG);
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'ünïcode name'), 'x');
  // Bounded wait until the listener accepts: up to 100 tries, 50 ms apart.
  for (let i = 0; ; i++) {
    try {
      conn = await RawConn.open(diod.port, '127.0.0.1', '9P2000.L', MSIZE);
      break;
    } catch (e) {
      if (i >= 100) throw new Error(`diod never accepted on port ${diod.port}: ${String(e)}\n${diod.log()}`);
      await sleep(50);
    }
  }
});

after(async () => {
  conn?.close();
  // SIGTERM, SIGKILL if it lingers; removes the temporary export.
  await diod?.stop();
});

test('a 9P2000.L session with diod', async (t) => {
  const c = conn!;
  const req = (m: Parameters<RawConn['request']>[0]) => c.request(m);

  const v = as(await req({ type: 'Tversion', tag: NOTAG, msize: MSIZE, version: '9P2000.L' }), 'Rversion');
  assert.equal(v.version, '9P2000.L');
  assert.ok(v.msize <= MSIZE && v.msize >= 4096, `msize ${v.msize}`);

  await t.test('Tauth is refused with Rlerror (no authentication)', async () => {
    const r = await req({ type: 'Tauth', tag: c.tag(), afid: 99, uname: 'root', aname: dir, nUname: 0 });
    assert.equal(r.type, 'Rlerror');
  });

  const root = as(await req({ type: 'Tattach', tag: c.tag(), fid: 0, afid: NOFID, uname: 'root', aname: dir, nUname: 0 }), 'Rattach');
  assert.equal(root.qid.type & QTDIR, QTDIR);

  await t.test('walk, lopen, read and getattr a file', async () => {
    const w = as(await req({ type: 'Twalk', tag: c.tag(), fid: 0, newfid: 1, wnames: ['hello.txt'] }), 'Rwalk');
    assert.equal(w.qids.length, 1);
    assert.equal(w.qids[0].type, QTFILE);
    const o = as(await req({ type: 'Tlopen', tag: c.tag(), fid: 1, flags: L_O_RDONLY }), 'Rlopen');
    assert.deepStrictEqual(o.qid, w.qids[0]);
    const r = as(await req({ type: 'Tread', tag: c.tag(), fid: 1, offset: 0n, count: 8192 }), 'Rread');
    assert.deepStrictEqual(new Uint8Array(r.data), CONTENT);
    const part = as(await req({ type: 'Tread', tag: c.tag(), fid: 1, offset: 7n, count: 4 }), 'Rread');
    assert.equal(new TextDecoder().decode(part.data), 'diod');
    const eof = as(await req({ type: 'Tread', tag: c.tag(), fid: 1, offset: BigInt(CONTENT.length), count: 100 }), 'Rread');
    assert.equal(eof.data.length, 0);
    const a = as(await req({ type: 'Tgetattr', tag: c.tag(), fid: 1, requestMask: GETATTR_BASIC }), 'Rgetattr');
    assert.equal(a.attr.valid & GETATTR_SIZE, GETATTR_SIZE);
    assert.equal(a.attr.size, BigInt(CONTENT.length));
    assert.equal(a.attr.mode & S_IFMT, S_IFREG);
    assert.deepStrictEqual(a.attr.qid, w.qids[0]);
    as(await req({ type: 'Tclunk', tag: c.tag(), fid: 1 }), 'Rclunk');
  });

  await t.test('reads near msize reassemble a 150 kB file', async () => {
    as(await req({ type: 'Twalk', tag: c.tag(), fid: 0, newfid: 3, wnames: ['big.bin'] }), 'Rwalk');
    const o = as(await req({ type: 'Tlopen', tag: c.tag(), fid: 3, flags: L_O_RDONLY }), 'Rlopen');
    const count = o.iounit || v.msize - 24;
    const got = new Uint8Array(BIG.length);
    let off = 0;
    for (let i = 0; i < 100; i++) {
      const r = as(await req({ type: 'Tread', tag: c.tag(), fid: 3, offset: BigInt(off), count }), 'Rread');
      if (r.data.length === 0) break;
      assert.ok(r.data.length <= count);
      got.set(r.data, off);
      off += r.data.length;
    }
    assert.equal(off, BIG.length);
    assert.ok(Buffer.from(got).equals(Buffer.from(BIG)));
    as(await req({ type: 'Tclunk', tag: c.tag(), fid: 3 }), 'Rclunk');
  });

  await t.test('readdir lists the directory', async () => {
    as(await req({ type: 'Twalk', tag: c.tag(), fid: 0, newfid: 2, wnames: [] }), 'Rwalk');
    as(await req({ type: 'Tlopen', tag: c.tag(), fid: 2, flags: L_O_RDONLY | L_O_DIRECTORY }), 'Rlopen');
    const names: string[] = [];
    let offset = 0n;
    // Small counts force several Rreaddir, exercising the server's cookie offsets.
    for (let i = 0; i < 100; i++) {
      const r = as(await req({ type: 'Treaddir', tag: c.tag(), fid: 2, offset, count: 64 }), 'Rreaddir');
      if (r.data.length === 0) break;
      const ents = unpackDirents(r.data);
      assert.ok(ents.length > 0);
      names.push(...ents.map((e) => e.name));
      offset = ents[ents.length - 1].offset;
    }
    assert.deepStrictEqual(names.filter((n) => n !== '.' && n !== '..').sort(), [...NAMES].sort());
    as(await req({ type: 'Tclunk', tag: c.tag(), fid: 2 }), 'Rclunk');
  });

  await t.test('a walk to a missing name gets Rlerror ENOENT', async () => {
    const r = as(await req({ type: 'Twalk', tag: c.tag(), fid: 0, newfid: 4, wnames: ['no-such-file'] }), 'Rlerror');
    assert.equal(r.ecode, Errno.ENOENT);
  });

  as(await req({ type: 'Tclunk', tag: c.tag(), fid: 0 }), 'Rclunk');
  assert.deepStrictEqual(c.stray, []);
});
