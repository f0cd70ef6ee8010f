// An NBD client: the fixed newstyle handshake (GO, falling back to EXPORT_NAME), then pipelined
// requests with structured replies and block status. Isomorphic: it runs over any ByteStream.
//
// Every reply is checked against its request (cookie in flight, chunks inside the requested range,
// extents for the context we chose); a server that breaks the rules is disconnected and every
// pending request fails with the reason.
import {
  BASE_ALLOCATION, ClientFlag, Cmd, type CmdName, CmdFlag, DEFAULT_MAX_BLOCK, HandshakeFlag, Info, Opt,
  REQUEST_HEADER_SIZE, Rep, ReplyFlag, TxFlag, isRepError,
} from './constants.ts';
import { encodeClientFlags, encodeOption, optionName, writeRequestHeader } from './codec.ts';
import { NbdError, NbdProtocolError, errnoText } from './errors.ts';
import { type ServerMessage, ServerDecoder } from './framing.ts';
import type { ClientOption, Extent, OptionReply, Reply } from './messages.ts';
import type { ByteStream } from './stream.ts';
import {
  clientFlagsText, exportNameReplyText, greetingText, optionReplyText, optionText, replyText, requestText,
} from './trace.ts';

export interface ExportDetails {
  name: string;
  size: bigint;
  /** Transmission flags. */
  flags: number;
  description?: string;
  blockSize?: { minimum: number; preferred: number; maximum: number };
}

export interface NbdClientOptions {
  exportName?: string;
  /** Ask for structured replies (default true). */
  structured?: boolean;
  /** Select base:allocation for block status (default true; needs structured replies). */
  allocation?: boolean;
  /** Requests in flight before more wait (default 64). */
  maxInFlight?: number;
  trace?: (dir: '<-' | '->', text: string) => void;
}

export class OptionError extends Error {
  override readonly name = 'OptionError';
  constructor(readonly option: number, readonly type: number, message: string) {
    super(message);
  }
}

interface Pending {
  type: CmdName;
  offset: bigint;
  length: number;
  /** READ: the assembled data (allocated when more than one chunk arrives). */
  data?: Uint8Array;
  covered: number;
  extents?: Extent[];
  error?: NbdError;
  resolve: (v: Uint8Array | Extent[] | undefined) => void;
  reject: (e: Error) => void;
}

/** A handshake step by step: option replies are queued until asked for. */
class Handshake {
  private queue: ServerMessage[] = [];
  private waiter: ((m: ServerMessage) => void) | null = null;
  private failure: Error | null = null;
  private failWaiter: ((e: Error) => void) | null = null;

  deliver(m: ServerMessage): void {
    if (this.waiter) { const w = this.waiter; this.waiter = null; this.failWaiter = null; w(m); }
    else this.queue.push(m);
  }

  fail(e: Error): void {
    this.failure ??= e;
    if (this.failWaiter) { const f = this.failWaiter; this.waiter = null; this.failWaiter = null; f(e); }
  }

  next(): Promise<ServerMessage> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => { this.waiter = resolve; this.failWaiter = reject; });
  }
}

export class NbdClient {
  private readonly decoder: ServerDecoder;
  private readonly hs = new Handshake();
  private readonly pending = new Map<bigint, Pending>();
  private nextCookie = 1n;
  private readonly waiting: Array<() => void> = [];
  private closedWith: Error | null = null;
  private serverFlags = 0;
  private readonly closeWaiters: Array<() => void> = [];
  /** True once structured replies were agreed. */
  structured = false;
  /** The context id of base:allocation, when selected. */
  allocationId: number | null = null;
  details!: ExportDetails;
  readonly maxInFlight: number;

  private constructor(private readonly stream: ByteStream, private readonly opts: NbdClientOptions) {
    this.maxInFlight = opts.maxInFlight ?? 64;
    this.decoder = new ServerDecoder({
      simpleDataLength: (cookie) => {
        const p = this.pending.get(cookie);
        if (!p) return undefined;
        return p.type === 'READ' ? p.length : 0;
      },
    });
    stream.onData((chunk) => {
      try {
        this.decoder.push(chunk, (m) => this.receive(m));
      } catch (e) {
        this.abort(e instanceof Error ? e : new Error(String(e)));
      }
    });
    stream.onClose((err) => this.abort(err ?? new Error('connection closed by the server')));
  }

