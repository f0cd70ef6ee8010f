// The nested structures: stat (9P2000 and .u), getattr/setattr/statfs/lock bodies (.L), and the
// directory-read formats of both families with their builders.
import type { Dialect } from './constants.ts';
import { NONUNAME } from './constants.ts';
import { ProtocolError } from './errors.ts';
import type { Attr, Dirent, LockDesc, SetAttr, Stat, StatFs } from './messages.ts';
import { Reader, Writer, utf8Length } from './wire.ts';

const STRING_MAX = 0xffff;

export function strLen(s: string, what: string): number {
  const n = utf8Length(s);
  if (n > STRING_MAX) throw new ProtocolError('bad-string', `${what}: ${n} bytes is longer than a 9P string`);
  return n;
}

// ---- stat ----

/** Bytes of a stat including its own size[2]. */
export function statSize(st: Stat, dialect: Dialect): number {
  let n = 2 + 2 + 4 + 13 + 4 + 4 + 4 + 8 + 8;
  n += strLen(st.name, 'stat name') + strLen(st.uid, 'stat uid') + strLen(st.gid, 'stat gid') + strLen(st.muid, 'stat muid');
  if (dialect === '9P2000.u') n += 2 + strLen(st.extension, 'stat extension') + 12;
  if (n - 2 > 0xffff) throw new ProtocolError('bad-value', 'stat too large');
  return n;
}

export function writeStat(w: Writer, st: Stat, dialect: Dialect, size: number): void {
  w.u16(size - 2);
  w.u16(st.type, 'stat type');
  w.u32(st.dev, 'stat dev');
  w.qid(st.qid);
  w.u32(st.mode, 'stat mode');
  w.u32(st.atime, 'stat atime');
  w.u32(st.mtime, 'stat mtime');
  w.u64(st.length, 'stat length');
  w.str(st.name, utf8Length(st.name));
  w.str(st.uid, utf8Length(st.uid));
  w.str(st.gid, utf8Length(st.gid));
  w.str(st.muid, utf8Length(st.muid));
  if (dialect === '9P2000.u') {
    w.str(st.extension, utf8Length(st.extension));
    w.u32(st.nUid, 'stat n_uid');
    w.u32(st.nGid, 'stat n_gid');
    w.u32(st.nMuid, 'stat n_muid');
  }
}

/** Reads one stat (size[2] first); the stat must fill exactly its declared size. */
export function readStat(r: Reader, dialect: Dialect): Stat {
  const size = r.u16('stat size');
  r.need(size, 'stat');
  const sr = new Reader(r.buf, r.pos, r.pos + size);
  const st: Stat = {
    type: sr.u16('stat type'),
    dev: sr.u32('stat dev'),
    qid: sr.qid(),
    mode: sr.u32('stat mode'),
    atime: sr.u32('stat atime'),
    mtime: sr.u32('stat mtime'),
    length: sr.u64('stat length'),
    name: sr.str('stat name'),
    uid: sr.str('stat uid'),
    gid: sr.str('stat gid'),
    muid: sr.str('stat muid'),
    extension: '',
    nUid: NONUNAME,
    nGid: NONUNAME,
    nMuid: NONUNAME,
  };
  if (dialect === '9P2000.u') {
    st.extension = sr.str('stat extension');
    st.nUid = sr.u32('stat n_uid');
    st.nGid = sr.u32('stat n_gid');
    st.nMuid = sr.u32('stat n_muid');
  }
  if (sr.pos !== sr.end) throw new ProtocolError('trailing', `stat: ${sr.end - sr.pos} bytes after the last field`);
  r.pos += size;
  return st;
}

/** A stat whose every field means "don't touch" in Twstat (wstat(5)). */
export function nullStat(): Stat {
  return {
    type: 0xffff, dev: 0xffffffff, qid: { type: 0xff, vers: 0xffffffff, path: 0xffffffffffffffffn },
    mode: 0xffffffff, atime: 0xffffffff, mtime: 0xffffffff, length: 0xffffffffffffffffn,
    name: '', uid: '', gid: '', muid: '', extension: '', nUid: NONUNAME, nGid: NONUNAME, nMuid: NONUNAME,
  };
}

