// Styxserver: one connection's fid table and the default answer to every request, driven by a
// Navigator (Inferno's styxservers, async). A program either leaves everything to `default` or runs
// a message loop that handles some requests itself and passes the rest to srv.default(m).
import {
  type Dialect, DirReadBuilder, DMDIR, IOHDRSZ, DT_DIR, DT_LNK, DT_REG, MAX_MSIZE, NOFID, OEXEC, ORDWR, OREAD,
  OTRUNC, OWRITE, type Qid, QTDIR, QTSYMLINK, type Rmsg, type Stat, type Tmsg, type Treaddir, type Tread,
  type MessageOf, type Rread,
} from '../ninep/index.ts';
import { type Dir, toStat } from './dir.ts';
import {
  Ebadfid, Eexist, Einuse, Eisdir, Enoauth, Enotdir, Enotfound, Enotopen, Eopen, Eperm,
  Etoomanyfids, Eunsupported, StyxError,
} from './errors.ts';
import { Fid } from './fid.ts';
import { advanceDir, seekDir } from './dircursor.ts';
import type { Cancellation, FileServer, Service } from './service.ts';
import type { Navigator } from './navigator.ts';
import { errText } from '../errtext.ts';

/** A request as the program sees it: the T-message plus the signal its flush aborts. */
export type Request = Tmsg & { readonly signal: AbortSignal };
export type RequestOf<K extends Tmsg['type']> = MessageOf<K> & { readonly signal: AbortSignal };

export interface StyxOptions {
  /** Owner reported for entries that name none. */
  user?: string;
  /** iounit in Ropen/Rcreate: 0 (the default) lets the client use msize - 24; 'msize' states
   * msize - 24 outright, as Inferno's styxservers does. */
  iounit?: number | 'msize';
  maxFids?: number;
  /** Where a program's errors go (a thrown handler, a bad reply). */
  log?: (line: string) => void;
}

/** The loop a program runs over its requests. */
export type ServeLoop = (tmsgs: AsyncIterable<Request>, srv: Styxserver) => Promise<void>;

/**
 * A handler called at once for each request (no queue, no async iteration); it must answer every
 * request, by reply/error or by passing it to srv.default. What Tree uses: it never waits in its
 * loop, so the loop's machinery would only cost time.
 */
export type ServeHandler = (m: Tmsg, cancel: Cancellation, srv: Styxserver) => void;

/** The reply type each request type expects (built once: string concatenation per request adds up). */
const EXPECT = new Map<string, string>();
const expectedReply = (type: string): string => {
  let r = EXPECT.get(type);
  if (r === undefined) EXPECT.set(type, (r = 'R' + type.slice(1)));
  return r;
};

export const DEFAULT_MAX_FIDS = 4096;

export class Styxserver implements Service {
  readonly fids = new Map<number, Fid>();
  readonly user: string;
  private readonly iounitOpt: number | 'msize';
  readonly maxFids: number;
  dialect: Dialect = '9P2000';
  msize = MAX_MSIZE;
  private readonly log: (line: string) => void;
  /** Requests not yet answered, by tag, with the reply type each expects. */
  private readonly waiting = new Map<number, { expect: string; resolve: (r: Rmsg) => void }>();
  private readonly queue: Request[] = [];
  private wake: (() => void) | null = null;
  private looping = false;
  private handler: ServeHandler | null = null;
  private closed = false;
  private lastYielded: Request | null = null;

  constructor(readonly nav: Navigator, readonly rootPath: bigint, opts: StyxOptions = {}) {
    this.user = opts.user ?? 'styx';
    this.iounitOpt = opts.iounit ?? 0;
    this.maxFids = opts.maxFids ?? DEFAULT_MAX_FIDS;
    this.log = opts.log ?? ((line) => console.error(line));
  }

  get iounit(): number {
    return this.iounitOpt === 'msize' ? this.msize - 24 : this.iounitOpt;
  }

  // ---- Service ----

  version(dialect: Dialect, msize: number): void {
    this.dialect = dialect;
    this.msize = msize;
    this.fids.clear();
  }

  call(t: Tmsg, cancel: Cancellation): Promise<Rmsg> {
    return new Promise<Rmsg>((resolve) => {
      this.waiting.set(t.tag, { expect: expectedReply(t.type), resolve });
      if (this.handler) {
        try {
          this.handler(t, cancel, this);
        } catch (e) {
          const msg = errText(e);
          this.log(`styx: handler error: ${msg}`);
          this.error(t, msg);
        }
      } else if (this.looping) {
        // A program's loop sees the request with its signal (made here, as the program may wait).
        const req = t as Request;
        (req as { signal: AbortSignal }).signal = cancel.signal;
        this.queue.push(req);
        const w = this.wake;
        this.wake = null;
        w?.();
      } else {
        this.default(t);
      }
    });
  }

  get fidCount(): number {
    return this.fids.size;
  }

