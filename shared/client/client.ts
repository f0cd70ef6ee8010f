// An isomorphic 9P client over any MessageTransport: version and attach, a tag per request with
// many requests in flight, Tflush cancellation, fids recycled after Rclunk, and path operations
// that hide the differences between 9P2000, 9P2000.u and 9P2000.L.
import {
  AT_REMOVEDIR, DIALECTS, DMDIR, Errno, GETATTR_BASIC, IOHDRSZ, L_O_CREAT, L_O_EXCL,
  L_O_RDONLY, L_O_RDWR, L_O_TRUNC, L_O_WRONLY, MAXWELEM, MAX_MSIZE, NOFID, NONUNAME, NOTAG, OEXEC,
  ORCLOSE, OREAD, OTRUNC, OWRITE, ProtocolError, QTDIR, SETATTR_MODE, SETATTR_SIZE, decode, encode, encodeHead,
  direntNames, messageText, nullStat, unpackStats,
} from '../ninep/index.ts';
import type { Dialect, Message, MessageOf, MessageType, Qid, Rmsg, Rversion, Tmsg, Twrite } from '../ninep/index.ts';
import { type Dir, dirFromAttr, dirFromStat } from './dir.ts';
import { NinepError } from './errors.ts';
import { File } from './file.ts';
import type { MessageTransport } from './transport.ts';

/** A T-message as the caller writes it: the client assigns the tag. */
export type TBody = { [K in Tmsg['type']]: Omit<MessageOf<K>, 'tag'> & { tag?: number } }[Tmsg['type']];
type ReplyName<K extends string> = K extends `T${infer N}` ? `R${N}` : never;
/** The reply type of a T-message type, e.g. ReplyOf<'Twalk'> is Rwalk. */
export type ReplyOf<K extends Tmsg['type']> = MessageOf<Extract<ReplyName<K>, MessageType>>;

export interface CallOptions {
  signal?: AbortSignal;
  /** Tracks the request so that it can be flushed without an AbortSignal (see RpcHandle). */
  handle?: RpcHandle;
}

export interface ReadOptions extends CallOptions {
  /** Tread: the reply's data is copied into this buffer (when it fits) and returned as a view of it. */
  into?: Uint8Array;
}

/**
 * A cheaper alternative to an AbortSignal for a caller that forwards many requests (a mount): an
 * AbortSignal and its listener cost more than a small request. It follows the caller's one
 * request out at a time; `Client.cancel` flushes it, and fails every later rpc made with it.
 */
export class RpcHandle {
  /** The client and call out now. */
  client: Client | null = null;
  call: object | null = null;
  cancelled = false;
  reason: unknown = undefined;
}

/** '<-' for a message sent, '->' for one received (plan9port's 9p -D arrows). */
export type TraceDirection = '<-' | '->';

export interface ConnectOptions {
  /** Proposed msize; the server may lower it. Default 256 KiB + IOHDRSZ, at most MAX_MSIZE. */
  msize?: number;
  /** Proposed dialect, default '9P2000.L'. The client accepts what the server answers. */
  version?: Dialect;
  uname?: string;
  aname?: string;
  /** Numeric user for .u/.L attach; NONUNAME (the default) means "use uname". */
  nUname?: number;
  /** Requests in flight per pipelined read or write (default 16). */
  pipeline?: number;
  /** Called for every message sent or received, with its Inferno-form text. */
  trace?: (direction: TraceDirection, text: string, msg: Message) => void;
  /**
   * After a partial walk, clunk the new fid anyway (default true): walk(5) says it was not
   * created, but diod keeps it, so a long-lived client would leak it there. A client whose
   * connection ends right after its one operation (the 9p command) sets false: it sends no
   * clunk the server never asked for, and never reuses that fid number instead.
   */
  clunkAfterPartialWalk?: boolean;
  signal?: AbortSignal;
}

export interface FidRef {
  fid: number;
  qid: Qid;
}

interface Call {
  tag: number;
  request: Tmsg['type'];
  expect: MessageType;
  resolve: (m: Rmsg) => void;
  reject: (e: Error) => void;
  /** Set once Tflush for this call has been sent; the tag stays reserved until Rflush. */
  flushing: boolean;
  /** The reply that arrived after Tflush was sent and before Rflush. */
  late?: Rmsg;
  /** On a Tflush call: the call it cancels. */
  target?: Call;
  abortReason?: unknown;
  detach?: () => void;
  /** Tread: where the reply's data goes (ReadOptions.into). */
  into?: Uint8Array;
}

const TAG_COUNT = NOTAG; // tags 0 .. 0xfffe; NOTAG is Tversion's only
const DEFAULT_MSIZE = 256 * 1024 + IOHDRSZ;
/** Below this a Twalk of 16 short names or a small stat would not fit; no real server goes lower. */
const MIN_MSIZE = 512;

export function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '' && s !== '.');
}

