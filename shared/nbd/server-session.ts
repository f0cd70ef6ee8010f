// One NBD connection, server side: the fixed newstyle handshake, then requests answered by a
// block device, many at once and out of order. Isomorphic: Node gives it a socket, the page could
// give it a WebSocket.
//
// Every byte from the client is untrusted. A framing error (bad magic, a length over the limits,
// unknown client flags) ends this connection with one log line; a bad request that keeps the
// stream in step gets an error reply; a device that throws gets its errno mapped. Nothing a client
// sends allocates beyond the limits.
import {
  BASE_ALLOCATION, CHUNK_HEADER_SIZE, Chunk, ClientFlag, CmdFlag, DEFAULT_MAX_BLOCK, HandshakeFlag,
  Info, NbdErrno, Opt, ReplyFlag, Rep, SIMPLE_REPLY_SIZE, TxFlag,
} from './constants.ts';
import {
  decodeOption, encodeExportNameReply, encodeGreeting, encodeOptionReply, encodeReply,
  writeChunkHeader, writeSimpleReplyHeader,
} from './codec.ts';
import type { BlockConnection, Capabilities, Export } from './device.ts';
import { NbdError, NbdProtocolError, errorOf } from './errors.ts';
import { type ClientMessage, ClientDecoder } from './framing.ts';
import type { ClientOption, Extent, OptionReply, Reply, Request } from './messages.ts';
import type { ByteStream } from './stream.ts';
import {
  clientFlagsText, exportNameReplyText, greetingText, optionReplyText, optionText, replyText, requestText,
} from './trace.ts';
import { writeU32, writeU64 } from './wire.ts';
import { errText } from '../errtext.ts';

export interface ServerLimits {
  /** Largest READ, WRITE and payload (default 32 MiB, the spec's interoperable maximum). */
  maxBlock: number;
  /** Requests in flight per connection before reading pauses (default 64). */
  maxInFlight: number;
  /** Options per handshake before the client is dropped as a nuisance (default 256). */
  maxOptions: number;
  /** Reading pauses while this many bytes wait to be sent (default 16 MiB). */
  maxBacklog: number;
  /** A client still haggling after this long is dropped: it holds a connection slot (default 30 s). */
  handshakeMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  maxBlock: DEFAULT_MAX_BLOCK, maxInFlight: 64, maxOptions: 256, maxBacklog: 16 * 1024 * 1024,
  handshakeMs: 30_000,
};

export interface SessionOptions {
  id: string;
  /** The exports, looked up at each option (they may come and go). Name '' is the default. */
  exports: () => readonly Export[];
  limits?: Partial<ServerLimits>;
  trace?: (dir: '<-' | '->', text: string) => void;
  log?: (line: string) => void;
}

/** Flags each command accepts (anything else is EINVAL). */
const ALLOWED_FLAGS: Readonly<Record<string, number>> = {
  READ: CmdFlag.FUA | CmdFlag.DF, WRITE: CmdFlag.FUA, FLUSH: CmdFlag.FUA, TRIM: CmdFlag.FUA,
  CACHE: CmdFlag.FUA, WRITE_ZEROES: CmdFlag.FUA | CmdFlag.NO_HOLE | CmdFlag.FAST_ZERO,
  BLOCK_STATUS: CmdFlag.FUA | CmdFlag.REQ_ONE,
};

/**
 * READ reply buffers are reused once the stream has copied them out: allocating (and zeroing, and
 * faulting in) a fresh 256 KiB buffer per request cost more than the read itself. A buffer goes
 * back only to the pool of the connection it served, and devices must fill all of it, so nothing
 * stale can reach another client.
 */
class BufferPool {
  private readonly free = new Map<number, Uint8Array[]>();
  private bytes = 0;
  constructor(private readonly max: number) {}
  take(n: number): Uint8Array {
    const b = this.free.get(n)?.pop();
    if (!b) return new Uint8Array(n);
    this.bytes -= n;
    return b;
  }
  give(b: Uint8Array): void {
    if (this.bytes + b.length > this.max) return;
    let l = this.free.get(b.length);
    if (!l) { l = []; this.free.set(b.length, l); }
    l.push(b);
    this.bytes += b.length;
  }
}

