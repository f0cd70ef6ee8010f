// What is on a disk: an MBR or GPT partition table, and the file systems it recognises by their
// superblocks (ext2/3/4, FAT12/16/32), on the whole disk or in each partition. For the map of
// `styxlab nbd info` and the page's allocation picture. Reads through a callback, so it works on
// any block device or NBD export; every field read from the disk is checked before use.

export type FileSystemKind = 'ext2' | 'ext3' | 'ext4' | 'fat12' | 'fat16' | 'fat32';

export interface FileSystem {
  kind: FileSystemKind;
  label: string;
  /** Bytes the file system says it spans. */
  size: number;
}

export interface Partition {
  /** 1-based, as Linux numbers them (sda1). */
  number: number;
  start: number;
  length: number;
  /** MBR type byte in hex ("83") or GPT type GUID. */
  type: string;
  /** A name for the type when known ("Linux filesystem", "EFI System", "FAT16"). */
  typeName: string;
  /** GPT partition name. */
  name: string;
  fs: FileSystem | null;
}

export interface DiskLabel {
  scheme: 'gpt' | 'mbr' | 'none';
  partitions: Partition[];
  /** A file system on the whole disk (no partition table). */
  fs: FileSystem | null;
}

export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

const SECTOR = 512;
const MAX_GPT_ENTRIES = 256;

const le16 = (b: Uint8Array, p: number): number => b[p] | (b[p + 1] << 8);
const le32 = (b: Uint8Array, p: number): number => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 0x1000000;
const le64 = (b: Uint8Array, p: number): number => le32(b, p) + le32(b, p + 4) * 0x100000000;

function ascii(b: Uint8Array, p: number, n: number): string {
  let s = '';
  for (let i = p; i < p + n && i < b.length; i++) {
    if (b[i] === 0) break;
    s += b[i] >= 0x20 && b[i] < 0x7f ? String.fromCharCode(b[i]) : '?';
  }
  return s.trim();
}

function guid(b: Uint8Array, p: number): string {
  const h = (i: number) => b[p + i].toString(16).padStart(2, '0');
  // The first three fields are little-endian.
  return `${h(3)}${h(2)}${h(1)}${h(0)}-${h(5)}${h(4)}-${h(7)}${h(6)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`.toUpperCase();
}

const GPT_TYPES: Record<string, string> = {
  'C12A7328-F81F-11D2-BA4B-00A0C93EC93B': 'EFI System',
  '0FC63DAF-8483-4772-8E79-3D69D8477DE4': 'Linux filesystem',
  '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F': 'Linux swap',
  'E6D6D379-F507-44C2-A23C-238F2A3DF928': 'Linux LVM',
  'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7': 'Microsoft basic data',
  '21686148-6449-6E6F-744E-656564454649': 'BIOS boot',
};

const MBR_TYPES: Record<number, string> = {
  0x01: 'FAT12', 0x04: 'FAT16 <32M', 0x05: 'Extended', 0x06: 'FAT16', 0x07: 'NTFS/exFAT', 0x0b: 'W95 FAT32',
  0x0c: 'W95 FAT32 (LBA)', 0x0e: 'W95 FAT16 (LBA)', 0x0f: 'W95 Extended (LBA)', 0x82: 'Linux swap',
  0x83: 'Linux', 0x8e: 'Linux LVM', 0xee: 'GPT protective', 0xef: 'EFI System',
};

/** An ext2/3/4 superblock (1024 bytes in), or null. */
export function extSuperblock(sb: Uint8Array): FileSystem | null {
  if (sb.length < 1024 || le16(sb, 56) !== 0xef53) return null;
  const logBlock = le32(sb, 24);
  if (logBlock > 6) return null;           // blocks of 1 KiB to 64 KiB
  const compat = le32(sb, 92);
  const incompat = le32(sb, 96);
  // EXTENTS, 64BIT or FLEX_BG mean ext4; a journal without them, ext3.
  const kind: FileSystemKind = incompat & (0x40 | 0x80 | 0x200) ? 'ext4' : compat & 0x4 ? 'ext3' : 'ext2';
  const blocks = le32(sb, 4) + (incompat & 0x80 ? le32(sb, 0x150) * 0x100000000 : 0);
  return { kind, label: ascii(sb, 120, 16), size: blocks * (1024 << logBlock) };
}

