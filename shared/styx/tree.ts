// A ready-made file tree for the simple cases (like Inferno's nametree or lib9p's File trees):
// build the tree, and it is its own Navigator and answers opens, reads and writes. Files hold
// bytes, or compute their content at open (fixed for that open), or act as devices. A writable
// tree also takes creates, writes, removes and wstat (rename, chmod, truncate).
import {
  DMDIR, DMSYMLINK, OTRUNC, type Rmsg, type Stat, type Tmsg,
} from '../ninep/index.ts';
import { type Dir, qidOf, toStat } from './dir.ts';
import { Eexist, Eisdir, Enotdir, Enotempty, Enotfound, Eperm, StyxError } from './errors.ts';
import type { Fid } from './fid.ts';
import type { Navigator } from './navigator.ts';
import { readBytes } from './read.ts';
import type { Cancellation, FileServer } from './service.ts';
import { type StyxOptions, Styxserver, permits } from './styxserver.ts';

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

export class Node {
  readonly children = new Map<string, Node>();
  parent: Node;
  vers = 0;
  mtime = now();
  atime = this.mtime;
  /** The bytes of a plain or writable file. */
  data: Uint8Array = new Uint8Array(0);
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
  }

  get isDir(): boolean { return (this.mode & DMDIR) !== 0; }

  dir(): Dir {
    const length = this.content === null || this.content instanceof Uint8Array || typeof this.content === 'string'
      ? BigInt(this.content === null ? this.data.length : toBytes(this.content).length)
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
}

export const DEFAULT_MAX_FILE_SIZE = 64 * 1024 * 1024;

export class Tree implements Navigator, FileServer {
  readonly root: Node;
  readonly writable: boolean;
  readonly maxFileSize: number;
  private readonly nodes = new Map<bigint, Node>();
  private nextPath = 0n;

  constructor(readonly opts: TreeOptions = {}) {
    this.writable = opts.writable ?? false;
    this.maxFileSize = opts.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
    this.root = new Node(this, this.nextPath++, '/', DMDIR | (opts.rootPerm ?? (this.writable ? 0o777 : 0o555)), opts.user ?? 'styx', null);
    this.nodes.set(this.root.path, this.root);
  }

