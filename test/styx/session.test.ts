// shared/styx on its own, over the in-memory transport pair: a Session with a LinuxAdapter in
// front of a ramfs, spoken to in raw 9P messages. Version negotiation, tags, flush, errors with
// their errno in each dialect, the .L translation and the 9P2000 directory cursor.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TBody } from '../../shared/client/index.ts';
import { ramfs } from '../../shared/fs/index.ts';
import {
  type Dialect, DMDIR, Errno, type Message, NOFID, NONUNAME, type Rmsg, type Tmsg, decode, encode, unpackStats,
} from '../../shared/ninep/index.ts';
import {
  type Cancellation, type FileServer, LinuxAdapter, Session, StyxError,
} from '../../shared/styx/index.ts';
import { transportPair } from '../../shared/transport.ts';
import { as } from '../support/rawconn.ts';

/** A client end: sends raw messages, resolves each with the reply of its tag, in arrival order. */
class Wire {
  private readonly waiting = new Map<number, (m: Message) => void>();
  readonly arrived: Message[] = [];
  private tag = 1;
  private readonly send: (f: Uint8Array) => void;

  constructor(fs: FileServer, private dialect: Dialect = '9P2000') {
    const [near, far] = transportPair();
    new Session(far, new LinuxAdapter(fs.connect()), { maxMsize: 65536 });
    near.onMessage((f) => {
      const m = decode(f, this.dialect);
      this.arrived.push(m);
      this.waiting.get(m.tag)?.(m);
      this.waiting.delete(m.tag);
    });
    this.send = (f) => near.send(f);
  }

  /** Sends m (a fresh tag unless it has one); resolves with its reply. */
  rpc(m: TBody): Promise<Message> {
    const t = { tag: this.tag++, ...m } as Tmsg;
    return new Promise((resolve) => {
      this.waiting.set(t.tag, resolve);
      this.send(encode(t, this.dialect));
    });
  }

  async open(version = this.dialect): Promise<void> {
    as(await this.rpc({ type: 'Tversion', tag: 0xffff, msize: 65536, version }), 'Rversion');
    as(await this.rpc({ type: 'Tattach', fid: 0, afid: NOFID, uname: 'glenda', aname: '', nUname: NONUNAME }), 'Rattach');
  }
}