function abortError(reason: unknown): NinepError {
  const why = reason instanceof Error ? reason.message : reason === undefined ? '' : String(reason);
  const msg = why && why !== 'This operation was aborted' ? `cancelled: ${why}` : 'cancelled';
  return new NinepError(msg, Errno.ECANCELED, 'abort', { cause: reason });
}

export class Client {
  private _dialect: Dialect;
  private _msize: number;
  private _version: string;
  private _rootFid = NOFID;
  private _rootQid: Qid = { type: QTDIR, vers: 0, path: 0n };
  /** Requests in flight per pipelined read or write, and per directory listing. */
  pipeline: number;

  private readonly transport: MessageTransport;
  /** The transport reuses the buffer a frame lives in: copy out the data that replies carry. */
  private readonly transient: boolean;
  private trace?: ConnectOptions['trace'];
  private readonly clunkPartial: boolean;
  private readonly calls = new Map<number, Call>();
  private nextTag = 0;
  private tagWaiters: Array<() => void> = [];
  private nextFid = 0;
  private freeFids: number[] = [];
  private closedError?: NinepError;
  private closeListeners: Array<(err: NinepError) => void> = [];
  /** True until Rversion: an error reply may then be in a dialect other than the proposed one. */
  private negotiating = true;
  /** Cleanup clunks under way. */
  private readonly background = new Set<Promise<void>>();

  private constructor(transport: MessageTransport, opts: ConnectOptions, dialect: Dialect, msize: number) {
    this.transport = transport;
    this.transient = transport.transientFrames === true;
    this._dialect = dialect;
    this._msize = msize;
    this._version = dialect;
    this.trace = opts.trace;
    this.clunkPartial = opts.clunkAfterPartialWalk ?? true;
    this.pipeline = Math.max(1, opts.pipeline ?? 16);
  }

  /** The dialect the server chose; fixed for the life of the connection. */
  get dialect(): Dialect { return this._dialect; }
  get msize(): number { return this._msize; }
  get version(): string { return this._version; }
  /** The fid of the attach point, kept for the life of the connection. */
  get rootFid(): number { return this._rootFid; }
  get rootQid(): Qid { return this._rootQid; }

