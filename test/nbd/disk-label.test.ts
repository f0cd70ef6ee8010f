// Partition tables and file systems found on a disk: a real ext4 made by mkfs.ext4 (e2fsprogs),
// GPT and MBR tables and a FAT16 boot sector written by hand from their specifications, and
// garbage that must not be taken for any of them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ReadAt, probeDisk } from '../../shared/nbd/disk-label.ts';
import { run } from '../support/nbd.ts';
import { Rng } from '../support/randmsg.ts';

const dir = mkdtempSync(join(tmpdir(), 'styxlab-label-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1 << 20;
const reader = (disk: Uint8Array): ReadAt => async (offset, length) => disk.subarray(offset, offset + length);

async function ext4Image(label: string, size: number): Promise<Buffer> {
  const path = join(dir, `${label}.img`);
  const r = await run('mkfs.ext4', ['-q', '-F', '-L', label, path, `${size / 1024}k`]);
  assert.equal(r.code, 0, r.stderr);
  return readFileSync(path);
}

test('a whole-disk ext4 made by mkfs.ext4', async () => {
  const img = await ext4Image('styx', 8 * MiB);
  assert.deepEqual(await probeDisk(reader(img), img.length), {
    scheme: 'none', partitions: [], fs: { kind: 'ext4', label: 'styx', size: 8 * MiB },
  });
});

test('GPT: protective MBR, header at LBA 1, one Linux partition holding the ext4', async () => {
  const disk = new Uint8Array(16 * MiB);
  const dv = new DataView(disk.buffer);
  // Protective MBR: one partition of type EE over the disk.
  disk[446 + 4] = 0xee;
  dv.setUint32(446 + 8, 1, true);
  dv.setUint32(446 + 12, disk.length / 512 - 1, true);
  disk[510] = 0x55; disk[511] = 0xaa;
  // Header: signature, entries at LBA 2, 128 entries of 128 bytes.
  disk.set(Buffer.from('EFI PART'), 512);
  dv.setUint32(512 + 72, 2, true);
  dv.setUint32(512 + 80, 128, true);
  dv.setUint32(512 + 84, 128, true);
  const e = 1024;
  disk.set(Buffer.from('af3dc60f83847247' + '8e793d69d8477de4', 'hex'), e);   // Linux filesystem GUID
  dv.setUint32(e + 32, 2048, true);                                             // first LBA (1 MiB)
  dv.setUint32(e + 40, 2048 + 16383, true);                                     // last LBA (8 MiB)
  disk.set(Buffer.from('root\0', 'utf16le'), e + 56);
  disk.set(await ext4Image('inside', 8 * MiB), MiB);
  const label = await probeDisk(reader(disk), disk.length);
  assert.equal(label.scheme, 'gpt');
  assert.deepEqual(label.partitions, [{
    number: 1, start: MiB, length: 8 * MiB, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', typeName: 'Linux filesystem',
    name: 'root', fs: { kind: 'ext4', label: 'inside', size: 8 * MiB },
  }]);
});

/** A FAT16 boot sector: 512-byte sectors, 4 per cluster, 1 reserved, 2 FATs of 32 sectors. */
function fat16(sectors: number, label: string): Uint8Array {
  const b = new Uint8Array(512);
  const dv = new DataView(b.buffer);
  b[0] = 0xeb; b[1] = 0x3c; b[2] = 0x90;
  dv.setUint16(11, 512, true);
  b[13] = 4;
  dv.setUint16(14, 1, true);
  b[16] = 2;
  dv.setUint16(17, 512, true);
  dv.setUint16(19, sectors, true);
  dv.setUint16(22, 32, true);
  b.set(Buffer.from(label.padEnd(11)), 43);
  b.set(Buffer.from('FAT16   '), 54);
  b[510] = 0x55; b[511] = 0xaa;
  return b;
}

test('MBR: a FAT16 partition and a Linux one; a whole-disk FAT is not taken for a table', async () => {
  const disk = new Uint8Array(40 * MiB);
  const dv = new DataView(disk.buffer);
  const part = (i: number, type: number, startLba: number, sectors: number) => {
    const p = 446 + 16 * i;
    disk[p + 4] = type;
    dv.setUint32(p + 8, startLba, true);
    dv.setUint32(p + 12, sectors, true);
  };
  part(0, 0x06, 2048, 40960);           // 20 MiB at 1 MiB
  part(1, 0x83, 43008, 20480);          // 10 MiB after it, empty
  disk[510] = 0x55; disk[511] = 0xaa;
  disk.set(fat16(40960, 'STYXFAT'), MiB);
  const label = await probeDisk(reader(disk), disk.length);
  assert.equal(label.scheme, 'mbr');
  assert.deepEqual(label.partitions.map((p) => [p.number, p.start, p.length, p.typeName, p.fs?.kind, p.fs?.label]), [
    [1, MiB, 20 * MiB, 'FAT16', 'fat16', 'STYXFAT'],
    [2, 21 * MiB, 10 * MiB, 'Linux', undefined, undefined],
  ]);
  const whole = fat16(40960, 'WHOLE');
  const w = new Uint8Array(20 * MiB);
  w.set(whole, 0);
  assert.deepEqual((await probeDisk(reader(w), w.length)).fs, { kind: 'fat16', label: 'WHOLE', size: 20 * MiB });
});

test('garbage and lying tables are not recognised and never throw', async () => {
  const rng = new Rng(99);
  for (let i = 0; i < 300; i++) {
    const disk = Uint8Array.from({ length: 64 * 1024 }, () => rng.u32() & 0xff);
    if (i % 3 === 0) disk.set(Buffer.from('EFI PART'), 512);
    if (i % 2 === 0) { disk[510] = 0x55; disk[511] = 0xaa; }
    // Reads outside the disk would be a bug: the reader refuses them.
    const read: ReadAt = async (offset, length) => {
      assert.ok(offset >= 0 && offset + length <= disk.length, `read ${offset}+${length} outside the disk`);
      return disk.subarray(offset, offset + length);
    };
    const label = await probeDisk(read, disk.length);
    for (const p of label.partitions) assert.ok(p.start + p.length <= disk.length);
  }
});