/** A FAT boot sector, or null. The FAT type follows from the cluster count, as the spec says. */
export function fatBootSector(b: Uint8Array): FileSystem | null {
  if (b.length < SECTOR || b[510] !== 0x55 || b[511] !== 0xaa) return null;
  if (b[0] !== 0xeb && b[0] !== 0xe9) return null;
  const bps = le16(b, 11);
  const spc = b[13];
  const reserved = le16(b, 14);
  const fats = b[16];
  const rootEntries = le16(b, 17);
  if (![512, 1024, 2048, 4096].includes(bps) || spc === 0 || (spc & (spc - 1)) !== 0 || reserved === 0 || fats === 0) return null;
  const total = le16(b, 19) || le32(b, 32);
  const fatSize = le16(b, 22) || le32(b, 36);
  if (total === 0 || fatSize === 0) return null;
  const rootSectors = Math.ceil((rootEntries * 32) / bps);
  const data = total - (reserved + fats * fatSize + rootSectors);
  if (data <= 0) return null;
  const clusters = Math.floor(data / spc);
  const kind: FileSystemKind = clusters < 4085 ? 'fat12' : clusters < 65525 ? 'fat16' : 'fat32';
  const label = kind === 'fat32' ? ascii(b, 71, 11) : ascii(b, 43, 11);
  return { kind, label: label === 'NO NAME' ? '' : label, size: total * bps };
}

/** The file system at offset, if its superblock is recognised. */
export async function probeFileSystem(read: ReadAt, offset: number, length: number): Promise<FileSystem | null> {
  if (length < 2048) return null;
  const head = await read(offset, 2048);
  return fatBootSector(head.subarray(0, SECTOR)) ?? extSuperblock(head.subarray(1024, 2048));
}

/** Reads the partition table and the file systems of a disk of `size` bytes. */
export async function probeDisk(read: ReadAt, size: number): Promise<DiskLabel> {
  if (size < 2 * SECTOR) return { scheme: 'none', partitions: [], fs: null };
  const head = await read(0, 2 * SECTOR);
  const mbr = head.subarray(0, SECTOR);
  const gptHeader = head.subarray(SECTOR, 2 * SECTOR);
  const inside = (start: number, length: number) => Number.isSafeInteger(start) && length > 0 && start + length <= size;

  if (ascii(gptHeader, 0, 8) === 'EFI PART') {
    const entriesLba = le64(gptHeader, 72);
    const count = Math.min(le32(gptHeader, 80), MAX_GPT_ENTRIES);
    const entrySize = le32(gptHeader, 84);
    if (entrySize >= 128 && entrySize <= 1024 && entrySize % 8 === 0 && inside(entriesLba * SECTOR, count * entrySize)) {
      const table = await read(entriesLba * SECTOR, count * entrySize);
      const partitions: Partition[] = [];
      for (let i = 0; i < count; i++) {
        const e = table.subarray(i * entrySize, (i + 1) * entrySize);
        if (e.subarray(0, 16).every((x) => x === 0)) continue;
        const first = le64(e, 32);
        const last = le64(e, 40);
        if (last < first || !inside(first * SECTOR, (last - first + 1) * SECTOR)) continue;
        let name = '';
        for (let k = 56; k + 1 < 128; k += 2) {
          const c = le16(e, k);
          if (c === 0) break;
          name += String.fromCharCode(c);
        }
        const type = guid(e, 0);
        const start = first * SECTOR;
        const length = (last - first + 1) * SECTOR;
        partitions.push({ number: i + 1, start, length, type, typeName: GPT_TYPES[type] ?? 'unknown', name, fs: await probeFileSystem(read, start, length) });
      }
      return { scheme: 'gpt', partitions, fs: null };
    }
  }

  // A FAT boot sector also ends in 55 AA: a file system on the whole disk comes first.
  const whole = await probeFileSystem(read, 0, size);
  if (whole) return { scheme: 'none', partitions: [], fs: whole };
  if (mbr[510] === 0x55 && mbr[511] === 0xaa) {
    const partitions: Partition[] = [];
    for (let i = 0; i < 4; i++) {
      const e = mbr.subarray(446 + 16 * i, 446 + 16 * (i + 1));
      const type = e[4];
      const start = le32(e, 8) * SECTOR;
      const length = le32(e, 12) * SECTOR;
      if (type === 0 || (e[0] !== 0 && e[0] !== 0x80) || !inside(start, length)) continue;
      partitions.push({
        number: i + 1, start, length, type: type.toString(16).padStart(2, '0'), typeName: MBR_TYPES[type] ?? 'unknown', name: '',
        fs: type === 0x05 || type === 0x0f || type === 0xee ? null : await probeFileSystem(read, start, length),
      });
    }
    if (partitions.length) return { scheme: 'mbr', partitions, fs: null };
  }
  return { scheme: 'none', partitions: [], fs: null };
}
