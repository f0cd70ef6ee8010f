// Binding a listener to a dial target, shared by the 9P and NBD listeners.
import { existsSync, unlinkSync } from 'node:fs';
import { type Server, type Socket, createServer, connect } from 'node:net';
import { type DialTarget, dialString } from './dial.ts';

/**
 * Listens on `target` (a stale unix socket is removed first); resolves with the server and the
 * address actually bound (the port the kernel chose for port 0). Later errors go to `onError`.
 */
export async function listenOn(
  target: DialTarget, accept: (sock: Socket) => void, onError: (e: Error) => void,
): Promise<{ server: Server; bound: string }> {
  const server = createServer(accept);
  if (target.kind === 'unix') await removeStaleSocket(target.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (target.kind === 'unix') server.listen(target.path, resolve);
    else server.listen(target.port, target.host, resolve);
  });
  server.on('error', onError);
  const addr = server.address();
  const bound = addr && typeof addr === 'object' ? dialString({ kind: 'tcp', host: addr.address, port: addr.port }) : dialString(target);
  return { server, bound };
}

/** A unix socket path left by a previous run is removed; one with a live server is an error. */
export async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const live = await new Promise<boolean>((resolve) => {
    const c = connect({ path });
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
  if (live) throw new Error(`${path}: another server is listening there`);
  unlinkSync(path);
}
