// Encoding and decoding of every NBD message. Decoders take one whole message (the framer cut it
// out of the stream) and return views into it for data; they throw NbdProtocolError only.
// Encoders size the buffer first and write each byte once.
import {
  CHUNK_HEADER_SIZE, CMD_NAMES, Chunk, type CmdName, Cmd, EXPORT_NAME_REPLY_SIZE, EXPORT_NAME_ZEROES,
  GREETING_SIZE, IHAVEOPT, Info, NBDMAGIC, OPTION_HEADER_SIZE, OPTION_REPLY_HEADER_SIZE,
  OPTION_REPLY_MAGIC, Opt, type OptName, REQUEST_HEADER_SIZE, REQUEST_MAGIC, Rep, SIMPLE_REPLY_MAGIC,
  SIMPLE_REPLY_SIZE, STRUCTURED_REPLY_MAGIC, isErrorChunk, isRepError,
} from './constants.ts';
import { NbdProtocolError } from './errors.ts';
import type {
  ClientOption, ExportInfo, ExportNameReply, Extent, OptionReply, Reply, ReplyChunk, Request,
} from './messages.ts';
import { Reader, Writer, readU16, readU32, readU64, utf8, writeU16, writeU32, writeU64 } from './wire.ts';

const OPT_NAMES = new Map<number, OptName>(Object.entries(Opt).map(([k, v]) => [v, k as OptName]));

export function optionName(code: number): string {
  return OPT_NAMES.get(code) ?? `OPT_${code}`;
}

// ---- handshake ----

export function encodeGreeting(handshakeFlags: number): Uint8Array {
  const b = new Uint8Array(GREETING_SIZE);
  writeU64(b, 0, NBDMAGIC);
  writeU64(b, 8, IHAVEOPT);
  writeU16(b, 16, handshakeFlags);
  return b;
}

/** The server's first 18 bytes; only fixed newstyle (no oldstyle) is understood. */
export function decodeGreeting(b: Uint8Array): { flags: number } {
  if (b.length !== GREETING_SIZE) throw new NbdProtocolError('truncated', `greeting: ${b.length} bytes, want ${GREETING_SIZE}`);
  if (readU64(b, 0) !== NBDMAGIC) throw new NbdProtocolError('bad-magic', 'greeting: not an NBD server (no NBDMAGIC)');
  if (readU64(b, 8) !== IHAVEOPT) throw new NbdProtocolError('bad-magic', 'greeting: not a newstyle server (oldstyle is not supported)');
  return { flags: readU16(b, 16) };
}

export function encodeClientFlags(flags: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32(b, 0, flags);
  return b;
}

export function decodeClientFlags(b: Uint8Array): number {
  if (b.length !== 4) throw new NbdProtocolError('truncated', `client flags: ${b.length} bytes, want 4`);
  return readU32(b, 0);
}

function nameAndQueries(name: Uint8Array, queries: Uint8Array[]): number {
  return 4 + name.length + 4 + queries.reduce((n, q) => n + 4 + q.length, 0);
}

/** One option with its IHAVEOPT header. */
export function encodeOption(o: ClientOption): Uint8Array {
  let code: number;
  let size = 0;
  let body: (w: Writer) => void = () => {};
  switch (o.option) {
    case 'EXPORT_NAME': {
      const n = utf8(o.name);
      code = Opt.EXPORT_NAME; size = n.length; body = (w) => w.bytes(n);
      break;
    }
    case 'ABORT': code = Opt.ABORT; break;
    case 'LIST': code = Opt.LIST; break;
    case 'STARTTLS': code = Opt.STARTTLS; break;
    case 'STRUCTURED_REPLY': code = Opt.STRUCTURED_REPLY; break;
    case 'INFO': case 'GO': {
      const n = utf8(o.name);
      const reqs = o.requests;
      code = Opt[o.option]; size = 4 + n.length + 2 + 2 * reqs.length;
      body = (w) => { w.u32(n.length); w.bytes(n); w.u16(reqs.length); for (const r of reqs) w.u16(r); };
      break;
    }
    case 'LIST_META_CONTEXT': case 'SET_META_CONTEXT': {
      const n = utf8(o.name);
      const qs = o.queries.map(utf8);
      code = Opt[o.option]; size = nameAndQueries(n, qs);
      body = (w) => { w.u32(n.length); w.bytes(n); w.u32(qs.length); for (const q of qs) { w.u32(q.length); w.bytes(q); } };
      break;
    }
    case 'unknown': {
      const d = o.data;
      code = o.code; size = d.length; body = (w) => w.bytes(d);
      break;
    }
  }
  const b = new Uint8Array(OPTION_HEADER_SIZE + size);
  const w = new Writer(b);
  w.u64(IHAVEOPT);
  w.u32(code);
  w.u32(size);
  body(w);
  return b;
}

