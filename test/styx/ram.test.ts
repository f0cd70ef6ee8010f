// /ram's storage and its budget (issue 9 item 5, issue 12's quadratic writes), and the small
// rename/setattr bugs of issue 9 item 9, driven in process: a Tree's Styxserver, and the .L
// adapter over it, called directly (no sockets).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ramfs } from '../../shared/fs/index.ts';
import {
  Errno, L_O_RDWR, type Message, SETATTR_MTIME, SETATTR_MTIME_SET, SETATTR_SIZE, type SetAttr,
  type Tmsg, encode, nullStat,
} from '../../shared/ninep/index.ts';
import { CANCELLED, LinuxAdapter, type Service, type Tree } from '../../shared/styx/index.ts';
import { CHUNK, DEFAULT_RAM_BUDGET, NODE_COST } from '../../shared/styx/tree.ts';
import { expect } from '../support/wire.ts';

const MiB = 1024 * 1024;
const enc = new TextEncoder();
const dec = new TextDecoder();

type Req = Tmsg extends infer T ? T extends Tmsg ? Omit<T, 'tag'> : never : never;

/** One connection to a tree: 9P2000 straight to its Styxserver, or .L through the adapter. */
class Conn {
  private tag = 1;
  private readonly svc: Service;

  constructor(tree: Tree, dialect: '9P2000' | '9P2000.L' = '9P2000') {
    this.svc = new LinuxAdapter(tree.connect());
    this.svc.version(dialect, 1 << 20);
  }

  call(t: Req): Promise<Message> {
    return this.svc.call({ ...t, tag: this.tag++ } as Tmsg, CANCELLED);
  }

  /** Attaches fid 0 to the root. */
  async attach(): Promise<void> {
    expect(await this.call({ type: 'Tattach', fid: 0, afid: 0xffffffff, uname: 'styx', aname: '', nUname: 0xffffffff }), 'Rattach');
  }

  /** Creates (or opens) `name` in the root as fid, open for read and write. */
  async file(fid: number, name: string): Promise<void> {
    expect(await this.call({ type: 'Twalk', fid: 0, newfid: fid, wnames: [] }), 'Rwalk');
    expect(await this.call({ type: 'Tcreate', fid, name, perm: 0o666, mode: 2, extension: '' }), 'Rcreate');
  }

  write(fid: number, offset: number | bigint, data: Uint8Array): Promise<Message> {
    return this.call({ type: 'Twrite', fid, offset: BigInt(offset), data });
  }

  async read(fid: number, offset: number, count: number): Promise<Uint8Array> {
    return expect(await this.call({ type: 'Tread', fid, offset: BigInt(offset), count }), 'Rread').data;
  }

  /** wstat that changes only the length. */
  truncate(fid: number, length: number | bigint): Promise<Message> {
    const st = nullStat();
    st.length = BigInt(length);
    return this.call({ type: 'Twstat', fid, stat: st });
  }

  async length(fid: number): Promise<bigint> {
    return expect(await this.call({ type: 'Tstat', fid }), 'Rstat').stat.length;
  }
}

const errnoOf = (m: Message): number => (m.type === 'Rerror' ? m.errno : m.type === 'Rlerror' ? m.ecode : -1);

