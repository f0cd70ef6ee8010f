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
import { startNbd, NBD_USAGE, NBD_OPTIONS } from './nbd-serve.ts';

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

${NBD_USAGE}

The namespace holds hellofs, slightlyfs, ram (writable, in memory) and dev (zero, null, random,
time; also reachable as aname "ctl").`;

function positiveInt(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} wants a positive whole number, not '${v}'`);
  return n;
}

export async function serve(argv: string[]): Promise<number> {
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
      ...NBD_OPTIONS,
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
    const rm = new RemoteMount(ns, parseMountSpec(m), log);
    await rm.start();
    remotes.push(rm);
  }
  const listener = new NinepListener(ns, {
    msize,
    maxConnections: positiveInt(values['max-connections'], 'max-connections', DEFAULT_MAX_CONNECTIONS),
    maxInFlight: positiveInt(values['max-inflight'], 'max-inflight', 256),
    trace: values.debug ? (e) => process.stderr.write(`[${e.conn}] ${e.dir} ${e.text}\n`) : undefined,
    log,
  });
  const bound = await listener.listen(values.listen ?? ['tcp!127.0.0.1!5640']);
  for (const a of bound) console.log(`styxlab: 9P on ${a}`);
  console.log(`styxlab: mounted ${ns.list().map((m) => m.name).join(', ')}`);
  const nbd = await startNbd(values, ns, log);
  let http: HttpServer | null = null;
  const httpAddr = values.http ?? '127.0.0.1:5680';
  if (httpAddr !== 'off') {
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(httpAddr);
    if (!m) throw new Error(`--http '${httpAddr}': want HOST:PORT`);
    const host = m[1] ?? (m[2] || '127.0.0.1');
    const token = values.token ?? (isLoopback(host) ? null : newToken());
    const backends = [...(values.config ? readBackendConfig(values.config) : []), ...(values.backend ?? []).map(parseBackend)];
    http = new HttpServer(ns, {
      host, port: Number(m[3]), backends, token, allowOrigins: values['allow-origin'] ?? [],
      webRoot: join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dist'),
      maxSockets: positiveInt(values['max-websockets'], 'max-websockets', 64),
      maxMounts: positiveInt(values['max-mounts'], 'max-mounts', 32),
      deadlineMs: positiveInt(values.deadline, 'deadline', 5000),
      maxMessage: msize,
      log,
      extraStatus: () => ({ ninep: { connections: listener.connections, ...listener.stats } }),
    });
    const port = await http.listen();
    const shown = host.includes(':') ? `[${host}]` : host;
    console.log(`styxlab: playground on http://${shown}:${port}/${token ? `?token=${token}` : ''}`);
    for (const b of backends) console.log(`styxlab: gateway backend ${b.name} (${b.kind}) -> ${b.address}`);
  }
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      console.error(`styxlab: ${sig}, shutting down`);
      for (const r of remotes) r.stop();
      void Promise.all([listener.close(), http?.close(), nbd?.close()]).then(() => resolve());
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
