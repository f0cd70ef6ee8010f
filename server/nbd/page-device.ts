// Page-hosted block devices: a program in the page's Worker serves a BlockDevice over the /mount
// WebSocket (kind=nbd), and `styxlab serve --nbd` exports it under its mount name. This side is
// the caller of the framed RPC in shared/nbd/page-rpc.ts: each NBD connection's open() becomes an
// OPEN on the page, each request a call with its own deadline.
//
// Every reply from the page is untrusted: a reply that breaks the framing, answers an id not in
// flight or has the wrong size for its request ends the page's connection (the page sees 4400),
// and a request left unanswered past the deadline ends it too (4408, the watchdog). Either way
// the requests in flight fail with EIO, the export leaves the list, and later requests of NBD
// connections still open get EIO until a page serves the name again (a live reload: they open
// the device again on the new page and go on, provided its size has not changed).
import { NbdErrno } from '../../shared/nbd/constants.ts';
import type { BlockConnection, BlockDevice, Export, OpenContext } from '../../shared/nbd/device.ts';
import { NbdError, toWireErrno } from '../../shared/nbd/errors.ts';
import type { Extent } from '../../shared/nbd/messages.ts';
import {
  type OpenReply, type RpcRequest, RpcCap, RpcHas, RpcStatus, decodeErrorBody, decodeExtentsReply,
  decodeOpenReply, decodeReply, encodeRequest,
} from '../../shared/nbd/page-rpc.ts';
import type { MessageTransport } from '../../shared/transport.ts';

export type PageFault = 'deadline' | 'protocol';

export interface PageLinkOptions {
  /** Milliseconds the page has to answer each request, from when it is sent. */
  deadlineMs: number;
  /** Requests sent to the page at once; more wait here, their deadline not yet running. */
  maxInFlight?: number;
  /** The link broke because of the page: the caller closes the WebSocket with the matching code. */
  onFault(kind: PageFault, why: string): void;
}

interface Call {
  op: RpcRequest['op'];
  resolve(body: Uint8Array): void;
  reject(e: Error): void;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Requests at the page at once by default: a page answers one at a time, so the deadline of a
 * request queued behind many others would measure the queue rather than the page.
 */
export const DEFAULT_PAGE_INFLIGHT = 8;

type Args<R> = R extends RpcRequest ? Omit<R, 'id'> : never;

const eio = (message: string) => new NbdError(NbdErrno.EIO, message);

/** The RPC caller over one page's WebSocket. */
export class PageLink {
  private nextId = 1;
  private readonly calls = new Map<number, Call>();
  private readonly queue: Array<{ r: Args<RpcRequest>; call: Call }> = [];
  private ended: string | null = null;
  private endWaiters: Array<(why: string) => void> = [];

  constructor(private readonly transport: MessageTransport, private readonly opts: PageLinkOptions) {
    transport.onMessage((f) => this.receive(f));
    transport.onClose((err) => this.end(err ? `the page's connection closed: ${err.message}` : 'the page closed its connection'));
  }

  get isOpen(): boolean { return this.ended === null; }

  /** Resolves with the reason once the link has ended. */
  done(): Promise<string> {
    if (this.ended !== null) return Promise.resolve(this.ended);
    return new Promise((resolve) => this.endWaiters.push(resolve));
  }

  /** Sends one frame that has no reply (HELLO). */
  notify(r: Args<RpcRequest>): void {
    if (this.ended === null) this.transport.send(encodeRequest({ ...r, id: 0 } as RpcRequest));
  }

  /** Calls the page; resolves with the OK reply's body, or rejects with an NbdError. */
  call(r: Args<RpcRequest>): Promise<Uint8Array> {
    if (this.ended !== null) return Promise.reject(eio(this.ended));
    return new Promise((resolve, reject) => {
      this.queue.push({ r, call: { op: r.op, resolve, reject } });
      this.pump();
    });
  }

  /** Sends queued requests while fewer than maxInFlight are at the page. */
  private pump(): void {
    const max = this.opts.maxInFlight ?? DEFAULT_PAGE_INFLIGHT;
    while (this.ended === null && this.calls.size < max && this.queue.length > 0) {
      const { r, call } = this.queue.shift()!;
      const id = this.nextId;
      // Ids wrap within u32, skipping 0 (HELLO's) and any still in flight.
      do this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1; while (this.calls.has(this.nextId));
      call.timer = setTimeout(() => {
        this.fault('deadline', `the page did not answer ${r.op} within ${this.opts.deadlineMs} ms`);
      }, this.opts.deadlineMs);
      this.calls.set(id, call);
      try {
        this.transport.send(encodeRequest({ ...r, id } as RpcRequest));
      } catch (e) {
        this.end(`cannot send to the page: ${(e as Error).message}`);
      }
    }
  }

  /** The page broke a rule: end the link and let the owner close the socket saying why. */
  fault(kind: PageFault, why: string): void {
    if (this.ended !== null) return;
    this.end(why);
    this.opts.onFault(kind, why);
  }

