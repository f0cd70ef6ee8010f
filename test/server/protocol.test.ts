// The server at the protocol level: the codec over raw TCP sockets against NinepListener, no client
// library in between. The article's hellofs session, each dialect against the namespace, flush
// ordering, the protocol's error cases, bad input, fid accounting and the limits.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { devfs, hellofs, ramfs, slightlyfs } from '../../shared/fs/index.ts';
import { navigator as helloNavigator, servloop as helloLoop } from '../../shared/fs/hellofs.ts';
import {
  AT_REMOVEDIR, type Dialect, DMDIR, DMSYMLINK, Errno, L_O_RDONLY, L_O_RDWR, type Message, NOFID,
  NONUNAME, ORDWR, OREAD, QTDIR, QTSYMLINK, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, SETATTR_MODE, SETATTR_SIZE,
  type SetAttr, type Tmsg, encode, messageText, nullStat, unpackDirents, unpackStats,
} from '../../shared/ninep/index.ts';
import { Einterrupted, StyxError, Tree, styxFileServer } from '../../shared/styx/index.ts';
import { Namespace } from '../../server/namespace/namespace.ts';
import { type InProcess, startListener } from '../support/styxlab.ts';
import { Wire, expect } from '../support/wire.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls cond (bounded: tries x ms); fails the test with `what` if it never holds. */
async function until(cond: () => boolean, what: string, tries = 400, ms = 25): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await sleep(ms);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/**
 * A file whose reads wait until the test releases them (by offset). A flush aborts the wait of an
 * even offset at once (the read fails with "interrupted"); an odd offset ignores the flush and
 * answers only when released, as a device that cannot be interrupted would. A long timer bounds
 * every wait, so nothing hangs forever.
 */
class SlowDevice {
  readonly tree = new Tree();
  readonly waiting = new Map<bigint, (text: string) => void>();

  constructor() {
    this.tree.root.file('file', 0o444, { read: (offset, _count, _fid, req) => this.read(offset, req.signal) });
    this.tree.root.file('fast', 0o444, 'fast\n');
  }

  private read(offset: bigint, signal: AbortSignal): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const done = () => { clearTimeout(timer); this.waiting.delete(offset); };
      const timer = setTimeout(() => { done(); resolve(new Uint8Array(0)); }, 60_000);
      timer.unref();
      this.waiting.set(offset, (text) => { done(); resolve(enc.encode(text)); });
      signal.addEventListener('abort', () => {
        if (offset % 2n === 0n) { done(); reject(new StyxError(Einterrupted)); }
      }, { once: true });
    });
  }

  release(offset: bigint, text: string): void {
    const r = this.waiting.get(offset);
    assert.ok(r, `no read waiting at offset ${offset}`);
    r(text);
  }
}

/** The namespace `styxlab serve` builds, plus a mount "slow" with a SlowDevice. */
function buildNamespace(maxFids?: number): { ns: Namespace; slow: SlowDevice } {
  const ns = new Namespace(undefined, maxFids);
  ns.mount('hellofs', 'builtin', 'builtin', hellofs);
  ns.mount('slightlyfs', 'builtin', 'builtin', slightlyfs);
  ns.mount('ram', 'builtin', 'builtin', ramfs());
  ns.mount('dev', 'builtin', 'builtin', devfs());
  const slow = new SlowDevice();
  ns.mount('slow', 'test', 'test', slow.tree);
  return { ns, slow };
}

const attach = (fid: number, aname = '', uname = 'tester'): Omit<Extract<Tmsg, { type: 'Tattach' }>, 'tag'> => ({
  type: 'Tattach', fid, afid: NOFID, uname, aname, nUname: 1000,
});

