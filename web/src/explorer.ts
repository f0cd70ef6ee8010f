// The file explorer: a tree of the chosen backend's namespace (the local one by default: one
// directory per mount), over a 9P client through the gateway. Directories open and close with
// their buttons; a file's button shows it in the console.
import { type Client, type Dir } from '../../shared/client/index.ts';
import { DMDIR } from '../../shared/ninep/index.ts';
import { connectGateway } from './net.ts';
import { errText } from '../../shared/errtext.ts';

export interface ExplorerHooks {
  /** A file was chosen. */
  open(path: string): void;
  /** The client changed (connected, or lost: null). */
  client(c: Client | null): void;
}

const LIST_TIMEOUT_MS = 5000;
/** Entries shown per directory; a huge directory is cut short rather than freezing the page. */
const MAX_ENTRIES = 500;

/**
 * A promise that settles within ms even if p never does: a cancelled request waits for the
 * server's Rflush, and a server that sends none must not stall every later listing.
 */
function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export class Explorer {
  client: Client | null = null;
  backend = 'local';
  aname = '';
  uname = '';
  private readonly expanded = new Set<string>(['/']);
  private listing: Promise<void> | null = null;
  /** Names at the root as last listed (null before a listing, or when it failed). */
  rootNames: string[] | null = null;
  private again = false;
  private generation = 0;

  constructor(private readonly tree: HTMLElement, private readonly note: HTMLElement, private readonly hooks: ExplorerHooks) {}

  /** Connects to a backend (closing the previous connection) and lists its root. */
  async connect(backend: string, aname: string, uname = ''): Promise<void> {
    const gen = ++this.generation;
    this.backend = backend;
    this.aname = aname;
    this.uname = uname;
    this.drop();
    this.expanded.clear();
    this.expanded.add('/');
    this.tree.replaceChildren();
    this.rootNames = null;
    this.say(`connecting to ${backend}…`);
    try {
      const c = await connectGateway(backend, aname, AbortSignal.timeout(LIST_TIMEOUT_MS), uname);
      if (gen !== this.generation) {
        c.close();
        return;
      }
      this.client = c;
      c.onClose(() => {
        if (this.client !== c) return;
        this.client = null;
        this.hooks.client(null);
        this.say(`disconnected from ${backend}`);
      });
      this.hooks.client(c);
      await this.refresh();
    } catch (e) {
      if (gen === this.generation) this.say(`cannot reach ${backend}: ${errText(e)}`);
    }
  }

  /** Connects again if the connection was lost (the server restarted). */
  async ensure(): Promise<void> {
    if (!this.client) await this.connect(this.backend, this.aname, this.uname);
  }

  /** Closes the connection (a later connect() or ensure() opens one again). */
  disconnect(): void {
    this.generation++;
    this.drop();
  }

  private drop(): void {
    const c = this.client;
    this.client = null;
    if (c) {
      this.hooks.client(null);
      c.close();
    }
  }

  private say(text: string): void {
    this.note.textContent = text;
  }

  /** Lists the open directories again; calls during a listing coalesce into one more. */
  refresh(): Promise<void> {
    if (this.listing) {
      this.again = true;
      return this.listing;
    }
    this.listing = (async () => {
      try {
        do {
          this.again = false;
          await this.list();
        } while (this.again);
      } finally {
        this.listing = null;
      }
    })();
    return this.listing;
  }

  private async list(): Promise<void> {
    const c = this.client;
    if (!c) return;
    const dirs = new Map<string, Dir[] | string>();
    for (const path of [...this.expanded].sort()) {
      try {
        const ents = await bounded(c.readdir(path, { signal: AbortSignal.timeout(LIST_TIMEOUT_MS) }), LIST_TIMEOUT_MS + 1000);
        dirs.set(path, ents.sort((a, b) => a.name.localeCompare(b.name)));
      } catch (e) {
        // Stays open: a mount being replaced (live reload) fails a listing for a moment.
        dirs.set(path, errText(e));
      }
    }
    const root = dirs.get('/');
    this.rootNames = Array.isArray(root) ? root.map((d) => d.name).sort() : null;
    this.render(dirs);
    this.say(`${this.backend}${this.aname ? ` (${this.aname})` : ''}`);
  }

  private render(dirs: Map<string, Dir[] | string>): void {
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.path;
    const build = (path: string): HTMLUListElement => {
      const ul = document.createElement('ul');
      const ents = dirs.get(path);
      if (typeof ents === 'string') {
        const li = document.createElement('li');
        li.className = 'err';
        li.textContent = ents;
        ul.append(li);
        return ul;
      }
      if (!ents || ents.length === 0) {
        const li = document.createElement('li');
        li.className = 'empty';
        li.textContent = ents ? '(empty)' : '';
        ul.append(li);
        return ul;
      }
      for (const d of ents.slice(0, MAX_ENTRIES)) {
        const child = (path === '/' ? '' : path) + '/' + d.name;
        const isDir = (d.mode & DMDIR) !== 0;
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.className = isDir ? 'entry dir' : 'entry file';
        b.dataset.path = child;
        b.textContent = d.name;
        b.title = isDir ? `${child}: open or close` : `${child}: ${d.length} bytes, show in the console`;
        if (isDir) {
          const open = this.expanded.has(child);
          b.setAttribute('aria-expanded', String(open));
          b.onclick = () => {
            if (this.expanded.has(child)) this.expanded.delete(child);
            else this.expanded.add(child);
            void this.refresh();
          };
          li.append(b);
          if (open && dirs.has(child)) li.append(build(child));
        } else {
          b.onclick = () => this.hooks.open(child);
          li.append(b);
        }
        ul.append(li);
      }
      if (ents.length > MAX_ENTRIES) {
        const li = document.createElement('li');
        li.className = 'empty';
        li.textContent = `… ${ents.length - MAX_ENTRIES} more`;
        ul.append(li);
      }
      return ul;
    };
    this.tree.replaceChildren(build('/'));
    if (focused) {
      const again = this.tree.querySelector<HTMLElement>(`[data-path="${CSS.escape(focused)}"]`);
      again?.focus();
    }
  }
}
