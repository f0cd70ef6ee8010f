// The directory entry a file system describes its files with, and its conversion to the wire's
// 9P2000/.u stat (a .L getattr is made from that stat: dialect/convert.ts).
import { DMDIR, DMSYMLINK, type Qid, QTDIR, QTSYMLINK, type Stat } from '../ninep/index.ts';

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