  private receive(f: Uint8Array): void {
    if (this.ended !== null) return;
    let id: number;
    let status: number;
    let body: Uint8Array;
    try {
      ({ id, status, body } = decodeReply(f));
    } catch (e) {
      this.fault('protocol', `bad reply from the page: ${(e as Error).message}`);
      return;
    }
    const c = this.calls.get(id);
    if (!c) {
      this.fault('protocol', `the page answered request ${id}, which is not in flight`);
      return;
    }
    this.calls.delete(id);
    clearTimeout(c.timer);
    this.pump();
    if (status === RpcStatus.OK) {
      c.resolve(body);
      return;
    }
    try {
      const { errno, message } = decodeErrorBody(body);
      c.reject(new NbdError(toWireErrno(errno), message || undefined));
    } catch (e) {
      c.reject(eio('bad error reply from the page'));
      this.fault('protocol', `bad error reply from the page: ${(e as Error).message}`);
    }
  }

  private end(why: string): void {
    if (this.ended !== null) return;
    this.ended = why;
    for (const c of this.calls.values()) {
      clearTimeout(c.timer);
      c.reject(eio(why));
    }
    this.calls.clear();
    for (const q of this.queue.splice(0)) q.call.reject(eio(why));
    for (const w of this.endWaiters.splice(0)) w(why);
  }
}

/** Largest piece of a READ or WRITE sent to the page in one frame (below the WebSocket's limit). */
export const DEFAULT_PAGE_CHUNK = 1024 * 1024;

/** The page-hosted devices, by name, and the exports list that joins them to the built-in ones. */
export class PageDevices {
  private readonly links = new Map<string, { link: PageLink; exp: Export }>();
  private nextHandle = 1;

  /** builtin: the exports given on the command line (page devices may not take their names). */
  constructor(private readonly builtin: () => readonly Export[] = () => [], readonly chunk = DEFAULT_PAGE_CHUNK) {}

  isBuiltin(name: string): boolean {
    return this.builtin().some((e) => e.name === name);
  }

  /** Built-in exports, then page-hosted ones: what the NBD server lists and opens. */
  exports(): Export[] {
    return [...this.builtin(), ...[...this.links.values()].map((l) => l.exp)];
  }

  names(): string[] {
    return [...this.links.keys()];
  }

  link(name: string): PageLink | null {
    return this.links.get(name)?.link ?? null;
  }

  /** Lists the page's device under name (replacing a previous page's) and tells the page. */
  attach(name: string, link: PageLink, origin: string): void {
    const device: BlockDevice = {
      description: `page-hosted (${origin || 'page'})`,
      open: (ctx) => this.open(name, ctx),
    };
    this.links.set(name, { link, exp: { name, device } });
    link.notify({ op: 'HELLO', handle: 0, name });
  }

  /** Takes the name off the list, if link still holds it. */
  detach(name: string, link: PageLink): void {
    if (this.links.get(name)?.link === link) this.links.delete(name);
  }

  private handle(): number {
    const h = this.nextHandle;
    this.nextHandle = h >= 0xffffffff ? 1 : h + 1;
    return h;
  }

