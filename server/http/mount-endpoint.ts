// /mount?name=NAME: a page serves 9P over the WebSocket and this side, as its 9P client, mounts it
// at NAME. Everything the page sends is checked like any peer's; a request it leaves unanswered past
// the deadline closes the mount (the page's watchdog shows "crashed"), and on disconnect the mount
// disappears and its pending requests fail at once.
// With kind=nbd the page serves a block device instead (server/nbd/page-device.ts), exported by
// the NBD server under the same name; the name, key and watchdog rules are the same.
import { timingSafeEqual } from 'node:crypto';
import type { WebSocket } from 'ws';
import { Client, type MessageTransport } from '../../shared/client/index.ts';
import { type WebSocketLike, webSocketTransport } from '../../shared/net/websocket.ts';
import type { Namespace } from '../namespace/namespace.ts';
import { PageLink, type PageDevices } from '../nbd/page-device.ts';
import { RemoteFileServer } from '../namespace/remote-fs.ts';
import { Close, closeReason } from '../../shared/mount/closecodes.ts';
import { mountNameProblem } from '../../shared/mount/names.ts';

export interface PageMount {
  name: string;
  ws: WebSocket;
  origin: string;
  since: number;
  /** The page's secret: only a page that shows it again may replace this mount. */
  key: string;
  /** A 9P file server, or a block device exported over NBD. */
  kind: PageKind;
  /** A block device's RPC link, once listed. */
  link?: PageLink;
}

export type PageKind = '9p' | 'nbd';

/** A page's mount key: long enough that another local program cannot guess it. */
export const KEY_RE = /^[A-Za-z0-9_-]{22,128}$/;
/** Names a page may not take: what the namespace answers to besides its mounts. */
const RESERVED = new Set(['ctl']);

export class PageMounts {
  readonly live = new Map<string, PageMount>();
  /** Last words of mounts that ended, for the status page: name -> reason. */
  readonly ended = new Map<string, string>();
  /** Live reloads still doing their 9P handshake: name -> the newer page (see accept). */
  private readonly replacing = new Map<string, PageMount>();

  constructor(
    private readonly ns: Namespace,
    private readonly opts: { deadlineMs: number; maxMounts: number; msize: number; log: (line: string) => void; devices?: PageDevices },
  ) {}