/** The context id the server gives base:allocation. */
const ALLOCATION_ID = 1;
const ZERO_PIECE = 1024 * 1024;

function findExport(list: readonly Export[], name: string): Export | undefined {
  return list.find((e) => e.name === name) ?? (name === '' ? list[0] : undefined);
}

export class ServerSession {
  private readonly decoder: ClientDecoder;
  private readonly limits: ServerLimits;
  private noZeroes = false;
  private structured = false;
  /** Export name that SET_META_CONTEXT named, when base:allocation was selected. */
  private metaExport: string | null = null;
  private options = 0;
  private conn: BlockConnection | null = null;
  private size = 0;
  private txFlags = 0;
  private caps: Partial<Capabilities> = {};
  private inFlight = 0;
  private paused = false;
  private drainWait = false;
  private closing = false;
  private closed = false;
  private idle: (() => void) | null = null;
  private readonly pool: BufferPool;
  private handshakeTimer: unknown;
  /** Resolves when the connection has closed and the device connection is closed. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  readonly stats = { requests: 0, errors: 0 };

  constructor(private readonly stream: ByteStream, private readonly opts: SessionOptions) {
    this.limits = { ...DEFAULT_SERVER_LIMITS, ...opts.limits };
    this.decoder = new ClientDecoder({ maxWrite: this.limits.maxBlock });
    this.pool = new BufferPool(32 * 1024 * 1024);
    this.done = new Promise((r) => { this.resolveDone = r; });
    this.handshakeTimer = setTimeout(() => {
      this.handshakeTimer = undefined;
      if (this.decoder.phase !== 'transmission' && !this.closing) this.fail(new Error(`no export chosen within ${this.limits.handshakeMs} ms`));
    }, this.limits.handshakeMs);
    stream.onClose((err) => void this.finish(err));
    stream.onData((chunk) => this.input(chunk));
    this.trace('->', greetingText(HandshakeFlag.FIXED_NEWSTYLE | HandshakeFlag.NO_ZEROES));
    stream.write(encodeGreeting(HandshakeFlag.FIXED_NEWSTYLE | HandshakeFlag.NO_ZEROES));
  }

  private trace(dir: '<-' | '->', text: string): void {
    this.opts.trace?.(dir, text);
  }

  private log(line: string): void {
    this.opts.log?.(`nbd[${this.opts.id}]: ${line}`);
  }

  private input(chunk: Uint8Array): void {
    if (this.closed) return;
    try {
      this.decoder.push(chunk, (m) => this.dispatch(m));
    } catch (e) {
      this.fail(e);
    }
  }

  /** A framing error or a broken rule: drop this connection (a hard disconnect). */
  private fail(e: unknown): void {
    if (this.closed) return;
    const why = e instanceof NbdProtocolError ? `${e.code}: ${e.message}` : errText(e);
    this.log(`bad input, disconnecting: ${why}`);
    this.decoder.stop();
    this.closed = true;
    this.stream.destroy();
  }

  private dispatch(m: ClientMessage): void {
    switch (m.kind) {
      case 'flags':
        this.trace('<-', clientFlagsText(m.flags));
        this.noZeroes = (m.flags & ClientFlag.NO_ZEROES) !== 0;
        return;
      case 'option':
        if (++this.options > this.limits.maxOptions) throw new NbdProtocolError('too-large', `more than ${this.limits.maxOptions} options`);
        // The decoder waits after every option; it reads the next once this one is answered.
        void this.option(m.code, m.data).then(() => {
          if (!this.closed && !this.closing && this.decoder.phase === 'waiting') this.resumeOptions();
        }, (e) => this.fail(e));
        return;
      case 'request':
        this.request(m.request);
        return;
    }
  }