  close(): void {
    this.closed = true;
    this.fids.clear();
    for (const [tag, w] of this.waiting) w.resolve({ type: 'Rerror', tag, ename: 'connection closed', errno: 0 });
    this.waiting.clear();
    this.queue.length = 0;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  // ---- the program's side ----

  /** Has every request go to `handler` as it arrives (see ServeHandler), instead of a loop. */
  handle(handler: ServeHandler): void {
    this.handler = handler;
  }

  /** Runs a message loop; a loop that throws has its current request answered with the error and is started again. */
  run(loop: ServeLoop): void {
    this.looping = true;
    void (async () => {
      while (!this.closed) {
        try {
          await loop(this.tmsgs(), this);
          break;
        } catch (e) {
          const msg = errText(e);
          this.log(`styx: handler error: ${msg}`);
          const cur = this.lastYielded;
          if (cur && this.waiting.has(cur.tag)) this.error(cur, msg);
        }
      }
      // A loop that returned leaves the rest to the defaults.
      this.looping = false;
      for (const r of this.queue.splice(0)) this.default(r);
    })();
  }

  /** The requests, one at a time, for a program's `for await` loop. */
  async *tmsgs(): AsyncGenerator<Request> {
    while (!this.closed) {
      const r = this.queue.shift();
      if (r) {
        this.lastYielded = r;
        yield r;
        continue;
      }
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
  }

  /** Sends the reply to a request (by its tag). A reply of the wrong type becomes an error. */
  reply(r: Rmsg): void {
    const w = this.waiting.get(r.tag);
    if (!w) return; // flushed, or answered already
    this.waiting.delete(r.tag);
    if (r.type !== w.expect && r.type !== 'Rerror') {
      this.log(`styx: the program answered a T${w.expect.slice(1)} with ${r.type}`);
      r = { type: 'Rerror', tag: r.tag, ename: `server bug: ${r.type} in reply to T${w.expect.slice(1)}`, errno: 0 };
    }
    w.resolve(r);
  }

  /** Answers a request with an error string. */
  error(m: Tmsg, ename: string): void {
    this.reply({ type: 'Rerror', tag: m.tag, ename, errno: 0 });
  }

  getfid(fid: number): Fid | undefined {
    return this.fids.get(fid);
  }

  delfid(fid: number): void {
    this.fids.delete(fid);
  }

  /** The default answer to any request (styxservers' Styxserver.default). */
  default(m: Tmsg): void {
    this.answer(m).then(
      (r) => this.reply(r),
      (e: unknown) => {
        if (!(e instanceof StyxError)) this.log(`styx: ${m.type}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
        this.error(m, errText(e));
      },
    );
  }

  async stat(path: bigint): Promise<Stat> {
    return toStat(await this.nav.stat(path), this.user);
  }

  /** Answers a directory read (9P2000/.u Tread on a directory) from the Navigator. */
  async readDir(f: Fid, m: Tread): Promise<Rread> {
    const b = new DirReadBuilder(Math.min(m.count, this.msize - IOHDRSZ), this.dialect);
    await this.fillDir(f.path, seekDir(f, m.offset), (d) => b.addStat(toStat(d, this.user)));
    advanceDir(f, b);
    return { type: 'Rread', tag: m.tag, data: b.bytes() };
  }

  /** Answers a .L Treaddir; the cookie of each entry is the index of the one after it. */
  async readDirents(f: Fid, m: Treaddir): Promise<Rmsg> {
    const start = Number(m.offset);
    const b = new DirReadBuilder(Math.min(m.count, this.msize - 24), '9P2000.L');
    let index = start;
    await this.fillDir(f.path, start, (d) => {
      const type = d.mode & DMDIR ? DT_DIR : d.qid.type & QTSYMLINK ? DT_LNK : DT_REG;
      const ok = b.addDirent({ qid: d.qid, offset: BigInt(index + 1), type, name: d.name });
      if (ok) index++;
      return ok;
    });
    return { type: 'Rreaddir', tag: m.tag, data: b.bytes() };
  }

  private async fillDir(path: bigint, start: number, add: (d: Dir) => boolean): Promise<void> {
    let index = start;
    for (let rounds = 0; rounds < 1024; rounds++) {
      const batch = await this.nav.readdir(path, index, 64);
      if (batch.length === 0) return;
      for (const d of batch) {
        if (!add(d)) return;
        index++;
      }
    }
  }

  private fid(fid: number): Fid {
    const f = this.fids.get(fid);
    if (!f) throw new StyxError(Ebadfid);
    return f;
  }

  private newFid(fid: number, path: bigint, qtype: number, uname: string, aname: string): Fid {
    if (fid === NOFID) throw new StyxError(Ebadfid);
    if (this.fids.has(fid)) throw new StyxError(Einuse);
    if (this.fids.size >= this.maxFids) throw new StyxError(Etoomanyfids);
    const f = new Fid(fid, path, qtype, uname, aname);
    this.fids.set(fid, f);
    return f;
  }

  private async answer(m: Tmsg): Promise<Rmsg> {
    const tag = m.tag;
    switch (m.type) {
      case 'Tauth':
        throw new StyxError(Enoauth);
      case 'Tattach': {
        if (this.fids.has(m.fid)) throw new StyxError(Einuse);
        const d = await this.nav.stat(this.rootPath);
        const uname = m.uname || (m.nUname !== 0xffffffff ? String(m.nUname) : 'nobody');
        this.newFid(m.fid, this.rootPath, d.qid.type, uname, m.aname);
        return { type: 'Rattach', tag, qid: d.qid };
      }
      case 'Twalk': return this.walk(m);
      case 'Topen': {
        const f = this.fid(m.fid);
        if (f.isOpen) throw new StyxError(Eopen);
        const st = await this.stat(f.path);
        checkOpen(st, f.uname, m.mode);
        f.isOpen = true;
        f.mode = m.mode;
        f.qtype = st.qid.type;
        return { type: 'Ropen', tag, qid: st.qid, iounit: this.iounit };
      }
      case 'Tcreate': {
        const f = this.fid(m.fid);
        if (f.isOpen) throw new StyxError(Eopen);
        if (!f.isDir) throw new StyxError(Enotdir);
        // The default file system is read-only; a name that exists says so more precisely.
        const exists = await this.nav.walk(f.path, m.name).then(() => true, () => false);
        throw new StyxError(exists ? Eexist : Eperm);
      }
      case 'Tread': {
        const f = this.fid(m.fid);
        if (!f.canRead()) throw new StyxError(Enotopen);
        if (f.isDir) return this.readDir(f, m);
        throw new StyxError(Eperm);
      }
      case 'Treaddir': {
        const f = this.fid(m.fid);
        if (!f.isOpen) throw new StyxError(Enotopen);
        if (!f.isDir) throw new StyxError(Enotdir);
        return this.readDirents(f, m);
      }
      case 'Twrite': {
        const f = this.fid(m.fid);
        if (!f.canWrite()) throw new StyxError(Enotopen);
        throw new StyxError(f.isDir ? Eisdir : Eperm);
      }
      case 'Tclunk':
        this.fid(m.fid);
        this.fids.delete(m.fid);
        return { type: 'Rclunk', tag };
      case 'Tremove':
        this.fid(m.fid);
        this.fids.delete(m.fid); // remove(5): the fid is clunked even when the remove fails
        throw new StyxError(Eperm);
      case 'Tstat':
        return { type: 'Rstat', tag, stat: await this.stat(this.fid(m.fid).path) };
      case 'Twstat':
        this.fid(m.fid);
        throw new StyxError(Eperm);
      case 'Tversion':
      case 'Tflush':
        throw new StyxError(`${m.type} reached the file system`);
      default:
        throw new StyxError(Eunsupported);
    }
  }

  private async walk(m: MessageOf<'Twalk'>): Promise<Rmsg> {
    const f = this.fid(m.fid);
    // walk(5) forbids walking an open fid. Linux clients clone open directory fids (diodls -l walks
    // from the fid it is reading), and diod allows that, so .L may clone one; the clone is not open.
    if (f.isOpen && (this.dialect !== '9P2000.L' || m.newfid === m.fid)) throw new StyxError(Eopen);
    if (m.newfid !== m.fid && this.fids.has(m.newfid)) throw new StyxError(Einuse);
    const qids: Qid[] = [];
    let path = f.path;
    let qtype = f.qtype;
    for (const name of m.wnames) {
      try {
        if (!(qtype & QTDIR)) throw new StyxError(Enotdir);
        if (name.includes('/') || name === '') throw new StyxError(Enotfound);
        const d = await this.nav.walk(path, name);
        qids.push(d.qid);
        path = d.qid.path;
        qtype = d.qid.type;
      } catch (e) {
        if (qids.length === 0) throw e;
        return { type: 'Rwalk', tag: m.tag, qids };
      }
    }
    if (m.newfid === m.fid) {
      f.path = path;
      f.qtype = qtype;
    } else {
      this.newFid(m.newfid, path, qtype, f.uname, f.aname);
    }
    return { type: 'Rwalk', tag: m.tag, qids };
  }
}

/** Permission for an open (open(5)): read, write or exec by the owner or by others. */
export function checkOpen(st: Stat, uname: string, mode: number): void {
  const acc = mode & 3;
  let need = acc === OREAD ? 4 : acc === OWRITE ? 2 : acc === ORDWR ? 6 : 1;
  if (mode & OTRUNC) need |= 2;
  if (st.mode & DMDIR && (acc !== OREAD || mode & OTRUNC)) throw new StyxError(Eisdir);
  if (acc === OEXEC && st.mode & DMDIR) need = 1;
  if (!permits(st, uname, need)) throw new StyxError(Eperm);
}

export function permits(st: Stat, uname: string, need: number): boolean {
  let bits = st.mode & 7;
  if (uname === st.uid) bits |= (st.mode >> 6) & 7;
  if (uname === st.gid) bits |= (st.mode >> 3) & 7;
  return (bits & need) === need;
}

/** A FileServer that gives each connection a Styxserver over one Navigator, running `loop` if given. */
export function styxFileServer(nav: Navigator, rootPath: bigint, loop?: ServeLoop, opts?: StyxOptions): FileServer {
  return {
    connect() {
      const srv = new Styxserver(nav, rootPath, opts);
      if (loop) srv.run(loop);
      return srv;
    },
  };
}

