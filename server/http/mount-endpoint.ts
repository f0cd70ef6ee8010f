// /mount?name=NAME: a page serves 9P over the WebSocket and this side, as its 9P client, mounts it
// at NAME. Everything the page sends is checked like any peer's; a request it leaves unanswered past
// the deadline closes the mount (the page's watchdog shows "crashed"), and on disconnect the mount
// disappears and its pending requests fail at once.
import type { WebSocket } from 'ws';
import { Client } from '../../shared/client/index.ts';
import { type WebSocketLike, webSocketTransport } from '../../shared/net/websocket.ts';
import type { Namespace } from '../namespace/namespace.ts';
import { RemoteFileServer } from '../namespace/remote.ts';
import { Close } from './closecodes.ts';

export interface PageMount {
  name: string;
  ws: WebSocket;
  origin: string;
  since: number;
}

export const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

export class PageMounts {
  readonly live = new Map<string, PageMount>();
  /** Last words of mounts that ended, for the status page: name -> reason. */
  readonly ended = new Map<string, string>();

  constructor(
    private readonly ns: Namespace,
    private readonly opts: { deadlineMs: number; maxMounts: number; msize: number; log: (line: string) => void },
  ) {}

  /** Serves one /mount WebSocket until it closes. */
  async accept(ws: WebSocket, name: string, replace: boolean, origin: string): Promise<void> {
    const log = this.opts.log;
    if (!NAME_RE.test(name) || name === '.' || name === '..') {
      ws.close(Close.badData, `bad mount name '${name}': use letters, digits, '.', '_' and '-'`);
      return;
    }
    const existing = this.ns.get(name);
    if (existing) {
      const page = this.live.get(name);
      if (!replace || !page) {
        ws.close(Close.nameTaken, `'${name}' is already mounted${page ? ' (by another page; ask to replace it)' : ''}`);
        return;
      }
      // Live reload: the newer page takes the name over.
      page.ws.close(Close.replaced, `replaced by a newer server for '${name}'`);
      this.drop(name, page, 'replaced');
    } else if (this.live.size >= this.opts.maxMounts) {
      ws.close(Close.limit, `too many page mounts (${this.opts.maxMounts})`);
      return;
    }
    const entry: PageMount = { name, ws, origin, since: Date.now() };
    this.live.set(name, entry);
    this.ended.delete(name);
    let client: Client;
    const transport = webSocketTransport(ws as unknown as WebSocketLike);
    try {
      client = await Client.connect(transport, { version: '9P2000.u', msize: this.opts.msize, uname: 'styxlab', signal: AbortSignal.timeout(this.opts.deadlineMs) });
    } catch (e) {
      this.live.delete(name);
      ws.close(Close.badData, `the page did not answer as a 9P server: ${(e as Error).message}`.slice(0, 120));
      return;
    }
    if (this.live.get(name) !== entry) { await client.end(); return; }
    const fs = new RemoteFileServer(client, {
      deadlineMs: this.opts.deadlineMs,
      onDeadline: (what) => {
        log(`mount ${name}: watchdog: ${what}; closing the page's connection`);
        ws.close(Close.deadline, `watchdog: ${what}`.slice(0, 120));
      },
    });
    this.ns.mount(name, 'page', origin || 'page', fs);
    log(`mount ${name}: page server mounted (${client.dialect})`);
    await new Promise<void>((resolve) => client.onClose((err) => {
      this.drop(name, entry, err.message);
      resolve();
    }));
  }

  private drop(name: string, entry: PageMount, why: string): void {
    if (this.live.get(name) !== entry) return;
    this.live.delete(name);
    this.ended.set(name, why);
    if (this.ns.get(name)?.kind === 'page') this.ns.unmount(name);
    this.opts.log(`mount ${name}: gone (${why})`);
  }
}
