// Every conversion between 9P2000's vocabulary (stat, DM* mode bits, open modes) and 9P2000.L's
// (getattr, st_mode, open flags), in one place: the server side (a .L client of a 9P2000-vocabulary
// file system), the client side (a 9P2000 client of a .L remote) and the client library use these.
import {
  type Attr, DMDEVICE, DMDIR, DMNAMEDPIPE, DMSETGID, DMSETUID, DMSOCKET, DMSYMLINK, DT_DIR, DT_LNK, DT_REG, GETATTR_BASIC,
  L_O_ACCMODE, L_O_TRUNC, NONUNAME, OTRUNC, type Qid, QTDIR, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK,
  S_IFMT, S_IFREG, S_IFSOCK, type Stat,
} from '../../ninep/index.ts';
import { NUMERIC_OWNER } from '../dir.ts';

/** Linux st_mode -> 9P mode bits: the file type, setuid/setgid and the permissions. */
export function linuxModeToDM(mode: number): number {
  let m = mode & 0o777;
  switch (mode & S_IFMT) {
    case S_IFDIR: m |= DMDIR; break;
    case S_IFLNK: m |= DMSYMLINK; break;
    case S_IFCHR: case S_IFBLK: m |= DMDEVICE; break;
    case S_IFIFO: m |= DMNAMEDPIPE; break;
    case S_IFSOCK: m |= DMSOCKET; break;
  }
  if (mode & 0o4000) m |= DMSETUID;
  if (mode & 0o2000) m |= DMSETGID;
  return m >>> 0;
}

/** 9P mode bits -> Linux st_mode; the inverse of linuxModeToDM (a device reads as a character device). */
export function dmToLinuxMode(mode: number): number {
  let m = mode & 0o777;
  if (mode & DMDIR) m |= S_IFDIR;
  else if (mode & DMSYMLINK) m |= S_IFLNK;
  else if (mode & DMDEVICE) m |= S_IFCHR;
  else if (mode & DMNAMEDPIPE) m |= S_IFIFO;
  else if (mode & DMSOCKET) m |= S_IFSOCK;
  else m |= S_IFREG;
  if (mode & DMSETUID) m |= 0o4000;
  if (mode & DMSETGID) m |= 0o2000;
  return m;
}

/** The type byte of a .L readdir entry for a 9P mode. */
export function direntType(mode: number): number {
  return mode & DMDIR ? DT_DIR : mode & DMSYMLINK ? DT_LNK : DT_REG;
}

/** Tlopen/Tlcreate flags -> a 9P open mode: the access mode and truncation (the rest has no 9P word). */
export function openMode(flags: number): number {
  return (flags & L_O_ACCMODE) | (flags & L_O_TRUNC ? OTRUNC : 0);
}

/** Largest size a Tsetattr may ask for: off_t is signed, so a size at or above 2^63 is a negative length. */
export const MAX_OFF_T = (1n << 63n) - 1n;

/**
 * A .L time (i64 seconds) as a stat's u32: negative ones as 0, later ones as the last second
 * (0xffffffff means "don't change" in a wstat).
 */
export const statTime = (sec: bigint): number => (sec > MAX_OFF_T ? 0 : sec >= 0xffffffffn ? 0xfffffffe : Number(sec));

/** A .L getattr reply body from a stat. Numeric ids are 0 unless the stat carries .u ids. */
export function statToAttr(st: Stat): Attr {
  const isDir = (st.mode & DMDIR) !== 0;
  return {
    valid: GETATTR_BASIC,
    qid: st.qid,
    mode: dmToLinuxMode(st.mode),
    uid: st.nUid === NONUNAME ? 0 : st.nUid,
    gid: st.nGid === NONUNAME ? 0 : st.nGid,
    nlink: isDir ? 2n : 1n,
    rdev: 0n,
    size: st.length,
    blksize: 4096n,
    blocks: (st.length + 511n) / 512n,
    atimeSec: BigInt(st.atime),
    atimeNsec: 0n,
    mtimeSec: BigInt(st.mtime),
    mtimeNsec: 0n,
    ctimeSec: BigInt(st.mtime),
    ctimeNsec: 0n,
    btimeSec: 0n,
    btimeNsec: 0n,
    gen: 0n,
    dataVersion: 0n,
  };
}

/** A stat from a .L getattr and the name (which .L keeps in walks and readdir, not in attributes). */
export function attrToStat(name: string, a: Pick<Attr, 'qid' | 'mode' | 'uid' | 'gid' | 'size' | 'atimeSec' | 'mtimeSec'>): Stat {
  const mode = linuxModeToDM(a.mode);
  return {
    type: 0, dev: 0, qid: a.qid, mode, atime: statTime(a.atimeSec), mtime: statTime(a.mtimeSec),
    length: mode & DMDIR ? 0n : a.size, name, uid: String(a.uid), gid: String(a.gid), muid: '',
    extension: '', nUid: a.uid, nGid: a.gid, nMuid: NONUNAME,
  };
}

/** A stat for an entry whose attributes could not be read: what its qid says, no more. */
export function qidStat(name: string, qid: Qid): Stat {
  const mode = qid.type & QTDIR ? (DMDIR | 0o555) >>> 0 : 0o444;
  return {
    type: 0, dev: 0, qid, mode, atime: 0, mtime: 0, length: 0n, name, uid: '', gid: '', muid: '',
    extension: '', nUid: NUMERIC_OWNER, nGid: NUMERIC_OWNER, nMuid: NONUNAME,
  };
}
