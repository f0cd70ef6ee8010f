// `styxlab serve`: the local 9P server with the built-in file systems mounted.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { devfs, hellofs, ramfs, slightlyfs } from '../../shared/fs/index.ts';
import { MAX_MSIZE } from '../../shared/ninep/index.ts';
import { DEFAULT_MAX_FIDS, DEFAULT_MAX_FILE_SIZE } from '../../shared/styx/index.ts';
import { Namespace } from '../namespace/namespace.ts';
import { RemoteMount, parseMountSpec } from '../namespace/remote-mount.ts';
import { parseBackend, readBackendConfig } from '../http/backends.ts';
import { HttpServer } from '../http/server.ts';
import { isLoopback, newToken } from '../http/security.ts';
import { DEFAULT_MAX_CONNECTIONS, NinepListener } from '../ninep/listener.ts';

const USAGE = `usage: styxlab serve [flags]

  --listen ADDR        9P listen address, repeatable (default tcp!127.0.0.1!5640);
                       dial strings tcp!host!port and unix!/path
  -d, --debug          print every 9P message (Inferno's trace text) to stderr
  --msize N            largest msize offered (default ${MAX_MSIZE})
  --max-connections N  9P connections at once (default ${DEFAULT_MAX_CONNECTIONS})
  --max-inflight N     requests in flight per connection (default 256)
  --max-fids N         fids per connection and file system (default ${DEFAULT_MAX_FIDS})
  --max-file-size N    largest file in ram, in bytes (default ${DEFAULT_MAX_FILE_SIZE})
  --mount NAME=ADDR[,aname=A,version=V,uname=U]
                       mount a remote 9P server at /NAME (repeatable; V: 9P2000, 9P2000.u,
                       9P2000.L, default 9P2000.L); reconnects while the remote is away

HTTP (the playground, /api/status, the gateway and the mount endpoint):
  --http HOST:PORT     where to serve HTTP (default 127.0.0.1:5680; 'off' for none). Any host
                       other than loopback requires a token, printed at start
  --token T            the token to require (default: random when off loopback)
  --allow-origin URL   another origin allowed to open WebSockets (repeatable)
  --backend NAME=KIND:ADDRESS
                       a gateway backend (repeatable): KIND is 9p, nbd or iouring; ADDRESS a
                       dial string tcp!host!port or unix!/path. 'local' is always the namespace
  --config FILE        JSON {"backends": {"NAME": "KIND:ADDRESS"}}
  --deadline MS        how long a page-hosted server has to answer a request (default 5000)
  --max-websockets N   WebSocket connections at once (default 64)
  --max-mounts N       page-hosted mounts at once (default 32)

The namespace holds hellofs, slightlyfs, ram (writable, in memory) and dev (zero, null, random,
time; also reachable as aname "ctl").`;