/** The option number and data length from a 16-byte option header. */
export function decodeOptionHeader(b: Uint8Array): { code: number; length: number } {
  if (readU64(b, 0) !== IHAVEOPT) throw new NbdProtocolError('bad-magic', 'option: no IHAVEOPT magic');
  return { code: readU32(b, 8), length: readU32(b, 12) };
}

/** An option's data. Throws for data that does not fit the option (a server answers ERR_INVALID). */
export function decodeOption(code: number, data: Uint8Array): ClientOption {
  const name = OPT_NAMES.get(code);
  const r = new Reader(data, `option ${optionName(code)}`);
  switch (name) {
    case 'EXPORT_NAME': return { option: 'EXPORT_NAME', name: r.string(data.length, 'name') };
    case 'ABORT': case 'LIST': case 'STARTTLS': case 'STRUCTURED_REPLY':
      r.end();
      return { option: name };
    case 'INFO': case 'GO': {
      const n = r.u32('name length');
      const exportName = r.string(n, 'name');
      const count = r.u16('number of requests');
      r.need(2 * count, 'requests');
      const requests: number[] = [];
      for (let i = 0; i < count; i++) requests.push(r.u16('request'));
      r.end();
      return { option: name, name: exportName, requests };
    }
    case 'LIST_META_CONTEXT': case 'SET_META_CONTEXT': {
      const n = r.u32('name length');
      const exportName = r.string(n, 'name');
      const count = r.u32('number of queries');
      // Each query takes at least its 4-byte length, so a count beyond that is a lie.
      if (count > r.remaining() / 4) throw new NbdProtocolError('truncated', `option ${name}: ${count} queries in ${r.remaining()} bytes`);
      const queries: string[] = [];
      for (let i = 0; i < count; i++) queries.push(r.string(r.u32('query length'), 'query'));
      r.end();
      return { option: name, name: exportName, queries };
    }
    default:
      return { option: 'unknown', code, data };
  }
}

function infoSize(i: ExportInfo): number {
  switch (i.info) {
    case 'EXPORT': return 2 + 8 + 2;
    case 'NAME': return 2 + utf8(i.name).length;
    case 'DESCRIPTION': return 2 + utf8(i.description).length;
    case 'BLOCK_SIZE': return 2 + 12;
    case 'unknown': return 2 + i.data.length;
  }
}

function writeInfo(w: Writer, i: ExportInfo): void {
  switch (i.info) {
    case 'EXPORT': w.u16(Info.EXPORT); w.u64(i.size); w.u16(i.flags); return;
    case 'NAME': w.u16(Info.NAME); w.bytes(utf8(i.name)); return;
    case 'DESCRIPTION': w.u16(Info.DESCRIPTION); w.bytes(utf8(i.description)); return;
    case 'BLOCK_SIZE': w.u16(Info.BLOCK_SIZE); w.u32(i.minimum); w.u32(i.preferred); w.u32(i.maximum); return;
    case 'unknown': w.u16(i.code); w.bytes(i.data); return;
  }
}

