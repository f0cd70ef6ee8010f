// styxlab's NBD client through the WebSocket gateway, as the page will use it: `styxlab serve
// --backend kit=nbd:...` relays /gateway/kit to a real nbdkit, and the same client that speaks
// over TCP speaks over the WebSocket.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { NbdClient } from '../../shared/nbd/client.ts';
import { webSocketByteStream } from '../../shared/nbd/websocket-stream.ts';
import type { WebSocketLike } from '../../shared/net/websocket.ts';
import { startHttpServe, startWs } from '../support/gateway.ts';
import { type Peer, startNbdkit } from '../support/nbd.ts';

const peers: Array<{ stop(): Promise<void> }> = [];
after(async () => { for (const p of peers.reverse()) await p.stop(); });

test('read, write and block status of nbdkit memory through /gateway', async () => {
  const kit: Peer = await startNbdkit(['memory', '16M']);
  peers.push(kit);
  const g = await startHttpServe(['--backend', `kit=nbd:tcp!127.0.0.1!${kit.port}`]);
  peers.push(g);
  const { ws } = startWs(g.ws('/gateway/kit'));
  const c = await NbdClient.connect(webSocketByteStream(ws as unknown as WebSocketLike));
  assert.equal(c.size, 16n << 20n);
  assert.ok(c.structured);
  const data = Uint8Array.from({ length: 3 << 20 }, (_, i) => (i * 13) & 0xff);
  await c.write(1 << 20, data);
  // Pipelined reads in pieces, reassembled.
  const parts = await Promise.all([0, 1, 2].map((k) => c.read((1 << 20) + k * (1 << 20), 1 << 20)));
  assert.ok(Buffer.concat(parts).equals(data));
  const ext = await c.blockStatus(0, 16 << 20);
  assert.equal(ext[0].flags & 3, 3, 'the first MiB is a hole');
  await c.disconnect();
});
