// Dial strings: Plan 9's `tcp!host!port` and `unix!/path`, plus the everyday `host:port`,
// `[v6addr]:port`, a bare host (port 564, 9fs) and a bare absolute path (a unix socket).

export type DialTarget =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string };

/** Well-known service names that may stand for a port. */
const SERVICES: Readonly<Record<string, number>> = { '9fs': 564, '9p': 564, styx: 6666 };

export const DEFAULT_9P_PORT = 564;

function parsePort(s: string, addr: string): number {
  const known = SERVICES[s];
  if (known !== undefined) return known;
  // Port 0 is for listeners (the kernel picks one); dialing it fails at connect.
  if (!/^\d{1,5}$/.test(s) || Number(s) > 65535) {
    throw new Error(`bad port '${s}' in address '${addr}'`);
  }
  return Number(s);
}

export function parseDialString(addr: string, defaultPort = DEFAULT_9P_PORT): DialTarget {
  const a = addr.trim();
  if (a === '') throw new Error('empty address');
  if (a.includes('!')) {
    const parts = a.split('!');
    const [net, host, port] = parts;
    if (net === 'unix') {
      const path = parts.slice(1).join('!');
      if (!path) throw new Error(`no socket path in address '${addr}'`);
      return { kind: 'unix', path };
    }
    if (net !== 'tcp' && net !== 'net') throw new Error(`unsupported network '${net}' in address '${addr}'`);
    if (parts.length > 3) throw new Error(`bad address '${addr}'`);
    if (!host) throw new Error(`no host in address '${addr}'`);
    return { kind: 'tcp', host: host === '*' ? '127.0.0.1' : host, port: port ? parsePort(port, addr) : defaultPort };
  }
  if (a.startsWith('/')) return { kind: 'unix', path: a };
  const v6 = /^\[([^\]]+)\](?::(.+))?$/.exec(a);
  if (v6) return { kind: 'tcp', host: v6[1], port: v6[2] ? parsePort(v6[2], addr) : defaultPort };
  const colon = a.lastIndexOf(':');
  // More than one colon without brackets is a bare IPv6 address.
  if (colon >= 0 && a.indexOf(':') === colon) {
    const host = a.slice(0, colon);
    if (!host) throw new Error(`no host in address '${addr}'`);
    return { kind: 'tcp', host, port: parsePort(a.slice(colon + 1), addr) };
  }
  return { kind: 'tcp', host: a, port: defaultPort };
}

/** The target in Plan 9 form, for messages. */
export function dialString(t: DialTarget): string {
  return t.kind === 'unix' ? `unix!${t.path}` : `tcp!${t.host}!${t.port}`;
}
