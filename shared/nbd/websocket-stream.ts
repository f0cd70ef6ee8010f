// ByteStream over a WebSocket, for NBD through styxlab's gateway (/gateway/NAME). Each write() is
// one binary message, and the gateway's NBD framer wants exactly one NBD message in each (the
// client writes whole messages). What arrives is one NBD message per binary message, each a view
// the decoder keeps without copying; the decoder does not rely on it, though. Browser, Worker and
// ws WebSockets all fit.
import type { WebSocketLike } from '../net/websocket.ts';
import { WebSocketClosed } from '../net/websocket.ts';
import type { ByteStream } from './stream.ts';

const OPEN = 1;

/** Wraps an open or opening WebSocket; bytes that arrive before onData is registered wait. */
export function webSocketByteStream(ws: WebSocketLike): ByteStream {
  ws.binaryType = 'arraybuffer';
  let receiver: ((c: Uint8Array) => void) | null = null;
  const early: Uint8Array[] = [];
  const queued: Uint8Array[] = [];
  let closed = false;
  let closeErr: Error | undefined;
  let closer: ((err?: Error) => void) | null = null;
  let paused = false;
  const held: Uint8Array[] = [];
  const finish = (err?: Error) => {
    if (closed) return;
    closed = true;
    closeErr = err;
    const cb = closer;
    closer = null;
    cb?.(err);
  };
  const deliver = (b: Uint8Array) => {
    if (!receiver) early.push(b);
    else if (paused) held.push(b);
    else receiver(b);
  };
  ws.onopen = () => { for (const b of queued.splice(0)) ws.send(b); };
  ws.onmessage = (ev) => {
    const d = ev.data;
    if (d instanceof ArrayBuffer) deliver(new Uint8Array(d));
    else if (d instanceof Uint8Array) deliver(d);
    else {
      ws.close(1003, 'text messages are not NBD');
      finish(new Error('peer sent a text message'));
    }
  };
  ws.onclose = (ev) => finish(ev.code === 1000 ? undefined : new WebSocketClosed(ev.code, ev.reason));
  ws.onerror = () => {};
  return {
    write(bytes) {
      if (closed) return;
      if (ws.readyState === OPEN) ws.send(bytes);
      else queued.push(bytes);
    },
    onData(cb) {
      receiver = cb;
      for (const b of early.splice(0)) deliver(b);
    },
    onClose(cb) {
      if (closed) cb(closeErr);
      else closer = cb;
    },
    end() {
      try { ws.close(1000); } catch { /* already closing */ }
    },
    destroy() {
      try { ws.close(1000); } catch { /* already closing */ }
      finish();
    },
    // A WebSocket cannot stop the peer; holding messages back keeps the consumer's pace.
    pause() { paused = true; },
    resume() {
      paused = false;
      for (const b of held.splice(0)) deliver(b);
    },
    get backlog() { return ws.bufferedAmount; },
    onDrain(cb) { queueMicrotask(cb); },
  };
}
