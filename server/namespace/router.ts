// One connection's view of the namespace: its fids, at the root or inside a mount; requests on a
// mount's fids go to that mount's Service for this connection, their qids tagged with the mount's
// id so files of different mounts never share a qid; walks cross between the root and the mounts.
import {
  type Dialect, DirReadBuilder, IOHDRSZ, DMDIR, DT_DIR, type Qid, QID_TAG_SHIFT, QTDIR, type Rmsg, type Stat,
  type Tmsg, Errno, FID_OFFSET, MsgType, NOFID, NONUNAME, frameType, frameU32, tagDirents, tagQid, tagStats,
} from '../../shared/ninep/index.ts';
import {
  NUMERIC_OWNER, Ebadfid, Edown, Einuse, Eisdir, Enoauth, Enotfound, Enotopen, Eopen, Eperm,
  Etoomanyfids, Cancel, type Cancellation, CANCELLED, type Service, StyxError, advanceDir, errorReply, seekDir,
} from '../../shared/styx/index.ts';
import { fidsOf, passable } from '../../shared/styx/dialect/passthrough.ts';
import type { Mount, Namespace } from './namespace.ts';

const ROOT_QID: Qid = { type: QTDIR, vers: 0, path: 0n };

type RootFid = { at: 'root'; isOpen: boolean; dirIndex: number; dirOffset: bigint; uname: string };
type MountFid = {
      at: 'mount';
      mount: Mount;
      /** Attached by aname straight to the mount: its qids pass unchanged. */
      direct: boolean;
      /** Names below the mount's root; ".." at depth 0 leads back to the namespace root. */
      depth: number;
      qtype: number;
      uname: string;
      /** Opened (Topen, Tcreate): a walk that leaves the mount must be refused here, as the
       * mount's own server would refuse one inside it. */
      isOpen?: boolean;
    };
type FidState = RootFid | MountFid;

/** Walks in place that cross the root use this mount-side fid for a moment. */
const SCRATCH_FID = 0xfffffffe;
/** Fids for a moment's look at a mount's root (the root listing's stats), taken in turn. */
const PEEK_FID_BASE = 0xffffff00;
const PEEK_FIDS = 0xfe;
/**
 * How long the root listing waits for a mount's stat: a slow or hanging remote lists as a bare
 * mount point rather than holding up `ls /` until its request deadline (30 s by default).
 */
const PEEK_BUDGET_MS = 1000;

function leavesMount(f: MountFid, names: readonly string[]): boolean {
  if (f.direct) return false;
  let depth = f.depth;
  for (const n of names) {
    if (n === '..') { if (depth === 0) return true; depth--; } else depth++;
  }
  return false;
}

/** One connection's view of the namespace. */
export class Router implements Service {
  private readonly fids = new Map<number, FidState>();
  private readonly services = new Map<Mount, Service>();
  private dialect: Dialect = '9P2000';
  private nextPeek = 0;
  private msize = 8192;

  constructor(private readonly ns: Namespace, private readonly onClose: () => void = () => {}) {}

  get fidCount(): number {
    let n = this.fids.size;
    for (const s of this.services.values()) n += s.fidCount ?? 0;
    return n;
  }

  /** Checked before a new client fid costs anything in a mount. */
  private roomForFid(): void {
    if (this.fids.size >= this.ns.maxFids) throw new StyxError(Etoomanyfids, Errno.EMFILE);
  }

  version(dialect: Dialect, msize: number): void {
    this.dialect = dialect;
    this.msize = msize;
    this.fids.clear();
    for (const s of this.services.values()) s.close();
    this.services.clear();
  }

  close(): void {
    this.fids.clear();
    for (const s of this.services.values()) s.close();
    this.services.clear();
    this.onClose();
  }

