// Styxserver's per-operation API (Inferno's styxservers): the can* checks validate a request and
// answer nothing; open, read, walk, clunk and remove answer and hand back the fid; `default` is
// made of them. Driven in process against a ram tree and the article's hellofs (no sockets).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hellofs, ramfs } from '../../shared/fs/index.ts';
import {
  DMDIR, Errno, type MessageOf, OREAD, ORDWR, OTRUNC, OWRITE, type Rmsg, type Tmsg,
} from '../../shared/ninep/index.ts';
import {
  CANCELLED, Eexist, Einuse, Eisdir, Enotdir, Enotopen, Eopen, Eperm, Ebadfid, type Fid, type Request, StyxError,
  Styxserver, type Tree,
} from '../../shared/styx/index.ts';
import { navigator as helloNavigator } from '../../shared/fs/hellofs.ts';

type Req = Tmsg extends infer T ? T extends Tmsg ? Omit<T, 'tag'> : never : never;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A Styxserver and a tag counter: `call` goes through its request path, can* are called directly. */
class Conn {
  private tag = 1;
  constructor(readonly srv: Styxserver) {
    srv.version('9P2000', 8192);
  }

  call(t: Req): Promise<Rmsg> {
    return this.srv.call({ ...t, tag: this.tag++ } as Tmsg, CANCELLED);
  }

  /** A message for a can* check: never sent, so no reply may come for it. */
  msg<K extends Tmsg['type']>(t: Omit<MessageOf<K>, 'tag'> & { type: K }): MessageOf<K> {
    return { ...t, tag: this.tag++ } as unknown as MessageOf<K>;
  }

  async ok<K extends Rmsg['type']>(t: Req, type: K): Promise<Extract<Rmsg, { type: K }>> {
    const r = await this.call(t);
    assert.equal(r.type, type, r.type === 'Rerror' ? r.ename : r.type);
    return r as Extract<Rmsg, { type: K }>;
  }

  async err(t: Req): Promise<MessageOf<'Rerror'>> {
    const r = await this.call(t);
    assert.equal(r.type, 'Rerror', `expected an error, got ${r.type}`);
    return r as MessageOf<'Rerror'>;
  }

  attach(fid = 0, uname = 'styx'): Promise<unknown> {
    return this.ok({ type: 'Tattach', fid, afid: 0xffffffff, uname, aname: '', nUname: 0xffffffff }, 'Rattach');
  }

  walk(fid: number, newfid: number, ...wnames: string[]): Promise<unknown> {
    return this.ok({ type: 'Twalk', fid, newfid, wnames }, 'Rwalk');
  }
}

/** A ram tree owned by "styx": /ro (0444, "read only"), /rw (0666, "read write"), /d (0755) holding /d/f. */
function tree(): Tree {
  const t = ramfs({ user: 'styx' });
  t.root.file('ro', 0o444, 'read only');
  t.root.file('rw', 0o666, 'read write');
  t.root.mkdir('d', 0o755).file('f', 0o644, 'f');
  return t;
}

const isError = (v: unknown, message: string): boolean => v instanceof StyxError && v.message === message;

