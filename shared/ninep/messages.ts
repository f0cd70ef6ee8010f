// The 9P message vocabulary as a discriminated union on `type`. One interface per message; fields
// keep the names of the manual pages (camelCase). 64-bit fields are bigint.

export interface Qid {
  /** QT* bits. */
  type: number;
  vers: number;
  path: bigint;
}

/**
 * A 9P2000 directory entry; the .u fields are carried in every dialect so that one shape serves
 * both (in plain 9P2000 they decode as "" and NONUNAME and are not encoded).
 */
export interface Stat {
  type: number;
  dev: number;
  qid: Qid;
  mode: number;
  atime: number;
  mtime: number;
  length: bigint;
  name: string;
  uid: string;
  gid: string;
  muid: string;
  extension: string;
  nUid: number;
  nGid: number;
  nMuid: number;
}

/** Rgetattr body (9P2000.L). */
export interface Attr {
  valid: bigint;
  qid: Qid;
  mode: number;
  uid: number;
  gid: number;
  nlink: bigint;
  rdev: bigint;
  size: bigint;
  blksize: bigint;
  blocks: bigint;
  atimeSec: bigint;
  atimeNsec: bigint;
  mtimeSec: bigint;
  mtimeNsec: bigint;
  ctimeSec: bigint;
  ctimeNsec: bigint;
  btimeSec: bigint;
  btimeNsec: bigint;
  gen: bigint;
  dataVersion: bigint;
}

/** Tsetattr body (9P2000.L); `valid` holds SETATTR_* bits. */
export interface SetAttr {
  valid: number;
  mode: number;
  uid: number;
  gid: number;
  size: bigint;
  atimeSec: bigint;
  atimeNsec: bigint;
  mtimeSec: bigint;
  mtimeNsec: bigint;
}

/** Rstatfs body (9P2000.L). */
export interface StatFs {
  fsType: number;
  bsize: number;
  blocks: bigint;
  bfree: bigint;
  bavail: bigint;
  files: bigint;
  ffree: bigint;
  fsid: bigint;
  namelen: number;
}

/** One Rreaddir entry (9P2000.L); `offset` is the cookie of the entry after this one. */
export interface Dirent {
  qid: Qid;
  offset: bigint;
  type: number;
  name: string;
}

/** A POSIX record lock as in Tgetlock/Rgetlock. */
export interface LockDesc {
  lockType: number;
  start: bigint;
  length: bigint;
  procId: number;
  clientId: string;
}

interface Base { tag: number }

// ---- 9P2000 (with the .u extensions as extra fields) ----
export interface Tversion extends Base { type: 'Tversion'; msize: number; version: string }
export interface Rversion extends Base { type: 'Rversion'; msize: number; version: string }
export interface Tauth extends Base { type: 'Tauth'; afid: number; uname: string; aname: string; nUname: number }
export interface Rauth extends Base { type: 'Rauth'; aqid: Qid }
export interface Tattach extends Base { type: 'Tattach'; fid: number; afid: number; uname: string; aname: string; nUname: number }
export interface Rattach extends Base { type: 'Rattach'; qid: Qid }
/** errno is on the wire only in 9P2000.u; 9P2000 decodes it as 0. */
export interface Rerror extends Base { type: 'Rerror'; ename: string; errno: number }
export interface Tflush extends Base { type: 'Tflush'; oldtag: number }
export interface Rflush extends Base { type: 'Rflush' }
export interface Twalk extends Base { type: 'Twalk'; fid: number; newfid: number; wnames: string[] }
export interface Rwalk extends Base { type: 'Rwalk'; qids: Qid[] }
export interface Topen extends Base { type: 'Topen'; fid: number; mode: number }
export interface Ropen extends Base { type: 'Ropen'; qid: Qid; iounit: number }
/** extension is on the wire only in 9P2000.u. */
export interface Tcreate extends Base { type: 'Tcreate'; fid: number; name: string; perm: number; mode: number; extension: string }
export interface Rcreate extends Base { type: 'Rcreate'; qid: Qid; iounit: number }
export interface Tread extends Base { type: 'Tread'; fid: number; offset: bigint; count: number }
export interface Rread extends Base { type: 'Rread'; data: Uint8Array }
export interface Twrite extends Base { type: 'Twrite'; fid: number; offset: bigint; data: Uint8Array }
export interface Rwrite extends Base { type: 'Rwrite'; count: number }
export interface Tclunk extends Base { type: 'Tclunk'; fid: number }
export interface Rclunk extends Base { type: 'Rclunk' }
export interface Tremove extends Base { type: 'Tremove'; fid: number }
export interface Rremove extends Base { type: 'Rremove' }
export interface Tstat extends Base { type: 'Tstat'; fid: number }
export interface Rstat extends Base { type: 'Rstat'; stat: Stat }
export interface Twstat extends Base { type: 'Twstat'; fid: number; stat: Stat }
export interface Rwstat extends Base { type: 'Rwstat' }

