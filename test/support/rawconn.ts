// A bare 9P connection for tests: the codec over a node:net socket, no client library in between.
// request() sends one message and resolves with the reply carrying the same tag.
import { connect, type Socket } from 'node:net';
import {
  type Dialect, FrameReader, type Message, type MessageOf, type MessageType, decode, encode, messageText,
} from '../../shared/ninep/index.ts';

export class RawConn {
  private readonly frames: FrameReader;
  private readonly pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  private nextTag = 1;
  private failure: Error | undefined;
  /** Replies whose tag nobody was waiting for (a test can assert this stays empty). */
  readonly stray: Message[] = [];

  private constructor(private readonly sock: Socket, public dialect: Dialect, msize: number) {
    this.frames = new FrameReader(msize);
    sock.on('data', (chunk: Buffer) => {
      try {
        this.frames.push(chunk, (f) => this.deliver(decode(f, this.dialect)));
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)));
        sock.destroy();
      }
    });
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Connects to host:port; frames larger than msize are refused. */
  static open(port: number, host = '127.0.0.1', dialect: Dialect = '9P2000.L', msize = 1 << 20): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host, port });
      const onError = (e: Error): void => reject(e);
      sock.once('error', onError);
      sock.once('connect', () => {
        sock.off('error', onError);
        sock.setNoDelay(true);
        resolve(new RawConn(sock, dialect, msize));
      });
    });
  }

  /** A tag not in flight, never NOTAG. */
  tag(): number {
    for (let i = 0; i < 0xffff; i++) {
      const t = this.nextTag;
      this.nextTag = t === 0xfffe ? 1 : t + 1;
      if (!this.pending.has(t)) return t;
    }
    throw new Error('all tags in flight');
  }

  /** Sends m (its tag as given) and resolves with the reply of that tag; rejects after timeoutMs. */
  request(m: Message, timeoutMs = 10_000): Promise<Message> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending.has(m.tag)) return Promise.reject(new Error(`tag ${m.tag} already in flight`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(m.tag);
        reject(new Error(`no reply to ${m.type} tag ${m.tag} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(m.tag, {
        resolve: (r) => { clearTimeout(timer); resolve(r); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.sock.write(encode(m, this.dialect));
    });
  }

  /** Writes raw bytes (for malformed-input tests). */
  writeRaw(bytes: Uint8Array): void { this.sock.write(bytes); }

  close(): void {
    this.sock.destroy();
  }

  private deliver(m: Message): void {
    const p = this.pending.get(m.tag);
    if (!p) { this.stray.push(m); return; }
    this.pending.delete(m.tag);
    p.resolve(m);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

/** Narrows a reply to the expected type, or throws with the reply's trace text. */
export function as<K extends MessageType>(m: Message, type: K): MessageOf<K> {
  if (m.type !== type) throw new Error(`expected ${type}, got ${messageText(m)}`);
  return m as MessageOf<K>;
}
