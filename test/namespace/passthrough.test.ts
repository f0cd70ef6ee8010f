// A .L client of a styxlab mount of a .L server (diod): .L requests pass through untranslated, so
// a mkdir costs diod one message, not a clone, a create, a walk, an open and two clunks, and
// getattr keeps the nanoseconds that 9P2000's stat has no room for.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, type TBody } from '../../shared/client/index.ts';
import { Errno, type Message, NOFID, NONUNAME } from '../../shared/ninep/index.ts';
import { Namespace } from '../../server/namespace/namespace.ts';
import { RemoteFileServer } from '../../server/namespace/remote-fs.ts';
import { dial } from '../../server/net/transport.ts';
import { type Diod, startDiod } from '../support/diod.ts';
import { runInLinux } from '../support/linuxvm.ts';
import { RawConn, as } from '../support/rawconn.ts';
import { type InProcess, startListener } from '../support/styxlab.ts';

describe('a .L client through a mount of diod', () => {
  let diod: Diod;
  let remote: Client;
  let srv: InProcess;
  let c: RawConn;
  /** Requests styxlab sent diod. */
  const sent: string[] = [];
  const rpc = (m: TBody) => c.request({ ...m, tag: c.tag() } as Message);

  before(async () => {
    diod = await startDiod();
    chmodSync(diod.exportDir, 0o777);
    writeFileSync(join(diod.exportDir, 'f'), 'x');
    // A time with nanoseconds that 9P2000's whole seconds would round away.
    utimesSync(join(diod.exportDir, 'f'), 1_700_000_000.123456, 1_700_000_000.123456);
    remote = await Client.connect(await dial(diod.address), {
      version: '9P2000.L', aname: diod.exportDir, uname: 'nobody',
      trace: (_dir, _text, m) => { if (m.type[0] === 'T') sent.push(m.type); },
    });
    const ns = new Namespace();
    ns.mount('d', 'remote', diod.address, new RemoteFileServer(remote));
    srv = await startListener(ns);
    c = await RawConn.open(srv.port, '127.0.0.1', '9P2000.L', 65536);
    as(await c.request({ type: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000.L' }), 'Rversion');
    as(await rpc({ type: 'Tattach', fid: 0, afid: NOFID, uname: 'nobody', aname: '', nUname: NONUNAME }), 'Rattach');
    as(await rpc({ type: 'Twalk', fid: 0, newfid: 1, wnames: ['d'] }), 'Rwalk');
  });

  after(async () => {
    c?.close();
    await srv?.close();
    remote?.close();
    await diod?.stop();
  });

  it('sends diod one Tmkdir for a Tmkdir', async () => {
    sent.length = 0;
    as(await rpc({ type: 'Tmkdir', dfid: 1, name: 'newdir', mode: 0o755, gid: NONUNAME }), 'Rmkdir');
    assert.deepEqual(sent, ['Tmkdir']);
    assert.ok(statSync(join(diod.exportDir, 'newdir')).isDirectory());
  });

  it('keeps the nanoseconds of a getattr', async () => {
    as(await rpc({ type: 'Twalk', fid: 1, newfid: 2, wnames: ['f'] }), 'Rwalk');
    sent.length = 0;
    const r = as(await rpc({ type: 'Tgetattr', fid: 2, requestMask: 0x7ffn }), 'Rgetattr');
    assert.deepEqual(sent, ['Tgetattr']);
    const ns = statSync(join(diod.exportDir, 'f'), { bigint: true }).mtimeNs;
    assert.equal(r.attr.mtimeSec * 1_000_000_000n + r.attr.mtimeNsec, ns);
    assert.notEqual(r.attr.mtimeNsec, 0n);
    as(await rpc({ type: 'Tclunk', fid: 2 }), 'Rclunk');
  });

  it('a rename moves the stored paths of the fids at and under it, in every connection', async () => {
    mkdirSync(join(diod.exportDir, 'ren'));
    writeFileSync(join(diod.exportDir, 'ren', 'x'), 'x');
    const other = await RawConn.open(srv.port, '127.0.0.1', '9P2000.L', 65536);
    try {
      const orpc = (m: TBody) => other.request({ ...m, tag: other.tag() } as Message);
      as(await other.request({ type: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000.L' }), 'Rversion');
      as(await orpc({ type: 'Tattach', fid: 0, afid: NOFID, uname: 'nobody', aname: '', nUname: NONUNAME }), 'Rattach');
      as(await orpc({ type: 'Twalk', fid: 0, newfid: 1, wnames: ['d', 'ren', 'x'] }), 'Rwalk');
      as(await rpc({ type: 'Twalk', fid: 1, newfid: 10, wnames: ['ren'] }), 'Rwalk');
      as(await rpc({ type: 'Twalk', fid: 1, newfid: 11, wnames: ['ren', 'x'] }), 'Rwalk');
      // As Linux does: Trenameat, and Trename where the server refuses it (diod does).
      const r = await rpc({ type: 'Trenameat', olddirfid: 1, oldname: 'ren', newdirfid: 1, newname: 'moved' });
      if (r.type === 'Rlerror' && r.ecode === Errno.EOPNOTSUPP) as(await rpc({ type: 'Trename', fid: 10, dfid: 1, name: 'moved' }), 'Rrename');
      else as(r, 'Rrenameat');
      // A new directory at the old name: a fid still holding the old path would reach it.
      mkdirSync(join(diod.exportDir, 'ren'));
      const moved = as(await rpc({ type: 'Twalk', fid: 1, newfid: 12, wnames: ['moved'] }), 'Rwalk').qids[0];
      // '..' is walked again from the root by the stored names (a file cannot walk '..').
      const up = as(await rpc({ type: 'Twalk', fid: 11, newfid: 13, wnames: ['..'] }), 'Rwalk').qids[0];
      assert.equal(up.path, moved.path);
      const otherUp = as(await orpc({ type: 'Twalk', fid: 1, newfid: 2, wnames: ['..'] }), 'Rwalk').qids[0];
      assert.equal(otherUp.path, moved.path);
      for (const fid of [10, 11, 12, 13]) as(await rpc({ type: 'Tclunk', fid }), 'Rclunk');
    } finally {
      other.close();
    }
  });

  it("passes diod's errno back", async () => {
    const r = as(await rpc({ type: 'Tmkdir', dfid: 1, name: 'f', mode: 0o755, gid: NONUNAME }), 'Rlerror');
    assert.equal(r.ecode, Errno.EEXIST);
  });
});

describe('Linux v9fs (9p2000.L) through a mount of diod', () => {
  let diod: Diod;
  let remote: Client;
  let srv: InProcess;

  before(async () => {
    diod = await startDiod();
    chmodSync(diod.exportDir, 0o777);
    remote = await Client.connect(await dial(diod.address), { version: '9P2000.L', aname: diod.exportDir, uname: 'nobody' });
    const ns = new Namespace();
    ns.mount('d', 'remote', diod.address, new RemoteFileServer(remote));
    srv = await startListener(ns);
  });

  after(async () => {
    await srv?.close();
    remote?.close();
    await diod?.stop();
  });

  it('makes, writes, renames, chmods and removes files, its .L requests passed through', async () => {
    const r = await runInLinux({
      ports: [srv.port],
      timeoutMs: 180_000,
      script: [
        'set -e',
        'mount9p /a version=9p2000.L aname= msize=65560',
        'mkdir /a/d/dir',
        'echo hello > /a/d/dir/f',
        'mv /a/d/dir/f /a/d/dir/g',
        'chmod 640 /a/d/dir/g',
        'echo "cat: $(cat /a/d/dir/g)"',
        'echo "mode: $(stat -c %a /a/d/dir/g)"',
        'echo "mtime: $(stat -c %y /a/d/dir/g)"',
        'mkdir /a/d/gone && rmdir /a/d/gone',
        'umount /a',
        'echo done',
      ].join('\n'),
    });
    assert.equal(r.code, 0, r.output + r.console.slice(-2000));
    assert.match(r.output, /^cat: hello$/m);
    assert.match(r.output, /^mode: 640$/m);
    // Nanoseconds reach the guest: diod's own (its file system's) times, not whole seconds.
    assert.doesNotMatch(r.output, /^mtime: \S+ \d+:\d+:\d+\.0{9} /m);
    assert.equal(readFileSync(join(diod.exportDir, 'dir', 'g'), 'utf8'), 'hello\n');
    assert.equal(statSync(join(diod.exportDir, 'dir', 'g')).mode & 0o777, 0o640);
    assert.ok(!existsSync(join(diod.exportDir, 'gone')));
    assert.match(r.output, /^done$/m);
  });
});
