// The namespace's own errors reach the wire with their errno: a .L client sees only the errno, so
// one lost on the way (an error without a known string) reads as EIO.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TBody } from '../../shared/client/index.ts';
import { hellofs } from '../../shared/fs/index.ts';
import { Errno, type Message, NOFID, NONUNAME } from '../../shared/ninep/index.ts';
import { Namespace } from '../../server/namespace/namespace.ts';
import { RawConn, as } from '../support/rawconn.ts';
import { type InProcess, startListener } from '../support/styxlab.ts';

describe('namespace errors', () => {
  let srv: InProcess;
  let c: RawConn;
  const rpc = (m: TBody) => c.request({ ...m, tag: c.tag() } as Message);

  before(async () => {
    const ns = new Namespace('styx', 2); // two fids per connection
    ns.mount('hellofs', 'builtin', 'builtin', hellofs);
    srv = await startListener(ns);
    c = await RawConn.open(srv.port, '127.0.0.1', '9P2000.L', 8192);
    as(await c.request({ type: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' }), 'Rversion');
    as(await rpc({ type: 'Tattach', fid: 0, afid: NOFID, uname: 'glenda', aname: '', nUname: NONUNAME }), 'Rattach');
  });

  after(async () => {
    c?.close();
    await srv?.close();
  });

  it('answers a fid past the limit with EMFILE', async () => {
    as(await rpc({ type: 'Twalk', fid: 0, newfid: 1, wnames: [] }), 'Rwalk');
    const r = as(await rpc({ type: 'Twalk', fid: 0, newfid: 2, wnames: [] }), 'Rlerror');
    assert.equal(r.ecode, Errno.EMFILE);
  });

  it('answers a walk to a missing mount with ENOENT and an unknown fid with EBADF', async () => {
    assert.equal(as(await rpc({ type: 'Twalk', fid: 0, newfid: 0, wnames: ['nope'] }), 'Rlerror').ecode, Errno.ENOENT);
    assert.equal(as(await rpc({ type: 'Tgetattr', fid: 9, requestMask: 0x7ffn }), 'Rlerror').ecode, Errno.EBADF);
  });
});
