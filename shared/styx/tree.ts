// A ready-made file tree for the simple cases (like Inferno's nametree or lib9p's File trees):
// build the tree, and it is its own Navigator and answers opens, reads and writes. Files hold
// bytes, or compute their content at open (fixed for that open), or act as devices. A writable
// tree also takes creates, writes, removes and wstat (rename, chmod, truncate).
import {
  DMDIR, DMSYMLINK, Errno, IOHDRSZ, OTRUNC, type Rmsg, type Stat, type Tcreate, type Tmsg, type Topen, type Tread,
  type Tremove, type Twrite, type Twstat,
} from '../ninep/index.ts';
import { type Dir, qidOf, toStat } from './dir.ts';
import { Eexist, Eisdir, Enotdir, Enotempty, Enotfound, Eperm, StyxError } from './errors.ts';
import type { Fid } from './fid.ts';
import type { Navigator } from './navigator.ts';
import { readBytes } from './read.ts';
import type { Cancellation, FileServer } from './service.ts';
import { type StyxOptions, Styxserver, nameError, permits } from './styxserver.ts';
import { errText } from '../errtext.ts';

/**
 * A device-like file: reads and writes are computed per request. `req.signal` aborts when the
 * client flushes the request: a device that waits (for data, for an event) should stop waiting
 * then, and may answer at once (with what it has, or by throwing) or not at all. The signal is made
 * when first read, which costs a few microseconds: devices that answer at once should not touch it.
 */
export interface Device {
  read?(offset: bigint, count: number, fid: Fid, req: DeviceRequest): Uint8Array | Promise<Uint8Array>;
  write?(offset: bigint, data: Uint8Array, fid: Fid, req: DeviceRequest): number | Promise<number>;
}

export type DeviceRequest = Cancellation;

/** What a file holds: bytes, a string, a function computing the content at each open, or a device. */
export type Content = Uint8Array | string | (() => Uint8Array | string | Promise<Uint8Array | string>) | Device;

const encoder = new TextEncoder();
const toBytes = (v: Uint8Array | string): Uint8Array => (typeof v === 'string' ? encoder.encode(v) : v);
const now = (): number => Math.floor(Date.now() / 1000);

/**
 * A file's bytes live in chunks of CHUNK bytes: chunk i holds offsets [i*CHUNK, (i+1)*CHUNK). A
 * chunk never written is a hole: it costs nothing and reads as zeros, so a sparse file stays
 * sparse. A chunk's capacity grows geometrically (MIN_CHUNK, doubling, up to CHUNK), so a file
 * written in small appends copies each byte O(1) times on average and a tiny file costs a tiny
 * chunk. Invariant: every byte of a chunk at or past the file's length is zero, so extending the
 * file (a write past the end, a truncate upwards) never has to zero anything.
 */
export const CHUNK = 64 * 1024;
const MIN_CHUNK = 64;
/** What the budget charges for a node itself (name, qid, maps), besides its bytes. */
export const NODE_COST = 256;
/** Default total of a tree's file bytes (and nodes), in bytes: 256 MiB. */
export const DEFAULT_RAM_BUDGET = 256 * 1024 * 1024;

export const Enospc = 'no space left on device';
export const Efbig = 'file too large';

/** Capacity for a chunk that holds `cur` bytes and must hold `need`: doubling, at most CHUNK. */
function chunkCapacity(cur: number, need: number): number {
  let c = cur < MIN_CHUNK ? MIN_CHUNK : cur * 2;
  while (c < need) c *= 2;
  return c < CHUNK ? c : CHUNK;
}

/** Counters of the storage's work (for tests and status): growth reallocations and the bytes they copied. */
export interface TreeStats {
  /** Chunks allocated or grown. */
  allocations: number;
  /** Bytes copied from an old chunk into its grown replacement. */
  copied: number;
  /** Directory entries stepped over to reach a listing's offset (a listing resumed where it stopped skips none). */
  skipped: number;
  /** Chunks copied because a write or truncate changed one that a read had lent out (see Node.read). */
  unshared: number;
}

