// `styxlab serve`: the local 9P server with the built-in file systems mounted.
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { devfs, hellofs, ramfs, slightlyfs } from '../../shared/fs/index.ts';
import { MAX_MSIZE } from '../../shared/ninep/index.ts';
import { DEFAULT_MAX_FIDS, DEFAULT_MAX_FILE_SIZE, DEFAULT_MAX_UNSENT } from '../../shared/styx/index.ts';
import { DEFAULT_RAM_BUDGET } from '../../shared/styx/tree.ts';
import { Namespace } from '../namespace/namespace.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import {
  DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, RemoteMount, parseMountSpec,
} from '../namespace/redialed-mount.ts';
import { parseBackend, readBackendConfig } from '../http/backends.ts';
import { startIouringdChild } from '../iouring/child.ts';
import { HttpServer } from '../http/server.ts';
import { isLoopback, newToken } from '../http/security.ts';
import {
  DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_VERSION_TIMEOUT_MS, NinepListener,
} from '../ninep/listener.ts';
import { parseDialString } from '../net/dial.ts';
import { builtinExports, startNbd, NBD_USAGE, NBD_OPTIONS } from './nbd-serve.ts';
import { PageDevices } from '../nbd/page-device.ts';
import { errText } from '../../shared/errtext.ts';

const USAGE = `usage: styxlab serve [flags]

  --listen ADDR        9P listen address, repeatable (default tcp!127.0.0.1!5640);
                       dial strings tcp!host!port and unix!/path
  --listen-public      allow --listen and --nbd on an address other than loopback (9P and NBD
                       have no authentication here: anyone who reaches the port reads and writes)
  -d, --debug          print every 9P message (Inferno's trace text) to stderr
  --msize N            largest msize offered (default ${MAX_MSIZE})
  --max-connections N  9P connections at once (default ${DEFAULT_MAX_CONNECTIONS})
  --max-inflight N     requests in flight per connection (default 256)
  --max-unsent N       bytes of replies a connection may leave unread, plus what its requests in
                       flight hold (writes) or may return (reads), before its requests wait
                       (default ${DEFAULT_MAX_UNSENT})
  --version-timeout MS a new connection's first Tversion must come within this (default
                       ${DEFAULT_VERSION_TIMEOUT_MS}; QEMU connects seconds before it speaks)
  --idle-timeout MS    when every connection slot is taken, one idle this long is closed for a
                       new client (default ${DEFAULT_IDLE_TIMEOUT_MS}); also for WebSockets
  --max-fids N         fids per connection and file system (default ${DEFAULT_MAX_FIDS})
  --max-file-size N    largest file in ram, in bytes (default ${DEFAULT_MAX_FILE_SIZE})
  --ram-budget N       total bytes ram may hold, all files together (default ${DEFAULT_RAM_BUDGET},
                       256 MiB); a write past it fails with ENOSPC
  --mount NAME=ADDR[,aname=A,version=V,uname=U]
                       mount a remote 9P server at /NAME (repeatable; V: 9P2000, 9P2000.u,
                       9P2000.L, default 9P2000.L; U, the remote user every local user works
                       as, default nobody). Mounted at once, down until it connects; reconnects
                       while the remote is away
  --connect-timeout MS a remote mount's connect, Tversion and Tattach (default ${DEFAULT_CONNECT_TIMEOUT_MS})
  --remote-timeout MS  each request to a remote mount; past it the request is flushed and fails
                       with ETIMEDOUT, and a remote that does not answer the flush either is
                       reconnected (default ${DEFAULT_REQUEST_TIMEOUT_MS})

HTTP (the playground, /api/status, the gateway and the mount endpoint):
  --http HOST:PORT     where to serve HTTP (default 127.0.0.1:5680; 'off' for none). Any host
                       other than loopback requires a token, printed at start
  --token T            the token to require (default: random when off loopback)
  --allow-origin URL   another origin allowed to open WebSockets (repeatable)
  --backend NAME=KIND:ADDRESS
                       a gateway backend (repeatable): KIND is 9p, nbd or iouring; ADDRESS a
                       dial string tcp!host!port or unix!/path. 'local' is always the namespace
  --config FILE        JSON {"backends": {"NAME": "KIND:ADDRESS"}}
  --iouringd           start an io_uring daemon (styxlab iouringd) and offer it as backend 'iouring'
  --deadline MS        how long a page-hosted server has to answer a request (default 5000)
  --max-websockets N   WebSocket connections at once (default 64)
  --max-mounts N       page-hosted mounts at once (default 32)

${NBD_USAGE}

The namespace holds hellofs, slightlyfs, ram (writable, in memory) and dev (zero, null, random,
time; also reachable as aname "ctl").`;

/** A start-up failure: one line for the user, naming the flag to change; no stack trace. */
class StartupError extends Error {
  override readonly name = 'StartupError';
}


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
 * 9P and NBD have no authentication here: an address beyond loopback is refused unless
 * --listen-public says so, and then it is served with a warning.
 */