/** Stats packed back to back, as a 9P2000/.u directory read returns them. */
export function packStats(stats: readonly Stat[], dialect: Dialect): Uint8Array {
  const sizes = stats.map((s) => statSize(s, dialect));
  const buf = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  const w = new Writer(buf);
  stats.forEach((s, i) => writeStat(w, s, dialect, sizes[i]));
  return buf;
}

export function unpackStats(data: Uint8Array, dialect: Dialect): Stat[] {
  const r = new Reader(data, 0, data.length);
  const out: Stat[] = [];
  while (r.remaining() > 0) out.push(readStat(r, dialect));
  return out;
}

// ---- .L bodies ----

export const ATTR_SIZE = 8 + 13 + 4 + 4 + 4 + 8 * 15;

export function writeAttr(w: Writer, a: Attr): void {
  w.u64(a.valid, 'valid'); w.qid(a.qid); w.u32(a.mode, 'mode'); w.u32(a.uid, 'uid'); w.u32(a.gid, 'gid');
  w.u64(a.nlink, 'nlink'); w.u64(a.rdev, 'rdev'); w.u64(a.size, 'size'); w.u64(a.blksize, 'blksize'); w.u64(a.blocks, 'blocks');
  w.u64(a.atimeSec, 'atime_sec'); w.u64(a.atimeNsec, 'atime_nsec'); w.u64(a.mtimeSec, 'mtime_sec'); w.u64(a.mtimeNsec, 'mtime_nsec');
  w.u64(a.ctimeSec, 'ctime_sec'); w.u64(a.ctimeNsec, 'ctime_nsec'); w.u64(a.btimeSec, 'btime_sec'); w.u64(a.btimeNsec, 'btime_nsec');
  w.u64(a.gen, 'gen'); w.u64(a.dataVersion, 'data_version');
}

export function readAttr(r: Reader): Attr {
  r.need(ATTR_SIZE, 'getattr');
  return {
    valid: r.u64(), qid: r.qid(), mode: r.u32(), uid: r.u32(), gid: r.u32(),
    nlink: r.u64(), rdev: r.u64(), size: r.u64(), blksize: r.u64(), blocks: r.u64(),
    atimeSec: r.u64(), atimeNsec: r.u64(), mtimeSec: r.u64(), mtimeNsec: r.u64(),
    ctimeSec: r.u64(), ctimeNsec: r.u64(), btimeSec: r.u64(), btimeNsec: r.u64(),
    gen: r.u64(), dataVersion: r.u64(),
  };
}

export const SETATTR_SIZE = 4 * 4 + 8 * 5;

export function writeSetAttr(w: Writer, a: SetAttr): void {
  w.u32(a.valid, 'valid'); w.u32(a.mode, 'mode'); w.u32(a.uid, 'uid'); w.u32(a.gid, 'gid'); w.u64(a.size, 'size');
  w.u64(a.atimeSec, 'atime_sec'); w.u64(a.atimeNsec, 'atime_nsec'); w.u64(a.mtimeSec, 'mtime_sec'); w.u64(a.mtimeNsec, 'mtime_nsec');
}

export function readSetAttr(r: Reader): SetAttr {
  r.need(SETATTR_SIZE, 'setattr');
  return {
    valid: r.u32(), mode: r.u32(), uid: r.u32(), gid: r.u32(), size: r.u64(),
    atimeSec: r.u64(), atimeNsec: r.u64(), mtimeSec: r.u64(), mtimeNsec: r.u64(),
  };
}

export const STATFS_SIZE = 4 + 4 + 8 * 6 + 4;

