// The Mounts list under Files and the status poll behind it: the server's live mounts, and this
// tab's own run when it crashed or failed (once, in the page's own words, until it runs again).
// Stopped runs are not listed: the user stopped them.
import type { Explorer } from './explorer.ts';
import { type ServerStatus, fetchStatus } from './net.ts';

export interface MountsHooks {
  /** Whether this tab runs the mount called name. */
  mine(name: string): boolean;
  /** Stops this tab's run of name. */
  stop(name: string): void;
}

/** How many of this tab's ended runs are kept in the list at most. */
const ENDED_SHOWN = 3;

export class MountsPanel {
  /** This tab's runs that crashed or failed: name -> what happened. */
  private readonly ended = new Map<string, string>();
  private lastSig = '';
  private polling: Promise<void> | null = null;
  /** Set when a poll is asked for while one is under way: its answer may predate the change. */
  private again = false;
  private failures = 0;
  private last: ServerStatus | null = null;

  constructor(private readonly list: HTMLElement, private readonly explorer: Explorer, private readonly hooks: MountsHooks) {}

  /** A run of this tab changed state: crashes and failures are listed, anything else clears its line. */
  note(name: string, state: string, detail: string): void {
    if (state === 'crashed' || state === 'failed') {
      this.ended.delete(name);
      this.ended.set(name, `${state}${detail ? `: ${detail}` : ''}`);
      while (this.ended.size > ENDED_SHOWN) this.ended.delete(this.ended.keys().next().value as string);
    } else this.ended.delete(name);
    if (this.last) this.show(this.last);
  }

  private show(s: ServerStatus): void {
    // Page-hosted block devices are NBD exports, not in the file tree, but runs all the same.
    const mounts = [...s.mounts, ...(s.blockDevices ?? []).map((name) => ({ name, kind: 'nbd', source: 'page', status: 'running' }))];
    const live = new Set(mounts.map((m) => m.name));
    const items = mounts.map((m) => {
      const li = document.createElement('li');
      const mine = this.hooks.mine(m.name);
      li.textContent = `${m.name} (${m.kind}${mine ? ', this tab' : ''}): ${m.status}`;
      li.dataset.status = m.status;
      if (mine) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'mount-stop';
        b.textContent = 'Stop';
        b.setAttribute('aria-label', `Stop ${m.name}`);
        b.onclick = () => this.hooks.stop(m.name);
        li.append(' ', b);
      }
      return li;
    });
    for (const [name, what] of this.ended) {
      if (live.has(name)) continue;
      const li = document.createElement('li');
      li.className = 'ended';
      li.textContent = `${name}: ${what}`;
      items.push(li);
    }
    this.list.replaceChildren(...items);
  }

  /** Asks the server for its mounts; the file tree is listed again when they change. */
  poll(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return this.polling;
    }
    this.polling = (async () => {
      try {
        do {
          this.again = false;
          await this.pollOnce();
        } while (this.again);
      } finally {
        this.polling = null;
      }
    })();
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    const ex = this.explorer;
    try {
      const s = await fetchStatus(AbortSignal.timeout(5000));
      this.failures = 0;
      this.last = s;
      this.show(s);
      const sig = s.mounts.map((m) => `${m.name}:${m.status}`).join(',');
      // List again when the mounts changed, or when the tree shows other mounts than the server
      // has (a listing can land between two polls, e.g. during a live reload's swap).
      const names = s.mounts.map((m) => m.name).sort().join('/');
      const shown = ex.backend === 'local' ? ex.rootNames?.join('/') : names;
      if (sig !== this.lastSig || shown !== names) {
        this.lastSig = sig;
        await ex.ensure();
        if (ex.backend === 'local') await ex.refresh();
      }
    } catch {
      this.failures++;
      this.list.replaceChildren(Object.assign(document.createElement('li'), { textContent: 'styxlab is not answering', className: 'err' }));
    }
  }

  /** One poll every 2 s while the page is visible, backing off to 30 s while the server is away. */
  schedule(): void {
    const delay = Math.min(2000 * 2 ** Math.min(this.failures, 4), 30_000);
    setTimeout(() => {
      if (document.visibilityState === 'visible') void this.poll().finally(() => this.schedule());
      else this.schedule();
    }, delay);
  }
}
