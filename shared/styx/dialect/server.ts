// The server side of the dialect layer: 9P2000.L on top of the canonical vocabulary. A .L request
// becomes one or a few canonical requests (Tlopen -> Topen, Tgetattr -> Tstat, Tmkdir -> clone +
// Tcreate(DMDIR) + clunk, ...) so a file system written once against the Navigator and the 9P2000
// messages serves Linux v9fs too. A request the service answers natively (a .L remote's mount)
// passes through as it is.
import {
  AT_REMOVEDIR, type Dialect, DMDIR, DMSYMLINK, Errno, QTDIR, type Rmsg,
  SETATTR_ATIME, SETATTR_ATIME_SET, SETATTR_GID, SETATTR_MODE, SETATTR_MTIME, SETATTR_MTIME_SET,
  SETATTR_SIZE, SETATTR_UID, type Stat, type Tmsg, errnoToString, nullStat, stringToErrno,
} from '../../ninep/index.ts';
import { StyxError, errorReply } from '../errors.ts';
import { type Cancellation, CANCELLED, type Service } from '../service.ts';
import { MAX_OFF_T, openMode, statTime, statToAttr } from './convert.ts';

/** Fids the adapter uses for its own steps; clients allocate from the bottom of the range. */
const INTERNAL_FID_BASE = 0xfff00000;
const INTERNAL_FID_COUNT = 0xffff0;
/** Tags of internal steps lie above the 16-bit range so they never meet a client's. */
const INTERNAL_TAG_BASE = 0x10000;

const V9FS_MAGIC = 0x01021997;

/** A new name no file may take ('', '.', '..', or holding '/' or NUL) never reaches the service: EINVAL. */
function checkNewName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) throw lerr(Errno.EINVAL);
}

/** A .L error: the errno is all the wire carries. */
const lerr = (errno: number): StyxError => new StyxError(errnoToString(errno), errno);

const SAME_IN_BOTH: ReadonlySet<Tmsg['type']> = new Set<Tmsg['type']>(['Tattach', 'Tauth', 'Twalk', 'Tread', 'Twrite', 'Tclunk', 'Tremove', 'Treaddir']);

const lerror = (r: Rmsg): Rmsg => (r.type === 'Rerror' ? { type: 'Rlerror', tag: r.tag, ecode: r.errno || stringToErrno(r.ename) } : r);

/** A Service in front of a canonical one: passes 9P2000 and .u through, translates .L. */
export class LinuxAdapter implements Service {
  private nextFid = 0;
  private nextTag = 0;
  private linux = false;

  constructor(private readonly service: Service) {}

  get fidCount(): number | undefined { return this.service.fidCount; }

  version(dialect: Dialect, msize: number): void {
    this.linux = dialect === '9P2000.L';
    this.service.version(dialect, msize);
  }

  close(): void { this.service.close(); }

  /** Requests forwarded as bytes are the same in both vocabularies: passed on for .L clients. */
  forward(frame: Uint8Array, cancel: Cancellation): Promise<Rmsg | Uint8Array> | null {
    return this.linux && this.service.forward ? this.service.forward(frame, cancel) : null;
  }

  call(t: Tmsg, cancel: Cancellation): Promise<Rmsg> {
    if (!this.linux) return this.service.call(t, cancel);
    // The same in both vocabularies (most of the traffic), or answered natively: only an Rerror
    // needs translating, so skip translate's async frames.
    if (SAME_IN_BOTH.has(t.type) || this.service.native?.(t)) {
      return this.service.call(t, cancel).then(lerror, (e: unknown) => lerror(errorReply(t.tag, e)));
    }
    return this.callTranslated(t, cancel);
  }

  private async callTranslated(t: Tmsg, cancel: Cancellation): Promise<Rmsg> {
    try {
      return await this.translate(t, cancel);
    } catch (e) {
      return lerror(errorReply(t.tag, e));
    }
  }

  private internalFid(): number {
    this.nextFid = (this.nextFid + 1) % INTERNAL_FID_COUNT;
    return INTERNAL_FID_BASE + this.nextFid;
  }

  /** One canonical step; an Rerror is thrown as a StyxError. */
  private async step(t: Tmsg, cancel: Cancellation): Promise<Rmsg> {
    const r = await this.service.call(t, cancel);
    if (r.type === 'Rerror') throw StyxError.fromReply(r);
    return r;
  }

