// The client side of the dialect layer: canonical requests (9P2000 with the .u fields) said to a
// remote in its own dialect over a Client connection. A 9P2000 or .u remote hears them as they are;
// a .L remote hears Tlopen, Tlcreate, Tmkdir, Tgetattr, Tsetattr, Trenameat and Treaddir.
import { type CallOptions, type Client, NinepError, linuxFlags } from '../../client/index.ts';
import {
  DMDIR, DMSYMLINK, Errno, GETATTR_BASIC, IOHDRSZ, L_O_CREAT, NONUNAME, type Qid, QTSYMLINK, SETATTR_ATIME,
  SETATTR_ATIME_SET, SETATTR_MODE, SETATTR_MTIME, SETATTR_MTIME_SET, SETATTR_SIZE, type Stat, type Tmsg,
  errnoToString, unpackDirents, unpackStats,
} from '../../ninep/index.ts';
import { StyxError } from '../errors.ts';
import { attrToStat, dmToLinuxMode, qidStat } from './convert.ts';


/** Opens rfid with a 9P open mode. */
export async function remoteOpen(c: Client, rfid: number, mode: number, o: CallOptions): Promise<{ qid: Qid; iounit: number }> {
  return c.dialect === '9P2000.L'
    ? c.rpc({ type: 'Tlopen', fid: rfid, flags: linuxFlags(mode) }, o)
    : c.rpc({ type: 'Topen', fid: rfid, mode }, o);
}

/**
 * Creates t.name in the directory rfid and opens it. rfid is what stands for the new file
 * afterwards: the same fid, or (a .L remote's directory or symlink, made without opening) a new
 * fid walked to it, rfid being clunked. Never an in-place walk: some servers refuse newfid = fid.
 */
export async function remoteCreate(
  c: Client, rfid: number, t: Extract<Tmsg, { type: 'Tcreate' }>, o: CallOptions,
): Promise<{ qid: Qid; iounit: number; rfid: number }> {
  if (c.dialect !== '9P2000.L') {
    const r = await c.rpc({ type: 'Tcreate', fid: rfid, name: t.name, perm: t.perm, mode: t.mode, extension: t.extension }, o);
    return { qid: r.qid, iounit: r.iounit, rfid };
  }
  if (!(t.perm & (DMDIR | DMSYMLINK))) {
    const r = await c.rpc({ type: 'Tlcreate', fid: rfid, name: t.name, flags: linuxFlags(t.mode) | L_O_CREAT, mode: t.perm & 0o777, gid: NONUNAME }, o);
    return { qid: r.qid, iounit: r.iounit, rfid };
  }
  if (t.perm & DMDIR) await c.rpc({ type: 'Tmkdir', dfid: rfid, name: t.name, mode: t.perm & 0o777, gid: NONUNAME }, o);
  else await c.rpc({ type: 'Tsymlink', fid: rfid, name: t.name, symtgt: t.extension, gid: NONUNAME }, o);
  const nf = c.allocFid();
  try {
    await c.rpc({ type: 'Twalk', fid: rfid, newfid: nf, wnames: [t.name] }, o);
  } catch (e) {
    c.releaseFid(nf);
    throw e;
  }
  c.clunkQuietly(rfid);
  if (!(t.perm & DMDIR)) return { qid: { type: QTSYMLINK, vers: 0, path: 0n }, iounit: 0, rfid: nf };
  const r = await c.rpc({ type: 'Tlopen', fid: nf, flags: linuxFlags(t.mode & 3) }, o);
  return { qid: r.qid, iounit: r.iounit, rfid: nf };
}

/** The stat of rfid; name is what a .L remote's getattr leaves out. */
export async function remoteStat(c: Client, rfid: number, name: string, o: CallOptions): Promise<Stat> {
  if (c.dialect !== '9P2000.L') return (await c.rpc({ type: 'Tstat', fid: rfid }, o)).stat;
  const r = await c.rpc({ type: 'Tgetattr', fid: rfid, requestMask: GETATTR_BASIC }, o);
  return attrToStat(name, r.attr);
}

/**
 * A wstat of rfid, whose names from the attach point are `path` (a .L rename is made in its
 * directory, reached from the root: a file cannot walk ".."). Returns the path afterwards.
 */