  private reply(r: OptionReply): void {
    this.trace('->', optionReplyText(r));
    this.stream.write(encodeOptionReply(r));
  }

  private error(option: number, type: number, message: string): void {
    this.reply({ reply: 'ERROR', option, type, message });
  }

  private async option(code: number, data: Uint8Array): Promise<void> {
    let o: ClientOption;
    try {
      o = decodeOption(code, data);
    } catch (e) {
      if (!(e instanceof NbdProtocolError)) throw e;
      this.trace('<-', `Opt.${code}(${data.length} bytes: ${e.message})`);
      // EXPORT_NAME cannot be answered with an error; for the rest the stream is still in step.
      if (code === Opt.EXPORT_NAME) throw e;
      this.error(code, Rep.ERR_INVALID, e.message);
      return;
    }
    this.trace('<-', optionText(o));
    switch (o.option) {
      case 'EXPORT_NAME': {
        const ex = findExport(this.opts.exports(), o.name);
        if (!ex) throw new NbdProtocolError('unexpected', `EXPORT_NAME for unknown export ${JSON.stringify(o.name)}`);
        await this.openExport(ex, o.name);
        this.trace('->', exportNameReplyText(BigInt(this.size), this.txFlags));
        this.stream.write(encodeExportNameReply(BigInt(this.size), this.txFlags, !this.noZeroes));
        this.enterTransmission();
        return;
      }
      case 'ABORT':
        this.reply({ reply: 'ACK', option: code });
        this.closing = true;
        this.stream.end();
        return;
      case 'LIST':
        for (const e of this.opts.exports()) this.reply({ reply: 'SERVER', option: code, name: e.name, description: e.device.description ?? '' });
        this.reply({ reply: 'ACK', option: code });
        return;
      case 'STARTTLS':
        this.error(code, Rep.ERR_POLICY, 'TLS is not supported by this server');
        return;
      case 'STRUCTURED_REPLY':
        if (this.structured) this.error(code, Rep.ERR_INVALID, 'structured replies are already on');
        else {
          this.structured = true;
          this.reply({ reply: 'ACK', option: code });
        }
        return;
      case 'LIST_META_CONTEXT': case 'SET_META_CONTEXT': {
        const set = o.option === 'SET_META_CONTEXT';
        if (set) this.metaExport = null;
        if (!this.structured) { this.error(code, Rep.ERR_INVALID, 'negotiate structured replies first'); return; }
        if (!findExport(this.opts.exports(), o.name)) { this.error(code, Rep.ERR_UNKNOWN, `no export ${JSON.stringify(o.name)}`); return; }
        // base:allocation is our only context; "base:" lists it too. Other namespaces are ignored.
        const wanted = o.queries.length === 0 ? !set : o.queries.some((q) => q === BASE_ALLOCATION || (!set && q === 'base:'));
        if (wanted) {
          this.reply({ reply: 'META_CONTEXT', option: code, id: set ? ALLOCATION_ID : 0, name: BASE_ALLOCATION });
          if (set) this.metaExport = o.name;
        }
        this.reply({ reply: 'ACK', option: code });
        return;
      }
      case 'INFO': case 'GO': {
        const ex = findExport(this.opts.exports(), o.name);
        if (!ex) {
          this.error(code, Rep.ERR_UNKNOWN, `no export ${JSON.stringify(o.name)}`);
          return;
        }
        try {
          await this.openExport(ex, o.name);
        } catch (e) {
          this.error(code, Rep.ERR_UNKNOWN, `cannot open ${JSON.stringify(o.name)}: ${errorOf(e).message}`);
          return;
        }
        this.reply({ reply: 'INFO', option: code, info: { info: 'EXPORT', size: BigInt(this.size), flags: this.txFlags } });
        if (o.requests.includes(Info.NAME)) this.reply({ reply: 'INFO', option: code, info: { info: 'NAME', name: ex.name } });
        if (o.requests.includes(Info.DESCRIPTION) && ex.device.description) {
          this.reply({ reply: 'INFO', option: code, info: { info: 'DESCRIPTION', description: ex.device.description } });
        }
        if (o.requests.includes(Info.BLOCK_SIZE)) {
          const bs = this.conn!.blockSize?.() ?? { minimum: 1, preferred: 4096, maximum: this.limits.maxBlock };
          this.reply({ reply: 'INFO', option: code, info: { info: 'BLOCK_SIZE', ...bs, maximum: Math.min(bs.maximum, this.limits.maxBlock) } });
        }
        this.reply({ reply: 'ACK', option: code });
        if (o.option === 'GO') {
          // Contexts chosen for another export do not apply to this one.
          if (this.metaExport !== null && this.metaExport !== o.name) this.metaExport = null;
          this.enterTransmission();
        } else {
          await this.closeConn();
        }
        return;
      }
      case 'unknown':
        this.error(code, Rep.ERR_UNSUP, `option ${code} is not supported`);
        return;
    }
  }

