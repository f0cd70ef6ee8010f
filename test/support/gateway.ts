// `styxlab serve` with its HTTP side for tests, and the page's side of its WebSockets (the ws
// package standing in for the browser):
//
//   const g = await startHttpServe(['--backend', `diod=9p:${d.address}`]);
//   g.base;                                   // http://127.0.0.1:PORT (connect here even when bound to 0.0.0.0)
//   await g.status();                         // /api/status as JSON
//   const { client, ws } = await gatewayClient(g.ws('/gateway/diod'), { aname, uname: 'nobody' });
//   const page = await mountPage(g.ws('/mount?name=x'), hellofs); // a page-hosted server
//   await g.stop();
//
// The HTTP port is taken like the 9P one: free a moment ago, retried if another process took it.
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { Client, type ConnectOptions, type MessageTransport } from '../../shared/client/index.ts';
import { type WebSocketLike, webSocketTransport } from '../../shared/net/websocket.ts';
import { type FileServer, LinuxAdapter, Session } from '../../shared/styx/index.ts';
import { type Served, freePort, startServe } from './styxlab.ts';

export interface HttpServed extends Served {
  httpPort: number;
  /** http://127.0.0.1:PORT */
  base: string;
  /** The token printed in the playground URL, if any. */
  token: string | null;
  /** ws://127.0.0.1:PORT + path */
  ws(path: string): string;
  status(): Promise<Status>;
}

export interface Status {
  mounts: Array<{ name: string; kind: string; source: string; status: string }>;
  ended: Record<string, string>;
  backends: Array<Record<string, unknown>>;
  websockets: number;
  counters: Record<string, number>;
}

/** Runs `styxlab serve --http HOST:PORT ...args`; resolves once both listeners are up. */
export async function startHttpServe(args: string[] = [], opts: { host?: string; nodeArgs?: string[] } = {}): Promise<HttpServed> {
  const host = opts.host ?? '127.0.0.1';
  for (let attempt = 0; attempt < 5; attempt++) {
    const httpPort = await freePort();
    const s = await startServe(['--http', `${host}:${httpPort}`, ...args], opts.nodeArgs);
    // The HTTP listener starts right after the 9P one: bounded wait, 400 polls of 25 ms.
    let line: RegExpExecArray | null = null;
    for (let i = 0; i < 400 && !line; i++) {
      if (s.proc.exitCode !== null || s.proc.signalCode !== null) break;
      line = /playground on (http:\/\/\S+)/.exec(s.stdout());
      if (!line) await new Promise((r) => setTimeout(r, 25));
    }
    if (line) {
      const token = new URL(line[1]).searchParams.get('token');
      const base = `http://127.0.0.1:${httpPort}`;
      return {
        ...s, httpPort, base, token,
        ws: (path) => `ws://127.0.0.1:${httpPort}${path}`,
        status: async () => {
          const r = await httpGet(`${base}/api/status${token ? `?token=${token}` : ''}`);
          if (r.status !== 200) throw new Error(`/api/status: HTTP ${r.status} ${r.body}`);
          return JSON.parse(r.body) as Status;
        },
      };
    }
    await s.stop();
    if (!/EADDRINUSE/.test(s.stderr())) throw new Error(`styxlab serve --http did not start:\n${s.stdout()}\n${s.stderr()}`);
  }
  throw new Error('styxlab serve --http: no free port after 5 attempts');
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GET with the given headers (Host included, which fetch will not let a caller set). */
export function httpGet(url: string, headers: Record<string, string> = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => { body += s; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** How a WebSocket attempt ended: refused at the HTTP upgrade, or closed with a code and reason. */
export type WsOutcome =
  | { kind: 'http'; status: number; body: string }
  | { kind: 'close'; code: number; reason: string };

export interface WsOptions {
  origin?: string;
  headers?: Record<string, string>;
  /** Largest message this side accepts (ws's default is 100 MiB). */
  maxPayload?: number;
}

const closings = new WeakMap<WebSocket, Promise<{ code: number; reason: string }>>();

/** Opens a WebSocket; resolves when it is open, rejects with the WsOutcome if refused. */
export function openWs(url: string, opts: WsOptions = {}): Promise<WebSocket> {
  return startWs(url, opts).opened;
}

/**
 * The WebSocket at once, and a promise of it open (rejected with the WsOutcome if refused).
 * Listeners for what the server sends first must be added before the open: see openWithTransport.
 */
export function startWs(url: string, opts: WsOptions = {}): { ws: WebSocket; opened: Promise<WebSocket> } {
  const ws = new WebSocket(url, { origin: opts.origin, headers: opts.headers, maxPayload: opts.maxPayload, perMessageDeflate: false });
  // Recorded from the start, so that a close before anyone asks is not missed.
  const closing = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
  });
  closings.set(ws, closing);
  const opened = new Promise<WebSocket>((resolve, reject) => {
    ws.once('open', () => { ws.removeAllListeners('unexpected-response'); resolve(ws); });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => { body += s; });
      // Settle with the HTTP answer before terminate() makes a close (1006) out of it.
      res.on('end', () => { reject({ kind: 'http', status: res.statusCode ?? 0, body } satisfies WsOutcome); ws.terminate(); });
    });
    void closing.then((c) => reject({ kind: 'close', ...c } satisfies WsOutcome));
    ws.on('error', () => { /* reported through close or unexpected-response */ });
  });
  return { ws, opened };
}

/** Resolves with the close code and reason when ws (opened by openWs) closes. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  const c = closings.get(ws);
  if (!c) throw new Error('closed() wants a WebSocket from openWs');
  return c;
}

/** The outcome of a WebSocket attempt that is expected to be refused or closed. */
export async function refusal(url: string, opts: WsOptions = {}): Promise<WsOutcome> {
  try {
    const ws = await openWs(url, opts);
    const c = await closed(ws);
    return { kind: 'close', ...c };
  } catch (e) {
    return e as WsOutcome;
  }
}

/**
 * Opens a WebSocket with its 9P transport in place before it opens: with the ws package, a
 * message that arrives together with the upgrade response is emitted (on process.nextTick)
 * before an `await` of the open event resumes, so a transport made after the await would miss
 * it. The mount endpoint speaks first (Tversion), so this matters for the page side.
 */
function openWithTransport(url: string, opts: WsOptions): { opened: Promise<WebSocket>; transport: MessageTransport } {
  const { ws, opened } = startWs(url, opts);
  opened.catch(() => {});
  return { opened, transport: webSocketTransport(ws as unknown as WebSocketLike) };
}

/** A 9P Client over a gateway WebSocket. */
export async function gatewayClient(url: string, copts: ConnectOptions = {}, wopts: WsOptions = {}): Promise<{ client: Client; ws: WebSocket }> {
  const { opened, transport } = openWithTransport(url, wopts);
  const ws = await opened;
  const client = await Client.connect(transport, copts);
  return { client, ws };
}

/** A page-hosted 9P server: fs served over a /mount WebSocket, as the page's worker would. */
export async function mountPage(url: string, fs: FileServer, wopts: WsOptions = {}): Promise<{ ws: WebSocket; session: Session }> {
  const { opened, transport } = openWithTransport(url, wopts);
  const session = new Session(transport, new LinuxAdapter(fs.connect()), { id: 'page' });
  try {
    return { ws: await opened, session };
  } catch (e) {
    session.close();
    throw e;
  }
}

/** Polls cond (bounded: 200 times 25 ms, 5 s) until it holds; false if it never did. */
export async function eventually(cond: () => boolean | Promise<boolean>, polls = 200): Promise<boolean> {
  for (let i = 0; i < polls; i++) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}
