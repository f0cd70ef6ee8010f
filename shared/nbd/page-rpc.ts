// The framed RPC between `styxlab serve` and a page-hosted block device, over the /mount
// WebSocket (kind=nbd): one WebSocket message is one frame. The server calls, the page answers.
// Frames start with a little-endian u32 size, like a 9P message, so the mount endpoint's
// one-message-per-frame guard applies unchanged; every field is little-endian too.
//
//   request  size[4] op[1] id[4] handle[4] args...      (server -> page)
//   reply    size[4] status[1] id[4] body...            (page -> server)
//
// handle names one NBD connection's view of the device (nbdkit's handle): OPEN makes it, CLOSE
// ends it. A reply's status is OK (body as the op says) or ERROR (errno[4], then a UTF-8 text).
// HELLO (id 0, handle 0, the export's name as args) tells the page that its export is listed;
// it has no reply.
import type { BlockConnection, BlockDevice, Capabilities } from './device.ts';
import { NbdProtocolError, errorOf } from './errors.ts';
import type { Extent } from './messages.ts';

export const RpcOp = {
  HELLO: 0, OPEN: 1, CLOSE: 2, PREAD: 3, PWRITE: 4, FLUSH: 5, TRIM: 6, ZERO: 7, EXTENTS: 8, CACHE: 9,
} as const;
export type RpcOpName = keyof typeof RpcOp;
const OP_NAMES = Object.keys(RpcOp) as RpcOpName[];

export const RpcStatus = { OK: 0, ERROR: 1 } as const;

/** Which optional callbacks the page's connection has (OPEN's reply). */
export const RpcHas = { PWRITE: 1, FLUSH: 2, TRIM: 4, ZERO: 8, EXTENTS: 16, CACHE: 32 } as const;
/** Capabilities the page's connection states (OPEN's reply). */
export const RpcCap = { MULTI_CONN: 1, ROTATIONAL: 2, FAST_ZERO: 4 } as const;

export const REQUEST_HEADER = 13;
export const REPLY_HEADER = 9;
/** OPEN's reply body: size[8] has[4] caps[4] block sizes min[4] preferred[4] max[4] (0: none). */
export const OPEN_REPLY_BODY = 28;
/** One extent in EXTENTS' reply: length[8] flags[4], after count[4]. */
export const EXTENT_SIZE = 12;
/** Longest error text a reply carries (longer is cut by the page and refused by the server). */
export const MAX_ERROR_TEXT = 1024;

export type RpcRequest =
  | { op: 'HELLO'; id: number; handle: number; name: string }
  | { op: 'OPEN'; id: number; handle: number; exportName: string; readonly: boolean }
  | { op: 'CLOSE' | 'FLUSH'; id: number; handle: number }
  | { op: 'PREAD' | 'EXTENTS' | 'CACHE'; id: number; handle: number; offset: bigint; length: number }
  | { op: 'PWRITE'; id: number; handle: number; offset: bigint; fua: boolean; data: Uint8Array }
  | { op: 'TRIM'; id: number; handle: number; offset: bigint; length: number; fua: boolean }
  | { op: 'ZERO'; id: number; handle: number; offset: bigint; length: number; fua: boolean; mayTrim: boolean };

export interface RpcReply {
  status: number;
  id: number;
  /** OK: the op's body; ERROR: errno[4] and the text. A view of the frame, not a copy. */
  body: Uint8Array;
}

