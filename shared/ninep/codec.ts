// Encoding and decoding of whole 9P messages, driven by the per-dialect layouts in schema.ts.
import { type Dialect, HEADER_SIZE, MAXWELEM } from './constants.ts';
import { ProtocolError } from './errors.ts';
import type {
  Message, MessageType, Qid, Rclunk, Rread, Rreaddir, Rwalk, Rwrite, Stat, Tclunk, Tread, Treaddir,
  Twalk, Twrite,
} from './messages.ts';
import { type Field, Kind, type Layout, TABLES } from './schema.ts';
import {
  ATTR_SIZE, SETATTR_SIZE, STATFS_SIZE, lockSize, readAttr, readLock, readSetAttr, readStat,
  readStatFs, statSize, strLen, writeAttr, writeLock, writeSetAttr, writeStat, writeStatFs,
} from './structs.ts';
import { Reader, Writer, utf8Length } from './wire.ts';

type Fields = Record<string, unknown>;

// ---- fast paths ----
// The hottest messages skip the generic field loop: hand-written size/write/read that build one
// object literal (a single hidden class, no keyed property access). Each fast path states the
// layout it assumes and is enabled only where the table in schema.ts says exactly that, so the
// table stays the one description of the wire; tests compare every fast path with the table path.

interface Fast {
  readonly fields: readonly Field[];
  /** Body bytes (after the 7-byte header). */
  size(m: Message): number;
  write(w: Writer, m: Message): void;
  read(r: Reader, tag: number): Message;
}

function walkNamesSize(names: readonly string[]): number {
  if (names.length > MAXWELEM) throw new ProtocolError('too-many-names', `${names.length} names in one walk (max ${MAXWELEM})`);
  let n = 2;
  for (let i = 0; i < names.length; i++) n += 2 + strLen(names[i], 'wname');
  return n;
}

function readNames(r: Reader): string[] {
  const n = r.u16('nwname');
  if (n > MAXWELEM) throw new ProtocolError('too-many-names', `nwname ${n} above ${MAXWELEM}`);
  const names: string[] = [];
  for (let i = 0; i < n; i++) names.push(r.str('wname'));
  return names;
}

function readQids(r: Reader): Qid[] {
  const n = r.u16('nwqid');
  if (n > MAXWELEM) throw new ProtocolError('too-many-names', `nwqid ${n} above ${MAXWELEM}`);
  r.need(13 * n, 'wqids');
  const qids: Qid[] = [];
  for (let i = 0; i < n; i++) qids.push(r.qid());
  return qids;
}

const twalk: Fast = {
  fields: [['fid', Kind.U32], ['newfid', Kind.U32], ['wnames', Kind.Names]],
  size: (m) => 8 + walkNamesSize((m as Twalk).wnames),
  write(w, m) {
    const t = m as Twalk;
    w.u32(t.fid, 'fid'); w.u32(t.newfid, 'newfid'); w.u16(t.wnames.length);
    for (let i = 0; i < t.wnames.length; i++) w.str(t.wnames[i], utf8Length(t.wnames[i]));
  },
  read: (r, tag): Twalk => ({ type: 'Twalk', tag, fid: r.u32('fid'), newfid: r.u32('newfid'), wnames: readNames(r) }),
};

const rwalk: Fast = {
  fields: [['qids', Kind.Qids]],
  size(m) {
    const n = (m as Rwalk).qids.length;
    if (n > MAXWELEM) throw new ProtocolError('too-many-names', `${n} qids in one walk (max ${MAXWELEM})`);
    return 2 + 13 * n;
  },
  write(w, m) {
    const q = (m as Rwalk).qids;
    w.u16(q.length);
    for (let i = 0; i < q.length; i++) w.qid(q[i]);
  },
  read: (r, tag): Rwalk => ({ type: 'Rwalk', tag, qids: readQids(r) }),
};

/** Tread and Treaddir: fid[4] offset[8] count[4]. */
function ioRequest(type: 'Tread' | 'Treaddir'): Fast {
  return {
    fields: [['fid', Kind.U32], ['offset', Kind.U64], ['count', Kind.U32]],
    size: () => 16,
    write(w, m) { const t = m as Tread | Treaddir; w.u32(t.fid, 'fid'); w.u64(t.offset, 'offset'); w.u32(t.count, 'count'); },
    read: (r, tag): Tread | Treaddir => ({ type, tag, fid: r.u32('fid'), offset: r.u64('offset'), count: r.u32('count') }),
  };
}

