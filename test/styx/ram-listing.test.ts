// /ram directory listings resume where the last batch stopped (issue 12: Tree.readdir walked the
// children from the start for every batch, so a listing was quadratic). Counted, not timed: a
// listing read straight through steps over no entry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ramfs } from '../../shared/fs/index.ts';
import { OREAD, type Rmsg, type Tmsg, unpackDirents, unpackStats } from '../../shared/ninep/index.ts';
import { CANCELLED, type Tree } from '../../shared/styx/index.ts';

type Req = Tmsg extends infer T ? T extends Tmsg ? Omit<T, 'tag'> : never : never;

function filled(n: number): Tree {
  const t = ramfs({ budget: 1 << 30 });
  for (let i = 0; i < n; i++) t.add(t.root, `f${i}`, 0o644);
  return t;
}

/** A connection with the root open as `fid` for reading. */
async function opened(t: Tree, dialect: '9P2000' | '9P2000.L', fids: number[]) {
  const srv = t.connect();
  srv.version(dialect, 8192);
  let tag = 1;
  const call = async (m: Req): Promise<Rmsg> => {
    const r = await srv.call({ ...m, tag: tag++ } as Tmsg, CANCELLED);
    assert.notEqual(r.type, 'Rerror', r.type === 'Rerror' ? r.ename : '');
    return r;
  };
  await call({ type: 'Tattach', fid: 0, afid: 0xffffffff, uname: 'styx', aname: '', nUname: 0xffffffff });
  for (const fid of fids) {
    await call({ type: 'Twalk', fid: 0, newfid: fid, wnames: [] });
    await call({ type: 'Topen', fid, mode: OREAD });
  }
  return { srv, call };
}

/** One 9P2000 directory read at the fid's position; the names it returned. */
async function readBatch(call: (m: Req) => Promise<Rmsg>, fid: number, offset: bigint): Promise<{ names: string[]; bytes: number }> {
  const r = await call({ type: 'Tread', fid, offset, count: 8000 });
  assert.equal(r.type, 'Rread');
  return { names: unpackStats(r.data, '9P2000').map((s) => s.name), bytes: r.data.length };
}

/** The names from `offset` to the end of the listing, batch by batch. */
async function readRest(call: (m: Req) => Promise<Rmsg>, fid: number, offset: bigint): Promise<string[]> {
  const names: string[] = [];
  for (;;) {
    const b = await readBatch(call, fid, offset);
    if (b.bytes === 0) return names;
    names.push(...b.names);
    offset += BigInt(b.bytes);
  }
}

describe('ram: listings', () => {
  it('9P2000: 20,000 entries listed in order, each once, with no entry stepped over', async () => {
    const t = filled(20_000);
    const { call } = await opened(t, '9P2000', [1]);
    const names = await readRest(call, 1, 0n);
    assert.equal(names.length, 20_000);
    assert.deepEqual(names.slice(0, 3), ['f0', 'f1', 'f2']);
    assert.equal(new Set(names).size, 20_000);
    assert.equal(t.stats.skipped, 0);
  });

  it('.L: Treaddir by cookie lists everything; a resumed cookie skips none, a new one starts afresh', async () => {
    const t = filled(5_000);
    const { call } = await opened(t, '9P2000.L', [1]);
    const names: string[] = [];
    let cookie = 0n;
    for (;;) {
      const r = await call({ type: 'Treaddir', fid: 1, offset: cookie, count: 8000 });
      assert.equal(r.type, 'Rreaddir');
      const ents = unpackDirents(r.data);
      if (ents.length === 0) break;
      names.push(...ents.map((e) => e.name));
      cookie = ents[ents.length - 1].offset;
    }
    assert.equal(new Set(names).size, 5_000);
    assert.equal(t.stats.skipped, 0);
    // A client that seeks (telldir/seekdir) gets the right entries too.
    const r = await call({ type: 'Treaddir', fid: 1, offset: 4_000n, count: 200 });
    assert.equal(r.type === 'Rreaddir' && unpackDirents(r.data)[0].name, 'f4000');
    assert.equal(t.stats.skipped, 4_000);
  });

  it('two listings of one directory interleaved: both complete, neither rescans', async () => {
    const t = filled(3_000);
    const { call } = await opened(t, '9P2000', [1, 2]);
    const got: Record<number, string[]> = { 1: [], 2: [] };
    const at: Record<number, bigint> = { 1: 0n, 2: 0n };
    const done = new Set<number>();
    while (done.size < 2) {
      for (const fid of [1, 2]) {
        if (done.has(fid)) continue;
        const b = await readBatch(call, fid, at[fid]);
        if (b.bytes === 0) done.add(fid);
        got[fid].push(...b.names);
        at[fid] += BigInt(b.bytes);
      }
    }
    assert.equal(got[1].length, 3_000);
    assert.deepEqual(got[1], got[2]);
    assert.equal(t.stats.skipped, 0);
  });

  it('entries removed and added during a listing: no entry twice, the survivors all listed', async () => {
    const t = filled(1_000);
    const { call } = await opened(t, '9P2000', [1]);
    const first = await readBatch(call, 1, 0n);
    // Remove some listed and some not yet listed, and add one.
    for (const name of ['f0', 'f1', 'f900', 'f901']) {
      await call({ type: 'Twalk', fid: 0, newfid: 50, wnames: [name] });
      await call({ type: 'Tremove', fid: 50 });
    }
    t.add(t.root, 'late', 0o644);
    const names = [...first.names, ...(await readRest(call, 1, BigInt(first.bytes)))];
    assert.equal(new Set(names).size, names.length, 'an entry listed twice');
    for (let i = 2; i < 1_000; i++) if (i !== 900 && i !== 901) assert.ok(names.includes(`f${i}`), `f${i} missing`);
    assert.ok(names.includes('late'));
    assert.ok(!names.includes('f900'));
  });
});