describe('can*: validate without answering', () => {
  it('canopen: unknown fid, open fid, directory for writing, no permission; else the fid and its file, still unopened', async () => {
    const c = new Conn(tree().connect());
    await c.attach();
    await c.walk(0, 1, 'ro');
    assert.ok(isError(await c.srv.canopen(c.msg({ type: 'Topen', fid: 9, mode: OREAD })), Ebadfid));
    assert.ok(isError(await c.srv.canopen(c.msg({ type: 'Topen', fid: 1, mode: OWRITE })), Eperm));
    assert.ok(isError(await c.srv.canopen(c.msg({ type: 'Topen', fid: 1, mode: OREAD | OTRUNC })), Eperm));
    assert.ok(isError(await c.srv.canopen(c.msg({ type: 'Topen', fid: 0, mode: ORDWR })), Eisdir));
    const o = await c.srv.canopen(c.msg({ type: 'Topen', fid: 1, mode: OREAD }));
    assert.ok(!(o instanceof StyxError));
    assert.equal(o.fid.fid, 1);
    assert.equal(o.dir.name, 'ro');
    assert.equal(o.fid.isOpen, false, 'canopen opened the fid');
    await c.ok({ type: 'Topen', fid: 1, mode: OREAD }, 'Ropen');
    assert.ok(isError(await c.srv.canopen(c.msg({ type: 'Topen', fid: 1, mode: OREAD })), Eopen));
  });

  it('canread and canwrite follow the open mode', async () => {
    const c = new Conn(tree().connect());
    await c.attach();
    await c.walk(0, 1, 'rw');
    const read = () => c.srv.canread(c.msg({ type: 'Tread', fid: 1, offset: 0n, count: 10 }));
    const write = () => c.srv.canwrite(c.msg({ type: 'Twrite', fid: 1, offset: 0n, data: enc.encode('x') }));
    assert.ok(isError(read(), Enotopen));
    assert.ok(isError(write(), Enotopen));
    assert.ok(isError(c.srv.canread(c.msg({ type: 'Tread', fid: 7, offset: 0n, count: 1 })), Ebadfid));
    await c.ok({ type: 'Topen', fid: 1, mode: OWRITE }, 'Ropen');
    assert.ok(isError(read(), Enotopen));
    assert.equal((write() as Fid).fid, 1);
    await c.walk(0, 2, 'rw');
    await c.ok({ type: 'Topen', fid: 2, mode: ORDWR }, 'Ropen');
    assert.equal((c.srv.canread(c.msg({ type: 'Tread', fid: 2, offset: 0n, count: 1 })) as Fid).fid, 2);
  });

  it('cancreate: not a directory, a name taken or bad, no permission; else the perm limited by the directory', async () => {
    const t = tree();
    const c = new Conn(t.connect());
    await c.attach(0, 'someone');
    await c.walk(0, 1, 'ro');
    await c.walk(0, 2, 'd');
    const create = (fid: number, name: string, perm = 0o777) =>
      c.srv.cancreate(c.msg({ type: 'Tcreate', fid, name, perm, mode: OWRITE, extension: '' }));
    assert.ok(isError(await create(1, 'x'), Enotdir));
    assert.ok(isError(await create(0, 'rw'), Eexist));
    const bad = await create(0, '..');
    assert.ok(bad instanceof StyxError && bad.errno === Errno.EINVAL, String(bad));
    // d is 0755 and owned by styx: someone else may not write it.
    assert.ok(isError(await create(2, 'x'), Eperm));
    const ok = await create(0, 'new', 0o777);
    assert.ok(!(ok instanceof StyxError));
    assert.equal(ok.perm, 0o666, 'a file gets at most the directory\'s rw bits');
    const dir = await create(0, 'newdir', DMDIR | 0o777);
    assert.ok(!(dir instanceof StyxError));
    assert.equal(dir.perm, (DMDIR | 0o777) >>> 0);
    assert.equal(t.root.children.has('new'), false, 'cancreate created');
  });

  it('canremove: the root, no permission on the directory; else the fid and its directory, still held', async () => {
    const c = new Conn(tree().connect());
    await c.attach(0, 'someone');
    await c.walk(0, 1, 'd', 'f');
    await c.walk(0, 2, 'rw');
    const remove = (fid: number) => c.srv.canremove(c.msg({ type: 'Tremove', fid }));
    assert.ok(isError(await remove(0), Eperm));
    assert.ok(isError(await remove(1), Eperm), 'removed from a directory only its owner may write');
    const ok = await remove(2);
    assert.ok(!(ok instanceof StyxError));
    assert.equal(ok.parent.name, '/');
    assert.ok(c.srv.getfid(2), 'canremove clunked the fid');
  });
});

