// messageText speaks Inferno's styx(2) text: the lines of the hellofs session and of PROTOCOLS.md
// must come out exactly, and every .u/.L message has a line in the same style.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import {
  DIALECTS, type Message, NOFID, NONUNAME, NOTAG, type Stat, messageText, nullStat, qidText,
} from '../../shared/ninep/index.ts';
import { TABLES } from '../../shared/ninep/schema.ts';

const bytes = (n: number): Uint8Array => new Uint8Array(n);
const ROOT = { type: 0x80, vers: 0, path: 0n };
const HELLO = { type: 0x00, vers: 0, path: 1n };

const ROOT_DIR: Stat = {
  type: 0, dev: 0, qid: ROOT, mode: 0x80000000 + 0o555, atime: 0, mtime: 0, length: 0n,
  name: '.', uid: 'pete', gid: 'pete', muid: '', extension: '', nUid: NONUNAME, nGid: NONUNAME, nMuid: NONUNAME,
};

/** The hellofs session from "Let's make a file system" (mount, lc, cat, unmount), in order. */
const HELLOFS: Array<[string, Message]> = [
  ['<- Tmsg.Version(65535,8216,"9P2000")', { type: 'Tversion', tag: NOTAG, msize: 8216, version: '9P2000' }],
  ['-> Rmsg.Version(65535,8216,"9P2000")', { type: 'Rversion', tag: NOTAG, msize: 8216, version: '9P2000' }],
  ['<- Tmsg.Attach(47,168,4294967295,"pete","")', { type: 'Tattach', tag: 47, fid: 168, afid: NOFID, uname: 'pete', aname: '', nUname: NONUNAME }],
  ['-> Rmsg.Attach(47,Qid(16r0,0,16r80))', { type: 'Rattach', tag: 47, qid: ROOT }],
  ['<- Tmsg.Stat(47,168)', { type: 'Tstat', tag: 47, fid: 168 }],
  ['-> Rmsg.Stat(47,Dir(".","pete","pete",Qid(16r0,0,16r80),8r20000000555,0,0,0,16r0,0))', { type: 'Rstat', tag: 47, stat: ROOT_DIR }],
  ['<- Tmsg.Walk(47,168,111,nil)', { type: 'Twalk', tag: 47, fid: 168, newfid: 111, wnames: [] }],
  ['-> Rmsg.Walk(47,array[] of {})', { type: 'Rwalk', tag: 47, qids: [] }],
  ['<- Tmsg.Open(47,111,0)', { type: 'Topen', tag: 47, fid: 111, mode: 0 }],
  ['-> Rmsg.Open(47,Qid(16r0,0,16r80),8192)', { type: 'Ropen', tag: 47, qid: ROOT, iounit: 8192 }],
  ['<- Tmsg.Read(47,111,0,2048)', { type: 'Tread', tag: 47, fid: 111, offset: 0n, count: 2048 }],
  ['-> Rmsg.Read(47,array[62] of byte)', { type: 'Rread', tag: 47, data: bytes(62) }],
  ['<- Tmsg.Read(47,111,62,2048)', { type: 'Tread', tag: 47, fid: 111, offset: 62n, count: 2048 }],
  ['-> Rmsg.Read(47,array[0] of byte)', { type: 'Rread', tag: 47, data: bytes(0) }],
  ['<- Tmsg.Clunk(47,111)', { type: 'Tclunk', tag: 47, fid: 111 }],
  ['-> Rmsg.Clunk(47)', { type: 'Rclunk', tag: 47 }],
  ['<- Tmsg.Walk(47,168,156,array[] of {"hello"})', { type: 'Twalk', tag: 47, fid: 168, newfid: 156, wnames: ['hello'] }],
  ['-> Rmsg.Walk(47,array[] of {Qid(16r1,0,16r00)})', { type: 'Rwalk', tag: 47, qids: [HELLO] }],
  ['<- Tmsg.Open(47,156,0)', { type: 'Topen', tag: 47, fid: 156, mode: 0 }],
  ['-> Rmsg.Open(47,Qid(16r1,0,16r00),8192)', { type: 'Ropen', tag: 47, qid: HELLO, iounit: 8192 }],
  ['<- Tmsg.Read(47,156,0,8192)', { type: 'Tread', tag: 47, fid: 156, offset: 0n, count: 8192 }],
  ['-> Rmsg.Read(47,array[14] of byte)', { type: 'Rread', tag: 47, data: new TextEncoder().encode('Hello, World!\n') }],
  ['<- Tmsg.Read(47,156,14,8192)', { type: 'Tread', tag: 47, fid: 156, offset: 14n, count: 8192 }],
  ['-> Rmsg.Read(47,array[0] of byte)', { type: 'Rread', tag: 47, data: bytes(0) }],
  ['<- Tmsg.Clunk(47,156)', { type: 'Tclunk', tag: 47, fid: 156 }],
  ['-> Rmsg.Clunk(47)', { type: 'Rclunk', tag: 47 }],
  ['<- Tmsg.Clunk(47,168)', { type: 'Tclunk', tag: 47, fid: 168 }],
  ['-> Rmsg.Clunk(47)', { type: 'Rclunk', tag: 47 }],
];

