// A mount served by another 9P server over a Client connection: a remote server such as diod, or
// a page's worker over WebSocket. Each local connection gets a RemoteView that maps its fids onto
// fids of the shared connection, keeps '..' inside the mount, and has the canonical requests
// (9P2000 with the .u fields, plus Treaddir) said in the remote's dialect (dialect/client.ts), so a
// 9P2000 client can read a .L-only server; a .L client's .L requests to a .L remote pass through.
import {
  type Dialect, DirReadBuilder, IOHDRSZ, Errno, FID_OFFSET, type ForwardedCall, MsgType, ProtocolError, type Qid, QTDIR,
  type Rmsg, type Stat, type TagMux, type Tmsg, badNewName, badWalkName, capReadCount, frameTag, frameType, frameU32,
  setFrameU32,
} from '../../shared/ninep/index.ts';
import { type CallOptions, type Client, NinepError, RpcHandle } from '../../shared/client/index.ts';
import {
  type AbortWatcher, type Cancellation, Ebadfid, Edown, Einuse, Enoauth, Enotfound, Eunsupported, type FileServer, type Service, StyxError,
  type DirCursor, advanceDir, errorReply, seekDir,
} from '../../shared/styx/index.ts';
import { fidsOf, mapFids, passable } from '../../shared/styx/dialect/passthrough.ts';
import { direntType } from '../../shared/styx/dialect/convert.ts';
import { remoteCreate, remoteEntries, remoteOpen, remoteStat, remoteWstat } from '../../shared/styx/dialect/client.ts';

export interface RemoteOptions {
  /** A request not answered within this many ms fails; onDeadline is told (0: no deadline). */
  deadlineMs?: number;
  onDeadline?: (what: string) => void;
  /** A request past its deadline was not settled by the remote within another deadline either. */
  onUnresponsive?: (what: string) => void;
}

/** A FileServer over one Client connection; replace the connection with `attach` (reconnects). */
export class RemoteFileServer implements FileServer {
  private client: Client | null;
  /** The current connection's tag space, when requests may be forwarded on it as bytes. */
  private mux: TagMux | null;
  /** Bumped on every new connection: fids of an older one are stale. */
  generation = 0;
  readonly views = new Set<RemoteView>();
  /** Requests under a deadline, oldest first (they all get the same one, so this is due order). */
  private readonly pending = new Set<Deadlined>();
  private sweeper: ReturnType<typeof setInterval> | null = null;

  /**
   * client: null for a mount that starts down and is attached when it connects. mux: the TagMux
   * the client's transport comes from, if any: .L requests of .L clients then pass as bytes.
   */
  constructor(client: Client | null, readonly opts: RemoteOptions = {}, mux?: TagMux) {
    this.client = client;
    this.mux = client ? mux ?? null : null;
    client?.onClose(() => this.lost(client));
  }

  private lost(client: Client): void {
    if (this.client !== client) return;
    this.client = null;
    this.mux = null;
  }

  /** The current connection's TagMux, while it is up. */
  get wire(): TagMux | null { return this.mux; }

  get connected(): boolean { return this.client !== null; }

  current(): Client {
    if (!this.client) throw new StyxError(Edown, Errno.EHOSTDOWN);
    return this.client;
  }

  /** Uses a new connection from now on (after a reconnect); mux as for the constructor. */
  attach(client: Client, mux?: TagMux): void {
    this.client = client;
    this.mux = mux ?? null;
    this.generation++;
    client.onClose(() => this.lost(client));
  }

  /** A rename at the remote: every fid of this connection at `from` or under it is now at `to`
   * (their paths serve '..' and shadow walks from the root, which must find the new names). */
  renamed(from: readonly string[], to: readonly string[]): void {
    for (const v of this.views) v.moved(this.generation, from, to);
  }

  connect(): Service {
    const v = new RemoteView(this);
    this.views.add(v);
    return v;
  }

  /** Watches p until it is settled (see Pending). */
  track(p: Deadlined): void {
    this.pending.add(p);
    if (!this.sweeper) {
      const ms = this.opts.deadlineMs ?? 0;
      // One timer for every request: a sweep a few times per deadline, looking at the oldest.
      this.sweeper = setInterval(() => this.sweep(), Math.max(1, ms >> 2));
      this.sweeper.unref?.();
    }
  }

  /** The sweep stops its timer once it finds nothing pending: one request at a time (a reader
   * with one read out) would otherwise start and stop a timer per request. */
  untrack(p: Deadlined): void {
    this.pending.delete(p);
  }

