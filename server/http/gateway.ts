// /gateway/NAME: relays one WebSocket to one connection to a configured backend. For 9P, one
// WebSocket binary message is exactly one 9P message both ways (frames are cut on the TCP side);
// for iouringd, one IOD1 record (server/http/iouring-framer.ts); for NBD, raw bytes. Backpressure both ways keeps memory bounded whatever the size
// of the transfer.
import { type Socket, connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { HEADER_SIZE, MAX_MSIZE, ProtocolError, frameSize } from '../../shared/ninep/index.ts';
import type { Backend } from './backends.ts';
import { Close, closeReason } from './closecodes.ts';
import { IouringFramer } from './iouring-framer.ts';

/** Pause the side that produces once this much waits to be written to the other. */
export const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;
/** Backend reads: the slab size, and the least room left in a slab for another read. */
const SLAB = 1024 * 1024;
const MIN_READ = 64 * 1024;

export interface RelayStats {
  bytesToBackend: number;
  bytesFromBackend: number;
}

/** True when data is exactly one 9P message: its size field says its length. */
export function isOneMessage(data: Uint8Array): boolean {
  return data.length >= HEADER_SIZE && frameSize(data) === data.length;
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
  // Reads land in 1 MiB slabs, each read in the slab's unused rest, so one read takes all the
  // replies waiting (not 64 KiB at a time, Node's default) and what is relayed are views of the
  // slab: no copy. A slab lives while pieces of it wait to be written to the page.
  let slab = Buffer.allocUnsafe(SLAB);
  let used = 0;
  let onData: (chunk: Buffer) => void = () => {};
  const onread = {
    buffer: () => {
      if (SLAB - used < MIN_READ) { slab = Buffer.allocUnsafe(SLAB); used = 0; }
      return slab.subarray(used);
    },
    callback: (n: number, buf: Uint8Array): boolean => {
      used += n;
      onData(Buffer.from(buf.buffer, buf.byteOffset, n));
      return true; // pausing is done with sock.pause(), for backpressure
    },
  };
  const sock: Socket = t.kind === 'unix' ? connect({ path: t.path, onread }) : connect({ host: t.host, port: t.port, onread });
  sock.setNoDelay(true);
  let connected = false;
  let wsClosed = false;
  const pending: Buffer[] = [];
  const nine = backend.kind === '9p';
  const iod = backend.kind === 'iouring' ? new IouringFramer() : null;

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

  // Backend -> page. `fin` false: more of the same WebSocket message follows (see below).
  const toPage = (b: Uint8Array, fin = true) => {
    stats.bytesFromBackend += b.length;
    ws.send(b, { binary: true, fin }, () => {
      if (sock.isPaused() && ws.bufferedAmount < LOW_WATER) sock.resume();
    });
    if (ws.bufferedAmount > HIGH_WATER) sock.pause();
  };
  if (nine) {
    // The stream is cut at 9P message boundaries without copying: a message that spans two reads
    // goes out as one fragmented WebSocket message, a frame per piece, instead of being assembled
    // first (with Node's 64 KiB reads that was a copy of nearly every Rread near msize).
    const cutter = new MessageCutter(MAX_MSIZE);
    onData = (chunk: Buffer) => {
      wsSocket?.cork();
      try {
        cutter.push(chunk, toPage);
      } catch (e) {
        log(`gateway ${backend.name}: bad 9P from the backend: ${(e as Error).message}`);
        closeWs(Close.backendClosed, `backend '${backend.name}' sent a bad 9P message`);
        sock.destroy();
      } finally {
        wsSocket?.uncork();
      }
    };
  } else if (iod) {
    // One WebSocket message per IOD1 record (handshake answer, response or completion).
    onData = (chunk: Buffer) => {
      wsSocket?.cork();
      try {
        iod.fromBackend(chunk, (record) => toPage(record));
      } catch (e) {
        log(`gateway ${backend.name}: bad IOD1 from the backend: ${(e as Error).message}`);
        closeWs(Close.backendClosed, `backend '${backend.name}' sent a bad IOD1 record`);
        sock.destroy();
      } finally {
        wsSocket?.uncork();
      }
    };
  } else {
    onData = (chunk: Buffer) => toPage(chunk);
  }

  // Page -> backend. Messages that arrive together (a client's burst of Treads) leave in one
  // write: the socket is corked until the current batch of events is handled.
  let corked = false;
  const uncork = () => { corked = false; sock.uncork(); };
  let waitingForConnect = false;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) {
      closeWs(Close.badData, 'text messages are not accepted');
      sock.destroy();
      return;
    }
    if (nine && !isOneMessage(data)) {
      closeWs(Close.badData, 'a WebSocket message must hold exactly one 9P message');
      sock.destroy();
      return;
    }
    const refused = iod?.fromPage(data);
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
 * Cuts a byte stream into 9P messages as pieces: each piece is a view of a chunk (no copy), and
 * the last piece of a message says so. Only a size field split between chunks is copied (into a
 * 4-byte buffer, sent as the first piece). Sizes are checked as FrameReader checks them.
 */
export class MessageCutter {
  /** Bytes of the current message still to come; 0 at a message boundary. */
  private need = 0;
  private readonly sizeField = new Uint8Array(4);
  private sizeHave = 0;

  constructor(private readonly maxSize: number) {}

  push(chunk: Uint8Array, onPiece: (piece: Uint8Array, last: boolean) => void): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.need === 0) {
        if (this.sizeHave === 0 && chunk.length - at >= 4) {
          this.need = this.check(chunk[at] | (chunk[at + 1] << 8) | (chunk[at + 2] << 16) | (chunk[at + 3] * 2 ** 24));
        } else {
          // The size field itself is cut: gather its 4 bytes first.
          const k = Math.min(4 - this.sizeHave, chunk.length - at);
          this.sizeField.set(chunk.subarray(at, at + k), this.sizeHave);
          this.sizeHave += k;
          at += k;
          if (this.sizeHave < 4) return;
          const f = this.sizeField;
          const size = this.check(f[0] | (f[1] << 8) | (f[2] << 16) | (f[3] * 2 ** 24));
          this.sizeHave = 0;
          this.need = size - 4;
          onPiece(f.slice(), false);
        }
      }
      const n = Math.min(this.need, chunk.length - at);
      this.need -= n;
      onPiece(chunk.subarray(at, at + n), this.need === 0);
      at += n;
    }
  }

  private check(size: number): number {
    if (size < HEADER_SIZE) throw new ProtocolError('bad-size', `message size ${size} is below ${HEADER_SIZE}`);
    if (size > this.maxSize) throw new ProtocolError('too-large', `message size ${size} exceeds msize ${this.maxSize}`);
    return size;
  }
}