/** The children of every file: one shared empty map, so a file costs no Map of its own (add() never adds to a file). */
const NO_CHILDREN: Map<string, Node> = new Map();
/** A file never written has no chunks: one shared empty map until its first write. */
const NO_CHUNKS: Map<number, Uint8Array> = new Map();

export class Node {
  readonly children: Map<string, Node>;
  parent: Node;
  vers = 0;
  mtime = now();
  atime = this.mtime;
  /** Logical length of a plain or writable file, in bytes. */
  size = 0;
  /** Its bytes: chunk index -> chunk (see CHUNK); a missing index is a hole. */
  private chunks = NO_CHUNKS;
  /**
   * Indexes of chunks a read has handed out as views: a reply may still hold one (a socket sends
   * it without copying), so they are copied before they change and the reply keeps the bytes it read.
   */
  private lent: Set<number> | null = null;
  /** Bytes this node has charged to the tree's budget (chunk capacities plus NODE_COST). */
  charged = 0;
  content: Content | null = null;
  /** Symlink target. */
  target = '';

  constructor(
    readonly tree: Tree,
    readonly path: bigint,
    public name: string,
    public mode: number,
    public uid: string,
    parent: Node | null,
  ) {
    this.parent = parent ?? this;
    this.children = mode & DMDIR ? new Map() : NO_CHILDREN;
  }

  get isDir(): boolean { return (this.mode & DMDIR) !== 0; }

  /** The bytes of a plain or writable file, as one array (a copy: reads and writes go through read/write). */
  get data(): Uint8Array {
    return this.read(0, this.size, true);
  }

  /** Replaces the bytes (the program's own content: charged to the budget, never refused). */
  set data(v: Uint8Array) {
    this.truncate(0);
    this.write(0, v, true);
  }

  /**
   * Bytes [offset, offset+count) clipped to the length; holes read as zeros. A range inside one
   * chunk is a view of it (no copy) unless `copy`: the chunk is lent, and stays as it is for the
   * view (a later write or truncate replaces it with a copy).
   */
  read(offset: number, count: number, copy = false): Uint8Array {
    const start = Math.min(offset, this.size);
    const end = Math.min(this.size, start + count);
    if (end <= start) return new Uint8Array(0);
    const first = Math.floor(start / CHUNK);
    const last = Math.floor((end - 1) / CHUNK);
    if (first === last && !copy) {
      const c = this.chunks.get(first);
      const base = first * CHUNK;
      if (c && end - base <= c.length) {
        (this.lent ??= new Set()).add(first);
        return c.subarray(start - base, end - base);
      }
    }
    const out = new Uint8Array(end - start);
    for (let i = first; i <= last; i++) {
      const c = this.chunks.get(i);
      if (!c) continue;
      const base = i * CHUNK;
      const a = Math.max(start, base) - base;
      const b = Math.min(end - base, c.length);
      if (b > a) out.set(c.subarray(a, b), base + a - start);
    }
    return out;
  }

  /**
   * Writes data at offset, growing the file. The budget is charged before anything is allocated:
   * when the new chunks do not fit, nothing changes and the write fails with ENOSPC (`force`: the
   * program's own content, charged but never refused).
   */
  write(offset: number, data: Uint8Array, force = false): void {
    const len = data.length;
    if (len === 0) return;
    const end = offset + len;
    const first = Math.floor(offset / CHUNK);
    const last = Math.floor((end - 1) / CHUNK);
    // Two prices: with geometric growth, and exactly what this write needs (tried when the first
    // does not fit, so the last bytes of the budget are usable).
    let geometric = 0;
    let exact = 0;
    for (let i = first; i <= last; i++) {
      const need = i < last ? CHUNK : end - i * CHUNK;
      const cur = this.chunks.get(i)?.length ?? 0;
      if (need > cur) {
        geometric += chunkCapacity(cur, need) - cur;
        exact += need - cur;
      }
    }
    let grow = true;
    if (geometric > 0 && !this.tree.charge(geometric, force)) {
      if (!this.tree.charge(exact, force)) throw new StyxError(Enospc, Errno.ENOSPC);
      grow = false;
    }
    this.charged += grow ? geometric : exact;
    if (this.chunks === NO_CHUNKS) this.chunks = new Map();
    const stats = this.tree.stats;
    for (let i = first; i <= last; i++) {
      const base = i * CHUNK;
      const need = i < last ? CHUNK : end - base;
      let c = this.chunks.get(i);
      const cur = c?.length ?? 0;
      if (need > cur) {
        const grown = new Uint8Array(grow ? chunkCapacity(cur, need) : need);
        stats.allocations++;
        if (c) { grown.set(c); stats.copied += cur; }
        this.chunks.set(i, (c = grown));
        this.lent?.delete(i);
      } else if (this.lent?.has(i)) {
        c = this.unshare(i, c!);
      }
      const a = Math.max(offset, base);
      const b = Math.min(end, base + CHUNK);
      c!.set(a === offset && b === end ? data : data.subarray(a - offset, b - offset), a - base);
    }
    if (end > this.size) this.size = end;
  }

