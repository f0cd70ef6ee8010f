// Message text in Inferno's form (appl/lib/styx.b: Tmsg.text, Rmsg.text, qid2text, dir2text).
// The .u and .L extensions follow the same style: extra .u fields are appended only when they
// carry something, so a 9P2000 session reads exactly as Inferno prints it.
import { NONUNAME } from './constants.ts';
import { errnoToString } from './errors.ts';
import type { Attr, LockDesc, Message, Qid, SetAttr, Stat, StatFs } from './messages.ts';

const hex = (v: number | bigint): string => v.toString(16);
const oct = (v: number): string => '8r' + (v >>> 0).toString(8);
const q = (s: string): string => `"${s}"`;

export function qidText(qid: Qid): string {
  return `Qid(16r${hex(qid.path)},${qid.vers},16r${hex(qid.type).padStart(2, '0')})`;
}

export function statText(d: Stat): string {
  return `Dir(${q(d.name)},${q(d.uid)},${q(d.gid)},${qidText(d.qid)},${oct(d.mode)},${d.atime},${d.mtime},${d.length},16r${hex(d.type)},${d.dev})`;
}

// Nanoseconds padded to nine digits, so 1 s + 2 ns reads 1.000000002 and not 1.2.
const time = (sec: bigint, nsec: bigint): string => `${sec}.${nsec.toString().padStart(9, '0')}`;

function attrText(a: Attr): string {
  return `Attr(16r${hex(a.valid)},${qidText(a.qid)},${oct(a.mode)},${a.uid},${a.gid},${a.nlink},${a.rdev},${a.size},${a.blksize},${a.blocks},${time(a.atimeSec, a.atimeNsec)},${time(a.mtimeSec, a.mtimeNsec)},${time(a.ctimeSec, a.ctimeNsec)})`;
}

function setAttrText(a: SetAttr): string {
  return `SetAttr(16r${hex(a.valid)},${oct(a.mode)},${a.uid},${a.gid},${a.size},${time(a.atimeSec, a.atimeNsec)},${time(a.mtimeSec, a.mtimeNsec)})`;
}

function statfsText(s: StatFs): string {
  return `Statfs(16r${hex(s.fsType)},${s.bsize},${s.blocks},${s.bfree},${s.bavail},${s.files},${s.ffree},16r${hex(s.fsid)},${s.namelen})`;
}

function lockText(l: LockDesc): string {
  return `${l.lockType},${l.start},${l.length},${l.procId},${q(l.clientId)}`;
}

const uname = (n: number): string => (n === NONUNAME ? '' : `,${n}`);

/** One message as Inferno's styx(2) text(), e.g. `Tmsg.Walk(47,168,156,array[] of {"hello"})`. */
export function messageText(m: Message): string {
  const head = `${m.type[0]}msg.${m.type.slice(1, 2).toUpperCase()}${m.type.slice(2)}(${m.tag}`;
  return head + body(m) + ')';
}

function body(m: Message): string {
  switch (m.type) {
    case 'Tversion': case 'Rversion': return `,${m.msize},${q(m.version)}`;
    case 'Tauth': return `,${m.afid},${q(m.uname)},${q(m.aname)}${uname(m.nUname)}`;
    case 'Rauth': return `,${qidText(m.aqid)}`;
    case 'Tattach': return `,${m.fid},${m.afid},${q(m.uname)},${q(m.aname)}${uname(m.nUname)}`;
    case 'Rattach': return `,${qidText(m.qid)}`;
    case 'Rerror': return `,${q(m.ename)}${m.errno ? `,${m.errno}` : ''}`;
    case 'Tflush': return `,${m.oldtag}`;
    case 'Twalk':
      return `,${m.fid},${m.newfid},` + (m.wnames.length ? `array[] of {${m.wnames.map(q).join(',')}}` : 'nil');
    case 'Rwalk': return `,array[] of {${m.qids.map(qidText).join(',')}}`;
    case 'Topen': return `,${m.fid},${m.mode}`;
    case 'Ropen': case 'Rcreate': case 'Rlopen': case 'Rlcreate': return `,${qidText(m.qid)},${m.iounit}`;
    case 'Tcreate': return `,${m.fid},${q(m.name)},${oct(m.perm)},${m.mode}${m.extension ? `,${q(m.extension)}` : ''}`;
    case 'Tread': case 'Treaddir': return `,${m.fid},${m.offset},${m.count}`;
    case 'Rread': case 'Rreaddir': return `,array[${m.data.length}] of byte`;
    case 'Twrite': return `,${m.fid},${m.offset},array[${m.data.length}] of byte`;
    case 'Rwrite': return `,${m.count}`;
    case 'Tclunk': case 'Tremove': case 'Tstat': case 'Tstatfs': case 'Treadlink': return `,${m.fid}`;
    case 'Rstat': return `,${statText(m.stat)}`;
    case 'Twstat': return `,${m.fid},${statText(m.stat)}`;
    case 'Rflush': case 'Rclunk': case 'Rremove': case 'Rwstat': case 'Rrename': case 'Rsetattr':
    case 'Rxattrcreate': case 'Rfsync': case 'Rlink': case 'Rrenameat': case 'Runlinkat':
      return '';
    case 'Rlerror': return `,${m.ecode},${q(errnoToString(m.ecode))}`;
    case 'Rstatfs': return `,${statfsText(m.statfs)}`;
    case 'Tlopen': return `,${m.fid},${oct(m.flags)}`;
    case 'Tlcreate': return `,${m.fid},${q(m.name)},${oct(m.flags)},${oct(m.mode)},${m.gid}`;
    case 'Tsymlink': return `,${m.fid},${q(m.name)},${q(m.symtgt)},${m.gid}`;
    case 'Rsymlink': case 'Rmknod': case 'Rmkdir': return `,${qidText(m.qid)}`;
    case 'Tmknod': return `,${m.dfid},${q(m.name)},${oct(m.mode)},${m.major},${m.minor},${m.gid}`;
    case 'Trename': return `,${m.fid},${m.dfid},${q(m.name)}`;
    case 'Rreadlink': return `,${q(m.target)}`;
    case 'Tgetattr': return `,${m.fid},16r${hex(m.requestMask)}`;
    case 'Rgetattr': return `,${attrText(m.attr)}`;
    case 'Tsetattr': return `,${m.fid},${setAttrText(m.attr)}`;
    case 'Txattrwalk': return `,${m.fid},${m.newfid},${q(m.name)}`;
    case 'Rxattrwalk': return `,${m.size}`;
    case 'Txattrcreate': return `,${m.fid},${q(m.name)},${m.attrSize},${m.flags}`;
    case 'Tfsync': return `,${m.fid},${m.datasync}`;
    case 'Tlock': return `,${m.fid},${m.lockType},${m.flags},${m.start},${m.length},${m.procId},${q(m.clientId)}`;
    case 'Rlock': return `,${m.status}`;
    case 'Tgetlock': return `,${m.fid},${lockText(m.lock)}`;
    case 'Rgetlock': return `,${lockText(m.lock)}`;
    case 'Tlink': return `,${m.dfid},${m.fid},${q(m.name)}`;
    case 'Tmkdir': return `,${m.dfid},${q(m.name)},${oct(m.mode)},${m.gid}`;
    case 'Trenameat': return `,${m.olddirfid},${q(m.oldname)},${m.newdirfid},${q(m.newname)}`;
    case 'Tunlinkat': return `,${m.dirfid},${q(m.name)},${m.flags}`;
  }
}
