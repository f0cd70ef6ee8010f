// /gateway/NAME: relays one WebSocket to one connection to a configured backend. For 9P, one
// WebSocket binary message is exactly one 9P message both ways (frames are cut on the TCP side);
// for NBD and iouringd, raw bytes. Backpressure both ways keeps memory bounded whatever the size
// of the transfer.
import { type Socket, connect } from 'node:net';
import type { WebSocket } from 'ws';
import { FrameReader, HEADER_SIZE, MAX_MSIZE, frameSize } from '../../shared/ninep/index.ts';
import type { Backend } from './backends.ts';
import { Close, closeReason } from './closecodes.ts';

/** Pause the side that produces once this much waits to be written to the other. */
export const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

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

/** Relays ws <-> backend until either side closes; resolves when both are closed. */
export function relay(ws: WebSocket, backend: Backend, stats: RelayStats, log: (line: string) => void): Promise<void> {
  const t = backend.target;
  if (!t) throw new Error('relay needs a network backend');
  const sock: Socket = t.kind === 'unix' ? connect({ path: t.path }) : connect({ host: t.host, port: t.port });
  sock.setNoDelay(true);
  let connected = false;
  let wsClosed = false;
  const pending: Buffer[] = [];
  const nine = backend.kind === '9p';

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
      closeWs(Close.backendRefused, `backend '${backend.name}' (${backend.address}) refused the connection: ${e.code ?? e.message}`);
    } else {
      closeWs(Close.backendClosed, `backend '${backend.name}' failed: ${e.code ?? e.message}`);
    }
  });
  sock.on('close', () => {
    if (connected) closeWs(Close.backendClosed, `backend '${backend.name}' closed the connection`);
  });

  // Backend -> page.
  const toPage = (b: Uint8Array) => {
    stats.bytesFromBackend += b.length;
    ws.send(b, { binary: true }, () => {
      if (sock.isPaused() && ws.bufferedAmount < LOW_WATER) sock.resume();
    });
    if (ws.bufferedAmount > HIGH_WATER) sock.pause();
  };
  if (nine) {
    const reader = new FrameReader(MAX_MSIZE);
    sock.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, toPage);
      } catch (e) {
        log(`gateway ${backend.name}: bad 9P from the backend: ${(e as Error).message}`);
        closeWs(Close.backendClosed, `backend '${backend.name}' sent a bad 9P message`);
        sock.destroy();
      }
    });
  } else {
    sock.on('data', toPage);
  }

  // Page -> backend.
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
    stats.bytesToBackend += data.length;
    if (!connected) {
      pending.push(data);
      if (pending.reduce((n, b) => n + b.length, 0) > HIGH_WATER) ws.pause();
      sock.once('connect', () => ws.resume());
      return;
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