/** One option reply with its header. */
export function encodeOptionReply(r: OptionReply): Uint8Array {
  let type: number;
  let size = 0;
  let body: (w: Writer) => void = () => {};
  switch (r.reply) {
    case 'ACK': type = Rep.ACK; break;
    case 'SERVER': {
      const n = utf8(r.name), d = utf8(r.description);
      type = Rep.SERVER; size = 4 + n.length + d.length;
      body = (w) => { w.u32(n.length); w.bytes(n); w.bytes(d); };
      break;
    }
    case 'INFO': {
      const info = r.info;
      type = Rep.INFO; size = infoSize(info); body = (w) => writeInfo(w, info);
      break;
    }
    case 'META_CONTEXT': {
      const n = utf8(r.name);
      const id = r.id;
      type = Rep.META_CONTEXT; size = 4 + n.length; body = (w) => { w.u32(id); w.bytes(n); };
      break;
    }
    case 'ERROR': {
      if (!isRepError(r.type)) throw new NbdProtocolError('bad-value', `option reply type ${r.type} is not an error`);
      const m = utf8(r.message);
      type = r.type; size = m.length; body = (w) => w.bytes(m);
      break;
    }
  }
  const b = new Uint8Array(OPTION_REPLY_HEADER_SIZE + size);
  const w = new Writer(b);
  w.u64(OPTION_REPLY_MAGIC);
  w.u32(r.option);
  w.u32(type);
  w.u32(size);
  body(w);
  return b;
}

export function decodeOptionReplyHeader(b: Uint8Array): { option: number; type: number; length: number } {
  if (readU64(b, 0) !== OPTION_REPLY_MAGIC) throw new NbdProtocolError('bad-magic', 'option reply: bad magic');
  return { option: readU32(b, 8), type: readU32(b, 12), length: readU32(b, 16) };
}

function decodeInfo(r: Reader): ExportInfo {
  const code = r.u16('information type');
  switch (code) {
    case Info.EXPORT: {
      const size = r.u64('size');
      const flags = r.u16('transmission flags');
      r.end();
      return { info: 'EXPORT', size, flags };
    }
    case Info.NAME: return { info: 'NAME', name: r.string(r.remaining(), 'name') };
    case Info.DESCRIPTION: return { info: 'DESCRIPTION', description: r.string(r.remaining(), 'description') };
    case Info.BLOCK_SIZE: {
      const minimum = r.u32('minimum'), preferred = r.u32('preferred'), maximum = r.u32('maximum');
      r.end();
      return { info: 'BLOCK_SIZE', minimum, preferred, maximum };
    }
    default: return { info: 'unknown', code, data: r.rest() };
  }
}

export function decodeOptionReply(option: number, type: number, data: Uint8Array): OptionReply {
  const r = new Reader(data, `reply to ${optionName(option)}`);
  if (isRepError(type)) return { reply: 'ERROR', option, type, message: r.string(data.length, 'message') };
  switch (type) {
    case Rep.ACK: r.end(); return { reply: 'ACK', option };
    case Rep.SERVER: {
      const n = r.u32('name length');
      const name = r.string(n, 'name');
      return { reply: 'SERVER', option, name, description: r.string(r.remaining(), 'description') };
    }
    case Rep.INFO: return { reply: 'INFO', option, info: decodeInfo(r) };
    case Rep.META_CONTEXT: {
      const id = r.u32('context id');
      return { reply: 'META_CONTEXT', option, id, name: r.string(r.remaining(), 'name') };
    }
    default: throw new NbdProtocolError('bad-value', `reply to ${optionName(option)}: unknown reply type ${type}`);
  }
}

/** The answer to EXPORT_NAME: size, flags, and 124 zeroes unless NO_ZEROES was agreed. */
export function encodeExportNameReply(size: bigint, flags: number, zeroes: boolean): Uint8Array {
  const b = new Uint8Array(EXPORT_NAME_REPLY_SIZE + (zeroes ? EXPORT_NAME_ZEROES : 0));
  writeU64(b, 0, size);
  writeU16(b, 8, flags);
  return b;
}

export function decodeExportNameReply(b: Uint8Array): ExportNameReply {
  if (b.length < EXPORT_NAME_REPLY_SIZE) throw new NbdProtocolError('truncated', 'export name reply: too short');
  return { size: readU64(b, 0), flags: readU16(b, 8) };
}

// ---- transmission ----

/** Writes a 28-byte request header at `at`. */
export function writeRequestHeader(b: Uint8Array, at: number, type: number, flags: number, cookie: bigint, offset: bigint, length: number): void {
  writeU32(b, at, REQUEST_MAGIC);
  writeU16(b, at + 4, flags);
  writeU16(b, at + 6, type);
  writeU64(b, at + 8, cookie);
  writeU64(b, at + 16, offset);
  writeU32(b, at + 24, length);
}

