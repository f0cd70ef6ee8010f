// /gateway/NAME: relays one WebSocket to one connection to a configured backend. One WebSocket
// binary message is one protocol message both ways (a 9P message, an NBD handshake message,
// request or reply, an IOD1 record): the backend kind's framer (./framers/) checks what the page
// sends and cuts what the backend sends. Backpressure both ways keeps memory bounded whatever the
// size of the transfer.
import { type Socket, connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Backend } from './backends.ts';
import { Close, closeReason } from '../../shared/mount/closecodes.ts';
import { framerFor } from './framers/framer.ts';
import { isOneMessage } from './framers/ninep.ts';

/** Pause the side that produces once this much waits to be written to the other. */
export const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;
/**
 * Backend reads: the slab size, and the least room left in a slab for another read. A message
 * crosses into a new slab once per slab at most, so bigger slabs mean fewer split messages.
 */
const SLAB = 4 * 1024 * 1024;
const MIN_READ = 64 * 1024;

export interface RelayStats {
  bytesToBackend: number;
  bytesFromBackend: number;
}

/**
 * For the WebSockets that carry 9P to this process (/gateway/local, /mount): closes with 4400
 * on a text frame or a message that is not exactly one 9P message, as the relay does. Register
 * it before the transport: listeners run in order, so the 4400 close goes out first and the
 * transport's own close (1003, or 1000 from the session) finds the socket already closing.
 */
export function guardMessages(ws: WebSocket): void {
  ws.on('message', (data: unknown, isBinary: boolean) => {
    // The transport sets binaryType 'arraybuffer', which applies to this listener too.
    const b = data instanceof ArrayBuffer ? new Uint8Array(data) : data instanceof Uint8Array ? data : null;
    if (!isBinary || !b) ws.close(Close.badData, 'text messages are not accepted');
    else if (!isOneMessage(b)) ws.close(Close.badData, 'a WebSocket message must hold exactly one 9P message');
  });
}

/**
 * Relays ws <-> backend until either side closes; resolves when both are closed. wsSocket, the
 * connection under ws, is corked while a chunk from the backend is relayed, so that its
 * WebSocket frames leave in one write.
 */