  private stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  private sweep(): void {
    const now = Date.now();
    const ms = this.opts.deadlineMs ?? 0;
    const late: Deadlined[] = [];
    for (const p of this.pending) {
      if (p.due > now) break;
      late.push(p);
    }
    for (const p of late) {
      this.pending.delete(p);
      const what = `${p.what} not answered within ${ms} ms`;
      if (!p.late) {
        // The local client hears ETIMEDOUT now; the remote is flushed and has another deadline.
        p.late = true;
        p.due = now + ms;
        const err = new StyxError(what, Errno.ETIMEDOUT);
        p.stop(err);
        this.opts.onDeadline?.(what);
        p.expire(err);
        this.pending.add(p);
      } else if (p.outstanding()) {
        this.opts.onUnresponsive?.(what);
      }
    }
    if (this.pending.size === 0) this.stopSweeper();
  }

  /** Live remote fids across all views. */
  get fidCount(): number {
    let n = 0;
    for (const v of this.views) n += v.fidCount;
    return n;
  }
}

/** Errors of a connection that is gone, as the client library reports them. */
const LOST = new Set<number>([Errno.ESHUTDOWN, Errno.ECONNRESET, Errno.EHOSTDOWN]);

interface RFid {
  rfid: number;
  generation: number;
  qtype: number;
  /** Names from the remote attach point to the file: its name for stats built from .L getattr,
   * and its directory for renames (a file cannot walk ".."). */
  path: string[];
  isOpen: boolean;
  /** Directory read emulation state. */
  dir?: DirState;
}

/** Directory read emulation: the remote's entries as stats, and the local client's cursor over them. */
interface DirState extends DirCursor {
  /** Entries read so far (canonical stats), and whether the remote has no more. */
  entries: Stat[];
  eof: boolean;
  /** Remote position: byte offset (9P2000/.u) or cookie (.L). */
  remoteOffset: bigint;
}

/**
 * A request out at the remote under a deadline, as the sweep sees it. At the deadline the local
 * client is answered ETIMEDOUT (expire) and the remote flushed (stop); a remote that settles
 * neither within another deadline is unresponsive.
 */
interface Deadlined {
  /** The request's type, for the messages. */
  readonly what: string;
  due: number;
  late: boolean;
  stop(reason: unknown): void;
  expire(err: StyxError): void;
  /** Still waiting for the remote (its reply or its Rflush). */
  outstanding(): boolean;
}

/**
 * A request forwarded under a deadline: the one record the sweep, the local flush (watch) and
 * the client (as the RpcHandle of its rpc) follow it by.
 */
class Pending extends RpcHandle implements AbortWatcher, CallOptions, Deadlined {
  late = false;
  constructor(readonly t: Tmsg, public due: number, private readonly settle: (r: Rmsg) => void) { super(); }

  get what(): string { return this.t.type; }

  /** As CallOptions: the rpcs made for this request are tracked by it. */
  get handle(): RpcHandle { return this; }

  expire(err: StyxError): void { this.answer(errorReply(this.t.tag, err)); }

  outstanding(): boolean { return this.client?.outstanding(this) ?? false; }

  aborted(): void { this.stop(undefined); }

  /** Flushes the rpc out now, and fails any later one. */
  stop(reason: unknown): void {
    if (this.client) this.client.cancel(this, reason);
    else {
      this.cancelled = true;
      this.reason = reason;
    }
  }

  /** The first answer wins (a reply that comes after the deadline's ETIMEDOUT is dropped). */
  answer(r: Rmsg): void { this.settle(r); }
}

/** A request passed to the remote as bytes (see RemoteView.forward); the first answer wins. */
class Forwarded implements ForwardedCall, AbortWatcher, Deadlined {
  late = false;
  /** Its wire tag once sent. */
  wtag = -1;
  /** Told when the remote is done with it (its reply, its Rflush, or the connection gone). */
  onSettled: (() => void) | null = null;

  constructor(
    readonly what: string,
    private readonly tag: number,
    public due: number,
    private readonly mux: TagMux,
    private readonly settle: (r: Rmsg | Uint8Array) => void,
  ) {}

  reply(frame: Uint8Array): void {
    this.onSettled?.();
    this.settle(frame);
  }

  fail(e: Error): void {
    this.onSettled?.();
    this.settle(e instanceof ProtocolError
      ? errorReply(this.tag, new StyxError(`protocol error: ${e.message}`, Errno.EPROTO))
      : { type: 'Rerror', tag: this.tag, ename: `${Edown} (${e.message})`, errno: Errno.EHOSTDOWN });
  }

