// The HTTP side of `styxlab serve`: the web app, a JSON status endpoint, the gateway
// (/gateway/NAME) and the mount endpoint (/mount?name=NAME), on one port, secure by default.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_MSIZE } from '../../shared/ninep/index.ts';
import { LinuxAdapter, Session } from '../../shared/styx/index.ts';
import { type WebSocketLike, webSocketTransport } from '../../shared/net/websocket.ts';
import type { MessageTransport } from '../../shared/transport.ts';
import { ServerSession } from '../../shared/nbd/server-session.ts';
import { webSocketByteStream } from '../../shared/nbd/websocket-stream.ts';
import type { Namespace } from '../namespace/namespace.ts';
import type { PageDevices } from '../nbd/page-device.ts';
import { type Backend, LOCAL_BACKEND, LOCAL_NBD_BACKEND } from './backends.ts';
import { Close, closeReason } from '../../shared/mount/closecodes.ts';
import { type RelayStats, guardMessages, relay } from './gateway.ts';
import { PageMounts } from './mount-endpoint.ts';
import { Security, redactTarget, requestUrl } from './security.ts';
import { serveStatic } from './static.ts';

export interface HttpOptions {
  host: string;
  port: number;
  backends: Backend[];
  /** Required off loopback. */
  token: string | null;
  allowOrigins: string[];
  /** The built web app; a plain status page is served when it is missing. */
  webRoot: string;
  /** WebSocket connections at once (gateway and mounts together). */
  maxSockets: number;
  /** With every WebSocket slot taken, one idle this long is closed for the newcomer. */
  idleTimeoutMs: number;
  maxMounts: number;
  /** Milliseconds a page-hosted server has to answer a request. */
  deadlineMs: number;
  /** Largest WebSocket message (one 9P message). */
  maxMessage: number;
  log: (line: string) => void;
  /** NBD exports, page-hosted block devices among them: /mount?kind=nbd and the local-nbd backend. */
  blockDevices?: PageDevices;
  /** Extra status from the rest of the server (9P connections). */
  extraStatus?: () => Record<string, unknown>;
}

export class HttpServer {
  private server: Server | null = null;
  private readonly wss: WebSocketServer;
  private security: Security;
  private readonly backends = new Map<string, Backend>();
  readonly pages: PageMounts;
  /** Open WebSockets, each with when it last carried a message and whether it holds a mount. */
  private readonly sockets = new Map<WebSocket, { lastActive: number; mount: boolean }>();
  readonly counters = { httpRequests: 0, refused: 0, gatewayConnections: 0, mountConnections: 0, bytesToBackend: 0, bytesFromBackend: 0 };
  port = 0;