function cmdCode(r: Request): number {
  return r.type === 'unknown' ? r.code : Cmd[r.type];
}

/** A whole request (with the data of a WRITE). */
export function encodeRequest(r: Request): Uint8Array {
  const data = r.type === 'WRITE' ? r.data : undefined;
  if (data && data.length !== r.length) throw new NbdProtocolError('bad-value', `WRITE length ${r.length} but ${data.length} bytes of data`);
  const b = new Uint8Array(REQUEST_HEADER_SIZE + (data?.length ?? 0));
  writeRequestHeader(b, 0, cmdCode(r), r.flags, r.cookie, r.offset, r.length);
  if (data) b.set(data, REQUEST_HEADER_SIZE);
  return b;
}

/** Command type and length from a request header (the framer needs them to find the data). */
export function peekRequest(b: Uint8Array, at: number): { type: number; length: number } {
  if (readU32(b, at) !== REQUEST_MAGIC) throw new NbdProtocolError('bad-magic', 'request: bad magic');
  return { type: readU16(b, at + 6), length: readU32(b, at + 24) };
}

/** A request: its 28-byte header and, for WRITE, exactly `length` bytes of data (a view). */
export function decodeRequest(b: Uint8Array): Request {
  if (b.length < REQUEST_HEADER_SIZE) throw new NbdProtocolError('truncated', `request: ${b.length} bytes`);
  const { type, length } = peekRequest(b, 0);
  const flags = readU16(b, 4);
  const cookie = readU64(b, 8);
  const offset = readU64(b, 16);
  const name: CmdName | undefined = CMD_NAMES[type];
  if (name === 'WRITE') {
    if (b.length !== REQUEST_HEADER_SIZE + length) throw new NbdProtocolError('truncated', `WRITE of ${length} bytes with ${b.length - REQUEST_HEADER_SIZE} bytes of data`);
    return { type: 'WRITE', flags, cookie, offset, length, data: b.subarray(REQUEST_HEADER_SIZE) };
  }
  if (b.length !== REQUEST_HEADER_SIZE) throw new NbdProtocolError('trailing', `request: ${b.length - REQUEST_HEADER_SIZE} bytes after the header`);
  if (name === undefined) return { type: 'unknown', code: type, flags, cookie, offset, length };
  return { type: name, flags, cookie, offset, length };
}

export function writeSimpleReplyHeader(b: Uint8Array, at: number, error: number, cookie: bigint): void {
  writeU32(b, at, SIMPLE_REPLY_MAGIC);
  writeU32(b, at + 4, error);
  writeU64(b, at + 8, cookie);
}

export function writeChunkHeader(b: Uint8Array, at: number, flags: number, type: number, cookie: bigint, length: number): void {
  writeU32(b, at, STRUCTURED_REPLY_MAGIC);
  writeU16(b, at + 4, flags);
  writeU16(b, at + 6, type);
  writeU64(b, at + 8, cookie);
  writeU32(b, at + 16, length);
}

function chunkPayloadSize(c: ReplyChunk): number {
  switch (c.type) {
    case 'NONE': return 0;
    case 'OFFSET_DATA': return 8 + c.data.length;
    case 'OFFSET_HOLE': return 12;
    case 'BLOCK_STATUS': return 4 + 8 * c.extents.length;
    case 'ERROR': case 'unknown-error': return 6 + utf8(c.message).length;
    case 'ERROR_OFFSET': return 6 + utf8(c.message).length + 8;
  }
}

function chunkCode(c: ReplyChunk): number {
  return c.type === 'unknown-error' ? c.code : Chunk[c.type];
}