  cancelled(): void {
    this.onSettled?.();
    this.settle(errorReply(this.tag, new StyxError('cancelled', Errno.ECANCELED)));
  }

  aborted(): void { this.mux.flush(this.wtag, this); }
  stop(): void { this.mux.flush(this.wtag, this); }
  expire(err: StyxError): void { this.settle(errorReply(this.tag, err)); }
  outstanding(): boolean { return this.mux.outstanding(this.wtag, this); }
}

const FORWARDED_NAMES: Readonly<Record<number, string>> = {
  [MsgType.Tread]: 'Tread', [MsgType.Twrite]: 'Twrite', [MsgType.Tclunk]: 'Tclunk', [MsgType.Tgetattr]: 'Tgetattr',
};

function nameOf(f: RFid): string {
  return f.path.length ? f.path[f.path.length - 1] : '/';
}

export class RemoteView implements Service {
  private readonly fids = new Map<number, RFid>();
  private dialect: Dialect = '9P2000';
  private msize = 8192;

  constructor(private readonly fs: RemoteFileServer) {}

  get fidCount(): number { return this.fids.size; }

  version(dialect: Dialect, msize: number): void {
    this.releaseAll();
    this.dialect = dialect;
    this.msize = msize;
  }

  close(): void {
    this.releaseAll();
    this.fs.views.delete(this);
  }

  /** See RemoteFileServer.renamed. */
  moved(generation: number, from: readonly string[], to: readonly string[]): void {
    for (const f of this.fids.values()) {
      if (f.generation !== generation || f.path.length < from.length) continue;
      if (from.every((n, i) => f.path[i] === n)) f.path = [...to, ...f.path.slice(from.length)];
    }
  }

  private releaseAll(): void {
    const c = this.fs.connected ? this.fs.current() : null;
    for (const f of this.fids.values()) if (c && f.generation === this.fs.generation) c.clunkQuietly(f.rfid);
    this.fids.clear();
  }

  /** .L requests go to a .L remote as they are when the local client speaks .L too. */
  native(t: Tmsg): boolean {
    return this.dialect === '9P2000.L' && passable(t) && this.fs.connected && this.fs.current().dialect === '9P2000.L';
  }

  /**
   * A .L client's Tread, Twrite, Tclunk or Tgetattr to a .L remote, as bytes: its fid becomes
   * the remote's, its tag a wire tag (TagMux), and the remote's reply frame is the answer, after
   * TagMux has checked it fits the request. Anything else (a directory read, a write larger than
   * the remote's msize, an unknown fid) takes the decoded path, which answers it properly.
   */
  forward(frame: Uint8Array, cancel: Cancellation): Promise<Rmsg | Uint8Array> | null {
    const mux = this.fs.wire;
    if (mux === null || this.dialect !== '9P2000.L') return null;
    const c = this.fs.current();
    if (c.dialect !== '9P2000.L') return null;
    const fid = frameU32(frame, FID_OFFSET);
    const f = this.fids.get(fid);
    if (f === undefined || f.generation !== this.fs.generation) return null;
    const type = frameType(frame);
    if (type === MsgType.Tread) {
      if (f.qtype & QTDIR) return null;
      capReadCount(frame, Math.min(c.msize, this.msize) - IOHDRSZ);
    } else if (type === MsgType.Twrite && frame.length > c.msize) return null;
    const ms = this.fs.opts.deadlineMs ?? 0;
    let settle!: (r: Rmsg | Uint8Array) => void;
    const answer = new Promise<Rmsg | Uint8Array>((resolve) => { settle = resolve; });
    const p = new Forwarded(FORWARDED_NAMES[type], frameTag(frame), ms > 0 ? Date.now() + ms : Infinity, mux, settle);
    setFrameU32(frame, FID_OFFSET, f.rfid);
    p.wtag = mux.forward(frame, p);
    if (p.wtag < 0) {
      setFrameU32(frame, FID_OFFSET, fid);
      return null;
    }
    const clunk = type === MsgType.Tclunk;
    if (clunk) this.fids.delete(fid);
    p.onSettled = () => {
      if (ms > 0) this.fs.untrack(p);
      // clunk(5): the remote fid is gone whatever the answer.
      if (clunk && !c.closed) c.releaseFid(f.rfid);
    };
    if (ms > 0) this.fs.track(p);
    if (cancel.watch) cancel.watch(p);
    else cancel.signal.addEventListener('abort', () => p.aborted(), { once: true });
    return answer;
  }