  /** A .L request on fids of one mount whose service answers it natively. */
  native(t: Tmsg): boolean {
    if (!passable(t)) return false;
    let m: Mount | undefined;
    for (const fid of fidsOf(t)) {
      const f = this.fids.get(fid);
      if (f === undefined || f.at !== 'mount' || (m !== undefined && f.mount !== m)) return false;
      m = f.mount;
    }
    if (m === undefined || this.ns.get(m.name) !== m) return false;
    return this.service(m).native?.(t) ?? false;
  }

  call(t: Tmsg, cancel: Cancellation): Promise<Rmsg> {
    // Most traffic: a request on a fid attached straight to a mount (diodload, Linux with an aname)
    // goes to the mount's service as it is, without route()'s async frames.
    if (t.type !== 'Twalk' && t.type !== 'Tattach' && t.type !== 'Tcreate' && 'fid' in t) {
      const f = this.fids.get(t.fid);
      if (f !== undefined && f.at === 'mount' && f.direct) {
        const svc = this.services.get(f.mount);
        if (svc !== undefined && this.ns.get(f.mount.name) === f.mount) {
          if (t.type === 'Tclunk' || t.type === 'Tremove') this.fids.delete(t.fid);
          return svc.call(t, cancel);
        }
      }
    }
    return this.routeCaught(t, cancel);
  }

  /** A request as bytes, on a fid attached straight to a mount whose service forwards it so. */
  forward(frame: Uint8Array, cancel: Cancellation): Promise<Rmsg | Uint8Array> | null {
    const fid = frameU32(frame, FID_OFFSET);
    const f = this.fids.get(fid);
    if (f === undefined || f.at !== 'mount' || !f.direct) return null;
    const svc = this.services.get(f.mount);
    if (svc?.forward === undefined || this.ns.get(f.mount.name) !== f.mount) return null;
    const clunk = frameType(frame) === MsgType.Tclunk;
    const p = svc.forward(frame, cancel);
    if (p !== null && clunk) this.fids.delete(fid);
    return p;
  }

  private async routeCaught(t: Tmsg, cancel: Cancellation): Promise<Rmsg> {
    try {
      return await this.route(t, cancel);
    } catch (e) {
      return errorReply(t.tag, e);
    }
  }

  private service(m: Mount): Service {
    if (this.ns.get(m.name) !== m) throw new StyxError(Edown);
    let s = this.services.get(m);
    if (!s) {
      s = m.fs.connect();
      s.version(this.dialect, this.msize);
      this.services.set(m, s);
    }
    return s;
  }

  private rootStat(): Stat {
    return {
      type: 0, dev: 0, qid: ROOT_QID, mode: (DMDIR | 0o555) >>> 0, atime: this.ns.mtime, mtime: this.ns.mtime,
      length: 0n, name: '/', uid: this.ns.user, gid: this.ns.user, muid: this.ns.user, extension: '',
      nUid: NUMERIC_OWNER, nGid: NUMERIC_OWNER, nMuid: NUMERIC_OWNER,
    };
  }

  /**
   * The stat of a mount point as the root lists it: the mount's root stat, as a stat of the
   * mount point itself answers it (so a client sees the same mode and times either way); made up
   * from the namespace root's when the mount cannot say (it is down).
   */
  private async mountStat(m: Mount, uname: string, cancel: Cancellation): Promise<Stat> {
    // The peek is flushed when the listing is, or when its budget runs out; the listing does not
    // wait for the flush to be answered (a hanging remote answers neither).
    const peek = new Cancel();
    const stop = () => peek.abort();
    const timer = setTimeout(stop, PEEK_BUDGET_MS);
    cancel.signal.addEventListener('abort', stop, { once: true });
    const givenUp = new Promise<null>((resolve) => peek.signal.addEventListener('abort', () => resolve(null), { once: true }));
    try {
      const st = await Promise.race([this.peekStat(m, uname, peek), givenUp]);
      if (st) return st;
    } catch {
      // down, refused: as below
    } finally {
      clearTimeout(timer);
      cancel.signal.removeEventListener('abort', stop);
    }
    return { ...this.rootStat(), qid: mountRootQid(m), name: m.name };
  }