/** PROTOCOLS.md's trace block (the lines not already in the session above). */
const PROTOCOLS: Array<[string, Message]> = [
  ['-> Rmsg.Error(47,"file does not exist")', { type: 'Rerror', tag: 47, ename: 'file does not exist', errno: 0 }],
];

const Q_L = { type: 0x80, vers: 0, path: 0x2c1facn };

/** The rest of 9P2000 and every .u/.L message, in trace.ts's extension of the same style. */
const OTHERS: Array<[string, Message]> = [
  ['Tmsg.Auth(1,5,"pete","")', { type: 'Tauth', tag: 1, afid: 5, uname: 'pete', aname: '', nUname: NONUNAME }],
  ['Tmsg.Auth(1,5,"pete","",1000)', { type: 'Tauth', tag: 1, afid: 5, uname: 'pete', aname: '', nUname: 1000 }],
  ['Rmsg.Auth(1,Qid(16r102030405060708,0,16r08))', { type: 'Rauth', tag: 1, aqid: { type: 0x08, vers: 0, path: 0x0102030405060708n } }],
  ['Tmsg.Attach(1,0,4294967295,"","/tmp/9",0)', { type: 'Tattach', tag: 1, fid: 0, afid: NOFID, uname: '', aname: '/tmp/9', nUname: 0 }],
  ['Rmsg.Error(47,"file does not exist",2)', { type: 'Rerror', tag: 47, ename: 'file does not exist', errno: 2 }],
  ['Tmsg.Flush(3,2)', { type: 'Tflush', tag: 3, oldtag: 2 }],
  ['Rmsg.Flush(3)', { type: 'Rflush', tag: 3 }],
  ['Tmsg.Walk(1,1,2,array[] of {"usr","日"})', { type: 'Twalk', tag: 1, fid: 1, newfid: 2, wnames: ['usr', '日'] }],
  ['Rmsg.Walk(2,array[] of {Qid(16r0,0,16r80),Qid(16rffffffffffffffff,3735928559,16r02)})',
    { type: 'Rwalk', tag: 2, qids: [ROOT, { type: 2, vers: 0xdeadbeef, path: 0xffffffffffffffffn }] }],
  ['Tmsg.Create(5,7,"new",8r644,1)', { type: 'Tcreate', tag: 5, fid: 7, name: 'new', perm: 0o644, mode: 1, extension: '' }],
  ['Tmsg.Create(5,7,"ln",8r200000777,0,"/tmp")', { type: 'Tcreate', tag: 5, fid: 7, name: 'ln', perm: 0x020001ff, mode: 0, extension: '/tmp' }],
  ['Rmsg.Create(5,Qid(16r2,0,16r00),0)', { type: 'Rcreate', tag: 5, qid: { type: 0, vers: 0, path: 2n }, iounit: 0 }],
  ['Tmsg.Write(9,3,72623859790382856,array[2] of byte)', { type: 'Twrite', tag: 9, fid: 3, offset: 0x0102030405060708n, data: bytes(2) }],
  ['Rmsg.Write(9,2)', { type: 'Rwrite', tag: 9, count: 2 }],
  ['Tmsg.Remove(4,10)', { type: 'Tremove', tag: 4, fid: 10 }],
  ['Rmsg.Remove(4)', { type: 'Rremove', tag: 4 }],
  ['Tmsg.Wstat(6,12,Dir("b","","",Qid(16rffffffffffffffff,4294967295,16rff),8r37777777777,4294967295,4294967295,18446744073709551615,16rffff,4294967295))',
    { type: 'Twstat', tag: 6, fid: 12, stat: { ...nullStat(), name: 'b' } }],
  ['Rmsg.Wstat(6)', { type: 'Rwstat', tag: 6 }],
  ['Rmsg.Lerror(1,2,"file does not exist")', { type: 'Rlerror', tag: 1, ecode: 2 }],
  ['Tmsg.Statfs(1,1)', { type: 'Tstatfs', tag: 1, fid: 1 }],
  ['Rmsg.Statfs(1,Statfs(16r1021997,4096,1000,500,400,100,50,16r1234,255))',
    { type: 'Rstatfs', tag: 1, statfs: { fsType: 0x01021997, bsize: 4096, blocks: 1000n, bfree: 500n, bavail: 400n, files: 100n, ffree: 50n, fsid: 0x1234n, namelen: 255 } }],
  ['Tmsg.Lopen(1,2,8r200000)', { type: 'Tlopen', tag: 1, fid: 2, flags: 0o200000 }],
  ['Rmsg.Lopen(1,Qid(16r2c1fac,0,16r80),0)', { type: 'Rlopen', tag: 1, qid: Q_L, iounit: 0 }],
  ['Tmsg.Lcreate(1,2,"foo",8r101101,8r100644,500)', { type: 'Tlcreate', tag: 1, fid: 2, name: 'foo', flags: 0x8241, mode: 0o100644, gid: 500 }],
  ['Rmsg.Lcreate(1,Qid(16r2c1bd1,0,16r00),4096)', { type: 'Rlcreate', tag: 1, qid: { type: 0, vers: 0, path: 0x2c1bd1n }, iounit: 4096 }],
  ['Tmsg.Symlink(1,1,"newsymlink","/tmp/9/newdir",500)', { type: 'Tsymlink', tag: 1, fid: 1, name: 'newsymlink', symtgt: '/tmp/9/newdir', gid: 500 }],
  ['Rmsg.Symlink(1,Qid(16r2c1de3,0,16r02))', { type: 'Rsymlink', tag: 1, qid: { type: 2, vers: 0, path: 0x2c1de3n } }],
  ['Tmsg.Mknod(1,1,"null",8r20666,1,3,0)', { type: 'Tmknod', tag: 1, dfid: 1, name: 'null', mode: 0o20666, major: 1, minor: 3, gid: 0 }],
  ['Rmsg.Mknod(1,Qid(16r7,0,16r00))', { type: 'Rmknod', tag: 1, qid: { type: 0, vers: 0, path: 7n } }],
  ['Tmsg.Rename(1,3,1,"b")', { type: 'Trename', tag: 1, fid: 3, dfid: 1, name: 'b' }],
  ['Rmsg.Rename(1)', { type: 'Rrename', tag: 1 }],
  ['Tmsg.Readlink(1,4)', { type: 'Treadlink', tag: 1, fid: 4 }],
  ['Rmsg.Readlink(1,"/tmp/9/newdir")', { type: 'Rreadlink', tag: 1, target: '/tmp/9/newdir' }],
  ['Tmsg.Getattr(1,1,16r3fff)', { type: 'Tgetattr', tag: 1, fid: 1, requestMask: 0x3fffn }],
  ['Rmsg.Getattr(1,Attr(16r3fff,Qid(16r2c1fac,0,16r80),8r40755,500,500,56,0,4096,4096,2664,1.000000002,3.000000004,1296882424.999999999))',
    {
      type: 'Rgetattr', tag: 1,
      attr: {
        valid: 0x3fffn, qid: Q_L, mode: 0o40755, uid: 500, gid: 500, nlink: 56n, rdev: 0n, size: 4096n,
        blksize: 4096n, blocks: 2664n, atimeSec: 1n, atimeNsec: 2n, mtimeSec: 3n, mtimeNsec: 4n,
        ctimeSec: 1296882424n, ctimeNsec: 999999999n, btimeSec: 0n, btimeNsec: 0n, gen: 0n, dataVersion: 0n,
      },
    }],
  ['Tmsg.Setattr(1,2,SetAttr(16r41,8r40000,0,0,6,0.000000000,7.000000008))',
    { type: 'Tsetattr', tag: 1, fid: 2, attr: { valid: 0x41, mode: 0o40000, uid: 0, gid: 0, size: 6n, atimeSec: 0n, atimeNsec: 0n, mtimeSec: 7n, mtimeNsec: 8n } }],
  ['Rmsg.Setattr(1)', { type: 'Rsetattr', tag: 1 }],
  ['Tmsg.Xattrwalk(1,1,2,"user.x")', { type: 'Txattrwalk', tag: 1, fid: 1, newfid: 2, name: 'user.x' }],
  ['Rmsg.Xattrwalk(1,10)', { type: 'Rxattrwalk', tag: 1, size: 10n }],
  ['Tmsg.Xattrcreate(1,2,"user.x",5,1)', { type: 'Txattrcreate', tag: 1, fid: 2, name: 'user.x', attrSize: 5n, flags: 1 }],
  ['Rmsg.Xattrcreate(1)', { type: 'Rxattrcreate', tag: 1 }],
  ['Tmsg.Readdir(1,2,0,65488)', { type: 'Treaddir', tag: 1, fid: 2, offset: 0n, count: 65488 }],
  ['Rmsg.Readdir(1,array[4457] of byte)', { type: 'Rreaddir', tag: 1, data: bytes(4457) }],
  ['Tmsg.Fsync(1,5,1)', { type: 'Tfsync', tag: 1, fid: 5, datasync: 1 }],
  ['Rmsg.Fsync(1)', { type: 'Rfsync', tag: 1 }],
  ['Tmsg.Lock(1,5,1,1,0,0,1234,"host")', { type: 'Tlock', tag: 1, fid: 5, lockType: 1, flags: 1, start: 0n, length: 0n, procId: 1234, clientId: 'host' }],
  ['Rmsg.Lock(1,0)', { type: 'Rlock', tag: 1, status: 0 }],
  ['Tmsg.Getlock(1,5,0,100,50,1234,"host")', { type: 'Tgetlock', tag: 1, fid: 5, lock: { lockType: 0, start: 100n, length: 50n, procId: 1234, clientId: 'host' } }],
  ['Rmsg.Getlock(1,2,100,50,1234,"host")', { type: 'Rgetlock', tag: 1, lock: { lockType: 2, start: 100n, length: 50n, procId: 1234, clientId: 'host' } }],
  ['Tmsg.Link(1,1,3,"hard")', { type: 'Tlink', tag: 1, dfid: 1, fid: 3, name: 'hard' }],
  ['Rmsg.Link(1)', { type: 'Rlink', tag: 1 }],
  ['Tmsg.Mkdir(1,1,"newdir",8r40755,500)', { type: 'Tmkdir', tag: 1, dfid: 1, name: 'newdir', mode: 0o40755, gid: 500 }],
  ['Rmsg.Mkdir(1,Qid(16r2c1bd1,0,16r80))', { type: 'Rmkdir', tag: 1, qid: { type: 0x80, vers: 0, path: 0x2c1bd1n } }],
  ['Tmsg.Renameat(1,1,"a",2,"é")', { type: 'Trenameat', tag: 1, olddirfid: 1, oldname: 'a', newdirfid: 2, newname: 'é' }],
  ['Rmsg.Renameat(1)', { type: 'Rrenameat', tag: 1 }],
  ['Tmsg.Unlinkat(1,1,"newdir",512)', { type: 'Tunlinkat', tag: 1, dirfid: 1, name: 'newdir', flags: 0x200 }],
  ['Rmsg.Unlinkat(1)', { type: 'Runlinkat', tag: 1 }],
];