// ---- 9P2000.L ----
export interface Rlerror extends Base { type: 'Rlerror'; ecode: number }
export interface Tstatfs extends Base { type: 'Tstatfs'; fid: number }
export interface Rstatfs extends Base { type: 'Rstatfs'; statfs: StatFs }
export interface Tlopen extends Base { type: 'Tlopen'; fid: number; flags: number }
export interface Rlopen extends Base { type: 'Rlopen'; qid: Qid; iounit: number }
export interface Tlcreate extends Base { type: 'Tlcreate'; fid: number; name: string; flags: number; mode: number; gid: number }
export interface Rlcreate extends Base { type: 'Rlcreate'; qid: Qid; iounit: number }
export interface Tsymlink extends Base { type: 'Tsymlink'; fid: number; name: string; symtgt: string; gid: number }
export interface Rsymlink extends Base { type: 'Rsymlink'; qid: Qid }
export interface Tmknod extends Base { type: 'Tmknod'; dfid: number; name: string; mode: number; major: number; minor: number; gid: number }
export interface Rmknod extends Base { type: 'Rmknod'; qid: Qid }
export interface Trename extends Base { type: 'Trename'; fid: number; dfid: number; name: string }
export interface Rrename extends Base { type: 'Rrename' }
export interface Treadlink extends Base { type: 'Treadlink'; fid: number }
export interface Rreadlink extends Base { type: 'Rreadlink'; target: string }
export interface Tgetattr extends Base { type: 'Tgetattr'; fid: number; requestMask: bigint }
export interface Rgetattr extends Base { type: 'Rgetattr'; attr: Attr }
export interface Tsetattr extends Base { type: 'Tsetattr'; fid: number; attr: SetAttr }
export interface Rsetattr extends Base { type: 'Rsetattr' }
export interface Txattrwalk extends Base { type: 'Txattrwalk'; fid: number; newfid: number; name: string }
export interface Rxattrwalk extends Base { type: 'Rxattrwalk'; size: bigint }
export interface Txattrcreate extends Base { type: 'Txattrcreate'; fid: number; name: string; attrSize: bigint; flags: number }
export interface Rxattrcreate extends Base { type: 'Rxattrcreate' }
export interface Treaddir extends Base { type: 'Treaddir'; fid: number; offset: bigint; count: number }
/** data holds packed Dirent records (see packDirents/unpackDirents in structs.ts). */
export interface Rreaddir extends Base { type: 'Rreaddir'; data: Uint8Array }
/** datasync is sent by Linux since 2.6.38; older peers omit it (decoded as 0). */
export interface Tfsync extends Base { type: 'Tfsync'; fid: number; datasync: number }
export interface Rfsync extends Base { type: 'Rfsync' }
export interface Tlock extends Base { type: 'Tlock'; fid: number; lockType: number; flags: number; start: bigint; length: bigint; procId: number; clientId: string }
export interface Rlock extends Base { type: 'Rlock'; status: number }
export interface Tgetlock extends Base { type: 'Tgetlock'; fid: number; lock: LockDesc }
export interface Rgetlock extends Base { type: 'Rgetlock'; lock: LockDesc }
export interface Tlink extends Base { type: 'Tlink'; dfid: number; fid: number; name: string }
export interface Rlink extends Base { type: 'Rlink' }
export interface Tmkdir extends Base { type: 'Tmkdir'; dfid: number; name: string; mode: number; gid: number }
export interface Rmkdir extends Base { type: 'Rmkdir'; qid: Qid }
export interface Trenameat extends Base { type: 'Trenameat'; olddirfid: number; oldname: string; newdirfid: number; newname: string }
export interface Rrenameat extends Base { type: 'Rrenameat' }
export interface Tunlinkat extends Base { type: 'Tunlinkat'; dirfid: number; name: string; flags: number }
export interface Runlinkat extends Base { type: 'Runlinkat' }

export type Tmsg =
  | Tversion | Tauth | Tattach | Tflush | Twalk | Topen | Tcreate | Tread | Twrite | Tclunk
  | Tremove | Tstat | Twstat
  | Tstatfs | Tlopen | Tlcreate | Tsymlink | Tmknod | Trename | Treadlink | Tgetattr | Tsetattr
  | Txattrwalk | Txattrcreate | Treaddir | Tfsync | Tlock | Tgetlock | Tlink | Tmkdir | Trenameat
  | Tunlinkat;

export type Rmsg =
  | Rversion | Rauth | Rattach | Rerror | Rflush | Rwalk | Ropen | Rcreate | Rread | Rwrite | Rclunk
  | Rremove | Rstat | Rwstat
  | Rlerror | Rstatfs | Rlopen | Rlcreate | Rsymlink | Rmknod | Rrename | Rreadlink | Rgetattr
  | Rsetattr | Rxattrwalk | Rxattrcreate | Rreaddir | Rfsync | Rlock | Rgetlock | Rlink | Rmkdir
  | Rrenameat | Runlinkat;

export type Message = Tmsg | Rmsg;
export type MessageType = Message['type'];
/** The message interface for a given type name, e.g. MessageOf<'Twalk'>. */
export type MessageOf<K extends MessageType> = Extract<Message, { type: K }>;
