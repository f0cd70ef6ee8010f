// One client connection on the wire: version negotiation and the dialect, message validation,
// tags in flight and Tflush, the in-flight limit and the trace. What the requests mean is the
// Service's business (for .L clients of a canonical file system, a LinuxAdapter's).
import {
  type Dialect, HEADER_SIZE, MAX_MSIZE, type Message, type Rmsg, type Tmsg, ProtocolError, badRequestName,
  decode, encode, encodeHead, forwardableCost, frameTag, messageText, setFrameTag, stringToErrno, Errno,
} from '../ninep/index.ts';
import type { MessageTransport } from '../transport.ts';
import { Edupetag, Eunsupported, errorReply } from './errors.ts';
import { Cancel, type Service } from './service.ts';
import { errText } from '../errtext.ts';

export interface TraceEvent {
  conn: string;
  dir: '<-' | '->';
  text: string;
}

export interface SessionOptions {
  /** Largest msize offered (default 4 MiB). */
  maxMsize?: number;
  /** Requests in flight before the session stops reading (default 256). */
  maxInFlight?: number;
  /**
   * Bytes of replies not yet sent, plus what the requests in flight hold (a write's data) or may
   * still answer with (a read's count), past which the session stops reading requests (default
   * 16 MiB): a client that sends reads and never reads its socket, or writes to a mount that
   * stalls, costs this much memory, not msize times its requests.
   */
  maxUnsent?: number;
  /** Connection id used in trace events and log lines. */
  id?: string;
  trace?: (e: TraceEvent) => void;
  /** One line per notable event (a bad message, a closed connection). */
  log?: (line: string) => void;
}

interface InFlight {
  /** Its signal is made only if something reads it. */
  ctrl: Cancel;
  aborted: boolean;
  /** Tags of Tflush messages waiting for this request to finish. */
  flushes: number[];
  dropped: boolean;
  /** The service's answer, once the request has been handed to it. */
  answer: Promise<unknown> | null;
  /** Memory it holds or may answer with (see maxUnsent). */
  cost: number;
  /**
   * It makes a fid (Tattach, Tauth, Twalk, Txattrwalk): a flush waits for its answer, which goes
   * out before the Rflush, so the client learns of a fid the service made anyway (flush(5)).
   */
  makesFid: boolean;
}

const MAKES_FID: ReadonlySet<Tmsg['type']> = new Set<Tmsg['type']>(['Tattach', 'Tauth', 'Twalk', 'Txattrwalk']);

function inFlight(cost: number, makesFid: boolean): InFlight {
  return { ctrl: new Cancel(), aborted: false, flushes: [], dropped: false, answer: null, cost, makesFid };
}

const MIN_MSIZE = 256;
export const DEFAULT_MAX_UNSENT = 16 * 1024 * 1024;
/** Longest wait between looks at a send backlog that is draining (a transport has no drain event). */
const MAX_BACKLOG_POLL_MS = 64;
/** Held requests, and bytes of reads and writes, started per turn of the event loop (see startHeld). */
const HELD_PER_TURN = 32;
const TURN_BYTES = 4 * 1024 * 1024;
/**
 * Rread and Rreaddir data from this size on goes to a transport that sends split (a socket) after
 * its own small head, not copied into a new frame: for 64 KiB reads that copy, its allocation and
 * the garbage it leaves were a third of serve's work. The data must not change until it has gone:
 * /ram's chunks lent to a reply are copied before they change (Tree).
 */
const SPLIT_DATA = 4096;
/** Rread and Rreaddir: size[4] type[1] tag[2] count[4] data[count]. */
const DATA_HEAD = 11;

/**
 * The memory a request holds while in flight: the data of a write, or the most a read may answer
 * with; the rest are small.
 */
function cost(t: Tmsg, msize: number): number {
  if (t.type === 'Tread' || t.type === 'Treaddir') return Math.min(t.count, msize);
  return t.type === 'Twrite' ? t.data.length : 0;
}

