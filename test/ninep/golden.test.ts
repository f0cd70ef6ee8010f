// Golden bytes for every T and R message of every dialect. Each expected frame is written by hand
// from intro(5)/stat(5), the 9P2000.u draft and diod's protocol.md, field by field, so the codec is
// checked against the specification rather than against itself. Both directions are checked:
// encode(msg) must give the bytes, decode(bytes) must give the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DIALECTS, type Dialect, type Message, type Qid, type Stat, NOFID, NONUNAME, NOTAG, ProtocolError,
  decode, encode, encodedSize, unpackDirents,
} from '../../shared/ninep/index.ts';
import { TABLES } from '../../shared/ninep/schema.ts';

interface Vector {
  name: string;
  dialects: readonly Dialect[];
  msg: Message;
  hex: string;
  /** false for wire forms the codec accepts but never produces (Tfsync without datasync). */
  encodes?: boolean;
}

const ALL: readonly Dialect[] = ['9P2000', '9P2000.u', '9P2000.L'];
const P9: readonly Dialect[] = ['9P2000', '9P2000.u'];
const PLAIN: readonly Dialect[] = ['9P2000'];
const U: readonly Dialect[] = ['9P2000.u'];
const UL: readonly Dialect[] = ['9P2000.u', '9P2000.L'];
const L: readonly Dialect[] = ['9P2000.L'];

