// One 9P connection shared by a Client (which encodes and decodes) and a server forwarding
// requests as bytes (a mount passing a .L client's Tread on to a .L remote with only tag and fid
// rewritten, its reply sent back without a copy). The wire's tags are given out here, so the two
// never meet: the Client's frames get a wire tag on the way out and their own back on the way
// in. A reply that answers nothing sent, or does not fit the forwarded request it answers, ends
// the connection with a ProtocolError, as the Client would end it for its own requests.
import type { MessageTransport } from '../transport.ts';
import { MsgType, NOTAG } from './constants.ts';
import { ProtocolError } from './errors.ts';
import { frameTag, forwardedReplyProblem, frameType, requestedBytes, setFrameTag } from './rawframe.ts';

/** A request forwarded as bytes, told its reply frame or why none will come (once). */
export interface ForwardedCall {
  reply(frame: Uint8Array): void;
  /** The connection went: a ProtocolError when the remote broke the protocol. */
  fail(e: Error): void;
  /** Its flush was answered before any reply. */
  cancelled(): void;
}

/** The tag space left to the Client: forwarding stops taking wire tags past this many in use. */
const FORWARD_TAG_LIMIT = 0x8000;

interface Entry {
  /** The Client's tag (a Client frame), or the forwarded request. */
  ctag: number;
  call: ForwardedCall | null;
  /** Forwarded: the request's type and its count (what the reply is checked against). */
  type: number;
  bytes: number;
  /** A Tflush for it went out: the tag stays taken until that is answered. */
  flushed: boolean;
  replied: boolean;
  /** A Tflush: the wire tag it flushes, freed with it. */
  flushes: number;
}

export class TagMux {
  private readonly tags = new Map<number, Entry>();
  /** The Client's tags in flight, to their wire tags (for the oldtag of its Tflush). */
  private readonly clientTags = new Map<number, number>();
  private next = 0;
  private closed = false;
  private violation: ProtocolError | null = null;
  private toClient: (frame: Uint8Array) => void = () => {};
  private clientClosed: ((err?: Error) => void) | null = null;
  private closeErr: Error | undefined;
  /** The transport the Client is given. */
  readonly clientEnd: MessageTransport;

  constructor(private readonly wire: MessageTransport) {
    wire.onMessage((f) => this.receive(f));
    wire.onClose((err) => this.ended(err));
    this.clientEnd = {
      send: (f) => this.fromClient(f),
      sendSplit: wire.sendSplit && ((head, data) => this.fromClient(head, data)),
      onMessage: (cb) => { this.toClient = cb; },
      onClose: (cb) => {
        if (this.closed) cb(this.closeErr);
        else this.clientClosed = cb;
      },
      close: (reason) => wire.close(reason),
      pause: wire.pause && (() => wire.pause!()),
      resume: wire.resume && (() => wire.resume!()),
      backlog: wire.backlog && (() => wire.backlog!()),
    };
  }

  /** A wire tag not in use, or -1. */
  private take(): number {
    if (this.tags.size >= NOTAG) return -1;
    for (;;) {
      const t = this.next;
      this.next = (t + 1) % NOTAG;
      if (!this.tags.has(t)) return t;
    }
  }

  /** A Client frame, or a Client message's head with its data (sendSplit). */
  private fromClient(f: Uint8Array, data?: Uint8Array): void {
    if (this.closed || this.violation) throw new Error('connection closed');
    const ctag = frameTag(f);
    if (ctag === NOTAG) { this.wire.send(f); return; } // Tversion
    const w = this.take();
    if (w < 0) throw new Error('no 9P tag free on the connection');
    let flushes = -1;
    if (frameType(f) === MsgType.Tflush) {
      const old = f[7] | (f[8] << 8);
      flushes = this.clientTags.get(old) ?? -1;
      if (flushes >= 0) {
        this.tags.get(flushes)!.flushed = true;
        f[7] = flushes & 0xff;
        f[8] = flushes >>> 8;
      }
    }
    this.tags.set(w, { ctag, call: null, type: 0, bytes: 0, flushed: false, replied: false, flushes });
    this.clientTags.set(ctag, w);
    setFrameTag(f, w);
    if (data) this.wire.sendSplit!(f, data);
    else this.wire.send(f);
  }