  /** The mount's root stat, through an attach of a peek fid that is clunked afterwards. */
  private async peekStat(m: Mount, uname: string, cancel: Cancellation): Promise<Stat> {
    const fid = PEEK_FID_BASE + (this.nextPeek = (this.nextPeek + 1) % PEEK_FIDS);
    const svc = this.service(m);
    const a = await svc.call({ type: 'Tattach', tag: 0, fid, afid: NOFID, uname, aname: '', nUname: NONUNAME }, cancel);
    if (a.type !== 'Rattach') throw StyxError.fromReply(a);
    const r = await svc.call({ type: 'Tstat', tag: 0, fid }, cancel);
    void svc.call({ type: 'Tclunk', tag: 0, fid }, CANCELLED);
    if (r.type !== 'Rstat') throw StyxError.fromReply(r);
    return { ...r.stat, qid: tagQid(r.stat.qid, m.id), name: m.name };
  }

  private fid(fid: number): FidState {
    const f = this.fids.get(fid);
    if (!f) throw new StyxError(Ebadfid);
    return f;
  }

  private async route(t: Tmsg, cancel: Cancellation): Promise<Rmsg> {
    const tag = t.tag;
    switch (t.type) {
      case 'Tauth':
        throw new StyxError(Enoauth);
      case 'Tattach': {
        if (this.fids.has(t.fid)) throw new StyxError(Einuse);
        this.roomForFid();
        const aname = t.aname.replace(/^\/+/, '');
        if (aname === '') {
          this.fids.set(t.fid, { at: 'root', isOpen: false, dirIndex: 0, dirOffset: 0n, uname: t.uname });
          return { type: 'Rattach', tag, qid: ROOT_QID };
        }
        // diod's load generator attaches "ctl"; so does anything that names a mount.
        const m = this.ns.get(aname) ?? (aname === 'ctl' ? this.ns.get('dev') : undefined);
        if (!m) throw new StyxError(`no mount called '${aname}'`, Errno.ENOENT);
        const r = await this.service(m).call({ ...t, aname: '' }, cancel);
        if (r.type === 'Rattach') this.fids.set(t.fid, { at: 'mount', mount: m, direct: true, depth: 0, qtype: r.qid.type, uname: t.uname });
        return r;
      }
      case 'Twalk': return this.walk(t, cancel);
    }
    const fid = 'fid' in t ? t.fid : passable(t) ? fidsOf(t)[0] : undefined;
    if (fid === undefined) throw new StyxError(Eperm);
    const f = this.fid(fid);
    if (f.at === 'root') return this.rootRequest(t, f, cancel);
    // clunk(5), remove(5): the fid is gone even when the request fails, also when its mount is.
    if (t.type === 'Tclunk' || t.type === 'Tremove') this.fids.delete(t.fid);
    const svc = this.service(f.mount);
    const r = await svc.call(t, cancel);
    if ((t.type === 'Tcreate' && r.type === 'Rcreate') || (t.type === 'Tlcreate' && r.type === 'Rlcreate')) { f.depth++; f.qtype = r.qid.type; }
    if (r.type === 'Ropen' || r.type === 'Rcreate' || r.type === 'Rlopen' || r.type === 'Rlcreate') f.isOpen = true;
    if (f.direct) return r;
    return this.rewrite(r, f, t);
  }

  /** Makes a mount's qids unique in the namespace, and names a mount's root after its mount point. */
  private rewrite(r: Rmsg, f: MountFid, t: Tmsg): Rmsg {
    const id = f.mount.id;
    switch (r.type) {
      case 'Ropen': case 'Rcreate': case 'Rlopen': case 'Rlcreate': case 'Rmkdir': case 'Rsymlink': case 'Rmknod':
        return { ...r, qid: tagQid(r.qid, id) };
      case 'Rgetattr': return { ...r, attr: { ...r.attr, qid: tagQid(r.attr.qid, id) } };
      case 'Rstat': {
        const stat = { ...r.stat, qid: tagQid(r.stat.qid, id) };
        if (f.depth === 0) stat.name = f.mount.name;
        return { ...r, stat };
      }
      case 'Rread':
        if (t.type === 'Tread' && f.qtype & QTDIR) return { ...r, data: tagStats(r.data, id) };
        return r;
      case 'Rreaddir': return { ...r, data: tagDirents(r.data, id) };
      default: return r;
    }
  }

