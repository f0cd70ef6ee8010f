// The local 9P server: listens on TCP and unix sockets and gives every connection a Session over
// its own view of the file server (the namespace).
import type { Server, Socket } from 'node:net';
import { MAX_MSIZE } from '../../shared/ninep/index.ts';
import { type FileServer, LinuxAdapter, Session, type TraceEvent } from '../../shared/styx/index.ts';
import { type DialTarget, parseDialString } from '../net/dial.ts';
import { listenOn } from '../net/listen.ts';
import { socketTransport } from '../net/transport.ts';

export interface ListenerOptions {
  /** Largest msize offered (default 4 MiB). */
  msize?: number;
  maxInFlight?: number;
  /** See SessionOptions.maxUnsent. */
  maxUnsent?: number;
  maxConnections?: number;
  /** A connection that has not sent Tversion this long after connecting is closed. */
  versionTimeoutMs?: number;
  /** With every slot taken, a connection idle (nothing in flight, no message) this long is
   * closed to make room for a new one. */
  idleTimeoutMs?: number;
  trace?: (e: TraceEvent) => void;
  log?: (line: string) => void;
}

export const DEFAULT_MAX_CONNECTIONS = 256;
/** Generous: QEMU connects about 8 s before its guest's kernel sends Tversion. */
export const DEFAULT_VERSION_TIMEOUT_MS = 30_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

export class NinepListener {
  private readonly servers: Server[] = [];
  private readonly sessions = new Set<Session>();
  private readonly sockets = new Set<Socket>();
  private nextId = 1;
  /** Counters for the status page. */
  readonly stats = { accepted: 0, refused: 0, badInput: 0, evicted: 0, versionTimeouts: 0 };

  constructor(private readonly fs: FileServer, private readonly opts: ListenerOptions = {}) {}

  get connections(): number { return this.sessions.size; }

  /** Starts listening on each dial string; resolves with the addresses actually bound. */
  async listen(addresses: string[]): Promise<string[]> {
    const bound: string[] = [];
    for (const a of addresses) bound.push(await this.listenOne(parseDialString(a, 5640)));
    return bound;
  }

  private async listenOne(target: DialTarget): Promise<string> {
    const { server, bound } = await listenOn(target, (sock) => this.accept(sock), (e) => this.opts.log?.(`9p: listener error: ${e.message}`));
    this.servers.push(server);
    return bound;
  }

  private accept(sock: Socket): void {
    const max = this.opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (this.sessions.size >= max && !this.evictIdle()) {
      this.stats.refused++;
      this.opts.log?.(`9p: refused a connection from ${sock.remoteAddress ?? 'unix'}: ${max} connections already, none idle`);
      sock.destroy();
      return;
    }
    sock.on('error', () => {}); // reported through the transport's close
    this.stats.accepted++;
    const id = String(this.nextId++);
    const msize = Math.min(this.opts.msize ?? MAX_MSIZE, MAX_MSIZE);
    // Frames up to msize; until Tversion the client could claim any size, so the cap is ours.
    const transport = socketTransport(sock, { maxMessageSize: msize });
    const log = this.opts.log;
    // The whole stack of a connection: socket framing, the wire session (tags, flush, limits),
    // the .L translation, and this connection's view of the file server.
    const session = new Session(transport, new LinuxAdapter(this.fs.connect()), {
      id, maxMsize: msize, maxInFlight: this.opts.maxInFlight, maxUnsent: this.opts.maxUnsent, trace: this.opts.trace,
      log: (line) => {
        if (line.includes('bad message')) this.stats.badInput++;
        log?.(line);
      },
    });
    this.sessions.add(session);
    this.sockets.add(sock);
    const versionMs = this.opts.versionTimeoutMs ?? DEFAULT_VERSION_TIMEOUT_MS;
    const noVersion = setTimeout(() => {
      if (session.dialect !== null) return;
      this.stats.versionTimeouts++;
      session.close(`no Tversion within ${versionMs} ms of connecting`);
    }, versionMs);
    void session.done.then(() => {
      clearTimeout(noVersion);
      this.sessions.delete(session);
      this.sockets.delete(sock);
    });
  }

  /** Closes the connection idle the longest, if one has been idle long enough; true if it did. */
  private evictIdle(): boolean {
    const idleMs = this.opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    const now = Date.now();
    let victim: Session | null = null;
    for (const s of this.sessions) {
      if (s.inFlight === 0 && now - s.lastActive >= idleMs && (!victim || s.lastActive < victim.lastActive)) victim = s;
    }
    if (!victim) return false;
    this.stats.evicted++;
    victim.close(`idle for ${Math.round((now - victim.lastActive) / 1000)} s and every slot is taken: closed for a new client`);
    this.sessions.delete(victim);
    return true;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    // server.close() resolves only once every connection has ended, so end them after starting it.
    const stopped = Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const s of this.sessions) s.close('server shutting down');
    for (const s of this.sockets) s.destroy();
    await stopped;
  }
}