export function writeStatFs(w: Writer, s: StatFs): void {
  w.u32(s.fsType, 'type'); w.u32(s.bsize, 'bsize'); w.u64(s.blocks, 'blocks'); w.u64(s.bfree, 'bfree'); w.u64(s.bavail, 'bavail');
  w.u64(s.files, 'files'); w.u64(s.ffree, 'ffree'); w.u64(s.fsid, 'fsid'); w.u32(s.namelen, 'namelen');
}

export function readStatFs(r: Reader): StatFs {
  r.need(STATFS_SIZE, 'statfs');
  return {
    fsType: r.u32(), bsize: r.u32(), blocks: r.u64(), bfree: r.u64(), bavail: r.u64(),
    files: r.u64(), ffree: r.u64(), fsid: r.u64(), namelen: r.u32(),
  };
}

export function lockSize(l: LockDesc): number {
  return 1 + 8 + 8 + 4 + 2 + strLen(l.clientId, 'lock client_id');
}

export function writeLock(w: Writer, l: LockDesc): void {
  w.u8(l.lockType, 'type'); w.u64(l.start, 'start'); w.u64(l.length, 'length'); w.u32(l.procId, 'proc_id');
  w.str(l.clientId, utf8Length(l.clientId));
}

export function readLock(r: Reader): LockDesc {
  return { lockType: r.u8(), start: r.u64(), length: r.u64(), procId: r.u32(), clientId: r.str('client_id') };
}

// ---- .L directory entries ----

export function direntSize(d: Dirent): number {
  return 13 + 8 + 1 + 2 + strLen(d.name, 'dirent name');
}

export function writeDirent(w: Writer, d: Dirent): void {
  w.qid(d.qid); w.u64(d.offset, 'dirent offset'); w.u8(d.type, 'dirent type'); w.str(d.name, utf8Length(d.name));
}

export function unpackDirents(data: Uint8Array): Dirent[] {
  const r = new Reader(data, 0, data.length);
  const out: Dirent[] = [];
  while (r.remaining() > 0) out.push({ qid: r.qid(), offset: r.u64('dirent offset'), type: r.u8('dirent type'), name: r.str('dirent name') });
  return out;
}

/**
 * The names in a Rreaddir's data, appended to out, and the cookie of the last entry (undefined
 * when there is none): what a listing of names needs, without an object per entry.
 */
export function direntNames(data: Uint8Array, out: string[]): bigint | undefined {
  const r = new Reader(data, 0, data.length);
  let last = -1;
  while (r.remaining() > 0) {
    r.need(22, 'dirent');
    last = r.pos + 13;
    r.pos += 22;
    out.push(r.str('dirent name'));
  }
  if (last < 0) return undefined;
  r.pos = last;
  return r.u64();
}

export function packDirents(entries: readonly Dirent[]): Uint8Array {
  const sizes = entries.map(direntSize);
  const buf = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  const w = new Writer(buf);
  for (const d of entries) writeDirent(w, d);
  return buf;
}

/**
 * Builds the payload of one directory read of at most `limit` bytes: whole stats for 9P2000/.u,
 * whole dirents for .L. `add*` returns false (and adds nothing) once the next entry does not fit.
 */
export class DirReadBuilder {
  private readonly buf: Uint8Array;
  private readonly w: Writer;
  count = 0;
  constructor(readonly limit: number, readonly dialect: Dialect) {
    this.buf = new Uint8Array(Math.max(0, Math.min(limit, 1 << 24)));
    this.w = new Writer(this.buf);
  }

  addStat(st: Stat): boolean {
    const n = statSize(st, this.dialect);
    if (this.w.pos + n > this.buf.length) return false;
    writeStat(this.w, st, this.dialect, n);
    this.count++;
    return true;
  }

  addDirent(d: Dirent): boolean {
    const n = direntSize(d);
    if (this.w.pos + n > this.buf.length) return false;
    writeDirent(this.w, d);
    this.count++;
    return true;
  }

  get length(): number { return this.w.pos; }

  bytes(): Uint8Array { return this.buf.subarray(0, this.w.pos); }
}
