// Nothing leaves a mount. A real diod exports a directory whose parent holds a secret; diod itself
// resolves '..' above its export (checked first, so this test knows it tests styxlab), and
// styxlab mounts the export. '..', '/', '.' and NUL in walks, creates and renames, in all three
// dialects, from the namespace root and from an attach to the mount, over TCP, over
// /gateway/local and with the CLI: none reaches the secret or creates a file outside the export.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Client } from '../../shared/client/index.ts';
import { DIALECTS, type Dialect, type Message, NOFID, NONUNAME, nullStat } from '../../shared/ninep/index.ts';
import { dial } from '../../server/net/transport.ts';
import { type Diod, startDiod } from '../support/diod.ts';
import { type HttpServed, gatewayClient, startHttpServe } from '../support/gateway.ts';
import { RawConn, as } from '../support/rawconn.ts';
import { STYXLAB } from '../support/styxlab.ts';

const run = promisify(execFile);
const SECRET = `secret-${randomBytes(8).toString('hex')}`;

/** Walks that would reach the secret (or the host's files) if '..' were not floored at the mount. */
const ESCAPES: string[][] = [
  ['..', 'secret.txt'],
  ['..', '..', '..', '..', 'etc', 'passwd'],
  ['sub', '..', '..', 'secret.txt'],
  ['sub', '..', 'sub', '..', '..', 'secret.txt'],
];
/** Names that must never reach a service at all. */
const BAD_NAMES = ['../secret.txt', '.', 'a/b', 'secret.txt\0', '/etc/passwd', ''];

