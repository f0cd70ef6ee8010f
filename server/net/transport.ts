// MessageTransport over a Node stream socket (TCP or unix): bytes are framed into whole 9P
// messages with the codec's FrameReader (or TransientFrameReader, for a socket read into one
// reused buffer).
import { type Socket, connect } from 'node:net';
import { FrameReader, MAX_MSIZE, ProtocolError, TransientFrameReader } from '../../shared/ninep/index.ts';
import type { MessageTransport } from '../../shared/transport.ts';
import { type DialTarget, dialString, parseDialString } from './dial.ts';

export interface SocketTransportOptions {
  /** Largest frame accepted; the peer's msize must not exceed it. Default MAX_MSIZE. */
  maxMessageSize?: number;
}

/** Where the onread callback of a socket dialed with a receive buffer hands each read's bytes. */
interface BufferedReads {
  deliver?: (chunk: Uint8Array) => void;
}

/** Wraps a connected socket. Reading starts when onMessage is registered. */
export function socketTransport(sock: Socket, opts: SocketTransportOptions = {}, reads?: BufferedReads): MessageTransport {
  const max = opts.maxMessageSize ?? MAX_MSIZE;
  const reader = reads ? new TransientFrameReader(max) : new FrameReader(max);
  let closeCb: ((err?: Error) => void) | undefined;
  let closed = false;
  let closeErr: Error | undefined;
  sock.setNoDelay(true);
  // Frames sent in one turn of the event loop (the replies to a batch of requests) leave in one
  // writev instead of a write each.
  let corked = false;
  const uncork = () => {
    corked = false;
    sock.uncork();
  };
  sock.on('error', (e) => { closeErr ??= e; });
  sock.on('close', () => {
    closed = true;
    // A peer that hangs up part way through a message sent a bad one; say so.
    if (!closeErr && reader.buffered > 0) closeErr = new ProtocolError('truncated', `connection closed ${reader.buffered} bytes into a message`);
    closeCb?.(closeErr);
    closeCb = undefined;
  });
  const write = (bytes: Uint8Array) => {
    if (closed || sock.destroyed) throw new Error('connection closed');
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    sock.write(bytes);
  };
  return {
    send: write,
    // Corked, the two parts still leave in one writev.
    sendSplit(head, data) {
      write(head);
      write(data);
    },
    onMessage(cb) {
      const feed = (chunk: Uint8Array) => {
        try {
          reader.push(chunk, cb);
        } catch (e) {
          // A bad size field: the stream cannot be re-synchronised.
          closeErr ??= e as Error;
          sock.destroy();
        }
      };
      if (reads) {
        reads.deliver = feed;
        sock.resume();
      } else {
        sock.on('data', feed);
      }
    },
    transientFrames: reads !== undefined,
    onClose(cb) {
      if (closed) cb(closeErr);
      else closeCb = cb;
    },
    close(reason) {
      if (closed) return;
      if (reason !== undefined) {
        sock.destroy();
        return;
      }
      // Let queued messages (a last Tclunk) go out, but do not wait on the peer forever.
      sock.end();
      setTimeout(() => sock.destroy(), 2000).unref();
    },
    pause() { sock.pause(); },
    resume() { sock.resume(); },
    backlog() { return sock.writableLength; },
  };
}

export interface DialOptions extends SocketTransportOptions {
  signal?: AbortSignal;
  /**
   * Read the socket into one buffer of this many bytes, reused by every read, rather than a new
   * buffer per read: a client streaming a large file then allocates nothing per message. Its
   * frames are transient (MessageTransport.transientFrames).
   */
  receiveBuffer?: number;
}

/** Connects to a dial string (`tcp!host!port`, `unix!/path`, `host:port`, ...). */
export function dial(address: string | DialTarget, opts: DialOptions = {}): Promise<MessageTransport> {
  let target: DialTarget;
  try {
    target = typeof address === 'string' ? parseDialString(address) : address;
  } catch (e) {
    return Promise.reject(e);
  }
  const name = dialString(target);
  return new Promise((resolve, reject) => {
    const reads: BufferedReads | undefined = opts.receiveBuffer ? {} : undefined;
    const onread = reads && {
      buffer: new Uint8Array(opts.receiveBuffer!),
      callback: (n: number, buf: Uint8Array) => {
        reads.deliver?.(buf.subarray(0, n));
        return true;
      },
    };
    const sock = target.kind === 'unix' ? connect({ path: target.path, onread }) : connect({ host: target.host, port: target.port, onread });
    // Nothing is read until onMessage has a receiver for it.
    if (reads) sock.pause();
    const onAbort = () => {
      sock.destroy();
      reject(new Error(`dial ${name}: cancelled`));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('error', (e) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new Error(`dial ${name}: ${e.message}`, { cause: e }));
    });
    sock.once('connect', () => {
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(socketTransport(sock, opts, reads));
    });
  });
}