/** Rread and Rreaddir: count[4] data[count], decoded as a view. */
function ioReply(type: 'Rread' | 'Rreaddir'): Fast {
  return {
    fields: [['data', Kind.Data]],
    size: (m) => 4 + (m as Rread | Rreaddir).data.length,
    write(w, m) { const d = (m as Rread | Rreaddir).data; w.u32(d.length); w.bytes(d); },
    read: (r, tag): Rread | Rreaddir => ({ type, tag, data: r.data('data') }),
  };
}

const twrite: Fast = {
  fields: [['fid', Kind.U32], ['offset', Kind.U64], ['data', Kind.Data]],
  size: (m) => 16 + (m as Twrite).data.length,
  write(w, m) { const t = m as Twrite; w.u32(t.fid, 'fid'); w.u64(t.offset, 'offset'); w.u32(t.data.length); w.bytes(t.data); },
  read: (r, tag): Twrite => ({ type: 'Twrite', tag, fid: r.u32('fid'), offset: r.u64('offset'), data: r.data('data') }),
};

const rwrite: Fast = {
  fields: [['count', Kind.U32]],
  size: () => 4,
  write(w, m) { w.u32((m as Rwrite).count, 'count'); },
  read: (r, tag): Rwrite => ({ type: 'Rwrite', tag, count: r.u32('count') }),
};

const tclunk: Fast = {
  fields: [['fid', Kind.U32]],
  size: () => 4,
  write(w, m) { w.u32((m as Tclunk).fid, 'fid'); },
  read: (r, tag): Tclunk => ({ type: 'Tclunk', tag, fid: r.u32('fid') }),
};

const rclunk: Fast = {
  fields: [],
  size: () => 0,
  write() {},
  read: (_r, tag): Rclunk => ({ type: 'Rclunk', tag }),
};

const FAST: Partial<Record<MessageType, Fast>> = {
  Twalk: twalk, Rwalk: rwalk, Tread: ioRequest('Tread'), Treaddir: ioRequest('Treaddir'),
  Rread: ioReply('Rread'), Rreaddir: ioReply('Rreaddir'), Twrite: twrite, Rwrite: rwrite,
  Tclunk: tclunk, Rclunk: rclunk,
};

function sameFields(a: readonly Field[], b: readonly Field[]): boolean {
  return a.length === b.length && a.every((f, i) => f[0] === b[i][0] && f[1] === b[i][1]);
}

interface Entry {
  readonly layout: Layout;
  readonly fast: Fast | undefined;
}

interface Entries {
  readonly byType: ReadonlyMap<MessageType, Entry>;
  readonly byNum: ReadonlyArray<Entry | undefined>;
}

function entries(dialect: Dialect): Entries {
  const byType = new Map<MessageType, Entry>();
  const byNum: Array<Entry | undefined> = new Array(256).fill(undefined);
  for (const layout of TABLES[dialect].byType.values()) {
    const f = FAST[layout.type];
    const ok = f !== undefined && sameFields(f.fields, layout.fields) && Object.keys(layout.absent).length === 0;
    const e: Entry = { layout, fast: ok ? f : undefined };
    byType.set(layout.type, e);
    byNum[layout.num] = e;
  }
  return { byType, byNum };
}

const ENTRIES: Readonly<Record<Dialect, Entries>> = {
  '9P2000': entries('9P2000'),
  '9P2000.u': entries('9P2000.u'),
  '9P2000.L': entries('9P2000.L'),
};

/** Message types whose fast path the table confirmed, per dialect (for tests). */
export function fastPathTypes(dialect: Dialect): MessageType[] {
  return [...ENTRIES[dialect].byType.values()].filter((e) => e.fast).map((e) => e.layout.type);
}

function entryFor(m: Message, dialect: Dialect): Entry {
  const e = ENTRIES[dialect].byType.get(m.type);
  if (!e) throw new ProtocolError('unknown-type', `${m.type} is not a ${dialect} message`, m.tag);
  return e;
}

// ---- the table path ----