  private resumeOptions(): void {
    this.decoder.options();
    this.decoder.drain((m) => this.dispatch(m));
  }

  private async openExport(ex: Export, name: string): Promise<void> {
    await this.closeConn();
    const conn = await ex.device.open({ exportName: name, readonly: ex.readonly ?? false });
    this.conn = conn;
    const size = await conn.size();
    if (!Number.isSafeInteger(size) || size < 0) throw new NbdError(NbdErrno.EIO, `device size ${size} is not a whole number below 2^53`);
    this.size = size;
    this.caps = conn.capabilities?.() ?? {};
    const writable = !ex.readonly && conn.pwrite !== undefined;
    let f = TxFlag.HAS_FLAGS | TxFlag.SEND_FLUSH | TxFlag.SEND_FUA | TxFlag.SEND_CACHE;
    if (!writable) f |= TxFlag.READ_ONLY;
    if (writable && conn.trim) f |= TxFlag.SEND_TRIM;
    if (writable) f |= TxFlag.SEND_WRITE_ZEROES | TxFlag.SEND_FAST_ZERO;
    if (this.structured) f |= TxFlag.SEND_DF;
    if (this.caps.multiConn) f |= TxFlag.CAN_MULTI_CONN;
    if (this.caps.rotational) f |= TxFlag.ROTATIONAL;
    this.txFlags = f;
  }

  private async closeConn(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    if (c?.close) {
      try { await c.close(); } catch (e) { this.log(`device close: ${errorOf(e).message}`); }
    }
  }

  private stopHandshakeTimer(): void {
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }

  private enterTransmission(): void {
    this.stopHandshakeTimer();
    this.decoder.transmission();
    this.decoder.drain((m) => this.dispatch(m));
  }

  // ---- transmission ----

  private request(r: Request): void {
    if (this.opts.trace) this.trace('<-', requestText(r));
    this.stats.requests++;
    if (r.type === 'DISC') {
      this.closing = true;
      this.whenIdle(() => this.stream.end());
      return;
    }
    this.inFlight++;
    this.throttle();
    void this.serve(r).catch((e) => {
      // serve() answers device errors itself; anything here is a bug, so say so and go on.
      this.log(`internal error on ${r.type}: ${e instanceof Error ? e.stack : String(e)}`);
    }).finally(() => {
      this.inFlight--;
      if (this.inFlight === 0 && this.idle) { const f = this.idle; this.idle = null; f(); }
      this.throttle();
    });
  }

  /** Pauses reading while too much is in flight or waiting to be sent. */
  private throttle(): void {
    if (this.closed) return;
    const backlogged = this.stream.backlog > this.limits.maxBacklog;
    const busy = this.inFlight >= this.limits.maxInFlight || backlogged;
    // Whatever made us pause, a backlog can only clear by draining: wait for that.
    if (backlogged && !this.drainWait) {
      this.drainWait = true;
      this.stream.onDrain(() => { this.drainWait = false; this.throttle(); });
    }
    if (busy && !this.paused) {
      this.paused = true;
      this.stream.pause();
    } else if (!busy && this.paused) {
      this.paused = false;
      this.stream.resume();
    }
  }