  call(t: Tmsg, cancel: Cancellation): Promise<Rmsg> {
    const ms = this.fs.opts.deadlineMs ?? 0;
    if (ms <= 0) return this.answer(t, { signal: cancel.signal });
    return new Promise<Rmsg>((resolve) => {
      const p = new Pending(t, Date.now() + ms, resolve);
      this.fs.track(p);
      if (cancel.watch) cancel.watch(p);
      else cancel.signal.addEventListener('abort', () => p.aborted(), { once: true });
      void this.answer(t, p).then((r) => {
        this.fs.untrack(p); // nothing of it is out at the remote any more
        p.answer(r);
      });
    });
  }

  /** The reply to t; never rejects. */
  private async answer(t: Tmsg, o: CallOptions): Promise<Rmsg> {
    try {
      return await this.handle(t, o);
    } catch (e) {
      if (e instanceof NinepError && e.kind === 'closed' && LOST.has(e.errno)) {
        // The connection went while the request was out (a reconnect, a remote that went away).
        return { type: 'Rerror', tag: t.tag, ename: `${Edown} (${e.message})`, errno: Errno.EHOSTDOWN };
      }
      // The remote's own errors keep their errno on the way to the local client.
      return errorReply(t.tag, e instanceof NinepError ? new StyxError(e.message, e.errno) : e);
    }
  }

  private fid(fid: number): RFid {
    const f = this.fids.get(fid);
    if (!f) throw new StyxError(Ebadfid);
    if (f.generation !== this.fs.generation) throw new StyxError('the mount was reconnected: walk again', Errno.ESTALE);
    return f;
  }

  private async handle(t: Tmsg, o: CallOptions): Promise<Rmsg> {
    const c = this.fs.current();
    const tag = t.tag;
    const rd = c.dialect;
    switch (t.type) {
      case 'Tauth':
        throw new StyxError(Enoauth);
      case 'Tattach': {
        // Every local user works as the mount's user: the attach is a clone of its root fid.
        if (this.fids.has(t.fid)) throw new StyxError(Einuse);
        const rfid = c.allocFid();
        try {
          await c.rpc({ type: 'Twalk', fid: c.rootFid, newfid: rfid, wnames: [] }, o);
        } catch (e) {
          c.forgetWalk(rfid, e);
          throw e;
        }
        this.fids.set(t.fid, { rfid, generation: this.fs.generation, qtype: c.rootQid.type, path: [], isOpen: false });
        return { type: 'Rattach', tag, qid: c.rootQid };
      }
      case 'Twalk': {
        const f = this.fid(t.fid);
        if (t.newfid !== t.fid && this.fids.has(t.newfid)) throw new StyxError(Einuse);
        const w = await this.walkConfined(c, f, t.wnames, o);
        if (w.rfid !== null) {
          const last = w.qids[w.qids.length - 1];
          if (t.newfid === t.fid) c.clunkQuietly(f.rfid);
          this.fids.set(t.newfid, { rfid: w.rfid, generation: f.generation, qtype: last ? last.type : f.qtype, path: w.path, isOpen: false });
        }
        return { type: 'Rwalk', tag, qids: w.qids };
      }
      case 'Topen': {
        const f = this.fid(t.fid);
        const r = await remoteOpen(c, f.rfid, t.mode, o);
        f.isOpen = true;
        f.qtype = r.qid.type;
        return { type: 'Ropen', tag, qid: r.qid, iounit: this.iounit(r.iounit) };
      }
      case 'Tcreate': {
        const f = this.fid(t.fid);
        const bad = badNewName(t.name);
        if (bad) throw new StyxError(bad, Errno.EINVAL);
        const r = await remoteCreate(c, f.rfid, t, o);
        f.rfid = r.rfid;
        f.path = [...f.path, t.name];
        f.qtype = r.qid.type;
        f.isOpen = true;
        return { type: 'Rcreate', tag, qid: r.qid, iounit: this.iounit(r.iounit) };
      }
      case 'Tread': {
        const f = this.fid(t.fid);
        if (f.qtype & QTDIR) return this.readDir(c, f, t.offset, t.count, tag, o);
        const r = await c.rpc({ type: 'Tread', fid: f.rfid, offset: t.offset, count: Math.min(t.count, c.msize - IOHDRSZ) }, o);
        return { type: 'Rread', tag, data: r.data };
      }
      case 'Treaddir': {
        const f = this.fid(t.fid);
        return this.readDirents(c, f, t.offset, t.count, tag, o);
      }
      case 'Twrite': {
        const f = this.fid(t.fid);
        const data = t.data.length > c.msize - IOHDRSZ ? t.data.subarray(0, c.msize - IOHDRSZ) : t.data;
        const r = await c.rpc({ type: 'Twrite', fid: f.rfid, offset: t.offset, data }, o);
        return { type: 'Rwrite', tag, count: r.count };
      }
      case 'Tclunk': {
        const f = this.fid(t.fid);
        this.fids.delete(t.fid);
        await c.clunk(f.rfid);
        return { type: 'Rclunk', tag };
      }
      case 'Tremove': {
        const f = this.fid(t.fid);
        this.fids.delete(t.fid);
        try {
          await c.rpc({ type: 'Tremove', fid: f.rfid }, o);
        } finally {
          c.releaseFid(f.rfid); // remove clunks, whatever it answers
        }
        return { type: 'Rremove', tag };
      }
      case 'Tstat': {
        const f = this.fid(t.fid);
        return { type: 'Rstat', tag, stat: await remoteStat(c, f.rfid, nameOf(f), o) };
      }
      case 'Twstat': {
        const f = this.fid(t.fid);
        // Checked before anything changes: a wstat is all or nothing (stat(5)).
        const bad = t.stat.name === '' ? null : badNewName(t.stat.name);
        if (bad) throw new StyxError(bad, Errno.EINVAL);
        const to = await remoteWstat(c, f.rfid, f.path, t.stat, o);
        if (to[to.length - 1] !== f.path[f.path.length - 1]) this.fs.renamed(f.path, to);
        return { type: 'Rwstat', tag };
      }
      default:
        if (rd === '9P2000.L' && passable(t)) return this.passThrough(c, t, o);
        throw new StyxError(Eunsupported, Errno.EOPNOTSUPP);
    }
  }