describe('ram: storage', () => {
  it('the sparse-file attack (1 byte at 64 MiB - 1, truncate to 64 MiB - 2) costs one chunk per file', async () => {
    const tree = ramfs();
    assert.equal(tree.budget, DEFAULT_RAM_BUDGET);
    const c = new Conn(tree);
    await c.attach();
    const files = 50;
    for (let i = 0; i < files; i++) {
      const fid = 10 + i;
      await c.file(fid, `sparse-${i}`);
      expect(await c.write(fid, 64 * MiB - 1, Uint8Array.of(0x41)), 'Rwrite');
      expect(await c.truncate(fid, 64 * MiB - 2), 'Rwstat');
      assert.equal(await c.length(fid), BigInt(64 * MiB - 2));
    }
    // Each file holds at most one chunk, the one its byte fell in (now cut off but still partly inside).
    assert.ok(tree.used <= files * (CHUNK + NODE_COST), `used ${tree.used} bytes for ${files} sparse files`);
    // The holes read as zeros, the byte is gone with the truncate, and a read past the end is empty.
    const tail = await c.read(10, 64 * MiB - 200, 1000);
    assert.equal(tail.length, 198);
    assert.ok(tail.every((b) => b === 0));
    assert.ok((await c.read(10, 12345, 4096)).every((b) => b === 0));
    assert.equal((await c.read(10, 64 * MiB - 2, 10)).length, 0);
    // A read asking for 4 GiB of the holes gets at most what a reply can carry (msize 1 MiB here).
    assert.equal((await c.read(10, 0, 0xffffffff)).length, MiB - 24);
  });

  it("a read's bytes stay as read when the file changes after it (a socket may still be sending them)", async () => {
    const tree = ramfs();
    const c = new Conn(tree);
    await c.attach();
    await c.file(1, 'lent');
    expect(await c.write(1, 0, new Uint8Array(5000).fill(0x61)), 'Rwrite');
    // Inside one chunk: the reply carries a view of the file's storage, not a copy.
    const first = await c.read(1, 0, 5000);
    expect(await c.write(1, 100, new Uint8Array(4000).fill(0x62)), 'Rwrite');
    assert.ok(first.every((b) => b === 0x61), 'a write after the read changed the bytes the read answered');
    const second = await c.read(1, 0, 5000);
    assert.equal(second[100], 0x62);
    // Cut to a length that keeps the chunk (so its tail is zeroed in place).
    expect(await c.truncate(1, 4500), 'Rwstat');
    assert.equal(second[4700], 0x61, 'a truncate after the read zeroed the bytes the read answered');
    assert.equal(tree.stats.unshared, 2);
    // The file itself changed: the truncate zeroed its tail, so growing it again shows zeros.
    expect(await c.truncate(1, 5000), 'Rwstat');
    assert.deepEqual([...(await c.read(1, 4498, 4))], [0x61, 0x61, 0, 0]);
    // Writes with no read in between change the chunk in place (no copy per write).
    for (let i = 0; i < 10; i++) expect(await c.write(1, i, Uint8Array.of(i)), 'Rwrite');
    assert.equal(tree.stats.unshared, 3, 'only the first write after the read copies');
  });

  it('a write or create past the budget fails with ENOSPC and allocates nothing; remove and truncate give it back', async () => {
    const tree = ramfs({ budget: 1 * MiB });
    const c = new Conn(tree);
    await c.attach();
    await c.file(1, 'a');
    await c.file(2, 'b');
    const half = new Uint8Array(MiB / 2).fill(7);
    expect(await c.write(1, 0, half), 'Rwrite');
    const before = tree.used;
    // b's half does not fit beside a's (the node costs count too): refused whole.
    const no = await c.write(2, 0, half);
    assert.equal(no.type, 'Rerror');
    assert.equal(errnoOf(no), Errno.ENOSPC);
    assert.equal(tree.used, before);
    assert.equal(await c.length(2), 0n);
    // A hole costs nothing: b can be made 40 MiB long, and reads as zeros.
    expect(await c.truncate(2, 40 * MiB), 'Rwstat');
    assert.equal(tree.used, before);
    assert.ok((await c.read(2, 20 * MiB, 8192)).every((x) => x === 0));
    // Truncating a gives its chunks back; then b's write fits.
    expect(await c.truncate(1, 1000), 'Rwstat');
    assert.ok(tree.used < before - MiB / 2 + CHUNK, `used ${tree.used} after truncating a`);
    expect(await c.write(2, 0, half), 'Rwrite');
    // Removing both gives everything back.
    expect(await c.call({ type: 'Tremove', fid: 1 }), 'Rremove');
    expect(await c.call({ type: 'Tremove', fid: 2 }), 'Rremove');
    assert.equal(tree.used, 0);
    // The budget also bounds how many files a client can create.
    const small = ramfs({ budget: 10 * NODE_COST });
    const s = new Conn(small);
    await s.attach();
    let made = 0;
    let last: Message | undefined;
    for (let i = 0; i < 20; i++) {
      expect(await s.call({ type: 'Twalk', fid: 0, newfid: 100 + i, wnames: [] }), 'Rwalk');
      last = await s.call({ type: 'Tcreate', fid: 100 + i, name: `f${i}`, perm: 0o666, mode: 2, extension: '' });
      if (last.type !== 'Rcreate') break;
      made++;
    }
    assert.equal(made, 10);
    assert.equal(errnoOf(last!), Errno.ENOSPC);
  });

  it('the .L client sees ENOSPC as errno 28', async () => {
    const tree = ramfs({ budget: 64 * 1024 });
    const c = new Conn(tree, '9P2000.L');
    await c.attach();
    expect(await c.call({ type: 'Twalk', fid: 0, newfid: 1, wnames: [] }), 'Rwalk');
    expect(await c.call({ type: 'Tlcreate', fid: 1, name: 'x', flags: L_O_RDWR, mode: 0o644, gid: 0 }), 'Rlcreate');
    const r = await c.write(1, 0, new Uint8Array(128 * 1024));
    assert.equal(expect(r, 'Rlerror').ecode, Errno.ENOSPC);
  });

  it('appends reuse capacity: 8 MiB in 8 KiB writes copies less than the file once', async () => {
    const tree = ramfs();
    const c = new Conn(tree);
    await c.attach();
    await c.file(1, 'big');
    const piece = new Uint8Array(8192);
    const total = 8 * MiB;
    for (let off = 0, i = 0; off < total; off += piece.length, i++) {
      piece.fill(i & 0xff);
      expect(await c.write(1, off, piece), 'Rwrite');
    }
    assert.equal(await c.length(1), BigInt(total));
    // Exact-length storage copies the whole file at every append: about total^2 / (2 * 8192) = 4 GiB.
    assert.ok(tree.stats.copied < total, `copied ${tree.stats.copied} bytes growing an ${total}-byte file`);
    assert.ok(tree.stats.allocations <= 4 * (total / CHUNK), `${tree.stats.allocations} allocations`);
    assert.ok(tree.used <= total + NODE_COST, `used ${tree.used}`);
    // The content is right, across chunk boundaries.
    const r = await c.read(1, CHUNK - 4096, 8192);
    assert.equal(r[0], ((CHUNK - 4096) / 8192) & 0xff);
    assert.equal(r[8191], ((CHUNK + 4095) / 8192 | 0) & 0xff);
  });

  it('a write past the end of a truncated file reads zeros in the gap, within a chunk and across chunks', async () => {
    const tree = ramfs();
    const c = new Conn(tree);
    await c.attach();
    await c.file(1, 'gap');
    expect(await c.write(1, 0, enc.encode('abcdefgh')), 'Rwrite');
    expect(await c.truncate(1, 2), 'Rwstat');
    expect(await c.write(1, 6, enc.encode('Z')), 'Rwrite');
    assert.deepEqual([...await c.read(1, 0, 100)], [0x61, 0x62, 0, 0, 0, 0, 0x5a]);
    // Dense over three chunks, cut to 10 bytes, then written past two chunk boundaries.
    expect(await c.write(1, 0, new Uint8Array(2 * CHUNK + 100).fill(0xff)), 'Rwrite');
    expect(await c.truncate(1, 10), 'Rwstat');
    expect(await c.write(1, 2 * CHUNK + 50, Uint8Array.of(1, 2)), 'Rwrite');
    const all = await c.read(1, 0, 3 * CHUNK);
    assert.equal(all.length, 2 * CHUNK + 52);
    assert.ok(all.subarray(0, 10).every((b) => b === 0xff));
    assert.ok(all.subarray(10, 2 * CHUNK + 50).every((b) => b === 0), 'the gap reads as zeros');
    assert.deepEqual([...all.subarray(2 * CHUNK + 50)], [1, 2]);
    // Growing by wstat, then writing: zeros again, and OTRUNC empties.
    expect(await c.truncate(1, 5), 'Rwstat');
    expect(await c.truncate(1, 3 * CHUNK), 'Rwstat');
    assert.ok((await c.read(1, 5, CHUNK)).every((b) => b === 0));
  });

  it('the program\'s own content is kept, read and replaced through Node.data', () => {
    const tree = ramfs();
    const n = tree.root.file('motd', 0o644, 'hello\n');
    assert.equal(dec.decode(n.data), 'hello\n');
    assert.equal(n.dir().length, 6n);
    n.data = enc.encode('bye');
    assert.equal(dec.decode(n.data), 'bye');
    assert.equal(tree.used, NODE_COST + 64);
  });
});

