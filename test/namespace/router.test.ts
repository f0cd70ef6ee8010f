// The namespace router's own rules, over raw 9P2000: the root lists the mounts, qids of different
// mounts never collide, ".." leaves a mount for the root, and an open fid cannot walk out of one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TBody } from '../../shared/client/index.ts';
import { devfs, hellofs, ramfs, slightlyfs } from '../../shared/fs/index.ts';
import { NOFID, type Message, type Qid, unpackStats } from '../../shared/ninep/index.ts';
import { Namespace } from '../../server/namespace/namespace.ts';
import { RawConn, as } from '../support/rawconn.ts';
import { type InProcess, startListener } from '../support/styxlab.ts';

describe('the namespace router', () => {
  let srv: InProcess;
  let ns: Namespace;
  let c: RawConn;
  const rpc = (m: TBody) => c.request({ ...m, tag: c.tag() } as Message);

  before(async () => {
    ns = new Namespace();
    ns.mount('hellofs', 'builtin', 'builtin', hellofs);
    ns.mount('slightlyfs', 'builtin', 'builtin', slightlyfs);
    ns.mount('ram', 'builtin', 'builtin', ramfs());
    ns.mount('dev', 'builtin', 'builtin', devfs());
    srv = await startListener(ns);
    c = await RawConn.open(srv.port, '127.0.0.1', '9P2000', 8192);
    as(await c.request({ type: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000' }), 'Rversion');
    as(await rpc({ type: 'Tattach', fid: 0, afid: NOFID, uname: 'glenda', aname: '', nUname: NOFID }), 'Rattach');
  });

  after(async () => {
    c?.close();
    await srv?.close();
  });

  it('lists the mounts at the root, as directories', async () => {
    as(await rpc({ type: 'Twalk', fid: 0, newfid: 1, wnames: [] }), 'Rwalk');
    as(await rpc({ type: 'Topen', fid: 1, mode: 0 }), 'Ropen');
    const r = as(await rpc({ type: 'Tread', fid: 1, offset: 0n, count: 8000 }), 'Rread');
    const stats = unpackStats(r.data, '9P2000');
    assert.deepEqual(stats.map((s) => s.name), ['hellofs', 'slightlyfs', 'ram', 'dev']);
    assert.ok(stats.every((s) => s.mode & 0x80000000));
    as(await rpc({ type: 'Tclunk', fid: 1 }), 'Rclunk');
  });

  it('lists each mount with the attributes a stat of it gives', async () => {
    as(await rpc({ type: 'Twalk', fid: 0, newfid: 1, wnames: [] }), 'Rwalk');
    as(await rpc({ type: 'Topen', fid: 1, mode: 0 }), 'Ropen');
    const listed = unpackStats(as(await rpc({ type: 'Tread', fid: 1, offset: 0n, count: 8000 }), 'Rread').data, '9P2000');
    as(await rpc({ type: 'Tclunk', fid: 1 }), 'Rclunk');
    for (const l of listed) {
      as(await rpc({ type: 'Twalk', fid: 0, newfid: 2, wnames: [l.name] }), 'Rwalk');
      const st = as(await rpc({ type: 'Tstat', fid: 2 }), 'Rstat').stat;
      as(await rpc({ type: 'Tclunk', fid: 2 }), 'Rclunk');
      // /ram is writable: listed read-only, one client would think it could not write there.
      assert.deepEqual(l, st, l.name);
    }
  });

  it('gives files of different mounts different qid paths', async () => {
    const a = as(await rpc({ type: 'Twalk', fid: 0, newfid: 2, wnames: ['hellofs', 'hello'] }), 'Rwalk');
    const b = as(await rpc({ type: 'Twalk', fid: 0, newfid: 3, wnames: ['slightlyfs', 'hello'] }), 'Rwalk');
    const qa: Qid = a.qids[1];
    const qb: Qid = b.qids[1];
    // Both file systems call their hello qid path 1; the namespace must tell them apart.
    assert.notEqual(qa.path, qb.path);
    as(await rpc({ type: 'Tclunk', fid: 2 }), 'Rclunk');
    as(await rpc({ type: 'Tclunk', fid: 3 }), 'Rclunk');
  });

  it('walks ".." from a mount back to the root', async () => {
    const r = as(await rpc({ type: 'Twalk', fid: 0, newfid: 4, wnames: ['hellofs', '..', 'ram'] }), 'Rwalk');
    assert.equal(r.qids.length, 3);
    assert.equal(r.qids[1].path, 0n); // the namespace root
    const st = as(await rpc({ type: 'Tstat', fid: 4 }), 'Rstat');
    assert.equal(st.stat.name, 'ram');
    as(await rpc({ type: 'Tclunk', fid: 4 }), 'Rclunk');
  });

  it('refuses to walk an open fid out of its mount', async () => {
    as(await rpc({ type: 'Twalk', fid: 0, newfid: 5, wnames: ['hellofs'] }), 'Rwalk');
    as(await rpc({ type: 'Topen', fid: 5, mode: 0 }), 'Ropen');
    const r = await rpc({ type: 'Twalk', fid: 5, newfid: 6, wnames: ['..'] });
    assert.equal(as(r, 'Rerror').ename, 'fid already open');
    // Inside the mount, the mount's own server says the same.
    const r2 = await rpc({ type: 'Twalk', fid: 5, newfid: 6, wnames: ['hello'] });
    assert.equal(as(r2, 'Rerror').ename, 'fid already open');
    as(await rpc({ type: 'Tclunk', fid: 5 }), 'Rclunk');
  });

  it('names a missing mount in the error and leaves no fids behind', async () => {
    const r = await rpc({ type: 'Tattach', fid: 7, afid: NOFID, uname: 'glenda', aname: 'nope', nUname: NOFID });
    assert.match(as(r, 'Rerror').ename, /no mount called 'nope'/);
    assert.equal(ns.fidCount, 1); // the attach fid 0 only
  });
});