  /**
   * Sets the length. Growing allocates nothing (the new bytes are a hole); shrinking frees the
   * chunks past the end, zeroes the rest of the last one, and gives the budget back.
   */
  truncate(length: number): void {
    if (length >= this.size) {
      this.size = length;
      return;
    }
    const keep = length === 0 ? -1 : Math.floor((length - 1) / CHUNK); // last chunk index kept
    let freed = 0;
    for (const [i, c] of this.chunks) {
      if (i > keep) {
        freed += c.length;
        this.chunks.delete(i);
        this.lent?.delete(i);
      }
    }
    let c = keep >= 0 ? this.chunks.get(keep) : undefined;
    if (c) {
      const from = length - keep * CHUNK;
      const cap = chunkCapacity(0, from);
      if (cap < c.length) {
        // Mostly cut away: a smaller chunk gives the difference back.
        const smaller = new Uint8Array(cap);
        smaller.set(c.subarray(0, from));
        this.chunks.set(keep, smaller);
        this.lent?.delete(keep);
        freed += c.length - cap;
      } else {
        if (this.lent?.has(keep)) c = this.unshare(keep, c);
        c.fill(0, from, Math.min(c.length, this.size - keep * CHUNK));
      }
    }
    this.charged -= freed;
    this.tree.refund(freed);
    this.size = length;
  }

  /** Replaces lent chunk i by a copy of it (same capacity: nothing to charge), to be changed instead. */
  private unshare(i: number, c: Uint8Array): Uint8Array {
    const copy = c.slice();
    this.chunks.set(i, copy);
    this.lent!.delete(i);
    this.tree.stats.unshared++;
    return copy;
  }

  /** Frees every chunk and the node's own cost (the node is gone). */
  release(): void {
    this.chunks = NO_CHUNKS;
    this.lent = null;
    this.size = 0;
    this.tree.refund(this.charged);
    this.charged = 0;
  }

  dir(): Dir {
    const length = this.content === null || this.content instanceof Uint8Array || typeof this.content === 'string'
      ? BigInt(this.content === null ? this.size : toBytes(this.content).length)
      : 0n;
    return {
      name: this.name, qid: qidOf(this.path, this.mode, this.vers), mode: this.mode, length,
      atime: this.atime, mtime: this.mtime, uid: this.uid, gid: this.uid, muid: this.uid,
      extension: this.mode & DMSYMLINK ? this.target : undefined,
    };
  }

  /** Adds a file; returns it. */
  file(name: string, perm: number, content: Content = new Uint8Array(0)): Node {
    const n = this.tree.add(this, name, perm & 0o777);
    if (content instanceof Uint8Array && this.tree.writable) n.data = content;
    else if (typeof content === 'string' && this.tree.writable) n.data = encoder.encode(content);
    else n.content = content;
    return n;
  }

  /** Adds a directory; returns it. */
  mkdir(name: string, perm = 0o555): Node {
    return this.tree.add(this, name, DMDIR | (perm & 0o777));
  }

  touch(): void {
    this.vers = (this.vers + 1) >>> 0;
    this.mtime = now();
  }
}

