// MessageTransport over a WebSocket: one binary WebSocket message is one 9P message. Works with
// the browser's and Web Workers' WebSocket and with the ws package's, which share this shape.
import type { MessageTransport } from '../transport.ts';

/** The part of the WebSocket interface this adapter uses (browser, worker, or ws). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

const OPEN = 1;

/** Why a WebSocket closed, as an Error: its code and reason. */
export class WebSocketClosed extends Error {
  override readonly name = 'WebSocketClosed';
  constructor(readonly code: number, readonly reason: string) {
    super(reason ? `${reason} (WebSocket close ${code})` : `WebSocket closed (${code})`);
  }
}

function toBytes(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  // ws hands out an array of Buffers for fragmented messages when asked to; not with our settings.
  return null;
}

/** Wraps an open (or opening) WebSocket. */
export function webSocketTransport(ws: WebSocketLike): MessageTransport {
  ws.binaryType = 'arraybuffer';
  // Messages that arrive before a receiver is registered wait for it: a server that speaks first
  // (the mount endpoint sends Tversion at once) must not lose its first message.
  let onMessage: ((f: Uint8Array) => void) | null = null;
  const early: Uint8Array[] = [];
  let onClose: (err?: Error) => void = () => {};
  let closed = false;
  const queued: Uint8Array[] = [];
  const finish = (err?: Error) => {
    if (closed) return;
    closed = true;
    onClose(err);
  };
  ws.onopen = () => {
    for (const f of queued.splice(0)) ws.send(f);
  };
  ws.onmessage = (ev) => {
    const b = toBytes(ev.data);
    if (!b) {
      ws.close(1003, 'text messages are not 9P');
      finish(new Error('peer sent a text message'));
      return;
    }
    if (onMessage) onMessage(b);
    else early.push(b);
  };
  ws.onclose = (ev) => finish(ev.code === 1000 ? undefined : new WebSocketClosed(ev.code, ev.reason));
  ws.onerror = () => {};
  return {
    send(frame) {
      if (closed) throw new Error('connection closed');
      if (ws.readyState === OPEN) ws.send(frame);
      else queued.push(frame);
    },
    onMessage(cb) {
      onMessage = cb;
      for (const f of early.splice(0)) cb(f);
    },
    onClose(cb) { onClose = cb; },
    backlog() { return ws.bufferedAmount + queued.reduce((n, f) => n + f.length, 0); },
    close(reason) {
      try { ws.close(1000, reason?.slice(0, 120)); } catch { /* already closing */ }
      finish();
    },
  };
}

/**
 * Opens a WebSocket as a message transport; resolves once it is open, or rejects with the close
 * code and reason. The transport is attached before the socket opens, so nothing sent by the peer
 * right after the upgrade is lost.
 */
export function dialWebSocket(make: () => WebSocketLike): Promise<MessageTransport> {
  const ws = make();
  const t = webSocketTransport(ws);
  const flushQueued = ws.onopen;
  const closed = ws.onclose;
  return new Promise((resolve, reject) => {
    ws.onopen = (ev) => {
      ws.onclose = closed;
      flushQueued?.(ev);
      resolve(t);
    };
    ws.onclose = (ev) => {
      closed?.(ev);
      reject(new WebSocketClosed(ev.code, ev.reason || 'could not connect'));
    };
  });
}
