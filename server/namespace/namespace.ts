// The mount table: the local namespace's root directory, whose entries are mounts, each a name
// plus a FileServer (a built-in file system in this process, or a 9P connection to a remote or
// page-hosted server). Every client connection gets a Router (router.ts), which keeps its fids and
// forwards the ones inside a mount to that mount's per-connection Service.
import { DEFAULT_MAX_FIDS, type FileServer, type Service } from '../../shared/styx/index.ts';
import { Router } from './router.ts';
import { mountNameProblem } from '../../shared/mount/names.ts';

export class Mount {
  constructor(
    readonly name: string,
    readonly kind: string,
    readonly source: string,
    readonly fs: FileServer,
    /** Distinguishes this mount's qid paths from every other mount's (top byte of the path). */
    readonly id: number,
  ) {}
}

export class Namespace {
  private readonly mounts = new Map<string, Mount>();
  private readonly listeners = new Set<() => void>();
  /** The connections' Routers, while they are open. */
  private readonly routers = new Set<Router>();
  private nextId = 1;
  readonly mtime = Math.floor(Date.now() / 1000);

  /** maxFids: fids one connection may hold in the namespace (its own, not its mounts'). */
  constructor(readonly user = 'styx', readonly maxFids = DEFAULT_MAX_FIDS) {}

  mount(name: string, kind: string, source: string, fs: FileServer): Mount {
    const bad = mountNameProblem(name);
    if (bad) throw new Error(bad);
    if (this.mounts.has(name)) throw new Error(`'${name}' is already mounted`);
    const used = new Set([...this.mounts.values()].map((m) => m.id));
    let id = this.nextId;
    for (let i = 0; used.has(id) && i < 255; i++) id = (id % 255) + 1;
    if (used.has(id)) throw new Error('too many mounts (255)');
    this.nextId = (id % 255) + 1;
    const m = new Mount(name, kind, source, fs, id);
    this.mounts.set(name, m);
    this.changed();
    return m;
  }

  unmount(name: string): boolean {
    const ok = this.mounts.delete(name);
    if (ok) this.changed();
    return ok;
  }

  get(name: string): Mount | undefined { return this.mounts.get(name); }

  list(): Mount[] { return [...this.mounts.values()]; }

  /** Called whenever a mount comes or goes. Returns a function that stops the calls. */
  onChange(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  private changed(): void {
    for (const f of this.listeners) f();
  }

  /** A FileServer view: each connection gets a Router. */
  connect(): Service {
    const r = new Router(this, () => this.routers.delete(r));
    this.routers.add(r);
    return r;
  }

  /** Connections open now. */
  get connections(): number { return this.routers.size; }

  /** Fids held by all connections, in the namespace and in the mounts' services (0 when idle). */
  get fidCount(): number {
    let n = 0;
    for (const r of this.routers) n += r.fidCount;
    return n;
  }
}