function bytes(hex: string): Uint8Array {
  // Buffer.from(hex) silently stops at the first bad digit; refuse such a vector instead.
  assert.match(hex, /^(?:[0-9a-f]{2})*$/, 'vector hex must be whole lowercase bytes');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

// ---- qids used below: type[1] vers[4] path[8] ----
const QROOT: Qid = { type: 0x80, vers: 0, path: 0n };
const QROOT_HEX = '80' + '00000000' + '0000000000000000';
const QHELLO: Qid = { type: 0x00, vers: 0, path: 1n };
const QHELLO_HEX = '00' + '00000000' + '0100000000000000';
const QBIG: Qid = { type: 0x02, vers: 0xdeadbeef, path: 0xffffffffffffffffn };
const QBIG_HEX = '02' + 'efbeadde' + 'ffffffffffffffff';
const QAUTH: Qid = { type: 0x08, vers: 0, path: 0x0102030405060708n };
const QAUTH_HEX = '08' + '00000000' + '0807060504030201';
const QDIR_L: Qid = { type: 0x80, vers: 0, path: 0x2c1facn };
const QDIR_L_HEX = '80' + '00000000' + 'ac1f2c0000000000';
const QFILE_L: Qid = { type: 0x00, vers: 0, path: 0x2c1bd1n };
const QFILE_L_HEX = '00' + '00000000' + 'd11b2c0000000000';

// ---- stats ----
/** hellofs's root as Inferno's trace shows it: Dir(".","pete","pete",Qid(16r0,0,16r80),8r20000000555,...). */
const ROOT_STAT: Stat = {
  type: 0, dev: 0, qid: QROOT, mode: 0x8000016d, atime: 0, mtime: 0, length: 0n,
  name: '.', uid: 'pete', gid: 'pete', muid: '',
  extension: '', nUid: NONUNAME, nGid: NONUNAME, nMuid: NONUNAME,
};
const HELLO_STAT_U: Stat = {
  type: 0, dev: 0, qid: QHELLO, mode: 0o444, atime: 1, mtime: 2, length: 14n,
  name: 'hello', uid: 'pete', gid: 'pete', muid: 'pete',
  extension: '', nUid: 1000, nGid: 1000, nMuid: NONUNAME,
};
/** wstat(5): all ones and empty strings mean "don't touch"; only the name changes. */
const RENAME_STAT: Stat = {
  type: 0xffff, dev: 0xffffffff, qid: { type: 0xff, vers: 0xffffffff, path: 0xffffffffffffffffn },
  mode: 0xffffffff, atime: 0xffffffff, mtime: 0xffffffff, length: 0xffffffffffffffffn,
  name: 'b', uid: '', gid: '', muid: '', extension: '', nUid: NONUNAME, nGid: NONUNAME, nMuid: NONUNAME,
};
const RENAME_STAT_HEX =
  'ffff' +             // type
  'ffffffff' +         // dev
  'ff' + 'ffffffff' + 'ffffffffffffffff' + // qid
  'ffffffff' +         // mode
  'ffffffff' +         // atime
  'ffffffff' +         // mtime
  'ffffffffffffffff' + // length
  '0100' + '62' +      // name "b"
  '0000' +             // uid ""
  '0000' +             // gid ""
  '0000';              // muid ""

const vectors: Vector[] = [
  // ---------------- version ----------------
  {
    name: 'Tversion 9P2000', dialects: ALL,
    msg: { type: 'Tversion', tag: NOTAG, msize: 8192, version: '9P2000' },
    hex: '13000000' + // size 19 = 7 + 4 + 2 + 6
      '64' +          // type 100
      'ffff' +        // tag NOTAG
      '00200000' +    // msize 8192
      '0600' + '395032303030', // version[s] "9P2000"
  },
  {
    name: 'Tversion 9P2000.L', dialects: ALL,
    msg: { type: 'Tversion', tag: NOTAG, msize: 65536, version: '9P2000.L' },
    hex: '15000000' + // size 21
      '64' + 'ffff' +
      '00000100' +    // msize 65536
      '0800' + '395032303030' + '2e4c', // "9P2000.L"
  },
  {
    name: 'Rversion', dialects: ALL,
    msg: { type: 'Rversion', tag: NOTAG, msize: 8216, version: '9P2000' },
    hex: '13000000' + '65' + 'ffff' +
      '18200000' +    // msize 8216 = 0x2018
      '0600' + '395032303030',
  },
  // ---------------- auth ----------------
  {
    name: 'Tauth 9P2000 (no n_uname)', dialects: PLAIN,
    msg: { type: 'Tauth', tag: 1, afid: 5, uname: 'pete', aname: '', nUname: NONUNAME },
    hex: '13000000' + // size 19 = 7 + 4 + 6 + 2
      '66' +          // type 102
      '0100' +        // tag 1
      '05000000' +    // afid 5
      '0400' + '70657465' + // uname "pete"
      '0000',         // aname ""
  },
  {
    name: 'Tauth .u/.L (n_uname)', dialects: UL,
    msg: { type: 'Tauth', tag: 1, afid: 5, uname: 'pete', aname: '', nUname: 1000 },
    hex: '17000000' + // size 23: the 9P2000 form plus n_uname[4]
      '66' + '0100' + '05000000' + '0400' + '70657465' + '0000' +
      'e8030000',     // n_uname 1000
  },
  {
    name: 'Rauth', dialects: ALL,
    msg: { type: 'Rauth', tag: 1, aqid: QAUTH },
    hex: '14000000' + // size 20 = 7 + 13
      '67' + '0100' + QAUTH_HEX,
  },
  // ---------------- attach ----------------
  {
    name: 'Tattach 9P2000 (hellofs trace)', dialects: PLAIN,
    msg: { type: 'Tattach', tag: 47, fid: 168, afid: NOFID, uname: 'pete', aname: '', nUname: NONUNAME },
    hex: '17000000' + // size 23 = 7 + 4 + 4 + 6 + 2
      '68' +          // type 104
      '2f00' +        // tag 47
      'a8000000' +    // fid 168
      'ffffffff' +    // afid NOFID
      '0400' + '70657465' + // uname "pete"
      '0000',         // aname ""
  },
  {
    name: 'Tattach .u/.L n_uname 0', dialects: UL,
    msg: { type: 'Tattach', tag: 47, fid: 168, afid: NOFID, uname: 'pete', aname: '', nUname: 0 },
    hex: '1b000000' + // size 27: plus n_uname[4]
      '68' + '2f00' + 'a8000000' + 'ffffffff' + '0400' + '70657465' + '0000' +
      '00000000',     // n_uname 0 (root)
  },
  {
    name: 'Tattach .L (diod sample session)', dialects: UL,
    msg: { type: 'Tattach', tag: 1, fid: 0, afid: NOFID, uname: 'root', aname: '/tmp/9', nUname: NONUNAME },
    hex: '21000000' + // size 33 = 7 + 4 + 4 + 6 + 8 + 4
      '68' + '0100' +
      '00000000' +    // fid 0
      'ffffffff' +    // afid NOFID
      '0400' + '726f6f74' +     // uname "root"
      '0600' + '2f746d702f39' + // aname "/tmp/9"
      'ffffffff',     // n_uname NONUNAME
  },
  {
    name: 'Rattach', dialects: ALL,
    msg: { type: 'Rattach', tag: 47, qid: QROOT },
    hex: '14000000' + '69' + '2f00' + QROOT_HEX,
  },
  // ---------------- errors ----------------
  {
    name: 'Rerror 9P2000', dialects: PLAIN,
    msg: { type: 'Rerror', tag: 47, ename: 'file does not exist', errno: 0 },
    hex: '1c000000' + // size 28 = 7 + 2 + 19
      '6b' +          // type 107
      '2f00' +
      '1300' + '66696c6520646f6573206e6f74206578697374', // ename "file does not exist"
  },
  {
    name: 'Rerror 9P2000.u (errno)', dialects: U,
    msg: { type: 'Rerror', tag: 47, ename: 'file does not exist', errno: 2 },
    hex: '20000000' + // size 32: plus errno[4]
      '6b' + '2f00' + '1300' + '66696c6520646f6573206e6f74206578697374' +
      '02000000',     // errno ENOENT
  },
  {
    name: 'Rlerror', dialects: L,
    msg: { type: 'Rlerror', tag: 1, ecode: 2 },
    hex: '0b000000' + // size 11
      '07' +          // type 7
      '0100' +
      '02000000',     // ecode ENOENT
  },
  // ---------------- flush ----------------
  {
    name: 'Tflush', dialects: ALL,
    msg: { type: 'Tflush', tag: 3, oldtag: 2 },
    hex: '09000000' + '6c' + '0300' + '0200', // size 9, type 108, tag 3, oldtag 2
  },
  {
    name: 'Rflush', dialects: ALL,
    msg: { type: 'Rflush', tag: 3 },
    hex: '07000000' + '6d' + '0300',
  },
  // ---------------- walk ----------------
  {
    name: 'Twalk one name', dialects: ALL,
    msg: { type: 'Twalk', tag: 47, fid: 168, newfid: 156, wnames: ['hello'] },
    hex: '18000000' + // size 24 = 7 + 4 + 4 + 2 + 7
      '6e' +          // type 110
      '2f00' +
      'a8000000' +    // fid 168
      '9c000000' +    // newfid 156
      '0100' +        // nwname 1
      '0500' + '68656c6c6f', // "hello"
  },
  {
    name: 'Twalk clone (nwname 0)', dialects: ALL,
    msg: { type: 'Twalk', tag: 47, fid: 168, newfid: 111, wnames: [] },
    hex: '11000000' + '6e' + '2f00' + 'a8000000' + '6f000000' + '0000', // size 17, nwname 0
  },
  {
    name: 'Twalk two names, multi-byte UTF-8', dialects: ALL,
    msg: { type: 'Twalk', tag: 1, fid: 1, newfid: 2, wnames: ['usr', '日'] },
    hex: '1b000000' + // size 27 = 7 + 10 + 5 + 5
      '6e' + '0100' + '01000000' + '02000000' +
      '0200' +        // nwname 2
      '0300' + '757372' + // "usr"
      '0300' + 'e697a5',  // "日" is 3 bytes of UTF-8 (U+65E5)
  },
  {
    name: 'Rwalk one qid', dialects: ALL,
    msg: { type: 'Rwalk', tag: 47, qids: [QHELLO] },
    hex: '16000000' + // size 22 = 7 + 2 + 13
      '6f' + '2f00' + '0100' + QHELLO_HEX,
  },
  {
    name: 'Rwalk no qids', dialects: ALL,
    msg: { type: 'Rwalk', tag: 47, qids: [] },
    hex: '09000000' + '6f' + '2f00' + '0000',
  },
  {
    name: 'Rwalk two qids', dialects: ALL,
    msg: { type: 'Rwalk', tag: 2, qids: [QROOT, QBIG] },
    hex: '23000000' + // size 35 = 7 + 2 + 26
      '6f' + '0200' + '0200' + QROOT_HEX + QBIG_HEX,
  },
  // ---------------- open / create (9P2000, .u) ----------------
  {
    name: 'Topen', dialects: P9,
    msg: { type: 'Topen', tag: 47, fid: 111, mode: 0 },
    hex: '0c000000' + '70' + '2f00' + '6f000000' + '00', // size 12, type 112, fid 111, mode OREAD
  },
  {
    name: 'Ropen', dialects: P9,
    msg: { type: 'Ropen', tag: 47, qid: QROOT, iounit: 8192 },
    hex: '18000000' + // size 24 = 7 + 13 + 4
      '71' + '2f00' + QROOT_HEX + '00200000',
  },
  {
    name: 'Tcreate 9P2000', dialects: PLAIN,
    msg: { type: 'Tcreate', tag: 5, fid: 7, name: 'new', perm: 0o644, mode: 1, extension: '' },
    hex: '15000000' + // size 21 = 7 + 4 + 5 + 4 + 1
      '72' + '0500' +
      '07000000' +    // fid 7
      '0300' + '6e6577' + // name "new"
      'a4010000' +    // perm 0644
      '01',           // mode OWRITE
  },
  {
    name: 'Tcreate 9P2000.u (extension)', dialects: U,
    msg: { type: 'Tcreate', tag: 5, fid: 7, name: 'ln', perm: 0x020001ff, mode: 0, extension: '/tmp' },
    hex: '1a000000' + // size 26 = 7 + 4 + 4 + 4 + 1 + 6
      '72' + '0500' + '07000000' +
      '0200' + '6c6e' + // name "ln"
      'ff010002' +    // perm DMSYMLINK|0777
      '00' +          // mode
      '0400' + '2f746d70', // extension "/tmp" (the link target)
  },
  {
    name: 'Rcreate', dialects: P9,
    msg: { type: 'Rcreate', tag: 5, qid: { type: 0, vers: 0, path: 2n }, iounit: 0 },
    hex: '18000000' + '73' + '0500' + '00' + '00000000' + '0200000000000000' + '00000000',
  },
  // ---------------- read / write ----------------
  {
    name: 'Tread', dialects: ALL,
    msg: { type: 'Tread', tag: 47, fid: 156, offset: 14n, count: 8192 },
    hex: '17000000' + // size 23 = 7 + 4 + 8 + 4
      '74' + '2f00' + '9c000000' +
      '0e00000000000000' + // offset 14
      '00200000',     // count 8192
  },
  {
    name: 'Tread offset 2^64-1', dialects: ALL,
    msg: { type: 'Tread', tag: 2, fid: 1, offset: 0xffffffffffffffffn, count: 0 },
    hex: '17000000' + '74' + '0200' + '01000000' + 'ffffffffffffffff' + '00000000',
  },
  {
    name: 'Rread "Hello, World!\\n"', dialects: ALL,
    msg: { type: 'Rread', tag: 47, data: new TextEncoder().encode('Hello, World!\n') },
    hex: '19000000' + // size 25 = 7 + 4 + 14
      '75' + '2f00' +
      '0e000000' +    // count 14
      '48656c6c6f2c20576f726c64210a',
  },
  {
    name: 'Rread empty', dialects: ALL,
    msg: { type: 'Rread', tag: 47, data: new Uint8Array(0) },
    hex: '0b000000' + '75' + '2f00' + '00000000',
  },
  {
    name: 'Twrite', dialects: ALL,
    msg: { type: 'Twrite', tag: 9, fid: 3, offset: 0x0102030405060708n, data: new Uint8Array([0xde, 0xad]) },
    hex: '19000000' + // size 25 = 7 + 4 + 8 + 4 + 2
      '76' + '0900' + '03000000' +
      '0807060504030201' + // offset, little-endian
      '02000000' + 'dead', // count 2, data
  },
  {
    name: 'Rwrite', dialects: ALL,
    msg: { type: 'Rwrite', tag: 9, count: 2 },
    hex: '0b000000' + '77' + '0900' + '02000000',
  },
  // ---------------- clunk / remove ----------------
  {
    name: 'Tclunk', dialects: ALL,
    msg: { type: 'Tclunk', tag: 47, fid: 156 },
    hex: '0b000000' + '78' + '2f00' + '9c000000',
  },
  { name: 'Rclunk', dialects: ALL, msg: { type: 'Rclunk', tag: 47 }, hex: '07000000' + '79' + '2f00' },
  {
    name: 'Tremove', dialects: ALL,
    msg: { type: 'Tremove', tag: 4, fid: 10 },
    hex: '0b000000' + '7a' + '0400' + '0a000000',
  },
  { name: 'Rremove', dialects: ALL, msg: { type: 'Rremove', tag: 4 }, hex: '07000000' + '7b' + '0400' },
  // ---------------- stat / wstat: n[2] then a stat with its own size[2] ----------------
  {
    name: 'Tstat', dialects: P9,
    msg: { type: 'Tstat', tag: 47, fid: 168 },
    hex: '0b000000' + '7c' + '2f00' + 'a8000000',
  },
  {
    name: 'Rstat 9P2000 (hellofs root)', dialects: PLAIN,
    msg: { type: 'Rstat', tag: 47, stat: ROOT_STAT },
    hex: '43000000' + // size 67 = 7 + 2 + 58
      '7d' + '2f00' +
      '3a00' +        // n 58: the stat including its size[2]
      '3800' +        // stat size 56: the rest of the stat
      '0000' +        // type
      '00000000' +    // dev
      QROOT_HEX +     // qid
      '6d010080' +    // mode DMDIR|0555
      '00000000' +    // atime
      '00000000' +    // mtime
      '0000000000000000' + // length
      '0100' + '2e' + // name "."
      '0400' + '70657465' + // uid "pete"
      '0400' + '70657465' + // gid "pete"
      '0000',         // muid ""
  },
  {
    name: 'Rstat 9P2000.u (extension, n_uid, n_gid, n_muid)', dialects: U,
    msg: { type: 'Rstat', tag: 2, stat: HELLO_STAT_U },
    hex: '59000000' + // size 89 = 7 + 2 + 80
      '7d' + '0200' +
      '5000' +        // n 80
      '4e00' +        // stat size 78 = 39 fixed + 25 strings + 14 .u
      '0000' + '00000000' + QHELLO_HEX +
      '24010000' +    // mode 0444
      '01000000' +    // atime 1
      '02000000' +    // mtime 2
      '0e00000000000000' + // length 14
      '0500' + '68656c6c6f' + // name "hello"
      '0400' + '70657465' +   // uid
      '0400' + '70657465' +   // gid
      '0400' + '70657465' +   // muid
      '0000' +        // extension ""
      'e8030000' +    // n_uid 1000
      'e8030000' +    // n_gid 1000
      'ffffffff',     // n_muid NONUNAME
  },
  {
    name: 'Twstat 9P2000 (rename, rest untouched)', dialects: PLAIN,
    msg: { type: 'Twstat', tag: 6, fid: 12, stat: RENAME_STAT },
    hex: '3f000000' + // size 63 = 7 + 4 + 2 + 50
      '7e' + '0600' +
      '0c000000' +    // fid 12
      '3200' +        // n 50
      '3000' +        // stat size 48 = 39 + 9
      RENAME_STAT_HEX,
  },
  {
    name: 'Twstat 9P2000.u', dialects: U,
    msg: { type: 'Twstat', tag: 6, fid: 12, stat: RENAME_STAT },
    hex: '4d000000' + // size 77 = 7 + 4 + 2 + 64
      '7e' + '0600' + '0c000000' +
      '4000' +        // n 64
      '3e00' +        // stat size 62 = 48 + 14
      RENAME_STAT_HEX +
      '0000' +        // extension ""
      'ffffffff' + 'ffffffff' + 'ffffffff', // n_uid n_gid n_muid: don't touch
  },
  { name: 'Rwstat', dialects: P9, msg: { type: 'Rwstat', tag: 6 }, hex: '07000000' + '7f' + '0600' },
  // ---------------- 9P2000.L ----------------
  {
    name: 'Tstatfs', dialects: L,
    msg: { type: 'Tstatfs', tag: 1, fid: 1 },
    hex: '0b000000' + '08' + '0100' + '01000000',
  },
  {
    name: 'Rstatfs', dialects: L,
    msg: {
      type: 'Rstatfs', tag: 1,
      statfs: { fsType: 0x01021997, bsize: 4096, blocks: 1000n, bfree: 500n, bavail: 400n, files: 100n, ffree: 50n, fsid: 0x1234n, namelen: 255 },
    },
    hex: '43000000' + // size 67 = 7 + 4 + 4 + 6*8 + 4
      '09' + '0100' +
      '97190201' +    // type V9FS_MAGIC
      '00100000' +    // bsize 4096
      'e803000000000000' + // blocks 1000
      'f401000000000000' + // bfree 500
      '9001000000000000' + // bavail 400
      '6400000000000000' + // files 100
      '3200000000000000' + // ffree 50
      '3412000000000000' + // fsid
      'ff000000',     // namelen 255
  },
  {
    name: 'Tlopen O_RDONLY|O_DIRECTORY', dialects: L,
    msg: { type: 'Tlopen', tag: 1, fid: 2, flags: 0o200000 },
    hex: '0f000000' + '0c' + '0100' + '02000000' + '00000100', // flags 0x10000
  },
  {
    name: 'Rlopen', dialects: L,
    msg: { type: 'Rlopen', tag: 1, qid: QDIR_L, iounit: 0 },
    hex: '18000000' + '0d' + '0100' + QDIR_L_HEX + '00000000',
  },
  {
    name: 'Tlcreate', dialects: L,
    msg: { type: 'Tlcreate', tag: 1, fid: 2, name: 'foo', flags: 0x8241, mode: 0o100644, gid: 500 },
    hex: '1c000000' + // size 28 = 7 + 4 + 5 + 4 + 4 + 4
      '0e' + '0100' + '02000000' +
      '0300' + '666f6f' + // name "foo"
      '41820000' +    // flags 0x8241
      'a4810000' +    // mode 0100644
      'f4010000',     // gid 500
  },
  {
    name: 'Rlcreate', dialects: L,
    msg: { type: 'Rlcreate', tag: 1, qid: QFILE_L, iounit: 4096 },
    hex: '18000000' + '0f' + '0100' + QFILE_L_HEX + '00100000',
  },
  {
    name: 'Tsymlink', dialects: L,
    msg: { type: 'Tsymlink', tag: 1, fid: 1, name: 'newsymlink', symtgt: '/tmp/9/newdir', gid: 500 },
    hex: '2a000000' + // size 42 = 7 + 4 + 12 + 15 + 4
      '10' + '0100' + '01000000' +
      '0a00' + '6e657773796d6c696e6b' +     // "newsymlink"
      '0d00' + '2f746d702f392f6e6577646972' + // "/tmp/9/newdir"
      'f4010000',
  },
  {
    name: 'Rsymlink', dialects: L,
    msg: { type: 'Rsymlink', tag: 1, qid: { type: 0x02, vers: 0, path: 0x2c1de3n } },
    hex: '14000000' + '11' + '0100' + '02' + '00000000' + 'e31d2c0000000000',
  },
  {
    name: 'Tmknod', dialects: L,
    msg: { type: 'Tmknod', tag: 1, dfid: 1, name: 'null', mode: 0o20666, major: 1, minor: 3, gid: 0 },
    hex: '21000000' + // size 33 = 7 + 4 + 6 + 4*4
      '12' + '0100' + '01000000' +
      '0400' + '6e756c6c' + // "null"
      'b6210000' +    // mode 020666 (S_IFCHR|0666)
      '01000000' + '03000000' + // major 1, minor 3
      '00000000',     // gid
  },
  {
    name: 'Rmknod', dialects: L,
    msg: { type: 'Rmknod', tag: 1, qid: { type: 0, vers: 0, path: 7n } },
    hex: '14000000' + '13' + '0100' + '00' + '00000000' + '0700000000000000',
  },
  {
    name: 'Trename', dialects: L,
    msg: { type: 'Trename', tag: 1, fid: 3, dfid: 1, name: 'b' },
    hex: '12000000' + '14' + '0100' + '03000000' + '01000000' + '0100' + '62',
  },
  { name: 'Rrename', dialects: L, msg: { type: 'Rrename', tag: 1 }, hex: '07000000' + '15' + '0100' },
  {
    name: 'Treadlink', dialects: L,
    msg: { type: 'Treadlink', tag: 1, fid: 4 },
    hex: '0b000000' + '16' + '0100' + '04000000',
  },
  {
    name: 'Rreadlink', dialects: L,
    msg: { type: 'Rreadlink', tag: 1, target: '/tmp/9/newdir' },
    hex: '16000000' + '17' + '0100' + '0d00' + '2f746d702f392f6e6577646972',
  },
  {
    name: 'Tgetattr', dialects: L,
    msg: { type: 'Tgetattr', tag: 1, fid: 1, requestMask: 0x3fffn },
    hex: '13000000' + '18' + '0100' + '01000000' + 'ff3f000000000000', // request_mask ALL
  },
  {
    name: 'Rgetattr', dialects: L,
    msg: {
      type: 'Rgetattr', tag: 1,
      attr: {
        valid: 0x3fffn, qid: QDIR_L, mode: 0o40755, uid: 500, gid: 500, nlink: 56n, rdev: 0n,
        size: 4096n, blksize: 4096n, blocks: 2664n, atimeSec: 1n, atimeNsec: 2n, mtimeSec: 3n,
        mtimeNsec: 4n, ctimeSec: 5n, ctimeNsec: 6n, btimeSec: 0n, btimeNsec: 0n, gen: 0n,
        dataVersion: 0xffffffffffffffffn,
      },
    },
    hex: 'a0000000' + // size 160 = 7 + 8 + 13 + 12 + 15*8
      '19' + '0100' +
      'ff3f000000000000' + // valid
      QDIR_L_HEX +
      'ed410000' +    // mode 040755
      'f4010000' + 'f4010000' + // uid, gid 500
      '3800000000000000' + // nlink 56
      '0000000000000000' + // rdev
      '0010000000000000' + // size 4096
      '0010000000000000' + // blksize 4096
      '680a000000000000' + // blocks 2664
      '0100000000000000' + '0200000000000000' + // atime
      '0300000000000000' + '0400000000000000' + // mtime
      '0500000000000000' + '0600000000000000' + // ctime
      '0000000000000000' + '0000000000000000' + // btime
      '0000000000000000' + // gen
      'ffffffffffffffff',  // data_version
  },
  {
    name: 'Tsetattr', dialects: L,
    msg: {
      type: 'Tsetattr', tag: 1, fid: 2,
      attr: { valid: 0x41, mode: 0o40000, uid: 0, gid: 0, size: 6n, atimeSec: 0n, atimeNsec: 0n, mtimeSec: 7n, mtimeNsec: 8n },
    },
    hex: '43000000' + // size 67 = 7 + 4 + 16 + 40
      '1a' + '0100' + '02000000' +
      '41000000' +    // valid MODE|CTIME
      '00400000' +    // mode 040000
      '00000000' + '00000000' + // uid, gid
      '0600000000000000' + // size 6
      '0000000000000000' + '0000000000000000' + // atime
      '0700000000000000' + '0800000000000000',  // mtime
  },
  { name: 'Rsetattr', dialects: L, msg: { type: 'Rsetattr', tag: 1 }, hex: '07000000' + '1b' + '0100' },
  {
    name: 'Txattrwalk', dialects: L,
    msg: { type: 'Txattrwalk', tag: 1, fid: 1, newfid: 2, name: 'user.x' },
    hex: '17000000' + '1e' + '0100' + '01000000' + '02000000' + '0600' + '757365722e78',
  },
  {
    name: 'Rxattrwalk', dialects: L,
    msg: { type: 'Rxattrwalk', tag: 1, size: 10n },
    hex: '0f000000' + '1f' + '0100' + '0a00000000000000',
  },
  {
    name: 'Txattrcreate', dialects: L,
    msg: { type: 'Txattrcreate', tag: 1, fid: 2, name: 'user.x', attrSize: 5n, flags: 1 },
    hex: '1f000000' + // size 31 = 7 + 4 + 8 + 8 + 4
      '20' + '0100' + '02000000' + '0600' + '757365722e78' +
      '0500000000000000' + // attr_size 5
      '01000000',     // flags XATTR_CREATE
  },
  { name: 'Rxattrcreate', dialects: L, msg: { type: 'Rxattrcreate', tag: 1 }, hex: '07000000' + '21' + '0100' },
  {
    name: 'Treaddir', dialects: L,
    msg: { type: 'Treaddir', tag: 1, fid: 2, offset: 0n, count: 65488 },
    hex: '17000000' + '28' + '0100' + '02000000' + '0000000000000000' + 'd0ff0000',
  },
  {
    name: 'Rreaddir one entry', dialects: L,
    msg: {
      type: 'Rreaddir', tag: 1,
      data: bytes(QDIR_L_HEX + '0100000000000000' + '04' + '0100' + '2e'),
    },
    hex: '24000000' + // size 36 = 7 + 4 + 25
      '29' + '0100' +
      '19000000' +    // count 25
      QDIR_L_HEX +    // entry qid
      '0100000000000000' + // offset cookie 1
      '04' +          // type DT_DIR
      '0100' + '2e',  // name "."
  },
  {
    name: 'Tfsync datasync 1', dialects: L,
    msg: { type: 'Tfsync', tag: 1, fid: 5, datasync: 1 },
    hex: '0f000000' + '32' + '0100' + '05000000' + '01000000',
  },
  {
    name: 'Tfsync datasync 0', dialects: L,
    msg: { type: 'Tfsync', tag: 1, fid: 5, datasync: 0 },
    hex: '0f000000' + '32' + '0100' + '05000000' + '00000000',
  },
  {
    name: 'Tfsync without datasync (pre-2.6.38 peers)', dialects: L, encodes: false,
    msg: { type: 'Tfsync', tag: 1, fid: 5, datasync: 0 },
    hex: '0b000000' + '32' + '0100' + '05000000', // size 11: no datasync field at all
  },
  { name: 'Rfsync', dialects: L, msg: { type: 'Rfsync', tag: 1 }, hex: '07000000' + '33' + '0100' },
  {
    name: 'Tlock', dialects: L,
    msg: { type: 'Tlock', tag: 1, fid: 5, lockType: 1, flags: 1, start: 0n, length: 0n, procId: 1234, clientId: 'host' },
    hex: '2a000000' + // size 42 = 7 + 4 + 1 + 4 + 8 + 8 + 4 + 6
      '34' + '0100' + '05000000' +
      '01' +          // type WRLCK
      '01000000' +    // flags BLOCK
      '0000000000000000' + '0000000000000000' + // start, length
      'd2040000' +    // proc_id 1234
      '0400' + '686f7374', // client_id "host"
  },
  { name: 'Rlock', dialects: L, msg: { type: 'Rlock', tag: 1, status: 0 }, hex: '08000000' + '35' + '0100' + '00' },
  {
    name: 'Tgetlock', dialects: L,
    msg: { type: 'Tgetlock', tag: 1, fid: 5, lock: { lockType: 0, start: 100n, length: 50n, procId: 1234, clientId: 'host' } },
    hex: '26000000' + // size 38 = 7 + 4 + 1 + 8 + 8 + 4 + 6
      '36' + '0100' + '05000000' + '00' + '6400000000000000' + '3200000000000000' + 'd2040000' + '0400' + '686f7374',
  },
  {
    name: 'Rgetlock', dialects: L,
    msg: { type: 'Rgetlock', tag: 1, lock: { lockType: 2, start: 100n, length: 50n, procId: 1234, clientId: 'host' } },
    hex: '22000000' + // size 34
      '37' + '0100' + '02' + '6400000000000000' + '3200000000000000' + 'd2040000' + '0400' + '686f7374',
  },
  {
    name: 'Tlink', dialects: L,
    msg: { type: 'Tlink', tag: 1, dfid: 1, fid: 3, name: 'hard' },
    hex: '15000000' + '46' + '0100' + '01000000' + '03000000' + '0400' + '68617264',
  },
  { name: 'Rlink', dialects: L, msg: { type: 'Rlink', tag: 1 }, hex: '07000000' + '47' + '0100' },
  {
    name: 'Tmkdir', dialects: L,
    msg: { type: 'Tmkdir', tag: 1, dfid: 1, name: 'newdir', mode: 0o40755, gid: 500 },
    hex: '1b000000' + '48' + '0100' + '01000000' + '0600' + '6e6577646972' + 'ed410000' + 'f4010000',
  },
  {
    name: 'Rmkdir', dialects: L,
    msg: { type: 'Rmkdir', tag: 1, qid: { type: 0x80, vers: 0, path: 0x2c1bd1n } },
    hex: '14000000' + '49' + '0100' + '80' + '00000000' + 'd11b2c0000000000',
  },
  {
    name: 'Trenameat', dialects: L,
    msg: { type: 'Trenameat', tag: 1, olddirfid: 1, oldname: 'a', newdirfid: 2, newname: 'é' },
    hex: '16000000' + // size 22 = 7 + 4 + 3 + 4 + 4
      '4a' + '0100' + '01000000' + '0100' + '61' + '02000000' +
      '0200' + 'c3a9', // "é" is 2 bytes of UTF-8
  },
  { name: 'Rrenameat', dialects: L, msg: { type: 'Rrenameat', tag: 1 }, hex: '07000000' + '4b' + '0100' },
  {
    name: 'Tunlinkat', dialects: L,
    msg: { type: 'Tunlinkat', tag: 1, dirfid: 1, name: 'newdir', flags: 0x200 },
    hex: '17000000' + '4c' + '0100' + '01000000' + '0600' + '6e6577646972' + '00020000', // AT_REMOVEDIR
  },
  { name: 'Runlinkat', dialects: L, msg: { type: 'Runlinkat', tag: 1 }, hex: '07000000' + '4d' + '0100' },
];

test('the vectors cover every message type of every dialect', () => {
  for (const d of DIALECTS) {
    const covered = new Set(vectors.filter((v) => v.dialects.includes(d)).map((v) => v.msg.type));
    const missing = [...TABLES[d].byType.keys()].filter((t) => !covered.has(t));
    assert.deepEqual(missing, [], `${d} lacks golden vectors`);
    for (const t of covered) assert.ok(TABLES[d].byType.has(t), `${t} is not a ${d} message`);
  }
});

for (const v of vectors) {
  for (const d of v.dialects) {
    test(`${v.name} [${d}]`, () => {
      const frame = bytes(v.hex);
      if (v.encodes !== false) {
        assert.equal(toHex(encode(v.msg, d)), v.hex, 'encode');
        assert.equal(encodedSize(v.msg, d), frame.length, 'encodedSize');
      }
      assert.deepStrictEqual(decode(frame, d), v.msg, 'decode');
    });
  }
}

test('Rread and Rreaddir data decode as views of the frame', () => {
  const v = vectors.find((x) => x.name.startsWith('Rreaddir'))!;
  const frame = bytes(v.hex);
  const m = decode(frame, '9P2000.L');
  assert.equal(m.type, 'Rreaddir');
  if (m.type !== 'Rreaddir') return;
  assert.equal(m.data.buffer, frame.buffer);
  assert.equal(m.data.byteOffset, frame.byteOffset + 11);
  assert.deepStrictEqual(unpackDirents(m.data), [{ qid: QDIR_L, offset: 1n, type: 4, name: '.' }]);
});

function decodeError(hex: string, d: Dialect): ProtocolError {
  try {
    decode(bytes(hex), d);
  } catch (e) {
    assert.ok(e instanceof ProtocolError, `expected ProtocolError, got ${String(e)}`);
    return e;
  }
  assert.fail(`decoding ${hex} as ${d} should fail`);
}

const hexOf = (name: string): string => {
  const v = vectors.find((x) => x.name === name);
  assert.ok(v, name);
  return v.hex;
};

test('type numbers are dispatched by dialect', () => {
  // Type 7 is Rlerror in .L and undefined in the others.
  const rlerror = hexOf('Rlerror');
  assert.deepStrictEqual(decode(bytes(rlerror), '9P2000.L'), { type: 'Rlerror', tag: 1, ecode: 2 });
  for (const d of P9) {
    const e = decodeError(rlerror, d);
    assert.equal(e.code, 'unknown-type');
    assert.equal(e.tag, 1);
    assert.equal(e.msgType, 7);
  }
  // Rerror (107), Topen (112), Tstat (124) and Twstat (126) do not exist in .L.
  for (const name of ['Rerror 9P2000', 'Topen', 'Tstat', 'Twstat 9P2000 (rename, rest untouched)', 'Tcreate 9P2000']) {
    assert.equal(decodeError(hexOf(name), '9P2000.L').code, 'unknown-type', name);
  }
  // Terror (106) and Tlerror (6) are illegal everywhere.
  for (const d of DIALECTS) {
    assert.equal(decodeError('07000000' + '6a' + '0100', d).code, 'unknown-type');
    assert.equal(decodeError('07000000' + '06' + '0100', d).code, 'unknown-type');
  }
});

test('the .u and .L forms do not parse as 9P2000, nor the reverse', () => {
  // Tattach gains n_uname[4]: 4 bytes too many for 9P2000, 4 too few for .u/.L.
  assert.equal(decodeError(hexOf('Tattach .u/.L n_uname 0'), '9P2000').code, 'trailing');
  assert.equal(decodeError(hexOf('Tauth .u/.L (n_uname)'), '9P2000').code, 'trailing');
  for (const d of UL) {
    assert.equal(decodeError(hexOf('Tattach 9P2000 (hellofs trace)'), d).code, 'truncated');
    assert.equal(decodeError(hexOf('Tauth 9P2000 (no n_uname)'), d).code, 'truncated');
  }
  assert.equal(decodeError(hexOf('Rerror 9P2000.u (errno)'), '9P2000').code, 'trailing');
  assert.equal(decodeError(hexOf('Rerror 9P2000'), '9P2000.u').code, 'truncated');
  assert.equal(decodeError(hexOf('Tcreate 9P2000'), '9P2000.u').code, 'truncated');
  // The stat grows by extension[s] n_uid[4] n_gid[4] n_muid[4] in .u.
  assert.ok(decodeError(hexOf('Rstat 9P2000.u (extension, n_uid, n_gid, n_muid)'), '9P2000') instanceof ProtocolError);
  assert.ok(decodeError(hexOf('Rstat 9P2000 (hellofs root)'), '9P2000.u') instanceof ProtocolError);
  // The same message object encodes to different bytes per dialect.
  const attach: Message = { type: 'Tattach', tag: 47, fid: 168, afid: NOFID, uname: 'pete', aname: '', nUname: NONUNAME };
  assert.equal(toHex(encode(attach, '9P2000')), hexOf('Tattach 9P2000 (hellofs trace)'));
  assert.equal(toHex(encode(attach, '9P2000.u')), hexOf('Tattach 9P2000 (hellofs trace)') .replace(/^17/, '1b') + 'ffffffff');
  // A .L message cannot be encoded in another dialect.
  assert.throws(() => encode({ type: 'Rlerror', tag: 1, ecode: 2 }, '9P2000'), (e) => e instanceof ProtocolError && e.code === 'unknown-type');
  assert.throws(() => encode({ type: 'Tstat', tag: 1, fid: 2 }, '9P2000.L'), (e) => e instanceof ProtocolError && e.code === 'unknown-type');
});

test("Rstat's two nested lengths must agree", () => {
  const good = hexOf('Rstat 9P2000 (hellofs root)');
  // n claims one byte less than the stat: the stat's size overruns it.
  const shortN = '42000000' + good.slice(8, 14) + '3900' + '3800' + good.slice(22, good.length - 2);
  assert.ok(decodeError(shortN, '9P2000') instanceof ProtocolError);
  // The stat's size claims one byte less than n gives it.
  const shortSize = good.slice(0, 14) + '3a00' + '3700' + good.slice(22);
  assert.ok(decodeError(shortSize, '9P2000') instanceof ProtocolError);
  // Both lengths one byte longer with a trailing byte in the stat: the stat has an unparsed byte.
  const longBoth = '44000000' + good.slice(8, 14) + '3b00' + '3900' + good.slice(22) + '00';
  assert.equal(decodeError(longBoth, '9P2000').code, 'trailing');
});
