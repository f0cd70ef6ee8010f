// A 9P connection for protocol tests that care about order: every message received is kept, in
// arrival order, and nothing is matched for you beyond "the first reply with this tag after I sent
// it". Unlike RawConn (rawconn.ts) it lets a test send a tag that is still in flight, reuse a
// flushed tag whose reply never came, and see where each Rflush fell relative to other replies.
import { connect, type Socket } from 'node:net';
import {
  type Dialect, FrameReader, type Message, type MessageOf, type MessageType, type Tmsg, decode, encode,
  messageText,
} from '../../shared/ninep/index.ts';

type Waiter = { from: number; pred: (m: Message) => boolean; resolve: (m: Message) => void; reject: (e: Error) => void };

export class Wire {
  /** Every message received, in order. */
  readonly received: Message[] = [];
  /** Resolves when the socket has closed (either side). */
  readonly closed: Promise<void>;
  private readonly reader: FrameReader;
  private readonly waiters = new Set<Waiter>();
  private failure: Error | undefined;
  /** call() and tag() take tags from 0x4000 up, leaving the low ones to tests that pick their own. */
  private nextTag = 0x4000;

  private constructor(private readonly sock: Socket, public dialect: Dialect, msize: number) {
    this.reader = new FrameReader(msize);
    let done!: () => void;
    this.closed = new Promise((r) => { done = r; });
    sock.on('data', (chunk: Buffer) => {
      try {
        this.reader.push(chunk, (f) => this.deliver(decode(f, this.dialect)));
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)));
        sock.destroy();
      }
    });
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => { this.fail(new Error('connection closed')); done(); });
  }

  static open(port: number, dialect: Dialect = '9P2000', msize = 1 << 20): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port });
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        sock.setNoDelay(true);
        resolve(new Wire(sock, dialect, msize));
      });
    });
  }

  /** Opens a connection and negotiates `dialect`; rejects if the server answers otherwise. */
  static async versioned(port: number, dialect: Dialect, msize = 65536): Promise<Wire> {
    const w = await Wire.open(port, dialect, msize);
    const r = await w.rpc({ type: 'Tversion', tag: 0xffff, msize, version: dialect });
    if (r.type !== 'Rversion' || r.version !== dialect) throw new Error(`version: ${messageText(r)}`);
    return w;
  }

  /** A fresh tag (0x4000..0xfffe), never one this Wire handed out recently. */
  tag(): number {
    const t = this.nextTag;
    this.nextTag = t >= 0xfffe ? 0x4000 : t + 1;
    return t;
  }

  send(m: Message): number {
    this.sock.write(encode(m, this.dialect));
    return this.received.length;
  }

  writeRaw(bytes: Uint8Array): number {
    this.sock.write(bytes);
    return this.received.length;
  }

  /** The first message from index `from` on that satisfies pred. */
  waitFor(pred: (m: Message) => boolean, from = 0, timeoutMs = 15_000): Promise<Message> {
    for (let i = from; i < this.received.length; i++) if (pred(this.received[i])) return Promise.resolve(this.received[i]);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiters.delete(w); reject(new Error(`no matching message within ${timeoutMs} ms`)); }, timeoutMs);
      const w: Waiter = {
        from, pred,
        resolve: (m) => { clearTimeout(timer); resolve(m); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      this.waiters.add(w);
    });
  }

  /** Sends m and resolves with the first message carrying its tag received after that. */
  rpc(m: Message): Promise<Message> {
    const from = this.send(m);
    return this.waitFor((r) => r.tag === m.tag, from);
  }

  /** rpc with a fresh tag. */
  call(m: DistributiveOmit<Tmsg, 'tag'>): Promise<Message> {
    return this.rpc({ ...m, tag: this.tag() } as Tmsg);
  }

  /** Index of the first received message matching pred, or -1. */
  indexOf(pred: (m: Message) => boolean, from = 0): number {
    for (let i = from; i < this.received.length; i++) if (pred(this.received[i])) return i;
    return -1;
  }

  close(): void { this.sock.destroy(); }

  /** Half-closes: sends FIN after what was written. */
  end(): void { this.sock.end(); }

  private deliver(m: Message): void {
    this.received.push(m);
    const at = this.received.length - 1;
    for (const w of this.waiters) {
      if (at >= w.from && w.pred(m)) { this.waiters.delete(w); w.resolve(m); }
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiters) w.reject(e);
    this.waiters.clear();
  }
}

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Narrows a reply to the expected type, or throws with its trace text. */
export function expect<K extends MessageType>(m: Message, type: K): MessageOf<K> {
  if (m.type !== type) throw new Error(`expected ${type}, got ${messageText(m)}`);
  return m as MessageOf<K>;
}