  private async internal(t: Tmsg, cancel: Cancellation): Promise<Rmsg> {
    this.nextTag = (this.nextTag + 1) % 0x10000;
    return this.step({ ...t, tag: INTERNAL_TAG_BASE + this.nextTag } as Tmsg, cancel);
  }

  /** Walks a new internal fid from `fid` along `names`; the whole walk must succeed. */
  private async clone(fid: number, names: string[], cancel: Cancellation): Promise<{ fid: number; qtype: number }> {
    const newfid = this.internalFid();
    const r = await this.internal({ type: 'Twalk', tag: 0, fid, newfid, wnames: names }, cancel);
    if (r.type !== 'Rwalk' || r.qids.length !== names.length) throw lerr(Errno.ENOENT);
    const last = r.qids[r.qids.length - 1];
    return { fid: newfid, qtype: last ? last.type : QTDIR };
  }

  private clunk(fid: number): void {
    void this.internal({ type: 'Tclunk', tag: 0, fid }, CANCELLED).catch(() => {});
  }

  private async stat(fid: number, cancel: Cancellation): Promise<Stat> {
    const r = await this.internal({ type: 'Tstat', tag: 0, fid }, cancel);
    if (r.type !== 'Rstat') throw lerr(Errno.EIO);
    return r.stat;
  }

  private async withClone<T>(fid: number, names: string[], cancel: Cancellation, f: (c: { fid: number; qtype: number }) => Promise<T>): Promise<T> {
    const c = await this.clone(fid, names, cancel);
    try {
      return await f(c);
    } finally {
      this.clunk(c.fid);
    }
  }

