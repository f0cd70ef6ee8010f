// NBD URIs as libnbd writes them: nbd://host[:port][/export] and nbd+unix:///export?socket=PATH.
// TLS schemes (nbds://) are refused: styxlab speaks NBD without TLS.

export type NbdTarget =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string };

export interface NbdUri {
  target: NbdTarget;
  exportName: string;
}

export const DEFAULT_NBD_PORT = 10809;

function decode(s: string, whole: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new Error(`${whole}: bad percent-encoding`);
  }
}

// URL is not part of the ES library this folder compiles against, and the grammar is small.
const URI = /^([a-z+]+):\/\/(\[[^\]]*\]|[^/:?#]*)(?::(\d{1,5}))?(\/[^?#]*)?(?:\?([^#]*))?$/i;

export function parseNbdUri(s: string): NbdUri {
  const m = URI.exec(s.trim());
  if (!m) throw new Error(`'${s}' is not an NBD URI (nbd://host:port/export or nbd+unix:///export?socket=PATH)`);
  const [, scheme, rawHost, port, path, query] = m;
  // The export is the path without its leading slash.
  const exportName = decode((path ?? '').replace(/^\//, ''), s);
  const params = new Map<string, string>();
  for (const kv of (query ?? '').split('&')) {
    if (!kv) continue;
    const eq = kv.indexOf('=');
    params.set(decode(eq < 0 ? kv : kv.slice(0, eq), s), decode(eq < 0 ? '' : kv.slice(eq + 1), s));
  }
  switch (scheme.toLowerCase()) {
    case 'nbd': {
      const host = rawHost.replace(/^\[(.*)\]$/, '$1');
      if (!host) throw new Error(`${s}: no host`);
      const p = port ? Number(port) : DEFAULT_NBD_PORT;
      if (p < 1 || p > 65535) throw new Error(`${s}: bad port`);
      return { target: { kind: 'tcp', host, port: p }, exportName };
    }
    case 'nbd+unix': {
      const path = params.get('socket');
      if (!path) throw new Error(`${s}: nbd+unix wants ?socket=PATH`);
      return { target: { kind: 'unix', path }, exportName };
    }
    case 'nbds': case 'nbds+unix':
      throw new Error(`${s}: TLS is not supported`);
    default:
      throw new Error(`${s}: unknown scheme '${scheme}:' (nbd: or nbd+unix:)`);
  }
}

export function formatNbdUri(u: NbdUri): string {
  const name = encodeURIComponent(u.exportName);
  if (u.target.kind === 'unix') return `nbd+unix:///${name}?socket=${encodeURIComponent(u.target.path)}`;
  const host = u.target.host.includes(':') ? `[${u.target.host}]` : u.target.host;
  return `nbd://${host}:${u.target.port}/${name}`;
}
