// The directory entry a file system describes its files with, and its conversions to the wire
// forms: a 9P2000/.u stat, and a .L getattr.
import {
  type Attr, DMDIR, DMSYMLINK, GETATTR_BASIC, NONUNAME, type Qid, QTDIR, QTSYMLINK, S_IFDIR, S_IFLNK,
  S_IFREG, type Stat,
} from '../ninep/index.ts';

/**
 * What a Navigator returns: name, qid and mode are required; the rest default (owner: the server's
 * user, length 0, times 0).
 */
export interface Dir {
  name: string;
  qid: Qid;
  mode: number;
  length?: bigint;
  atime?: number;
  mtime?: number;
  uid?: string;
  gid?: string;
  muid?: string;
  /** Symlink target (9P2000.u extension). */
  extension?: string;
}

/** A qid for a path and mode: QTDIR for directories, QTSYMLINK for symlinks. */
export function qidOf(path: bigint, mode: number, vers = 0): Qid {
  const type = mode & DMDIR ? QTDIR : mode & DMSYMLINK ? QTSYMLINK : 0;
  return { type, vers, path };
}

/**
 * The numeric owner a 9P2000.u stat reports (n_uid, n_gid, n_muid): root, as the .L getattr does.
 * Not NONUNAME: Linux maps that to an invalid uid and then refuses every write to the inode
 * (inode_permission: EACCES for unmapped ids), so a .u mount could create nothing.
 */
export const NUMERIC_OWNER = 0;

export function toStat(d: Dir, user: string): Stat {
  return {
    type: 0,
    dev: 0,
    qid: d.qid,
    mode: d.mode >>> 0,
    atime: d.atime ?? d.mtime ?? 0,
    mtime: d.mtime ?? 0,
    length: d.mode & DMDIR ? 0n : d.length ?? 0n,
    name: d.name,
    uid: d.uid ?? user,
    gid: d.gid ?? d.uid ?? user,
    muid: d.muid ?? d.uid ?? user,
    extension: d.extension ?? '',
    nUid: NUMERIC_OWNER,
    nGid: NUMERIC_OWNER,
    nMuid: NUMERIC_OWNER,
  };
}

/** Linux mode bits for a 9P mode. */
export function linuxMode(mode: number): number {
  const type = mode & DMDIR ? S_IFDIR : mode & DMSYMLINK ? S_IFLNK : S_IFREG;
  return type | (mode & 0o777);
}

/** A .L getattr reply body from a stat. Numeric ids are 0 unless the stat carries .u ids. */
export function statToAttr(st: Stat): Attr {
  const isDir = (st.mode & DMDIR) !== 0;
  return {
    valid: GETATTR_BASIC,
    qid: st.qid,
    mode: linuxMode(st.mode),
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