export interface TreeOptions extends StyxOptions {
  /** Accept creates, writes, removes and wstat from clients. */
  writable?: boolean;
  /** Mode of the root directory (default 0555, or 0777 when writable). */
  rootPerm?: number;
  /** Largest file a client may write, in bytes (default DEFAULT_MAX_FILE_SIZE, 64 MiB). */
  maxFileSize?: number;
  /**
   * Total bytes the tree may hold: file chunks plus NODE_COST per node (default
   * DEFAULT_RAM_BUDGET, 256 MiB). A create, write or truncate past it fails with ENOSPC before
   * anything is allocated; removes and truncates give it back.
   */
  budget?: number;
}

export const DEFAULT_MAX_FILE_SIZE = 64 * 1024 * 1024;
const NOT_FOUND = new StyxError(Enotfound);

/** A listing's last batch: entries [start, start + batch.length) of dir, and the iterator just past them. */
interface Cursor {
  dir: Node;
  start: number;
  batch: Dir[];
  it: Iterator<Node>;
}

export class Tree implements Navigator, FileServer {
  readonly root: Node;
  readonly writable: boolean;
  readonly maxFileSize: number;
  readonly budget: number;
  /** Bytes charged to the budget now. */
  used = 0;
  readonly stats: TreeStats = { allocations: 0, copied: 0, skipped: 0, unshared: 0 };
  private readonly nodes = new Map<bigint, Node>();
  private nextPath = 0n;
  /** Where each fid's listing stopped (gone with the fid). */
  private readonly cursors = new WeakMap<Fid, Cursor>();

  constructor(readonly opts: TreeOptions = {}) {
    this.writable = opts.writable ?? false;
    this.maxFileSize = opts.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
    this.budget = opts.budget ?? DEFAULT_RAM_BUDGET;
    this.root = new Node(this, this.nextPath++, '/', DMDIR | (opts.rootPerm ?? (this.writable ? 0o777 : 0o555)), opts.user ?? 'styx', null);
    this.nodes.set(this.root.path, this.root);
  }

  /** Charges n bytes to the budget; false (nothing charged) when they do not fit, unless `force`. */
  charge(n: number, force = false): boolean {
    if (!force && this.used + n > this.budget) return false;
    this.used += n;
    return true;
  }

  refund(n: number): void {
    this.used -= n;
  }

  /** Adds a node; a client's (`force` false) is refused with ENOSPC when the budget is spent. */
  add(parent: Node, name: string, mode: number, uid = this.opts.user ?? 'styx', force = true, cost = NODE_COST): Node {
    if (!parent.isDir) throw new StyxError(Enotdir);
    const bad = nameError(name);
    if (bad) throw bad;
    if (parent.children.has(name)) throw new StyxError(Eexist);
    if (!this.charge(cost, force)) throw new StyxError(Enospc, Errno.ENOSPC);
    const n = new Node(this, this.nextPath++, name, mode >>> 0, uid, parent);
    n.charged = cost;
    parent.children.set(name, n);
    this.nodes.set(n.path, n);
    parent.touch();
    return n;
  }

  node(path: bigint): Node {
    const n = this.nodes.get(path);
    if (!n) throw new StyxError(Enotfound);
    return n;
  }

  // ---- Navigator ----

  async stat(path: bigint): Promise<Dir> {
    return this.node(path).dir();
  }

  async walk(parent: bigint, name: string): Promise<Dir> {
    const p = this.node(parent);
    if (name === '..') return p.parent.dir();
    if (!p.isDir) throw new StyxError(Enotdir);
    if (name === '.') return p.dir();
    const n = p.children.get(name);
    // One error for every miss: a lookup that fails is routine (each create asks first), and
    // building an Error (its stack) costs more than the rest of the walk.
    if (!n) throw NOT_FOUND;
    return n.dir();
  }