function fieldSize(kind: Kind, v: unknown, name: string, dialect: Dialect): number {
  switch (kind) {
    case Kind.U8: return 1;
    case Kind.U16: return 2;
    case Kind.U32: case Kind.U32Opt: return 4;
    case Kind.U64: return 8;
    case Kind.Str: return 2 + strLen(v as string, name);
    case Kind.Qid: return 13;
    case Kind.Names: return walkNamesSize(v as string[]);
    case Kind.Qids: {
      const qids = v as Qid[];
      if (qids.length > MAXWELEM) throw new ProtocolError('too-many-names', `${qids.length} qids in one walk (max ${MAXWELEM})`);
      return 2 + 13 * qids.length;
    }
    case Kind.Data: return 4 + (v as Uint8Array).length;
    case Kind.Stat: {
      // n[2] counts the whole stat, its own size[2] included, so it caps the stat at 65535 bytes.
      const n = statSize(v as Stat, dialect);
      if (n > 0xffff) throw new ProtocolError('bad-value', `stat of ${n} bytes does not fit in n[2]`);
      return 2 + n;
    }
    case Kind.Attr: return ATTR_SIZE;
    case Kind.SetAttr: return SETATTR_SIZE;
    case Kind.StatFs: return STATFS_SIZE;
    case Kind.Lock: return lockSize(v as never);
  }
}

function tableBodySize(l: Layout, m: Message, dialect: Dialect): number {
  const f = m as unknown as Fields;
  let n = 0;
  for (const [name, kind] of l.fields) n += fieldSize(kind, f[name], name, dialect);
  return n;
}

/** The encoded size of m in the given dialect. */
export function encodedSize(m: Message, dialect: Dialect): number {
  const e = entryFor(m, dialect);
  return HEADER_SIZE + (e.fast ? e.fast.size(m) : tableBodySize(e.layout, m, dialect));
}

// Small frames are cut from a shared off-heap slab, as Node's Buffer pool does: V8 keeps a small
// typed array made by `new Uint8Array(n)` on its heap, and the first view or ArrayBuffer taken of
// it (decode's zero-copy data, a socket write) must first move it off-heap, which costs more than
// the whole encode.
const SLAB_SIZE = 16 * 1024;
const SLAB_MAX = 256;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabAt = 0;

function frameBuffer(size: number): Uint8Array {
  if (size > SLAB_MAX) return new Uint8Array(size);
  if (slabAt + size > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabAt = 0;
  }
  const b = new Uint8Array(slab, slabAt, size);
  slabAt = (slabAt + size + 7) & ~7; // 8-aligned, as a fresh buffer would be
  return b;
}

/** Encodes one message into a buffer of exactly its size (small ones share an ArrayBuffer). */
export function encode(m: Message, dialect: Dialect): Uint8Array {
  const e = entryFor(m, dialect);
  const fast = e.fast;
  const size = HEADER_SIZE + (fast ? fast.size(m) : tableBodySize(e.layout, m, dialect));
  const buf = frameBuffer(size);
  const w = new Writer(buf);
  w.u32(size);
  w.u8(e.layout.num);
  w.u16(m.tag, 'tag');
  if (fast) fast.write(w, m);
  else tableWrite(w, e.layout, m, dialect);
  return buf;
}

const NO_DATA = new Uint8Array(0);

/**
 * A Twrite, Rread or Rreaddir encoded up to its data, which is its last field: sent followed by
 * m.data, the peer reads one whole message, and the data was never copied into a frame.
 */
export function encodeHead(m: Twrite | Rread | Rreaddir, dialect: Dialect): Uint8Array {
  const head = encode({ ...m, data: NO_DATA }, dialect);
  const v = new DataView(head.buffer, head.byteOffset, head.length);
  v.setUint32(0, head.length + m.data.length, true);
  v.setUint32(head.length - 4, m.data.length, true);
  return head;
}

/** encode by the layout table alone, bypassing the fast paths (tests compare the two). */
export function encodeByTable(m: Message, dialect: Dialect): Uint8Array {
  const l = entryFor(m, dialect).layout;
  const size = HEADER_SIZE + tableBodySize(l, m, dialect);
  const w = new Writer(new Uint8Array(size));
  w.u32(size);
  w.u8(l.num);
  w.u16(m.tag, 'tag');
  tableWrite(w, l, m, dialect);
  return w.buf;
}