  /** A READ reply left for the kernel: its buffer can serve again, and reading may resume. */
  private written(b: Uint8Array): void {
    this.pool.give(b);
    this.resumeIfPaused();
  }

  /**
   * Called as each READ reply leaves for the kernel. Resuming here, as the backlog shrinks, keeps
   * the pipeline full; waiting for 'drain' (an empty backlog) would leave the socket idle while
   * the next requests are read and served.
   */
  private resumeIfPaused(): void {
    if (this.paused) this.throttle();
  }

  private whenIdle(f: () => void): void {
    if (this.inFlight === 0) f();
    else this.idle = f;
  }

  private send(r: Reply): void {
    if (this.closed) return;
    if (this.opts.trace) this.trace('->', replyText(r));
    this.stream.write(encodeReply(r));
  }

  /** An error reply: a structured ERROR chunk (with the text) when negotiated. */
  private fault(r: Request, errno: number, message: string): void {
    this.stats.errors++;
    if (this.structured) this.send({ kind: 'chunk', flags: ReplyFlag.DONE, cookie: r.cookie, chunk: { type: 'ERROR', error: errno, message } });
    else this.send({ kind: 'simple', error: errno, cookie: r.cookie });
  }

  private ok(r: Request): void {
    this.send({ kind: 'simple', error: 0, cookie: r.cookie });
  }

  private async serve(r: Request): Promise<void> {
    const conn = this.conn;
    if (!conn || this.closed) return;
    if (r.type === 'unknown') return this.fault(r, NbdErrno.EINVAL, `unknown command ${r.code}`);
    if (r.flags & ~ALLOWED_FLAGS[r.type]) return this.fault(r, NbdErrno.EINVAL, `flags 0x${r.flags.toString(16)} not valid for ${r.type}`);
    if ((r.flags & CmdFlag.DF) && !this.structured) return this.fault(r, NbdErrno.EINVAL, 'DF without structured replies');
    const writes = r.type === 'WRITE' || r.type === 'TRIM' || r.type === 'WRITE_ZEROES';
    if (writes && (this.txFlags & TxFlag.READ_ONLY)) return this.fault(r, NbdErrno.EPERM, 'the export is read-only');
    if (r.type === 'FLUSH') {
      if (r.offset !== 0n || r.length !== 0) return this.fault(r, NbdErrno.EINVAL, 'FLUSH wants offset and length 0');
    } else if (r.offset + BigInt(r.length) > BigInt(this.size)) {
      return this.fault(r, r.type === 'WRITE' ? NbdErrno.ENOSPC : NbdErrno.EINVAL, `${r.offset}+${r.length} is beyond the end (${this.size})`);
    }
    const offset = Number(r.offset);
    const fua = (r.flags & CmdFlag.FUA) !== 0;
    try {
      switch (r.type) {
        case 'READ': return await this.read(conn, r, offset);
        case 'WRITE':
          await conn.pwrite!(r.data, offset, fua);
          if (fua) await conn.flush?.();
          return this.ok(r);
        case 'FLUSH':
          await conn.flush?.();
          return this.ok(r);
        case 'TRIM':
          if (!conn.trim) return this.fault(r, NbdErrno.EINVAL, 'trim is not supported');
          await conn.trim(offset, r.length, fua);
          if (fua) await conn.flush?.();
          return this.ok(r);
        case 'CACHE':
          if (r.length > this.limits.maxBlock) return this.fault(r, NbdErrno.EINVAL, `CACHE of ${r.length} bytes, over ${this.limits.maxBlock}`);
          await conn.cache?.(offset, r.length);
          return this.ok(r);
        case 'WRITE_ZEROES':
          await this.zero(conn, r, offset, fua);
          return;
        case 'BLOCK_STATUS':
          return await this.blockStatus(conn, r, offset);
        case 'DISC': return;
      }
    } catch (e) {
      const { errno, message } = errorOf(e);
      this.fault(r, errno, message);
    }
  }