  private async walk(t: Extract<Tmsg, { type: 'Twalk' }>, cancel: Cancellation): Promise<Rmsg> {
    const tag = t.tag;
    const f = this.fid(t.fid);
    // As in Styxserver.walk: .L may clone an open fid (the clone is not open), nothing else walks one.
    if (f.isOpen && (this.dialect !== '9P2000.L' || t.newfid === t.fid) && (f.at === 'root' || leavesMount(f, t.wnames))) throw new StyxError(Eopen);
    if (t.newfid !== t.fid) {
      if (this.fids.has(t.newfid)) throw new StyxError(Einuse);
      this.roomForFid();
    }
    const names = t.wnames;
    if (f.at === 'mount' && !leavesMount(f, names)) return this.walkInMount(t, f, cancel);
    if (names.length === 0) {
      this.fids.set(t.newfid, f.at === 'root' ? { ...f, isOpen: false, dirIndex: 0, dirOffset: 0n } : { ...f, isOpen: false });
      return { type: 'Rwalk', tag, qids: [] };
    }
    // The walk crosses the namespace root. It works on a mount-side fid `target` (newfid, or a
    // scratch fid when walking in place, because a failed walk must leave fid where it was).
    const target = t.newfid === t.fid ? SCRATCH_FID : t.newfid;
    const qids: Qid[] = [];
    let pos: FidState = f;
    let from = t.fid; // the mount-side fid holding pos; ours to clunk once it is `target`
    let err = new StyxError(Enotfound);
    const drop = () => {
      if (pos.at === 'mount' && from === target) this.clunkIn(pos.mount, target);
    };
    for (let i = 0; i < names.length;) {
      if (pos.at === 'root') {
        const name = names[i];
        if (name === '..' || name === '.') { qids.push(ROOT_QID); i++; continue; }
        const m = this.ns.get(name);
        if (!m) { err = new StyxError(Enotfound); break; }
        const r = await this.service(m).call({ type: 'Tattach', tag, fid: target, afid: NOFID, uname: pos.uname, aname: '', nUname: NONUNAME }, cancel);
        if (r.type !== 'Rattach') { err = StyxError.fromReply(r); break; }
        pos = { at: 'mount', mount: m, direct: false, depth: 0, qtype: r.qid.type, uname: pos.uname };
        from = target;
        qids.push(mountRootQid(m));
        i++;
        continue;
      }
      let j = i;
      let depth = pos.depth;
      while (j < names.length && !(names[j] === '..' && depth === 0)) { depth += names[j] === '..' ? -1 : 1; j++; }
      if (j === i) {
        // ".." at the mount's root leads back to the namespace root.
        drop();
        pos = { at: 'root', isOpen: false, dirIndex: 0, dirOffset: 0n, uname: pos.uname };
        qids.push(ROOT_QID);
        i++;
        continue;
      }
      const r = await this.service(pos.mount).call({ type: 'Twalk', tag, fid: from, newfid: target, wnames: names.slice(i, j) }, cancel);
      if (r.type !== 'Rwalk') { err = StyxError.fromReply(r); break; }
      for (const q of r.qids) qids.push(tagQid(q, pos.mount.id));
      if (r.qids.length < j - i) break;
      const last = r.qids[r.qids.length - 1];
      pos = { ...pos, depth, qtype: last.type };
      from = target;
      i = j;
    }
    if (qids.length < names.length) {
      drop();
      if (qids.length === 0) throw err;
      return { type: 'Rwalk', tag, qids };
    }
    if (t.newfid === t.fid && f.at === 'mount') this.clunkIn(f.mount, t.fid);
    if (pos.at === 'mount' && target !== t.newfid) {
      // Walked in place: move the scratch fid's position to fid.
      await this.service(pos.mount).call({ type: 'Twalk', tag, fid: target, newfid: t.newfid, wnames: [] }, cancel);
      this.clunkIn(pos.mount, target);
    }
    this.fids.set(t.newfid, pos.at === 'mount' ? { ...pos, isOpen: false } : pos);
    return { type: 'Rwalk', tag, qids };
  }