describe("the article's hellofs session", () => {
  it('reproduces the trace of "Let\'s Make a Filesystem" line for line', async (t) => {
    const serverTrace: string[] = [];
    // hellofs as the article runs it: its own Navigator and message loop, the owner "pete" (the
    // article's /dev/user), iounit msize - 24. Served directly, so the qids are hellofs's own.
    const fs = styxFileServer(helloNavigator, 0n, helloLoop, { iounit: 'msize', user: 'pete' });
    const l = await startListener(fs, { trace: (e) => serverTrace.push(`${e.dir} ${e.text}`) });
    t.after(() => l.close());
    const w = await Wire.open(l.port, '9P2000', 8216);
    t.after(() => w.close());
    const clientTrace: string[] = [];
    const rpc = async (m: Tmsg): Promise<Message> => {
      clientTrace.push(`<- ${messageText(m)}`);
      const r = await w.rpc(m);
      clientTrace.push(`-> ${messageText(r)}`);
      return r;
    };
    const tag = 47;
    await rpc({ type: 'Tversion', tag: 0xffff, msize: 8216, version: '9P2000' });
    await rpc({ type: 'Tattach', tag, fid: 168, afid: NOFID, uname: 'pete', aname: '', nUname: NONUNAME });
    // lc /n/hellofs
    await rpc({ type: 'Tstat', tag, fid: 168 });
    await rpc({ type: 'Twalk', tag, fid: 168, newfid: 111, wnames: [] });
    await rpc({ type: 'Topen', tag, fid: 111, mode: OREAD });
    const dir = expect(await rpc({ type: 'Tread', tag, fid: 111, offset: 0n, count: 2048 }), 'Rread');
    await rpc({ type: 'Tread', tag, fid: 111, offset: BigInt(dir.data.length), count: 2048 });
    await rpc({ type: 'Tclunk', tag, fid: 111 });
    // cat /n/hellofs/hello
    await rpc({ type: 'Twalk', tag, fid: 168, newfid: 156, wnames: ['hello'] });
    await rpc({ type: 'Topen', tag, fid: 156, mode: OREAD });
    const hello = expect(await rpc({ type: 'Tread', tag, fid: 156, offset: 0n, count: 8192 }), 'Rread');
    await rpc({ type: 'Tread', tag, fid: 156, offset: BigInt(hello.data.length), count: 8192 });
    await rpc({ type: 'Tclunk', tag, fid: 156 });
    // unmount /n/hellofs
    await rpc({ type: 'Tclunk', tag, fid: 168 });

    const article = [
      '<- Tmsg.Version(65535,8216,"9P2000")',
      '-> Rmsg.Version(65535,8216,"9P2000")',
      '<- Tmsg.Attach(47,168,4294967295,"pete","")',
      '-> Rmsg.Attach(47,Qid(16r0,0,16r80))',
      '<- Tmsg.Stat(47,168)',
      '-> Rmsg.Stat(47,Dir(".","pete","pete",Qid(16r0,0,16r80),8r20000000555,0,0,0,16r0,0))',
      '<- Tmsg.Walk(47,168,111,nil)',
      '-> Rmsg.Walk(47,array[] of {})',
      '<- Tmsg.Open(47,111,0)',
      '-> Rmsg.Open(47,Qid(16r0,0,16r80),8192)',
      '<- Tmsg.Read(47,111,0,2048)',
      '-> Rmsg.Read(47,array[62] of byte)',
      '<- Tmsg.Read(47,111,62,2048)',
      '-> Rmsg.Read(47,array[0] of byte)',
      '<- Tmsg.Clunk(47,111)',
      '-> Rmsg.Clunk(47)',
      '<- Tmsg.Walk(47,168,156,array[] of {"hello"})',
      '-> Rmsg.Walk(47,array[] of {Qid(16r1,0,16r00)})',
      '<- Tmsg.Open(47,156,0)',
      '-> Rmsg.Open(47,Qid(16r1,0,16r00),8192)',
      '<- Tmsg.Read(47,156,0,8192)',
      '-> Rmsg.Read(47,array[14] of byte)',
      '<- Tmsg.Read(47,156,14,8192)',
      '-> Rmsg.Read(47,array[0] of byte)',
      '<- Tmsg.Clunk(47,156)',
      '-> Rmsg.Clunk(47)',
      '<- Tmsg.Clunk(47,168)',
      '-> Rmsg.Clunk(47)',
    ];
    assert.deepEqual(serverTrace, article);
    assert.deepEqual(clientTrace, article);
    // And the bytes behind the trace: one entry, hello, owned by pete; the greeting.
    const [entry, ...rest] = unpackStats(dir.data, '9P2000');
    assert.equal(rest.length, 0);
    assert.deepEqual([entry.name, entry.uid, entry.gid, entry.muid, entry.length, entry.mode], ['hello', 'pete', 'pete', '', 14n, 0o444]);
    assert.equal(dec.decode(hello.data), 'Hello, World!\n');
  });
});