/** A start-up failure: one line for the user, naming the flag to change; no stack trace. */
class StartupError extends Error {
  override readonly name = 'StartupError';
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Says what went wrong binding a listener, and which flag picks another address. */
function bindError(flag: string, addr: string, e: unknown): StartupError {
  const code = (e as { code?: unknown }).code;
  if (code === 'EADDRINUSE') {
    return new StartupError(`${flag} ${addr}: address in use (EADDRINUSE; another styxlab? \`npm start\` holds 127.0.0.1:5640 and 127.0.0.1:5680); pick a free one with ${flag}`);
  }
  if (code === 'EACCES') return new StartupError(`${flag} ${addr}: not allowed to listen there (a port below 1024?); pick another with ${flag}`);
  if (code === 'EADDRNOTAVAIL') return new StartupError(`${flag} ${addr}: no such address on this machine; pick another with ${flag}`);
  return new StartupError(`${flag} ${addr}: ${errText(e)}`);
}

function positiveInt(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new StartupError(`--${name} wants a positive whole number, not '${v}'`);
  return n;
}

/**
 * Runs the server until SIGINT or SIGTERM. Whatever fails while starting (a flag, an address in
 * use, a remote that refuses) is one line on stderr and exit status 1, after closing what had
 * already started: nothing is left half up.
 */
export async function serve(argv: string[]): Promise<number> {
  const undo: Array<() => Promise<void> | void> = [];
  try {
    return await start(argv, undo);
  } catch (e) {
    if (!(e instanceof StartupError) && !(e as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS')) throw e;
    for (const u of undo.reverse()) await u();
    console.error(`styxlab serve: ${errText(e)}`);
    return 1;
  }
}

async function start(argv: string[], undo: Array<() => Promise<void> | void>): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string', multiple: true },
      debug: { type: 'boolean', short: 'd' },
      msize: { type: 'string' },
      'max-connections': { type: 'string' },
      'max-inflight': { type: 'string' },
      'max-fids': { type: 'string' },
      'max-file-size': { type: 'string' },
      mount: { type: 'string', multiple: true },
      http: { type: 'string' },
      token: { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      backend: { type: 'string', multiple: true },
      config: { type: 'string' },
      deadline: { type: 'string' },
      'max-websockets': { type: 'string' },
      'max-mounts': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const msize = positiveInt(values.msize, 'msize', MAX_MSIZE);
  const maxFids = positiveInt(values['max-fids'], 'max-fids', DEFAULT_MAX_FIDS);
  const log = (line: string) => console.error(line);
  const ns = new Namespace(undefined, maxFids);
  ns.mount('hellofs', 'builtin', 'builtin', hellofs);
  ns.mount('slightlyfs', 'builtin', 'builtin', slightlyfs);
  const maxFileSize = positiveInt(values['max-file-size'], 'max-file-size', DEFAULT_MAX_FILE_SIZE);
  ns.mount('ram', 'builtin', 'builtin', ramfs({ maxFids, maxFileSize, log }));
  ns.mount('dev', 'builtin', 'builtin', devfs({ maxFids, log }));
  const remotes: RemoteMount[] = [];
  for (const m of values.mount ?? []) {
    let spec;
    try {
      spec = parseMountSpec(m);
    } catch (e) {
      throw new StartupError(`--mount ${m}: ${errText(e)}`);
    }
    const rm = new RemoteMount(ns, spec, log);
    try {
      await rm.start();
    } catch (e) {
      throw new StartupError(`--mount ${m}: ${errText(e)}; start that server first, or leave out this --mount`);
    }
    remotes.push(rm);
    undo.push(() => rm.stop());
  }
  const listener = new NinepListener(ns, {
    msize,
    maxConnections: positiveInt(values['max-connections'], 'max-connections', DEFAULT_MAX_CONNECTIONS),
    maxInFlight: positiveInt(values['max-inflight'], 'max-inflight', 256),
    trace: values.debug ? (e) => process.stderr.write(`[${e.conn}] ${e.dir} ${e.text}\n`) : undefined,
    log,
  });
  undo.push(() => listener.close());
  const bound: string[] = [];
  for (const a of values.listen ?? ['tcp!127.0.0.1!5640']) {
    try {
      bound.push(...await listener.listen([a]));
    } catch (e) {
      throw bindError('--listen', a, e);
    }
  }
  const said: string[] = [];
  for (const a of bound) said.push(`styxlab: 9P on ${a}`);
  said.push(`styxlab: mounted ${ns.list().map((m) => m.name).join(', ')}`);
  let http: HttpServer | null = null;
  const httpAddr = values.http ?? '127.0.0.1:5680';
  if (httpAddr !== 'off') {
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(httpAddr);
    if (!m) throw new StartupError(`--http '${httpAddr}': want HOST:PORT (or 'off')`);
    const host = m[1] ?? (m[2] || '127.0.0.1');
    const token = values.token ?? (isLoopback(host) ? null : newToken());
    let backends;
    try {
      backends = [
        ...(values.config ? readBackendConfig(values.config) : []),
        ...(values.backend ?? []).map((b) => {
          try {
            return parseBackend(b);
          } catch (e) {
            throw new StartupError(`--backend ${b}: ${errText(e)}`);
          }
        }),
      ];
    } catch (e) {
      throw e instanceof StartupError ? e : new StartupError(`--config ${values.config}: ${errText(e)}`);
    }
    http = new HttpServer(ns, {
      host, port: Number(m[3]), backends, token, allowOrigins: values['allow-origin'] ?? [],
      webRoot: join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dist'),
      maxSockets: positiveInt(values['max-websockets'], 'max-websockets', 64),
      maxMounts: positiveInt(values['max-mounts'], 'max-mounts', 32),
      deadlineMs: positiveInt(values.deadline, 'deadline', 5000),
      maxMessage: msize,
      log,
      // listen: where 9P clients dial (the page's welcome fills it into its copy-paste lines).
      extraStatus: () => ({ ninep: { listen: bound, connections: listener.connections, ...listener.stats } }),
    });
    let port: number;
    try {
      port = await http.listen();
    } catch (e) {
      throw bindError('--http', httpAddr, e);
    }
    const h = http;
    undo.push(() => h.close());
    const shown = host.includes(':') ? `[${host}]` : host;
    said.push(`styxlab: playground on http://${shown}:${port}/${token ? `?token=${token}` : ''}`);
    for (const b of backends) said.push(`styxlab: gateway backend ${b.name} (${b.kind}) -> ${b.address}`);
  }
  // Everything is up: only now say so.
  for (const line of said) console.log(line);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      console.error(`styxlab: ${sig}, shutting down`);
      for (const r of remotes) r.stop();
      void Promise.all([listener.close(), http?.close()]).then(() => resolve());
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