export interface OpenReply {
  size: bigint;
  has: number;
  caps: number;
  blockSize: { minimum: number; preferred: number; maximum: number } | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

function frame(n: number): { b: Uint8Array; v: DataView } {
  const b = new Uint8Array(n);
  const v = new DataView(b.buffer);
  v.setUint32(0, n, true);
  return { b, v };
}

function argsSize(r: RpcRequest): number {
  switch (r.op) {
    case 'HELLO': return encoder.encode(r.name).length;
    case 'OPEN': return 1 + encoder.encode(r.exportName).length;
    case 'CLOSE': case 'FLUSH': return 0;
    case 'PREAD': case 'EXTENTS': case 'CACHE': return 12;
    case 'PWRITE': return 9 + r.data.length;
    case 'TRIM': return 13;
    case 'ZERO': return 14;
  }
}

export function encodeRequest(r: RpcRequest): Uint8Array {
  const { b, v } = frame(REQUEST_HEADER + argsSize(r));
  v.setUint8(4, RpcOp[r.op]);
  v.setUint32(5, r.id, true);
  v.setUint32(9, r.handle, true);
  const p = REQUEST_HEADER;
  switch (r.op) {
    case 'HELLO': b.set(encoder.encode(r.name), p); break;
    case 'OPEN': b[p] = r.readonly ? 1 : 0; b.set(encoder.encode(r.exportName), p + 1); break;
    case 'CLOSE': case 'FLUSH': break;
    case 'PREAD': case 'EXTENTS': case 'CACHE': case 'TRIM': case 'ZERO':
      v.setBigUint64(p, r.offset, true);
      v.setUint32(p + 8, r.length, true);
      if (r.op === 'TRIM' || r.op === 'ZERO') b[p + 12] = r.fua ? 1 : 0;
      if (r.op === 'ZERO') b[p + 13] = r.mayTrim ? 1 : 0;
      break;
    case 'PWRITE':
      v.setBigUint64(p, r.offset, true);
      b[p + 8] = r.fua ? 1 : 0;
      b.set(r.data, p + 9);
      break;
  }
  return b;
}

function need(b: Uint8Array, n: number, what: string): void {
  if (b.length < n) throw new NbdProtocolError('truncated', `${what}: ${b.length} bytes, want ${n}`);
}

function exact(b: Uint8Array, n: number, what: string): void {
  need(b, n, what);
  if (b.length > n) throw new NbdProtocolError('trailing', `${what}: ${b.length - n} bytes too many`);
}

function checkSize(b: Uint8Array): DataView {
  need(b, 4, 'frame');
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  if (v.getUint32(0, true) !== b.length) throw new NbdProtocolError('bad-value', `frame size ${v.getUint32(0, true)} but ${b.length} bytes`);
  return v;
}

export function decodeRequest(b: Uint8Array): RpcRequest {
  const v = checkSize(b);
  need(b, REQUEST_HEADER, 'request');
  const code = v.getUint8(4);
  const op = OP_NAMES[code];
  if (op === undefined) throw new NbdProtocolError('bad-value', `unknown op ${code}`);
  const id = v.getUint32(5, true);
  const handle = v.getUint32(9, true);
  const p = REQUEST_HEADER;
  const args = b.subarray(p);
  const range = () => ({ offset: v.getBigUint64(p, true), length: v.getUint32(p + 8, true) });
  switch (op) {
    case 'HELLO': return { op, id, handle, name: decoder.decode(args) };
    case 'OPEN': need(args, 1, 'OPEN'); return { op, id, handle, readonly: args[0] !== 0, exportName: decoder.decode(args.subarray(1)) };
    case 'CLOSE': case 'FLUSH': exact(args, 0, op); return { op, id, handle };
    case 'PREAD': case 'EXTENTS': case 'CACHE': exact(args, 12, op); return { op, id, handle, ...range() };
    case 'TRIM': exact(args, 13, op); return { op, id, handle, ...range(), fua: args[12] !== 0 };
    case 'ZERO': exact(args, 14, op); return { op, id, handle, ...range(), fua: args[12] !== 0, mayTrim: args[13] !== 0 };
    case 'PWRITE': need(args, 9, op); return { op, id, handle, offset: v.getBigUint64(p, true), fua: args[8] !== 0, data: args.subarray(9) };
  }
}

/** A reply frame with room for a body of n bytes (the caller fills b from REPLY_HEADER on). */
export function replyFrame(id: number, n: number, status: number = RpcStatus.OK): Uint8Array {
  const { b, v } = frame(REPLY_HEADER + n);
  v.setUint8(4, status);
  v.setUint32(5, id, true);
  return b;
}

export function encodeError(id: number, errno: number, message: string): Uint8Array {
  let text = encoder.encode(message);
  if (text.length > MAX_ERROR_TEXT) text = text.subarray(0, MAX_ERROR_TEXT);
  const b = replyFrame(id, 4 + text.length, RpcStatus.ERROR);
  new DataView(b.buffer).setUint32(REPLY_HEADER, errno, true);
  b.set(text, REPLY_HEADER + 4);
  return b;
}

export function encodeOpenReply(id: number, o: OpenReply): Uint8Array {
  const b = replyFrame(id, OPEN_REPLY_BODY);
  const v = new DataView(b.buffer);
  const p = REPLY_HEADER;
  v.setBigUint64(p, o.size, true);
  v.setUint32(p + 8, o.has, true);
  v.setUint32(p + 12, o.caps, true);
  v.setUint32(p + 16, o.blockSize?.minimum ?? 0, true);
  v.setUint32(p + 20, o.blockSize?.preferred ?? 0, true);
  v.setUint32(p + 24, o.blockSize?.maximum ?? 0, true);
  return b;
}

export function encodeExtentsReply(id: number, extents: readonly Extent[]): Uint8Array {
  const b = replyFrame(id, 4 + extents.length * EXTENT_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(REPLY_HEADER, extents.length, true);
  extents.forEach((e, i) => {
    const p = REPLY_HEADER + 4 + i * EXTENT_SIZE;
    v.setBigUint64(p, BigInt(e.length), true);
    v.setUint32(p + 8, e.flags, true);
  });
  return b;
}

/** The frame's size, status and id; the body is a view. Only the header is checked here. */
export function decodeReply(b: Uint8Array): RpcReply {
  const v = checkSize(b);
  need(b, REPLY_HEADER, 'reply');
  const status = v.getUint8(4);
  if (status !== RpcStatus.OK && status !== RpcStatus.ERROR) throw new NbdProtocolError('bad-value', `reply status ${status}`);
  return { status, id: v.getUint32(5, true), body: b.subarray(REPLY_HEADER) };
}

function bodyView(body: Uint8Array): DataView {
  return new DataView(body.buffer, body.byteOffset, body.length);
}

/** An ERROR reply's errno and text. */
export function decodeErrorBody(body: Uint8Array): { errno: number; message: string } {
  need(body, 4, 'error reply');
  if (body.length - 4 > MAX_ERROR_TEXT) throw new NbdProtocolError('too-large', `error text of ${body.length - 4} bytes`);
  return { errno: bodyView(body).getUint32(0, true), message: decoder.decode(body.subarray(4)) };
}

export function decodeOpenReply(body: Uint8Array): OpenReply {
  exact(body, OPEN_REPLY_BODY, 'OPEN reply');
  const v = bodyView(body);
  const minimum = v.getUint32(16, true);
  const preferred = v.getUint32(20, true);
  const maximum = v.getUint32(24, true);
  return {
    size: v.getBigUint64(0, true),
    has: v.getUint32(8, true),
    caps: v.getUint32(12, true),
    blockSize: minimum === 0 && preferred === 0 && maximum === 0 ? null : { minimum, preferred, maximum },
  };
}

/** EXTENTS' reply: count[4] and that many extents, exactly; lengths stay bigint for the caller to bound. */
export function decodeExtentsReply(body: Uint8Array): Array<{ length: bigint; flags: number }> {
  need(body, 4, 'EXTENTS reply');
  const v = bodyView(body);
  const count = v.getUint32(0, true);
  // The count is checked against the frame before anything is allocated by it.
  exact(body, 4 + count * EXTENT_SIZE, 'EXTENTS reply');
  const out: Array<{ length: bigint; flags: number }> = [];
  for (let i = 0; i < count; i++) {
    const p = 4 + i * EXTENT_SIZE;
    out.push({ length: v.getBigUint64(p, true), flags: v.getUint32(p + 8, true) });
  }
  return out;
}

/** One line of the page's trace for a request and for its reply. */
export function requestTrace(r: RpcRequest): string {
  switch (r.op) {
    case 'HELLO': return `Dev.Hello(${JSON.stringify(r.name)})`;
    case 'OPEN': return `Dev.Open(h${r.handle}, ${JSON.stringify(r.exportName)}${r.readonly ? ', ro' : ''})`;
    case 'CLOSE': case 'FLUSH': return `Dev.${r.op[0]}${r.op.slice(1).toLowerCase()}(h${r.handle})`;
    case 'PWRITE': return `Dev.Pwrite(h${r.handle}, ${r.data.length}@${r.offset}${r.fua ? ', fua' : ''})`;
    default: return `Dev.${r.op[0]}${r.op.slice(1).toLowerCase()}(h${r.handle}, ${r.length}@${r.offset})`;
  }
}

export interface HostOptions {
  /** One line per request and per reply, '<-' in and '->' out. */
  trace?: (dir: '<-' | '->', text: string) => void;
  log?: (line: string) => void;
}

/** What a frame the host sends or receives looks like: the /mount connection, relayed or direct. */
export interface FrameLink {
  send(frame: Uint8Array): void;
  onMessage(cb: (frame: Uint8Array) => void): void;
}

/**
 * The page's side: answers the server's requests with the program's device. Each OPEN opens the
 * device once (a connection of an NBD client); errors the device throws go back as errno and text.
 * onHello: the server has listed the export.
 */
export function hostBlockDevice(device: BlockDevice, link: FrameLink, opts: HostOptions & { onHello?: (name: string) => void } = {}): void {
  const handles = new Map<number, BlockConnection>();
  const reply = (b: Uint8Array, text: string) => {
    opts.trace?.('->', text);
    link.send(b);
  };
  link.onMessage((f) => {
    let r: RpcRequest;
    try {
      r = decodeRequest(f);
    } catch (e) {
      opts.log?.(`block device: bad request from the server: ${(e as Error).message}`);
      return;
    }
    opts.trace?.('<-', requestTrace(r));
    if (r.op === 'HELLO') { opts.onHello?.(r.name); return; }
    void answer(r).then(
      (b) => reply(b, `Dev.Ok(${r.id}${b.length > REPLY_HEADER ? `, ${b.length - REPLY_HEADER} bytes` : ''})`),
      (e: unknown) => {
        const { errno, message } = errorOf(e);
        reply(encodeError(r.id, errno, message), `Dev.Error(${r.id}, ${errno}, ${JSON.stringify(message)})`);
      },
    );
  });

  const conn = (h: number): BlockConnection => {
    const c = handles.get(h);
    if (!c) throw new Error(`no open connection h${h}`);
    return c;
  };
  const num = (offset: bigint): number => {
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`offset ${offset} is beyond 2^53`);
    return Number(offset);
  };

  async function answer(r: Exclude<RpcRequest, { op: 'HELLO' }>): Promise<Uint8Array> {
    const empty = () => replyFrame(r.id, 0);
    switch (r.op) {
      case 'OPEN': {
        if (handles.has(r.handle)) throw new Error(`h${r.handle} is already open`);
        const c = await device.open({ exportName: r.exportName, readonly: r.readonly });
        handles.set(r.handle, c);
        const size = await c.size();
        const caps: Partial<Capabilities> = c.capabilities?.() ?? {};
        let has = 0;
        if (c.pwrite) has |= RpcHas.PWRITE;
        if (c.flush) has |= RpcHas.FLUSH;
        if (c.trim) has |= RpcHas.TRIM;
        if (c.zero) has |= RpcHas.ZERO;
        if (c.extents) has |= RpcHas.EXTENTS;
        if (c.cache) has |= RpcHas.CACHE;
        let capBits = 0;
        if (caps.multiConn) capBits |= RpcCap.MULTI_CONN;
        if (caps.rotational) capBits |= RpcCap.ROTATIONAL;
        if (caps.fastZero) capBits |= RpcCap.FAST_ZERO;
        if (!Number.isSafeInteger(size) || size < 0) throw new Error(`size() gave ${size}: want a whole number of bytes`);
        return encodeOpenReply(r.id, { size: BigInt(size), has, caps: capBits, blockSize: c.blockSize?.() ?? null });
      }
      case 'CLOSE': {
        const c = handles.get(r.handle);
        handles.delete(r.handle);
        await c?.close?.();
        return empty();
      }
      case 'PREAD': {
        const c = conn(r.handle);
        const b = replyFrame(r.id, r.length);
        await c.pread(b.subarray(REPLY_HEADER), num(r.offset));
        return b;
      }
      case 'PWRITE': {
        const c = conn(r.handle);
        if (!c.pwrite) throw new Error('the device is read-only');
        await c.pwrite(r.data, num(r.offset), r.fua);
        return empty();
      }
      case 'FLUSH': await conn(r.handle).flush?.(); return empty();
      case 'TRIM': await conn(r.handle).trim?.(num(r.offset), r.length, r.fua); return empty();
      case 'ZERO': {
        const c = conn(r.handle);
        if (!c.zero) throw new Error('the device has no zero()');
        await c.zero(num(r.offset), r.length, { fua: r.fua, mayTrim: r.mayTrim });
        return empty();
      }
      case 'CACHE': await conn(r.handle).cache?.(num(r.offset), r.length); return empty();
      case 'EXTENTS': {
        const c = conn(r.handle);
        const ex = c.extents ? await c.extents(num(r.offset), r.length) : [{ length: r.length, flags: 0 }];
        return encodeExtentsReply(r.id, ex);
      }
    }
  }
}
