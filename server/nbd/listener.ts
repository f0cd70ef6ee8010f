// `styxlab serve --nbd`: listens on TCP and unix sockets and gives every connection a
// ServerSession over the exports.
import type { Server, Socket } from 'node:net';
import type { Export } from '../../shared/nbd/device.ts';
import { type ServerLimits, ServerSession } from '../../shared/nbd/server-session.ts';
import { type DialTarget, parseDialString } from '../net/dial.ts';
import { listenOn } from '../net/listen.ts';
import { socketByteStream } from './socket-stream.ts';

export const NBD_PORT = 10809;
export const DEFAULT_NBD_ADDRESS = `tcp!127.0.0.1!${NBD_PORT}`;
export const DEFAULT_NBD_CONNECTIONS = 64;

export interface NbdListenerOptions {
  limits?: Partial<ServerLimits>;
  maxConnections?: number;
  trace?: (conn: string, dir: '<-' | '->', text: string) => void;
  log?: (line: string) => void;
}

export class NbdListener {
  private readonly servers: Server[] = [];
  private readonly sessions = new Map<ServerSession, Socket>();
  private nextId = 1;
  readonly stats = { accepted: 0, refused: 0 };

  constructor(private readonly exports: () => readonly Export[], private readonly opts: NbdListenerOptions = {}) {}

  get connections(): number { return this.sessions.size; }

  /** Starts listening on each dial string (port 10809 when none is given); resolves with what was bound. */
  async listen(addresses: string[]): Promise<string[]> {
    const bound: string[] = [];
    for (const a of addresses) bound.push(await this.listenOne(parseDialString(a, NBD_PORT)));
    return bound;
  }

  private async listenOne(target: DialTarget): Promise<string> {
    const { server, bound } = await listenOn(target, (sock) => this.accept(sock), (e) => this.opts.log?.(`nbd: listener error: ${e.message}`));
    this.servers.push(server);
    return bound;
  }

  private accept(sock: Socket): void {
    const max = this.opts.maxConnections ?? DEFAULT_NBD_CONNECTIONS;
    if (this.sessions.size >= max) {
      this.stats.refused++;
      this.opts.log?.(`nbd: refused a connection from ${sock.remoteAddress ?? 'unix'}: ${max} connections already`);
      sock.destroy();
      return;
    }
    this.stats.accepted++;
    const id = String(this.nextId++);
    const trace = this.opts.trace;
    const session = new ServerSession(socketByteStream(sock), {
      id, exports: this.exports, limits: this.opts.limits, log: this.opts.log,
      trace: trace ? (dir, text) => trace(id, dir, text) : undefined,
    });
    this.sessions.set(session, sock);
    void session.done.then(() => this.sessions.delete(session));
  }

  /** Stops listening; connections finish the requests in flight, then close. */
  async close(): Promise<void> {
    const stopped = Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const s of this.sessions.keys()) s.shutdown();
    // A client that never reads would hold the close forever; 2 s is plenty for in-flight replies.
    const t = setTimeout(() => { for (const sock of this.sessions.values()) sock.destroy(); }, 2000);
    await Promise.all([...this.sessions.keys()].map((s) => s.done));
    clearTimeout(t);
    await stopped;
  }
}