const strip = (line: string): string => line.replace(/^(<-|->) /, '');

test('the hellofs session reads exactly as Inferno printed it', () => {
  for (const [line, m] of HELLOFS) assert.equal(messageText(m), strip(line));
});

test("PROTOCOLS.md's trace lines", () => {
  for (const [line, m] of PROTOCOLS) assert.equal(messageText(m), strip(line));
});

test('every message of every dialect has a trace line in the same style', () => {
  const lines = [...HELLOFS, ...PROTOCOLS, ...OTHERS];
  for (const [line, m] of OTHERS) assert.equal(messageText(m), line);
  const covered = new Set(lines.map(([, m]) => m.type));
  for (const d of DIALECTS) {
    for (const t of TABLES[d].byType.keys()) assert.ok(covered.has(t), `no trace line for ${t}`);
  }
  for (const [, m] of lines) assert.match(messageText(m), /^[TR]msg\.[A-Z][a-z]+\(\d+(,.*)?\)$/s);
});

test('qidText pads the type to two hex digits and prints the path in hex', () => {
  assert.equal(qidText({ type: 0, vers: 0, path: 0n }), 'Qid(16r0,0,16r00)');
  assert.equal(qidText({ type: 0x80, vers: 7, path: 0xabcdefn }), 'Qid(16rabcdef,7,16r80)');
});

// The seed texts live outside the repository (the project's shared notes); when they are present,
// check that no trace line of theirs is missing from the tables above.
const SOURCES = ['/work/shared/seeds/inferno-lets-make-a-filesystem.txt', '/work/shared/docs/PROTOCOLS.md'];
test('every Inferno trace line of the seed texts is covered', { skip: !SOURCES.every((p) => existsSync(p)) && 'seed texts not present' }, () => {
  const known = new Set([...HELLOFS, ...PROTOCOLS].map(([l]) => strip(l)));
  let seen = 0;
  for (const p of SOURCES) {
    for (const line of readFileSync(p, 'utf8').split('\n')) {
      const m = /^(?:<-|->) ([TR]msg\..*)$/.exec(line.trim());
      if (!m) continue;
      seen++;
      assert.ok(known.has(m[1]), `${p}: ${m[1]} is not checked`);
    }
  }
  assert.ok(seen >= HELLOFS.length, `found only ${seen} trace lines`);
});