  private async translate(t: Tmsg, cancel: Cancellation): Promise<Rmsg> {
    const tag = t.tag;
    switch (t.type) {
      case 'Tlopen': {
        const mode = openMode(t.flags);
        const r = await this.step({ type: 'Topen', tag, fid: t.fid, mode }, cancel);
        if (r.type !== 'Ropen') throw lerr(Errno.EIO);
        return { type: 'Rlopen', tag, qid: r.qid, iounit: r.iounit };
      }
      case 'Tlcreate': {
        const mode = openMode(t.flags);
        const r = await this.step({ type: 'Tcreate', tag, fid: t.fid, name: t.name, perm: t.mode & 0o777, mode, extension: '' }, cancel);
        if (r.type !== 'Rcreate') throw lerr(Errno.EIO);
        return { type: 'Rlcreate', tag, qid: r.qid, iounit: r.iounit };
      }
      case 'Tmkdir':
      case 'Tsymlink': {
        const dfid = t.type === 'Tmkdir' ? t.dfid : t.fid;
        const perm = (t.type === 'Tmkdir' ? DMDIR | (t.mode & 0o777) : DMSYMLINK | 0o777) >>> 0; // DMDIR is bit 31: | makes it negative
        const extension = t.type === 'Tsymlink' ? t.symtgt : '';
        const qid = await this.withClone(dfid, [], cancel, async (c) => {
          const r = await this.internal({ type: 'Tcreate', tag: 0, fid: c.fid, name: t.name, perm, mode: 0, extension }, cancel);
          if (r.type !== 'Rcreate') throw lerr(Errno.EIO);
          return r.qid;
        });
        return t.type === 'Tmkdir' ? { type: 'Rmkdir', tag, qid } : { type: 'Rsymlink', tag, qid };
      }
      case 'Treadlink': {
        const st = await this.stat(t.fid, cancel);
        if (!(st.mode & DMSYMLINK)) throw lerr(Errno.EINVAL);
        return { type: 'Rreadlink', tag, target: st.extension };
      }
      case 'Tgetattr':
        return { type: 'Rgetattr', tag, attr: statToAttr(await this.stat(t.fid, cancel)) };
      case 'Tsetattr': {
        const a = t.attr;
        let cur: Stat | null = null;
        if (a.valid & (SETATTR_UID | SETATTR_GID)) {
          // Owners cannot change, but a chown to the owner getattr reports is a no-op that must
          // succeed: cp -p and mv across directories (a copy) do exactly that.
          cur = await this.stat(t.fid, cancel);
          const have = statToAttr(cur);
          if ((a.valid & SETATTR_UID && a.uid !== have.uid) || (a.valid & SETATTR_GID && a.gid !== have.gid)) throw lerr(Errno.EPERM);
        }
        const st = nullStat();
        if (a.valid & SETATTR_MODE) {
          cur ??= await this.stat(t.fid, cancel);
          st.mode = ((cur.mode & ~0o777) | (a.mode & 0o777)) >>> 0;
        }
        if (a.valid & SETATTR_SIZE) {
          // 2^64-1 would read as wstat's "don't change" and succeed doing nothing; any size at or
          // above 2^63 is a negative off_t, which ftruncate refuses with EINVAL. Sizes beyond the
          // file system's limit are its to refuse (EFBIG).
          if (a.size > MAX_OFF_T) throw lerr(Errno.EINVAL);
          st.length = a.size;
        }
        const now = Math.floor(Date.now() / 1000);
        if (a.valid & SETATTR_MTIME) st.mtime = a.valid & SETATTR_MTIME_SET ? statTime(a.mtimeSec) : now;
        if (a.valid & SETATTR_ATIME) st.atime = a.valid & SETATTR_ATIME_SET ? statTime(a.atimeSec) : now;
        await this.step({ type: 'Twstat', tag, fid: t.fid, stat: st }, cancel);
        return { type: 'Rsetattr', tag };
      }
      case 'Trenameat': {
        await this.rename(t.olddirfid, t.oldname, t.newdirfid, t.newname, cancel);
        return { type: 'Rrenameat', tag };
      }
      case 'Trename': {
        // fid is the file or directory to rename, dfid the directory it ends up in. A file cannot
        // walk "..", so instead check that dfid holds fid under its current name: then it is a
        // rename within dfid like any other; otherwise it would cross directories (EXDEV).
        checkNewName(t.name);
        const st = await this.stat(t.fid, cancel);
        const same = await this.withClone(t.dfid, [st.name], cancel, async (c) => (await this.stat(c.fid, cancel)).qid.path === st.qid.path)
          .catch(() => false);
        if (!same) throw lerr(Errno.EXDEV);
        await this.rename(t.dfid, st.name, t.dfid, t.name, cancel);
        return { type: 'Rrename', tag };
      }
      case 'Tunlinkat': {
        const c = await this.clone(t.dirfid, [t.name], cancel);
        const isDir = (c.qtype & QTDIR) !== 0;
        if (t.flags & AT_REMOVEDIR ? !isDir : isDir) {
          this.clunk(c.fid);
          throw lerr(isDir ? Errno.EISDIR : Errno.ENOTDIR);
        }
        await this.internal({ type: 'Tremove', tag: 0, fid: c.fid }, cancel); // remove clunks the fid
        return { type: 'Runlinkat', tag };
      }
      case 'Tstatfs':
        return {
          type: 'Rstatfs', tag,
          statfs: { fsType: V9FS_MAGIC, bsize: 4096, blocks: 0n, bfree: 0n, bavail: 0n, files: 0n, ffree: 0n, fsid: 0n, namelen: 255 },
        };
      case 'Tfsync':
        return { type: 'Rfsync', tag };
      case 'Tlock':
        return { type: 'Rlock', tag, status: 0 };
      case 'Tgetlock':
        return { type: 'Rgetlock', tag, lock: { ...t.lock, lockType: 2 } };
      default:
        // Txattrwalk, Txattrcreate, Tlink, Tmknod: nothing in 9P2000 to say them with.
        throw lerr(Errno.EOPNOTSUPP);
    }
  }

  /** POSIX rename in one directory: an existing target is replaced, as Linux expects. */
  private async rename(olddir: number, oldname: string, newdir: number, newname: string, cancel: Cancellation): Promise<void> {
    // Checked before any walk: a walk of ".." or "." as the target would find the parent or the
    // directory itself, and then remove it as the target being replaced.
    checkNewName(newname);
    if (oldname === '' || oldname === '.' || oldname === '..' || oldname.includes('/') || oldname.includes('\0')) throw lerr(Errno.EINVAL);
    const [a, b] = await Promise.all([this.stat(olddir, cancel), this.stat(newdir, cancel)]);
    if (a.qid.path !== b.qid.path) throw lerr(Errno.EXDEV);
    if (oldname === newname) return;
    await this.withClone(olddir, [oldname], cancel, async (src) => {
      const target = await this.clone(newdir, [newname], cancel).catch(() => null);
      if (target) {
        if (target.qtype & QTDIR && !(src.qtype & QTDIR)) { this.clunk(target.fid); throw lerr(Errno.EISDIR); }
        await this.internal({ type: 'Tremove', tag: 0, fid: target.fid }, cancel);
      }
      const st = nullStat();
      st.name = newname;
      await this.internal({ type: 'Twstat', tag: 0, fid: src.fid, stat: st }, cancel);
    });
  }
}