describe('names and sizes (issue 9, item 9)', () => {
  const bad = ['a\0b', 'a/b', '.', '..', ''];

  it('wstat refuses a rename to a name holding NUL or /, or to . or .. (EINVAL)', async () => {
    const tree = ramfs();
    const c = new Conn(tree);
    await c.attach();
    await c.file(1, 'f');
    for (const name of bad.filter((n) => n !== '')) { // '' in a wstat means "keep the name"
      const st = nullStat();
      st.name = name;
      const r = await c.call({ type: 'Twstat', fid: 1, stat: st });
      assert.equal(r.type, 'Rerror', `rename to ${JSON.stringify(name)}`);
      assert.equal(errnoOf(r), Errno.EINVAL);
    }
    assert.deepEqual([...tree.root.children.keys()], ['f']);
  });

  it('create refuses the same names with EINVAL', async () => {
    const c = new Conn(ramfs(), '9P2000.L');
    await c.attach();
    for (const name of bad) {
      expect(await c.call({ type: 'Twalk', fid: 0, newfid: 1, wnames: [] }), 'Rwalk');
      const r = await c.call({ type: 'Tlcreate', fid: 1, name, flags: L_O_RDWR, mode: 0o644, gid: 0 });
      assert.equal(expect(r, 'Rlerror').ecode, Errno.EINVAL, JSON.stringify(name));
      expect(await c.call({ type: 'Tclunk', fid: 1 }), 'Rclunk');
    }
  });

  it('Trenameat and Trename refuse those names (EINVAL) and remove nothing', async () => {
    const tree = ramfs();
    const c = new Conn(tree, '9P2000.L');
    await c.attach();
    expect(await c.call({ type: 'Tmkdir', dfid: 0, name: 'd', mode: 0o755, gid: 0 }), 'Rmkdir');
    expect(await c.call({ type: 'Twalk', fid: 0, newfid: 1, wnames: ['d'] }), 'Rwalk');
    expect(await c.call({ type: 'Tmkdir', dfid: 1, name: 'sub', mode: 0o755, gid: 0 }), 'Rmkdir');
    expect(await c.call({ type: 'Twalk', fid: 1, newfid: 2, wnames: ['sub'] }), 'Rwalk');
    for (const name of bad) {
      const r = await c.call({ type: 'Trenameat', olddirfid: 1, oldname: 'sub', newdirfid: 1, newname: name });
      assert.equal(expect(r, 'Rlerror').ecode, Errno.EINVAL, `renameat to ${JSON.stringify(name)}`);
      const r2 = await c.call({ type: 'Trename', fid: 2, dfid: 1, name });
      assert.equal(expect(r2, 'Rlerror').ecode, Errno.EINVAL, `rename to ${JSON.stringify(name)}`);
    }
    assert.deepEqual([...tree.root.children.keys()], ['d']);
    assert.deepEqual([...tree.root.children.get('d')!.children.keys()], ['sub']);
  });

  it('Trename of a file fid renames it (fid: the file, dfid: its directory)', async () => {
    const tree = ramfs();
    const c = new Conn(tree, '9P2000.L');
    await c.attach();
    expect(await c.call({ type: 'Twalk', fid: 0, newfid: 1, wnames: [] }), 'Rwalk');
    expect(await c.call({ type: 'Tlcreate', fid: 1, name: 'old', flags: L_O_RDWR, mode: 0o644, gid: 0 }), 'Rlcreate');
    expect(await c.write(1, 0, enc.encode('content')), 'Rwrite');
    expect(await c.call({ type: 'Twalk', fid: 0, newfid: 2, wnames: ['old'] }), 'Rwalk');
    expect(await c.call({ type: 'Trename', fid: 2, dfid: 0, name: 'new' }), 'Rrename');
    assert.deepEqual([...tree.root.children.keys()], ['new']);
    assert.equal(dec.decode(await c.read(1, 0, 100)), 'content');
    // A directory fid too; and a dfid that is not the file's directory is EXDEV.
    expect(await c.call({ type: 'Tmkdir', dfid: 0, name: 'd', mode: 0o755, gid: 0 }), 'Rmkdir');
    expect(await c.call({ type: 'Twalk', fid: 0, newfid: 3, wnames: ['d'] }), 'Rwalk');
    assert.equal(expect(await c.call({ type: 'Trename', fid: 2, dfid: 3, name: 'x' }), 'Rlerror').ecode, Errno.EXDEV);
    expect(await c.call({ type: 'Trename', fid: 3, dfid: 0, name: 'e' }), 'Rrename');
    assert.deepEqual([...tree.root.children.keys()].sort(), ['e', 'new']);
  });

  it('Tsetattr of size 2^64-1, 2^63 or past the file limit fails; the file is unchanged', async () => {
    const tree = ramfs({ maxFileSize: MiB });
    const c = new Conn(tree, '9P2000.L');
    await c.attach();
    expect(await c.call({ type: 'Twalk', fid: 0, newfid: 1, wnames: [] }), 'Rwalk');
    expect(await c.call({ type: 'Tlcreate', fid: 1, name: 'f', flags: L_O_RDWR, mode: 0o644, gid: 0 }), 'Rlcreate');
    expect(await c.write(1, 0, enc.encode('abc')), 'Rwrite');
    const setattr = (a: Partial<SetAttr>): SetAttr => ({ valid: 0, mode: 0, uid: 0, gid: 0, size: 0n, atimeSec: 0n, atimeNsec: 0n, mtimeSec: 0n, mtimeNsec: 0n, ...a });
    const size = async (n: bigint) => c.call({ type: 'Tsetattr', fid: 1, attr: setattr({ valid: SETATTR_SIZE, size: n }) });
    assert.equal(expect(await size(0xffffffffffffffffn), 'Rlerror').ecode, Errno.EINVAL);
    assert.equal(expect(await size(1n << 63n), 'Rlerror').ecode, Errno.EINVAL);
    assert.equal(expect(await size(BigInt(MiB) + 1n), 'Rlerror').ecode, Errno.EFBIG);
    expect(await size(BigInt(MiB)), 'Rsetattr');
    expect(await size(3n), 'Rsetattr');
    assert.equal(dec.decode(await c.read(1, 0, 100)), 'abc');
    // A time beyond a stat's u32 is clamped, so the file's stat still encodes.
    expect(await c.call({ type: 'Tsetattr', fid: 1, attr: setattr({ valid: SETATTR_MTIME | SETATTR_MTIME_SET, mtimeSec: 1n << 40n }) }), 'Rsetattr');
    const ga = expect(await c.call({ type: 'Tgetattr', fid: 1, requestMask: 0x7ffn }), 'Rgetattr');
    assert.equal(ga.attr.mtimeSec, 0xfffffffen);
    encode(ga, '9P2000.L');
  });
});
