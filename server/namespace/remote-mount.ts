// `--mount NAME=ADDRESS[,aname=A,version=V]`: a remote 9P server mounted into the namespace, which
// keeps trying to reconnect (with backoff) while the remote is away. Requests into the mount fail
// promptly while it is down; the rest of the namespace is not affected.
import { Client } from '../../shared/client/index.ts';
import type { Dialect } from '../../shared/ninep/index.ts';
import { dial } from '../net/transport.ts';
import type { Namespace } from './namespace.ts';
import { RemoteFileServer } from './remote.ts';

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

export class RemoteMount {
  fs: RemoteFileServer | null = null;
  private backoff = 500;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(readonly ns: Namespace, readonly spec: MountSpec, private readonly log: (line: string) => void) {}

  get status(): string { return this.fs?.connected ? 'up' : 'down'; }

  private async connectOnce(): Promise<Client> {
    const t = await dial(this.spec.address);
    try {
      return await Client.connect(t, { version: this.spec.version, aname: this.spec.aname, uname: this.spec.uname });
    } catch (e) {
      t.close();
      throw e;
    }
  }

  /** Connects and mounts; the first connection must succeed. */
  async start(): Promise<void> {
    const c = await this.connectOnce();
    this.fs = new RemoteFileServer(c);
    this.watch(c);
    this.ns.mount(this.spec.name, 'remote', this.spec.address, this.fs);
    this.log(`styxlab: mounted ${this.spec.address} (${c.dialect}) at /${this.spec.name}`);
  }

  private watch(c: Client): void {
    c.onClose((err) => {
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

  /** One reconnection attempt now; on failure another is scheduled. */
  async reconnect(): Promise<boolean> {
    if (this.stopped || !this.fs) return false;
    try {
      const c = await this.connectOnce();
      if (this.stopped) { await c.end(); return false; }
      this.fs.attach(c);
      this.watch(c);
      this.backoff = 500;
      this.log(`styxlab: mount ${this.spec.name}: reconnected to ${this.spec.address}`);
      return true;
    } catch {
      this.schedule();
      return false;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ns.unmount(this.spec.name);
    try { this.fs?.current().close(); } catch { /* already down */ }
  }
}
