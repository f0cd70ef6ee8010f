// Fuzz against a real `styxlab serve`: random, mutated, truncated and lying frames in all three
// dialects, over TCP and over the /gateway/local WebSocket, with abrupt disconnects, while a health
// client reads /hellofs/hello on a connection of its own. The server must answer or drop each bad
// connection, and keep serving everyone else. (`npm run bench:soak` is the long version.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DIALECTS } from '../../shared/ninep/index.ts';
import { Client } from '../../shared/client/index.ts';
import { dial } from '../../server/net/transport.ts';
import { type HttpServed, closed, openWs, startHttpServe } from '../support/gateway.ts';
import { fuzzTcp, hostileFrame, tversion } from '../support/fuzz.ts';
import { Health, MiB, healthLine, rss } from '../support/health.ts';
import { Rng } from '../support/randmsg.ts';

describe('fuzzing styxlab serve', () => {
  let g: HttpServed;
  let idleRss = 0;
  before(async () => {
    g = await startHttpServe([]);
    idleRss = rss(g.proc.pid!);
  });
  after(async () => { await g?.stop(); });

  async function stillServes(): Promise<void> {
    assert.equal(g.proc.exitCode, null, `serve exited:\n${g.stderr()}`);
    const c = await Client.connect(await dial(g.address), { uname: 'after' });
    try {
      assert.equal(new TextDecoder().decode(await c.readFile('/hellofs/hello')), 'Hello, World!\n');
    } finally {
      await c.end();
    }
  }

  for (const dialect of DIALECTS) {
    it(`${dialect}: 1,600 hostile frames over TCP in 32 connections`, async () => {
      const health = await Health.start(g.address);
      const r = new Rng(0x9f00 + dialect.length);
      // Four at a time: enough to overlap, few enough that two cores keep up.
      for (let i = 0; i < 32; i += 4) await Promise.all([0, 1, 2, 3].map(() => fuzzTcp(g.port, r, dialect, 50)));
      const h = await health.stop();
      console.log(healthLine(`fuzz ${dialect} over TCP`, h));
      assert.deepEqual(h.failures, []);
      assert.ok(h.reads > 0);
      await stillServes();
    });
  }

  for (const dialect of DIALECTS) {
    it(`${dialect}: 600 hostile frames over /gateway/local in 24 WebSockets`, async () => {
      const health = await Health.start(g.address);
      const r = new Rng(0x6a7e + dialect.length);
      for (let i = 0; i < 24; i++) {
        const ws = await openWs(g.ws('/gateway/local'));
        const gone = closed(ws);
        ws.send(tversion(dialect));
        for (let k = 0; k < 25 && ws.readyState === ws.OPEN; k++) ws.send(hostileFrame(r, dialect, true));
        // Half close politely, half vanish.
        if (i % 2) ws.terminate();
        else ws.close();
        await gone;
      }
      const h = await health.stop();
      console.log(healthLine(`fuzz ${dialect} over /gateway/local`, h));
      assert.deepEqual(h.failures, []);
      await stillServes();
    });
  }

  it('memory comes back after the fuzz', async () => {
    const now = rss(g.proc.pid!);
    console.log(`serve RSS: idle ${(idleRss / MiB).toFixed(1)} MiB, after the fuzz ${(now / MiB).toFixed(1)} MiB`);
    // Loose on purpose (the heap grows and is not given back at once); a leak of a buffer per
    // frame or per connection would pass it by far.
    assert.ok(now < idleRss + 64 * MiB, `RSS ${now} after the fuzz, ${idleRss} idle`);
    const st = await g.status();
    assert.ok(st.websockets === 0 || st.websockets === undefined || st.websockets <= 1, `WebSockets left open: ${JSON.stringify(st.websockets)}`);
  });
});
