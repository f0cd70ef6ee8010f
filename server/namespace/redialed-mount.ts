// `--mount NAME=ADDRESS[,aname=A,version=V]`: a remote 9P server mounted into the namespace, which
// keeps trying to reconnect (with backoff) while the remote is away. Requests into the mount fail
// promptly while it is down; the rest of the namespace is not affected.
import { Client, type MessageTransport } from '../../shared/client/index.ts';
import { type Dialect, TagMux } from '../../shared/ninep/index.ts';
import { dial } from '../net/transport.ts';
import type { Namespace } from './namespace.ts';
import { RemoteFileServer } from './remote-fs.ts';
import { errText } from '../../shared/errtext.ts';

export interface MountSpec {
  name: string;
  address: string;
  aname: string;
  version: Dialect;
  uname: string;
}

const VERSIONS: Record<string, Dialect> = { '9p2000': '9P2000', '9p2000.u': '9P2000.u', '9p2000.l': '9P2000.L' };

/** Parses NAME=ADDRESS[,aname=A][,version=V][,uname=U]. */
export function parseMountSpec(s: string): MountSpec {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new Error(`--mount '${s}': want NAME=ADDRESS[,aname=A,version=V]`);
  const name = s.slice(0, eq);
  const [address, ...opts] = s.slice(eq + 1).split(',');
  if (!address) throw new Error(`--mount '${s}': no address`);
  const spec: MountSpec = { name, address, aname: '', version: '9P2000.L', uname: 'nobody' };
  for (const o of opts) {
    const [k, v = ''] = o.split('=');
    if (k === 'aname') spec.aname = v;
    else if (k === 'uname') spec.uname = v;
    else if (k === 'version') {
      const d = VERSIONS[v.toLowerCase()];
      if (!d) throw new Error(`--mount '${s}': version must be 9P2000, 9P2000.u or 9P2000.L`);
      spec.version = d;
    } else throw new Error(`--mount '${s}': unknown option '${k}'`);
  }
  return spec;
}

export interface RemoteMountOptions {
  /** Milliseconds for a connection to be made and answer Tversion and Tattach. */
  connectTimeoutMs: number;
  /** Milliseconds each request has before it is flushed and fails (ETIMEDOUT). */
  requestTimeoutMs: number;
  log: (line: string) => void;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** How long start-up waits for a remote's TCP connection (not its 9P answer). */
const FIRST_DIAL_MS = 2000;
/** Errors that say nothing listens at an address (not that it is slow or stopped). */
const REFUSED = new Set(['ECONNREFUSED', 'ENOENT']);

export class RemoteMount {
  readonly fs: RemoteFileServer;
  private client: Client | null = null;
  private backoff = 500;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private readonly log: (line: string) => void;

  constructor(readonly ns: Namespace, readonly spec: MountSpec, private readonly opts: RemoteMountOptions) {
    this.log = opts.log;
    this.fs = new RemoteFileServer(null, {
      deadlineMs: opts.requestTimeoutMs,
      onUnresponsive: (what) => {
        // A stopped remote, or one that swallows requests: start over on a new connection.
        this.log(`styxlab: mount ${this.spec.name}: ${this.spec.address} is not answering (${what}, and not its Tflush); reconnecting`);
        this.client?.close();
      },
    });
  }

  get status(): string { return this.fs.connected ? 'up' : 'down'; }

  /** A connection, its tags shared by the Client and the requests forwarded as bytes. */
  private async connectOnce(transport?: MessageTransport): Promise<{ client: Client; mux: TagMux }> {
    const signal = AbortSignal.timeout(this.opts.connectTimeoutMs);
    const t = transport ?? await dial(this.spec.address, { signal });
    try {
      const mux = new TagMux(t);
      const client = await Client.connect(mux.clientEnd, { version: this.spec.version, aname: this.spec.aname, uname: this.spec.uname, signal });
      return { client, mux };
    } catch (e) {
      t.close();
      throw signal.aborted ? new Error(`no answer to Tversion and Tattach within ${this.opts.connectTimeoutMs} ms`) : e;
    }
  }

  /**
   * Mounts at once, down, and connects in the background: start-up waits on no 9P conversation,
   * and requests into the mount fail promptly (EHOSTDOWN) until it is up. It waits only for the
   * TCP connection (a moment on loopback, at most FIRST_DIAL_MS): a remote that refuses it (nothing
   * listens there) is a mistake in the command line, and start() rejects.
   */
  async start(): Promise<void> {
    let t: MessageTransport;
    try {
      t = await dial(this.spec.address, { signal: AbortSignal.timeout(Math.min(FIRST_DIAL_MS, this.opts.connectTimeoutMs)) });
    } catch (e) {
      const code = (e instanceof Error && (e.cause as { code?: string } | undefined)?.code) || '';
      if (REFUSED.has(code)) throw new Error(`nothing listens at ${this.spec.address} (${code})`);
      this.ns.mount(this.spec.name, 'remote', this.spec.address, this.fs);
      this.log(`styxlab: mount ${this.spec.name}: cannot reach ${this.spec.address} (${errText(e)}); mounted down, retrying in the background`);
      this.schedule();
      return;
    }
    this.ns.mount(this.spec.name, 'remote', this.spec.address, this.fs);
    void this.reconnect(true, t);
  }

  private watch(c: Client): void {
    c.onClose((err) => {
      if (this.client === c) this.client = null;
      if (this.stopped) return;
      this.log(`styxlab: mount ${this.spec.name}: connection to ${this.spec.address} lost (${err.message}); reconnecting`);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reconnect();
    }, this.backoff);
    this.timer.unref?.();
    this.backoff = Math.min(this.backoff * 2, 30000);
  }

  /** One connection attempt now; on failure another is scheduled. */
  async reconnect(first = false, transport?: MessageTransport): Promise<boolean> {
    if (this.stopped) { transport?.close(); return false; }
    try {
      const { client: c, mux } = await this.connectOnce(transport);
      if (this.stopped) { await c.end(); return false; }
      this.client = c;
      this.fs.attach(c, mux);
      this.watch(c);
      this.backoff = 500;
      this.log(first
        ? `styxlab: mounted ${this.spec.address} (${c.dialect}) at /${this.spec.name}`
        : `styxlab: mount ${this.spec.name}: reconnected to ${this.spec.address}`);
      return true;
    } catch (e) {
      if (first) this.log(`styxlab: mount ${this.spec.name}: cannot reach ${this.spec.address} (${errText(e)}); mounted down, retrying in the background`);
      this.schedule();
      return false;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ns.unmount(this.spec.name);
    this.client?.close();
  }
}