  constructor(private readonly ns: Namespace, private readonly opts: HttpOptions) {
    this.security = new Security({ host: opts.host, port: opts.port, allowOrigins: opts.allowOrigins, token: opts.token });
    this.backends.set('local', LOCAL_BACKEND);
    for (const b of opts.backends) {
      if (this.backends.has(b.name)) throw new Error(`backend '${b.name}' is defined twice`);
      this.backends.set(b.name, b);
    }
    // Last: a page picking the first NBD backend still gets the one the operator configured.
    if (opts.blockDevices) this.backends.set(LOCAL_NBD_BACKEND.name, LOCAL_NBD_BACKEND);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessage, perMessageDeflate: false });
    this.pages = new PageMounts(ns, { deadlineMs: opts.deadlineMs, maxMounts: opts.maxMounts, msize: Math.min(opts.maxMessage, MAX_MSIZE), log: opts.log, devices: opts.blockDevices });
  }

  async listen(): Promise<number> {
    // A client that trickles its headers (slowloris) is cut off well before Node's defaults.
    const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => this.http(req, res));
    server.on('upgrade', (req, sock, head) => this.upgrade(req, sock, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, resolve);
    });
    this.server = server;
    const a = server.address();
    this.port = a && typeof a === 'object' ? a.port : this.opts.port;
    // The Host and Origin checks need the real port when 0 was asked for.
    if (this.opts.port === 0) this.security = new Security({ host: this.opts.host, port: this.port, allowOrigins: this.opts.allowOrigins, token: this.opts.token });
    return this.port;
  }

  status(): Record<string, unknown> {
    return {
      mounts: this.ns.list().map((m) => ({
        name: m.name, kind: m.kind, source: m.source,
        status: m.kind === 'page' || m.kind === 'builtin' ? 'running' : (m.fs as { connected?: boolean }).connected === false ? 'down' : 'running',
      })),
      ended: Object.fromEntries(this.pages.ended),
      blockDevices: this.opts.blockDevices?.names() ?? [],
      backends: [...this.backends.values()].map((b) => ({ name: b.name, kind: b.kind })),
      websockets: this.sockets.size,
      counters: this.counters,
      ...this.opts.extraStatus?.(),
    };
  }

  private http(req: IncomingMessage, res: ServerResponse): void {
    this.counters.httpRequests++;
    const why = this.security.check(req, false);
    if (why) {
      this.counters.refused++;
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end(`forbidden: ${why}\n`);
      return;
    }
    const url = requestUrl(req);
    if (!url) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('bad request target\n');
      return;
    }
    if (this.opts.token && url.searchParams.get('token') === this.opts.token) {
      // A browser that opened the printed link keeps the token for its assets and WebSockets.
      res.setHeader('set-cookie', `styxlab_token=${this.opts.token}; Path=/; HttpOnly; SameSite=Strict`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.pathname === '/api/status') return json(res, this.status());
    if (url.pathname === '/api/backends') return json(res, [...this.backends.values()].map((b) => ({ name: b.name, kind: b.kind })));
    if (serveStatic(this.opts.webRoot, url.pathname, res)) return;
    if (url.pathname === '/' || url.pathname === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(placeholderPage(this.status()));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
  }

  private upgrade(req: IncomingMessage, sock: Duplex, head: Buffer): void {
    // From here the socket is ours: a reset before the handshake ends must not be unhandled.
    sock.on('error', () => sock.destroy());
    const refuse = (status: number, why: string) => {
      this.counters.refused++;
      this.opts.log(`http: refused WebSocket ${redactTarget(req.url)}: ${why}`);
      sock.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${why}\n`);
    };
    const why = this.security.check(req, true);
    if (why) return refuse(403, why);
    const url = requestUrl(req);
    if (!url) return refuse(400, 'bad request target');
    const isGateway = url.pathname.startsWith('/gateway/');
    if (!isGateway && url.pathname !== '/mount') return refuse(404, 'no such endpoint');
    this.wss.handleUpgrade(req, sock, head, (ws) => {
      if (this.sockets.size >= this.opts.maxSockets && !this.evictIdle()) {
        ws.close(Close.limit, `too many WebSocket connections (${this.opts.maxSockets}), none idle`);
        return;
      }
      const state = { lastActive: Date.now(), mount: !isGateway };
      this.sockets.set(ws, state);
      ws.on('message', () => { state.lastActive = Date.now(); });
      ws.once('close', () => this.sockets.delete(ws));
      ws.on('error', (e) => this.opts.log(`http: WebSocket error: ${e.message}`));
      if (isGateway) {
        // A bad percent escape must not throw here: it would take the whole server down.
        let name: string;
        try {
          name = decodeURIComponent(url.pathname.slice('/gateway/'.length));
        } catch {
          name = url.pathname.slice('/gateway/'.length);
        }
        this.gateway(ws, name, sock);
      }
      else {
        this.counters.mountConnections++;
        guardMessages(ws);
        void this.pages.accept(
          ws, url.searchParams.get('name') ?? '', url.searchParams.get('replace') === '1', req.headers.origin ?? '',
          url.searchParams.get('key') ?? '', url.searchParams.get('kind') === 'nbd' ? 'nbd' : '9p',
        );
      }
    });
  }

  /**
   * Makes room for a new WebSocket: closes the one idle the longest (idleTimeoutMs at least),
   * gateway connections before page mounts, which a user is running. True if one was closed.
   */
  private evictIdle(): boolean {
    const now = Date.now();
    let victim: WebSocket | null = null;
    let best: { lastActive: number; mount: boolean } | null = null;
    for (const [ws, st] of this.sockets) {
      if (now - st.lastActive < this.opts.idleTimeoutMs || ws.readyState !== ws.OPEN) continue;
      if (!best || (best.mount && !st.mount) || (best.mount === st.mount && st.lastActive < best.lastActive)) { victim = ws; best = st; }
    }
    if (!victim) return false;
    this.opts.log(`http: closed a WebSocket idle for ${Math.round((now - best!.lastActive) / 1000)} s to make room`);
    victim.close(Close.limit, 'closed while idle: the server needed the slot');
    this.sockets.delete(victim);
    return true;
  }

  private gateway(ws: WebSocket, name: string, wsSocket: Duplex): void {
    const b = this.backends.get(name);
    if (!b) {
      ws.close(Close.unknownBackend, closeReason(`unknown backend '${name}'`));
      return;
    }
    this.counters.gatewayConnections++;
    if (b.target === null && b.kind === 'nbd') {
      // styxlab's own NBD exports, served in-process: the page reads its block devices this way.
      const session = new ServerSession(webSocketByteStream(ws as unknown as WebSocketLike), {
        id: `ws${this.counters.gatewayConnections}`,
        exports: () => this.opts.blockDevices?.exports() ?? [],
        // One WRITE must fit in one WebSocket message.
        limits: { maxBlock: Math.min(this.opts.maxMessage - 64, 32 * 1024 * 1024) },
        log: this.opts.log,
      });
      void session.done;
      return;
    }
    if (b.target === null) {
      // The local namespace is served in-process: no TCP hop.
      guardMessages(ws);
      const session = new Session(pausable(ws), new LinuxAdapter(this.ns.connect()), {
        id: `ws${this.counters.gatewayConnections}`, maxMsize: Math.min(this.opts.maxMessage, MAX_MSIZE), log: this.opts.log,
      });
      void session.done;
      return;
    }
    const stats: RelayStats = { bytesToBackend: 0, bytesFromBackend: 0 };
    void relay(ws, b, stats, this.opts.log, wsSocket).then(() => {
      this.counters.bytesToBackend += stats.bytesToBackend;
      this.counters.bytesFromBackend += stats.bytesFromBackend;
    });
  }

  async close(): Promise<void> {
    for (const ws of this.sockets.keys()) ws.close(Close.shutdown, 'server shutting down');
    this.wss.close();
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // A peer that does not answer the close frame (a frozen page) would hold the shutdown for
    // ws's 30 s close timeout: after a moment, cut what is left.
    const cut = setTimeout(() => {
      for (const ws of this.sockets.keys()) ws.terminate();
      server.closeAllConnections();
    }, 1000);
    await closed;
    clearTimeout(cut);
  }
}

/**
 * The WebSocket transport with pause and resume, so that a session stops reading at its in-flight
 * limit; without them a page could pile up requests (to a slow mount) without bound. ws.pause()
 * stops reading the socket, but the messages of a chunk already read still come: those wait here.
 */
function pausable(ws: WebSocket): MessageTransport {
  const inner = webSocketTransport(ws as unknown as WebSocketLike);
  let paused = false;
  const held: Uint8Array[] = [];
  let deliver: (frame: Uint8Array) => void = () => {};
  inner.onMessage((f) => { if (paused) held.push(f); else deliver(f); });
  return {
    ...inner,
    onMessage(cb) { deliver = cb; },
    pause() {
      paused = true;
      ws.pause();
    },
    resume() {
      paused = false;
      while (!paused && held.length > 0) deliver(held.shift()!);
      if (!paused) ws.resume();
    },
  };
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests' };

function json(res: ServerResponse, v: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2));
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function placeholderPage(status: Record<string, unknown>): string {
  const mounts = (status.mounts as Array<{ name: string; kind: string; status: string }>)
    .map((m) => `<li><code>/${escapeHtml(m.name)}</code> ${escapeHtml(m.kind)}, ${escapeHtml(m.status)}</li>`).join('');
  return `<!doctype html><meta charset="utf-8"><title>styxlab</title>
<h1>styxlab</h1><p>The web app is not built yet: run <code>npm run build:web</code> (or <code>npm start</code>, which builds it).</p>
<h2>Mounts</h2><ul>${mounts}</ul><p><a href="/api/status">/api/status</a></p>`;
}