  /** Serves one /mount WebSocket until it closes. */
  /**
   * key: the page's secret (see KEY_RE), chosen by the page and kept by it (the playground keeps
   * one per browser profile); a mount made without one can never be replaced, only freed by its
   * page disconnecting.
   */
  async accept(ws: WebSocket, name: string, replace: boolean, origin: string, key: string, kind: PageKind = '9p'): Promise<void> {
    const log = this.opts.log;
    // Every close here may quote the page's input: closeReason keeps it within a close frame
    // (ws throws on a longer reason, which would take the whole server down).
    const close = (code: number, reason: string) => ws.close(code, closeReason(reason));
    const bad = mountNameProblem(name);
    if (bad) {
      close(Close.badData, bad);
      return;
    }
    if (RESERVED.has(name)) {
      close(Close.nameTaken, `'${name}' is reserved`);
      return;
    }
    if (key !== '' && !KEY_RE.test(key)) {
      close(Close.badData, 'bad mount key: 22 to 128 letters, digits, \'-\' or \'_\'');
      return;
    }
    const devices = this.opts.devices;
    if (kind === 'nbd' && !devices) {
      close(Close.badData, 'this server does not export block devices');
      return;
    }
    // A page still connecting holds its name too, so two pages cannot race for one name.
    const page = this.live.get(name);
    if (!page && kind === 'nbd' && devices?.isBuiltin(name)) {
      close(Close.nameTaken, `'${name}' is already an NBD export (--nbd-export)`);
      return;
    }
    if ((kind === '9p' && this.ns.get(name)) || page) {
      if (!page) {
        close(Close.nameTaken, `'${name}' is already mounted (a built-in or remote mount)`);
        return;
      }
      if (!replace) {
        close(Close.nameTaken, `'${name}' is already mounted by another page`);
        return;
      }
      if (page.key === '' || !sameKey(page.key, key)) {
        close(Close.nameTaken, `'${name}' is mounted by another page, which alone may replace it`);
        return;
      }
    } else if (this.live.size >= this.opts.maxMounts) {
      close(Close.limit, `too many page mounts (${this.opts.maxMounts})`);
      return;
    }
    const entry: PageMount = { name, ws, origin, since: Date.now(), key, kind };
    // A live reload of a 9P mount: the old version serves on until the new one has answered
    // Tattach, so readers never find the name missing and a new version that never answers
    // leaves the old one in place. A later replace of the same name supersedes this one.
    const swapping = !!page && page.kind === '9p' && kind === '9p';
    if (page && !swapping) this.retire(name, page);
    if (swapping) {
      this.replacing.get(name)?.ws.close(Close.replaced, closeReason(`replaced by a newer server for '${name}'`));
      this.replacing.set(name, entry);
    } else {
      this.live.set(name, entry);
      this.ended.delete(name);
    }
    if (devices && kind === 'nbd') {
      await this.serveDevice(entry, devices, close);
      return;
    }
    const inner = webSocketTransport(ws as unknown as WebSocketLike);
    // The client closes its transport with a bare reason ('protocol error', 'cancelled') and
    // the WebSocket adapter sends that as a normal close (1000); the page should see 4400.
    const transport: MessageTransport = {
      ...inner,
      close: (reason) => {
        if (reason !== undefined) close(Close.badData, `bad 9P from the page: ${reason}`);
        inner.close(reason);
      },
    };
    let client: Client;
    const ctrl = new AbortController();
    const timer = setTimeout(() => {
      // Say why before the aborted connect closes the socket with its own reason.
      close(Close.deadline, `watchdog: the page did not answer Tversion and Tattach within ${this.opts.deadlineMs} ms`);
      ctrl.abort();
    }, this.opts.deadlineMs);
    try {
      client = await Client.connect(transport, { version: '9P2000.u', msize: this.opts.msize, uname: 'styxlab', signal: ctrl.signal });
    } catch (e) {
      if (this.live.get(name) === entry) this.live.delete(name);
      if (this.replacing.get(name) === entry) this.replacing.delete(name);
      close(Close.badData, `the page did not answer as a 9P server: ${(e as Error).message}`);
      return;
    } finally {
      clearTimeout(timer);
    }
    if (swapping) {
      if (this.replacing.get(name) !== entry) { await client.end(); return; }
      this.replacing.delete(name);
      const old = this.live.get(name);
      // The page replaced went meanwhile, and another took the name: only its own key replaces it.
      if (old && old !== page && (old.key === '' || !sameKey(old.key, key))) {
        close(Close.nameTaken, `'${name}' is mounted by another page, which alone may replace it`);
        await client.end();
        return;
      }
      if (old) this.retire(name, old);
      this.live.set(name, entry);
      this.ended.delete(name);
    }
    if (this.live.get(name) !== entry) { await client.end(); return; }
    const fs = new RemoteFileServer(client, {
      deadlineMs: this.opts.deadlineMs,
      onDeadline: (what) => {
        log(`mount ${name}: watchdog: ${what}; closing the page's connection`);
        close(Close.deadline, `watchdog: ${what}`);
        // Fail the other pending requests and unmount now, not when the close handshake ends.
        client.close();
      },
    });
    client.onClose((err) => {
      // A reply that broke the protocol: tell the page exactly what (the client's own close of
      // the transport then finds the socket closing).
      if (err.kind === 'protocol') close(Close.badData, err.message);
    });
    this.ns.mount(name, 'page', origin || 'page', fs);
    log(`mount ${name}: page server mounted (${client.dialect})`);
    await new Promise<void>((resolve) => client.onClose((err) => {
      this.drop(name, entry, err.message);
      resolve();
    }));
  }

  /** A page's block device: listed as an NBD export until the page goes (or breaks a rule). */
  private async serveDevice(entry: PageMount, devices: PageDevices, close: (code: number, reason: string) => void): Promise<void> {
    const { name, ws } = entry;
    const link = new PageLink(webSocketTransport(ws as unknown as WebSocketLike), {
      deadlineMs: this.opts.deadlineMs,
      onFault: (kind, why) => {
        this.opts.log(`nbd export ${name}: ${kind === 'deadline' ? 'watchdog: ' : ''}${why}; closing the page's connection`);
        close(kind === 'deadline' ? Close.deadline : Close.badData, kind === 'deadline' ? `watchdog: ${why}` : why);
      },
    });
    entry.link = link;
    devices.attach(name, link, entry.origin);
    this.opts.log(`nbd export ${name}: page block device listed`);
    this.drop(name, entry, await link.done());
  }

  /** Ends a page mount that a newer page replaces (the caller mounts the newer one in the same turn). */
  private retire(name: string, page: PageMount): void {
    page.ws.close(Close.replaced, closeReason(`replaced by a newer server for '${name}'`));
    this.drop(name, page, 'replaced');
  }

  private drop(name: string, entry: PageMount, why: string): void {
    if (this.live.get(name) !== entry) return;
    this.live.delete(name);
    this.ended.set(name, why);
    // Bounded: a page could try many names.
    if (this.ended.size > 64) this.ended.delete(this.ended.keys().next().value as string);
    if (entry.link) this.opts.devices?.detach(name, entry.link);
    else if (this.ns.get(name)?.kind === 'page') this.ns.unmount(name);
    this.opts.log(`mount ${name}: gone (${why})`);
  }
}

function sameKey(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
