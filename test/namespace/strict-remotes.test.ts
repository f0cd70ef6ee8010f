// Remotes that read the protocol their own way, mounted into a namespace: a server that answers a
// failed first walk element with an empty Rwalk and keeps the new fid (go-p9p), one that refuses
// in-place walks, and a 9P2000 server that refuses to walk an open fid (Plan 9's lib9p, go9p;
// styxlab's own 9P2000 server) walked from an open directory as diodls does.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, type TBody } from '../../shared/client/index.ts';
import { ramfs } from '../../shared/fs/index.ts';
import { DMDIR, type Dialect, type Message, NOFID, NONUNAME, type Rmsg, type Tmsg } from '../../shared/ninep/index.ts';
import { type Cancellation, type FileServer, type Service } from '../../shared/styx/index.ts';
import { Namespace } from '../../server/namespace/namespace.ts';
import { RemoteFileServer } from '../../server/namespace/remote-fs.ts';
import { dial } from '../../server/net/transport.ts';
import { RawConn, as } from '../support/rawconn.ts';
import { type InProcess, startListener } from '../support/styxlab.ts';

/** fs, read quirkily: each request its connection's service answers may be rewritten. */
function quirky(fs: FileServer, answer: (s: Service, t: Tmsg, cancel: Cancellation) => Promise<Rmsg>): FileServer & { services: Set<Service> } {
  const services = new Set<Service>();
  return {
    services,
    connect() {
      const s = fs.connect();
      services.add(s);
      return {
        version: (d, m) => s.version(d, m),
        close: () => { services.delete(s); s.close(); },
        call: (t, cancel) => answer(s, t, cancel),
        get fidCount() { return s.fidCount; },
      };
    },
  };
}

/** go-p9p: a walk whose first name fails is an empty Rwalk, and newfid is made anyway. */
const emptyRwalk = quirky(ramfs(), async (s, t, cancel) => {
  const r = await s.call(t, cancel);
  if (t.type !== 'Twalk' || r.type !== 'Rerror' || t.wnames.length === 0) return r;
  await s.call({ ...t, wnames: [] }, cancel);
  return { type: 'Rwalk', tag: t.tag, qids: [] };
});

/** Some servers refuse a walk whose newfid is its fid. */
const noInPlace = quirky(ramfs(), (s, t, cancel) =>
  t.type === 'Twalk' && t.newfid === t.fid && t.wnames.length > 0
    ? Promise.resolve({ type: 'Rerror', tag: t.tag, ename: 'newfid in use', errno: 0 })
    : s.call(t, cancel));

describe('remotes that read the protocol their own way', () => {
  const remotes: InProcess[] = [];
  const clients: Client[] = [];
  let srv: InProcess;
  let c: RawConn;
  const rpc = (m: TBody) => c.request({ ...m, tag: c.tag() } as Message);

  async function mount(ns: Namespace, name: string, fs: FileServer, version: Dialect): Promise<void> {
    const r = await startListener(fs);
    remotes.push(r);
    const client = await Client.connect(await dial(r.address), { version, uname: 'glenda' });
    clients.push(client);
    ns.mount(name, 'remote', r.address, new RemoteFileServer(client));
  }

  before(async () => {
    const ns = new Namespace();
    await mount(ns, 'gop9p', emptyRwalk, '9P2000.u');
    await mount(ns, 'noinplace', noInPlace, '9P2000.L');
    await mount(ns, 'plan9', ramfs(), '9P2000');
    srv = await startListener(ns);
    c = await RawConn.open(srv.port, '127.0.0.1', '9P2000.L', 65536);
    as(await c.request({ type: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000.L' }), 'Rversion');
    as(await rpc({ type: 'Tattach', fid: 0, afid: NOFID, uname: 'glenda', aname: '', nUname: NONUNAME }), 'Rattach');
  });

  after(async () => {
    c?.close();
    await srv?.close();
    for (const cl of clients) cl.close();
    for (const r of remotes) await r.close();
  });

  it('turns an empty Rwalk into an error and clunks the fid the server kept', async () => {
    as(await rpc({ type: 'Twalk', fid: 0, newfid: 1, wnames: ['gop9p'] }), 'Rwalk');
    const held = () => [...emptyRwalk.services].reduce((n, s) => n + (s.fidCount ?? 0), 0);
    const before = held();
    as(await rpc({ type: 'Twalk', fid: 1, newfid: 2, wnames: ['missing'] }), 'Rlerror');
    // A request after the clunk on the same connection: the server has seen the clunk by its reply.
    as(await rpc({ type: 'Tgetattr', fid: 1, requestMask: 0x7ffn }), 'Rgetattr');
    assert.equal(held(), before);
    as(await rpc({ type: 'Tclunk', fid: 1 }), 'Rclunk');
  });

  it('makes a directory in a .L remote without an in-place walk', async () => {
    const p9 = await RawConn.open(srv.port, '127.0.0.1', '9P2000', 65536);
    try {
      const r9 = (m: TBody) => p9.request({ ...m, tag: p9.tag() } as Message);
      as(await p9.request({ type: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000' }), 'Rversion');
      as(await r9({ type: 'Tattach', fid: 0, afid: NOFID, uname: 'glenda', aname: '', nUname: NONUNAME }), 'Rattach');
      as(await r9({ type: 'Twalk', fid: 0, newfid: 1, wnames: ['noinplace'] }), 'Rwalk');
      as(await r9({ type: 'Tcreate', fid: 1, name: 'd', perm: (DMDIR | 0o755) >>> 0, mode: 0, extension: '' }), 'Rcreate');
      as(await r9({ type: 'Twalk', fid: 0, newfid: 2, wnames: ['noinplace', 'd'] }), 'Rwalk');
    } finally {
      p9.close();
    }
  });

  it('walks from an open directory of a 9P2000 remote (as diodls does)', async () => {
    as(await rpc({ type: 'Twalk', fid: 0, newfid: 3, wnames: ['plan9'] }), 'Rwalk');
    as(await rpc({ type: 'Tlcreate', fid: 3, name: 'f', flags: 2, mode: 0o644, gid: NONUNAME }), 'Rlcreate');
    as(await rpc({ type: 'Twalk', fid: 0, newfid: 4, wnames: ['plan9'] }), 'Rwalk');
    as(await rpc({ type: 'Tlopen', fid: 4, flags: 0 }), 'Rlopen');
    const r = as(await rpc({ type: 'Twalk', fid: 4, newfid: 5, wnames: ['f'] }), 'Rwalk');
    assert.equal(r.qids.length, 1);
    for (const fid of [3, 4, 5]) as(await rpc({ type: 'Tclunk', fid }), 'Rclunk');
  });
});