  /** A .L request to the .L remote, its fids mapped: the fid state follows what it did. */
  private async passThrough(c: Client, t: Tmsg, o: CallOptions): Promise<Rmsg> {
    const fids = fidsOf(t).map((fid) => this.fid(fid));
    let i = 0;
    const r: Rmsg = await c.rpc(mapFids(t, () => fids[i++].rfid), o);
    const f = fids[0];
    switch (r.type) {
      case 'Rlopen':
        f.isOpen = true;
        f.qtype = r.qid.type;
        return { ...r, tag: t.tag, iounit: this.iounit(r.iounit) };
      case 'Rlcreate':
        if (t.type === 'Tlcreate') f.path = [...f.path, t.name];
        f.isOpen = true;
        f.qtype = r.qid.type;
        return { ...r, tag: t.tag, iounit: this.iounit(r.iounit) };
      case 'Rrename':
        if (t.type === 'Trename') this.fs.renamed(f.path, [...fids[1].path, t.name]);
        break;
      case 'Rrenameat':
        if (t.type === 'Trenameat') this.fs.renamed([...f.path, t.oldname], [...fids[1].path, t.newname]);
        break;
    }
    return { ...r, tag: t.tag };
  }

  /**
   * Walks from f, the mount's root being a floor for '..' whatever the remote would do: '..' never
   * reaches the remote (a remote such as diod resolves it on its host, above its export, and
   * through symlinks); the parent is reached again from the root by its names. Each run of other
   * names goes to the remote as one walk into a new fid. rfid is the remote fid at the end of a
   * complete walk, or null after a partial one (walk(5): no newfid then).
   */
  private async walkConfined(c: Client, f: RFid, names: readonly string[], o: CallOptions): Promise<{ qids: Qid[]; rfid: number | null; path: string[] }> {
    for (const n of names) {
      const why = badWalkName(n); // the session checked; a service never trusts its caller for this
      if (why) throw new StyxError(why, Errno.EINVAL);
    }
    const path = [...f.path];
    const qids: Qid[] = [];
    let cur = f.rfid;
    let owned = false; // cur is a fid this walk made
    /** Walks from `from` into a new fid, which becomes cur when every name was walked. */
    const step = async (from: number, wnames: string[]): Promise<Qid[] | null> => {
      const nf = c.allocFid();
      let got: Qid[];
      try {
        got = (await c.rpc({ type: 'Twalk', fid: from, newfid: nf, wnames }, o)).qids;
      } catch (e) {
        c.forgetWalk(nf, e);
        if (qids.length === 0) throw e;
        return null;
      }
      if (got.length < wnames.length) {
        // walk(5) says newfid was not made, but diod keeps it after a partial walk, and go-p9p
        // after answering a failed first name with an empty Rwalk: clunk it either way.
        c.clunkQuietly(nf);
        return got;
      }
      if (owned) c.clunkQuietly(cur);
      cur = nf;
      owned = true;
      return got;
    };
    if (f.isOpen && c.dialect !== '9P2000.L') {
      // 9P2000 servers may refuse to walk an open fid (Plan 9's lib9p and go9p do; diodls walks
      // its open directory): start from an unopened shadow of it, reached from the root by its names.
      const got = await step(c.rootFid, f.path);
      if (got === null || got.length < f.path.length) throw new StyxError(Enotfound, Errno.ENOENT);
    }
    let i = 0;
    while (i < names.length) {
      if (names[i] === '..') {
        path.pop(); // at the root, '..' is the root (intro(5))
        const got = await step(c.rootFid, path);
        if (got === null || got.length < path.length) break;
        qids.push(path.length ? got[got.length - 1] : c.rootQid);
        i++;
        continue;
      }
      let j = i;
      while (j < names.length && names[j] !== '..') j++;
      const run = names.slice(i, j);
      const got = await step(cur, run);
      if (got === null) break;
      qids.push(...got);
      if (got.length < run.length) break;
      path.push(...run);
      i = j;
    }
    if (i < names.length) {
      if (owned) c.clunkQuietly(cur);
      if (qids.length === 0) throw new StyxError(Enotfound, Errno.ENOENT);
      return { qids, rfid: null, path };
    }
    if (!owned) await step(f.rfid, []); // no names: a clone of f
    return { qids, rfid: cur, path };
  }

