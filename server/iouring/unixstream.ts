// A ByteStream over a Node unix socket, for IodClient. Node's net cannot send ancillary data, so
// REGISTER_FD's bytes go out through the addon's sendmsg on the socket's own fd once Node's write
// queue is empty (so the bytes stay in order). That fd is read from the socket's handle, which is
// the one Node internal this relies on.
import net from 'node:net';
import { Errno, IodClient, IodRejected, type ByteStream, type ClientEvents } from '../../shared/iouring/index.ts';
import { loadAddon } from './addon.ts';

function socketFd(s: net.Socket): number {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}

export function unixStream(sock: net.Socket): ByteStream {
  return {
    write: (b) => {
      // Requests sent in one tick go out in one write.
      if (!sock.writableCorked) {
        sock.cork();
        process.nextTick(() => sock.uncork());
      }
      sock.write(b);
    },
    async writeWithFd(bytes, fd) {
      const load = loadAddon();
      if (!load.ok) throw new IodRejected(Errno.EOPNOTSUPP, `cannot pass a file descriptor: ${load.reason}`);
      while (sock.writableLength > 0) await new Promise((r) => sock.once('drain', r));
      const sfd = socketFd(sock);
      if (sfd < 0) throw new IodRejected(Errno.EBADF, 'the socket has no file descriptor');
      let off = 0;
      for (let tries = 0; off < bytes.length; tries++) {
        // The fd rides on the first segment; the daemon accepts it on any segment of the request.
        const n = load.addon.sendBytes(sfd, bytes.subarray(off), off === 0 ? fd : undefined);
        if (n === -Errno.EAGAIN && tries < 1000) { await new Promise((r) => setTimeout(r, 1)); continue; }
        if (n < 0) throw new IodRejected(-n, `sendmsg failed: errno ${-n}`);
        off += n;
      }
    },
    onData: (cb) => { sock.on('data', (d: Buffer) => cb(d)); },
    onClose: (cb) => {
      let err: Error | undefined;
      sock.on('error', (e) => { err = e; });
      sock.on('close', () => cb(err));
    },
    close: () => { sock.destroy(); },
  };
}

/** Connects to an iouringd socket and handshakes. */
export function connectIouringd(path: string, events: ClientEvents = {}): Promise<IodClient> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path);
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      IodClient.connect(unixStream(sock), events).then(resolve, reject);
    });
  });
}