export function relay(ws: WebSocket, backend: Backend, stats: RelayStats, log: (line: string) => void, wsSocket?: Duplex): Promise<void> {
  const t = backend.target;
  if (!t) throw new Error('relay needs a network backend');
  const framer = framerFor(backend.kind);
  const slabs = new Slabs(!framer.retainsChunks);
  let onData: (chunk: Buffer) => void = () => {};
  const onread = {
    buffer: () => slabs.space(),
    callback: (n: number, buf: Uint8Array): boolean => {
      slabs.filled(n);
      onData(Buffer.from(buf.buffer, buf.byteOffset, n));
      return true; // pausing is done with sock.pause(), for backpressure
    },
  };
  const sock: Socket = t.kind === 'unix' ? connect({ path: t.path, onread }) : connect({ host: t.host, port: t.port, onread });
  sock.setNoDelay(true);
  let connected = false;
  let wsClosed = false;
  const pending: Buffer[] = [];

  const closeWs = (code: number, reason: string) => {
    if (wsClosed) return;
    wsClosed = true;
    ws.close(code, closeReason(reason));
  };

  sock.on('connect', () => {
    connected = true;
    for (const b of pending.splice(0)) sock.write(b);
  });
  sock.on('error', (e: NodeJS.ErrnoException) => {
    if (!connected) {
      // The page learns the name it asked for, not where the backend is.
      log(`gateway ${backend.name}: cannot connect to ${backend.address}: ${e.code ?? e.message}`);
      closeWs(Close.backendRefused, `backend '${backend.name}' refused the connection: ${e.code ?? e.message}`);
    } else {
      closeWs(Close.backendClosed, `backend '${backend.name}' failed: ${e.code ?? e.message}`);
    }
  });
  sock.on('close', () => {
    if (connected) closeWs(Close.backendClosed, `backend '${backend.name}' closed the connection`);
  });

  // Backend -> page. The pieces of a message that lie back to back in the slab (the message spans
  // reads, not slabs: the usual case) are joined into one view and go out as one frame: the page
  // then receives the message as it arrived, with no fragments to concatenate. Pieces that do not
  // touch go out as one fragmented WebSocket message, a frame per piece (`fin` false until the
  // last). Either way nothing is copied here.
  let held: Buffer | null = null;
  const frame = (b: Buffer, fin: boolean) => {
    stats.bytesFromBackend += b.length;
    ws.send(b, { binary: true, fin }, () => {
      slabs.release(b.buffer);
      if (sock.isPaused() && ws.bufferedAmount < LOW_WATER) sock.resume();
    });
    if (ws.bufferedAmount > HIGH_WATER) sock.pause();
  };
  const toPage = (b: Uint8Array, last: boolean) => {
    if (held && held.buffer === b.buffer && held.byteOffset + held.length === b.byteOffset) {
      held = Buffer.from(held.buffer, held.byteOffset, held.length + b.length);
    } else {
      if (held) frame(held, false);
      held = Buffer.from(b.buffer, b.byteOffset, b.length);
      slabs.hold(held.buffer);
    }
    if (last) { frame(held, true); held = null; }
  };
  onData = (chunk: Buffer) => {
    wsSocket?.cork();
    try {
      framer.fromBackend(chunk, toPage);
    } catch (e) {
      log(`gateway ${backend.name}: bad ${framer.protocol} from the backend: ${(e as Error).message}`);
      closeWs(Close.backendClosed, `backend '${backend.name}' sent bad ${framer.protocol}: ${(e as Error).message}`);
      sock.destroy();
    } finally {
      wsSocket?.uncork();
    }
  };

  // Page -> backend. Messages that arrive together (a client's burst of requests) leave in one
  // write: the socket is corked until the current batch of events is handled.
  let corked = false;
  const uncork = () => { corked = false; sock.uncork(); };
  let waitingForConnect = false;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (wsClosed) return;
    const refused = isBinary ? framer.fromPage(data) : 'text messages are not accepted';
    if (refused) {
      closeWs(Close.badData, refused);
      sock.destroy();
      return;
    }
    stats.bytesToBackend += data.length;
    if (!connected) {
      pending.push(data);
      if (!waitingForConnect && pending.reduce((n, b) => n + b.length, 0) > HIGH_WATER) {
        waitingForConnect = true;
        ws.pause();
        sock.once('connect', () => ws.resume());
      }
      return;
    }
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    if (!sock.write(data)) {
      ws.pause();
      sock.once('drain', () => ws.resume());
    }
  });

  return new Promise((resolve) => {
    let open = 2;
    const done = () => { if (--open === 0) resolve(); };
    ws.once('close', () => { wsClosed = true; sock.destroy(); done(); });
    sock.once('close', done);
  });
}

/**
 * Where backend reads land: 4 MiB slabs, each read in the current slab's unused rest, so that one
 * read takes all the replies waiting (not 64 KiB at a time, Node's default) and what is relayed
 * are views of the slab, not copies. A slab lives while views of it wait to be written to the
 * page; with `reuse`, a slab whose views have all been written goes back to a small free list, so
 * a long transfer cycles through a few slabs instead of allocating, faulting in and collecting a
 * new one every 4 MiB. Reuse needs a framer that keeps no view of a chunk once it has returned.
 */
class Slabs {
  private cur: Buffer;
  private used = 0;
  /** Views of each slab held or being written; a retired slab with none left is free. */
  private readonly refs = new Map<ArrayBufferLike, { slab: Buffer; n: number }>();
  private readonly free: Buffer[] = [];

  constructor(private readonly reuse: boolean) {
    this.cur = this.take();
  }

  /** Room for the next read. */
  space(): Buffer {
    if (SLAB - this.used < MIN_READ) {
      const old = this.refs.get(this.cur.buffer);
      if (old && old.n === 0) this.recycle(old.slab);
      this.cur = this.take();
      this.used = 0;
    }
    return this.cur.subarray(this.used);
  }

  filled(n: number): void { this.used += n; }

  /** A view of a slab is held until released (views of anything else are ignored). */
  hold(b: ArrayBufferLike): void {
    const r = this.refs.get(b);
    if (r) r.n++;
  }

  release(b: ArrayBufferLike): void {
    const r = this.refs.get(b);
    if (!r || --r.n > 0 || r.slab === this.cur) return;
    this.recycle(r.slab);
  }

  private take(): Buffer {
    const slab = this.free.pop() ?? Buffer.allocUnsafe(SLAB);
    if (this.reuse) this.refs.set(slab.buffer, { slab, n: 0 });
    return slab;
  }

  private recycle(slab: Buffer): void {
    this.refs.delete(slab.buffer);
    if (this.free.length < 2) this.free.push(slab);
  }
}