  /** Negotiates version and msize on a fresh transport, then attaches. */
  static async connect(transport: MessageTransport, opts: ConnectOptions = {}): Promise<Client> {
    const proposed = opts.version ?? '9P2000.L';
    const msize = Math.min(Math.max(opts.msize ?? DEFAULT_MSIZE, MIN_MSIZE), MAX_MSIZE);
    const c = new Client(transport, opts, proposed, msize);
    c.listen();
    // Tversion cannot be flushed (it has no tag): a cancelled connect just hangs up.
    const onAbort = () => {
      c.shutdown(abortError(opts.signal?.reason));
      transport.close('cancelled');
    };
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // Rversion has one layout in every dialect, so the proposed dialect decodes it.
      const rv = (await c.send({ type: 'Tversion', msize, version: proposed }, NOTAG)) as Rversion;
      c.negotiating = false;
      if (rv.version === 'unknown') {
        throw new NinepError(`server does not speak ${proposed}`, Errno.EPROTO, 'protocol');
      }
      if (!(DIALECTS as readonly string[]).includes(rv.version)) {
        throw new NinepError(`server answered version '${rv.version}' to ${proposed}`, Errno.EPROTO, 'protocol');
      }
      if (rv.msize > msize) {
        throw new NinepError(`server msize ${rv.msize} is above the proposed ${msize}`, Errno.EPROTO, 'protocol');
      }
      if (rv.msize < MIN_MSIZE) {
        throw new NinepError(`server msize ${rv.msize} is too small`, Errno.EPROTO, 'protocol');
      }
      c._dialect = rv.version as Dialect;
      c._version = rv.version;
      c._msize = rv.msize;
      const fid = c.allocFid();
      const ra = await c.rpc({ type: 'Tattach', fid, afid: NOFID, uname: opts.uname ?? 'none', aname: opts.aname ?? '', nUname: opts.nUname ?? NONUNAME });
      c._rootFid = fid;
      c._rootQid = ra.qid;
      opts.signal?.removeEventListener('abort', onAbort);
      return c;
    } catch (e) {
      opts.signal?.removeEventListener('abort', onAbort);
      if (c.negotiating && e instanceof NinepError && e.kind === 'remote') {
        e.message = `server refused ${proposed}: ${e.message}`;
      }
      c.shutdown(e instanceof NinepError ? e : new NinepError(String(e), Errno.EIO, 'closed'));
      transport.close('connect failed');
      throw e;
    }
  }

  // ---- the message layer ----

  private listen(): void {
    this.transport.onMessage((frame) => this.receive(frame));
    this.transport.onClose((err) => {
      // A transport that could not frame the byte stream (a bad size field) reports ProtocolError;
      // a hang-up part way through a message is still just a closed connection.
      if (err instanceof ProtocolError && err.code !== 'truncated') {
        this.shutdown(new NinepError(`protocol error: ${err.message}`, Errno.EPROTO, 'protocol', { cause: err }));
        return;
      }
      this.shutdown(new NinepError(err ? `connection closed: ${err.message}` : 'connection closed', Errno.ECONNRESET, 'closed', { cause: err }));
    });
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** Requests still waiting for their reply (or for Rflush). */
  get inFlight(): number {
    return this.calls.size;
  }

  /** Called once when the connection ends (close, transport failure or protocol error). */
  onClose(cb: (err: NinepError) => void): void {
    if (this.closedError) cb(this.closedError);
    else this.closeListeners.push(cb);
  }

  /**
   * Closes the connection politely: waits for cleanup clunks under way, clunks the attach fid,
   * then closes. Requests still pending after that fail as with close().
   */
  async end(): Promise<void> {
    if (this.closed) return;
    await Promise.allSettled([...this.background]);
    if (this._rootFid !== NOFID && !this.closed) {
      const root = this._rootFid;
      this._rootFid = NOFID;
      await this.rpc({ type: 'Tclunk', fid: root }).catch(() => {});
    }
    this.close();
  }

  /** Closes the connection at once; pending calls fail. */
  close(): void {
    if (this.closed) return;
    // Tell the server we are done with the attach fid; the transport flushes it before closing.
    if (this._rootFid !== NOFID && this.calls.size < TAG_COUNT) {
      const msg: Tmsg = { type: 'Tclunk', tag: this.takeTag(), fid: this._rootFid };
      this.transmit(msg, encode(msg, this.dialect));
    }
    this.shutdown(new NinepError('connection closed by client', Errno.ESHUTDOWN, 'closed'));
    this.transport.close();
  }

  private shutdown(err: NinepError): void {
    if (this.closedError) return;
    this.closedError = err;
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const c of calls) {
      c.detach?.();
      c.reject(err);
    }
    const waiters = this.tagWaiters;
    this.tagWaiters = [];
    for (const w of waiters) w();
    for (const cb of this.closeListeners.splice(0)) cb(err);
  }

  /** A protocol violation: the connection cannot be trusted any more. */
  private violation(message: string): void {
    if (this.closed) return;
    this.shutdown(new NinepError(`protocol error: ${message}`, Errno.EPROTO, 'protocol'));
    this.transport.close('protocol error');
  }

  private receive(frame: Uint8Array): void {
    if (this.closed) return;
    if (frame.length > this.msize) return this.violation(`reply of ${frame.length} bytes exceeds msize ${this.msize}`);
    let m: Message;
    try {
      m = decode(frame, this.dialect);
    } catch (e) {
      const refusal = this.negotiating ? decodeRefusal(frame) : undefined;
      if (!refusal) return this.violation(`malformed reply: ${(e as Error).message}`);
      m = refusal;
    }
    if (m.type[0] !== 'R') return this.violation(`server sent ${m.type}`);
    const r = m as Rmsg;
    this.trace?.('->', messageText(r), r);
    const call = this.calls.get(r.tag);
    if (!call) return this.violation(`${r.type} with unknown tag ${r.tag}`);
    const isError = r.type === 'Rerror' || r.type === 'Rlerror';
    if (!isError && r.type !== call.expect) return this.violation(`${r.type} in reply to ${call.request} (tag ${r.tag})`);
    // Data is a view of the frame; decoded strings and numbers are copies already.
    if (r.type === 'Rread' || r.type === 'Rreaddir') {
      const into = call.flushing ? undefined : call.into;
      if (into && r.data.length <= into.length) {
        into.set(r.data);
        r.data = into.subarray(0, r.data.length);
      } else if (this.transient) {
        r.data = r.data.slice();
      }
    }
    if (call.flushing) {
      // The reply overtook our Tflush: keep it for the caller, settle at Rflush (flush(5)).
      if (call.late) return this.violation(`second reply to tag ${r.tag}`);
      call.late = r;
      return;
    }
    this.calls.delete(r.tag);
    call.detach?.();
    const target = call.target;
    if (target) {
      // Rflush (or an error to Tflush, which no server should send): the flushed request is over.
      this.calls.delete(target.tag);
      const err = abortError(target.abortReason);
      if (target.late) err.lateReply = target.late;
      target.reject(err);
      this.releaseTag();
      this.releaseTag();
      return;
    }
    this.releaseTag();
    if (isError) call.reject(NinepError.fromReply(r));
    else call.resolve(r);
  }

  /** A tag was freed: wake one request waiting for a tag. */
  private releaseTag(): void {
    const w = this.tagWaiters.shift();
    if (w) w();
  }

  /** Waits until a tag is free (all 65535 in flight is possible only with that many calls). */
  private async tagSlot(signal?: AbortSignal): Promise<void> {
    while (this.calls.size >= TAG_COUNT) {
      if (this.closedError) throw this.closedError;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.tagWaiters.indexOf(wake);
          if (i >= 0) this.tagWaiters.splice(i, 1);
          reject(abortError(signal?.reason));
        };
        const wake = () => { signal?.removeEventListener('abort', onAbort); resolve(); };
        this.tagWaiters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    if (this.closedError) throw this.closedError;
  }

  /** A tag not in flight; the caller registers it in `calls` before yielding. */
  private takeTag(): number {
    for (;;) {
      const t = this.nextTag;
      this.nextTag = (t + 1) % TAG_COUNT;
      if (!this.calls.has(t)) return t;
    }
  }

  /** Sends one T-message and resolves with its reply; throws NinepError for Rerror/Rlerror. */
  async rpc<B extends TBody>(msg: B, opts: ReadOptions = {}): Promise<ReplyOf<B['type']>> {
    const signal = opts.signal;
    if (this.closedError) throw this.closedError;
    if (signal?.aborted) throw abortError(signal.reason);
    if (opts.handle?.cancelled) throw abortError(opts.handle.reason);
    if (msg.type === 'Tversion') throw NinepError.local('Tversion is sent only by connect');
    if (msg.type === 'Tflush') throw NinepError.local('use an AbortSignal to flush a request');
    if (this.calls.size >= TAG_COUNT) await this.tagSlot(signal);
    if (this.closedError) throw this.closedError;
    if (opts.handle?.cancelled) throw abortError(opts.handle.reason);
    return this.send(msg, this.takeTag(), signal, opts.handle, opts.into) as Promise<ReplyOf<B['type']>>;
  }

  /** Flushes the request out under h (settling when the server answers the flush); h fails every later rpc. */
  cancel(h: RpcHandle, reason: unknown): void {
    if (h.cancelled) return;
    h.cancelled = true;
    h.reason = reason;
    if (h.client === this && h.call) this.flush(h.call as Call, reason);
  }

  /** Whether the request out under h still waits for the server (its reply or its Rflush). */
  outstanding(h: RpcHandle): boolean {
    const call = h.call as Call | null;
    return h.client === this && call !== null && this.calls.get(call.tag) === call;
  }

  /** Registers the call under tag and sends it, synchronously (so the tag cannot be taken twice). */
  private send(body: TBody, tag: number, signal?: AbortSignal, handle?: RpcHandle, into?: Uint8Array): Promise<Rmsg> {
    if (this.closedError) return Promise.reject(this.closedError);
    const msg = { ...body, tag } as Tmsg;
    let frame: Uint8Array;
    // A Twrite's data goes out after its head where the transport can: no copy into a frame.
    const data = msg.type === 'Twrite' && this.transport.sendSplit ? msg.data : undefined;
    try {
      frame = data ? encodeHead(msg as Twrite, this.dialect) : encode(msg, this.dialect);
    } catch (e) {
      return Promise.reject(NinepError.local(`${msg.type}: ${(e as Error).message}`));
    }
    const size = frame.length + (data?.length ?? 0);
    if (size > this.msize) {
      return Promise.reject(NinepError.local(`${msg.type} of ${size} bytes exceeds msize ${this.msize}`, Errno.EMSGSIZE));
    }
    return new Promise<Rmsg>((resolve, reject) => {
      const call: Call = {
        tag, request: msg.type, expect: ('R' + msg.type.slice(1)) as MessageType, resolve, reject, flushing: false, into,
      };
      this.calls.set(tag, call);
      if (signal) {
        const onAbort = () => this.flush(call, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        call.detach = () => signal.removeEventListener('abort', onAbort);
      }
      if (handle) {
        handle.client = this;
        handle.call = call;
      }
      this.transmit(msg, frame, data);
    });
  }

  /** Sends frame, or frame as the head of a message and data as the rest of it. */
  private transmit(msg: Tmsg, frame: Uint8Array, data?: Uint8Array): void {
    this.trace?.('<-', messageText(msg), msg);
    try {
      if (data) this.transport.sendSplit!(frame, data);
      else this.transport.send(frame);
    } catch (e) {
      this.shutdown(new NinepError(`send failed: ${(e as Error).message}`, Errno.ECONNRESET, 'closed', { cause: e }));
    }
  }

  /** Sends Tflush for a pending call; the call settles when Rflush arrives. */
  private flush(call: Call, reason: unknown): void {
    if (call.flushing || this.calls.get(call.tag) !== call || this.closed) return;
    call.flushing = true;
    call.abortReason = reason;
    call.detach?.();
    call.detach = undefined;
    const go = () => {
      if (this.closed || this.calls.get(call.tag) !== call) return;
      const tag = this.takeTag();
      const fcall: Call = {
        tag, request: 'Tflush', expect: 'Rflush', flushing: false, target: call,
        resolve: () => {}, reject: () => {},
      };
      const msg: Tmsg = { type: 'Tflush', tag, oldtag: call.tag };
      this.calls.set(tag, fcall);
      this.transmit(msg, encode(msg, this.dialect));
    };
    if (this.calls.size < TAG_COUNT) go();
    else this.tagSlot().then(go, () => { /* closed: shutdown has rejected the call */ });
  }

  // ---- fids ----

  /** A fid number not in use; clunked fids are reused. */
  allocFid(): number {
    const f = this.freeFids.pop();
    if (f !== undefined) return f;
    if (this.nextFid >= NOFID) throw NinepError.local('out of fids', Errno.EMFILE);
    return this.nextFid++;
  }

  /** Returns a fid the server does not hold (never attached, or clunked) to the pool. */
  releaseFid(fid: number): void {
    this.freeFids.push(fid);
  }

  /**
   * After a Twalk to newfid failed: newfid goes back to the pool, unless the walk's reply came
   * after it was flushed (lateReply): then the server may hold newfid, which is clunked first.
   */
  forgetWalk(newfid: number, e: unknown): void {
    if (e instanceof NinepError && e.lateReply?.type === 'Rwalk') this.clunkQuietly(newfid);
    else if (!this.closed) this.releaseFid(newfid);
  }

  /** Tclunk; the fid is free for reuse afterwards whatever the server answers (clunk(5)). */
  async clunk(fid: number): Promise<void> {
    try {
      await this.rpc({ type: 'Tclunk', fid });
    } catch (e) {
      if (e instanceof NinepError && e.kind === 'remote') return;
      throw e;
    } finally {
      if (!this.closed) this.releaseFid(fid);
    }
  }

  /** Clunks without waiting or failing: for cleanup paths. end() waits for these. */
  clunkQuietly(fid: number): void {
    const p = this.clunk(fid).catch(() => {});
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  // ---- walks ----

  /**
   * Walks from `from` (default the root) along names to a new fid, in Twalks of at most 16
   * names. The caller owns the returned fid and must clunk it.
   */
  async walkNames(names: readonly string[], opts: CallOptions & { from?: FidRef } = {}): Promise<FidRef> {
    const from = opts.from ?? { fid: this.rootFid, qid: this.rootQid };
    const newfid = this.allocFid();
    let established = false;
    /** A partial first walk: the server may or may not hold newfid (see clunkAfterPartialWalk). */
    let maybeHeld = false;
    try {
      if (names.length === 0) {
        await this.rpc({ type: 'Twalk', fid: from.fid, newfid, wnames: [] }, opts);
        return { fid: newfid, qid: from.qid };
      }
      let qid = from.qid;
      for (let i = 0; i < names.length; i += MAXWELEM) {
        const part = names.slice(i, i + MAXWELEM);
        const r = await this.rpc({ type: 'Twalk', fid: established ? newfid : from.fid, newfid, wnames: part }, opts);
        if (r.qids.length !== part.length) {
          // walk(5): a partial walk leaves newfid unaffected. diod nevertheless keeps a first-step
          // newfid at the last element reached, so clunk it; a strict server answers "unknown
          // fid", which costs nothing.
          if (!established && r.qids.length > 0) {
            if (this.clunkPartial) established = true;
            else maybeHeld = true;
          }
          const missing = names.slice(0, i + r.qids.length + 1).join('/');
          throw new NinepError(`'${missing}' file does not exist`, Errno.ENOENT);
        }
        established = true;
        qid = r.qids[r.qids.length - 1];
      }
      return { fid: newfid, qid };
    } catch (e) {
      const late = e instanceof NinepError ? e.lateReply : undefined;
      const lateWalked = late?.type === 'Rwalk' && (late.qids.length > 0 || names.length === 0);
      if (established || lateWalked) this.clunkQuietly(newfid);
      else if (!this.closed && !maybeHeld) this.releaseFid(newfid);
      throw e;
    }
  }

  /** Walks a slash-separated path from the root. The caller must clunk the fid. */
  walk(path: string, opts: CallOptions = {}): Promise<FidRef> {
    return this.walkNames(splitPath(path), opts);
  }

  /** Walks to the parent of path; returns its fid and the last name. */
  private async walkParent(path: string, opts: CallOptions): Promise<{ dir: FidRef; name: string }> {
    const names = splitPath(path);
    const name = names.pop();
    if (name === undefined || name === '..') throw NinepError.local(`'${path}' has no last element`);
    return { dir: await this.walkNames(names, opts), name };
  }

  /** Runs fn with a fid walked to path, then clunks it. */
  private async withFid<T>(path: string, opts: CallOptions, fn: (f: FidRef) => Promise<T>): Promise<T> {
    const f = await this.walk(path, opts);
    try {
      return await fn(f);
    } finally {
      this.clunkQuietly(f.fid);
    }
  }

  // ---- attributes ----

  /** Stat of a walked fid; name is used where the dialect carries none (.L). */
  async fstat(f: FidRef | number, name: string, opts: CallOptions = {}): Promise<Dir> {
    const fid = typeof f === 'number' ? f : f.fid;
    if (this.dialect === '9P2000.L') {
      const r = await this.rpc({ type: 'Tgetattr', fid, requestMask: GETATTR_BASIC }, opts);
      return dirFromAttr(name, r.attr);
    }
    const r = await this.rpc({ type: 'Tstat', fid }, opts);
    return dirFromStat(r.stat);
  }

  async stat(path: string, opts: CallOptions = {}): Promise<Dir> {
    const names = splitPath(path);
    return this.withFid(path, opts, (f) => this.fstat(f, names.length ? names[names.length - 1] : '/', opts));
  }

  /** Changes the permission bits (the low 9, plus setuid/setgid where the dialect has them). */
  async chmod(path: string, perm: number, opts: CallOptions = {}): Promise<void> {
    await this.withFid(path, opts, async (f) => {
      if (this.dialect === '9P2000.L') {
        await this.rpc({ type: 'Tsetattr', fid: f.fid, attr: setattr(SETATTR_MODE, { mode: perm & 0o7777 }) }, opts);
        return;
      }
      // wstat(5) cannot change DMDIR and friends: keep the type bits of the current mode.
      const cur = await this.rpc({ type: 'Tstat', fid: f.fid }, opts);
      const st = nullStat();
      st.mode = ((cur.stat.mode & ~0o777) | (perm & 0o777)) >>> 0;
      await this.rpc({ type: 'Twstat', fid: f.fid, stat: st }, opts);
    });
  }

  async truncate(path: string, length: bigint | number, opts: CallOptions = {}): Promise<void> {
    await this.withFid(path, opts, async (f) => {
      if (this.dialect === '9P2000.L') {
        await this.rpc({ type: 'Tsetattr', fid: f.fid, attr: setattr(SETATTR_SIZE, { size: BigInt(length) }) }, opts);
        return;
      }
      const st = nullStat();
      st.length = BigInt(length);
      await this.rpc({ type: 'Twstat', fid: f.fid, stat: st }, opts);
    });
  }

  // ---- directories ----

  /**
   * All entries of a directory with their attributes. 9P2000/.u read whole stats; .L reads
   * dirents with Treaddir (cookie by cookie until an empty reply) and fetches each entry's
   * attributes with walk + getattr, several at a time. '.' and '..' are left out.
   */
  async readdir(path: string, opts: CallOptions = {}): Promise<Dir[]> {
    if (this.dialect !== '9P2000.L') {
      const file = await this.open(path, OREAD, opts);
      try {
        const out: Dir[] = [];
        let offset = 0n;
        for (;;) {
          // Directory offsets must follow the previous read exactly (read(5)): no pipelining.
          const data = await file.read(offset, file.iounit, opts);
          if (data.length === 0) break;
          let stats;
          try {
            stats = unpackStats(data, this.dialect);
          } catch (e) {
            throw new NinepError(`bad directory entry: ${(e as Error).message}`, Errno.EPROTO, 'remote');
          }
          for (const st of stats) out.push(dirFromStat(st));
          offset += BigInt(data.length);
        }
        return out;
      } finally {
        await file.close();
      }
    }
    const dir = await this.walk(path, opts);
    try {
      const names = await this.readdirNames(dir, opts);
      return await this.statEntries(dir, names, opts);
    } finally {
      this.clunkQuietly(dir.fid);
    }
  }

  /**
   * The names of a directory's entries, without their attributes: on .L no walk or getattr per
   * entry, nor an object, which is all a listing of names needs. '.' and '..' are left out.
   */
  async names(path: string, opts: CallOptions = {}): Promise<string[]> {
    if (this.dialect !== '9P2000.L') return (await this.readdir(path, opts)).map((d) => d.name);
    const dir = await this.walk(path, opts);
    try {
      return await this.readdirNames(dir, opts, false);
    } finally {
      this.clunkQuietly(dir.fid);
    }
  }

  /** .L: the entry names of a directory (walked, unopened fid `dir`; opened itself unless clone). */
  private async readdirNames(dir: FidRef, opts: CallOptions, clone = true): Promise<string[]> {
    // Open a clone so that `dir` stays walkable for the per-entry getattr.
    const open = clone ? await this.walkNames([], { ...opts, from: dir }) : dir;
    const out: string[] = [];
    try {
      const r0 = await this.rpc({ type: 'Tlopen', fid: open.fid, flags: L_O_RDONLY }, opts);
      const count = ioSize(r0.iounit, this.msize);
      let offset = 0n;
      for (;;) {
        const r = await this.rpc({ type: 'Treaddir', fid: open.fid, offset, count }, opts);
        let next;
        try {
          next = direntNames(r.data, out);
        } catch (e) {
          throw new NinepError(`bad directory entry: ${(e as Error).message}`, Errno.EPROTO, 'remote');
        }
        // An empty reply ends the directory; a cookie that does not move would loop forever.
        if (next === undefined || next === offset) break;
        offset = next;
      }
    } finally {
      if (clone) this.clunkQuietly(open.fid);
    }
    return out.filter((n) => n !== '.' && n !== '..');
  }

  private async statEntries(dir: FidRef, names: string[], opts: CallOptions): Promise<Dir[]> {
    const out: Array<Dir | undefined> = new Array(names.length);
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const i = next++;
        const name = names[i];
        try {
          const f = await this.walkNames([name], { ...opts, from: dir });
          try {
            out[i] = await this.fstat(f, name, opts);
          } finally {
            this.clunkQuietly(f.fid);
          }
        } catch (err) {
          // Removed between readdir and walk: not an entry any more.
          if (err instanceof NinepError && err.kind === 'remote' && err.errno === Errno.ENOENT) continue;
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.pipeline, names.length) }, worker));
    return out.filter((d): d is Dir => d !== undefined);
  }

  async mkdir(path: string, perm = 0o755, opts: CallOptions & { gid?: number } = {}): Promise<void> {
    const { dir, name } = await this.walkParent(path, opts);
    try {
      if (this.dialect === '9P2000.L') {
        await this.rpc({ type: 'Tmkdir', dfid: dir.fid, name, mode: perm & 0o7777, gid: opts.gid ?? NONUNAME }, opts);
      } else {
        // Tcreate turns the directory fid into the new directory's fid; clunking it closes that.
        await this.rpc({ type: 'Tcreate', fid: dir.fid, name, perm: (DMDIR | (perm & 0o777)) >>> 0, mode: OREAD, extension: '' }, opts);
      }
    } finally {
      this.clunkQuietly(dir.fid);
    }
  }

  async remove(path: string, opts: CallOptions = {}): Promise<void> {
    if (this.dialect === '9P2000.L') {
      const { dir, name } = await this.walkParent(path, opts);
      try {
        const target = await this.walkNames([name], { ...opts, from: dir });
        this.clunkQuietly(target.fid);
        const flags = target.qid.type & QTDIR ? AT_REMOVEDIR : 0;
        try {
          await this.rpc({ type: 'Tunlinkat', dirfid: dir.fid, name, flags }, opts);
          return;
        } catch (e) {
          if (!notSupported(e)) throw e;
        }
      } finally {
        this.clunkQuietly(dir.fid);
      }
    }
    // Tremove clunks the fid whether or not the remove succeeds (remove(5)).
    const f = await this.walk(path, opts);
    try {
      await this.rpc({ type: 'Tremove', fid: f.fid }, opts);
    } finally {
      if (!this.closed) this.releaseFid(f.fid);
    }
  }

  /**
   * Renames oldPath to newPath. 9P2000 and .u rename within a directory only (Twstat of the
   * name); .L also moves between directories (Trenameat, or Trename where that is missing).
   */
  async rename(oldPath: string, newPath: string, opts: CallOptions = {}): Promise<void> {
    const from = splitPath(oldPath);
    const to = splitPath(newPath);
    const oldName = from[from.length - 1];
    const newName = to[to.length - 1];
    if (oldName === undefined || newName === undefined) throw NinepError.local('cannot rename the root');
    if (this.dialect !== '9P2000.L') {
      if (from.slice(0, -1).join('/') !== to.slice(0, -1).join('/')) {
        throw NinepError.local(`${this.dialect} renames within a directory only`, Errno.EXDEV);
      }
      await this.withFid(oldPath, opts, async (f) => {
        const st = nullStat();
        st.name = newName;
        await this.rpc({ type: 'Twstat', fid: f.fid, stat: st }, opts);
      });
      return;
    }
    const odir = await this.walkNames(from.slice(0, -1), opts);
    try {
      const ndir = await this.walkNames(to.slice(0, -1), opts);
      try {
        try {
          await this.rpc({ type: 'Trenameat', olddirfid: odir.fid, oldname: oldName, newdirfid: ndir.fid, newname: newName }, opts);
        } catch (e) {
          if (!notSupported(e)) throw e;
          await this.withFid(oldPath, opts, async (f) => {
            await this.rpc({ type: 'Trename', fid: f.fid, dfid: ndir.fid, name: newName }, opts);
          });
        }
      } finally {
        this.clunkQuietly(ndir.fid);
      }
    } finally {
      this.clunkQuietly(odir.fid);
    }
  }

  // ---- files ----

  /** Opens a walked fid (which becomes the File's fid). mode: OREAD/OWRITE/ORDWR/OEXEC | OTRUNC | ORCLOSE. */
  async openFid(f: FidRef, mode: number, opts: CallOptions = {}): Promise<File> {
    if (this.dialect === '9P2000.L') {
      const r = await this.rpc({ type: 'Tlopen', fid: f.fid, flags: linuxFlags(mode) }, opts);
      return new File(this, f.fid, r.qid, ioSize(r.iounit, this.msize), mode);
    }
    const r = await this.rpc({ type: 'Topen', fid: f.fid, mode }, opts);
    return new File(this, f.fid, r.qid, ioSize(r.iounit, this.msize), mode);
  }

  /** Opens path; close the File when done. */
  async open(path: string, mode: number = OREAD, opts: CallOptions = {}): Promise<File> {
    const f = await this.walk(path, opts);
    try {
      return await this.openFid(f, mode, opts);
    } catch (e) {
      this.clunkQuietly(f.fid);
      throw e;
    }
  }

  /**
   * Creates and opens a file that must not exist yet. perm: 9P permission bits (DMDIR not
   * allowed here; use mkdir). mode as for open.
   */
  async create(path: string, perm = 0o644, mode: number = OWRITE, opts: CallOptions & { gid?: number } = {}): Promise<File> {
    if (perm & DMDIR) throw NinepError.local('use mkdir to make a directory');
    const { dir, name } = await this.walkParent(path, opts);
    try {
      if (this.dialect === '9P2000.L') {
        const flags = linuxFlags(mode) | L_O_CREAT | L_O_EXCL;
        const r = await this.rpc({ type: 'Tlcreate', fid: dir.fid, name, flags, mode: perm & 0o7777, gid: opts.gid ?? NONUNAME }, opts);
        return new File(this, dir.fid, r.qid, ioSize(r.iounit, this.msize), mode);
      }
      const r = await this.rpc({ type: 'Tcreate', fid: dir.fid, name, perm: perm >>> 0, mode, extension: '' }, opts);
      return new File(this, dir.fid, r.qid, ioSize(r.iounit, this.msize), mode);
    } catch (e) {
      this.clunkQuietly(dir.fid);
      throw e;
    }
  }

  /** The whole file, read with pipelined requests. */
  async readFile(path: string, opts: CallOptions = {}): Promise<Uint8Array> {
    const file = await this.open(path, OREAD, opts);
    try {
      return await file.readAll(opts);
    } finally {
      await file.close();
    }
  }

  /** Replaces (or creates) a file with data, written with pipelined requests. */
  async writeFile(path: string, data: Uint8Array | string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts: CallOptions & { perm?: number } = {}): Promise<bigint> {
    let file: File;
    try {
      file = await this.open(path, OWRITE | OTRUNC, opts);
    } catch (e) {
      if (!(e instanceof NinepError && e.kind === 'remote' && e.errno === Errno.ENOENT)) throw e;
      file = await this.create(path, opts.perm ?? 0o644, OWRITE, opts);
    }
    try {
      if (typeof data === 'string') data = new TextEncoder().encode(data);
      if (data instanceof Uint8Array) {
        await file.writeAt(0n, data, opts);
        return BigInt(data.length);
      }
      return await file.writeStream(data, opts);
    } finally {
      await file.close();
    }
  }
}