  /** One NBD connection's view of the page's device. */
  private async open(name: string, ctx: OpenContext): Promise<BlockConnection> {
    const handle = this.handle();
    const openOn = async (l: PageLink): Promise<OpenReply & { sizeN: number }> => {
      const body = await l.call({ op: 'OPEN', handle, exportName: ctx.exportName, readonly: ctx.readonly });
      let o: OpenReply;
      try {
        o = decodeOpenReply(body);
      } catch (e) {
        l.fault('protocol', `bad OPEN reply from the page: ${(e as Error).message}`);
        throw eio('bad OPEN reply from the page');
      }
      const why = o.size > BigInt(Number.MAX_SAFE_INTEGER) ? `a size of ${o.size} bytes (over 2^53)` : badBlockSize(o.blockSize);
      if (why) {
        l.fault('protocol', `the page's device has ${why}`);
        throw eio(`the page's device has ${why}`);
      }
      return { ...o, sizeN: Number(o.size) };
    };
    const first = this.link(name);
    if (!first) throw eio(`no page serves '${name}'`);
    const info = await openOn(first);
    let link = first;
    let reopening: Promise<PageLink> | null = null;
    // The page now serving the name: after a live reload, the device is opened again there.
    const current = (): Promise<PageLink> => {
      const l = this.link(name);
      if (!l) return Promise.reject(eio(`the page serving '${name}' is gone`));
      if (l === link) return Promise.resolve(l);
      reopening ??= openOn(l).then((again) => {
        if (again.sizeN !== info.sizeN) throw eio(`'${name}' is now ${again.sizeN} bytes, not ${info.sizeN}: reconnect`);
        link = l;
        return l;
      }).finally(() => { reopening = null; });
      return reopening;
    };
    const expectEmpty = (l: PageLink, op: string, body: Uint8Array) => {
      if (body.length === 0) return;
      l.fault('protocol', `the page's ${op} reply has ${body.length} bytes, want none`);
      throw eio(`bad ${op} reply from the page`);
    };
    const simple = async (r: Args<RpcRequest>) => {
      const l = await current();
      expectEmpty(l, r.op, await l.call(r));
    };
    const chunk = this.chunk;
    /** Runs f over pieces of at most chunk bytes (one, when length is 0), together. */
    const pieces = async (length: number, f: (at: number, n: number) => Promise<void>) => {
      const all: Promise<void>[] = [];
      let at = 0;
      do {
        const n = Math.min(chunk, length - at);
        all.push(f(at, n));
        at += n;
      } while (at < length);
      await Promise.all(all);
    };

    const conn: BlockConnection = {
      size: () => info.sizeN,
      pread: (buf, offset) => pieces(buf.length, async (at, n) => {
        const l = await current();
        const body = await l.call({ op: 'PREAD', handle, offset: BigInt(offset + at), length: n });
        if (body.length !== n) {
          l.fault('protocol', `the page's PREAD reply has ${body.length} bytes, want ${n}`);
          throw eio('bad PREAD reply from the page');
        }
        buf.set(body, at);
      }),
      flush: () => simple({ op: 'FLUSH', handle }),
      close: async () => {
        const l = this.link(name);
        if (l === link && l.isOpen) await l.call({ op: 'CLOSE', handle }).catch(() => {});
      },
      capabilities: () => ({
        multiConn: (info.caps & RpcCap.MULTI_CONN) !== 0,
        rotational: (info.caps & RpcCap.ROTATIONAL) !== 0,
        fastZero: (info.caps & RpcCap.FAST_ZERO) !== 0,
      }),
    };
    if (info.blockSize) {
      const bs = info.blockSize;
      conn.blockSize = () => bs;
    }
    if (info.has & RpcHas.PWRITE) {
      conn.pwrite = (data, offset, fua) => pieces(data.length, (at, n) =>
        simple({ op: 'PWRITE', handle, offset: BigInt(offset + at), fua, data: data.subarray(at, at + n) }));
    }
    if (info.has & RpcHas.TRIM) conn.trim = (offset, length, fua) => simple({ op: 'TRIM', handle, offset: BigInt(offset), length, fua });
    if (info.has & RpcHas.ZERO) {
      conn.zero = (offset, length, o) => simple({ op: 'ZERO', handle, offset: BigInt(offset), length, fua: o.fua, mayTrim: o.mayTrim });
    }
    if (info.has & RpcHas.CACHE) conn.cache = (offset, length) => simple({ op: 'CACHE', handle, offset: BigInt(offset), length });
    if (info.has & RpcHas.EXTENTS) {
      conn.extents = async (offset, length) => {
        const l = await current();
        const body = await l.call({ op: 'EXTENTS', handle, offset: BigInt(offset), length });
        let raw: Array<{ length: bigint; flags: number }>;
        try {
          raw = decodeExtentsReply(body);
        } catch (e) {
          l.fault('protocol', `bad EXTENTS reply from the page: ${(e as Error).message}`);
          throw eio('bad EXTENTS reply from the page');
        }
        const why = badExtents(raw);
        if (why) {
          l.fault('protocol', `the page's EXTENTS reply has ${why}`);
          throw eio(`bad EXTENTS reply from the page`);
        }
        // Only what the request covers: the session trims further to the size.
        const out: Extent[] = [];
        let covered = 0;
        for (const e of raw) {
          if (covered >= length) break;
          const n = Math.min(Number(e.length), length - covered);
          out.push({ length: n, flags: e.flags });
          covered += n;
        }
        return out;
      };
    }
    return conn;
  }
}

/** Why the page's extents are unusable, or null: none, an empty one, or flags beyond HOLE|ZERO. */
function badExtents(raw: ReadonlyArray<{ length: bigint; flags: number }>): string | null {
  if (raw.length === 0) return 'no extents';
  for (const e of raw) {
    if (e.length === 0n || e.length > BigInt(Number.MAX_SAFE_INTEGER)) return `an extent of ${e.length} bytes`;
    if (e.flags & ~3) return `extent flags ${e.flags}`;
  }
  return null;
}

const pow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** Why block sizes break the spec's rules (INFO_BLOCK_SIZE), or null. */
function badBlockSize(bs: OpenReply['blockSize']): string | null {
  if (!bs) return null;
  const { minimum, preferred, maximum } = bs;
  if (!pow2(minimum) || minimum > 65536) return `a minimum block size of ${minimum}`;
  if (!pow2(preferred) || preferred < minimum) return `a preferred block size of ${preferred}`;
  if (maximum < preferred || (maximum !== 0xffffffff && maximum % minimum !== 0)) return `a maximum block size of ${maximum}`;
  return null;
}
