// The page's side of `npm run bench:nbd`'s gateway row, in a Node process of its own (the ws
// package standing in for the browser), as the page runs apart from the tools it is compared with.
// Not in the bench's process because the bench forks nbdcopy between runs: a fork write-protects
// every page of the parent, and the next run then took a fault on each page of its heap (about
// 20000, half its CPU time), a cost of the harness that no page pays.
//
//   fork('bench/nbd-page.ts', [WS_URL]); send 'read' -> { sec, cpu }; each read is a fresh connection.
import { NbdClient } from '../shared/nbd/client.ts';
import { webSocketByteStream } from '../shared/nbd/websocket-stream.ts';
import type { WebSocketLike } from '../shared/net/websocket.ts';
import { startWs } from '../test/support/gateway.ts';

export interface PageRead {
  sec: number;
  /** CPU seconds (user + system) of this process during the read. */
  cpu: number;
}

/** Reads a whole export with `c`, 1 MiB requests, 16 in flight; returns the seconds taken. */
async function readAll(c: NbdClient): Promise<number> {
  const size = Number(c.size);
  const piece = 1 << 20;
  const start = process.hrtime.bigint();
  let next = 0;
  const lane = async () => {
    // Bounded: each lane takes the next piece until the export is read.
    while (next < size) {
      const at = next;
      next += piece;
      await c.read(at, Math.min(piece, size - at));
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function readOnce(url: string): Promise<PageRead> {
  const { ws } = startWs(url);
  const c = await NbdClient.connect(webSocketByteStream(ws as unknown as WebSocketLike));
  const u0 = process.cpuUsage();
  const sec = await readAll(c);
  const u = process.cpuUsage(u0);
  await c.disconnect();
  return { sec, cpu: (u.user + u.system) / 1e6 };
}

const url = process.argv[2];
// Driven by the bench over IPC: one read per 'read'; the channel's end (the bench is done or gone) ends this process.
process.on('message', (m) => {
  if (m !== 'read') return;
  readOnce(url).then((r) => process.send!(r), (e: unknown) => {
    console.error(e);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
