// One directory-entry shape for all three dialects, built from a 9P2000 or .u stat, or from a .L
// getattr (plus the name, which .L keeps in readdir entries and walks rather than in attributes).
import {
  DMAPPEND, DMAUTH, DMDEVICE, DMDIR, DMEXCL, DMNAMEDPIPE, DMSOCKET, DMSYMLINK, NONUNAME, QTAPPEND, QTDIR,
  QTEXCL, QTSYMLINK,
} from '../ninep/index.ts';
import type { Attr, Qid, Stat } from '../ninep/index.ts';
import { linuxModeToDM } from '../styx/dialect/convert.ts';

// The mode conversions live with the rest of the dialect conversions; the client's users import them from here.
export { dmToLinuxMode, linuxModeToDM } from '../styx/dialect/convert.ts';

export interface Dir {
  name: string;
  qid: Qid;
  /** 9P mode: DM* type bits and the permission bits. */
  mode: number;
  length: bigint;
  /** Seconds since the epoch. */
  atime: number;
  mtime: number;
  /** Names where the dialect carries them (9P2000, .u); the decimal number otherwise (.L). */
  uid: string;
  gid: string;
  muid: string;
  /** Numeric ids where known (.u when the server sent them, .L always). */
  nUid?: number;
  nGid?: number;
  /** .u: symlink target or device description. */
  extension?: string;
  /** .L: nanoseconds of mtime (9P2000 has whole seconds only). */
  mtimeNsec?: number;
  /** 9P2000 server type and device; 0 when the dialect has none. */
  type: number;
  dev: number;
}

export function dirFromStat(st: Stat): Dir {
  const d: Dir = {
    name: st.name, qid: st.qid, mode: st.mode >>> 0, length: st.length, atime: st.atime, mtime: st.mtime,
    uid: st.uid, gid: st.gid, muid: st.muid, type: st.type, dev: st.dev,
  };
  if (st.nUid !== NONUNAME) d.nUid = st.nUid;
  if (st.nGid !== NONUNAME) d.nGid = st.nGid;
  if (st.extension) d.extension = st.extension;
  return d;
}

export function dirFromAttr(name: string, a: Attr): Dir {
  return {
    name, qid: a.qid, mode: linuxModeToDM(a.mode), length: a.size,
    atime: Number(a.atimeSec), mtime: Number(a.mtimeSec), mtimeNsec: Number(a.mtimeNsec),
    uid: String(a.uid), gid: String(a.gid), muid: '', nUid: a.uid, nGid: a.gid, type: 0, dev: 0,
  };
}

/** The mode bits a qid type implies, for entries whose stat we have not fetched. */
export function qidTypeToDM(qtype: number): number {
  let m = 0;
  if (qtype & QTDIR) m |= DMDIR;
  if (qtype & QTAPPEND) m |= DMAPPEND;
  if (qtype & QTEXCL) m |= DMEXCL;
  if (qtype & QTSYMLINK) m |= DMSYMLINK;
  return m >>> 0;
}

const RWX = ['---', '--x', '-w-', '-wx', 'r--', 'r-x', 'rw-', 'rwx'];

/** The 11-character mode string of Plan 9's ls -l (plan9port's %M), e.g. `d-rwxr-xr-x`. */
export function modeString(mode: number): string {
  let t = '-';
  if (mode & DMDIR) t = 'd';
  else if (mode & DMAPPEND) t = 'a';
  else if (mode & DMAUTH) t = 'A';
  else if (mode & DMDEVICE) t = 'D';
  else if (mode & DMSOCKET) t = 'S';
  else if (mode & DMNAMEDPIPE) t = 'P';
  const l = mode & DMEXCL ? 'l' : mode & DMSYMLINK ? 'L' : '-';
  return t + l + RWX[(mode >>> 6) & 7] + RWX[(mode >>> 3) & 7] + RWX[mode & 7];
}

export function isDir(d: { qid: Qid }): boolean {
  return (d.qid.type & QTDIR) !== 0;
}