describe('the namespace over the wire', () => {
  let l: InProcess;
  let ns: Namespace;
  let slow: SlowDevice;
  const logs: string[] = [];

  before(async () => {
    ({ ns, slow } = buildNamespace());
    l = await startListener(ns, { log: (line) => logs.push(line) });
  });
  after(async () => { await l?.close(); });

  /** After each test's connections are gone, nothing may be left behind. */
  const settled = async () => {
    await until(() => ns.connections === 0, 'connections to close');
    assert.equal(ns.fidCount, 0, 'fids left after every client left');
  };

  for (const dialect of ['9P2000', '9P2000.u'] as const) {
    it(`${dialect}: auth, attach, walk into ram, create/write/read/stat/wstat/remove, dir read`, async (t) => {
      const w = await Wire.versioned(l.port, dialect);
      t.after(() => w.close());
      const auth = expect(await w.call({ type: 'Tauth', afid: 9, uname: 'tester', aname: '', nUname: 1000 }), 'Rerror');
      assert.equal(auth.ename, 'authentication not required');
      if (dialect === '9P2000.u') assert.equal(auth.errno, Errno.ENOENT);
      assert.equal(expect(await w.call(attach(1)), 'Rattach').qid.type, QTDIR);
      const ram = expect(await w.call({ type: 'Twalk', fid: 1, newfid: 2, wnames: ['ram'] }), 'Rwalk');
      assert.equal(ram.qids.length, 1);
      const name = `f-${dialect}`;
      const cr = expect(await w.call({ type: 'Tcreate', fid: 2, name, perm: 0o644, mode: ORDWR, extension: '' }), 'Rcreate');
      assert.equal(cr.qid.type, 0);
      assert.equal(expect(await w.call({ type: 'Twrite', fid: 2, offset: 0n, data: enc.encode('hello ram') }), 'Rwrite').count, 9);
      assert.equal(dec.decode(expect(await w.call({ type: 'Tread', fid: 2, offset: 0n, count: 100 }), 'Rread').data), 'hello ram');
      assert.equal(dec.decode(expect(await w.call({ type: 'Tread', fid: 2, offset: 6n, count: 100 }), 'Rread').data), 'ram');
      const st = expect(await w.call({ type: 'Tstat', fid: 2 }), 'Rstat').stat;
      assert.deepEqual([st.name, st.length, st.mode, st.uid], [name, 9n, 0o644, 'tester']);
      assert.equal(st.qid.path, cr.qid.path);
      // wstat: rename; the old name is gone, the new one walks.
      const ws = nullStat();
      ws.name = `g-${dialect}`;
      expect(await w.call({ type: 'Twstat', fid: 2, stat: ws }), 'Rwstat');
      expect(await w.call({ type: 'Twalk', fid: 1, newfid: 3, wnames: ['ram', `g-${dialect}`] }), 'Rwalk');
      expect(await w.call({ type: 'Tclunk', fid: 3 }), 'Rclunk');
      const gone = expect(await w.call({ type: 'Twalk', fid: 1, newfid: 3, wnames: ['ram', name] }), 'Rwalk');
      assert.equal(gone.qids.length, 1, 'a partial walk stops at the missing name');
      if (dialect === '9P2000.u') {
        // .u symlinks: Tcreate with DMSYMLINK and the target in extension.
        expect(await w.call({ type: 'Twalk', fid: 1, newfid: 4, wnames: ['ram'] }), 'Rwalk');
        const sl = expect(await w.call({ type: 'Tcreate', fid: 4, name: 'link-u', perm: DMSYMLINK | 0o777, mode: OREAD, extension: 'target' }), 'Rcreate');
        assert.equal(sl.qid.type, QTSYMLINK);
        const lst = expect(await w.call({ type: 'Tstat', fid: 4 }), 'Rstat').stat;
        assert.equal(lst.extension, 'target');
        assert.ok(lst.mode & DMSYMLINK);
        expect(await w.call({ type: 'Tremove', fid: 4 }), 'Rremove');
      }
      // Directory read of ram: stats back to back, the new file among them.
      expect(await w.call({ type: 'Twalk', fid: 1, newfid: 5, wnames: ['ram'] }), 'Rwalk');
      expect(await w.call({ type: 'Topen', fid: 5, mode: OREAD }), 'Ropen');
      const dd = expect(await w.call({ type: 'Tread', fid: 5, offset: 0n, count: 8192 }), 'Rread');
      assert.ok(unpackStats(dd.data, dialect).some((s) => s.name === `g-${dialect}`));
      expect(await w.call({ type: 'Tclunk', fid: 5 }), 'Rclunk');
      // remove clunks the fid, whatever happens.
      expect(await w.call({ type: 'Tremove', fid: 2 }), 'Rremove');
      assert.equal(expect(await w.call({ type: 'Tstat', fid: 2 }), 'Rerror').ename, 'unknown fid');
      const miss = expect(await w.call({ type: 'Twalk', fid: 1, newfid: 3, wnames: ['ram', `g-${dialect}`] }), 'Rwalk');
      assert.equal(miss.qids.length, 1);
      // The root lists the mounts.
      expect(await w.call({ type: 'Twalk', fid: 1, newfid: 6, wnames: [] }), 'Rwalk');
      expect(await w.call({ type: 'Topen', fid: 6, mode: OREAD }), 'Ropen');
      const rd = expect(await w.call({ type: 'Tread', fid: 6, offset: 0n, count: 8192 }), 'Rread');
      assert.deepEqual(unpackStats(rd.data, dialect).map((s) => s.name), ['hellofs', 'slightlyfs', 'ram', 'dev', 'slow']);
      expect(await w.call({ type: 'Tclunk', fid: 6 }), 'Rclunk');
      expect(await w.call({ type: 'Tclunk', fid: 1 }), 'Rclunk');
      await until(() => ns.fidCount === 0, 'fids to be released while connected');
      w.close();
      await settled();
    });
  }

  it('9P2000.L: lcreate, mkdir, getattr, setattr, renameat, unlinkat, readdir cookies, statfs, fsync, symlink, xattrwalk', async (t) => {
    const w = await Wire.versioned(l.port, '9P2000.L');
    t.after(() => w.close());
    const ok = <K extends Message['type']>(m: Message, type: K) => expect(m, type);
    const lerr = (m: Message): number => ok(m, 'Rlerror').ecode;
    assert.equal(lerr(await w.call({ type: 'Tauth', afid: 9, uname: 'tester', aname: '', nUname: 1000 })), Errno.ENOENT);
    ok(await w.call(attach(1)), 'Rattach');
    ok(await w.call({ type: 'Twalk', fid: 1, newfid: 2, wnames: ['ram'] }), 'Rwalk');
    ok(await w.call({ type: 'Twalk', fid: 2, newfid: 4, wnames: [] }), 'Rwalk'); // fid 4: the ram dir, kept unopened
    // lcreate turns fid 2 into the open new file.
    const lc = ok(await w.call({ type: 'Tlcreate', fid: 2, name: 'a', flags: L_O_RDWR, mode: 0o640, gid: 0 }), 'Rlcreate');
    assert.equal(lc.qid.type, 0);
    assert.equal(ok(await w.call({ type: 'Twrite', fid: 2, offset: 0n, data: enc.encode('abcdef') }), 'Rwrite').count, 6);
    assert.equal(dec.decode(ok(await w.call({ type: 'Tread', fid: 2, offset: 0n, count: 64 }), 'Rread').data), 'abcdef');
    ok(await w.call({ type: 'Tfsync', fid: 2, datasync: 0 }), 'Rfsync');
    ok(await w.call({ type: 'Twalk', fid: 4, newfid: 3, wnames: ['a'] }), 'Rwalk');
    const ga = ok(await w.call({ type: 'Tgetattr', fid: 3, requestMask: 0x7ffn }), 'Rgetattr').attr;
    assert.equal(ga.mode, S_IFREG | 0o640);
    assert.equal(ga.size, 6n);
    assert.equal(ga.qid.path, lc.qid.path);
    const setattr = (a: Partial<SetAttr>): SetAttr => ({ valid: 0, mode: 0, uid: 0, gid: 0, size: 0n, atimeSec: 0n, atimeNsec: 0n, mtimeSec: 0n, mtimeNsec: 0n, ...a });
    ok(await w.call({ type: 'Tsetattr', fid: 3, attr: setattr({ valid: SETATTR_MODE, mode: 0o600 }) }), 'Rsetattr');
    ok(await w.call({ type: 'Tsetattr', fid: 3, attr: setattr({ valid: SETATTR_SIZE, size: 3n }) }), 'Rsetattr');
    const ga2 = ok(await w.call({ type: 'Tgetattr', fid: 3, requestMask: 0x7ffn }), 'Rgetattr').attr;
    assert.deepEqual([ga2.mode, ga2.size], [S_IFREG | 0o600, 3n]);
    assert.equal(dec.decode(ok(await w.call({ type: 'Tread', fid: 2, offset: 0n, count: 64 }), 'Rread').data), 'abc');
    ok(await w.call({ type: 'Tclunk', fid: 3 }), 'Rclunk');
    ok(await w.call({ type: 'Tclunk', fid: 2 }), 'Rclunk');
    // mkdir, symlink and readlink.
    const md = ok(await w.call({ type: 'Tmkdir', dfid: 4, name: 'd', mode: 0o755, gid: 0 }), 'Rmkdir');
    assert.equal(md.qid.type, QTDIR);
    const sl = ok(await w.call({ type: 'Tsymlink', fid: 4, name: 'ln', symtgt: 'b', gid: 0 }), 'Rsymlink');
    assert.equal(sl.qid.type, QTSYMLINK);
    ok(await w.call({ type: 'Twalk', fid: 4, newfid: 5, wnames: ['ln'] }), 'Rwalk');
    assert.equal(ok(await w.call({ type: 'Treadlink', fid: 5 }), 'Rreadlink').target, 'b');
    assert.equal(ok(await w.call({ type: 'Tgetattr', fid: 5, requestMask: 0x7ffn }), 'Rgetattr').attr.mode & S_IFMT, S_IFLNK);
    ok(await w.call({ type: 'Tclunk', fid: 5 }), 'Rclunk');
    ok(await w.call({ type: 'Twalk', fid: 4, newfid: 5, wnames: ['d'] }), 'Rwalk');
    assert.equal(ok(await w.call({ type: 'Tgetattr', fid: 5, requestMask: 0x7ffn }), 'Rgetattr').attr.mode, S_IFDIR | 0o755);
    ok(await w.call({ type: 'Tclunk', fid: 5 }), 'Rclunk');
    // renameat a -> b: the link now points at something.
    ok(await w.call({ type: 'Trenameat', olddirfid: 4, oldname: 'a', newdirfid: 4, newname: 'b' }), 'Rrenameat');
    assert.equal(lerr(await w.call({ type: 'Twalk', fid: 4, newfid: 5, wnames: ['a'] })), Errno.ENOENT);
    ok(await w.call({ type: 'Twalk', fid: 4, newfid: 5, wnames: ['b'] }), 'Rwalk');
    ok(await w.call({ type: 'Tclunk', fid: 5 }), 'Rclunk');
    // readdir with cookies: 30 more entries read in small pieces, each call resuming at the last
    // entry's offset; every name exactly once.
    const want = new Set(['b', 'd', 'ln']);
    for (let i = 0; i < 30; i++) {
      const name = `entry-with-a-longish-name-${i}`;
      want.add(name);
      ok(await w.call({ type: 'Twalk', fid: 4, newfid: 6, wnames: [] }), 'Rwalk');
      ok(await w.call({ type: 'Tlcreate', fid: 6, name, flags: L_O_RDWR, mode: 0o644, gid: 0 }), 'Rlcreate');
      ok(await w.call({ type: 'Tclunk', fid: 6 }), 'Rclunk');
    }
    ok(await w.call({ type: 'Twalk', fid: 4, newfid: 7, wnames: [] }), 'Rwalk');
    ok(await w.call({ type: 'Tlopen', fid: 7, flags: L_O_RDONLY }), 'Rlopen');
    const seen: string[] = [];
    let cookie = 0n;
    let calls = 0;
    for (; calls < 100; calls++) {
      const rd = ok(await w.call({ type: 'Treaddir', fid: 7, offset: cookie, count: 200 }), 'Rreaddir');
      const ents = unpackDirents(rd.data);
      if (ents.length === 0) break;
      assert.ok(rd.data.length <= 200);
      seen.push(...ents.map((e) => e.name));
      cookie = ents[ents.length - 1].offset;
    }
    assert.ok(calls > 3, `readdir took only ${calls} calls: the count did not limit it`);
    assert.deepEqual([...seen].sort(), [...want].sort());
    // A cookie from the middle resumes there.
    const again = unpackDirents(ok(await w.call({ type: 'Treaddir', fid: 7, offset: 2n, count: 8192 }), 'Rreaddir').data);
    assert.deepEqual(again.map((e) => e.name), seen.slice(2));
    ok(await w.call({ type: 'Tclunk', fid: 7 }), 'Rclunk');
    // statfs.
    const sf = ok(await w.call({ type: 'Tstatfs', fid: 4 }), 'Rstatfs').statfs;
    assert.equal(sf.fsType, 0x01021997);
    // unlinkat: a directory only with AT_REMOVEDIR, a file only without.
    assert.equal(lerr(await w.call({ type: 'Tunlinkat', dirfid: 4, name: 'd', flags: 0 })), Errno.EISDIR);
    assert.equal(lerr(await w.call({ type: 'Tunlinkat', dirfid: 4, name: 'b', flags: AT_REMOVEDIR })), Errno.ENOTDIR);
    ok(await w.call({ type: 'Tunlinkat', dirfid: 4, name: 'd', flags: AT_REMOVEDIR }), 'Runlinkat');
    for (const n of want) if (n !== 'd') ok(await w.call({ type: 'Tunlinkat', dirfid: 4, name: n, flags: 0 }), 'Runlinkat');
    assert.equal(lerr(await w.call({ type: 'Tunlinkat', dirfid: 4, name: 'b', flags: 0 })), Errno.ENOENT);
    // xattrs are not supported: Rlerror, and no fid is created.
    assert.equal(lerr(await w.call({ type: 'Txattrwalk', fid: 4, newfid: 8, name: 'user.x' })), Errno.EOPNOTSUPP);
    assert.equal(lerr(await w.call({ type: 'Tclunk', fid: 8 })), Errno.EBADF); // unknown fid
    ok(await w.call({ type: 'Tclunk', fid: 4 }), 'Rclunk');
    ok(await w.call({ type: 'Tclunk', fid: 1 }), 'Rclunk');
    // The adapter's internal fids (mkdir, symlink, renameat, unlinkat) are all released too.
    await until(() => ns.fidCount === 0, `fids to be released while connected (${ns.fidCount} left)`);
    w.close();
    await settled();
  });

  it('large Rreads and Rreaddirs (sent as head and data, uncopied) arrive whole and in order among small replies', async (t) => {
    const w = await Wire.versioned(l.port, '9P2000.L', 1 << 20);
    t.after(() => w.close());
    expect(await w.call({ type: 'Tattach', fid: 1, afid: NOFID, uname: 'tester', aname: 'ram', nUname: NONUNAME }), 'Rattach');
    expect(await w.call({ type: 'Tmkdir', dfid: 1, name: 'parts', mode: 0o755, gid: 0 }), 'Rmkdir');
    expect(await w.call({ type: 'Twalk', fid: 1, newfid: 2, wnames: ['parts'] }), 'Rwalk');
    expect(await w.call({ type: 'Twalk', fid: 2, newfid: 3, wnames: [] }), 'Rwalk');
    expect(await w.call({ type: 'Tlcreate', fid: 3, name: 'f', flags: L_O_RDWR, mode: 0o644, gid: 0 }), 'Rlcreate');
    const data = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
    assert.equal(expect(await w.call({ type: 'Twrite', fid: 3, offset: 0n, data }), 'Rwrite').count, data.length);
    for (let i = 0; i < 300; i++) {
      expect(await w.call({ type: 'Twalk', fid: 2, newfid: 4, wnames: [] }), 'Rwalk');
      expect(await w.call({ type: 'Tlcreate', fid: 4, name: `entry-${i}`, flags: L_O_RDWR, mode: 0o644, gid: 0 }), 'Rlcreate');
      expect(await w.call({ type: 'Tclunk', fid: 4 }), 'Rclunk');
    }
    expect(await w.call({ type: 'Twalk', fid: 2, newfid: 5, wnames: [] }), 'Rwalk');
    expect(await w.call({ type: 'Tlopen', fid: 5, flags: L_O_RDONLY }), 'Rlopen');
    // Sent together, so the replies leave in one write: inside one chunk (a view of the file),
    // across chunks, small (encoded whole), a listing, and past the end.
    const reads: Array<[number, number]> = [[1000, 60_000], [60_000, 100_000], [5, 10], [199_000, 5000]];
    const from = w.received.length;
    const tags = reads.map((_, i) => 10 + i);
    for (const [i, [offset, count]] of reads.entries()) w.send({ type: 'Tread', tag: tags[i], fid: 3, offset: BigInt(offset), count });
    w.send({ type: 'Treaddir', tag: 99, fid: 5, offset: 0n, count: 65536 });
    w.send({ type: 'Tgetattr', tag: 98, fid: 3, requestMask: 0x7ffn });
    const getattr = expect(await w.waitFor((m) => m.tag === 98, from), 'Rgetattr');
    assert.equal(getattr.attr.size, 200_000n);
    for (const [i, [offset, count]] of reads.entries()) {
      const r = expect(await w.waitFor((m) => m.tag === tags[i], from), 'Rread');
      const want = data.subarray(offset, Math.min(offset + count, data.length));
      assert.ok(Buffer.from(r.data).equals(want), `read of ${count} at ${offset}: ${r.data.length} bytes, not the ${want.length} written`);
    }
    const names = unpackDirents(expect(await w.waitFor((m) => m.tag === 99, from), 'Rreaddir').data).map((d) => d.name);
    assert.equal(names.filter((n) => n.startsWith('entry-')).length, 300);
    for (const fid of [5, 3, 2, 1]) expect(await w.call({ type: 'Tclunk', fid }), 'Rclunk');
    w.close();
    await settled();
  });

  it('Tflush: 64 reads in flight on a slow file, all flushed; each Rflush after its reply, if any', async (t) => {
    const w = await Wire.versioned(l.port, '9P2000');
    t.after(() => w.close());
    expect(await w.call(attach(1)), 'Rattach');
    expect(await w.call({ type: 'Twalk', fid: 1, newfid: 2, wnames: ['slow', 'file'] }), 'Rwalk');
    expect(await w.call({ type: 'Topen', fid: 2, mode: OREAD }), 'Ropen');
    const N = 64;
    // Tags 1..64 read at offsets 1..64: even offsets give up at the flush, odd ones do not.
    const start = w.received.length;
    for (let i = 1; i <= N; i++) w.send({ type: 'Tread', tag: i, fid: 2, offset: BigInt(i), count: 100 });
    await until(() => slow.waiting.size === N, '64 reads to reach the device');
    // A flush of a tag that is not in flight is answered at once, ahead of all 64 reads.
    expect(await w.rpc({ type: 'Tflush', tag: 900, oldtag: 901 }), 'Rflush');
    assert.equal(w.indexOf((m) => m.tag >= 1 && m.tag <= N, start), -1, 'a read was answered before it was released');
    for (let i = 1; i <= N; i++) w.send({ type: 'Tflush', tag: 100 + i, oldtag: i });
    for (let i = 1; i <= N; i++) await w.waitFor((m) => m.type === 'Rflush' && m.tag === 100 + i, start);
    // A round trip after the last Rflush: anything the server still had to say has arrived.
    expect(await w.call({ type: 'Tstat', fid: 2 }), 'Rstat');
    for (let i = 1; i <= N; i++) {
      const flushAt = w.indexOf((m) => m.type === 'Rflush' && m.tag === 100 + i, start);
      const replyAt = w.indexOf((m) => m.tag === i, start);
      if (i % 2 === 0) {
        // It stopped at the flush: its reply ("interrupted") came, and before the Rflush.
        assert.ok(replyAt >= 0 && replyAt < flushAt, `tag ${i}: reply at ${replyAt}, Rflush at ${flushAt}`);
        assert.equal(expect(w.received[replyAt], 'Rerror').ename, Einterrupted);
      } else {
        assert.equal(replyAt, -1, `tag ${i}: a reply to a request that was flushed without one`);
      }
    }
    // The odd reads are still running in the device. Reusing their tags at once is allowed; their
    // late answers must not be taken for the new requests' (which read at offsets 1001..1064).
    const reuse = w.received.length;
    for (let i = 1; i <= N; i++) w.send({ type: 'Tread', tag: i, fid: 2, offset: BigInt(1000 + i), count: 100 });
    // The server handles a connection's messages in order: once this is answered, all 64 new
    // reads have been handed on (or held back).
    expect(await w.call({ type: 'Tstat', fid: 2 }), 'Rstat');
    for (let i = 1; i <= N; i += 2) slow.release(BigInt(i), `stale ${i}`);
    await until(() => [...slow.waiting.keys()].filter((k) => k > 1000n).length === N, 'the new reads to reach the device');
    for (let i = 1; i <= N; i++) slow.release(BigInt(1000 + i), `fresh ${i}`);
    for (let i = 1; i <= N; i++) {
      const r = expect(await w.waitFor((m) => m.tag === i, reuse), 'Rread');
      assert.equal(dec.decode(r.data), `fresh ${i}`);
    }
    expect(await w.call({ type: 'Tclunk', fid: 2 }), 'Rclunk');
    const extra = w.received.slice(reuse).filter((m) => m.tag >= 1 && m.tag <= N);
    assert.equal(extra.length, N, `more than one reply per tag: ${extra.map(messageText).join('\n')}`);
    assert.equal(slow.waiting.size, 0);
    w.close();
    await settled();
  });

  it('errors: a tag in flight, a fid in use, a walk from an open fid, unknown fids', async (t) => {
    const w = await Wire.versioned(l.port, '9P2000');
    t.after(() => w.close());
    expect(await w.call(attach(1)), 'Rattach');
    // fid in use: attach, and walk to an existing newfid.
    assert.equal(expect(await w.call(attach(1)), 'Rerror').ename, 'fid already in use');
    expect(await w.call({ type: 'Twalk', fid: 1, newfid: 2, wnames: ['slow', 'file'] }), 'Rwalk');
    assert.equal(expect(await w.call({ type: 'Twalk', fid: 1, newfid: 2, wnames: ['hellofs'] }), 'Rerror').ename, 'fid already in use');
    // A tag in flight: the second request with it is refused; the first still gets its answer.
    expect(await w.call({ type: 'Topen', fid: 2, mode: OREAD }), 'Ropen');
    const from = w.send({ type: 'Tread', tag: 7, fid: 2, offset: 7n, count: 10 });
    await until(() => slow.waiting.has(7n), 'the read to reach the device');
    w.send({ type: 'Tstat', tag: 7, fid: 1 });
    const dup = expect(await w.waitFor((m) => m.tag === 7, from), 'Rerror');
    assert.equal(dup.ename, 'duplicate tag');
    slow.release(7n, 'seven');
    const at = w.indexOf((m) => m.tag === 7, from);
    const r = expect(await w.waitFor((m) => m.tag === 7, at + 1), 'Rread');
    assert.equal(dec.decode(r.data), 'seven');
    // Walks from an open fid: in 9P2000 an error, both at the root and inside a mount.
    assert.equal(expect(await w.call({ type: 'Twalk', fid: 2, newfid: 3, wnames: [] }), 'Rerror').ename, 'fid already open');
    expect(await w.call({ type: 'Twalk', fid: 1, newfid: 3, wnames: [] }), 'Rwalk');
    expect(await w.call({ type: 'Topen', fid: 3, mode: OREAD }), 'Ropen');
    assert.equal(expect(await w.call({ type: 'Twalk', fid: 3, newfid: 4, wnames: ['hellofs'] }), 'Rerror').ename, 'fid already open');
    assert.equal(expect(await w.call({ type: 'Topen', fid: 3, mode: OREAD }), 'Rerror').ename, 'fid already open');
    // Unknown fids.
    assert.equal(expect(await w.call({ type: 'Tstat', fid: 99 }), 'Rerror').ename, 'unknown fid');
    assert.equal(expect(await w.call({ type: 'Tclunk', fid: 99 }), 'Rerror').ename, 'unknown fid');
    for (const f of [1, 2, 3]) expect(await w.call({ type: 'Tclunk', fid: f }), 'Rclunk');
    w.close();
    await settled();
  });

  it('9P2000.L: an open fid may be cloned (not walked in place); the clone is not open', async (t) => {
    const w = await Wire.versioned(l.port, '9P2000.L');
    t.after(() => w.close());
    expect(await w.call(attach(1)), 'Rattach');
    expect(await w.call({ type: 'Twalk', fid: 1, newfid: 2, wnames: [] }), 'Rwalk');
    expect(await w.call({ type: 'Tlopen', fid: 2, flags: L_O_RDONLY }), 'Rlopen');
    // At the root, and inside a mount.
    expect(await w.call({ type: 'Twalk', fid: 2, newfid: 3, wnames: ['hellofs'] }), 'Rwalk');
    expect(await w.call({ type: 'Twalk', fid: 2, newfid: 4, wnames: [] }), 'Rwalk');
    expect(await w.call({ type: 'Tlopen', fid: 4, flags: L_O_RDONLY }), 'Rlopen');
    assert.equal(expect(await w.call({ type: 'Twalk', fid: 2, newfid: 2, wnames: ['hellofs'] }), 'Rlerror').ecode, Errno.EBUSY);
    expect(await w.call({ type: 'Tlopen', fid: 3, flags: L_O_RDONLY }), 'Rlopen');
    expect(await w.call({ type: 'Twalk', fid: 3, newfid: 5, wnames: ['hello'] }), 'Rwalk');
    expect(await w.call({ type: 'Tlopen', fid: 5, flags: L_O_RDONLY }), 'Rlopen');
    assert.equal(dec.decode(expect(await w.call({ type: 'Tread', fid: 5, offset: 0n, count: 100 }), 'Rread').data), 'Hello, World!\n');
    for (const f of [1, 2, 3, 4, 5]) expect(await w.call({ type: 'Tclunk', fid: f }), 'Rclunk');
    w.close();
    await settled();
  });

  it("unsupported message types get the dialect's error, never silence", async (t) => {
    const raw = (type: number, tag: number, body: number[] = []): Uint8Array => {
      const size = 7 + body.length;
      return Uint8Array.from([size & 0xff, size >> 8, 0, 0, type, tag & 0xff, tag >> 8, ...body]);
    };
    const cases: Array<{ dialect: Dialect; frames: Array<[string, (tag: number) => Uint8Array]> }> = [
      {
        dialect: '9P2000',
        frames: [
          ['Tlopen', (tag) => encode({ type: 'Tlopen', tag, fid: 1, flags: 0 }, '9P2000.L')],
          ['Treaddir', (tag) => encode({ type: 'Treaddir', tag, fid: 1, offset: 0n, count: 10 }, '9P2000.L')],
          ['type 150', (tag) => raw(150, tag, [0, 0, 0, 0])],
        ],
      },
      {
        dialect: '9P2000.u',
        frames: [
          ['Tgetattr', (tag) => encode({ type: 'Tgetattr', tag, fid: 1, requestMask: 0x7ffn }, '9P2000.L')],
          ['type 150', (tag) => raw(150, tag)],
        ],
      },
      {
        dialect: '9P2000.L',
        frames: [
          ['Topen', (tag) => encode({ type: 'Topen', tag, fid: 1, mode: 0 }, '9P2000')],
          ['Tstat', (tag) => encode({ type: 'Tstat', tag, fid: 1 }, '9P2000')],
          ['Twstat', (tag) => encode({ type: 'Twstat', tag, fid: 1, stat: nullStat() }, '9P2000')],
          ['Tlink', (tag) => encode({ type: 'Tlink', tag, dfid: 1, fid: 1, name: 'x' }, '9P2000.L')],
          ['Tmknod', (tag) => encode({ type: 'Tmknod', tag, dfid: 1, name: 'x', mode: 0o644, major: 0, minor: 0, gid: 0 }, '9P2000.L')],
          ['Txattrcreate', (tag) => encode({ type: 'Txattrcreate', tag, fid: 1, name: 'user.x', attrSize: 1n, flags: 0 }, '9P2000.L')],
          ['type 150', (tag) => raw(150, tag)],
        ],
      },
    ];
    for (const { dialect, frames } of cases) {
      const w = await Wire.versioned(l.port, dialect);
      t.after(() => w.close());
      expect(await w.call(attach(1)), 'Rattach');
      for (const [what, frame] of frames) {
        const tag = w.tag();
        const from = w.writeRaw(frame(tag));
        const r = await w.waitFor((m) => m.tag === tag, from);
        if (dialect === '9P2000.L') assert.equal(expect(r, 'Rlerror').ecode, Errno.EOPNOTSUPP, `${dialect} ${what}`);
        else {
          const e = expect(r, 'Rerror');
          assert.equal(e.ename, 'operation not supported', `${dialect} ${what}`);
          if (dialect === '9P2000.u') assert.equal(e.errno, Errno.EOPNOTSUPP);
        }
      }
      // The connection is still good.
      expect(await w.call({ type: 'Tclunk', fid: 1 }), 'Rclunk');
      w.close();
    }
    await settled();
  });

  it('bad input closes that connection with one log line; another connection keeps working', async (t) => {
    const good = await Wire.versioned(l.port, '9P2000.L');
    t.after(() => good.close());
    expect(await good.call(attach(1, 'hellofs')), 'Rattach');
    const versionFrame = encode({ type: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000' }, '9P2000');
    const cases: Array<[string, (s: import('node:net').Socket) => void, RegExp]> = [
      ['garbage', (s) => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), /bad message: .*exceeds msize/],
      ['a size field of 4 GiB', (s) => s.write(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 100, 0, 0])), /bad message: .*4294967295/],
      ['a size field below the header', (s) => s.write(Uint8Array.from([3, 0, 0, 0, 100, 0, 0])), /bad message: .*size 3/],
      ['a truncated message, then close', (s) => { s.write(versionFrame.subarray(0, 10)); s.end(); }, /bad message: .*10 bytes into a message/],
      ['a malformed body', (s) => {
        const f = Uint8Array.from(versionFrame);
        f[f.length - 8] = 200; // the version string's length runs past the end
        s.write(f);
      }, /bad message: /],
      ['an R-message from the client', (s) => s.write(encode({ type: 'Rversion', tag: 0xffff, msize: 8192, version: '9P2000' }, '9P2000')), /bad message: Rversion sent by a client/],
    ];
    for (const [what, misbehave, line] of cases) {
      const before = logs.length;
      const bad = l.listener.stats.badInput;
      const s = connect({ host: '127.0.0.1', port: l.port });
      const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
      s.on('error', () => {});
      s.once('connect', () => misbehave(s));
      const timer = setTimeout(() => s.destroy(), 15_000);
      await closed;
      clearTimeout(timer);
      await until(() => logs.length > before, `a log line for ${what}`);
      await sleep(50); // a second line would be written at once, with the first
      const added = logs.slice(before);
      assert.equal(added.length, 1, `${what}: ${JSON.stringify(added)}`);
      assert.match(added[0], line, what);
      assert.equal(l.listener.stats.badInput, bad + 1, what);
      // The good connection does not notice.
      assert.equal(expect(await good.call({ type: 'Tgetattr', fid: 1, requestMask: 0x7ffn }), 'Rgetattr').attr.mode & S_IFMT, S_IFDIR);
    }
    expect(await good.call({ type: 'Tclunk', fid: 1 }), 'Rclunk');
    good.close();
    await settled();
  });

  it('fids all return when clients leave, one of them abruptly with everything open', async () => {
    await settled();
    const polite = await Wire.versioned(l.port, '9P2000');
    const rude = await Wire.versioned(l.port, '9P2000.L');
    expect(await polite.call(attach(1)), 'Rattach');
    expect(await rude.call(attach(1)), 'Rattach');
    expect(await rude.call(attach(2, 'ram')), 'Rattach');
    // The rude one holds fids everywhere: in the root, in each mount, open files, a fresh file and
    // directory in ram, and a read in flight on the slow device.
    let fid = 10;
    for (const path of [[], ['hellofs', 'hello'], ['slightlyfs', 'fortune'], ['ram'], ['dev', 'zero'], ['slow', 'file'], ['ram', '..', 'dev']]) {
      expect(await rude.call({ type: 'Twalk', fid: 1, newfid: fid++, wnames: path }), 'Rwalk');
    }
    expect(await rude.call({ type: 'Tlopen', fid: 11, flags: L_O_RDONLY }), 'Rlopen');
    expect(await rude.call({ type: 'Tlcreate', fid: 13, name: 'rude', flags: L_O_RDWR, mode: 0o644, gid: 0 }), 'Rlcreate');
    expect(await rude.call({ type: 'Tmkdir', dfid: 2, name: 'rude-dir', mode: 0o755, gid: 0 }), 'Rmkdir');
    expect(await rude.call({ type: 'Tlopen', fid: 15, flags: L_O_RDONLY }), 'Rlopen');
    rude.send({ type: 'Tread', tag: 4000, fid: 15, offset: 4001n, count: 10 });
    await until(() => slow.waiting.has(4001n), 'the read to reach the device');
    assert.ok(ns.fidCount > 10, `fidCount ${ns.fidCount}`);
    assert.equal(ns.connections, 2);
    rude.close();
    await until(() => ns.connections === 1, 'the rude connection to go');
    // Only the polite client's attach fid remains.
    assert.equal(ns.fidCount, 1);
    slow.release(4001n, 'nobody is listening');
    expect(await polite.call({ type: 'Tclunk', fid: 1 }), 'Rclunk');
    await until(() => ns.fidCount === 0, 'the last clunk');
    polite.close();
    await settled();
    // Tidy ram for later tests.
    const w = await Wire.versioned(l.port, '9P2000.L');
    expect(await w.call(attach(1, 'ram')), 'Rattach');
    expect(await w.call({ type: 'Tunlinkat', dirfid: 1, name: 'rude', flags: 0 }), 'Runlinkat');
    expect(await w.call({ type: 'Tunlinkat', dirfid: 1, name: 'rude-dir', flags: AT_REMOVEDIR }), 'Runlinkat');
    w.close();
    await settled();
  });
});