/** The service's answer: a message, or a reply frame it passed on as bytes (Service.forward). */
type Answer = Rmsg | Uint8Array;

export class Session {
  dialect: Dialect | null = null;
  msize: number;
  readonly id: string;
  readonly done: Promise<void>;
  private readonly maxMsize: number;
  private readonly maxInFlight: number;
  private readonly inflight = new Map<number, InFlight>();
  /**
   * Tags of dropped requests (flushed, or cut off by Tversion) that the service is still working
   * on, each with a promise that settles when it is done. The client may reuse such a tag at once,
   * but services match replies to requests by tag: a new request with that tag waits here until
   * the old one settles, so the old reply can never be taken for the new one's.
   */
  private readonly zombies = new Map<number, Promise<void>>();
  private readonly maxUnsent: number;
  /** Requests read but not started: the in-flight or the unsent limit holds them, in order. */
  private readonly held: Tmsg[] = [];
  /** Sum of the costs of the requests in flight. */
  private reserved = 0;
  private backlogTimer: ReturnType<typeof setTimeout> | null = null;
  /** Bytes of reads and writes started in this turn of the event loop (see turnFull). */
  private turnBytes = 0;
  /** A timer will zero turnBytes when this turn is over. */
  private turnEnds = false;
  /** The next batch of held requests, when one is due. */
  private turn: ReturnType<typeof setTimeout> | null = null;
  private backlogPollMs = 1;
  private paused = false;
  private closed = false;
  private resolveDone!: () => void;
  /**
   * When the last whole message came or a reply went (Date.now()): a listener short of slots
   * closes the connection idle the longest.
   */
  lastActive = Date.now();

  constructor(private readonly transport: MessageTransport, private readonly service: Service, private readonly opts: SessionOptions = {}) {
    this.maxMsize = Math.min(opts.maxMsize ?? MAX_MSIZE, MAX_MSIZE);
    this.msize = this.maxMsize;
    this.maxInFlight = opts.maxInFlight ?? 256;
    this.maxUnsent = opts.maxUnsent ?? DEFAULT_MAX_UNSENT;
    this.id = opts.id ?? '0';
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
    transport.onMessage((frame) => this.receive(frame));
    // A ProtocolError from the framing (a size field out of range, a message cut off by the
    // close) is the peer's bad input, not a lost connection.
    transport.onClose((err) => this.shutdown(err ? `${err instanceof ProtocolError ? 'bad message' : 'connection lost'}: ${err.message}` : undefined));
  }

  get inFlight(): number { return this.inflight.size; }

  /** Ends the session: pending requests are dropped, the service releases its fids. */
  close(reason?: string): void {
    if (this.closed) return;
    this.transport.close(reason);
    this.shutdown(reason);
  }