export async function remoteWstat(c: Client, rfid: number, path: readonly string[], st: Stat, o: CallOptions): Promise<string[]> {
  if (c.dialect !== '9P2000.L') {
    await c.rpc({ type: 'Twstat', fid: rfid, stat: st }, o);
    return st.name === '' || path.length === 0 ? [...path] : [...path.slice(0, -1), st.name];
  }
  let valid = 0;
  const a = { valid: 0, mode: 0, uid: 0, gid: 0, size: 0n, atimeSec: 0n, atimeNsec: 0n, mtimeSec: 0n, mtimeNsec: 0n };
  if (st.mode !== 0xffffffff) { valid |= SETATTR_MODE; a.mode = dmToLinuxMode(st.mode); }
  if (st.length !== 0xffffffffffffffffn) { valid |= SETATTR_SIZE; a.size = st.length; }
  if (st.mtime !== 0xffffffff) { valid |= SETATTR_MTIME | SETATTR_MTIME_SET; a.mtimeSec = BigInt(st.mtime); }
  if (st.atime !== 0xffffffff) { valid |= SETATTR_ATIME | SETATTR_ATIME_SET; a.atimeSec = BigInt(st.atime); }
  if (valid) await c.rpc({ type: 'Tsetattr', fid: rfid, attr: { ...a, valid } }, o);
  const name = path.length ? path[path.length - 1] : '/';
  if (st.name === '' || st.name === name) return [...path];
  if (path.length === 0) throw new StyxError(errnoToString(Errno.EPERM), Errno.EPERM);
  const dfid = c.allocFid();
  try {
    await c.rpc({ type: 'Twalk', fid: c.rootFid, newfid: dfid, wnames: path.slice(0, -1) }, o);
  } catch (e) {
    c.releaseFid(dfid);
    throw e;
  }
  try {
    // diod answers Trenameat with EOPNOTSUPP; protocol.md says to fall back to Trename then.
    await c.rpc({ type: 'Trenameat', olddirfid: dfid, oldname: name, newdirfid: dfid, newname: st.name }, o).catch((e: unknown) => {
      if (!(e instanceof NinepError && (e.errno === Errno.EOPNOTSUPP || e.errno === Errno.ENOSYS))) throw e;
      return c.rpc({ type: 'Trename', fid: rfid, dfid, name: st.name }, o);
    });
    return [...path.slice(0, -1), st.name];
  } finally {
    c.clunkQuietly(dfid);
  }
}

/**
 * One batch of the open directory rfid's entries as stats, from the remote position `at` (a byte
 * offset, or a .L cookie); null at the end. A .L remote's entries are each walked to for their
 * attributes: a 9P2000 directory read carries whole stats.
 */
export async function remoteEntries(c: Client, rfid: number, at: bigint, o: CallOptions): Promise<{ stats: Stat[]; next: bigint } | null> {
  const count = c.msize - IOHDRSZ;
  if (c.dialect !== '9P2000.L') {
    const r = await c.rpc({ type: 'Tread', fid: rfid, offset: at, count }, o);
    return r.data.length === 0 ? null : { stats: unpackStats(r.data, c.dialect), next: at + BigInt(r.data.length) };
  }
  const r = await c.rpc({ type: 'Treaddir', fid: rfid, offset: at, count }, o);
  const raw = unpackDirents(r.data);
  if (raw.length === 0) return null;
  const ents = raw.filter((e) => e.name !== '.' && e.name !== '..');
  const stats = await Promise.all(ents.map((e) => entryStat(c, rfid, e.name, e.qid, o)));
  return { stats, next: raw[raw.length - 1].offset };
}

async function entryStat(c: Client, dir: number, name: string, qid: Qid, o: CallOptions): Promise<Stat> {
  const tmp = c.allocFid();
  try {
    await c.rpc({ type: 'Twalk', fid: dir, newfid: tmp, wnames: [name] }, o);
  } catch {
    c.releaseFid(tmp);
    return qidStat(name, qid);
  }
  try {
    return await remoteStat(c, tmp, name, o);
  } catch {
    return qidStat(name, qid);
  } finally {
    c.clunkQuietly(tmp);
  }
}