describe('limits', () => {
  it('connections beyond maxConnections are refused; the others keep working', async (t) => {
    const { ns } = buildNamespace();
    const logs: string[] = [];
    const l = await startListener(ns, { maxConnections: 2, log: (line) => logs.push(line) });
    t.after(() => l.close());
    const a = await Wire.versioned(l.port, '9P2000');
    const b = await Wire.versioned(l.port, '9P2000');
    t.after(() => { a.close(); b.close(); });
    const c = await Wire.open(l.port, '9P2000');
    t.after(() => c.close());
    await c.closed; // refused: closed without a word
    assert.equal(c.received.length, 0);
    assert.equal(l.listener.stats.refused, 1);
    assert.ok(logs.some((x) => /refused a connection/.test(x)), logs.join('\n'));
    expect(await a.call(attach(1, 'hellofs')), 'Rattach');
    expect(await b.call(attach(1, 'hellofs')), 'Rattach');
    // Once one leaves, a new one is let in.
    a.close();
    await until(() => l.listener.connections === 1, 'a connection to close');
    const d = await Wire.versioned(l.port, '9P2000');
    t.after(() => d.close());
    expect(await d.call(attach(1, 'hellofs')), 'Rattach');
  });

  it('fids per connection beyond the limit are an error, and the connection goes on', async (t) => {
    const { ns } = buildNamespace(8);
    const l = await startListener(ns);
    t.after(() => l.close());
    for (const dialect of ['9P2000', '9P2000.L'] as const) {
      const w = await Wire.versioned(l.port, dialect);
      t.after(() => w.close());
      expect(await w.call(attach(0)), 'Rattach');
      for (let f = 1; f < 8; f++) expect(await w.call({ type: 'Twalk', fid: 0, newfid: f, wnames: f % 2 ? ['ram'] : [] }), 'Rwalk');
      const over = await w.call({ type: 'Twalk', fid: 0, newfid: 8, wnames: ['hellofs'] });
      const overAttach = await w.call(attach(9, 'hellofs'));
      if (dialect === '9P2000.L') {
        assert.equal(expect(over, 'Rlerror').ecode, expect(overAttach, 'Rlerror').ecode);
      } else {
        assert.equal(expect(over, 'Rerror').ename, 'too many fids');
        assert.equal(expect(overAttach, 'Rerror').ename, 'too many fids');
      }
      // Clunking one makes room again.
      expect(await w.call({ type: 'Tclunk', fid: 7 }), 'Rclunk');
      expect(await w.call({ type: 'Twalk', fid: 0, newfid: 8, wnames: ['hellofs'] }), 'Rwalk');
      w.close();
    }
    await until(() => ns.connections === 0, 'connections to close');
    assert.equal(ns.fidCount, 0);
  });
});