function tableWrite(w: Writer, l: Layout, m: Message, dialect: Dialect): void {
  const f = m as unknown as Fields;
  for (const [name, kind] of l.fields) {
    const v = f[name];
    switch (kind) {
      case Kind.U8: w.u8(v as number, name); break;
      case Kind.U16: w.u16(v as number, name); break;
      case Kind.U32: case Kind.U32Opt: w.u32(v as number, name); break;
      case Kind.U64: w.u64(v as bigint, name); break;
      case Kind.Str: w.str(v as string, utf8Length(v as string)); break;
      case Kind.Qid: w.qid(v as Qid); break;
      case Kind.Names: {
        const names = v as string[];
        w.u16(names.length);
        for (const s of names) w.str(s, utf8Length(s));
        break;
      }
      case Kind.Qids: {
        const qids = v as Qid[];
        w.u16(qids.length);
        for (const q of qids) w.qid(q);
        break;
      }
      case Kind.Data: {
        const d = v as Uint8Array;
        w.u32(d.length);
        w.bytes(d);
        break;
      }
      case Kind.Stat: {
        const n = statSize(v as Stat, dialect);
        w.u16(n);
        writeStat(w, v as Stat, dialect, n);
        break;
      }
      case Kind.Attr: writeAttr(w, v as never); break;
      case Kind.SetAttr: writeSetAttr(w, v as never); break;
      case Kind.StatFs: writeStatFs(w, v as never); break;
      case Kind.Lock: writeLock(w, v as never); break;
    }
  }
}

/** The 4-byte size field at the start of a frame. */
export function frameSize(frame: Uint8Array, at = 0): number {
  return (frame[at] | (frame[at + 1] << 8) | (frame[at + 2] << 16)) + frame[at + 3] * 0x1000000;
}

/**
 * Decodes one whole frame (size included). Throws ProtocolError, and nothing else, for any frame
 * that is not a well-formed message of the dialect; the error carries the tag when it was readable.
 */
export function decode(frame: Uint8Array, dialect: Dialect): Message {
  return decodeWith(frame, dialect, true);
}

/** decode by the layout table alone, bypassing the fast paths (tests compare the two). */
export function decodeByTable(frame: Uint8Array, dialect: Dialect): Message {
  return decodeWith(frame, dialect, false);
}

function decodeWith(frame: Uint8Array, dialect: Dialect, useFast: boolean): Message {
  if (frame.length < HEADER_SIZE) throw new ProtocolError('bad-size', `frame of ${frame.length} bytes is shorter than a header`);
  const size = frameSize(frame);
  if (size !== frame.length) throw new ProtocolError('bad-size', `size field ${size} does not match frame of ${frame.length} bytes`);
  const num = frame[4];
  const tag = frame[5] | (frame[6] << 8);
  const e = ENTRIES[dialect].byNum[num];
  if (!e) throw new ProtocolError('unknown-type', `type ${num} is not a ${dialect} message`, tag, num);
  const l = e.layout;
  const r = new Reader(frame, HEADER_SIZE, size);
  try {
    const m = useFast && e.fast ? e.fast.read(r, tag) : tableRead(r, l, tag, dialect);
    if (r.pos !== r.end) throw new ProtocolError('trailing', `${r.end - r.pos} bytes after the last field`);
    return m;
  } catch (err) {
    if (err instanceof ProtocolError) throw new ProtocolError(err.code, `${l.type}: ${err.message}`, tag, num);
    throw err;
  }
}

function tableRead(r: Reader, l: Layout, tag: number, dialect: Dialect): Message {
  const m: Fields = { type: l.type, tag };
  for (const [name, kind] of l.fields) m[name] = readField(r, kind, name, dialect);
  for (const k in l.absent) m[k] = l.absent[k];
  return m as unknown as Message;
}

function readField(r: Reader, kind: Kind, name: string, dialect: Dialect): unknown {
  switch (kind) {
    case Kind.U8: return r.u8(name);
    case Kind.U16: return r.u16(name);
    case Kind.U32: return r.u32(name);
    case Kind.U32Opt: return r.remaining() === 0 ? 0 : r.u32(name);
    case Kind.U64: return r.u64(name);
    case Kind.Str: return r.str(name);
    case Kind.Qid: return r.qid();
    case Kind.Names: return readNames(r);
    case Kind.Qids: return readQids(r);
    case Kind.Data: return r.data(name);
    case Kind.Stat: {
      const n = r.u16('stat length');
      r.need(n, 'stat');
      const end = r.pos + n;
      const st = readStat(new Reader(r.buf, r.pos, end), dialect);
      // The outer n[2] and the stat's own size[2] must agree (stat(5)).
      if (statEnd(r.buf, r.pos) !== end) throw new ProtocolError('bad-size', `stat length ${n} disagrees with the stat's own size`);
      r.pos = end;
      return st;
    }
    case Kind.Attr: return readAttr(r);
    case Kind.SetAttr: return readSetAttr(r);
    case Kind.StatFs: return readStatFs(r);
    case Kind.Lock: return readLock(r);
  }
}

function statEnd(buf: Uint8Array, at: number): number {
  return at + 2 + (buf[at] | (buf[at + 1] << 8));
}
