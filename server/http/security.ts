// Who may talk to the HTTP server: the Origin of WebSocket upgrades must be the playground's own
// (or allowed by flag), the Host must be ours (DNS rebinding), and off loopback every request needs
// the token printed at start.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface SecurityOptions {
  /** The host and port the server is bound to. */
  host: string;
  port: number;
  /** Extra allowed origins, e.g. http://localhost:5173 for a Vite dev server. */
  allowOrigins: string[];
  /** Required when not bound to loopback; null when none is needed. */
  token: string | null;
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || /^127\./.test(host);
}

export function newToken(): string {
  return randomBytes(24).toString('hex');
}

/**
 * The request target as a URL, or null when it is not one (`//[`, a bare `*`): `new URL` throws on
 * those, and a throw in a request handler would stop the whole server.
 */
export function requestUrl(req: IncomingMessage): URL | null {
  const target = req.url ?? '/';
  if (!target.startsWith('/')) return null;
  try {
    return new URL(target, 'http://x');
  } catch {
    return null;
  }
}

/**
 * A request target fit for a log line: the value of every query parameter whose name decodes to
 * "token" (as the token check reads it, `%74oken` included) replaced, then cut short.
 */
export function redactTarget(target: string | undefined): string {
  const t = target ?? '';
  const q = t.indexOf('?');
  if (q < 0) return JSON.stringify(t.slice(0, 200));
  const params = t.slice(q + 1).split('&').map((p) => {
    const eq = p.indexOf('=');
    const key = eq < 0 ? p : p.slice(0, eq);
    let name = key;
    try {
      name = decodeURIComponent(key.replace(/\+/g, ' '));
    } catch {
      // undecodable: compared as it is
    }
    return name.trim().toLowerCase() === 'token' ? `${key}=…` : p;
  });
  return JSON.stringify(`${t.slice(0, q)}?${params.join('&')}`.slice(0, 200));
}

export class Security {
  private readonly origins: Set<string>;
  private readonly hosts: Set<string>;

  constructor(readonly opts: SecurityOptions) {
    const names = new Set(['127.0.0.1', 'localhost', '[::1]', opts.host.includes(':') ? `[${opts.host}]` : opts.host]);
    this.hosts = new Set([...names].map((h) => `${h}:${opts.port}`));
    this.origins = new Set([...[...this.hosts].map((h) => `http://${h}`), ...opts.allowOrigins.map((o) => o.replace(/\/$/, ''))]);
  }

  /** Why a request must be refused, or null when it may go on. */
  check(req: IncomingMessage, upgrade: boolean): string | null {
    const host = req.headers.host ?? '';
    // Off loopback the token is the defence; on loopback the Host must be ours, or a foreign page
    // could reach us under its own name through DNS rebinding.
    if (this.opts.token === null && !this.hosts.has(host)) return `host '${host}' is not this server`;
    if (this.opts.token !== null && !this.tokenOk(req)) return 'missing or wrong token';
    if (upgrade) {
      const origin = req.headers.origin;
      // Browsers always send Origin on WebSocket upgrades; programs (CLI, tests) may not.
      // Same origin (the page this server sent, from the address it was reached by) is allowed
      // too: off loopback that address is not known in advance (the machine's name or IP), and
      // the page the printed link opens must be able to use its own WebSockets.
      if (origin !== undefined && !this.origins.has(origin) && origin !== `http://${host}`) return `origin '${origin}' is not allowed`;
    }
    return null;
  }

  tokenFrom(req: IncomingMessage): string | null {
    const q = requestUrl(req)?.searchParams.get('token');
    if (q) return q;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice(7);
    const cookie = /(?:^|;\s*)styxlab_token=([0-9a-f]+)/.exec(req.headers.cookie ?? '');
    return cookie ? cookie[1] : null;
  }

  private tokenOk(req: IncomingMessage): boolean {
    const given = this.tokenFrom(req);
    const want = this.opts.token;
    if (!given || !want || given.length !== want.length) return false;
    return timingSafeEqual(Buffer.from(given), Buffer.from(want));
  }
}
