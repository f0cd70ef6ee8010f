// The gateway of `styxlab serve` (/gateway/NAME) with real processes and sockets: a page's 9P client
// (shared/client over the ws package's WebSocket) reaches a real diod and the local namespace; every
// refusal has its close code and a reason; /api/status and /api/backends give no addresses away.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { encode } from '../../shared/ninep/index.ts';
import { type Diod, startDiod } from '../support/diod.ts';
import {
  type HttpServed, closed, eventually, gatewayClient, httpGet, openWs, refusal, startHttpServe,
} from '../support/gateway.ts';
import { freePort } from '../support/styxlab.ts';
import { MAX_MSIZE } from '../../shared/ninep/index.ts';

const MAX_WEBSOCKETS = 4;

describe('gateway: /gateway/NAME', () => {
  let diod: Diod;
  /** A second diod that the test stops mid-session. */
  let doomed: Diod;
  let g: HttpServed;
  let downPort: number;

  before(async () => {
    diod = await startDiod();
    doomed = await startDiod();
    writeFileSync(`${diod.exportDir}/greeting.txt`, 'hello from diod\n');
    writeFileSync(`${diod.exportDir}/ones.bin`, Buffer.alloc(300_000, 1));
    // Free a moment ago, and nothing listens there: a configured backend that is down.
    downPort = await freePort();
    g = await startHttpServe([
      '--backend', `diod=9p:${diod.address}`,
      '--backend', `doomed=9p:${doomed.address}`,
      '--backend', `down=9p:tcp!127.0.0.1!${downPort}`,
      '--mount', `gone=${doomed.address},aname=${doomed.exportDir}`,
      '--max-websockets', String(MAX_WEBSOCKETS),
    ]);
  });
  after(async () => {
    await g?.stop();
    await diod?.stop();
    await doomed?.stop();
  });

  it('lists and reads a real diod through /gateway/diod', async () => {
    const { client } = await gatewayClient(g.ws('/gateway/diod'), { aname: diod.exportDir, uname: 'nobody' });
    try {
      assert.equal(client.dialect, '9P2000.L');
      const names = (await client.readdir('/')).map((d) => d.name).sort();
      assert.deepEqual(names, ['greeting.txt', 'ones.bin']);
      assert.equal(new TextDecoder().decode(await client.readFile('greeting.txt')), 'hello from diod\n');
      // Several messages (pipelined reads) in both directions.
      const ones = await client.readFile('ones.bin');
      assert.equal(ones.length, 300_000);
      assert.ok(ones.every((b) => b === 1));
      const st = await client.stat('greeting.txt');
      assert.equal(st.length, 16n);
    } finally {
      await client.end();
    }
  });

  it('serves the local namespace in-process on /gateway/local', async () => {
    const { client } = await gatewayClient(g.ws('/gateway/local'), { uname: 'nobody' });
    try {
      const names = (await client.readdir('/')).map((d) => d.name).sort();
      for (const n of ['dev', 'hellofs', 'ram', 'slightlyfs', 'gone']) assert.ok(names.includes(n), `${n} missing from ${names.join(' ')}`);
      assert.equal(new TextDecoder().decode(await client.readFile('hellofs/hello')), 'Hello, World!\n');
    } finally {
      await client.end();
    }
  });

  it('closes an unconfigured backend name with 4404 and a reason naming it', async () => {
    const r = await refusal(g.ws('/gateway/no-such-backend'));
    assert.deepEqual(r, { kind: 'close', code: 4404, reason: "unknown backend 'no-such-backend'" });
    // The gateway never dials what a page names.
    const r2 = await refusal(g.ws(`/gateway/${encodeURIComponent(`tcp!127.0.0.1!${diod.port}`)}`));
    assert.equal(r2.kind === 'close' && r2.code, 4404);
    // A name that does not even decode is refused the same way, and the server lives on.
    const r3 = await refusal(g.ws('/gateway/%E0%A4%A'));
    assert.equal(r3.kind === 'close' && r3.code, 4404, JSON.stringify(r3));
    // A long name of multi-byte characters: the reason is cut to fit a close frame (123 bytes).
    const r4 = await refusal(g.ws(`/gateway/${encodeURIComponent('€'.repeat(100))}`));
    assert.equal(r4.kind === 'close' && r4.code, 4404, JSON.stringify(r4));
    assert.match(r4.kind === 'close' ? r4.reason : '', /^unknown backend '€€/);
    assert.equal((await g.status()).backends.length, 5);
  });

  it('closes with 4502 and a reason when the backend is down', async () => {
    const r = await refusal(g.ws('/gateway/down'));
    assert.equal(r.kind, 'close');
    assert.equal(r.kind === 'close' && r.code, 4502);
    assert.match(r.kind === 'close' ? r.reason : '', /backend 'down'.*ECONNREFUSED/);
  });

  it('closes with 4503 when the backend goes away mid-session; the remote mount of it shows down', async () => {
    const { client, ws } = await gatewayClient(g.ws('/gateway/doomed'), { aname: doomed.exportDir, uname: 'nobody' });
    assert.deepEqual(await client.readdir('/'), []);
    // Remote mounts connect in the background after start-up.
    assert.ok(await eventually(async () => (await g.status()).mounts.find((m) => m.name === 'gone')?.status === 'running'),
      'the remote mount never came up');
    const closing = closed(ws);
    await doomed.stop();
    const c = await closing;
    assert.equal(c.code, 4503);
    assert.match(c.reason, /backend 'doomed'/);
    await assert.rejects(client.readdir('/'), /closed/);
    assert.ok(await eventually(async () => (await g.status()).mounts.find((m) => m.name === 'gone')?.status === 'down'),
      'the remote mount of the stopped diod is not shown down');
  });

  for (const backend of ['diod', 'local']) {
    it(`closes with 4400 on a text frame or a message that is not one 9P message (${backend})`, async () => {
      const tversion = encode({ type: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' }, '9P2000.L');
      const cases: Array<[string, string | Uint8Array]> = [
        ['text', 'Tversion please'],
        ['short', tversion.subarray(0, 9)],
        ['two in one', Buffer.concat([tversion, tversion])],
        ['under a header', new Uint8Array([1, 0, 0])],
      ];
      for (const [what, data] of cases) {
        const ws = await openWs(g.ws(`/gateway/${backend}`));
        ws.send(data);
        const c = await closed(ws);
        assert.equal(c.code, 4400, `${what}: closed ${c.code} ${c.reason}`);
        assert.ok(c.reason.length > 0, `${what}: no reason`);
      }
    });
  }

  it('refuses a message above the largest size (1009)', async () => {
    for (const backend of ['diod', 'local']) {
      const ws = await openWs(g.ws(`/gateway/${backend}`));
      const big = new Uint8Array(MAX_MSIZE + 1);
      new DataView(big.buffer).setUint32(0, big.length, true);
      ws.send(big);
      const c = await closed(ws);
      assert.equal(c.code, 1009, `${backend}: closed ${c.code} ${c.reason}`);
    }
  });

  it(`limits WebSocket connections (--max-websockets ${MAX_WEBSOCKETS}): one more gets 4429`, async () => {
    assert.ok(await eventually(async () => (await g.status()).websockets === 0), 'earlier WebSockets still counted');
    const open = [];
    try {
      for (let i = 0; i < MAX_WEBSOCKETS; i++) open.push(await gatewayClient(g.ws('/gateway/local'), { uname: 'nobody' }));
      const r = await refusal(g.ws('/gateway/local'));
      assert.equal(r.kind === 'close' && r.code, 4429, JSON.stringify(r));
      assert.match(r.kind === 'close' ? r.reason : '', /too many WebSocket connections/);
      // The ones within the limit still work.
      assert.equal(new TextDecoder().decode(await open[0].client.readFile('hellofs/hello')), 'Hello, World!\n');
    } finally {
      for (const o of open) await o.client.end();
    }
    // Room again once they are closed.
    assert.ok(await eventually(async () => (await g.status()).websockets === 0));
    const { client } = await gatewayClient(g.ws('/gateway/local'), { uname: 'nobody' });
    await client.end();
  });

  it('/api/status and /api/backends: mounts with kind and status, backends by name and kind only', async () => {
    const st = await g.status();
    const byName = new Map(st.mounts.map((m) => [m.name, m]));
    for (const n of ['hellofs', 'slightlyfs', 'ram', 'dev']) assert.deepEqual([byName.get(n)?.kind, byName.get(n)?.status], ['builtin', 'running']);
    assert.equal(byName.get('gone')?.kind, 'remote');
    assert.deepEqual(st.backends, [
      { name: 'local', kind: '9p' }, { name: 'diod', kind: '9p' }, { name: 'doomed', kind: '9p' }, { name: 'down', kind: '9p' },
      { name: 'local-nbd', kind: 'nbd' },
    ]);
    assert.ok(st.counters.gatewayConnections > 0 && st.counters.bytesFromBackend > 300_000, JSON.stringify(st.counters));
    const b = await httpGet(`${g.base}/api/backends`);
    assert.equal(b.status, 200);
    assert.match(String(b.headers['content-type']), /application\/json/);
    assert.deepEqual(JSON.parse(b.body), st.backends);
    // No backend address leaks: neither diod's port nor the down one appears in the backend list.
    for (const port of [diod.port, downPort]) assert.ok(!b.body.includes(String(port)), `/api/backends shows port ${port}`);
  });
});

describe('shutdown', () => {
  it('styxlab serve exits promptly on SIGTERM even when a page does not answer the close frame', async () => {
    const g = await startHttpServe([]);
    try {
      const ws = await openWs(g.ws('/gateway/local'));
      ws.pause(); // a frozen page: it reads nothing, so it never answers the close
      const exited = new Promise<void>((resolve) => g.proc.once('exit', () => resolve()));
      g.proc.kill('SIGTERM');
      // Bounded: SIGKILL after 10 s, which the assertion below then reports.
      const kill = setTimeout(() => g.proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
      assert.equal(g.proc.signalCode, null, 'serve had to be killed: the shutdown waited on the page');
      assert.equal(g.proc.exitCode, 0);
      ws.terminate();
    } finally {
      await g.stop();
    }
  });
});