/** A whole reply: a simple reply (with READ data) or one structured chunk. */
export function encodeReply(r: Reply): Uint8Array {
  if (r.kind === 'simple') {
    const b = new Uint8Array(SIMPLE_REPLY_SIZE + (r.data?.length ?? 0));
    writeSimpleReplyHeader(b, 0, r.error, r.cookie);
    if (r.data) b.set(r.data, SIMPLE_REPLY_SIZE);
    return b;
  }
  const c = r.chunk;
  const size = chunkPayloadSize(c);
  const b = new Uint8Array(CHUNK_HEADER_SIZE + size);
  writeChunkHeader(b, 0, r.flags, chunkCode(c), r.cookie, size);
  const w = new Writer(b);
  w.pos = CHUNK_HEADER_SIZE;
  switch (c.type) {
    case 'NONE': break;
    case 'OFFSET_DATA': w.u64(c.offset); w.bytes(c.data); break;
    case 'OFFSET_HOLE': w.u64(c.offset); w.u32(c.length); break;
    case 'BLOCK_STATUS':
      w.u32(c.contextId);
      for (const e of c.extents) { w.u32(e.length); w.u32(e.flags); }
      break;
    case 'ERROR': case 'ERROR_OFFSET': case 'unknown-error': {
      const m = utf8(c.message);
      w.u32(c.error); w.u16(m.length); w.bytes(m);
      if (c.type === 'ERROR_OFFSET') w.u64(c.offset);
      break;
    }
  }
  return b;
}

/** The 16-byte simple reply header (READ data, if any, follows and is cut by the framer). */
export function decodeSimpleReply(b: Uint8Array, data?: Uint8Array): Reply {
  if (b.length < SIMPLE_REPLY_SIZE) throw new NbdProtocolError('truncated', 'simple reply: too short');
  if (readU32(b, 0) !== SIMPLE_REPLY_MAGIC) throw new NbdProtocolError('bad-magic', 'simple reply: bad magic');
  const r: Reply = { kind: 'simple', error: readU32(b, 4), cookie: readU64(b, 8) };
  if (data) r.data = data;
  return r;
}

/** One structured chunk: its 20-byte header and its payload. */
export function decodeChunk(b: Uint8Array): Reply {
  if (b.length < CHUNK_HEADER_SIZE) throw new NbdProtocolError('truncated', 'structured reply: too short');
  if (readU32(b, 0) !== STRUCTURED_REPLY_MAGIC) throw new NbdProtocolError('bad-magic', 'structured reply: bad magic');
  const flags = readU16(b, 4);
  const type = readU16(b, 6);
  const cookie = readU64(b, 8);
  const length = readU32(b, 16);
  if (b.length - CHUNK_HEADER_SIZE !== length) throw new NbdProtocolError('truncated', `structured reply: length ${length}, ${b.length - CHUNK_HEADER_SIZE} bytes`);
  const r = new Reader(b.subarray(CHUNK_HEADER_SIZE), 'structured reply');
  let chunk: ReplyChunk;
  switch (type) {
    case Chunk.NONE: r.end(); chunk = { type: 'NONE' }; break;
    case Chunk.OFFSET_DATA: {
      const offset = r.u64('offset');
      if (r.remaining() === 0) throw new NbdProtocolError('bad-value', 'OFFSET_DATA without data');
      chunk = { type: 'OFFSET_DATA', offset, data: r.rest() };
      break;
    }
    case Chunk.OFFSET_HOLE: {
      const offset = r.u64('offset');
      const len = r.u32('hole size');
      r.end();
      if (len === 0) throw new NbdProtocolError('bad-value', 'OFFSET_HOLE of size 0');
      chunk = { type: 'OFFSET_HOLE', offset, length: len };
      break;
    }
    case Chunk.BLOCK_STATUS: {
      const contextId = r.u32('context id');
      const n = r.remaining();
      if (n === 0 || n % 8 !== 0) throw new NbdProtocolError('bad-value', `BLOCK_STATUS: ${n} bytes of descriptors`);
      const extents: Extent[] = [];
      for (let i = 0; i < n / 8; i++) extents.push({ length: r.u32('extent length'), flags: r.u32('extent flags') });
      chunk = { type: 'BLOCK_STATUS', contextId, extents };
      break;
    }
    default: {
      if (!isErrorChunk(type)) throw new NbdProtocolError('bad-value', `structured reply: unknown chunk type ${type}`);
      const error = r.u32('error');
      const message = r.string(r.u16('message length'), 'message');
      if (type === Chunk.ERROR) { r.end(); chunk = { type: 'ERROR', error, message }; }
      else if (type === Chunk.ERROR_OFFSET) {
        const offset = r.u64('offset');
        r.end();
        chunk = { type: 'ERROR_OFFSET', error, message, offset };
      } else chunk = { type: 'unknown-error', code: type, error, message };
    }
  }
  return { kind: 'chunk', flags, cookie, chunk };
}