  private trace(dir: '<-' | '->', text: string): void {
    this.opts.trace?.(dir, text);
  }

  /** Handshakes and enters transmission on the export (default ''). */
  static async connect(stream: ByteStream, opts: NbdClientOptions = {}): Promise<NbdClient> {
    const c = new NbdClient(stream, opts);
    try {
      await c.greet();
      await c.negotiate(opts.exportName ?? '');
    } catch (e) {
      c.stream.destroy();
      throw e;
    }
    return c;
  }

  /** The exports a server lists (NBD_OPT_LIST), then a clean ABORT. */
  static async list(stream: ByteStream, opts: NbdClientOptions = {}): Promise<Array<{ name: string; description: string }>> {
    const c = new NbdClient(stream, opts);
    try {
      await c.greet();
      const replies = await c.option({ option: 'LIST' });
      return replies.flatMap((r) => (r.reply === 'SERVER' ? [{ name: r.name, description: r.description }] : []));
    } finally {
      await c.abortHandshake();
    }
  }

  /** What NBD_OPT_INFO says about an export (and the contexts it offers), then a clean ABORT. */
  static async info(stream: ByteStream, opts: NbdClientOptions = {}): Promise<ExportDetails & { contexts: string[] }> {
    const c = new NbdClient(stream, opts);
    try {
      await c.greet();
      const name = opts.exportName ?? '';
      let contexts: string[] = [];
      if ((await c.tryOption({ option: 'STRUCTURED_REPLY' })) !== null) {
        const r = await c.tryOption({ option: 'LIST_META_CONTEXT', name, queries: [] });
        contexts = (r ?? []).flatMap((x) => (x.reply === 'META_CONTEXT' ? [x.name] : []));
      }
      const replies = await c.option({ option: 'INFO', name, requests: [Info.NAME, Info.DESCRIPTION, Info.BLOCK_SIZE] });
      return { ...detailsOf(name, replies), contexts };
    } finally {
      await c.abortHandshake();
    }
  }

  private send(bytes: Uint8Array): void {
    if (this.closedWith) throw this.closedWith;
    this.stream.write(bytes);
  }

  private async greet(): Promise<void> {
    const m = await this.hs.next();
    if (m.kind !== 'greeting') throw new NbdProtocolError('unexpected', `expected the greeting, got ${m.kind}`);
    this.trace('<-', greetingText(m.flags));
    this.serverFlags = m.flags;
    if (!(m.flags & HandshakeFlag.FIXED_NEWSTYLE)) throw new NbdProtocolError('unexpected', 'the server does not speak fixed newstyle');
    const flags = ClientFlag.FIXED_NEWSTYLE | (m.flags & HandshakeFlag.NO_ZEROES ? ClientFlag.NO_ZEROES : 0);
    this.trace('->', clientFlagsText(flags));
    this.send(encodeClientFlags(flags));
  }

  /** Sends an option and collects replies up to the final ACK; an error reply throws OptionError. */
  private async option(o: ClientOption): Promise<OptionReply[]> {
    const r = await this.tryOption(o, true);
    return r ?? [];
  }