  /**
   * Entries from index `offset`. A listing asks batch after batch, each at or a little before where
   * the last one ended (the server asks for more than a reply may hold): the fid's cursor goes on
   * from there (a Map's iterator survives inserts and deletes, and lists each entry that stays
   * exactly once), so a listing costs O(entries), not O(entries^2 / batch). Another offset, or a
   * listing without a fid, starts afresh.
   */
  async readdir(path: bigint, offset: number, count: number, fid?: Fid): Promise<Dir[]> {
    const p = this.node(path);
    let c = fid && this.cursors.get(fid);
    if (c && c.dir === p && offset >= c.start && offset <= c.start + c.batch.length) {
      c.batch = c.batch.slice(offset - c.start);
      c.start = offset;
    } else {
      const it = p.children.values();
      for (let n = 0; n < offset && !it.next().done; n++) this.stats.skipped++;
      c = { dir: p, start: offset, batch: [], it };
      if (fid) this.cursors.set(fid, c);
    }
    const batch = c.batch;
    while (batch.length < count) {
      const r = c.it.next();
      if (r.done) break;
      batch.push(r.value.dir());
    }
    return batch.slice(0, count);
  }

  // ---- FileServer ----

  connect(): Styxserver {
    const srv = new Styxserver(this, this.root.path, this.opts);
    srv.handle((m, cancel) => this.handle(srv, m, cancel));
    return srv;
  }

  private handle(srv: Styxserver, m: Tmsg, cancel: Cancellation): void {
    switch (m.type) {
      case 'Topen': return this.answer(srv, m, this.open(srv, m));
      case 'Tread': {
        // Directories, and fids that may not read, are answered by srv.read itself.
        const f = srv.read(m);
        return f ? this.answer(srv, m, this.read(srv, f, m, cancel)) : undefined;
      }
      case 'Twrite': return this.answer(srv, m, this.write(srv, m, cancel));
      case 'Tcreate': return this.answer(srv, m, this.create(srv, m));
      case 'Tremove': return this.answer(srv, m, this.remove(srv, m));
      case 'Twstat': {
        const f = srv.getfid(m.fid);
        return f ? this.answer(srv, m, this.wstat(f, m)) : srv.default(m);
      }
      default: return srv.default(m);
    }
  }

  /** Sends the reply, or the error with its errno (for .u and .L clients). */
  private answer(srv: Styxserver, m: Tmsg, p: Promise<Rmsg>): void {
    p.then((r) => srv.reply(r), (e: unknown) => srv.error(m, e instanceof StyxError ? e : errText(e)));
  }

  private async open(srv: Styxserver, m: Topen): Promise<Rmsg> {
    // Validated first: a refused open changes nothing (no truncation by an open that fails).
    const o = await srv.canopen(m);
    if (o instanceof StyxError) throw o;
    const { fid: f } = o;
    const n = this.node(f.path);
    // Truncating a device or computed file means nothing (echo > null): the open goes on.
    if (m.mode & OTRUNC && !n.isDir && n.content === null) {
      if (!this.writable) throw new StyxError(Eperm);
      n.truncate(0);
      n.touch();
    }
    // Fixed for this open, so reads at any offset agree.
    if (typeof n.content === 'function') f.data = toBytes(await n.content());
    const qid = n.dir().qid;
    f.open(m.mode, qid.type);
    return { type: 'Ropen', tag: m.tag, qid, iounit: srv.iounit };
  }

  private async read(srv: Styxserver, f: Fid, m: Tread, cancel: Cancellation): Promise<Rmsg> {
    const n = this.node(f.path);
    n.atime = now();
    const c = n.content;
    if (c === null) {
      // A read spanning chunks or holes is a new buffer: never larger than a reply can be (a
      // count of 4 GiB over a sparse file must not allocate the file).
      const data = m.offset >= BigInt(n.size) ? new Uint8Array(0) : n.read(Number(m.offset), Math.min(m.count, srv.msize - IOHDRSZ));
      return { type: 'Rread', tag: m.tag, data };
    }
    if (typeof c === 'function') return readBytes(m, f.data as Uint8Array);
    if (c instanceof Uint8Array || typeof c === 'string') return readBytes(m, toBytes(c));
    if (!c.read) throw new StyxError(Eperm);
    const data = await c.read(m.offset, m.count, f, cancel);
    return { type: 'Rread', tag: m.tag, data: data.subarray(0, m.count) };
  }