  private iounit(remote: number): number {
    const max = this.msize - IOHDRSZ;
    return remote > 0 && remote < max ? remote : 0;
  }

  /** Fills f.dir.entries up to `want` entries (or to the end) from the remote directory. */
  private async fetchEntries(c: Client, f: RFid, want: number, o: CallOptions): Promise<DirState> {
    const d = f.dir ??= { entries: [], eof: false, remoteOffset: 0n, dirIndex: 0, dirOffset: 0n };
    while (!d.eof && d.entries.length < want) {
      const batch = await remoteEntries(c, f.rfid, d.remoteOffset, o);
      if (batch === null) d.eof = true;
      else {
        d.entries.push(...batch.stats);
        d.remoteOffset = batch.next;
      }
    }
    return d;
  }

  /** A 9P2000/.u directory read for the local client, in its dialect. */
  private async readDir(c: Client, f: RFid, offset: bigint, count: number, tag: number, o: CallOptions): Promise<Rmsg> {
    if (c.dialect === this.dialect && c.dialect !== '9P2000.L') {
      // Same stat format: pass through.
      const r = await c.rpc({ type: 'Tread', fid: f.rfid, offset, count: Math.min(count, c.msize - IOHDRSZ) }, o);
      return { type: 'Rread', tag, data: r.data };
    }
    const d = f.dir ??= { entries: [], eof: false, remoteOffset: 0n, dirIndex: 0, dirOffset: 0n };
    const b = new DirReadBuilder(Math.min(count, this.msize - IOHDRSZ), this.dialect);
    for (let i = seekDir(d, offset); ; i++) {
      await this.fetchEntries(c, f, i + 1, o);
      const st = d.entries[i];
      if (!st || !b.addStat(st)) break;
    }
    advanceDir(d, b);
    return { type: 'Rread', tag, data: b.bytes() };
  }

  /** A .L readdir for the local client; cookies are entry indexes. */
  private async readDirents(c: Client, f: RFid, offset: bigint, count: number, tag: number, o: CallOptions): Promise<Rmsg> {
    if (c.dialect === '9P2000.L') {
      const r = await c.rpc({ type: 'Treaddir', fid: f.rfid, offset, count: Math.min(count, c.msize - IOHDRSZ) }, o);
      return { type: 'Rreaddir', tag, data: r.data };
    }
    const b = new DirReadBuilder(Math.min(count, this.msize - IOHDRSZ), '9P2000.L');
    for (let i = Number(offset); ; i++) {
      const d = await this.fetchEntries(c, f, i + 1, o);
      const st = d.entries[i];
      if (!st) break;
      if (!b.addDirent({ qid: st.qid, offset: BigInt(i + 1), type: direntType(st.mode), name: st.name })) break;
    }
    return { type: 'Rreaddir', tag, data: b.bytes() };
  }
}
