// Real NBD clients against `styxlab serve --nbd`: libnbd's nbdinfo, nbdcopy and nbdsh (Debian
// libnbd-bin, python3-libnbd) and QEMU's qemu-img (qemu-utils).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Peer, run, startServeNbd, styxlab } from '../support/nbd.ts';

const GiB = 1024 ** 3;
let s: Peer & { ninep: string };
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'styxlab-nbd-'));
  s = await startServeNbd([
    '--nbd-export', 'big=memory:1G',
    '--nbd-export', 'big2=memory:1G',
    '--nbd-export', 'mem=memory:64M',
    '--nbd-export', 'ro=memory:1M,ro',
    '--nbd-export', 'ram=9p:/ram/disk.img',
    '--nbd', `unix!${join(dir, 'nbd.sock')}`,
  ]);
  // The 9P export's file: 256 KiB of zeroes in the ram file system, written over 9P.
  const w = await styxlab(['9p', '-a', s.ninep, 'write', '/ram/disk.img'], Buffer.alloc(256 * 1024));
  assert.equal(w.code, 0, w.stderr);
});

after(async () => {
  await s?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** SHA-256 of a file, read in 16 MiB pieces (a 1 GiB file is not held in memory). */
function sha256(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const b = Buffer.alloc(16 << 20);
  // Bounded: each read advances until the end of the file.
  for (let n = readSync(fd, b); n > 0; n = readSync(fd, b)) h.update(b.subarray(0, n));
  closeSync(fd);
  return h.digest('hex');
}

/** A sparse file of `size` bytes with `blocks` random MiB scattered in it. */
function sparseImage(path: string, size: number, blocks: number, seed: number): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  let x = seed;
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < blocks; i++) {
    for (let k = 0; k < block.length; k += 4) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; block.writeUInt32LE(x, k); }
    writeSync(fd, block, 0, block.length, Math.floor(size / blocks / 65536) * 65536 * i + 65536 * i);
  }
  closeSync(fd);
}