  /** Like option(), but ERR_UNSUP/ERR_POLICY/ERR_INVALID give null instead of throwing. */
  private async tryOption(o: ClientOption, strict = false): Promise<OptionReply[] | null> {
    this.trace('->', optionText(o));
    this.send(encodeOption(o));
    const code = o.option === 'unknown' ? o.code : Opt[o.option];
    const out: OptionReply[] = [];
    // Bounded by what the server sends; each reply is consumed once.
    for (;;) {
      const m = await this.hs.next();
      if (m.kind !== 'option-reply') throw new NbdProtocolError('unexpected', `expected an option reply, got ${m.kind}`);
      const r = m.reply;
      this.trace('<-', optionReplyText(r));
      if (r.option !== code) throw new NbdProtocolError('unexpected', `reply for option ${optionName(r.option)} while ${optionName(code)} is pending`);
      if (r.reply === 'ACK') return out;
      if (r.reply === 'ERROR') {
        const soft = r.type === Rep.ERR_UNSUP || r.type === Rep.ERR_POLICY || r.type === Rep.ERR_INVALID;
        if (soft && !strict) return null;
        throw new OptionError(code, r.type, `${optionName(code)}: ${repErrorName(r.type)}${r.message ? `: ${r.message}` : ''}`);
      }
      out.push(r);
      if (out.length > 100000) throw new NbdProtocolError('too-large', 'more than 100000 replies to one option');
    }
  }

  private async abortHandshake(): Promise<void> {
    if (this.closedWith) return;
    try {
      this.trace('->', optionText({ option: 'ABORT' }));
      this.send(encodeOption({ option: 'ABORT' }));
    } catch { /* already gone */ }
    // Servers may or may not ACK an ABORT; either way we hang up.
    this.stream.end();
  }

  private async negotiate(name: string): Promise<void> {
    if (this.opts.structured !== false && (await this.tryOption({ option: 'STRUCTURED_REPLY' })) !== null) {
      this.structured = true;
      if (this.opts.allocation !== false) {
        const r = await this.tryOption({ option: 'SET_META_CONTEXT', name, queries: [BASE_ALLOCATION] });
        const ctx = r?.find((x) => x.reply === 'META_CONTEXT' && x.name === BASE_ALLOCATION);
        if (ctx && ctx.reply === 'META_CONTEXT') this.allocationId = ctx.id;
      }
    }
    const go = await this.tryOption({ option: 'GO', name, requests: [Info.NAME, Info.DESCRIPTION, Info.BLOCK_SIZE] }, true).catch((e) => {
      if (e instanceof OptionError && e.type === Rep.ERR_UNSUP) return null;
      throw e;
    });
    if (go === null) {
      // An old server: EXPORT_NAME, which cannot fail politely.
      this.decoder.exportName((this.serverFlags & HandshakeFlag.NO_ZEROES) !== 0);
      this.trace('->', optionText({ option: 'EXPORT_NAME', name }));
      this.send(encodeOption({ option: 'EXPORT_NAME', name }));
      const m = await this.hs.next();
      if (m.kind !== 'export-name') throw new NbdProtocolError('unexpected', `expected the export, got ${m.kind}`);
      this.trace('<-', exportNameReplyText(m.reply.size, m.reply.flags));
      this.details = { name, size: m.reply.size, flags: m.reply.flags };
      this.allocationId = null;
      this.structured = false;
    } else {
      this.details = detailsOf(name, go);
      this.decoder.transmission();
    }
  }

  // ---- transmission ----

  get size(): bigint { return this.details.size; }
  get flags(): number { return this.details.flags; }
  can(flag: number): boolean { return (this.details.flags & flag) !== 0; }
  get readOnly(): boolean { return this.can(TxFlag.READ_ONLY); }
  /** Largest READ/WRITE this client sends in one request. */
  get maxRequest(): number { return Math.min(this.details.blockSize?.maximum ?? DEFAULT_MAX_BLOCK, DEFAULT_MAX_BLOCK); }

  private receive(m: ServerMessage): void {
    if (m.kind !== 'reply') { this.hs.deliver(m); return; }
    const r = m.reply;
    this.trace('<-', replyText(r));
    const p = this.pending.get(r.cookie);
    if (!p) throw new NbdProtocolError('unexpected', `reply for cookie ${r.cookie}, which is not in flight`);
    if (r.kind === 'simple') {
      if (this.structured && p.type === 'READ' && r.error === 0) throw new NbdProtocolError('unexpected', 'simple reply to READ after structured replies were agreed');
      if (r.error) p.error = new NbdError(r.error);
      else if (p.type === 'READ') { p.data = r.data ?? new Uint8Array(0); p.covered = p.length; }
      this.complete(r.cookie, p);
      return;
    }
    this.chunk(p, r);
    if (r.flags & ReplyFlag.DONE) this.complete(r.cookie, p);
  }

