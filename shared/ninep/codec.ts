// Encoding and decoding of whole 9P messages, driven by the per-dialect layouts in schema.ts.
import { type Dialect, HEADER_SIZE, MAXWELEM } from './constants.ts';
import { ProtocolError } from './errors.ts';
import type { Message, Qid, Stat } from './messages.ts';
import { Kind, type Layout, TABLES } from './schema.ts';
import {
  ATTR_SIZE, SETATTR_SIZE, STATFS_SIZE, lockSize, readAttr, readLock, readSetAttr, readStat,
  readStatFs, statSize, strLen, writeAttr, writeLock, writeSetAttr, writeStat, writeStatFs,
} from './structs.ts';
import { Reader, Writer, utf8Length } from './wire.ts';

type Fields = Record<string, unknown>;

function layoutFor(m: Message, dialect: Dialect): Layout {
  const l = TABLES[dialect].byType.get(m.type);
  if (!l) throw new ProtocolError('unknown-type', `${m.type} is not a ${dialect} message`, m.tag);
  return l;
}

function fieldSize(kind: Kind, v: unknown, name: string, dialect: Dialect): number {
  switch (kind) {
    case Kind.U8: return 1;
    case Kind.U16: return 2;
    case Kind.U32: case Kind.U32Opt: return 4;
    case Kind.U64: return 8;
    case Kind.Str: return 2 + strLen(v as string, name);
    case Kind.Qid: return 13;
    case Kind.Names: {
      const names = v as string[];
      if (names.length > MAXWELEM) throw new ProtocolError('too-many-names', `${names.length} names in one walk (max ${MAXWELEM})`);
      let n = 2;
      for (const s of names) n += 2 + strLen(s, 'wname');
      return n;
    }
    case Kind.Qids: {
      const qids = v as Qid[];
      if (qids.length > MAXWELEM) throw new ProtocolError('too-many-names', `${qids.length} qids in one walk (max ${MAXWELEM})`);
      return 2 + 13 * qids.length;
    }
    case Kind.Data: return 4 + (v as Uint8Array).length;
    case Kind.Stat: return 2 + statSize(v as Stat, dialect);
    case Kind.Attr: return ATTR_SIZE;
    case Kind.SetAttr: return SETATTR_SIZE;
    case Kind.StatFs: return STATFS_SIZE;
    case Kind.Lock: return lockSize(v as never);
  }
}

/** The encoded size of m in the given dialect. */
export function encodedSize(m: Message, dialect: Dialect): number {
  const l = layoutFor(m, dialect);
  const f = m as unknown as Fields;
  let n = HEADER_SIZE;
  for (const [name, kind] of l.fields) n += fieldSize(kind, f[name], name, dialect);
  return n;
}

/** Encodes one message into a buffer of exactly its size. */
export function encode(m: Message, dialect: Dialect): Uint8Array {
  const l = layoutFor(m, dialect);
  const f = m as unknown as Fields;
  let size = HEADER_SIZE;
  for (const [name, kind] of l.fields) size += fieldSize(kind, f[name], name, dialect);
  const buf = new Uint8Array(size);
  const w = new Writer(buf);
  w.u32(size);
  w.u8(l.num);
  w.u16(m.tag);
  for (const [name, kind] of l.fields) {
    const v = f[name];
    switch (kind) {
      case Kind.U8: w.u8(v as number); break;
      case Kind.U16: w.u16(v as number); break;
      case Kind.U32: case Kind.U32Opt: w.u32(v as number); break;
      case Kind.U64: w.u64(v as bigint); break;
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
  return buf;
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
  if (frame.length < HEADER_SIZE) throw new ProtocolError('bad-size', `frame of ${frame.length} bytes is shorter than a header`);
  const size = frameSize(frame);
  if (size !== frame.length) throw new ProtocolError('bad-size', `size field ${size} does not match frame of ${frame.length} bytes`);
  const num = frame[4];
  const tag = frame[5] | (frame[6] << 8);
  const l = TABLES[dialect].byNum[num];
  if (!l) throw new ProtocolError('unknown-type', `type ${num} is not a ${dialect} message`, tag, num);
  const r = new Reader(frame, HEADER_SIZE, size);
  const m: Fields = { type: l.type, tag };
  try {
    for (const [name, kind] of l.fields) m[name] = readField(r, kind, name, dialect);
    if (r.pos !== r.end) throw new ProtocolError('trailing', `${r.end - r.pos} bytes after the last field`);
  } catch (e) {
    if (e instanceof ProtocolError) throw new ProtocolError(e.code, `${l.type}: ${e.message}`, tag, num);
    throw e;
  }
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
    case Kind.Names: {
      const n = r.u16('nwname');
      if (n > MAXWELEM) throw new ProtocolError('too-many-names', `nwname ${n} above ${MAXWELEM}`);
      const names: string[] = [];
      for (let i = 0; i < n; i++) names.push(r.str('wname'));
      return names;
    }
    case Kind.Qids: {
      const n = r.u16('nwqid');
      if (n > MAXWELEM) throw new ProtocolError('too-many-names', `nwqid ${n} above ${MAXWELEM}`);
      r.need(13 * n, 'wqids');
      const qids: Qid[] = [];
      for (let i = 0; i < n; i++) qids.push(r.qid());
      return qids;
    }
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
