// ByteStream over a Node socket (TCP or unix), and dialing one.
import { type Socket, connect } from 'node:net';
import type { ByteStream } from '../../shared/nbd/stream.ts';
import { type DialTarget, dialString } from '../net/dial.ts';

export function socketByteStream(sock: Socket): ByteStream {
  let closed = false;
  // Writes made in one turn of the event loop go out in one writev (replies finish in batches).
  let corked = false;
  const uncork = () => { corked = false; sock.uncork(); };
  let closeErr: Error | undefined;
  let closeCb: ((err?: Error) => void) | undefined;
  sock.setNoDelay(true);
  sock.on('error', (e) => { closeErr ??= e; });
  sock.on('close', () => {
    closed = true;
    const cb = closeCb;
    closeCb = undefined;
    cb?.(closeErr);
  });
  return {
    write(bytes, written) {
      if (closed || sock.destroyed) return;
      if (!corked) { corked = true; sock.cork(); process.nextTick(uncork); }
      // The callback runs once libuv has written the bytes to the kernel (or failed to).
      if (written) sock.write(bytes, () => written());
      else sock.write(bytes);
    },
    onData(cb) { sock.on('data', cb); },
    onClose(cb) {
      if (closed) cb(closeErr);
      else closeCb = cb;
    },
    end() {
      if (closed) return;
      sock.end();
      // Do not wait on a peer that never reads its last replies.
      setTimeout(() => sock.destroy(), 2000).unref();
    },
    destroy() { sock.destroy(); },
    pause() { sock.pause(); },
    resume() { sock.resume(); },
    get backlog() { return sock.writableLength; },
    onDrain(cb) { sock.once('drain', cb); },
  };
}

/** Connects to a TCP or unix target. */
export function dialByteStream(target: DialTarget, signal?: AbortSignal): Promise<ByteStream> {
  const name = dialString(target);
  return new Promise((resolve, reject) => {
    const sock = target.kind === 'unix' ? connect({ path: target.path }) : connect({ host: target.host, port: target.port });
    const onAbort = () => { sock.destroy(); reject(new Error(`dial ${name}: cancelled`)); };
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('error', (e) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new Error(`dial ${name}: ${e.message}`, { cause: e }));
    });
    sock.once('connect', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(socketByteStream(sock));
    });
  });
}