async function ok(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}\n${r.stderr}\nserver:\n${s.log()}`);
  return r.stdout;
}

test('nbdinfo --list names every export with its size and description', async () => {
  const out = await ok('nbdinfo', ['--list', '--json', s.uri('')]);
  const j = JSON.parse(out) as { exports: Array<{ 'export-name': string; 'export-size': number; description?: string; 'is_read_only': boolean }> };
  const byName = new Map(j.exports.map((e) => [e['export-name'], e]));
  assert.deepEqual([...byName.keys()].sort(), ['big', 'big2', 'mem', 'ram', 'ro']);
  assert.equal(byName.get('big')!['export-size'], GiB);
  assert.equal(byName.get('ro')!.is_read_only, true);
  assert.match(byName.get('mem')!.description ?? '', /memory/);
});

test('nbdinfo --can and --is answer from the transmission flags', async () => {
  for (const cap of ['flush', 'fua', 'trim', 'zero', 'fast-zero', 'multi-conn', 'cache', 'df']) {
    const r = await run('nbdinfo', ['--can', cap, s.uri('mem')]);
    assert.equal(r.code, 0, `--can ${cap}: ${r.stderr}`);
  }
  assert.equal((await run('nbdinfo', ['--is', 'read-only', s.uri('ro')])).code, 0);
  assert.equal((await run('nbdinfo', ['--is', 'read-only', s.uri('mem')])).code, 2);
  assert.equal((await run('nbdinfo', ['--can', 'trim', s.uri('ro')])).code, 2);
});

test('nbdcopy both ways on a 1 GiB sparse export keeps every byte (sha256), and nbdinfo --map sees the data', async () => {
  const src = join(dir, 'src.img');
  const back = join(dir, 'back.img');
  sparseImage(src, GiB, 8, 1);
  await ok('nbdcopy', [src, s.uri('big')]);
  await ok('nbdcopy', [s.uri('big'), back]);
  assert.equal(sha256(back), sha256(src));
  // Eight MiB of data among holes: the map shows eight data extents and holes around them.
  const map = JSON.parse(await ok('nbdinfo', ['--map', '--json', s.uri('big')])) as Array<{ offset: number; length: number; type: number }>;
  const data = map.filter((e) => e.type === 0);
  assert.equal(data.reduce((n, e) => n + e.length, 0), 8 << 20);
  assert.ok(map.some((e) => e.type === 3), 'holes reported as hole,zero');
  assert.equal(map.reduce((n, e) => n + e.length, 0), GiB);
  // Export to export, four connections (CAN_MULTI_CONN), then qemu-img compares the two.
  await ok('nbdcopy', ['--connections=4', s.uri('big'), s.uri('big2')]);
  await ok('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', s.uri('big'), s.uri('big2')]);
});

test('nbdsh: single commands, structured replies and block status', async () => {
  const script = [
    'assert h.get_structured_replies_negotiated()',
    'assert h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION)',
    'h.pwrite(b"styxlab" * 100, 65536)',
    'assert h.pread(7, 65536 + 7) == b"styxlab"',
    'h.zero(4096, 65536 + 4096)',
    'assert h.pread(8, 65536 + 4096) == bytes(8)',
    'h.flush()',
    'seen = []',
    'h.block_status(1 << 20, 0, lambda meta, off, ents, err: seen.extend(ents))',
    'assert seen == [65536, 3, 65536, 0, (1 << 20) - 131072, 3], seen',
    'h.trim(65536, 0)',
    'print(h.get_size(), h.is_read_only())',
  ].join('\n');
  const out = await ok('nbdsh', ['--base-allocation', '-u', s.uri('mem'), '-c', script]);
  assert.equal(out.trim(), `${64 << 20} False`);
  // Errors surface as errno: EINVAL past the end, EPERM on the read-only export.
  const e = await run('nbdsh', ['-u', s.uri('mem'), '-c', 'h.pread(16, (64 << 20) - 8)']);
  assert.notEqual(e.code, 0);
  assert.match(e.stderr, /EINVAL|Invalid argument/);
  const ro = await run('nbdsh', ['-u', s.uri('ro'), '-c', 'h.pwrite(b"x", 0)']);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /EPERM|not permitted|read-only/i);
});

test('nbdsh: a structured read of a sparse range comes as OFFSET_HOLE and OFFSET_DATA chunks', async () => {
  // 32 MiB into mem, away from what the other tests write there.
  const script = [
    'h.pwrite(b"\\x07" * 65536, 33 << 20)',
    'seen = []',
    'def chunk(sub, off, status, err):',
    '    seen.append((off - (32 << 20), len(sub), status == nbd.READ_HOLE, bytes(sub) == bytes(len(sub)) if status == nbd.READ_HOLE else bytes(sub).count(7)))',
    '    return 0',
    'buf = h.pread_structured(2 << 20, 32 << 20, chunk)',
    'assert buf == bytes(1 << 20) + b"\\x07" * 65536 + bytes((1 << 20) - 65536)',
    'print(seen)',
  ].join('\n');
  const out = await ok('nbdsh', ['-u', s.uri('mem'), '-c', script]);
  assert.equal(out.trim(), `[(0, ${1 << 20}, True, True), (${1 << 20}, 65536, False, 65536), (${(1 << 20) + 65536}, ${(1 << 20) - 65536}, True, True)]`);
});

test('qemu-img info, convert and compare', async () => {
  const img = join(dir, 'q.img');
  sparseImage(img, 64 << 20, 4, 2);
  const info = JSON.parse(await ok('qemu-img', ['info', '--output=json', s.uri('mem')])) as { 'virtual-size': number; format: string };
  assert.equal(info['virtual-size'], 64 << 20);
  assert.equal(info.format, 'raw');
  await ok('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', img, s.uri('mem')]);
  await ok('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', img, s.uri('mem')]);
  // A changed byte must make compare fail (the check can fail).
  await ok('nbdsh', ['-u', s.uri('mem'), '-c', 'h.pwrite(b"!", 12345)']);
  const r = await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', img, s.uri('mem')]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
});

test('over a unix socket, a file of the 9P namespace is a disk: nbdsh writes, styxlab 9p reads', async () => {
  const unix = (name: string) => `nbd+unix:///${name}?socket=${join(dir, 'nbd.sock')}`;
  assert.equal((await ok('nbdinfo', ['--size', unix('ram')])).trim(), String(256 * 1024));
  await ok('nbdsh', ['-u', unix('ram'), '-c', 'h.pwrite(b"written over NBD", 100000)', '-c', 'h.flush()']);
  const r = await run(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'styxlab.js'), '9p', '-a', s.ninep, 'read', '/ram/disk.img'], { env: process.env, raw: true });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.bytes!.subarray(100000, 100016).toString(), 'written over NBD');
  assert.equal(r.bytes!.length, 256 * 1024);
});