  private async read(conn: BlockConnection, r: Request, offset: number): Promise<void> {
    if (r.length > this.limits.maxBlock) return this.fault(r, NbdErrno.EINVAL, `READ of ${r.length} bytes, over ${this.limits.maxBlock}`);
    if (this.structured && r.length === 0) {
      this.send({ kind: 'chunk', flags: ReplyFlag.DONE, cookie: r.cookie, chunk: { type: 'NONE' } });
      return;
    }
    // Simple reply: a 16-byte header; structured: a 20-byte chunk header and the 8-byte offset.
    const head = this.structured ? CHUNK_HEADER_SIZE + 8 : SIMPLE_REPLY_SIZE;
    const writeHead = (b: Uint8Array) => {
      if (this.structured) {
        writeChunkHeader(b, 0, ReplyFlag.DONE, Chunk.OFFSET_DATA, r.cookie, 8 + r.length);
        writeU64(b, CHUNK_HEADER_SIZE, r.offset);
      } else {
        writeSimpleReplyHeader(b, 0, 0, r.cookie);
      }
    };
    const traceData = (data: Uint8Array) => {
      if (!this.opts.trace) return;
      this.trace('->', replyText(this.structured
        ? { kind: 'chunk', flags: ReplyFlag.DONE, cookie: r.cookie, chunk: { type: 'OFFSET_DATA', offset: r.offset, data } }
        : { kind: 'simple', error: 0, cookie: r.cookie, data }));
    };
    if (this.structured && conn.preadSparse && !(r.flags & CmdFlag.DF)) return this.readSparse(conn.preadSparse(offset, r.length), r);
    if (conn.preadViews) {
      // Zero copy: the header, then the device's own bytes (one writev, as writes are batched).
      const views = conn.preadViews(offset, r.length);
      const h = new Uint8Array(head);
      writeHead(h);
      if (this.opts.trace) traceData(new Uint8Array(r.length));
      this.stream.write(h);
      const last = views.length - 1;
      for (let i = 0; i < last; i++) this.stream.write(views[i]);
      if (last >= 0) this.stream.write(views[last], () => this.resumeIfPaused());
      return;
    }
    // Header and data in one buffer: the device reads straight into the reply.
    const b = this.pool.take(head + r.length);
    try {
      if (r.length) await conn.pread(b.subarray(head), offset);
    } catch (e) {
      this.pool.give(b);
      throw e;
    }
    if (this.closed) return;
    writeHead(b);
    traceData(b.subarray(head));
    this.stream.write(b, () => this.written(b));
  }

  /**
   * A structured READ of a device that tells its holes: an OFFSET_DATA chunk per run of data (the
   * device's own bytes, no copy), an OFFSET_HOLE chunk per hole, DONE on the last.
   */
  private readSparse(parts: Array<Uint8Array | number>, r: Request): void {
    let pos = r.offset;
    let i = 0;
    while (i < parts.length) {
      const p = parts[i];
      if (typeof p === 'number') {
        i++;
        const flags = i === parts.length ? ReplyFlag.DONE : 0;
        const b = new Uint8Array(CHUNK_HEADER_SIZE + 12);
        writeChunkHeader(b, 0, flags, Chunk.OFFSET_HOLE, r.cookie, 12);
        writeU64(b, CHUNK_HEADER_SIZE, pos);
        writeU32(b, CHUNK_HEADER_SIZE + 8, p);
        if (this.opts.trace) this.trace('->', replyText({ kind: 'chunk', flags, cookie: r.cookie, chunk: { type: 'OFFSET_HOLE', offset: pos, length: p } }));
        this.stream.write(b, flags ? () => this.resumeIfPaused() : undefined);
        pos += BigInt(p);
        continue;
      }
      let end = i;
      let n = 0;
      while (end < parts.length && typeof parts[end] !== 'number') n += (parts[end++] as Uint8Array).length;
      const flags = end === parts.length ? ReplyFlag.DONE : 0;
      const h = new Uint8Array(CHUNK_HEADER_SIZE + 8);
      writeChunkHeader(h, 0, flags, Chunk.OFFSET_DATA, r.cookie, 8 + n);
      writeU64(h, CHUNK_HEADER_SIZE, pos);
      if (this.opts.trace) this.trace('->', replyText({ kind: 'chunk', flags, cookie: r.cookie, chunk: { type: 'OFFSET_DATA', offset: pos, data: new Uint8Array(n) } }));
      this.stream.write(h);
      for (; i < end; i++) this.stream.write(parts[i] as Uint8Array, flags && i === end - 1 ? () => this.resumeIfPaused() : undefined);
      pos += BigInt(n);
    }
  }

