// Wire constants shared by all three dialects (intro(5), fcall.h, diod's protocol.md).

export type Dialect = '9P2000' | '9P2000.u' | '9P2000.L';
export const DIALECTS: readonly Dialect[] = ['9P2000', '9P2000.u', '9P2000.L'];

export const NOTAG = 0xffff;
export const NOFID = 0xffffffff;
/** n_uname value meaning "no numeric user" (.u and .L). */
export const NONUNAME = 0xffffffff;
export const MAXWELEM = 16;
/** Header bytes of Rread and Twrite: size[4] type[1] tag[2] fid[4] offset[8] count[4]. */
export const IOHDRSZ = 24;
/** The smallest message: size[4] type[1] tag[2]. */
export const HEADER_SIZE = 7;
export const DEFAULT_MSIZE = 8192 + IOHDRSZ;
export const MAX_MSIZE = 4 * 1024 * 1024;

export const QTDIR = 0x80;
export const QTAPPEND = 0x40;
export const QTEXCL = 0x20;
export const QTMOUNT = 0x10;
export const QTAUTH = 0x08;
export const QTTMP = 0x04;
export const QTSYMLINK = 0x02;
export const QTFILE = 0x00;

export const DMDIR = 0x80000000;
export const DMAPPEND = 0x40000000;
export const DMEXCL = 0x20000000;
export const DMMOUNT = 0x10000000;
export const DMAUTH = 0x08000000;
export const DMTMP = 0x04000000;
export const DMSYMLINK = 0x02000000;
export const DMDEVICE = 0x00800000;
export const DMNAMEDPIPE = 0x00200000;
export const DMSOCKET = 0x00100000;
export const DMSETUID = 0x00080000;
export const DMSETGID = 0x00040000;

export const OREAD = 0;
export const OWRITE = 1;
export const ORDWR = 2;
export const OEXEC = 3;
export const OTRUNC = 0x10;
export const ORCLOSE = 0x40;

// Linux open(2) flags as carried by Tlopen/Tlcreate.
export const L_O_RDONLY = 0o0;
export const L_O_WRONLY = 0o1;
export const L_O_RDWR = 0o2;
export const L_O_ACCMODE = 0o3;
export const L_O_CREAT = 0o100;
export const L_O_EXCL = 0o200;
export const L_O_TRUNC = 0o1000;
export const L_O_APPEND = 0o2000;
export const L_O_DIRECTORY = 0o200000;

// Linux mode bits (Rgetattr.mode, Tlcreate/Tmkdir mode).
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
export const S_IFSOCK = 0o140000;

export const GETATTR_MODE = 0x1n;
export const GETATTR_NLINK = 0x2n;
export const GETATTR_UID = 0x4n;
export const GETATTR_GID = 0x8n;
export const GETATTR_RDEV = 0x10n;
export const GETATTR_ATIME = 0x20n;
export const GETATTR_MTIME = 0x40n;
export const GETATTR_CTIME = 0x80n;
export const GETATTR_INO = 0x100n;
export const GETATTR_SIZE = 0x200n;
export const GETATTR_BLOCKS = 0x400n;
export const GETATTR_BTIME = 0x800n;
export const GETATTR_GEN = 0x1000n;
export const GETATTR_DATA_VERSION = 0x2000n;
export const GETATTR_BASIC = 0x7ffn;
export const GETATTR_ALL = 0x3fffn;

export const SETATTR_MODE = 0x1;
export const SETATTR_UID = 0x2;
export const SETATTR_GID = 0x4;
export const SETATTR_SIZE = 0x8;
export const SETATTR_ATIME = 0x10;
export const SETATTR_MTIME = 0x20;
export const SETATTR_CTIME = 0x40;
export const SETATTR_ATIME_SET = 0x80;
export const SETATTR_MTIME_SET = 0x100;

/** Tunlinkat flag: remove a directory (Linux AT_REMOVEDIR). */
export const AT_REMOVEDIR = 0x200;

/** Linux dirent d_type values used in Rreaddir entries. */
export const DT_DIR = 4;
export const DT_REG = 8;
export const DT_LNK = 10;

/** Message type numbers. Each R is its T + 1. */
export const MsgType = {
  Tlerror: 6, Rlerror: 7,
  Tstatfs: 8, Rstatfs: 9,
  Tlopen: 12, Rlopen: 13,
  Tlcreate: 14, Rlcreate: 15,
  Tsymlink: 16, Rsymlink: 17,
  Tmknod: 18, Rmknod: 19,
  Trename: 20, Rrename: 21,
  Treadlink: 22, Rreadlink: 23,
  Tgetattr: 24, Rgetattr: 25,
  Tsetattr: 26, Rsetattr: 27,
  Txattrwalk: 30, Rxattrwalk: 31,
  Txattrcreate: 32, Rxattrcreate: 33,
  Treaddir: 40, Rreaddir: 41,
  Tfsync: 50, Rfsync: 51,
  Tlock: 52, Rlock: 53,
  Tgetlock: 54, Rgetlock: 55,
  Tlink: 70, Rlink: 71,
  Tmkdir: 72, Rmkdir: 73,
  Trenameat: 74, Rrenameat: 75,
  Tunlinkat: 76, Runlinkat: 77,
  Tversion: 100, Rversion: 101,
  Tauth: 102, Rauth: 103,
  Tattach: 104, Rattach: 105,
  Terror: 106, Rerror: 107,
  Tflush: 108, Rflush: 109,
  Twalk: 110, Rwalk: 111,
  Topen: 112, Ropen: 113,
  Tcreate: 114, Rcreate: 115,
  Tread: 116, Rread: 117,
  Twrite: 118, Rwrite: 119,
  Tclunk: 120, Rclunk: 121,
  Tremove: 122, Rremove: 123,
  Tstat: 124, Rstat: 125,
  Twstat: 126, Rwstat: 127,
} as const;
