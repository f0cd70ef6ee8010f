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

test('64 MiB of nbdkit pattern through /gateway, 16 reads in flight: every byte where it belongs', async () => {
  // Many times the gateway's 4 MiB read slab: slabs are reused once written, and a reply that
  // straddles two goes out in pieces; either way the bytes must arrive intact and in place.
  const kit: Peer = await startNbdkit(['pattern', '64M']);
  peers.push(kit);
  const g = await startHttpServe(['--backend', `pat=nbd:tcp!127.0.0.1!${kit.port}`]);
  peers.push(g);
  const c = await NbdClient.connect(webSocketByteStream(startWs(g.ws('/gateway/pat')).ws as unknown as WebSocketLike));
  const piece = 1 << 20;
  let next = 0;
  let bad = -1;
  const lane = async () => {
    // Bounded: each lane takes the next MiB until all 64 are read.
    while (next < 64 * piece) {
      const at = next;
      next += piece;
      const b = await c.read(at, piece);
      const v = new DataView(b.buffer, b.byteOffset, b.length);
      // nbdkit pattern: each 8-byte word is its own offset, big-endian.
      for (let k = 0; k < piece && bad < 0; k += 8) if (v.getBigUint64(k) !== BigInt(at + k)) bad = at + k;
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
  assert.equal(bad, -1, `wrong bytes at ${bad}`);
  await c.disconnect();
});