function checkPublic(proto: string, flag: string, addresses: string[], port: number, allowed: boolean, log: (line: string) => void): void {
  for (const a of addresses) {
    const t = parseDialString(a, port);
    if (t.kind !== 'tcp' || isLoopback(t.host)) continue;
    if (!allowed) throw new StartupError(`${flag} '${a}' is not loopback: ${proto} has no authentication here; add --listen-public to allow it`);
    log(`styxlab: warning: ${proto} on ${a} serves anyone who can reach it, without authentication`);
  }
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
      'max-unsent': { type: 'string' },
      'version-timeout': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'connect-timeout': { type: 'string' },
      'remote-timeout': { type: 'string' },
      'listen-public': { type: 'boolean' },
      'max-fids': { type: 'string' },
      'max-file-size': { type: 'string' },
      'ram-budget': { type: 'string' },
      mount: { type: 'string', multiple: true },
      http: { type: 'string' },
      token: { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      backend: { type: 'string', multiple: true },
      config: { type: 'string' },
      iouringd: { type: 'boolean' },
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
  const ramBudget = positiveInt(values['ram-budget'], 'ram-budget', DEFAULT_RAM_BUDGET);
  ns.mount('ram', 'builtin', 'builtin', ramfs({ maxFids, maxFileSize, budget: ramBudget, log }));
  ns.mount('dev', 'builtin', 'builtin', devfs({ maxFids, log }));
  const remoteOpts = {
    connectTimeoutMs: positiveInt(values['connect-timeout'], 'connect-timeout', DEFAULT_CONNECT_TIMEOUT_MS),
    requestTimeoutMs: positiveInt(values['remote-timeout'], 'remote-timeout', DEFAULT_REQUEST_TIMEOUT_MS),
    log,
  };
  const remotes = (values.mount ?? []).map((m) => {
    try {
      return new RemoteMount(ns, parseMountSpec(m), remoteOpts);
    } catch (e) {
      throw new StartupError(`--mount ${m}: ${errText(e)}`);
    }
  });
  const listenOn = values.listen ?? ['tcp!127.0.0.1!5640'];
  checkPublic('9P', '--listen', listenOn, 5640, !!values['listen-public'], log);
  checkPublic('NBD', '--nbd', (values.nbd ?? []).filter((a) => a !== 'off'), 10809, !!values['listen-public'], log);
  const idleTimeoutMs = positiveInt(values['idle-timeout'], 'idle-timeout', DEFAULT_IDLE_TIMEOUT_MS);
  const listener = new NinepListener(ns, {
    msize,
    maxConnections: positiveInt(values['max-connections'], 'max-connections', DEFAULT_MAX_CONNECTIONS),
    maxInFlight: positiveInt(values['max-inflight'], 'max-inflight', 256),
    maxUnsent: positiveInt(values['max-unsent'], 'max-unsent', DEFAULT_MAX_UNSENT),
    versionTimeoutMs: positiveInt(values['version-timeout'], 'version-timeout', DEFAULT_VERSION_TIMEOUT_MS),
    idleTimeoutMs,
    trace: values.debug ? (e) => process.stderr.write(`[${e.conn}] ${e.dir} ${e.text}\n`) : undefined,
    log,
  });
  undo.push(() => listener.close());
  const bound: string[] = [];
  for (const a of listenOn) {
    try {
      bound.push(...await listener.listen([a]));
    } catch (e) {
      throw bindError('--listen', a, e);
    }
  }
  const said: string[] = [];
  for (const a of bound) said.push(`styxlab: 9P on ${a}`);
  // Remote mounts are mounted now, down, and speak 9P in the background: start-up waits only for
  // their TCP connections (a refused one is a mistake in the command line).
  for (const [i, r] of remotes.entries()) {
    try {
      await r.start();
    } catch (e) {
      throw new StartupError(`--mount ${values.mount![i]}: ${errText(e)}; start that server first, or leave out this --mount`);
    }
    undo.push(() => r.stop());
  }
  said.push(`styxlab: mounted ${ns.list().map((m) => m.name).join(', ')}`);
  said.push(`styxlab: ram budget ${ramBudget} bytes (--ram-budget)`);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let nbd: Awaited<ReturnType<typeof startNbd>>;
  // Page-hosted block devices join the built-in exports (over the gateway even with --nbd off).
  let blockDevices: PageDevices;
  try {
    const builtin = builtinExports(values, ns);
    blockDevices = new PageDevices(() => builtin);
    nbd = await startNbd(values, blockDevices, log, (line) => said.push(line));
  } catch (e) {
    throw e instanceof StartupError ? e : new StartupError(`--nbd: ${errText(e)}`);
  }
  const n = nbd;
  if (n) undo.push(() => n.close());
  let http: HttpServer | null = null;
  let iouringd: { stop(): Promise<void> } | null = null;
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
    if (values.iouringd) {
      const child = await startIouringdChild();
      if (child.ok) {
        iouringd = child;
        undo.push(() => child.stop());
        backends.push(parseBackend(`iouring=iouring:unix!${child.socketPath}`));
      } else console.error(`styxlab: no io_uring backend: ${child.reason}`);
    }
    http = new HttpServer(ns, {
      host, port: Number(m[3]), backends, token, allowOrigins: values['allow-origin'] ?? [],
      webRoot: join(PACKAGE_ROOT, 'web', 'dist'),
      maxSockets: positiveInt(values['max-websockets'], 'max-websockets', 64),
      maxMounts: positiveInt(values['max-mounts'], 'max-mounts', 32),
      idleTimeoutMs,
      deadlineMs: positiveInt(values.deadline, 'deadline', 5000),
      maxMessage: msize,
      blockDevices,
      log,
      extraStatus: () => {
        const m = process.memoryUsage();
        return {
          // listen: where 9P clients dial (the page's welcome fills it into its copy-paste lines).
          ninep: { listen: bound, connections: listener.connections, ...listener.stats },
          // How long the event loop was held up, since start: every client waits that long.
          eventLoopDelayMs: { max: loopDelay.max / 1e6, p99: loopDelay.percentile(99) / 1e6 },
          memory: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers },
        };
      },
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
      void Promise.all([listener.close(), http?.close(), iouringd?.stop(), nbd?.close()]).then(() => resolve());
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