  private chunk(p: Pending, r: Extract<Reply, { kind: 'chunk' }>): void {
    if (!this.structured) throw new NbdProtocolError('unexpected', 'structured reply without negotiation');
    const c = r.chunk;
    switch (c.type) {
      case 'NONE':
        if (!(r.flags & ReplyFlag.DONE)) throw new NbdProtocolError('bad-value', 'NONE chunk without DONE');
        return;
      case 'OFFSET_DATA': case 'OFFSET_HOLE': {
        if (p.type !== 'READ') throw new NbdProtocolError('unexpected', `${c.type} in reply to ${p.type}`);
        const len = c.type === 'OFFSET_DATA' ? c.data.length : c.length;
        const at = c.offset - p.offset;
        if (at < 0n || at + BigInt(len) > BigInt(p.length)) throw new NbdProtocolError('bad-value', `${c.type} at ${c.offset}+${len} is outside the request`);
        const pos = Number(at);
        if (c.type === 'OFFSET_DATA' && pos === 0 && len === p.length && !p.data) {
          p.data = c.data;   // the usual case: one chunk, kept as a view of the received bytes
        } else {
          if (!p.data || p.data.length !== p.length || p.covered === p.length) {
            const d = new Uint8Array(p.length);
            if (p.data) d.set(p.data);
            p.data = d;
          }
          if (c.type === 'OFFSET_DATA') p.data.set(c.data, pos);
          else p.data.fill(0, pos, pos + len);
        }
        p.covered += len;
        return;
      }
      case 'BLOCK_STATUS':
        if (p.type !== 'BLOCK_STATUS') throw new NbdProtocolError('unexpected', `BLOCK_STATUS in reply to ${p.type}`);
        if (c.contextId === this.allocationId) p.extents = c.extents;
        return;
      case 'ERROR': case 'ERROR_OFFSET': case 'unknown-error':
        p.error ??= new NbdError(c.error, c.message || errnoText(c.error));
        return;
    }
  }

  private complete(cookie: bigint, p: Pending): void {
    this.pending.delete(cookie);
    this.waiting.shift()?.();
    if (p.error) return p.reject(p.error);
    if (p.type === 'READ') {
      if (p.covered < p.length) return p.reject(new NbdProtocolError('bad-value', `READ reply covers ${p.covered} of ${p.length} bytes`));
      return p.resolve(p.data ?? new Uint8Array(0));
    }
    if (p.type === 'BLOCK_STATUS') {
      if (!p.extents || p.extents.length === 0) return p.reject(new NbdProtocolError('bad-value', 'BLOCK_STATUS reply without base:allocation extents'));
      return p.resolve(p.extents);
    }
    p.resolve(undefined);
  }

