// Styxserver: one connection's fid table and the default answer to every request, driven by a
// Navigator (Inferno's styxservers, async). A program either leaves everything to `default` or runs
// a message loop that handles some requests itself and passes the rest to srv.default(m).
import {
  type Dialect, DirReadBuilder, DMDIR, IOHDRSZ, DT_DIR, DT_LNK, DT_REG, Errno, MAX_MSIZE, NOFID, ORDWR, OREAD, OTRUNC,
  OWRITE, type Qid, QTDIR, QTSYMLINK, type Rmsg, type Stat, type Tattach, type Tclunk, type Tcreate, type Tmsg,
  type Topen, type Tread, type Treaddir, type Tremove, type Tstat, type Twalk, type Twrite, type MessageOf,
  type Rread,
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
  /** iounit in Ropen/Rcreate: 0 (the default) lets the client use msize - IOHDRSZ; 'msize' states
   * msize - IOHDRSZ outright, as Inferno's styxservers does. */
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
    return this.iounitOpt === 'msize' ? this.msize - IOHDRSZ : this.iounitOpt;
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

  /** Answers a request with an error: a string, or a StyxError (its errno goes along to .u and .L clients). */
  error(m: Tmsg, e: string | StyxError): void {
    if (typeof e === 'string') this.reply({ type: 'Rerror', tag: m.tag, ename: e, errno: 0 });
    else this.reply({ type: 'Rerror', tag: m.tag, ename: e.message, errno: e.errno });
  }

  getfid(fid: number): Fid | undefined {
    return this.fids.get(fid);
  }

  delfid(fid: number): void {
    this.fids.delete(fid);
  }

  /**
   * The default answer to any request (styxservers' Styxserver.default), made of the operations
   * below: a program that handles a request itself can use the same pieces.
   */
  default(m: Tmsg): void {
    switch (m.type) {
      case 'Tattach': void this.attach(m); return;
      case 'Twalk': void this.walk(m); return;
      case 'Topen': void this.open(m); return;
      case 'Tcreate': void this.create(m); return;
      case 'Tread':
        // A file's read left to the default: it has nothing to read from.
        if (this.read(m)) this.error(m, Eperm);
        return;
      case 'Treaddir': this.readEntries(m); return;
      case 'Twrite': {
        const f = this.canwrite(m);
        this.error(m, f instanceof StyxError ? f : new StyxError(f.isDir ? Eisdir : Eperm));
        return;
      }
      case 'Tclunk': this.clunk(m); return;
      case 'Tremove': this.remove(m); return;
      case 'Tstat': void this.stat(m); return;
      case 'Twstat':
        this.error(m, this.fids.has(m.fid) ? Eperm : Ebadfid);
        return;
      case 'Tauth': this.error(m, Enoauth); return;
      case 'Tversion':
      case 'Tflush':
        this.error(m, `${m.type} reached the file system`);
        return;
      default:
        this.error(m, Eunsupported);
    }
  }

  // ---- styxservers' can*: validate a request without answering it ----

  /** An open the fid may make: it exists, is not open yet, and its user may open the file in that mode (open(5)). */
  async canopen(m: Topen): Promise<Opening | StyxError> {
    const f = this.fids.get(m.fid);
    if (!f) return new StyxError(Ebadfid);
    if (f.isOpen) return new StyxError(Eopen);
    const dir = await this.navStat(f.path);
    if (dir instanceof StyxError) return dir;
    return openError(toStat(dir, this.user), f.uname, m.mode) ?? { fid: f, mode: m.mode, dir };
  }

  /** A read the fid may make: it is open for reading (OREAD, ORDWR or OEXEC). */
  canread(m: Tread | Treaddir): Fid | StyxError {
    const f = this.fids.get(m.fid);
    if (!f) return new StyxError(Ebadfid);
    return f.canRead() ? f : new StyxError(Enotopen);
  }

  /** A write the fid may make: it is open for writing (OWRITE or ORDWR). */
  canwrite(m: Twrite): Fid | StyxError {
    const f = this.fids.get(m.fid);
    if (!f) return new StyxError(Ebadfid);
    return f.canWrite() ? f : new StyxError(Enotopen);
  }

  /**
   * A create the fid may make (create(5)): it is an unopened directory its user may write, and the
   * name is one an entry may have and no entry has yet. `perm` is the new file's, limited by the
   * directory's.
   */
  async cancreate(m: Tcreate): Promise<Creating | StyxError> {
    const f = this.fids.get(m.fid);
    if (!f) return new StyxError(Ebadfid);
    if (f.isOpen) return new StyxError(Eopen);
    if (!f.isDir) return new StyxError(Enotdir);
    const bad = nameError(m.name);
    if (bad) return bad;
    const dir = await this.navStat(f.path);
    if (dir instanceof StyxError) return dir;
    if (!((await this.navWalk(f.path, m.name)) instanceof StyxError)) return new StyxError(Eexist);
    if (!permits(toStat(dir, this.user), f.uname, 2)) return new StyxError(Eperm);
    const perm = (m.perm & ~0o777) | (m.perm & dir.mode & (m.perm & DMDIR ? 0o777 : 0o666));
    return { fid: f, mode: m.mode, dir, perm: perm >>> 0 };
  }

  /**
   * A remove the fid may make: not the root, and its user may write the directory holding the file.
   * remove(5) clunks the fid whether or not the remove succeeds: the caller deletes it either way.
   */
  async canremove(m: Tremove): Promise<Removing | StyxError> {
    const f = this.fids.get(m.fid);
    if (!f) return new StyxError(Ebadfid);
    if (f.path === this.rootPath) return new StyxError(Eperm);
    const parent = await this.navWalk(f.path, '..');
    if (parent instanceof StyxError) return parent;
    if (!permits(toStat(parent, this.user), f.uname, 2)) return new StyxError(Eperm);
    return { fid: f, parent };
  }

  // ---- styxservers' operations: validate, answer, and return the fid for the program to go on with ----

  /** Attaches the fid to the root; the new Fid, or null when answered with an error. */
  async attach(m: Tattach): Promise<Fid | null> {
    try {
      if (this.fids.has(m.fid)) throw new StyxError(Einuse);
      const d = await this.nav.stat(this.rootPath);
      const uname = m.uname || (m.nUname !== 0xffffffff ? String(m.nUname) : 'nobody');
      const f = this.newFid(m.fid, this.rootPath, d.qid.type, uname, m.aname);
      this.reply({ type: 'Rattach', tag: m.tag, qid: d.qid });
      return f;
    } catch (e) {
      return this.fail(m, e);
    }
  }

  /** Walks (walk(5)); the fid at the end of a complete walk, or null (an error, or a walk cut short). */
  async walk(m: Twalk): Promise<Fid | null> {
    try {
      const f = this.fid(m.fid);
      // walk(5) forbids walking an open fid. Linux clients clone open directory fids (diodls -l
      // walks from the fid it is reading), and diod allows that, so .L may clone one; the clone is not open.
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
          this.reply({ type: 'Rwalk', tag: m.tag, qids });
          return null;
        }
      }
      let to = f;
      if (m.newfid === m.fid) {
        f.path = path;
        f.qtype = qtype;
      } else {
        to = this.newFid(m.newfid, path, qtype, f.uname, f.aname);
      }
      this.reply({ type: 'Rwalk', tag: m.tag, qids });
      return to;
    } catch (e) {
      return this.fail(m, e);
    }
  }

  /** Opens (canopen, then Ropen); the open Fid, or null when answered with an error. */
  async open(m: Topen): Promise<Fid | null> {
    try {
      const o = await this.canopen(m);
      if (o instanceof StyxError) throw o;
      o.fid.open(m.mode, o.dir.qid.type);
      this.reply({ type: 'Ropen', tag: m.tag, qid: o.dir.qid, iounit: this.iounit });
      return o.fid;
    } catch (e) {
      return this.fail(m, e);
    }
  }

  /** The default file system makes nothing: permission denied, or why not even that. */
  async create(m: Tcreate): Promise<void> {
    try {
      const c = await this.cancreate(m);
      this.error(m, c instanceof StyxError ? c : new StyxError(Eperm));
    } catch (e) {
      this.fail(m, e);
    }
  }

  /**
   * A read: a directory's is answered here (from the Navigator), as is a fid that may not read.
   * Otherwise the Fid comes back, unanswered, for the program to answer.
   */
  read(m: Tread): Fid | null {
    const f = this.canread(m);
    if (f instanceof StyxError) return this.fail(m, f);
    if (!f.isDir) return f;
    this.readDir(f, m).then((r) => this.reply(r), (e: unknown) => this.fail(m, e));
    return null;
  }

  /** Forgets the fid and answers Rclunk; the Fid it was (for the program to let go of its data), or null. */
  clunk(m: Tclunk): Fid | null {
    const f = this.fids.get(m.fid);
    if (!f) return this.fail(m, new StyxError(Ebadfid));
    this.fids.delete(m.fid);
    this.reply({ type: 'Rclunk', tag: m.tag });
    return f;
  }

  /** The default file system removes nothing: the fid is clunked (remove(5)) and the answer is permission denied. */
  remove(m: Tremove): Fid | null {
    const f = this.fids.get(m.fid);
    if (!f) return this.fail(m, new StyxError(Ebadfid));
    this.fids.delete(m.fid);
    this.error(m, Eperm);
    return f;
  }

  /** Answers Tstat from the Navigator. */
  async stat(m: Tstat): Promise<void> {
    try {
      this.reply({ type: 'Rstat', tag: m.tag, stat: toStat(await this.nav.stat(this.fid(m.fid).path), this.user) });
    } catch (e) {
      this.fail(m, e);
    }
  }

  /** Answers a request with what went wrong (a program's bug is logged with its stack); null, for returning. */
  private fail(m: Tmsg, e: unknown): null {
    if (!(e instanceof StyxError)) this.log(`styx: ${m.type}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    this.error(m, e instanceof StyxError ? e : errText(e));
    return null;
  }

  /** What the Navigator says, with its refusals as values (a bug still throws). */
  private async navStat(path: bigint): Promise<Dir | StyxError> {
    try {
      return await this.nav.stat(path);
    } catch (e) {
      if (e instanceof StyxError) return e;
      throw e;
    }
  }

  private async navWalk(path: bigint, name: string): Promise<Dir | StyxError> {
    try {
      return await this.nav.walk(path, name);
    } catch (e) {
      if (e instanceof StyxError) return e;
      throw e;
    }
  }

  /** Answers a directory read (9P2000/.u Tread on a directory) from the Navigator. */
  async readDir(f: Fid, m: Tread): Promise<Rread> {
    const b = new DirReadBuilder(Math.min(m.count, this.msize - IOHDRSZ), this.dialect);
    await this.fillDir(f, seekDir(f, m.offset), (d) => b.addStat(toStat(d, this.user)));
    advanceDir(f, b);
    return { type: 'Rread', tag: m.tag, data: b.bytes() };
  }

  /** Answers a .L Treaddir; the cookie of each entry is the index of the one after it. */
  async readDirents(f: Fid, m: Treaddir): Promise<Rmsg> {
    const start = Number(m.offset);
    const b = new DirReadBuilder(Math.min(m.count, this.msize - IOHDRSZ), '9P2000.L');
    let index = start;
    await this.fillDir(f, start, (d) => {
      const type = d.mode & DMDIR ? DT_DIR : d.qid.type & QTSYMLINK ? DT_LNK : DT_REG;
      const ok = b.addDirent({ qid: d.qid, offset: BigInt(index + 1), type, name: d.name });
      if (ok) index++;
      return ok;
    });
    return { type: 'Rreaddir', tag: m.tag, data: b.bytes() };
  }

  private async fillDir(f: Fid, start: number, add: (d: Dir) => boolean): Promise<void> {
    let index = start;
    for (let rounds = 0; rounds < 1024; rounds++) {
      const batch = await this.nav.readdir(f.path, index, 64, f);
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

  /** A .L directory read (Treaddir). */
  private readEntries(m: Treaddir): void {
    const f = this.canread(m);
    if (f instanceof StyxError) return void this.fail(m, f);
    if (!f.isDir) return void this.fail(m, new StyxError(Enotdir));
    this.readDirents(f, m).then((r) => this.reply(r), (e: unknown) => this.fail(m, e));
  }
}

/** What canopen found: the fid, the mode asked for, and the file. */
export interface Opening { fid: Fid; mode: number; dir: Dir }
/** What cancreate found: the directory's fid and entry, the mode asked for, and the new file's perm. */
export interface Creating { fid: Fid; mode: number; dir: Dir; perm: number }
/** What canremove found: the fid and the directory holding its file. */
export interface Removing { fid: Fid; parent: Dir }

/** Why an open (open(5)) is refused: a directory opened for anything but reading, or no permission; null when allowed. */
export function openError(st: Stat, uname: string, mode: number): StyxError | null {
  const acc = mode & 3;
  if (st.mode & DMDIR && (acc !== OREAD || mode & OTRUNC)) return new StyxError(Eisdir);
  const need = (acc === OREAD ? 4 : acc === OWRITE ? 2 : acc === ORDWR ? 6 : 1) | (mode & OTRUNC ? 2 : 0);
  return permits(st, uname, need) ? null : new StyxError(Eperm);
}

/** Read, write or exec (4, 2, 1) by the owner, the group or others. */
export function permits(st: Stat, uname: string, need: number): boolean {
  let bits = st.mode & 7;
  if (uname === st.uid) bits |= (st.mode >> 6) & 7;
  if (uname === st.gid) bits |= (st.mode >> 3) & 7;
  return (bits & need) === need;
}

/** Why no directory entry may have this name ('', '.', '..', or holding '/' or NUL): EINVAL; null for a good name. */
export function nameError(name: string): StyxError | null {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    return new StyxError(`bad file name ${JSON.stringify(name)}`, Errno.EINVAL);
  }
  return null;
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