  private shutdown(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) this.opts.log?.(`9p[${this.id}]: ${reason}`);
    for (const f of this.inflight.values()) { f.dropped = true; if (!f.aborted) { f.aborted = true; f.ctrl.abort(); } }
    this.inflight.clear();
    this.held.length = 0;
    if (this.backlogTimer) clearTimeout(this.backlogTimer);
    if (this.turn) clearTimeout(this.turn);
    this.service.close();
    this.resolveDone();
  }

  private receive(frame: Uint8Array): void {
    if (this.closed) return;
    this.lastActive = Date.now();
    let m: Message;
    try {
      if (frame.length < HEADER_SIZE || frame.length > this.msize) {
        throw new ProtocolError('too-large', `message of ${frame.length} bytes exceeds msize ${this.msize}`);
      }
      if (this.forwarded(frame)) return;
      m = decode(frame, this.dialect ?? '9P2000');
    } catch (e) {
      if (e instanceof ProtocolError && e.code === 'unknown-type' && e.tag !== undefined && this.dialect && (e.msgType ?? 1) % 2 === 0) {
        this.send(this.error(e.tag, Eunsupported, Errno.EOPNOTSUPP));
        return;
      }
      this.close(`bad message: ${errText(e)}`);
      return;
    }
    if (this.opts.trace) this.opts.trace({ conn: this.id, dir: '<-', text: messageText(m) });
    if (m.type[0] !== 'T') {
      this.close(`bad message: ${m.type} sent by a client`);
      return;
    }
    const t = m as Tmsg;
    if (t.type === 'Tversion') return this.version(t);
    if (!this.dialect) {
      this.send({ type: 'Rerror', tag: t.tag, ename: 'version not negotiated', errno: Errno.EPROTO });
      return;
    }
    // A flush is never held: it may be what frees room for the requests that are.
    if (t.type === 'Tflush') return this.flush(t.tag, t.oldtag);
    if (this.held.length > 0 || !this.room(t)) {
      this.held.push(t);
      this.hold();
      return;
    }
    if (this.turnFull(t)) {
      this.held.push(t);
      this.hold();
      this.startHeld();
      return;
    }
    this.admit(t);
  }

  /**
   * A request the service takes as its frame (Service.forward), started without being decoded;
   * false leaves it to the decoded path, which also takes whatever must wait or be refused (a
   * duplicate tag, a tag still answering a dropped request, no room, a traced session).
   */
  private forwarded(frame: Uint8Array): boolean {
    if (this.dialect === null || !this.service.forward || this.opts.trace || this.held.length > 0) return false;
    let c = forwardableCost(frame);
    if (c < 0) return false;
    c = Math.min(c, this.msize);
    const tag = frameTag(frame);
    if (this.inflight.has(tag) || this.zombies.has(tag) || !this.roomFor(c)) return false;
    const turnBytes = this.turnBytes;
    if (this.turnFullFor(c)) return false;
    const entry = inFlight(c, false);
    const p = this.service.forward(frame, entry.ctrl);
    if (!p) {
      this.turnBytes = turnBytes; // the decoded path counts it
      return false;
    }
    this.inflight.set(tag, entry);
    this.reserved += c;
    this.awaitAnswer(tag, entry, p);
    return true;
  }

  /**
   * Whether t would take this turn of the event loop past TURN_BYTES of reads and writes started:
   * answering 1 MiB reads back to back, one client would hold the loop for all of them.
   */
  private turnFull(t: Tmsg): boolean {
    return this.turnFullFor(cost(t, this.msize));
  }

  private turnFullFor(c: number): boolean {
    if (c === 0) return false;
    if (this.turnBytes > 0 && this.turnBytes + c > TURN_BYTES) return true;
    if (!this.turnEnds) {
      this.turnEnds = true;
      setTimeout(() => {
        this.turnBytes = 0;
        this.turnEnds = false;
      }, 0);
    }
    this.turnBytes += c;
    return false;
  }

  /** Whether t may start now: in flight and unsent bytes under their limits. */
  private room(t: Tmsg): boolean {
    return this.roomFor(cost(t, this.msize));
  }

  private roomFor(c: number): boolean {
    if (this.inflight.size >= this.maxInFlight) return false;
    const backlog = this.transport.backlog?.() ?? 0;
    if (backlog >= this.maxUnsent) return false;
    // Nothing in flight: one request may start whatever its size, or a large msize could never read.
    return this.inflight.size === 0 || backlog + this.reserved + c <= this.maxUnsent;
  }

  /** Stops reading while requests are held; looks again when the send backlog may have drained. */
  private hold(): void {
    if (!this.paused && this.transport.pause) {
      this.paused = true;
      this.transport.pause();
    }
    // Finishing requests look at the held ones; with none in flight only the backlog can change.
    if (this.inflight.size === 0 && !this.backlogTimer) {
      this.backlogTimer = setTimeout(() => {
        this.backlogTimer = null;
        this.backlogPollMs = Math.min(this.backlogPollMs * 2, MAX_BACKLOG_POLL_MS);
        this.admitHeld();
      }, this.backlogPollMs);
    }
  }

  /**
   * A request finished: held ones may start. They start in a later turn of the event loop, a
   * batch at a time, not in this chain of promise callbacks: a client that sent thousands of
   * requests in one write would otherwise hold the loop for all of them, and every other client
   * would wait.
   */
  private startHeld(): void {
    if (this.closed) return;
    if (this.held.length === 0) {
      this.readAgain();
      return;
    }
    this.turn ??= setTimeout(() => {
      this.turn = null;
      this.admitHeld();
    }, 0);
  }

  /** Starts up to a batch of held requests while there is room, and reads again once none are held. */
  private admitHeld(): void {
    if (this.closed) return;
    for (let n = 0; n < HELD_PER_TURN && this.held.length > 0 && this.room(this.held[0]) && !this.turnFull(this.held[0]); n++) {
      this.admit(this.held.shift()!);
    }
    if (this.held.length === 0) this.readAgain();
    else if (this.room(this.held[0])) this.startHeld();
    else this.hold();
  }

  private readAgain(): void {
    this.backlogPollMs = 1;
    if (this.paused) {
      this.paused = false;
      this.transport.resume?.();
    }
  }

  private admit(t: Tmsg): void {
    if (this.inflight.has(t.tag)) {
      this.send(this.error(t.tag, Edupetag, Errno.EBUSY));
      return;
    }
    const bad = badRequestName(t);
    if (bad) {
      this.send(this.error(t.tag, bad, Errno.EINVAL));
      return;
    }
    this.dispatch(t);
  }

  private version(t: Extract<Tmsg, { type: 'Tversion' }>): void {
    // A Tversion aborts everything outstanding and starts a new session (version(5)).
    for (const [tag, f] of this.inflight) this.drop(tag, f);
    this.inflight.clear();
    this.reserved = 0;
    this.held.length = 0;
    const v = t.version;
    const dialect: Dialect | null = v.startsWith('9P2000.L') ? '9P2000.L' : v.startsWith('9P2000.u') ? '9P2000.u' : v.startsWith('9P2000') ? '9P2000' : null;
    const msize = Math.min(t.msize, this.maxMsize);
    if (!dialect || msize < MIN_MSIZE) {
      this.dialect = null;
      this.send({ type: 'Rversion', tag: t.tag, msize, version: 'unknown' });
      return;
    }
    this.dialect = dialect;
    this.msize = msize;
    this.service.version(dialect, msize);
    this.send({ type: 'Rversion', tag: t.tag, msize, version: dialect });
  }

  private dispatch(t: Tmsg): void {
    const entry = inFlight(cost(t, this.msize), MAKES_FID.has(t.type));
    this.inflight.set(t.tag, entry);
    this.reserved += entry.cost;
    const prior = this.zombies.size === 0 ? undefined : this.zombies.get(t.tag);
    if (prior === undefined) this.start(t, entry);
    else void prior.then(() => { if (!entry.dropped && !this.closed) this.start(t, entry); });
  }

  private start(t: Tmsg, entry: InFlight): void {
    this.awaitAnswer(t.tag, entry, this.service.call(t, entry.ctrl));
  }

  /** The service's answer to a request in flight, decoded or passed on as bytes, is its reply. */
  private awaitAnswer(tag: number, entry: InFlight, p: Promise<Answer>): void {
    entry.answer = p;
    p.then(
      (r) => this.finish(tag, entry, r),
      (e: unknown) => this.finish(tag, entry, errorReply(tag, e)),
    );
  }

  /** Gives up on a request: its reply, if it ever comes, is not sent; its tag waits for it. */
  private drop(tag: number, entry: InFlight): void {
    entry.dropped = true;
    if (!entry.aborted) { entry.aborted = true; entry.ctrl.abort(); }
    if (!entry.answer) return;
    const settled = entry.answer.then(() => {}, () => {});
    this.zombies.set(tag, settled);
    void settled.then(() => { if (this.zombies.get(tag) === settled) this.zombies.delete(tag); });
  }

  private finish(tag: number, entry: InFlight, r: Answer): void {
    if (entry.dropped || this.closed) return;
    this.forget(tag, entry);
    if (r instanceof Uint8Array) this.sendForwarded(tag, r);
    else {
      if (r.tag !== tag) r = { ...r, tag };
      if (r.type === 'Rerror' && this.dialect !== '9P2000') r = this.error(tag, r.ename, r.errno || stringToErrno(r.ename));
      this.send(r);
    }
    for (const ft of entry.flushes) this.send({ type: 'Rflush', tag: ft });
    this.startHeld();
  }

  /** A request leaves the in-flight table, and its reply's room is given back. */
  private forget(tag: number, entry: InFlight): void {
    this.inflight.delete(tag);
    this.reserved -= entry.cost;
  }

  private flush(tag: number, oldtag: number): void {
    const old = this.inflight.get(oldtag);
    if (!old || oldtag === tag) {
      // A held request was never started: it is simply forgotten (flush(5)).
      const i = this.held.findIndex((h) => h.tag === oldtag);
      if (i >= 0 && oldtag !== tag) this.held.splice(i, 1);
      this.send({ type: 'Rflush', tag });
      return;
    }
    old.flushes.push(tag);
    if (old.aborted) return;
    old.aborted = true;
    old.ctrl.abort();
    // A request that makes a fid is answered whenever it settles, then flushed: dropping it would
    // leave the client not knowing of a fid the service made all the same.
    if (old.makesFid) return;
    // A handler that answers as soon as it sees the abort is answered; otherwise the request is
    // dropped. Either way its reply (if any) goes out before the Rflush.
    setTimeout(() => {
      if (this.inflight.get(oldtag) !== old || this.closed) return;
      this.drop(oldtag, old);
      this.forget(oldtag, old);
      for (const ft of old.flushes) this.send({ type: 'Rflush', tag: ft });
      this.startHeld();
    }, 0);
  }

  private error(tag: number, ename: string, errno: number): Rmsg {
    return this.dialect === '9P2000.L' ? { type: 'Rlerror', tag, ecode: errno } : { type: 'Rerror', tag, ename, errno };
  }

  /** A reply frame passed on as bytes, under the request's tag. */
  private sendForwarded(tag: number, frame: Uint8Array): void {
    if (frame.length > this.msize) return this.send(this.error(tag, 'reply larger than msize', Errno.EMSGSIZE));
    setFrameTag(frame, tag);
    this.transmit(frame);
  }

  private send(r: Rmsg): void {
    if (this.closed) return;
    if (this.opts.trace) this.opts.trace({ conn: this.id, dir: '->', text: messageText(r) });
    if ((r.type === 'Rread' || r.type === 'Rreaddir') && r.data.length >= SPLIT_DATA && this.transport.sendSplit
      && DATA_HEAD + r.data.length <= this.msize) {
      this.sendData(r);
      return;
    }
    let frame: Uint8Array;
    try {
      frame = encode(r, this.dialect ?? '9P2000');
    } catch (e) {
      // A reply that cannot be encoded (a program's bad stat, an overlong string) is an error reply.
      const msg = errText(e);
      this.opts.log?.(`9p[${this.id}]: cannot encode ${r.type}: ${msg}`);
      frame = encode(this.error(r.tag, `server error: ${msg}`, Errno.EIO), this.dialect ?? '9P2000');
    }
    if (frame.length > this.msize) {
      frame = encode(this.error(r.tag, 'reply larger than msize', Errno.EMSGSIZE), this.dialect ?? '9P2000');
    }
    this.transmit(frame);
  }

  private transmit(frame: Uint8Array): void {
    if (this.closed) return;
    this.lastActive = Date.now();
    try {
      this.transport.send(frame);
    } catch (e) {
      this.shutdown(`send failed: ${errText(e)}`);
    }
  }

  /** Sends an Rread or Rreaddir as its head and its data (see SPLIT_DATA). */
  private sendData(r: Extract<Rmsg, { type: 'Rread' | 'Rreaddir' }>): void {
    this.lastActive = Date.now();
    try {
      this.transport.sendSplit!(encodeHead(r, this.dialect ?? '9P2000'), r.data);
    } catch (e) {
      this.shutdown(`send failed: ${errText(e)}`);
    }
  }
}