/**
 * An error reply to Tversion in whatever dialect the server speaks (diod answers a .u Tversion
 * with Rlerror, a .L-only message); undefined when the frame is no error reply at all.
 */
function decodeRefusal(frame: Uint8Array): Rmsg | undefined {
  for (const d of ['9P2000.L', '9P2000.u', '9P2000'] as const) {
    try {
      const m = decode(frame, d);
      if (m.type === 'Rlerror' || m.type === 'Rerror') return m;
    } catch {
      // try the next dialect
    }
  }
  return undefined;
}

/** The data bytes one Tread/Twrite may carry: the server's iounit, else msize - IOHDRSZ. */
function ioSize(iounit: number, msize: number): number {
  const max = msize - IOHDRSZ;
  return iounit > 0 && iounit < max ? iounit : max;
}

/** 9P open mode -> Linux open flags for Tlopen/Tlcreate. */
export function linuxFlags(mode: number): number {
  if (mode & ORCLOSE) throw NinepError.local('ORCLOSE has no 9P2000.L equivalent');
  let f: number;
  switch (mode & 3) {
    case OREAD: case OEXEC: f = L_O_RDONLY; break;
    case OWRITE: f = L_O_WRONLY; break;
    default: f = L_O_RDWR; break;
  }
  if (mode & OTRUNC) f |= L_O_TRUNC;
  return f;
}

function setattr(valid: number, v: { mode?: number; size?: bigint }) {
  return {
    valid, mode: v.mode ?? 0, uid: 0, gid: 0, size: v.size ?? 0n,
    atimeSec: 0n, atimeNsec: 0n, mtimeSec: 0n, mtimeNsec: 0n,
  };
}

function notSupported(e: unknown): boolean {
  return e instanceof NinepError && e.kind === 'remote' && (e.errno === Errno.EOPNOTSUPP || e.errno === Errno.ENOSYS);
}