describe('nothing leaves a mount (a real diod, which does not confine its clients)', () => {
  let top: string;
  let exportDir: string;
  let diod: Diod;
  let g: HttpServed;

  before(async () => {
    top = mkdtempSync(join(tmpdir(), 'styxlab-confine-'));
    exportDir = join(top, 'export');
    mkdirSync(join(exportDir, 'sub'), { recursive: true });
    writeFileSync(join(top, 'secret.txt'), SECRET);
    writeFileSync(join(exportDir, 'inside.txt'), 'inside\n');
    diod = await startDiod({ exportDir });
    g = await startHttpServe(['--mount', `d=${diod.address},aname=${exportDir}`]);
    await g.logged(/at \/d\b/);
  });
  after(async () => {
    await g?.stop();
    await diod?.stop();
    rmSync(top, { recursive: true, force: true });
  });

  const topListing = () => readdirSync(top).sort().join(' ');
  const exportListing = () => readdirSync(exportDir).sort().join(' ');

  it('diod itself walks above its export (so what follows tests styxlab)', async () => {
    const c = await Client.connect(await dial(diod.address), { aname: exportDir, uname: 'nobody' });
    try {
      const nf = c.allocFid();
      const r = await c.rpc({ type: 'Twalk', fid: c.rootFid, newfid: nf, wnames: ['..', 'secret.txt'] });
      assert.equal(r.qids.length, 2, 'diod refused the escape: this test would prove nothing');
      await c.clunk(nf);
    } finally {
      await c.end();
    }
  });

  for (const dialect of DIALECTS) {
    describe(dialect, () => {
      let conn: RawConn;
      let tag = 1;
      const req = (m: Message) => conn.request({ ...m, tag: tag++ % 0xfffe || 1 } as Message);
      const isError = (m: Message) => m.type === 'Rerror' || m.type === 'Rlerror';

      before(async () => {
        conn = await RawConn.open(g.port, '127.0.0.1', dialect);
        as(await conn.request({ type: 'Tversion', tag: 0xffff, msize: 65536, version: dialect }), 'Rversion');
        as(await req({ type: 'Tattach', tag: 0, fid: 0, afid: NOFID, uname: 'nobody', aname: '', nUname: NONUNAME }), 'Rattach');
        as(await req({ type: 'Tattach', tag: 0, fid: 1, afid: NOFID, uname: 'nobody', aname: 'd', nUname: NONUNAME }), 'Rattach');
      });
      after(() => conn?.close());

      it("'..' stops at the mount's root, from the namespace root and from an attach to the mount", async () => {
        for (const [fid, prefix] of [[0, ['d']], [1, []]] as const) {
          for (const w of ESCAPES) {
            const wnames = [...prefix, ...w];
            const r = await req({ type: 'Twalk', tag: 0, fid, newfid: 9, wnames });
            if (r.type === 'Rwalk' && r.qids.length === wnames.length) {
              await req({ type: 'Tclunk', tag: 0, fid: 9 });
              assert.fail(`walk ${wnames.join('/')} from fid ${fid} reached a file outside the mount`);
            }
          }
        }
        // Inside the mount, '..' works as it should.
        const ok = as(await req({ type: 'Twalk', tag: 0, fid: 1, newfid: 9, wnames: ['sub', '..', 'inside.txt'] }), 'Rwalk');
        assert.equal(ok.qids.length, 3);
        await req({ type: 'Tclunk', tag: 0, fid: 9 });
        // '..' at the mount's root is the root (intro(5)): the walk completes and lands there.
        const up = as(await req({ type: 'Twalk', tag: 0, fid: 1, newfid: 9, wnames: ['..', '..', 'inside.txt'] }), 'Rwalk');
        assert.equal(up.qids.length, 3);
        await req({ type: 'Tclunk', tag: 0, fid: 9 });
      });

      it("names holding '/' or NUL, '.' and '' are refused before any service sees them", async () => {
        for (const fid of [0, 1]) {
          for (const bad of BAD_NAMES) {
            const wnames = fid === 0 ? ['d', bad] : [bad];
            const r = await req({ type: 'Twalk', tag: 0, fid, newfid: 9, wnames });
            assert.ok(isError(r), `walk ${JSON.stringify(wnames)}: ${r.type}`);
          }
        }
      });

      it('creates and renames cannot name a file outside the mount', async () => {
        const topBefore = topListing();
        for (const name of [...BAD_NAMES, '..']) {
          as(await req({ type: 'Twalk', tag: 0, fid: 1, newfid: 9, wnames: [] }), 'Rwalk');
          const r = dialect === '9P2000.L'
            ? await req({ type: 'Tlcreate', tag: 0, fid: 9, name: name, flags: 0o102, mode: 0o644, gid: NONUNAME })
            : await req({ type: 'Tcreate', tag: 0, fid: 9, name, perm: 0o644, mode: 2, extension: '' });
          assert.ok(isError(r), `create ${JSON.stringify(name)}: ${r.type}`);
          if (dialect === '9P2000.L') {
            const m = await req({ type: 'Tmkdir', tag: 0, dfid: 9, name, mode: 0o755, gid: NONUNAME });
            assert.ok(isError(m), `mkdir ${JSON.stringify(name)}: ${m.type}`);
            const s = await req({ type: 'Tsymlink', tag: 0, fid: 9, name, symtgt: '/etc/passwd', gid: NONUNAME });
            assert.ok(isError(s), `symlink ${JSON.stringify(name)}: ${s.type}`);
          }
          await req({ type: 'Tclunk', tag: 0, fid: 9 });
        }
        // A real file to rename: every rename of it out of the mount fails, and it stays.
        writeFileSync(join(exportDir, 'victim.txt'), 'v');
        as(await req({ type: 'Twalk', tag: 0, fid: 1, newfid: 9, wnames: ['victim.txt'] }), 'Rwalk');
        for (const name of ['../x', '..', '.', 'a/b', 'x\0y']) {
          if (dialect !== '9P2000.L') {
            const w = await req({ type: 'Twstat', tag: 0, fid: 9, stat: { ...nullStat(), name } });
            assert.ok(isError(w), `wstat name ${JSON.stringify(name)}: ${w.type}`);
          } else {
            const ra = await req({ type: 'Trenameat', tag: 0, olddirfid: 1, oldname: 'victim.txt', newdirfid: 1, newname: name });
            assert.ok(isError(ra), `renameat to ${JSON.stringify(name)}: ${ra.type}`);
            const rn = await req({ type: 'Trename', tag: 0, fid: 9, dfid: 1, name });
            assert.ok(isError(rn), `rename to ${JSON.stringify(name)}: ${rn.type}`);
          }
        }
        await req({ type: 'Tclunk', tag: 0, fid: 9 });
        assert.equal(topListing(), topBefore, 'a file appeared next to the export');
        assert.ok(exportListing().includes('victim.txt'));
      });
    });
  }

  it('over /gateway/local: a walk ["d", "../../../etc/shadow"] and "d" then ".." x4 stay inside', async () => {
    const { client } = await gatewayClient(g.ws('/gateway/local'), { uname: 'nobody' });
    try {
      for (const wnames of [['d', '../../../etc/shadow'], ['d', '..', '..', '..', '..', 'etc', 'passwd'], ['d', '.', '.', '..', '..', 'secret.txt']]) {
        const nf = client.allocFid();
        const r = await client.rpc({ type: 'Twalk', fid: client.rootFid, newfid: nf, wnames }).then((x) => x.qids.length, () => -1);
        assert.ok(r < wnames.length, `${JSON.stringify(wnames)} completed`);
        if (r === wnames.length) await client.clunk(nf);
      }
    } finally {
      await client.end();
    }
  });

  it('the CLI: styxlab 9p -A d read ../secret.txt (and ../../../etc/passwd) fails, printing nothing', async () => {
    for (const path of ['../secret.txt', '../../../etc/passwd', 'sub/../../secret.txt']) {
      const r = await run(process.execPath, [STYXLAB, '9p', '-a', g.address, '-A', 'd', 'read', path]).then(
        (x) => ({ code: 0, out: x.stdout }), (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }));
      assert.notEqual(r.code, 0, `read ${path} succeeded`);
      assert.ok(!r.out.includes(SECRET) && !r.out.includes('root:'), `read ${path} printed a file from outside`);
    }
  });

  it('reading inside still works (the floor did not break the mount)', async () => {
    const c = await Client.connect(await dial(g.address), { aname: 'd', uname: 'nobody', version: '9P2000.L' as Dialect });
    try {
      assert.equal(new TextDecoder().decode(await c.readFile('inside.txt')), 'inside\n');
      assert.equal(new TextDecoder().decode(await c.readFile('/sub/../inside.txt')), 'inside\n');
    } finally {
      await c.end();
    }
  });
});