  private async write(srv: Styxserver, m: Twrite, cancel: Cancellation): Promise<Rmsg> {
    const f = srv.canwrite(m);
    if (f instanceof StyxError) throw f;
    const n = this.node(f.path);
    const c = n.content;
    if (c !== null) {
      if (typeof c === 'object' && !(c instanceof Uint8Array) && c.write) {
        return { type: 'Rwrite', tag: m.tag, count: await c.write(m.offset, m.data, f, cancel) };
      }
      throw new StyxError(Eperm);
    }
    const end = m.offset + BigInt(m.data.length);
    if (end > BigInt(this.maxFileSize)) throw new StyxError(Efbig, Errno.EFBIG);
    n.write(Number(m.offset), m.data);
    n.touch();
    return { type: 'Rwrite', tag: m.tag, count: m.data.length };
  }

  private async create(srv: Styxserver, m: Tcreate): Promise<Rmsg> {
    const c = await srv.cancreate(m);
    if (c instanceof StyxError) throw c;
    if (!this.writable) throw new StyxError(Eperm);
    const { fid: f } = c;
    const symlink = (m.perm & DMSYMLINK) !== 0;
    const n = this.add(this.node(f.path), m.name, c.perm & (DMDIR | DMSYMLINK | 0o777), f.uname, false, NODE_COST + (symlink ? m.extension.length : 0));
    if (symlink) n.target = m.extension;
    // create(5): the fid now stands for the new file, open in the mode asked for.
    f.path = n.path;
    const qid = n.dir().qid;
    f.open(m.mode, qid.type);
    return { type: 'Rcreate', tag: m.tag, qid, iounit: srv.iounit };
  }

  private async remove(srv: Styxserver, m: Tremove): Promise<Rmsg> {
    const r = await srv.canremove(m);
    srv.delfid(m.fid); // remove(5): clunked whatever the outcome
    if (r instanceof StyxError) throw r;
    if (!this.writable) throw new StyxError(Eperm);
    const n = this.node(r.fid.path);
    if (n.children.size > 0) throw new StyxError(Enotempty);
    n.parent.children.delete(n.name);
    n.parent.touch();
    this.nodes.delete(n.path);
    n.release();
    return { type: 'Rremove', tag: m.tag };
  }

  private async wstat(f: Fid, m: Twstat): Promise<Rmsg> {
    if (!this.writable) throw new StyxError(Eperm);
    const n = this.node(f.path);
    const st: Stat = m.stat;
    const owner = f.uname === n.uid;
    // Check everything first: wstat(5) changes all fields or none.
    const rename = st.name !== '' && st.name !== n.name;
    if (rename) {
      if (n === this.root) throw new StyxError(Eperm);
      if (!permits(toStat(n.parent.dir(), ''), f.uname, 2)) throw new StyxError(Eperm);
      const bad = nameError(st.name);
      if (bad) throw bad;
      if (n.parent.children.has(st.name)) throw new StyxError(Eexist);
    }
    const chmod = st.mode !== 0xffffffff;
    if (chmod) {
      if (!owner) throw new StyxError(Eperm);
      if ((st.mode & DMDIR) !== (n.mode & DMDIR)) throw new StyxError(Eperm);
    }
    const truncate = st.length !== 0xffffffffffffffffn;
    if (truncate) {
      if (n.isDir) { if (st.length !== 0n) throw new StyxError(Eisdir); }
      else if (n.content !== null) throw new StyxError(Eperm);
      else if (st.length > BigInt(this.maxFileSize)) throw new StyxError(Efbig, Errno.EFBIG);
      else if (!permits(toStat(n.dir(), ''), f.uname, 2)) throw new StyxError(Eperm);
    }
    if (rename) {
      n.parent.children.delete(n.name);
      n.name = st.name;
      n.parent.children.set(n.name, n);
      n.parent.touch();
    }
    if (chmod) n.mode = ((n.mode & ~0o777) | (st.mode & 0o777)) >>> 0;
    if (truncate && !n.isDir) n.truncate(Number(st.length)); // allocates nothing: cannot fail
    if (st.mtime !== 0xffffffff) n.mtime = st.mtime;
    if (st.atime !== 0xffffffff) n.atime = st.atime;
    if (rename || chmod || truncate) n.vers = (n.vers + 1) >>> 0;
    if (truncate) n.mtime = st.mtime !== 0xffffffff ? st.mtime : now();
    return { type: 'Rwstat', tag: m.tag };
  }
}