  /** A walk that stays inside one mount: forwarded as it is. */
  private async walkInMount(t: Extract<Tmsg, { type: 'Twalk' }>, f: MountFid, cancel: Cancellation): Promise<Rmsg> {
    const r = await this.service(f.mount).call(t, cancel);
    if (r.type !== 'Rwalk') return r;
    if (r.qids.length === t.wnames.length) {
      let depth = f.depth;
      for (const n of t.wnames) depth = n === '..' ? Math.max(0, depth - 1) : depth + 1;
      const last = r.qids[r.qids.length - 1];
      this.fids.set(t.newfid, { ...f, depth, qtype: last ? last.type : f.qtype, isOpen: false });
    }
    return f.direct ? r : { ...r, qids: r.qids.map((q) => tagQid(q, f.mount.id)) };
  }

  private clunkIn(m: Mount, fid: number): void {
    if (this.ns.get(m.name) !== m) return;
    void this.service(m).call({ type: 'Tclunk', tag: 0, fid }, CANCELLED).catch(() => {});
  }

  private async rootRequest(t: Tmsg, f: RootFid, cancel: Cancellation): Promise<Rmsg> {
    const tag = t.tag;
    switch (t.type) {
      case 'Topen':
        if (f.isOpen) throw new StyxError(Eopen);
        if ((t.mode & 3) !== 0 || t.mode & 0x10) throw new StyxError(Eisdir);
        f.isOpen = true;
        return { type: 'Ropen', tag, qid: ROOT_QID, iounit: 0 };
      case 'Tstat':
        return { type: 'Rstat', tag, stat: this.rootStat() };
      case 'Tclunk':
        this.fids.delete(t.fid);
        return { type: 'Rclunk', tag };
      case 'Tremove':
        this.fids.delete(t.fid);
        throw new StyxError(Eperm);
      case 'Tread': {
        if (!f.isOpen) throw new StyxError(Enotopen);
        const b = new DirReadBuilder(Math.min(t.count, this.msize - IOHDRSZ), this.dialect);
        const mounts = this.ns.list().slice(seekDir(f, t.offset));
        const stats = await Promise.all(mounts.map((m) => this.mountStat(m, f.uname, cancel)));
        for (let i = 0; i < stats.length && b.addStat(stats[i]); i++);
        advanceDir(f, b);
        return { type: 'Rread', tag, data: b.bytes() };
      }
      case 'Treaddir': {
        if (!f.isOpen) throw new StyxError(Enotopen);
        const b = new DirReadBuilder(Math.min(t.count, this.msize - IOHDRSZ), '9P2000.L');
        const mounts = this.ns.list();
        for (let i = Number(t.offset); i < mounts.length; i++) {
          if (!b.addDirent({ qid: mountRootQid(mounts[i]), offset: BigInt(i + 1), type: DT_DIR, name: mounts[i].name })) break;
        }
        return { type: 'Rreaddir', tag, data: b.bytes() };
      }
      case 'Twrite':
        throw new StyxError(f.isOpen ? Eisdir : Enotopen);
      default:
        throw new StyxError(Eperm);
    }
  }
}

function mountRootQid(m: Mount): Qid {
  return { type: QTDIR, vers: 0, path: BigInt(m.id) << QID_TAG_SHIFT };
}