  private async zero(conn: BlockConnection, r: Request, offset: number, fua: boolean): Promise<void> {
    const fast = (r.flags & CmdFlag.FAST_ZERO) !== 0;
    if (conn.zero && (!fast || this.caps.fastZero)) {
      await conn.zero(offset, r.length, { fua, mayTrim: (r.flags & CmdFlag.NO_HOLE) === 0 });
    } else if (fast) {
      return this.fault(r, NbdErrno.ENOTSUP, 'zeroing is no faster than writing here');
    } else {
      // No zero() of its own: write zeroes, a piece at a time so memory stays bounded.
      const piece = new Uint8Array(Math.min(ZERO_PIECE, r.length));
      for (let done = 0; done < r.length; done += piece.length) {
        const n = Math.min(piece.length, r.length - done);
        await conn.pwrite!(piece.subarray(0, n), offset + done, false);
      }
    }
    if (fua) await conn.flush?.();
    this.ok(r);
  }

  private async blockStatus(conn: BlockConnection, r: Request, offset: number): Promise<void> {
    if (!this.structured || this.metaExport === null) return this.fault(r, NbdErrno.EINVAL, 'no metadata context was selected');
    if (r.length === 0) return this.fault(r, NbdErrno.EINVAL, 'BLOCK_STATUS of length 0');
    const raw = conn.extents ? await conn.extents(offset, r.length) : [{ length: r.length, flags: 0 }];
    const extents = clampExtents(raw, r.length, (r.flags & CmdFlag.REQ_ONE) !== 0);
    if (extents.length === 0) throw new NbdError(NbdErrno.EIO, 'the device returned no extents');
    this.send({ kind: 'chunk', flags: ReplyFlag.DONE, cookie: r.cookie, chunk: { type: 'BLOCK_STATUS', contextId: ALLOCATION_ID, extents } });
  }

  /** Closes after the requests in flight have been answered (server shutdown). */
  shutdown(): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    this.decoder.stop();
    this.whenIdle(() => this.stream.end());
  }

  private async finish(err?: Error): Promise<void> {
    const wasClosed = this.closed;
    this.closed = true;
    this.stopHandshakeTimer();
    this.decoder.stop();
    if (err && !wasClosed && !this.closing) this.log(`connection lost: ${err.message}`);
    else if (!wasClosed && !this.closing && this.decoder.buffered > 0) this.log(`client hung up ${this.decoder.buffered} bytes into a message`);
    await new Promise<void>((r) => this.whenIdle(r));
    await this.closeConn();
    this.resolveDone();
  }
}

/**
 * Extents as the spec wants them: non-zero lengths, neighbours merged, all but the last inside the
 * request, the last cut at the request's end; exactly one with REQ_ONE.
 */
export function clampExtents(raw: readonly Extent[], length: number, reqOne: boolean): Extent[] {
  const out: Extent[] = [];
  let sum = 0;
  for (const e of raw) {
    if (sum >= length) break;
    if (!(e.length > 0)) continue;
    const n = Math.min(e.length, length - sum);
    const prev = out[out.length - 1];
    if (prev && prev.flags === e.flags) prev.length += n;
    else out.push({ length: n, flags: e.flags >>> 0 });
    sum += n;
  }
  return reqOne ? out.slice(0, 1) : out;
}