describe('Session, LinuxAdapter and Styxserver over a transport pair', () => {
  it('negotiates: an unknown version is refused, msize is capped at the offer', async () => {
    const w = new Wire(ramfs());
    assert.equal(as(await w.rpc({ type: 'Tversion', tag: 0xffff, msize: 8192, version: '9P1999' }), 'Rversion').version, 'unknown');
    const r = as(await w.rpc({ type: 'Tversion', tag: 0xffff, msize: 1 << 30, version: '9P2000.u' }), 'Rversion');
    assert.deepEqual([r.version, r.msize], ['9P2000.u', 65536]);
  });

  it('answers errors with their errno: Rerror with errno in .u, Rlerror in .L', async () => {
    const u = new Wire(ramfs(), '9P2000.u');
    await u.open();
    const ru = as(await u.rpc({ type: 'Twalk', fid: 0, newfid: 1, wnames: ['nope'] }), 'Rerror');
    assert.deepEqual([ru.ename, ru.errno], ['file does not exist', Errno.ENOENT]);
    const l = new Wire(ramfs(), '9P2000.L');
    await l.open();
    assert.equal(as(await l.rpc({ type: 'Tgetattr', fid: 7, requestMask: 0x7ffn }), 'Rlerror').ecode, Errno.EBADF);
  });

  it('keeps the errno a handler throws, when the message is one the table does not know', async () => {
    const fs: FileServer = {
      connect: () => ({
        version() {},
        close() {},
        call: (t: Tmsg): Promise<Rmsg> => Promise.reject(new StyxError(`no ${t.type} today`, Errno.ENOSPC)),
      }),
    };
    const w = new Wire(fs, '9P2000.L');
    as(await w.rpc({ type: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' }), 'Rversion');
    assert.equal(as(await w.rpc({ type: 'Tattach', fid: 0, afid: NOFID, uname: 'u', aname: '', nUname: NONUNAME }), 'Rlerror').ecode, Errno.ENOSPC);
  });

  it('refuses a tag in flight, and answers a flushed request before its Rflush', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const inner = ramfs();
    const fs: FileServer = {
      connect() {
        const s = inner.connect();
        return {
          version: (d, m) => s.version(d, m),
          close: () => s.close(),
          async call(t: Tmsg, cancel: Cancellation): Promise<Rmsg> {
            if (t.type === 'Tstat') await gate;
            return s.call(t, cancel);
          },
        };
      },
    };
    const w = new Wire(fs);
    await w.open();
    const stat = w.rpc({ type: 'Tstat', tag: 100, fid: 0 });
    assert.equal(as(await w.rpc({ type: 'Tclunk', tag: 100, fid: 0 }), 'Rerror').ename, 'duplicate tag');
    const flushed = w.rpc({ type: 'Tflush', tag: 101, oldtag: 100 });
    release();
    as(await flushed, 'Rflush');
    const order = w.arrived.filter((m) => m.tag === 100 || m.tag === 101).map((m) => m.type);
    // The request answered (it finished while the flush waited) or dropped, never after its Rflush.
    assert.ok(order.at(-1) === 'Rflush' && order.filter((t) => t === 'Rflush').length === 1, order.join(' '));
    void stat;
  });

  it('serves .L requests through the adapter: mkdir, getattr, readdir', async () => {
    const w = new Wire(ramfs(), '9P2000.L');
    await w.open();
    as(await w.rpc({ type: 'Tmkdir', dfid: 0, name: 'd', mode: 0o750, gid: NONUNAME }), 'Rmkdir');
    as(await w.rpc({ type: 'Twalk', fid: 0, newfid: 1, wnames: ['d'] }), 'Rwalk');
    const a = as(await w.rpc({ type: 'Tgetattr', fid: 1, requestMask: 0x7ffn }), 'Rgetattr').attr;
    assert.equal(a.mode & 0o170777, 0o040750);
    as(await w.rpc({ type: 'Tlopen', fid: 0, flags: 0 }), 'Rlopen');
    const rd = as(await w.rpc({ type: 'Treaddir', fid: 0, offset: 0n, count: 4096 }), 'Rreaddir');
    assert.ok(rd.data.length > 0);
  });

  it('reads a 9P2000 directory from where the last read ended, and refuses any other offset', async () => {
    const w = new Wire(ramfs());
    await w.open();
    for (const name of ['a', 'b', 'c']) {
      as(await w.rpc({ type: 'Twalk', fid: 0, newfid: 1, wnames: [] }), 'Rwalk');
      as(await w.rpc({ type: 'Tcreate', fid: 1, name, perm: (DMDIR | 0o755) >>> 0, mode: 0, extension: '' }), 'Rcreate');
      as(await w.rpc({ type: 'Tclunk', fid: 1 }), 'Rclunk');
    }
    as(await w.rpc({ type: 'Topen', fid: 0, mode: 0 }), 'Ropen');
    // Room for one stat per read.
    const first = as(await w.rpc({ type: 'Tread', fid: 0, offset: 0n, count: 80 }), 'Rread').data;
    assert.equal(unpackStats(first, '9P2000').length, 1);
    assert.equal(as(await w.rpc({ type: 'Tread', fid: 0, offset: 1n, count: 80 }), 'Rerror').ename, 'bad offset in directory read');
    const names = unpackStats(first, '9P2000').map((s) => s.name);
    let at = BigInt(first.length);
    for (;;) {
      const d = as(await w.rpc({ type: 'Tread', fid: 0, offset: at, count: 80 }), 'Rread').data;
      if (d.length === 0) break;
      names.push(...unpackStats(d, '9P2000').map((s) => s.name));
      at += BigInt(d.length);
    }
    assert.deepEqual(names, ['a', 'b', 'c']);
    // Offset 0 starts over.
    assert.equal(unpackStats(as(await w.rpc({ type: 'Tread', fid: 0, offset: 0n, count: 80 }), 'Rread').data, '9P2000')[0].name, 'a');
  });
});