describe('the operations answer and hand back the fid', () => {
  it('a loop built on read and clunk: reads of its file, the directory from the Navigator, the fid back at clunk', async () => {
    const clunked: unknown[] = [];
    const srv = new Styxserver(helloNavigator, 0n);
    srv.run(async (tmsgs: AsyncIterable<Request>, s: Styxserver) => {
      for await (const m of tmsgs) {
        switch (m.type) {
          case 'Topen': {
            const f = await s.open(m);
            if (f) f.data = `opened ${f.fid}`;
            break;
          }
          case 'Tread': {
            const f = s.read(m);
            if (f) s.reply({ type: 'Rread', tag: m.tag, data: enc.encode(String(f.data)) });
            break;
          }
          case 'Tclunk':
            clunked.push(s.clunk(m)?.data);
            break;
          default:
            s.default(m);
        }
      }
    });
    const c = new Conn(srv);
    await c.attach();
    await c.walk(0, 1, 'hello');
    await c.ok({ type: 'Topen', fid: 1, mode: OREAD }, 'Ropen');
    assert.equal(dec.decode((await c.ok({ type: 'Tread', fid: 1, offset: 0n, count: 100 }, 'Rread')).data), 'opened 1');
    // A read of an unopened fid and of the directory never reach the loop's own answer.
    await c.walk(0, 2);
    assert.equal((await c.err({ type: 'Tread', fid: 2, offset: 0n, count: 100 })).ename, Enotopen);
    await c.ok({ type: 'Topen', fid: 2, mode: OREAD }, 'Ropen');
    assert.ok((await c.ok({ type: 'Tread', fid: 2, offset: 0n, count: 8192 }, 'Rread')).data.length > 0);
    await c.ok({ type: 'Tclunk', fid: 1 }, 'Rclunk');
    await c.ok({ type: 'Tclunk', fid: 2 }, 'Rclunk');
    assert.equal((await c.err({ type: 'Tclunk', fid: 1 })).ename, Ebadfid);
    assert.deepEqual(clunked, ['opened 1', 'opened 2', undefined]);
    srv.close();
  });

  it('walk returns the new fid on a whole walk, null on one cut short; open and remove likewise', async () => {
    const srv = hellofs.connect() as Styxserver;
    const c = new Conn(srv);
    await c.attach();
    const whole = await srv.walk({ type: 'Twalk', tag: 100, fid: 0, newfid: 5, wnames: ['hello'] });
    assert.equal(whole?.fid, 5);
    assert.equal(whole?.path, 1n);
    assert.equal(await srv.walk({ type: 'Twalk', tag: 101, fid: 0, newfid: 6, wnames: ['hello', 'x'] }), null);
    assert.equal(srv.getfid(6), undefined, 'a walk cut short made its fid');
    assert.equal(await srv.walk({ type: 'Twalk', tag: 102, fid: 0, newfid: 5, wnames: [] }), null, 'newfid in use');
    assert.equal((await srv.open({ type: 'Topen', tag: 103, fid: 5, mode: OREAD }))?.isOpen, true);
    assert.equal(await srv.open({ type: 'Topen', tag: 104, fid: 5, mode: OREAD }), null);
    // The default file system removes nothing, but the fid is gone (remove(5)) and comes back.
    assert.equal(srv.remove({ type: 'Tremove', tag: 105, fid: 5 })?.fid, 5);
    assert.equal(srv.getfid(5), undefined);
    srv.close();
  });

  it('default answers with the errno of the check that refused', async () => {
    const c = new Conn(tree().connect());
    await c.attach();
    const r = await c.err({ type: 'Tcreate', fid: 0, name: 'a/b', perm: 0o644, mode: OWRITE, extension: '' });
    assert.equal(r.errno, Errno.EINVAL);
    assert.equal((await c.err({ type: 'Twalk', fid: 0, newfid: 0, wnames: ['nope'] })).ename, 'file does not exist');
    assert.equal((await c.err({ type: 'Tattach', fid: 0, afid: 0xffffffff, uname: 'x', aname: '', nUname: 0xffffffff })).ename, Einuse);
  });
});

describe('a refused open changes nothing', () => {
  it('ram: Topen(OTRUNC) on an open fid fails and leaves the file whole', async () => {
    const t = tree();
    const c = new Conn(t.connect());
    await c.attach();
    await c.walk(0, 1, 'rw');
    await c.ok({ type: 'Topen', fid: 1, mode: OREAD }, 'Ropen');
    assert.equal((await c.err({ type: 'Topen', fid: 1, mode: OWRITE | OTRUNC })).ename, Eopen);
    assert.equal(dec.decode(t.root.children.get('rw')!.data), 'read write');
  });

  it('ram: Topen(OTRUNC) by a user who may not write fails and leaves the file whole', async () => {
    const t = tree();
    const c = new Conn(t.connect());
    await c.attach(0, 'someone');
    await c.walk(0, 1, 'd', 'f');
    assert.equal((await c.err({ type: 'Topen', fid: 1, mode: OREAD | OTRUNC })).ename, Eperm);
    assert.equal(dec.decode(t.root.children.get('d')!.children.get('f')!.data), 'f');
  });
});