  add(parent: Node, name: string, mode: number, uid = this.opts.user ?? 'styx'): Node {
    if (!parent.isDir) throw new StyxError(Enotdir);
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) throw new StyxError(`bad file name '${name}'`);
    if (parent.children.has(name)) throw new StyxError(Eexist);
    const n = new Node(this, this.nextPath++, name, mode >>> 0, uid, parent);
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
    if (!p.isDir) throw new StyxError(Enotdir);
    if (name === '..') return p.parent.dir();
    if (name === '.') return p.dir();
    const n = p.children.get(name);
    if (!n) throw new StyxError(Enotfound);
    return n.dir();
  }

  async readdir(path: bigint, offset: number, count: number): Promise<Dir[]> {
    const p = this.node(path);
    const out: Dir[] = [];
    let i = 0;
    for (const c of p.children.values()) {
      if (i++ < offset) continue;
      if (out.length >= count) break;
      out.push(c.dir());
    }
    return out;
  }

  // ---- FileServer ----

  connect(): Styxserver {
    const srv = new Styxserver(this, this.root.path, this.opts);
    srv.handle((m, cancel) => this.handle(srv, m, cancel));
    return srv;
  }

  private handle(srv: Styxserver, m: Tmsg, cancel: Cancellation): void {
    const f = 'fid' in m ? srv.getfid(m.fid) : undefined;
    if (!f) return srv.default(m);
    let p: Promise<Rmsg | null>;
    switch (m.type) {
      case 'Topen': p = this.open(srv, f, m); break;
      case 'Tread': if (f.isDir) return srv.default(m); p = this.read(f, m, cancel); break;
      case 'Twrite': p = this.write(f, m, cancel); break;
      case 'Tcreate': p = this.create(srv, f, m); break;
      case 'Tremove': p = this.remove(srv, f, m); break;
      case 'Twstat': p = this.wstat(f, m); break;
      default: return srv.default(m);
    }
    p.then(
      (r) => (r ? srv.reply(r) : srv.default(m)),
      (e: unknown) => srv.error(m, e instanceof Error ? e.message : String(e)),
    );
  }

  private async open(srv: Styxserver, f: Fid, m: Extract<Tmsg, { type: 'Topen' }>): Promise<Rmsg | null> {
    const n = this.node(f.path);
    // Truncating a device or computed file means nothing (echo > null): the open goes on.
    if (m.mode & OTRUNC && !n.isDir && n.content === null) {
      if (!this.writable) throw new StyxError(Eperm);
      if (!permits(toStat(n.dir(), ''), f.uname, 2)) throw new StyxError(Eperm);
      n.data = new Uint8Array(0);
      n.touch();
    }
    if (typeof n.content === 'function') {
      // Fixed for this open, so reads at any offset agree.
      f.data = toBytes(await n.content());
    }
    return null; // the default does the permission check and the reply
  }

  private async read(f: Fid, m: Extract<Tmsg, { type: 'Tread' }>, cancel: Cancellation): Promise<Rmsg | null> {
    if (!f.canRead()) return null;
    const n = this.node(f.path);
    n.atime = now();
    const c = n.content;
    if (c === null) return readBytes(m, n.data);
    if (typeof c === 'function') return readBytes(m, f.data as Uint8Array);
    if (c instanceof Uint8Array || typeof c === 'string') return readBytes(m, toBytes(c));
    if (!c.read) throw new StyxError(Eperm);
    const data = await c.read(m.offset, m.count, f, cancel);
    return { type: 'Rread', tag: m.tag, data: data.subarray(0, m.count) };
  }

  private async write(f: Fid, m: Extract<Tmsg, { type: 'Twrite' }>, cancel: Cancellation): Promise<Rmsg | null> {
    if (!f.canWrite()) return null;
    const n = this.node(f.path);
    const c = n.content;
    if (c !== null) {
      if (typeof c === 'object' && !(c instanceof Uint8Array) && c.write) {
        return { type: 'Rwrite', tag: m.tag, count: await c.write(m.offset, m.data, f, cancel) };
      }
      throw new StyxError(Eperm);
    }
    const end = m.offset + BigInt(m.data.length);
    if (end > BigInt(this.maxFileSize)) throw new StyxError('file too large');
    const off = Number(m.offset);
    if (off + m.data.length > n.data.length) {
      // Grow geometrically so a file written in many small pieces is copied O(log n) times.
      const grown = new Uint8Array(Math.min(this.maxFileSize, Math.max(off + m.data.length, n.data.length * 2)));
      grown.set(n.data);
      n.data = grown.subarray(0, off + m.data.length);
    }
    n.data.set(m.data, off);
    n.touch();
    return { type: 'Rwrite', tag: m.tag, count: m.data.length };
  }

  private async create(srv: Styxserver, f: Fid, m: Extract<Tmsg, { type: 'Tcreate' }>): Promise<Rmsg | null> {
    if (!this.writable) return null;
    if (f.isOpen) return null;
    const dir = this.node(f.path);
    if (!dir.isDir) throw new StyxError(Enotdir);
    if (!permits(toStat(dir.dir(), ''), f.uname, 2)) throw new StyxError(Eperm);
    // create(5): the new file's permissions are limited by the directory's.
    const perm = m.perm & DMDIR ? (m.perm & ~0o777) | (m.perm & dir.mode & 0o777) : (m.perm & ~0o777) | (m.perm & dir.mode & 0o666);
    const n = this.add(dir, m.name, perm & (DMDIR | DMSYMLINK | 0o777), f.uname);
    if (m.perm & DMSYMLINK) n.target = m.extension;
    f.path = n.path;
    f.qtype = n.dir().qid.type;
    f.isOpen = true;
    f.mode = m.mode;
    return { type: 'Rcreate', tag: m.tag, qid: n.dir().qid, iounit: srv.iounit };
  }

  private async remove(srv: Styxserver, f: Fid, m: Extract<Tmsg, { type: 'Tremove' }>): Promise<Rmsg | null> {
    srv.delfid(f.fid);
    if (!this.writable) throw new StyxError(Eperm);
    const n = this.node(f.path);
    if (n === this.root) throw new StyxError(Eperm);
    if (!permits(toStat(n.parent.dir(), ''), f.uname, 2)) throw new StyxError(Eperm);
    if (n.children.size > 0) throw new StyxError(Enotempty);
    n.parent.children.delete(n.name);
    n.parent.touch();
    this.nodes.delete(n.path);
    return { type: 'Rremove', tag: m.tag };
  }

  private async wstat(f: Fid, m: Extract<Tmsg, { type: 'Twstat' }>): Promise<Rmsg | null> {
    if (!this.writable) throw new StyxError(Eperm);
    const n = this.node(f.path);
    const st: Stat = m.stat;
    const owner = f.uname === n.uid;
    // Check everything first: wstat(5) changes all fields or none.
    const rename = st.name !== '' && st.name !== n.name;
    if (rename) {
      if (n === this.root) throw new StyxError(Eperm);
      if (!permits(toStat(n.parent.dir(), ''), f.uname, 2)) throw new StyxError(Eperm);
      if (st.name === '.' || st.name === '..' || st.name.includes('/')) throw new StyxError(`bad file name '${st.name}'`);
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
      else if (st.length > BigInt(this.maxFileSize)) throw new StyxError('file too large');
      else if (!permits(toStat(n.dir(), ''), f.uname, 2)) throw new StyxError(Eperm);
    }
    if (rename) {
      n.parent.children.delete(n.name);
      n.name = st.name;
      n.parent.children.set(n.name, n);
      n.parent.touch();
    }
    if (chmod) n.mode = ((n.mode & ~0o777) | (st.mode & 0o777)) >>> 0;
    if (truncate && !n.isDir) {
      const len = Number(st.length);
      const d = new Uint8Array(len);
      d.set(n.data.subarray(0, Math.min(len, n.data.length)));
      n.data = d;
    }
    if (st.mtime !== 0xffffffff) n.mtime = st.mtime;
    if (st.atime !== 0xffffffff) n.atime = st.atime;
    if (rename || chmod || truncate) n.vers = (n.vers + 1) >>> 0;
    if (truncate) n.mtime = st.mtime !== 0xffffffff ? st.mtime : now();
    return { type: 'Rwstat', tag: m.tag };
  }
}