  private abort(e: Error): void {
    if (this.closedWith) return;
    this.closedWith = e;
    this.decoder.stop();
    this.hs.fail(e);
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const w of this.waiting.splice(0)) w();
    this.stream.destroy();
    for (const w of this.closeWaiters.splice(0)) w();
  }

  private async request(type: CmdName, offset: bigint | number, length: number, flags = 0, data?: Uint8Array): Promise<Uint8Array | Extent[] | undefined> {
    // Bounded wait: each completed request admits one waiter; a closed connection admits all.
    while (this.pending.size >= this.maxInFlight && !this.closedWith) await new Promise<void>((r) => this.waiting.push(r));
    if (this.closedWith) throw this.closedWith;
    const cookie = this.nextCookie++;
    const off = BigInt(offset);
    const head = new Uint8Array(REQUEST_HEADER_SIZE + (data ? data.length : 0));
    writeRequestHeader(head, 0, Cmd[type], flags, cookie, off, length);
    if (data) head.set(data, REQUEST_HEADER_SIZE);
    if (this.opts.trace) {
      const text = type === 'WRITE'
        ? requestText({ type, flags, cookie, offset: off, length, data: data! })
        : requestText({ type: type as Exclude<CmdName, 'WRITE'>, flags, cookie, offset: off, length });
      this.trace('->', text);
    }
    return new Promise((resolve, reject) => {
      this.pending.set(cookie, { type, offset: off, length, covered: 0, resolve, reject });
      this.stream.write(head);
    });
  }

  async read(offset: bigint | number, length: number, flags = 0): Promise<Uint8Array> {
    return (await this.request('READ', offset, length, flags)) as Uint8Array;
  }

  async write(offset: bigint | number, data: Uint8Array, opts: { fua?: boolean } = {}): Promise<void> {
    await this.request('WRITE', offset, data.length, opts.fua ? CmdFlag.FUA : 0, data);
  }

  async flush(): Promise<void> {
    await this.request('FLUSH', 0, 0);
  }

  async trim(offset: bigint | number, length: number, opts: { fua?: boolean } = {}): Promise<void> {
    await this.request('TRIM', offset, length, opts.fua ? CmdFlag.FUA : 0);
  }

  async zero(offset: bigint | number, length: number, opts: { fua?: boolean; noHole?: boolean; fast?: boolean } = {}): Promise<void> {
    const flags = (opts.fua ? CmdFlag.FUA : 0) | (opts.noHole ? CmdFlag.NO_HOLE : 0) | (opts.fast ? CmdFlag.FAST_ZERO : 0);
    await this.request('WRITE_ZEROES', offset, length, flags);
  }

  async cache(offset: bigint | number, length: number): Promise<void> {
    await this.request('CACHE', offset, length);
  }

  /** base:allocation extents from offset on (the server may cover less than length). */
  async blockStatus(offset: bigint | number, length: number, opts: { reqOne?: boolean } = {}): Promise<Extent[]> {
    if (this.allocationId === null) throw new NbdError(22, 'the server gave no base:allocation context');
    return (await this.request('BLOCK_STATUS', offset, length, opts.reqOne ? CmdFlag.REQ_ONE : 0)) as Extent[];
  }

  get inFlight(): number { return this.pending.size; }

  /** Waits for the requests in flight, sends DISC and closes. */
  async disconnect(): Promise<void> {
    if (this.closedWith) return;
    // Bounded: each pass waits for one completion; abort() releases everyone.
    while (this.pending.size > 0 && !this.closedWith) await new Promise<void>((r) => this.waiting.push(r));
    if (this.closedWith) return;
    const head = new Uint8Array(REQUEST_HEADER_SIZE);
    writeRequestHeader(head, 0, Cmd.DISC, 0, this.nextCookie++, 0n, 0);
    this.trace('->', 'Cmd.Disc()');
    this.stream.write(head);
    this.closedWith = new Error('disconnected');
    this.stream.end();
  }

  /** Resolves when the connection is gone. */
  closed(): Promise<void> {
    if (this.closedWith) return Promise.resolve();
    return new Promise((r) => this.closeWaiters.push(r));
  }
}

function repErrorName(type: number): string {
  for (const [k, v] of Object.entries(Rep)) if (v === type) return k;
  return isRepError(type) ? `error 0x${type.toString(16)}` : String(type);
}

function detailsOf(name: string, replies: OptionReply[]): ExportDetails {
  let d: ExportDetails | null = null;
  let description: string | undefined;
  let canonical = name;
  let blockSize: ExportDetails['blockSize'];
  for (const r of replies) {
    if (r.reply !== 'INFO') continue;
    const i = r.info;
    if (i.info === 'EXPORT') d = { name, size: i.size, flags: i.flags };
    else if (i.info === 'NAME') canonical = i.name;
    else if (i.info === 'DESCRIPTION') description = i.description;
    else if (i.info === 'BLOCK_SIZE') blockSize = { minimum: i.minimum, preferred: i.preferred, maximum: i.maximum };
  }
  if (!d) throw new NbdProtocolError('unexpected', 'the server did not send NBD_INFO_EXPORT');
  d.name = canonical;
  if (description !== undefined) d.description = description;
  if (blockSize) d.blockSize = blockSize;
  return d;
}
