// A .L client of a styxlab mount of a .L server (diod): .L requests pass through untranslated, so
// a mkdir costs diod one message, not a clone, a create, a walk, an open and two clunks, and
// getattr keeps the nanoseconds that 9P2000's stat has no room for.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, type TBody } from '../../shared/client/index.ts';
import { Errno, type Message, NOFID, NONUNAME } from '../../shared/ninep/index.ts';
import { ramfs } from '../../shared/fs/index.ts';
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
    // diod 1.0.24 refuses Trenameat (EOPNOTSUPP): Trename does it.
    assert.equal(await renameMovesPaths(srv.port), 'Rrename');
  });

  it("passes diod's errno back", async () => {
    const r = as(await rpc({ type: 'Tmkdir', dfid: 1, name: 'f', mode: 0o755, gid: NONUNAME }), 'Rlerror');
    assert.equal(r.ecode, Errno.EEXIST);
  });
});

/** A .L connection to port, attached to the namespace, fid 1 at /d. */
async function attachD(port: number): Promise<{ c: RawConn; rpc: (m: TBody) => Promise<Message> }> {
  const c = await RawConn.open(port, '127.0.0.1', '9P2000.L', 65536);
  const rpc = (m: TBody) => c.request({ ...m, tag: c.tag() } as Message);
  as(await c.request({ type: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000.L' }), 'Rversion');
  as(await rpc({ type: 'Tattach', fid: 0, afid: NOFID, uname: 'nobody', aname: '', nUname: NONUNAME }), 'Rattach');
  as(await rpc({ type: 'Twalk', fid: 0, newfid: 1, wnames: ['d'] }), 'Rwalk');
  return { c, rpc };
}

/**
 * Renames /d/ren to /d/moved as Linux does (Trenameat; Trename where the remote refuses it) while
 * fids of two connections stand at and under it, makes a new /d/ren, and checks that '..' from
 * below the old name reaches the moved directory: '..' is walked again from the root by the
 * stored names (a file cannot walk '..'). Returns the reply that renamed.
 */
async function renameMovesPaths(port: number): Promise<'Rrenameat' | 'Rrename'> {
  const a = await attachD(port);
  const b = await attachD(port);
  try {
    const mkdir = async (dfid: number, name: string) => as(await a.rpc({ type: 'Tmkdir', dfid, name, mode: 0o755, gid: NONUNAME }), 'Rmkdir');
    await mkdir(1, 'ren');
    as(await a.rpc({ type: 'Twalk', fid: 1, newfid: 10, wnames: ['ren'] }), 'Rwalk');
    await mkdir(10, 'x');
    as(await a.rpc({ type: 'Twalk', fid: 1, newfid: 11, wnames: ['ren', 'x'] }), 'Rwalk');
    as(await b.rpc({ type: 'Twalk', fid: 1, newfid: 2, wnames: ['ren', 'x'] }), 'Rwalk');
    let r = await a.rpc({ type: 'Trenameat', olddirfid: 1, oldname: 'ren', newdirfid: 1, newname: 'moved' });
    if (r.type === 'Rlerror' && r.ecode === Errno.EOPNOTSUPP) r = await a.rpc({ type: 'Trename', fid: 10, dfid: 1, name: 'moved' });
    if (r.type !== 'Rrenameat') as(r, 'Rrename');
    await mkdir(1, 'ren'); // a fid still holding the old names would reach this one
    const moved = as(await a.rpc({ type: 'Twalk', fid: 1, newfid: 12, wnames: ['moved'] }), 'Rwalk').qids[0];
    const up = as(await a.rpc({ type: 'Twalk', fid: 11, newfid: 13, wnames: ['..'] }), 'Rwalk').qids[0];
    assert.equal(up.path, moved.path);
    const otherUp = as(await b.rpc({ type: 'Twalk', fid: 2, newfid: 3, wnames: ['..'] }), 'Rwalk').qids[0];
    assert.equal(otherUp.path, moved.path);
    return r.type as 'Rrenameat' | 'Rrename';
  } finally {
    a.c.close();
    b.c.close();
  }
}

describe('a .L client through a mount of a .L styxlab server', () => {
  let inner: InProcess;
  let remote: Client;
  let srv: InProcess;

  before(async () => {
    // styxlab's own /ram as the remote: it answers Trenameat, which diod refuses.
    inner = await startListener(ramfs());
    remote = await Client.connect(await dial(inner.address), { version: '9P2000.L', aname: '', uname: 'nobody' });
    const ns = new Namespace();
    ns.mount('d', 'remote', inner.address, new RemoteFileServer(remote));
    srv = await startListener(ns);
  });

  after(async () => {
    await srv?.close();
    remote?.close();
    await inner?.close();
  });

  it('a passed-through Trenameat moves the stored paths of the fids at and under it, in every connection', async () => {
    assert.equal(await renameMovesPaths(srv.port), 'Rrenameat');
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