  /**
   * Sends a request frame as it is but for its tag, which becomes a wire tag; the caller has set
   * its fids. Returns the wire tag (for flush and outstanding), or -1 when it was not sent.
   */
  forward(f: Uint8Array, call: ForwardedCall): number {
    if (this.closed || this.violation || this.tags.size >= FORWARD_TAG_LIMIT) return -1;
    const w = this.take();
    this.tags.set(w, { ctag: -1, call, type: frameType(f), bytes: requestedBytes(f), flushed: false, replied: false, flushes: -1 });
    setFrameTag(f, w);
    try {
      this.wire.send(f);
    } catch {
      this.tags.delete(w);
      return -1;
    }
    return w;
  }

  /** Flushes the forwarded request out under wire tag w; its call fails if Rflush beats its reply. */
  flush(w: number, call: ForwardedCall): void {
    const e = this.tags.get(w);
    if (this.closed || !e || e.call !== call || e.flushed || e.replied) return;
    const ft = this.take();
    if (ft < 0) return;
    e.flushed = true;
    this.tags.set(ft, { ctag: -1, call: null, type: MsgType.Tflush, bytes: 0, flushed: false, replied: false, flushes: w });
    const f = new Uint8Array(9);
    f[0] = 9;
    f[4] = MsgType.Tflush;
    setFrameTag(f, ft);
    f[7] = w & 0xff;
    f[8] = w >>> 8;
    try {
      this.wire.send(f);
    } catch {
      // closed: ended() fails the call
    }
  }

  /** Whether call, out under wire tag w, still waits for the remote (its reply or its Rflush). */
  outstanding(w: number, call: ForwardedCall): boolean {
    return this.tags.get(w)?.call === call;
  }

  private receive(f: Uint8Array): void {
    if (this.closed || this.violation) return;
    const w = frameTag(f);
    if (w === NOTAG) { this.toClient(f); return; } // Rversion
    const e = this.tags.get(w);
    if (!e) return this.broken(`reply with tag ${w}, which no request has`);
    if (e.call) {
      const why = forwardedReplyProblem(f, e.type, e.bytes);
      if (why) return this.broken(why);
    }
    if (e.flushed) {
      // Answered before its flush: the tag stays taken until the Rflush.
      if (e.replied) return this.broken(`second reply to tag ${w}`);
      e.replied = true;
    } else this.free(w, e);
    if (e.flushes >= 0) {
      const target = this.tags.get(e.flushes);
      if (target?.flushed) {
        this.free(e.flushes, target);
        if (target.call && !target.replied) target.call.cancelled();
      }
    }
    if (e.call) e.call.reply(f);
    else if (e.ctag >= 0) {
      setFrameTag(f, e.ctag);
      this.toClient(f);
    }
  }

  private free(w: number, e: Entry): void {
    this.tags.delete(w);
    if (e.ctag >= 0 && this.clientTags.get(e.ctag) === w) this.clientTags.delete(e.ctag);
  }

  /** The remote broke the protocol: the connection ends, and everyone is told why. */
  private broken(why: string): void {
    this.violation = new ProtocolError('bad-reply', why);
    this.wire.close('protocol error');
  }

  private ended(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeErr = this.violation ?? err;
    const calls = [...this.tags.values()];
    this.tags.clear();
    this.clientTags.clear();
    const why = this.closeErr ?? new Error('connection closed');
    for (const e of calls) if (e.call && !e.replied) e.call.fail(why);
    const cb = this.clientClosed;
    this.clientClosed = null;
    cb?.(this.closeErr);
  }
}
