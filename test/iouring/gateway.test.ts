// The page's way in: `styxlab serve --iouringd` starts a daemon and offers it as backend
// 'iouring'; the IOD1 client reaches it through /gateway/iouring, one record per message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as C } from 'node:fs';
import type { WebSocket } from 'ws';
import { IodClient, encodeHandshakeRequest, encodeRequest, messageByteStream } from '../../shared/iouring/index.ts';
import { webSocketTransport, type WebSocketLike } from '../../shared/net/websocket.ts';
import { type HttpServed, closed, startHttpServe, startWs } from '../support/gateway.ts';
import { skipReason } from './helper.ts';

describe('gateway to serve\'s own iouringd', { skip: skipReason || false }, () => {
  let g: HttpServed;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iouring-gw-'));
    g = await startHttpServe(['--iouringd']);
  });
  after(async () => {
    await g?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function connect(): Promise<{ client: IodClient; ws: WebSocket }> {
    const { ws, opened } = startWs(g.ws('/gateway/iouring'));
    const transport = webSocketTransport(ws as unknown as WebSocketLike);
    await opened;
    return { client: await IodClient.connect(messageByteStream(transport)), ws };
  }

  test('serve lists the backend; handshake, NOP, OPENAT and FILE_READ through the gateway', async () => {
    assert.match(g.stdout(), /gateway backend iouring \(iouring\) -> unix!\S+iouringd\.sock/);
    const { client } = await connect();
    try {
      assert.equal(client.capabilities.structSize, 36);
      assert.equal((await client.nop()).res, 0);
      const file = join(dir, 'page.txt');
      writeFileSync(file, 'through the gateway');
      const id = (await client.openat(file, C.O_RDONLY)).res;
      assert.ok(id > 0);
      const r = await client.fileRead(id, 100);
      assert.equal(Buffer.from(r.payload).toString(), 'through the gateway');
      const t = await client.trace(0n, 256);
      assert.ok(t.events.length >= 4);
    } finally {
      client.close();
    }
  });

  test('a page message that is not exactly one IOD1 request closes the WebSocket with 4400', async () => {
    const { ws, opened } = startWs(g.ws('/gateway/iouring'));
    await opened;
    ws.send(encodeHandshakeRequest());
    const nop = encodeRequest({ kind: 'nop', priority: 'normal' });
    ws.send(Buffer.concat([nop, nop]));
    const c = await closed(ws);
    assert.equal(c.code, 4400);
  });
});
